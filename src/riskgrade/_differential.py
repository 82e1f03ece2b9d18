"""The differential stricter-only check, on hypothesis (imported lazily by :mod:`riskgrade._api`).

Facts generated with hypothesis from the input declarations (table keys, allowed values,
ranges with the band thresholds, lists), plus every case, are graded by both rulesets; a
refined level below the base level, or an error where the base grades, is a finding,
reported as a minimal (shrunk) counterexample.

>>> import riskgrade
>>> base = riskgrade.load("lec-generic")
>>> differential(base, base, max_examples=20).ok
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from riskgrade._compile.refine import DEFAULT_EXAMPLES, Counterexample, DifferentialResult
from riskgrade.exceptions import FactError

__all__ = ["differential"]

_MISSING = object()


def _strategy(inputs: Mapping[str, Mapping[str, Any]], tables: Mapping[str, Any],
              cuts: Sequence[float]) -> Any:

    def scalar(spec: Mapping[str, Any]) -> Any:
        t = spec["type"]
        vals = spec.get("values")
        if vals:
            return st.sampled_from(sorted(vals.keys() if isinstance(vals, Mapping) else vals, key=str))
        if spec.get("table") and spec["table"] in tables:
            keys = [k for k in tables[spec["table"]].index if not isinstance(k, str) or t in ("string", "enum")]
            if keys:
                return st.sampled_from(sorted(keys, key=lambda k: (str(type(k)), k)))
        if t == "bool":
            return st.booleans()
        if t in ("number", "integer"):
            lo, hi = spec.get("min"), spec.get("max")
            lo_i = math.ceil(lo) if lo is not None else -10**6
            hi_i = math.floor(hi) if hi is not None else 10**6
            ints = st.integers(lo_i, hi_i)
            if t == "integer":
                return ints
            inside = [c for c in cuts if (lo is None or c >= lo) and (hi is None or c <= hi)]
            parts = [ints, st.floats(lo if lo is not None else -1e6, hi if hi is not None else 1e6,
                                     allow_nan=False, allow_infinity=False)]
            if inside:
                parts.insert(0, st.sampled_from(sorted(inside)))
            return st.one_of(*parts)
        if t == "date":
            return st.dates()
        return st.sampled_from(["", "x"])

    def field(spec: Mapping[str, Any]) -> Any:
        if spec["type"] == "list":
            if spec.get("fields"):
                rec = st.fixed_dictionaries({k: scalar(v) for k, v in spec["fields"].items()})
            else:
                rec = scalar({"type": spec.get("items", "string")})
            return st.lists(rec, min_size=spec.get("min_items", 0), max_size=min(spec.get("max_items", 4), 4))
        return scalar(spec)

    parts = {}
    for name, spec in inputs.items():
        s = field(spec)
        if "default" in spec or spec.get("required") is False:
            s = st.one_of(st.just(_MISSING), s)  # shrinks towards "left out"
        parts[name] = s
    return st.fixed_dictionaries(parts).map(lambda d: {k: v for k, v in d.items() if v is not _MISSING})


def _compare(base: Any, refined: Any, facts: Mapping[str, Any]) -> Counterexample | None:
    # inputs a layer added are left out for the base (they have defaults in the refined ruleset)
    base_facts = {k: v for k, v in facts.items() if k in base.inputs or k not in refined.inputs}
    try:
        a = base.grade(base_facts)
    except FactError:
        return None
    try:
        b = refined.grade(facts)
        b2 = refined.grade(dict(facts))
    except FactError as e:
        return Counterexample(dict(facts), a.level, None, f"{e.code}: {e.message}")
    except Exception as e:  # a plugin function failed in an unexpected way
        return Counterexample(dict(facts), a.level, None, f"{type(e).__name__}: {e}")
    if b.to_json() != b2.to_json():
        return Counterexample(dict(facts), a.level, b.level, "not reproducible (an impure plugin function?)")
    if b.level < a.level:
        return Counterexample(dict(facts), a.level, b.level)
    return None


def differential(base: Any, refined: Any, *, max_examples: int = DEFAULT_EXAMPLES,
                 cases: Iterable[Mapping[str, Any]] = (), use_cases: bool = True) -> DifferentialResult:
    """Check that ``refined`` grades every fact set at least as high as ``base``.

    First every case (of both rulesets, and ``cases``), then ``max_examples`` fact sets
    generated from the inputs of ``refined`` (derandomized: the same result every run). The
    first finding is shrunk to a minimal counterexample. ``use_cases=False`` skips the
    rulesets' own cases (to see what generation alone finds).
    """

    all_cases = [*base.cases, *refined.cases, *cases] if use_cases else [*cases]
    for i, c in enumerate(all_cases):
        facts = c.get("facts")
        if isinstance(facts, Mapping):
            found = _compare(base, refined, facts)
            if found is not None:
                return DifferentialResult(False, i + 1, 0, attrs.evolve(found, found_by=f"case {c.get('note')!r}"))
    cuts: list[float] = []
    for rs in (base, refined):
        for b in rs.bands.values():
            for r in b.rows:
                cuts += [float(r[k]) for k in ("from", "to") if r.get(k) is not None]
    strategy = _strategy(refined.inputs, refined.tables, sorted(set(cuts)))
    count = [0]

    def looser(facts: Mapping[str, Any]) -> bool:
        count[0] += 1
        return _compare(base, refined, facts) is not None

    cfg = settings(max_examples=max_examples, database=None, derandomize=True, deadline=None,
                   suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    try:
        facts = find(strategy, looser, settings=cfg)
    except (NoSuchExample, Unsatisfiable):
        return DifferentialResult(True, len(all_cases), count[0])
    found = _compare(base, refined, facts)
    assert found is not None
    return DifferentialResult(False, len(all_cases), count[0], found)


# ----------------------------------------------------------------------------------------------
# both, for a ruleset and a jurisdiction
# ----------------------------------------------------------------------------------------------
