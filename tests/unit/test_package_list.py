"""pyproject.toml lists the core's packages one by one (package-dir maps
``qpki`` to plugins/module_utils): a package left out of that list is
missing from a wheel while the editable install used in development still
finds it. Every folder of the core that holds an ``__init__.py`` must be
listed, and nothing else."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "plugins" / "module_utils"


def test_every_core_package_is_in_the_wheel_list():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    on_disk = {".".join(("qpki",) + init.parent.relative_to(CORE).parts).rstrip(".")
               for init in CORE.rglob("__init__.py")}
    assert listed == on_disk, (sorted(on_disk - listed), sorted(listed - on_disk))
