"""Every x509-limbo case, judged in process by both verification engines.

"auto" is what `qpki cert verify` does (cryptography's verifier for the
classical chains it implements, ours for the rest); "qpki" forces our own
RFC 5280 engine on every case, which is the engine PQC and hybrid chains
get, so the suite checks its rules too. A case in limbo_cases.DISAGREEMENTS
must get the opposite answer (the list cannot go stale); every other case
the expected one. tests/integration/test_limbo_cli.py runs a sample through
the command line. Times are measured by bench/limbo.py, not here; the
timeout only catches a hang.
"""

from __future__ import annotations

import re
import warnings

import pytest

from limbo_cases import DISAGREEMENTS, REFUSED_BY_ANOTHER_RULE, case, cases, question
from qpki.ops.cert.verify import verify_chain
from qpki.x509.verify_rules import RULES

IDS = [c["id"] for c in cases()]
# Rule families where the suite's expected failure must never be accepted.
PROTECTED = re.compile(r"::(nc|pathlen|eku|ku)::|^pathlen::|keycertsign|signature|invalid::"
                       r"|basic-?constraints|ca-without-ca-bit")


def judge(case_id: str, engine: str, web_pki: bool | None = None):
    asked = question(case(case_id))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography warns about the zero/negative serials
        return verify_chain(asked.leaf, asked.trusted, asked.untrusted or None, asked.crls,
                            at=asked.at, purpose=asked.purpose, host=asked.host, ip=asked.ip,
                            max_depth=8 if asked.max_depth is None else asked.max_depth,
                            web_pki=asked.web_pki if web_pki is None else web_pki,
                            engine=engine)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("engine", ["auto", "qpki"])
@pytest.mark.parametrize("case_id", IDS)
def test_case(case_id, engine):
    result = judge(case_id, engine)
    expected = case(case_id)["expected_result"] == "SUCCESS"
    assert result.rule in RULES or result.rule == "ok"
    if case_id in DISAGREEMENTS:
        assert result.valid is not expected, f"no longer a disagreement: {case_id}"
    else:
        assert result.valid is expected, (case_id, result.rule, result.reason)
    if case_id in REFUSED_BY_ANOTHER_RULE:
        assert result.rule == REFUSED_BY_ANOTHER_RULE[case_id]


def test_the_suite_is_the_vendored_one():
    assert len(IDS) == len(set(IDS)) == 208
    assert set(DISAGREEMENTS) <= set(IDS) and set(REFUSED_BY_ANOTHER_RULE) <= set(IDS)


def test_agreement_target_and_no_protected_false_accept():
    assert len(IDS) - len(DISAGREEMENTS) >= 190
    false_accepts = [i for i in DISAGREEMENTS if case(i)["expected_result"] == "FAILURE"]
    assert not [i for i in false_accepts if PROTECTED.search(i)]


def test_auto_uses_cryptography_for_the_classical_cases():
    engines = [judge(case_id, "auto").engine for case_id in IDS]
    assert engines.count("cryptography") >= 180, engines.count("qpki")


# Without --web-pki, the Web PKI cases that need a Baseline Requirements rule
# are accepted: the default is RFC 5280, which allows what they test.
PLAIN_RFC5280_ALSO_ACCEPTS = {
    "webpki::aki::root-with-aki-all-fields", "webpki::cn::not-in-san",
    "webpki::cn::punycode-not-in-san", "webpki::cn::utf8-vs-punycode-mismatch",
    "webpki::eku::ee-anyeku", "webpki::eku::ee-critical-eku", "webpki::eku::ee-without-eku",
    "webpki::eku::root-has-eku", "webpki::san::san-critical-with-nonempty-subject",
    "webpki::san::public-suffix-multi-label-wildcard-san",
    "webpki::san::public-suffix-private-namespace-wildcard-san",
}
PLAIN_RFC5280_ALSO_REFUSES = {"webpki::nc::permitted-dns-match-noncritical"}


@pytest.mark.timeout(120)
def test_plain_rfc5280_answers():
    """Every case without --web-pki: the differences are exactly the Web PKI
    rules (and the three webpki cases the BR CN rule refused are accepted)."""
    differ = set()
    for case_id in IDS:
        expected = case(case_id)["expected_result"] == "SUCCESS"
        if judge(case_id, "auto", web_pki=False).valid is not expected:
            differ.add(case_id)
    web_only = {i for i in DISAGREEMENTS if i.startswith("webpki::")}
    assert differ == (set(DISAGREEMENTS) - web_only | PLAIN_RFC5280_ALSO_ACCEPTS
                      | PLAIN_RFC5280_ALSO_REFUSES)
    assert len(IDS) - len(differ) >= 190
