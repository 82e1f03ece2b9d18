"""Assessment.to_dict / to_json: the fast serialisation gives exactly the bytes the canonical dumper
gives for the same result schema, on every shipped ruleset (its cases and generated facts)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import riskgrade
from riskgrade._core.canonical import dumps, json_scalar
from riskgrade._grade.assessment import SCHEMA_VERSION
from tests._facts import case_facts, facts_for, shipped_ids


def reference_dict(a: riskgrade.Assessment) -> dict[str, Any]:
    """The result schema as it was built before the fast path (from the public properties)."""
    return {"schema": SCHEMA_VERSION, "level": a.level.name, "level_zh": a.level.zh, "score": a.score,
            "values": a.values, "inputs": a.inputs, "fired": [f.to_dict() for f in a.fired],
            "ruleset": a.ruleset.to_dict()}


def graded(rs: riskgrade.Ruleset, facts: dict[str, Any]) -> riskgrade.Assessment | None:
    try:
        return rs.grade(facts)
    except riskgrade.FactError:
        return None


def check_same(a: riskgrade.Assessment) -> None:
    ref = reference_dict(a)
    for _ in range(2):  # the second time from the plan's cache
        assert a.to_dict() == ref
        assert a.to_json() == dumps(ref)
    assert a.to_json(indent=2) == dumps(ref, indent=2)
    assert a.to_json(trace=True, lang="zh") == dumps({**ref, "trace": [s.to_dict() for s in a.trace("zh")]})


@pytest.mark.parametrize("rid", shipped_ids())
def test_every_case_gives_the_reference_bytes(rid: str) -> None:
    rs = riskgrade.load(rid)
    results = [a for f in case_facts(rs) if (a := graded(rs, f)) is not None]
    assert results
    for a in results:
        check_same(a)


@pytest.mark.parametrize("rid", shipped_ids())
def test_generated_facts_give_the_reference_bytes(rid: str) -> None:
    rs = riskgrade.load(rid)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(facts_for(rs))
    def run(facts: dict[str, Any]) -> None:
        a = graded(rs, facts)
        if a is not None:
            check_same(a)

    run()


def test_one_and_one_point_zero_are_not_confused() -> None:
    rs = riskgrade.load("lec-generic")
    a, b = rs.grade({"L": 3, "E": 6, "C": 15}), rs.grade({"L": 3.0, "E": 6, "C": 15})
    assert (json.loads(a.to_json())["values"], b.to_json().count("270.0")) == ({"D": 270}, 2)  # score and D
    assert b.to_json() == dumps(reference_dict(b))


def test_to_dict_is_a_fresh_copy_each_time() -> None:
    rs = riskgrade.load("lec-generic")
    a = rs.grade({"L": 3, "E": 6, "C": 15})
    d = a.to_dict()
    d["fired"][0]["citation"]["source"] = "changed"
    d["ruleset"]["layers"].append("x")
    d["fired"].clear()
    assert rs.grade({"L": 3, "E": 6, "C": 15}).to_dict() == reference_dict(a)


def test_list_inputs_take_the_uncached_path() -> None:
    rs = riskgrade.load("crowded-places-major-fire-hazards")
    for f in case_facts(rs):
        if (a := graded(rs, f)) is not None:
            check_same(a)


@pytest.mark.parametrize("v", ["红\n\"\\", 270, -0.0, 0.1 + 0.2, 1e300, 10**40, True, False, None, [1, {"b": 2.5}],
                               riskgrade.Level.RED])
def test_json_scalar_is_the_canonical_dumper(v: Any) -> None:
    assert json_scalar(v) == dumps(v)
