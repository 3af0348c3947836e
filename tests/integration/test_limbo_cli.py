"""x509-limbo cases through `qpki cert verify`, one subprocess per case.

tests/unit/test_limbo.py judges every case in process; this runs a sample
through the command line itself: the first case of each group of the suite
(e.g. rfc5280::nc, webpki::san), every CRL case and every pathological one
(the denial-of-service chains among them). Exit code 0 means valid, 1 not
valid, and --json names the rule.
"""

from __future__ import annotations

import json

import pytest

from limbo_cases import DISAGREEMENTS, cases, cli_arguments, question


def _sample() -> list[str]:
    picked, groups = [], set()
    for limbo_case in cases():
        case_id = limbo_case["id"]
        group = case_id.rsplit("::", 1)[0]
        if group not in groups or group in ("crl", "pathological"):
            groups.add(group)
            picked.append(case_id)
    return picked


SAMPLE = _sample()


def test_the_sample_covers_every_group():
    assert len(SAMPLE) >= 35
    assert {c["id"].rsplit("::", 1)[0] for c in cases()} == {
        i.rsplit("::", 1)[0] for i in SAMPLE}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case_id", SAMPLE)
def test_cli_answers_as_the_suite(case_id, qpki_cli, tmp_path):
    limbo_case = next(c for c in cases() if c["id"] == case_id)
    result = qpki_cli(*cli_arguments(question(limbo_case), tmp_path))
    assert result.returncode in (0, 1), result.stderr
    answer = json.loads(result.stdout)
    assert answer["valid"] is (result.returncode == 0)
    expected = limbo_case["expected_result"] == "SUCCESS"
    assert answer["valid"] is (expected if case_id not in DISAGREEMENTS else not expected)
    if not answer["valid"]:
        assert any(f["rule"] == answer["rule"] for f in answer["failures"])
        assert answer["reason"] and "\n" not in answer["reason"]
