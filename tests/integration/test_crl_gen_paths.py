"""crl_gen on the paths the CRL mutation group found untested: a CA key
under a passphrase, an earlier version of a rotated CA whose own CRL is the
previous one, and the filter on what that version issued. Each CRL is read
back by cryptography and checked by openssl (docs/DEVELOPMENT.md, "Mutation
testing")."""

from __future__ import annotations

import datetime
import json
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.errors import QpkiError
from qpki.ops.ca.commands import ca_init
from qpki.ops.ca.rotate import ca_rotate
from qpki.ops.ca.urls import CaUrls
from qpki.ops.cert.commands import cert_issue
from qpki.ops.crl.commands import crl_gen
from qpki.ops.crl.entries import issued_with_key, previous_crl
from qpki.ops.cert.revoke import cert_revoke
from qpki.revocation import RevokedEntry
from qpki.store.audit import read_lines
from qpki.store.ca_dir import CaDir

PASSPHRASE = b"crl-gen-passphrase"


def make_csr(cn: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def issue(ca: Path, cn: str, passphrase: bytes | None = None) -> int:
    result = cert_issue(str(ca), "ec/tls-server", make_csr(cn),
                        values={"cn": cn, "dns_names": cn}, passphrase=passphrase)
    return int(result.serial, 16)


def listed(path: Path) -> list[int]:
    return sorted(entry.serial_number for entry in x509.load_pem_x509_crl(path.read_bytes()))


def openssl_accepts(crl: Path, ca_cert: Path) -> bool:
    done = subprocess.run(["openssl", "crl", "-in", str(crl), "-CAfile", str(ca_cert), "-noout"],
                          capture_output=True, text=True, check=False)
    return done.returncode == 0 and "verify OK" in done.stdout + done.stderr


def test_a_ca_key_under_a_passphrase_signs_its_crl(tmp_path):
    ca = tmp_path / "enc"
    ca_init(str(ca), "ec/issuing-ca", {"cn": "Passphrase CA"}, passphrase=PASSPHRASE)
    serial = issue(ca, "enc.example.com", PASSPHRASE)
    cert_revoke(str(ca), serial, "keyCompromise")
    with pytest.raises(QpkiError):
        crl_gen(str(ca))
    assert not (ca / "crl" / "ca.crl").exists()
    crl_gen(str(ca), passphrase=PASSPHRASE)
    assert listed(ca / "crl" / "ca.crl") == [serial]
    assert openssl_accepts(ca / "crl" / "ca.crl", ca / "ca.crt")
    crl = x509.load_pem_x509_crl((ca / "crl" / "ca.crl").read_bytes())
    assert crl.next_update_utc - crl.last_update_utc == datetime.timedelta(days=7)  # the default


def test_progress_is_told_each_stage_and_the_crl_lists_every_entry(tmp_path):
    ca = tmp_path / "ca"
    ca_init(str(ca), "ec/issuing-ca", {"cn": "Progress CA"})
    serials = sorted(issue(ca, f"p{n}.example.com") for n in range(3))
    for serial in serials:
        cert_revoke(str(ca), serial, "superseded")
    calls: list[tuple[str, int, int | None]] = []
    crl_gen(str(ca), progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert listed(ca / "crl" / "ca.crl") == serials
    assert openssl_accepts(ca / "crl" / "ca.crl", ca / "ca.crt")
    assert calls == [("reading revocations", 0, None), ("reading revocations", 3, 3),
                     ("CRL entries", 0, 3), ("CRL entries", 3, 3),
                     ("signing the CRL", 0, 1), ("signing the CRL", 1, 1),
                     ("writing the CRL", 0, 1), ("writing the CRL", 1, 1)]


def test_the_result_names_the_files_written(tmp_path):
    ca = tmp_path / "ca"
    ca_init(str(ca), "ec/issuing-ca", {"cn": "Result CA"})
    pem, der = ca / "crl" / "ca.crl", ca / "crl" / "ca.crl.der"
    result = crl_gen(str(ca)).to_dict()
    assert (result["changed"], result["format"], result["path"], result["paths"]) == (True, "pem", pem, [pem, der])
    result = crl_gen(str(ca), out_format="der").to_dict()
    assert (result["changed"], result["format"], result["path"], result["paths"]) == (True, "der", der, [pem, der])
    copy = tmp_path / "copy.crl.der"
    result = crl_gen(str(ca), out=copy, out_format="der").to_dict()
    assert (result["path"], result["paths"]) == (copy, [copy, pem, der])
    assert copy.read_bytes() == der.read_bytes()


def test_the_previous_crl_is_read_from_the_pem_copy_when_the_der_is_unreadable(tmp_path):
    ca = tmp_path / "ca"
    ca_init(str(ca), "ec/issuing-ca", {"cn": "Previous CA"})
    serial = issue(ca, "prev.example.com")
    cert_revoke(str(ca), serial, "superseded")
    crl_gen(str(ca))
    crl = x509.load_pem_x509_crl((ca / "crl" / "ca.crl").read_bytes())
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    times = (crl.last_update_utc.replace(tzinfo=None), crl.next_update_utc.replace(tzinfo=None))
    for damage, path in ((None, "ca.crl.der"), (b"not a CRL", "ca.crl"), ("delete", "ca.crl")):
        if damage == "delete":
            (ca / "crl" / "ca.crl.der").unlink()
        elif damage is not None:
            (ca / "crl" / "ca.crl.der").write_bytes(damage)
        found = previous_crl(CaDir(str(ca)), crl.issuer)
        assert found is not None, damage
        assert (found.serials, found.number, (found.this_update, found.next_update), found.path) == \
            (frozenset([serial]), number, times, str(ca / "crl" / path))


@pytest.fixture
def rotated(tmp_path):
    """An EC root that issued ``before``, rotated to v2, then issued
    ``after``; both revoked."""
    root = tmp_path / "root"
    ca_init(str(root), "ec/root-ca", {"cn": "Rotated Root"},
            urls=CaUrls(delta_crl="http://pki.test/root-delta.crl"))
    before = issue(root, "before.example.com")
    ca_rotate(str(root))
    after = issue(root, "after.example.com")
    for serial in (before, after):
        cert_revoke(str(root), serial, "superseded")
    return root, before, after


def test_an_earlier_version_compares_with_its_own_previous_crl(rotated):
    root, before, after = rotated
    crl_gen(str(root))  # the active version's CRL lists both: same issuer name
    assert listed(root / "crl" / "ca.crl") == sorted([before, after])
    for dummy in range(2):  # the second run reads v1's own CRL as the previous one
        crl_gen(str(root), version="v1")
        assert listed(root / "crl" / "v1" / "ca.crl") == [before]
    assert stat.S_IMODE((root / "crl" / "v1").stat().st_mode) == 0o755
    lines, dummy = read_lines(str(root / "audit.log"))
    assert [json.loads(line).get("version") for line in lines[-3:]] == [None, "v1", "v1"]
    ca = CaDir(str(root))
    (root / "crl" / "v1" / "ca.crl.der").unlink()  # the PEM copy of v1's own CRL, not the active one
    found = previous_crl(ca, x509.load_pem_x509_crl((root / "crl" / "ca.crl").read_bytes()).issuer, "v1")
    assert found is not None and (found.serials, found.path) == ({before}, str(root / "crl" / "v1" / "ca.crl"))
    assert openssl_accepts(root / "crl" / "v1" / "ca.crl",
                           root / "versions" / "v1" / "certs" / "ca.ecdsa-p384.pem")
    # Delta CRLs follow the active version only: its CRL points to them, v1's does not.
    active, v1_crl = (x509.load_pem_x509_crl((root / "crl" / path).read_bytes())
                      for path in ("ca.crl", "v1/ca.crl"))
    freshest = active.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert freshest[0].full_name[0].value == "http://pki.test/root-delta.crl"
    with pytest.raises(x509.ExtensionNotFound):
        v1_crl.extensions.get_extension_for_class(x509.FreshestCRL)


def test_a_missing_certificate_does_not_hide_the_rest_of_a_version(rotated):
    root, before, after = rotated
    ca = CaDir(str(root))
    v1 = x509.load_pem_x509_certificate(
        (root / "versions" / "v1" / "certs" / "ca.ecdsa-p384.pem").read_bytes())
    key_id = v1.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    when = v1.not_valid_before_utc
    unknown = RevokedEntry(serial=0x7EADBEEF, revoked_at=when)
    entries = [unknown, RevokedEntry(serial=after, revoked_at=when),
               RevokedEntry(serial=before, revoked_at=when)]
    assert [entry.serial for entry in issued_with_key(ca, entries, key_id)] == [before]
