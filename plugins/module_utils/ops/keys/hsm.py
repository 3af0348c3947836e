"""hsm list, hsm test: token discovery and a login check."""

from __future__ import annotations

from typing import Any


def hsm_list(lib: str) -> dict[str, Any]:
    from ...hsm.discovery import list_slots

    return {"changed": False, "lib": lib, "slots": list_slots(lib)}


def hsm_test(hsm_config: str, mechanisms: str | None = None) -> dict:
    """Log in to the token and report what it can do. The token's mechanism
    names (often 70 and more) are listed only when asked for: all of them
    with ``mechanisms=""``, those containing ``mechanisms`` (any case)
    otherwise; ``mechanism_count`` is always there."""
    from ...hsm.config import load_hsm_config
    from ...hsm.discovery import test_connection

    result = test_connection(load_hsm_config(hsm_config))
    names = result.pop("mechanisms")
    result["mechanism_count"] = len(names)
    if mechanisms is not None:
        result["mechanisms"] = [name for name in names if mechanisms.upper() in name.upper()]
    result["changed"] = False
    return result
