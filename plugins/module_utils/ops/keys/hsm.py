"""hsm list, hsm test: token discovery and a login check."""

from __future__ import annotations

from .results import HsmInfo, HsmTest


def hsm_list(lib: str) -> HsmInfo:
    from ...hsm.discovery import list_slots

    return HsmInfo(changed=False, lib=lib, slots=list_slots(lib))


def hsm_test(hsm_config: str, mechanisms: str | None = None) -> HsmTest:
    """Log in to the token and report what it can do. The token's mechanism
    names (often 70 and more) are listed only when asked for: all of them
    with ``mechanisms=""``, those containing ``mechanisms`` (any case)
    otherwise; ``mechanism_count`` is always there."""
    from ...hsm.config import load_hsm_config
    from ...hsm.discovery import test_connection

    report = test_connection(load_hsm_config(hsm_config))
    names = report.pop("mechanisms")
    return HsmTest(report=report, mechanism_count=len(names),
                   mechanisms=None if mechanisms is None else
                   [name for name in names if mechanisms.upper() in name.upper()])
