"""The vendored x509-limbo cases (tests/vectors/x509-limbo) and how qpki is
asked about each, in process (ops) or through ``qpki cert verify``.

A case is checked as it says: its trust anchors, intermediates, CRLs and
moment; serverAuth (with its DNS name or IP address) for a SERVER case,
clientAuth for a CLIENT case; its maximum depth. Cases of the suite's
``webpki`` family (and the ``online`` ones, real Web PKI chains) are checked
with the Web PKI rules (``--web-pki``), the others with plain RFC 5280. A
case without a moment is checked at NOW, the day the cases were generated
(their certificates are valid from 1970 to 2969).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LIMBO = Path(__file__).resolve().parent / "vectors" / "x509-limbo" / "limbo.json"
NOW = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)

# Cases where qpki deliberately answers otherwise than the suite, and why
# (each is explained in docs/SECURITY.md, "Path validation"). The suite's
# families disagree among themselves on three pairs; the others are rules
# qpki applies on purpose.
DISAGREEMENTS = {
    "rfc5280::ca-as-leaf":
        "refused: a CA certificate whose keyUsage is keyCertSign/cRLSign only may not "
        "authenticate a TLS server (RFC 5280 4.2.1.3; OpenSSL refuses it too)",
    "pathlen::validation-ignores-pathlen-in-leaf":
        "refused for the same reason: the leaf is a CA certificate without "
        "digitalSignature, checked for serverAuth",
    "rfc5280::aki::cross-signed-root-missing-aki":
        "accepted: a trust anchor is trusted by configuration; rules on how a CA encodes "
        "what it issues (AKI, serial) are not applied to it (real roots lack them)",
    "webpki::nc::nc-permits-dns-san-pattern":
        "refused with --web-pki: the case's leaf has CN example.com, not one of its "
        "subjectAltName values (Baseline Requirements 7.1.4.3)",
    "webpki::san::exact-localhost-ip-san":
        "refused with --web-pki: CN example.com is not one of its subjectAltName values "
        "(BR 7.1.4.3)",
    "webpki::san::leftmost-wildcard-san":
        "refused with --web-pki: CN example.com is not one of its subjectAltName values "
        "(BR 7.1.4.3)",
}

# Refused, as the suite expects, but by another rule than the one the case
# is about: qpki has no public suffix list.
REFUSED_BY_ANOTHER_RULE = {
    "webpki::san::public-suffix-multi-label-wildcard-san": "webpki.cn_not_in_san",
    "webpki::san::public-suffix-private-namespace-wildcard-san": "webpki.cn_not_in_san",
}


@lru_cache(maxsize=1)
def cases() -> tuple[dict, ...]:
    return tuple(json.loads(LIMBO.read_text(encoding="utf-8"))["testcases"])


def case(case_id: str) -> dict:
    return next(c for c in cases() if c["id"] == case_id)


@dataclass(frozen=True)
class Question:
    """What qpki is asked for one case."""

    leaf: bytes
    trusted: bytes
    untrusted: bytes
    crls: tuple[bytes, ...]
    at: datetime.datetime
    purpose: str
    host: str | None
    ip: str | None
    max_depth: int | None
    web_pki: bool


def question(limbo_case: dict) -> Question:
    name = limbo_case["expected_peer_name"] or {}
    moment = limbo_case["validation_time"]
    return Question(
        leaf=limbo_case["peer_certificate"].encode(),
        trusted="".join(limbo_case["trusted_certs"]).encode(),
        untrusted="".join(limbo_case["untrusted_intermediates"]).encode(),
        crls=tuple(crl.encode() for crl in limbo_case["crls"]),
        at=datetime.datetime.fromisoformat(moment) if moment else NOW,
        purpose="serverAuth" if limbo_case["validation_kind"] == "SERVER" else "clientAuth",
        host=name.get("value") if name.get("kind") == "DNS" else None,
        ip=name.get("value") if name.get("kind") == "IP" else None,
        max_depth=limbo_case["max_chain_depth"],
        web_pki=limbo_case["id"].startswith(("webpki::", "online::")))


def cli_arguments(asked: Question, folder: Path) -> list[str]:
    """``qpki cert verify`` arguments for ``asked``, its files written in ``folder``."""
    (folder / "leaf.pem").write_bytes(asked.leaf)
    (folder / "ca.pem").write_bytes(asked.trusted)
    args = ["cert", "verify", str(folder / "leaf.pem"), "--ca", str(folder / "ca.pem"),
            "--at", asked.at.isoformat(), "--purpose", asked.purpose, "--json"]
    if asked.untrusted:
        (folder / "untrusted.pem").write_bytes(asked.untrusted)
        args += ["--untrusted", str(folder / "untrusted.pem")]
    for index, crl in enumerate(asked.crls):
        (folder / f"crl{index}.pem").write_bytes(crl)
        args += ["--crl", str(folder / f"crl{index}.pem")]
    for flag, value in (("--host", asked.host), ("--ip", asked.ip),
                        ("--max-depth", asked.max_depth)):
        if value is not None:
            args += [flag, str(value)]
    return args + (["--web-pki"] if asked.web_pki else [])
