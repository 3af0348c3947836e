"""pathLen constraints are enforced when a hierarchy is built (issue 13 item 7).

Before the fix, ``ca init --profile ec/root-ca --parent root`` made a child
with pathLen 1 under a root with pathLen 1; a CA below that child was then
accepted, and its leaves failed ``openssl verify`` (path length exceeded).
Now every constraint of the whole chain above is checked before anything is
made, and a profile's pathLen is never lowered behind the operator's back.
Certificates are judged by ``openssl verify``.
"""

import subprocess
from pathlib import Path

import pytest

from qpki.errors import InputError
from qpki.ops.ca.state import ca_install, ca_request

UNLIMITED_CA = ("name: t/unlimited-ca\nalgorithm: ecdsa-p256\nvalidity: 30d\n"
                "variables:\n  cn: {required: true}\nsubject: {cn: '{{ cn }}'}\n"
                "extensions:\n  basicConstraints: {ca: true}\n  keyUsage: [keyCertSign, cRLSign]\n")


def openssl(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, check=False)


def leaf_verifies(work: Path, qpki_cli, ca: str, chain: list[str]) -> subprocess.CompletedProcess:
    """Issue a TLS leaf from ``ca`` and run openssl verify with ``chain``
    (intermediates, nearest first) and the root of ``chain[-1]``."""
    made = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-keyout", f"{ca}-leaf.key", "-subj", "/CN=www.example.com",
                   "-out", f"{ca}-leaf.csr", cwd=work)
    assert made.returncode == 0, made.stderr
    qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr",
             f"{ca}-leaf.csr", "--out", f"{ca}-leaf.crt", check=True)
    (work / "untrusted.pem").write_text("".join((work / c).read_text() for c in chain[:-1]))
    return openssl("verify", "-CAfile", chain[-1], "-untrusted", "untrusted.pem",
                   f"{ca}-leaf.crt", cwd=work)


def sign_with_openssl(work: Path, csr: str, ca_cert: str, ca_key: str, out: str,
                      path_len: int) -> None:
    """An external CA (openssl x509 -req) issues a CA certificate."""
    (work / "ca.ext").write_text(f"basicConstraints=critical,CA:TRUE,pathlen:{path_len}\n"
                                 "keyUsage=critical,keyCertSign,cRLSign\n"
                                 "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    signed = openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                     "-CAcreateserial", "-days", "30", "-extfile", "ca.ext", "-out", out,
                     cwd=work)
    assert signed.returncode == 0, signed.stderr


