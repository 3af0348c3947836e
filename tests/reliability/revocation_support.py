"""Helpers of the revocation tests: a CA with issued certificates (made
through qpki's ops, in this process), and what ``openssl crl -text`` says
about each entry of a CRL."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from reliability_support import make_csr

# How openssl prints each RFC 5280 reason (crypto/x509/v3_enum.c).
OPENSSL_LABELS = {
    "keyCompromise": "Key Compromise", "cACompromise": "CA Compromise",
    "affiliationChanged": "Affiliation Changed", "superseded": "Superseded",
    "cessationOfOperation": "Cessation Of Operation", "certificateHold": "Certificate Hold",
    "removeFromCRL": "Remove From CRL", "privilegeWithdrawn": "Privilege Withdrawn",
    "aACompromise": "AA Compromise", "unspecified": "Unspecified",
}


def make_ca(path: Path, profile: str = "ec/issuing-ca", parent: Path | None = None) -> Path:
    from qpki.ops.ca.commands import ca_init

    ca_init(str(path), profile, {"cn": f"{path.name} CA"},
            parent_dir=str(parent) if parent else None)
    return path


def issue(ca: Path, count: int, prefix: str = "host") -> list[str]:
    """Serials (hex) of ``count`` new TLS certificates of ``ca``."""
    from qpki.ops.cert.commands import cert_issue

    return [cert_issue(str(ca), "ec/tls-server", make_csr(f"{prefix}{n}.example.com")).serial
            for n in range(count)]


def openssl(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


def crl_text(crl: Path) -> tuple[str, dict[int, str]]:
    """(the header of ``openssl crl -text``, {serial: the text of its entry})."""
    proc = openssl("crl", "-in", crl, "-inform", "DER" if crl.suffix == ".der" else "PEM",
                   "-noout", "-text")
    assert proc.returncode == 0, proc.stderr
    head, *blocks = re.split(r"\n\s*Serial Number: ", proc.stdout)
    entries = {}
    for block in blocks:
        serial, dummy, rest = block.partition("\n")
        entries[int(serial.strip(), 16)] = rest.split("Signature Algorithm")[0]
    return head, entries


def reason_label(entry_text: str) -> str | None:
    """The reason openssl prints for one entry (None: no reason extension)."""
    match = re.search(r"X509v3 CRL Reason Code: *\n\s*(.+)", entry_text)
    return match.group(1).strip() if match else None
