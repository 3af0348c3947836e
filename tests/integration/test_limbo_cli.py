"""x509-limbo cases through `qpki cert verify`.

Every case goes through the command's own entry point, ``qpki.cli.main.main``
(argument parsing, the files read as the command reads them, the operation and
the --json rendering), in this process. A sample also runs as a real ``qpki``
subprocess: the first case of each group of the suite (e.g. rfc5280::nc,
webpki::san), every CRL case and every pathological one (the
denial-of-service chains among them). Exit code 0 means valid, 1 not valid,
and --json names the rule.
"""

from __future__ import annotations

import json

import pytest

from limbo_cases import DISAGREEMENTS, case, cases, cli_arguments, question


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


def _judge_answer(case_id: str, returncode: int, stdout: str) -> None:
    limbo_case = case(case_id)
    answer = json.loads(stdout)
    assert answer["valid"] is (returncode == 0)
    expected = limbo_case["expected_result"] == "SUCCESS"
    assert answer["valid"] is (expected if case_id not in DISAGREEMENTS else not expected)
    if not answer["valid"]:
        assert any(f["rule"] == answer["rule"] for f in answer["failures"])
        assert answer["reason"] and "\n" not in answer["reason"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case_id", SAMPLE)
def test_cli_answers_as_the_suite(case_id, qpki_cli, tmp_path):
    result = qpki_cli(*cli_arguments(question(case(case_id)), tmp_path))
    assert result.returncode in (0, 1), result.stderr
    _judge_answer(case_id, result.returncode, result.stdout)


@pytest.mark.parametrize("case_id", [c["id"] for c in cases()])
def test_every_case_through_the_command_entry_point(case_id, tmp_path, capsys, monkeypatch):
    from qpki.cli.main import main

    monkeypatch.chdir(tmp_path)
    returncode = main(cli_arguments(question(case(case_id)), tmp_path))
    captured = capsys.readouterr()
    assert returncode in (0, 1), captured.err
    _judge_answer(case_id, returncode, captured.out)
