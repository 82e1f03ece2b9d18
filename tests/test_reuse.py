"""``riskgrade._grade.reuse``: templates of answers, made from the answer's dict or from the result's JSON plan."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._core.canonical import dumps, json_scalar
from riskgrade._grade.reuse import Position, cache_of, facts_key, keep, result_template, template
from riskgrade._source.facts import FactRecord, position

SERVE = Position(("index", "record"), ('"<body>[', ']"'))
CLI = Position(("index", "line", "record"), (json_scalar('in "x".jsonl:')[:-1], '"'))
LEC = riskgrade.load("lec-generic")
LS = riskgrade.load("ls-matrix")


def fill(pieces: tuple[str, ...], at: Position, rid: Any, n: int) -> str:
    values = ([json_scalar(rid)] if rid is not None else []) + [str(n)] * len(at.keys)
    return "".join(p + v for p, v in zip(pieces, values, strict=False)) + pieces[-1]


def answer(rs: Any, facts: dict[str, Any], at: Position, rid: Any, n: int, receipt: bool) -> dict[str, Any]:
    where = f"<body>[{n}]" if at is SERVE else f'in "x".jsonl:{n}'
    rec = FactRecord(n, where, facts, line=n if at is CLI else None)
    return {**rs.grade(facts).to_dict(receipt=receipt, facts=facts), **position(rec, rid)}


class TestTemplates:
    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from([LEC, LS]), st.sampled_from([SERVE, CLI]), st.none() | st.text(max_size=3) | st.integers(),
           st.integers(0, 10**6), st.booleans(), st.integers(0, 5))
    def test_both_ways_give_the_generic_bytes(self, rs: Any, at: Position, rid: Any, n: int, receipt: bool,
                                              k: int) -> None:
        facts = dict(rs.cases[k % len(rs.cases)]["facts"])
        d = answer(rs, facts, at, rid, n, receipt)
        where = d["record"]
        from_dict = template(d, at, where)
        from_plan = result_template(rs.grade(facts), at, has_id=rid is not None, receipt=receipt, facts=facts)
        assert from_dict == from_plan
        assert from_plan is not None and fill(from_plan, at, rid, n) == dumps(d)

    def test_an_answer_that_names_its_position_gets_none(self) -> None:
        d = {"error": "x", "message": "see <body>[3] above", "index": 3, "record": "<body>[3]", "field": None}
        assert template(d, SERVE, "<body>[3]") is None
        assert template({**d, "message": "fine"}, SERVE, "<body>[3]") is not None
        assert template({k: v for k, v in d.items() if k != "index"}, SERVE, "<body>[3]") is None


class TestFactsKey:
    @pytest.mark.parametrize(("a", "b"), [({"L": 1}, {"L": 1.0}), ({"L": 1}, {"L": True}), ({"L": 0.0}, {"L": -0.0}),
                                          ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ({"L": None}, {"L": float("nan")})])
    def test_different_facts_different_keys(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        assert facts_key(a) != facts_key(b)

    def test_the_same_facts_the_same_key(self) -> None:
        assert facts_key(json.loads('{"L": 3, "E": 0.5}')) == facts_key({"L": 3, "E": 0.5})


class TestCache:
    def test_bounded(self) -> None:
        cache: dict[Any, Any] = {}
        for i in range(10):
            keep(cache, i, i, limit=4)
        assert len(cache) <= 4 and cache[9] == 9

    def test_one_cache_per_ruleset_and_name(self) -> None:
        other = riskgrade.load("ls-matrix")
        assert cache_of(LEC, "t") is cache_of(LEC, "t")
        assert cache_of(LEC, "t") is not cache_of(LEC, "u")
        assert cache_of(LEC, "t") is not cache_of(other, "t")
