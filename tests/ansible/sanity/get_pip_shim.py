"""Stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip.py from ci-files.testing.ansible.com to put pip into the
virtual environments of its sanity tests. Where that host is unreachable but a package index
is (pip's own configuration), tests/ansible/run.sh caches this file under that name instead:
it installs the interpreter's bundled pip (ensurepip), then runs ``pip install`` with the
arguments ansible-test gave, minus the options only get-pip.py understands.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel", "--no-pip")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process: the installs that follow must
    # see the machine's pip configuration (index, certificates) again.
    env = {k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"}
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args, env=env)


if __name__ == "__main__":
    main()
