"""Every revocation reason given to `qpki cert revoke` is in the CRL that
`qpki crl gen` writes, as read by parsers qpki does not own: `openssl crl
-text` and cryptography (issue 20, item 1: "CRL entries written without
their reason" went unnoticed). A classical and an ML-DSA CA."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

# qpki's reason name -> how `openssl crl -text` prints it.
REASONS = {
    "keyCompromise": "Key Compromise",
    "cACompromise": "CA Compromise",
    "affiliationChanged": "Affiliation Changed",
    "superseded": "Superseded",
    "cessationOfOperation": "Cessation Of Operation",
    "certificateHold": "Certificate Hold",
    "privilegeWithdrawn": "Privilege Withdrawn",
    "aACompromise": "AA Compromise",
}


def openssl_reasons(crl: Path) -> dict[int, str | None]:
    """{serial: reason text or None} from `openssl crl -text`."""
    text = subprocess.run(["openssl", "crl", "-in", str(crl), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    entries = {}
    for block in re.split(r"\n(?=\s*Serial Number: )", text.split("Revoked Certificates:", 1)[1]):
        serial = re.search(r"Serial Number: ([0-9A-F]+)", block)
        if serial:
            reason = re.search(r"X509v3 CRL Reason Code: *\n\s*(.+)", block)
            entries[int(serial.group(1), 16)] = reason.group(1).strip() if reason else None
    return entries


@pytest.mark.parametrize("family", ["ec", "ml"])
def test_each_reason_reaches_the_crl(family, qpki_cli, tmp_path):
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", "cn=Reasons",
             "--ca-dir", "ca", check=True)
    wanted = {}
    for number, reason in enumerate([*REASONS, "unspecified"]):
        cred = qpki_cli("credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                        "--profile", f"{family}/tls-client", "--var", f"cn=c{number}",
                        "--json", check=True).json()
        qpki_cli("cert", "revoke", cred["serial"], "--ca-dir", "ca", "--reason", reason,
                 check=True)
        wanted[int(cred["serial"], 16)] = reason
    qpki_cli("crl", "gen", "--ca-dir", "ca", check=True)
    crl_path = tmp_path / "ca" / "crl" / "ca.crl"

    # RFC 5280 5.3.1: unspecified is written as no reason at all.
    expected = {serial: REASONS.get(reason) for serial, reason in wanted.items()}
    assert openssl_reasons(crl_path) == expected

    crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    read = {}
    for entry in crl:
        try:
            read[entry.serial_number] = entry.extensions.get_extension_for_class(
                x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            read[entry.serial_number] = None
    assert read == {serial: (None if reason == "unspecified" else reason)
                    for serial, reason in wanted.items()}
