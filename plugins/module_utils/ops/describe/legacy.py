"""How verify commands report the legacy (pre-draft-13) composite form and
other non-standard encodings read from other tools.

Every verification result carries ``legacy_composite`` (one line per object
in that form, empty when none) and ``strict``; a request's also carries
``non_standard`` (QPKI's catalyst attributes, BER that is not DER). By
default an object that verifies under its own construction is valid and
named there; with ``strict`` any of them makes the verification fail
(exit code 1).
"""


def legacy_verdict(result: dict, legacy: "list[str]", strict: bool,
                   non_standard: "list[str] | None" = None) -> dict:
    """``result`` (a verify result) with the findings and, under
    ``strict``, a failure when there are any."""
    legacy = list(dict.fromkeys(legacy))
    result.update(legacy_composite=legacy, strict=strict)
    if non_standard is not None:
        result["non_standard"] = non_standard
    refused = legacy + (non_standard or [])
    if strict and refused and result.get("valid"):
        result.update(valid=False, reason="refused by --strict: %s" % refused[0])
    return result
