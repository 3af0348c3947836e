"""The registry owns which algorithms an HSM may hold; the qpki_hsm_key
module's argument spec (static, for ansible-doc) must list the same ones."""

import ast
from pathlib import Path

from qpki.algorithms.registry import get_algorithm, hsm_algorithm_names

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "qpki_hsm_key.py"


def _module_constant(name):
    for node in ast.parse(MODULE.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == name for target in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("%s not found in %s" % (name, MODULE))


def test_module_choices_are_the_registry_hsm_algorithms():
    assert list(_module_constant("HSM_ALGORITHMS")) == hsm_algorithm_names()


def test_every_hsm_algorithm_says_which_mechanisms_it_needs():
    for name in hsm_algorithm_names():
        needs = get_algorithm(name).hsm_mechanisms
        assert needs is not None and needs.keygen and needs.sign_raw and needs.sign_hashed
        assert needs.key_bits == get_algorithm(name).key_size
    assert get_algorithm("ed25519").hsm_mechanisms is None
    assert get_algorithm("ml-dsa-65").hsm_mechanisms is None
