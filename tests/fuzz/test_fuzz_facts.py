"""Fact mutation per shipped ruleset: ``grade_many`` gives N results for N records, each an
``Assessment`` or a ``FactError``, and grading a record alone gives the same bytes as in the batch.

Records start from the ruleset's own cases and are mutated field by field: dropped, given a hostile
value of any JSON/YAML type, a boundary value (``min``, ``max`` and just beyond), a value another case
uses, or an unknown field next to them.
"""

from __future__ import annotations

import math
from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

import riskgrade
from riskgrade._core.canonical import dumps

from . import mutate, shipped
from ._harness import SEED, Budget, case, note, settings, size

RULESETS = shipped.rulesets()


def _out(o: riskgrade.Assessment | riskgrade.FactError) -> str:
    return o.to_json() if isinstance(o, riskgrade.Assessment) else dumps(o.to_dict())


def _boundaries(spec: Any) -> list[Any]:
    out: list[Any] = []
    if isinstance(spec, dict):
        for key in ("min", "max"):
            v = spec.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out += [v, v - 1, v + 1, math.nextafter(v, -math.inf), math.nextafter(v, math.inf)]
        values = spec.get("values")
        if isinstance(values, dict):
            out += list(values)
        elif isinstance(values, list):
            out += values
    return out


def _pools(rs: riskgrade.Ruleset) -> dict[str, list[Any]]:
    pools: dict[str, list[Any]] = {name: _boundaries(spec) for name, spec in rs.inputs.items()}
    for c in rs.cases:
        facts = c.get("facts") if isinstance(c, dict) else None
        for name, v in (facts or {}).items():
            pools.setdefault(name, []).append(v)
    return pools


Edit = tuple[int, int, int]  # (what, which field, which value)


def _record(base: dict[str, Any], edits: list[Edit], names: list[str], pools: dict[str, list[Any]]) -> dict[str, Any]:
    rec = dict(base)
    for what, which, k in edits:
        name = names[which % len(names)]
        if what == 0:
            rec.pop(name, None)
        elif what == 1:
            rec[name] = mutate.HOSTILE[k % len(mutate.HOSTILE)]
        elif what == 2 and pools.get(name):
            rec[name] = pools[name][k % len(pools[name])]
        elif what == 3:
            rec[f"{name}_{k % 3}"] = rec.get(name)
        elif what == 4 and isinstance(rec.get(name), list) and rec[name]:
            items = list(rec[name])
            items[k % len(items)] = mutate.apply(items[k % len(items)], [("retype", k, k // 3)], mutate.HOSTILE)
            rec[name] = items
    return rec


@pytest.mark.parametrize("rel", RULESETS)
def test_mutated_facts(rel: str) -> None:
    rs = riskgrade.load(str(shipped.ROOT / rel))
    bases = [dict(c["facts"]) for c in rs.cases if isinstance(c.get("facts"), dict)] or [{}]
    names = sorted(set(rs.inputs) | {k for b in bases for k in b}) or ["x"]
    pools = _pools(rs)
    budget = Budget("records", left=len(RULESETS) - RULESETS.index(rel))
    batch = st.lists(st.tuples(st.integers(0, 10**6), st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10**6),
                                                                          st.integers(0, 10**6)), max_size=4)),
                     min_size=1, max_size=20)

    @settings(max(1, size("records") // 4))  # a batch holds about 4.6 records on average
    @hypothesis.seed(SEED)
    @given(batch)
    def run(spec: list[tuple[int, list[Edit]]]) -> None:
        if budget.over():
            return
        records = [_record(bases[b % len(bases)], edits, names, pools) for b, edits in spec]

        def go() -> tuple[str, Any]:
            out = list(rs.grade_many(records))
            assert len(out) == len(records), f"{len(records)} records in, {len(out)} results out"
            assert all(isinstance(o, (riskgrade.Assessment, riskgrade.FactError)) for o in out)
            for o in out:
                note("records", o)

            def alone() -> str:
                lines = []
                for i, r in enumerate(records):
                    try:
                        lines.append(rs.grade(r).to_json())
                    except riskgrade.FactError as err:
                        lines.append(dumps(err.at(record=i).to_dict()))
                return "\n".join(lines)

            return "\n".join(_out(o) for o in out), alone

        case("records", f"{rel} {records!r:.300}", go, count=len(records), tally=False)

    run()
