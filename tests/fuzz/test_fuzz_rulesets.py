"""Structure-aware mutation of every shipped ruleset: a ``RiskgradeError`` or a ruleset that grades.

Each example mutates the parsed document of one shipped ruleset (drop, duplicate, retype, nudge, swap,
break bands, rename, hoist) and its YAML text (duplicate keys, odd scalars, tabs, BOM, truncation), then
compiles it with the real pipeline from the shipped file's place (so includes and CSV tables resolve).
A ruleset that compiles grades its own cases twice; both runs give the same bytes.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
from hypothesis import given

import riskgrade
from riskgrade._api import compile_located
from riskgrade._core.canonical import dumps
from riskgrade._source.yaml import parse_yaml

from . import mutate, shipped
from ._harness import SEED, Budget, case, settings, size

RULESETS = shipped.rulesets()


def grade_cases(rs: riskgrade.Ruleset, limit: int = 6) -> str:
    """The bytes of grading the ruleset's own cases (an error record for a case that is a typed error)."""
    out = [rs.fingerprint]
    for c in rs.cases[:limit]:
        facts = c.get("facts") if isinstance(c, dict) else None
        try:
            out.append(rs.grade(facts if isinstance(facts, dict) else {}).to_json(trace=True))
        except riskgrade.FactError as err:
            out.append(dumps(err.to_dict()))
        except riskgrade.RiskgradeError as err:
            out.append(f"{type(err).__name__}: {err}")
    return "\n".join(out)


def test_the_shipped_rulesets_are_all_here() -> None:
    assert len(RULESETS) >= 30 and "rulesets/lec-generic.yaml" in RULESETS


@pytest.mark.parametrize("rel", RULESETS)
def test_mutated_ruleset(rel: str) -> None:
    base = shipped.document(rel)
    pool: list[Any] = mutate.HOSTILE + mutate.scalars(base)
    budget = Budget("rulesets", left=len(RULESETS) - RULESETS.index(rel))
    path = str(shipped.ROOT / rel)

    @settings(size("rulesets") // len(RULESETS))
    @hypothesis.seed(SEED)
    @given(mutate.ops(), mutate.text_edits())
    def run(ops: list[mutate.Op], edits: list[tuple[int, int, int]]) -> None:
        if budget.over():
            return
        text = mutate.text_ops(mutate.dump_yaml(mutate.apply(base, ops, pool)), edits)

        def go() -> tuple[str, Any]:
            rs = compile_located(parse_yaml(text, path))
            assert rs is not None
            return grade_cases(rs), lambda: grade_cases(rs)

        case("rulesets", f"{rel} ops={ops} edits={edits}", go)

    run()
