"""docs/ANSIBLE.md's install-and-run commands, run as written on a fresh copy.

The bash blocks of its "Install the collection" section are run, unchanged,
in one shell, in a copy of the repository's files, as a user whose home is
a new empty directory: a new virtual environment with Ansible and qpki's
libraries from the package index, the collection built and installed with
ansible-galaxy, then playbooks/local_pki.yml. The result is checked with
openssl and pkcs11-tool, then a second run must change nothing. README.md's
commands must be the same ones.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ansible, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- tests/ansible/test_docs_local_pki.py runs the bash blocks of this section as written -->"


def section_blocks(text: str) -> "list[str]":
    """The ```bash blocks from MARKER to the end of its section (next '## ')."""
    start = text.index(MARKER)
    end = text.find("\n## ", start)
    section = text[start:end if end != -1 else len(text)]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def fresh_copy(target: Path) -> None:
    """The repository's tracked files (as they are in the work tree) under ``target``."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())


def user_environment(home: Path, tools: Path) -> "dict[str, str]":
    """A user's login environment: new HOME, no virtual environment, no
    Ansible or qpki settings, ``python3`` the interpreter this suite's
    virtual environment was made from."""
    (tools / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    venv_bin = str(Path(sys.executable).parent)
    path = [str(tools)] + [p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "QPKI_", "SOFTHSM2_", "HSM_", "VIRTUAL_ENV",
                                  "PYTHON", "PYENV_VERSION"))}
    env.update(HOME=str(home), PATH=os.pathsep.join(path))
    return env


def recap(log: str, field: str) -> int:
    return sum(int(n) for n in re.findall(rf"\b{field}=(\d+)", log.split("PLAY RECAP")[-1]))


def test_readme_gives_the_same_commands():
    documented = "".join(section_blocks((REPO / "docs/ANSIBLE.md").read_text()))
    readme = (REPO / "README.md").read_text()
    ansible_part = readme[readme.index("\n## Ansible"):]
    blocks = re.findall(r"```bash\n(.*?)```", ansible_part.split("\n## ", 2)[1], re.S)
    assert blocks, "README's Ansible section has no commands"
    for line in "".join(blocks).splitlines():
        assert line in documented.splitlines(), line


def test_documented_install_and_local_playbook(tmp_path):
    blocks = section_blocks((REPO / "docs/ANSIBLE.md").read_text())
    assert len(blocks) == 2 and "ansible-playbook" in blocks[0]
    checkout, home, tools = tmp_path / "qpki.pki", tmp_path / "home", tmp_path / "tools"
    for directory in (checkout, home, tools):
        directory.mkdir()
    fresh_copy(checkout)
    script = "\n".join([
        "set -euo pipefail",
        *blocks,  # as written
        # The test's own checks, in the same shell (same PINs):
        'SOFTHSM2_CONF="$HOME/qpki-pki/softhsm/softhsm2.conf" pkcs11-tool --module '
        '    /usr/lib/softhsm/libsofthsm2.so --list-objects --type pubkey > "$HOME/objects.txt"',
        'ansible-playbook -i playbooks/inventory/local.yml playbooks/local_pki.yml '
        '    > "$HOME/run2.log" 2>&1',
        'grep -rlF -e "$HSM_PIN" -e "$HSM_SO_PIN" "$HOME/run2.log" "$HOME/qpki-pki" '
        '    --exclude-dir=softhsm > "$HOME/pin-found.txt" || true',
    ])
    done = subprocess.run(["bash", "-c", script], cwd=checkout, env=user_environment(home, tools),
                          capture_output=True, text=True, timeout=1800, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]

    # First run: everything made, nothing failed, the PKI where the docs say.
    first = output.split("PLAY RECAP")[1] if "PLAY RECAP" in output else ""
    assert first and recap("PLAY RECAP" + first, "failed") == 0, output[-4000:]
    assert recap("PLAY RECAP" + first, "changed") > 0
    pki = home / "qpki-pki"
    leaf = pki / "credentials/server.pki.test/signature.ecdsa-p256.crt"
    verified = subprocess.run(
        ["openssl", "verify", "-crl_check_all", "-CAfile", str(pki / "root/ca.crt"),
         "-untrusted", str(pki / "issuing/ca.crt"), "-CRLfile", str(pki / "root/crl/ca.crl"),
         "-CRLfile", str(pki / "issuing/crl/ca.crl"), str(leaf)],
        capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified
    # CA keys in the token, not in files.
    objects = (home / "objects.txt").read_text()
    assert "local-root-ca-key" in objects and "local-issuing-ca-key" in objects, objects
    assert not list(pki.glob("*/private/*.key"))
    # The collection came from the tarball, without the checkout's build leftovers.
    installed = home / ".ansible/collections/ansible_collections/qpki/pki"
    assert (installed / "MANIFEST.json").is_file() and not (installed / "build").exists()
    assert (home / "qpki-venv/bin/qpki").is_file()

    # The qpki_hsm_info command of the docs (after the first run's recap):
    # results (keys, login), no facts.
    adhoc = output.split("PLAY RECAP")[1]
    assert '"label": "local-root-ca-key"' in adhoc and '"ok": true' in adhoc, adhoc[-3000:]
    assert "ansible_facts" not in adhoc
    # No PIN in the second run's output or in any file of the PKI.
    assert (home / "pin-found.txt").read_text() == ""

    # Second run: changed=0.
    second = (home / "run2.log").read_text()
    assert recap(second, "failed") == 0 and recap(second, "changed") == 0, second[-3000:]