def test_a_child_cannot_promise_more_levels_than_its_parent_allows(tmp_path, qpki_cli,
                                                                   tree_snapshot):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root", "--ca-dir", "root",
             check=True)
    (tmp_path / "unlimited.yaml").write_text(UNLIMITED_CA)
    before = tree_snapshot(tmp_path)
    for profile, name, wanted in (("ec/root-ca", "ec/root-ca", "pathLen 1"),
                                  ("unlimited.yaml", "t/unlimited-ca", "no pathLen (unlimited)")):
        result = qpki_cli("ca", "init", "--profile", profile, "--var", "cn=Child",
                          "--ca-dir", "child", "--parent", "root")
        assert result.returncode == 1, result
        assert result.stderr.strip().splitlines() == [
            f"qpki: error: root: profile {name} gives {wanted} but CA CN=Root (pathLen 1) "
            "allows at most pathLen 0 here"], result
        assert tree_snapshot(tmp_path) == before  # no child, no key, nothing in root
    # What fits is accepted, and its leaves verify.
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    verified = leaf_verifies(tmp_path, qpki_cli, "issuing", ["issuing/ca.crt", "root/ca.crt"])
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_grandparent_constraint_counts_too(tmp_path, qpki_cli, tree_snapshot):
    """root (pathLen 1) -> mid (pathLen 5, as an earlier qpki let it be made,
    re-created here with openssl) -> no CA below mid: root's constraint
    leaves no room, whatever mid's own pathLen says. Leaves of mid are fine."""
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Mid", "--ca-dir", "mid",
             "--parent", "root", check=True)
    made = openssl("req", "-new", "-key", "mid/private/ca.ecdsa-p256.key", "-subj", "/CN=Mid",
                   "-out", "mid.csr", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    sign_with_openssl(tmp_path, "mid.csr", "root/ca.crt", "root/private/ca.ecdsa-p384.key",
                      "mid/ca.crt", path_len=5)
    (tmp_path / "mid" / "chain.crt").write_text(
        (tmp_path / "mid/ca.crt").read_text() + (tmp_path / "root/ca.crt").read_text())

    before = tree_snapshot(tmp_path)
    result = qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Too Deep",
                      "--ca-dir", "deep", "--parent", "mid")
    assert result.returncode == 1, result
    assert result.stderr.strip() == (
        "qpki: error: mid: CA CN=Root (pathLen 1) allows no CA certificate below CN=Mid, "
        "1 level(s) below it, so profile ec/issuing-ca, a CA, is refused"), result
    assert tree_snapshot(tmp_path) == before
    verified = leaf_verifies(tmp_path, qpki_cli, "mid", ["mid/ca.crt", "root/ca.crt"])
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_chain_already_too_deep_issues_nothing(tmp_path, qpki_cli, tree_snapshot):
    """root0 (pathLen 0) -> legacy (a CA openssl signed despite it): a leaf
    of legacy would fail openssl verify, so qpki refuses to issue one."""
    (tmp_path / "zero.yaml").write_text(UNLIMITED_CA.replace("{ca: true}",
                                                             "{ca: true, path_len: 0}"))
    qpki_cli("ca", "init", "--profile", "zero.yaml", "--var", "cn=Root", "--ca-dir", "root0",
             check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Legacy",
             "--ca-dir", "legacy", check=True)  # its certificate is replaced below
    made = openssl("req", "-new", "-key", "legacy/private/ca.ecdsa-p256.key", "-subj",
                   "/CN=Legacy", "-out", "legacy.csr", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    sign_with_openssl(tmp_path, "legacy.csr", "root0/ca.crt", "root0/private/ca.ecdsa-p256.key",
                      "legacy/ca.crt", path_len=0)
    (tmp_path / "legacy" / "chain.crt").write_text(
        (tmp_path / "legacy/ca.crt").read_text() + (tmp_path / "root0/ca.crt").read_text())
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "leaf.key", "-subj", "/CN=www.example.com", "-out", "leaf.csr",
            cwd=tmp_path)
    before = tree_snapshot(tmp_path)
    result = qpki_cli("cert", "issue", "--ca-dir", "legacy", "--profile", "ec/tls-server",
                      "--csr", "leaf.csr", "--out", "leaf.crt")
    assert result.returncode == 1, result
    assert result.stderr.strip() == (
        "qpki: error: legacy: CA CN=Root (pathLen 0) already has 1 CA certificates below it: "
        "nothing this CA issues would verify"), result
    assert tree_snapshot(tmp_path) == before


def test_installing_a_subordinate_signed_elsewhere_checks_the_chain(tmp_path):
    """An external hierarchy (openssl): root (pathLen 1) -> mid (pathLen 3).
    A qpki subordinate signed by mid would be a second CA level under root:
    ca_install refuses it and the CA stays pending."""
    for name, subject in (("xroot", "/CN=External Root"), ("xmid", "/CN=External Mid")):
        made = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                       "-nodes", "-keyout", f"{name}.key", "-subj", subject,
                       "-out", f"{name}.csr", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    root = openssl("x509", "-req", "-in", "xroot.csr", "-key", "xroot.key", "-days", "30",
                   "-extfile", "/dev/stdin", "-out", "xroot.crt", cwd=tmp_path,
                   stdin="basicConstraints=critical,CA:TRUE,pathlen:1\n"
                         "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n")
    assert root.returncode == 0, root.stderr
    sign_with_openssl(tmp_path, "xmid.csr", "xroot.crt", "xroot.key", "xmid.crt", path_len=3)
    pending = ca_request(str(tmp_path / "sub"), "ec/issuing-ca", {"cn": "Sub"}).to_dict()
    (tmp_path / "sub.csr").write_text(pending["csr"])
    sign_with_openssl(tmp_path, "sub.csr", "xmid.crt", "xmid.key", "sub.crt", path_len=0)
    chain = (tmp_path / "xmid.crt").read_bytes() + (tmp_path / "xroot.crt").read_bytes()
    with pytest.raises(InputError, match=r": CA CN=External Root \(pathLen 1\) allows no CA "
                                         r"certificate below CN=External Mid, 1 level\(s\) "
                                         r"below it, so certificate, a CA, is refused$"):
        ca_install(str(tmp_path / "sub"), (tmp_path / "sub.crt").read_bytes(), chain)
    assert not (tmp_path / "sub" / "ca.meta.json").exists()
