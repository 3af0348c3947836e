"""No two certificates of a CA share a serial, on the issue paths themselves
(issue 20 item 3).

The serial source is replaced (fault injection: a CSPRNG cannot be made to
repeat itself on demand) by one that returns a serial the CA has already
used. Single issue, batch issue in one process and batch issue in worker
processes must refuse before anything is signed or written: the CA
directory stays byte-identical. And with the real source, a draw that hits
a used serial is drawn again.
"""

import secrets
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.errors import StoreError
from qpki.ops.cert import batch_sign
from qpki.ops.cert import issuance
from qpki.ops.cert.batch import cert_issue_batch
from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.commands import cert_issue
from qpki.store import serials


def csr_pem(cn: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .sign(key, hashes.SHA256()))
    return request.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def ca(tmp_path: Path) -> tuple[str, int]:
    """A CA that has issued one certificate: (its directory, that serial)."""
    ca_dir = str(tmp_path / "ca")
    ca_init(ca_dir, "ec/issuing-ca", {"cn": "Serials CA"})
    issued = cert_issue(ca_dir, "ec/tls-server", csr_pem("first.example.com"))
    return ca_dir, int(issued.serial, 16)


def serial_source_returns(monkeypatch, serial: int) -> None:
    """Every draw gives ``serial``, wherever the issue paths look the source
    up (qpki.store.serials, or a name an ops module imported)."""
    def stuck(used=()):
        return serial

    for module in (serials, issuance, batch_sign):
        if hasattr(module, "new_serial"):
            monkeypatch.setattr(module, "new_serial", stuck)


def test_single_issue_refuses_a_used_serial(ca, monkeypatch, tree_snapshot):
    ca_dir, used = ca
    before = tree_snapshot(ca_dir)
    serial_source_returns(monkeypatch, used)
    with pytest.raises(StoreError, match="one this CA has already used; nothing was signed"):
        cert_issue(ca_dir, "ec/tls-server", csr_pem("second.example.com"))
    assert tree_snapshot(ca_dir) == before


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_issue_refuses_a_used_serial(ca, monkeypatch, tree_snapshot, jobs):
    ca_dir, used = ca
    csrs = [(f"{n}.csr", csr_pem(f"host{n}.example.com")) for n in range(4)]
    assert cert_issue_batch(ca_dir, "ec/tls-server", csrs, jobs=jobs).workers == jobs
    before = tree_snapshot(ca_dir)
    serial_source_returns(monkeypatch, used)
    with pytest.raises(StoreError, match="one this CA has already used; nothing was signed"):
        cert_issue_batch(ca_dir, "ec/tls-server", csrs, jobs=jobs)
    assert tree_snapshot(ca_dir) == before


def test_a_batch_never_repeats_a_serial_of_its_own(ca, monkeypatch, tree_snapshot):
    """A fresh serial, but the same one for two certificates of the batch."""
    ca_dir, dummy = ca
    before = tree_snapshot(ca_dir)
    serial_source_returns(monkeypatch, serials.new_serial({dummy}))
    with pytest.raises(StoreError, match="already used"):
        cert_issue_batch(ca_dir, "ec/tls-server",
                         [("a.csr", csr_pem("a.example.com")), ("b.csr", csr_pem("b.example.com"))],
                         jobs=1)
    assert tree_snapshot(ca_dir) == before


def test_the_real_source_draws_again_when_it_hits_a_used_serial(ca, monkeypatch):
    """The CSPRNG's first answers are the used serial's bits: the issue
    paths pass the used serials to the source, which skips them."""
    ca_dir, used = ca
    low_bits = used & ((1 << (serials.SERIAL_BITS - 1)) - 1)
    real = secrets.randbits
    repeats = {"left": 3}

    def randbits(bits: int) -> int:
        if bits == serials.SERIAL_BITS - 1 and repeats["left"]:
            repeats["left"] -= 1
            return low_bits
        return real(bits)

    monkeypatch.setattr(secrets, "randbits", randbits)
    single = int(cert_issue(ca_dir, "ec/tls-server", csr_pem("again.example.com")).serial, 16)
    repeats["left"] = 3
    batch = cert_issue_batch(ca_dir, "ec/tls-server", [("b.csr", csr_pem("b.example.com"))],
                             jobs=1)
    assert repeats["left"] == 0  # the used serial was drawn, and skipped
    numbers = [used, single, int(batch.certificates[0].serial, 16)]
    assert len(set(numbers)) == 3
    index = (Path(ca_dir) / "index.txt").read_text()
    assert all(serials.serial_hex(n) in index for n in numbers)
