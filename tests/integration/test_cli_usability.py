"""Issue 18, what a new user reads: --help and outputs as the console script
prints them (a subprocess of the installed ``qpki``)."""

import re

from qpki.algorithms.registry import algorithms_by_family, hsm_algorithm_names


def _help_words(qpki_cli, *command):
    """The --help text of ``command`` with its line breaks undone."""
    return " ".join(qpki_cli(*command, "--help", check=True).stdout.split())


def test_algorithm_help_lists_the_names_by_family_with_the_hsm_ones_marked(qpki_cli):
    in_hsm = set(hsm_algorithm_names())
    shown = _help_words(qpki_cli, "key", "gen")
    listing = shown.split("qpki key algorithms):", 1)[1]
    for family, names in algorithms_by_family().items():
        expected = ", ".join(name + ("*" if name in in_hsm else "") for name in names)
        assert f"{family}: {expected}" in listing, family
    assert "ecdsa-p256*" in listing and "ml-dsa-65," in listing and "ml-dsa-65*" not in listing
    signing = _help_words(qpki_cli, "csr", "gen")
    assert "slh-dsa-sha2-128s" in signing and "ml-kem-768" not in signing
    assert re.search(r"default ecdsa-p256\)", signing)
