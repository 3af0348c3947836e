"""Start-up cost: what the common commands load.

Each command runs the CLI's ``main`` in a fresh interpreter, which then lists
its ``sys.modules``. ``qpki --help`` loads no third-party library; ECDSA and
ML-DSA ``ca init`` and batch ``cert issue`` (cryptography signs, encodes and
verifies everything there) and ``cert info`` on a classical certificate load
no pyasn1 (about 60 ms of imports that only SLH-DSA, composite and catalyst
structures, RSASSA-PSS parameters and odd names need).
"""

import json
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

PROBE = r"""
import contextlib, io, json, sys
sys.argv = ["qpki"] + json.loads(sys.argv[1])
from qpki.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main()
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "output": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def run_cli(cwd, *args):
    """(exit code, CLI output, modules loaded) of ``qpki args`` run in a new interpreter."""
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["code"] in (0, None), (args, result["output"], proc.stderr)
    return result["output"], result["modules"]


def loaded(modules, *libraries):
    return sorted(m for m in modules if m.split(".")[0] in libraries)


def write_csr(folder, key, hash_algorithm):
    folder.mkdir()
    builder = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example")]))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.example")]), False))
    (folder / "www.csr").write_bytes(builder.sign(key, hash_algorithm).public_bytes(Encoding.PEM))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{label: modules loaded} of the commands under test, run in order."""
    work = tmp_path_factory.mktemp("startup")
    write_csr(work / "csr-ec", ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    write_csr(work / "csr-ml", mldsa.MLDSA65PrivateKey.generate(), None)
    commands = {
        "ec root ca init": ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root",
                            "--ca-dir", "root"],
        "ec issuing ca init": ["ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Iss",
                               "--ca-dir", "iss", "--parent", "root"],
        "ec batch issue": ["cert", "issue", "--ca-dir", "iss", "--profile", "ec/tls-server",
                           "--csr-dir", "csr-ec", "--out-dir", "out-ec", "--json"],
        "cert info": ["cert", "info", "iss/ca.crt"],
        "ml root ca init": ["ca", "init", "--profile", "ml/root-ca", "--var", "cn=ML Root",
                            "--ca-dir", "ml-root"],
        "ml issuing ca init": ["ca", "init", "--profile", "ml/issuing-ca", "--var",
                               "cn=ML Iss", "--ca-dir", "ml-iss", "--parent", "ml-root"],
        "ml batch issue": ["cert", "issue", "--ca-dir", "ml-iss", "--profile", "ml/tls-server",
                           "--csr-dir", "csr-ml", "--out-dir", "out-ml", "--json"],
    }
    found = {}
    for label, args in commands.items():
        output, modules = run_cli(work, *args)
        if label.endswith("batch issue"):
            assert json.loads(output)["count"] == 1, output
        found[label] = modules
    assert (work / "out-ec" / "www.crt").is_file() and (work / "out-ml" / "www.crt").is_file()
    return found


@pytest.mark.parametrize("label", ["ec root ca init", "ec issuing ca init", "ec batch issue",
                                   "cert info", "ml root ca init", "ml issuing ca init",
                                   "ml batch issue"])
def test_common_commands_load_no_pyasn1(runs, label):
    assert "cryptography.x509" in runs[label]  # the probe saw the real work
    assert loaded(runs[label], "pyasn1", "pyasn1_modules") == []


def test_help_loads_no_third_party_library(tmp_path):
    output, modules = run_cli(tmp_path, "--help")
    assert "usage: qpki" in output
    assert loaded(modules, "cryptography", "pyasn1", "pyasn1_modules", "yaml", "pkcs11",
                  "ansible", "pqcrypto") == []


def test_constants_written_out_to_spare_pyasn1_match_it():
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc4055

    from qpki.x509 import catalyst, signature

    assert list(catalyst._OID_MARKERS) == [
        encoder.encode(univ.ObjectIdentifier(oid))
        for convention in catalyst.CSR_CONVENTIONS for oid in convention.oids]
    assert signature._SHA1 == str(rfc4055.id_sha1)
    assert signature._MGF1 == str(rfc4055.id_mgf1)
    assert signature._PSS_HASHES == {
        str(rfc4055.id_sha224): hashes.SHA224, str(rfc4055.id_sha256): hashes.SHA256,
        str(rfc4055.id_sha384): hashes.SHA384, str(rfc4055.id_sha512): hashes.SHA512}
