"""ops/result.py: the dict a typed result gives the modules and --json."""

import json
from dataclasses import dataclass, field
from typing import Any

from qpki.ops.result import SPREAD, Result, Verdict, fields_of, optional


@dataclass
class _Inner(Result):
    serial: str
    note: str | None = optional()


@dataclass
class _Outer(Result):
    changed: bool
    described: dict[str, Any] = field(metadata=SPREAD)
    items: list[_Inner] = field(default_factory=list)
    missing: str | None = None
    extra: str | None = optional()


@dataclass
class _Described(Result):
    described: dict[str, Any] = field(metadata=SPREAD)
    changed: bool = False
    path: str = "crl/ca.crl"


@dataclass
class _Judged(Verdict):
    changed: bool
    valid: bool
    reason: str


def test_to_dict_keeps_field_order_spreads_in_place_and_leaves_out_unset_optionals():
    result = _Outer(changed=True, described={"issuer": "CN=Root", "number": 3},
                    items=[_Inner("0A"), _Inner("0B", note="held")])
    as_json = json.dumps(result.to_dict())
    assert as_json == ('{"changed": true, "issuer": "CN=Root", "number": 3, '
                       '"items": [{"serial": "0A"}, {"serial": "0B", "note": "held"}], '
                       '"missing": null}')


def test_a_field_after_a_spread_sets_the_same_key_where_the_spread_put_it():
    result = _Described(described={"changed": False, "issuer": "CN=Root"}, changed=True)
    assert list(result.to_dict().items()) == [("changed", True), ("issuer", "CN=Root"),
                                              ("path", "crl/ca.crl")]


def test_to_dict_copies_so_that_changing_it_leaves_the_result_as_it_was():
    result = _Outer(changed=False, described={"issuer": "CN=Root"})
    result.to_dict()["issuer"] = "CN=Other"
    assert result.described == {"issuer": "CN=Root"}


def test_fields_of_gives_the_fields_unconverted_and_a_verdict_is_a_result():
    inner = _Inner("0A")
    outer = _Outer(changed=True, described={}, items=[inner])
    assert fields_of(outer)["items"][0] is inner
    judged = _Judged(changed=False, valid=False, reason="line 2: hash mismatch")
    assert isinstance(judged, Result) and judged.to_dict()["valid"] is False
