"""The HSM matrix: the same tests on SoftHSM2, openCryptoki and tpm2-pkcs11.

``running_token`` is parametrised over the three implementations; each is
started once per test module in its own temporary directory and stopped
after the module (see softhsm.py, opencryptoki.py, tpm2.py for the set-up
of each and the quirks it needs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from conftest import find_softhsm_lib, hsm_tooling_problem, multiarch
from tokens.opencryptoki import opencryptoki_problem, running_opencryptoki
from tokens.softhsm import running_softhsm
from tokens.token import RunningToken
from tokens.tpm2 import running_tpm2, tpm2_problem

IMPLEMENTATIONS = ("softhsm2", "opencryptoki", "tpm2")


def _problem(name: str) -> str | None:
    if name == "softhsm2":
        return hsm_tooling_problem()
    if name == "opencryptoki":
        return opencryptoki_problem(multiarch())
    return tpm2_problem(multiarch())


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def running_token(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[RunningToken]:
    name = request.param
    problem = _problem(name)
    if problem:
        pytest.skip(problem)
    workdir: Path = tmp_path_factory.mktemp(name)
    if name == "softhsm2":
        lib = find_softhsm_lib()
        assert lib is not None
        with running_softhsm(workdir, lib) as token:
            yield token
    elif name == "opencryptoki":
        with running_opencryptoki(workdir, multiarch()) as token:
            yield token
    else:
        with running_tpm2(workdir, multiarch()) as token:
            yield token


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "running_token" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.hsm)
