"""Hypothesis strategies for facts of a compiled ruleset: its own case facts, with fields replaced by
values drawn from what each input allows (table keys, enum values, booleans, numbers in range) and,
now and then, a value it does not allow (so error records are covered too)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import riskgrade

__all__ = ["case_facts", "facts_for", "shipped_ids"]


def shipped_ids() -> list[str]:
    return sorted({d["id"] for d in riskgrade.list_rulesets()})


def case_facts(rs: riskgrade.Ruleset) -> list[dict[str, Any]]:
    return [dict(c["facts"]) for c in rs.cases if isinstance(c.get("facts"), dict)]


def _value(rs: riskgrade.Ruleset, spec: Any) -> st.SearchStrategy[Any] | None:
    t = spec.get("type")
    if spec.get("table") and spec["table"] in rs.tables:
        keys = sorted(rs.tables[spec["table"]].index, key=repr)
        if keys:
            return st.sampled_from(keys)
    if t == "enum" and spec.get("values"):
        vals = spec["values"]
        return st.sampled_from(sorted(vals if not isinstance(vals, dict) else vals.keys(), key=repr))
    if t == "bool":
        return st.booleans()
    if t in ("number", "integer"):
        lo, hi = spec.get("min"), spec.get("max")
        lo_i = int(lo) if lo is not None else -10
        hi_i = int(hi) if hi is not None else (lo_i + 1000)
        ints = st.integers(lo_i, hi_i)
        if t == "integer":
            return ints
        return ints | st.floats(lo if lo is not None else -10.0, hi if hi is not None else lo_i + 1000.0,
                                allow_nan=False, allow_infinity=False)
    return None


_ODD = st.sampled_from([-1, 0, 0.0, -0.0, 7.5, 10**6, "x", None, True, False, 3.0, 2])


def facts_for(rs: riskgrade.Ruleset) -> st.SearchStrategy[dict[str, Any]]:
    """Facts for ``rs``: a case's facts with some fields redrawn (mostly allowed values)."""
    base = case_facts(rs) or [{}]
    fields = {n: s for n, spec in rs.inputs.items() if (s := _value(rs, spec)) is not None}
    names = sorted(fields)

    @st.composite
    def draw_facts(draw: Any) -> dict[str, Any]:
        f = dict(draw(st.sampled_from(base)))
        for n in names:
            if draw(st.integers(0, 3)) == 0:
                f[n] = draw(fields[n] if draw(st.integers(0, 9)) else _ODD)
        return f

    return draw_facts()
