"""The roll-up's memo (``_Plan.memo``): a memoised :func:`evaluate` gives what evaluating gives, for
every kind of the default roll-up and of every shipped sector roll-up, and the memo stays bounded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._enterprise import rollup
from riskgrade._enterprise.rollup import DEFAULT_ROLLUP, Rollup, _evaluate, evaluate, kind_plan
from riskgrade._source import registry

COUNTS = st.lists(st.integers(0, 3), min_size=5, max_size=5)


def _rollups() -> list[Rollup]:
    out = [DEFAULT_ROLLUP]
    for sector in sorted({s.sector for s in registry.shipped() if s.rollup}):
        ref = registry.sector_rollup(sector)
        if ref is not None:
            section = riskgrade.load(ref).section("rollup")
            if isinstance(section, Rollup):
                out.append(section)
    return out


ROLLUPS = _rollups()


def test_there_are_sector_rollups() -> None:
    assert len(ROLLUPS) > 3


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(range(len(ROLLUPS))), st.sampled_from(["hazard", "risk_point", "unit", "enterprise"]),
       st.booleans(), st.sampled_from([None, *riskgrade.Level]), COUNTS, COUNTS, COUNTS,
       st.sampled_from([None, 1, 2, 3, 4]), st.sampled_from([None, 1, 2, 3]),
       st.dates(dt.date(2020, 1, 1), dt.date(2026, 12, 31)))
def test_memoised_equals_evaluated(r: int, kind: str, dynamic: bool, own: Any, levels: list[int], locks: list[int],
                                   points: list[int], mhg: int | None, std: int | None, as_of: dt.date) -> None:
    rule = ROLLUPS[r].for_kind(kind)
    kw: dict[str, Any] = {"dynamic": dynamic, "own": own, "child_levels": levels, "child_locks": locks,
                          "as_of": as_of, "major_hazard_grade": mhg, "standardisation": std, "point_levels": points}
    want = _evaluate(rule, kind_plan(rule), dynamic, own, levels, locks, as_of, mhg, std, (), (), (), None, points)
    assert evaluate(rule, **kw) == want
    assert evaluate(rule, **kw) == want  # the second call is answered by the memo


def test_memo_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(rollup, "_MEMO_SIZE", 8)
    rule = DEFAULT_ROLLUP.for_kind("unit")
    for n in range(40):
        evaluate(rule, dynamic=True, own=None, child_levels=[0, n, 0, 0, 0], child_locks=[n, 0, 0, 0, 0],
                 as_of=dt.date(2024, 6, 30))
        assert len(kind_plan(rule).memo) <= 8
