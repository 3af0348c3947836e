"""What `qpki profile show` prints is what a YAML profile may say (issue 18,
item 4): every builtin profile's description, written back as YAML, loads
as the same profile; the text output names variables as --var takes them."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qpki.profiles.builtin import names as builtin_names
from qpki.profiles.loader import load_profile, load_profile_file
from qpki.profiles.profile import TOP_LEVEL_KEYS

NAMES = builtin_names()


@pytest.mark.parametrize("name", NAMES)
def test_shown_profile_loads_back_as_the_same(tmp_path, name):
    shown = load_profile(name).to_dict()
    written = {key: value for key, value in shown.items()
               if key in TOP_LEVEL_KEYS and value is not None}
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump(written))
    again = load_profile_file(str(path)).to_dict()
    for key in ("source",):
        shown.pop(key), again.pop(key)
    assert again == shown


def test_text_output_names_variables_as_var_takes_them():
    qpki = str(Path(sys.executable).parent / "qpki")
    text = subprocess.run([qpki, "profile", "show", "ec/tls-server"], capture_output=True,
                          text=True, check=True).stdout
    lines = text.split("variables:\n", 1)[1].splitlines()
    shown = [line.strip().rstrip(":") for line in lines
             if line.startswith("  ") and not line.startswith("    ")]
    assert shown[:len(load_profile("ec/tls-server").variables)] == \
        list(load_profile("ec/tls-server").variables)
    assert "dns_names" in shown and "dns names" not in shown
