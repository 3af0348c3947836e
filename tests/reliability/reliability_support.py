"""Shared helpers of the reliability tests: CSRs, CA set-up and the CA
directory invariants the crash and concurrency tests assert."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TEMP_MARK = ".tmp-"


def make_csr(cn="host.example.com", curve=ec.SECP256R1, sans=None, key=None):
    """PEM bytes of a CSR for a new EC key (or ``key``)."""
    key = key or ec.generate_private_key(curve())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def make_csrs(count, prefix="h"):
    return [make_csr("%s%d.example.com" % (prefix, i)) for i in range(count)]


def load_certs_dir(ca_dir):
    """{serial: Certificate} for every certs/*.crt."""
    out = {}
    for path in sorted((Path(ca_dir) / "certs").iterdir()):
        if path.name.endswith(".crt") and not path.name.startswith("."):
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            out[cert.serial_number] = cert
    return out


def ca_certificate(ca_dir):
    return x509.load_pem_x509_certificate((Path(ca_dir) / "ca.crt").read_bytes())


def temp_files(ca_dir):
    """Orphan temporary files from atomic writes, anywhere in the CA dir."""
    found = []
    for root, _dirs, files in os.walk(ca_dir):
        found += [os.path.join(root, f) for f in files if f.startswith(".") and TEMP_MARK in f]
    return found


def check_invariants(ca_dir, allow_unrecorded=False):
    """Assert what must hold in a CA directory whatever happened to the
    process that last wrote it (SIGKILL included). Returns a dict of what
    was found, for statistics: unrecorded serials, temp files, crl pair
    mismatch, audit gaps.
    """
    from qpki.ops.audit import trail as audit
    from qpki.store import audit as store_audit
    from qpki.store.ca_dir import CaDir
    from qpki.store.index import read_index

    ca = CaDir(ca_dir)
    meta = ca.load_meta()                      # parses
    assert meta["keys"]
    ca_cert = ca_certificate(ca_dir)
    entries = read_index(ca.index)             # parses
    serials = [e.serial for e in entries]
    assert len(serials) == len(set(serials)), "duplicate serial in index.txt"

    # Every file (temp files aside) is complete: non-empty and parseable.
    for root, _dirs, files in os.walk(ca_dir):
        for name in files:
            path = Path(root) / name
            if name.startswith(".") and TEMP_MARK in name:
                continue
            if name.endswith((".corrupt", ".rejected")):  # set aside by ca check --repair
                continue
            if name.endswith(("-wal", "-shm")):  # SQLite's own: its recovery reads them
                continue
            data = path.read_bytes()
            if name in (".lock", "audit.log", "index.txt"):
                continue
            assert data, "empty file %s" % path
            if name.endswith(".crt"):
                x509.load_pem_x509_certificates(data)
            elif name.endswith(".crl.der"):
                x509.load_der_x509_crl(data)
            elif name.endswith(".crl"):
                x509.load_pem_x509_crl(data)
            elif name in ("serial", "crlnumber"):
                int(data.decode().strip(), 16)
            elif name.endswith(".json"):
                import json
                json.loads(data)
            elif name.endswith(".key"):
                serialization.load_pem_private_key(data, None)

    certs = load_certs_dir(ca_dir)
    for serial in serials:
        assert serial in certs, "index serial %X has no certs/ file" % serial
        certs[serial].verify_directly_issued_by(ca_cert)
    unrecorded = sorted(set(certs) - set(serials))
    if not allow_unrecorded:
        assert not unrecorded, "issued but unrecorded: %s" % unrecorded
    for serial in unrecorded:
        certs[serial].verify_directly_issued_by(ca_cert)

    crl_pair = None
    der, pem = ca.crl_path(der=True), ca.crl_path()
    if der.exists() or pem.exists():
        numbers = []
        for path, loader in ((der, x509.load_der_x509_crl), (pem, x509.load_pem_x509_crl)):
            if path.exists():
                crl = loader(path.read_bytes())
                assert crl.is_signature_valid(ca_cert.public_key())
                numbers.append(crl.extensions.get_extension_for_class(
                    x509.CRLNumber).value.crl_number)
        crl_pair = numbers

    chain = audit.walk_chain(store_audit.audit_path(ca_dir))
    assert chain.problem is None, chain.problem
    gaps = audit.coverage_gaps(ca, chain.records)
    return {"unrecorded": unrecorded, "temps": temp_files(ca_dir), "crl": crl_pair,
            "gaps": [g[2] for g in gaps], "entries": len(entries),
            "committed": committed_not_written(ca_dir)}


def committed_not_written(ca_dir):
    """How many changes the CA database committed whose files a kill left
    unwritten (its outbox, read with sqlite3 directly; on PostgreSQL, the
    working directories marked as interrupted)."""
    import json
    import sqlite3

    store = json.loads((Path(ca_dir) / "ca.meta.json").read_text()).get("store", {})
    if store.get("type") == "postgresql":
        import psycopg

        with psycopg.connect(os.environ[store["dsn_env"]]) as connection:
            return connection.execute("SELECT count(*) FROM counters WHERE name LIKE 'pending %' "
                                      "AND value <> ''").fetchone()[0]
    path = Path(ca_dir) / "ca.db"
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        connection.close()
