"""What would change the level: the smallest changes to a record's inputs that bring it to a target.

:meth:`Ruleset.counterfactuals` delegates here. The search is bounded and documented
(docs/authoring.md, "What would change the level"):

- **Candidate values** of an input (:func:`candidates`): a bool's two values; the allowed values of
  an input with ``values:`` or a ``table:`` (its published scale); for a number or integer with a
  range, its ``min`` and ``max``, its default, and every band threshold and every number written in
  a rule or derived value, each with its neighbours just below and just above (``±1`` for an
  integer, a relative ``1e-9`` for a number), clipped to the range. Free text, dates and lists are
  not searched. At most ``max_candidates`` per input (those nearest the current value).
- **Single-field changes** are tried for every candidate of every input not in ``fixed``; **pairs of
  fields** for every pair of candidates, until ``max_evaluations`` records have been graded
  (``complete`` then says False). For a number with a range, the nearest qualifying candidate is then
  narrowed by bisection (at most 60 steps) to the value closest to the current one.
- An option qualifies when the record then grades at the target level **or lower**. Only minimal
  options are kept: a pair is dropped when one of its two changes alone qualifies, and of the
  options changing the same fields in the same direction only the nearest is kept.
- Options are ranked by the number of fields changed, then by **distance**: per field, the number
  of steps along a numeric scale divided by the scale's length; 1 for a bool or any other value
  set (unordered); for a range the change divided by the range's width (unbounded: by the current
  value's magnitude, at least 1); summed over the fields changed.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._core.canonical import fmt_number
from riskgrade._core.levels import Level
from riskgrade._grade.assessment import Assessment
from riskgrade.exceptions import FactError

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = ["MAX_CANDIDATES", "MAX_EVALUATIONS", "MAX_FIELDS", "Counterfactual", "Counterfactuals",
           "candidates", "counterfactuals", "expression_numbers", "searchable"]

#: the search's bounds (documented): fields changed at once, candidate values per input, records graded
MAX_FIELDS = 2
MAX_CANDIDATES = 64
MAX_EVALUATIONS = 20000
_BISECT_STEPS = 60


@attrs.frozen
class Counterfactual:
    """One option: ``changes`` (field → ``(from, to)``), the ``level`` the record then grades at, the
    ``distance`` it was ranked by and the changed record's :class:`Assessment`."""

    changes: Mapping[str, tuple[Any, Any]]
    level: Level
    distance: float
    assessment: Assessment

    def explanation(self, lang: str = "en") -> list[str]:
        """The rules that fire after the change and the decision, one line each."""
        fired = {f.id for f in self.assessment.fired}
        return [s.text for s in self.assessment.trace(lang)
                if (s.kind == "rule" and s.name in fired) or s.kind == "decision"]

    def text(self, lang: str = "en") -> str:
        """``C 40 → 15`` (and so on), one phrase."""
        return ", ".join(f"{k} {_show(a)} → {_show(b)}" for k, (a, b) in self.changes.items())

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"changes": {k: [a, b] for k, (a, b) in self.changes.items()}, "level": self.level.name,
                "distance": round(self.distance, 6), "explanation": self.explanation(lang)}


@attrs.frozen
class Counterfactuals:
    """The options for one record: its current ``level``, the ``target``, the ranked ``options``, how
    many records the search graded (``evaluated``) and whether it tried every candidate within the
    bounds (``complete``)."""

    level: Level
    target: Level
    options: tuple[Counterfactual, ...]
    evaluated: int
    complete: bool

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"level": self.level.name, "target": self.target.name,
                "options": [o.to_dict(lang) for o in self.options],
                "evaluated": self.evaluated, "complete": self.complete}


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "(none)"
    return fmt_number(v) if isinstance(v, (int, float)) else str(v)


# -- the input space ------------------------------------------------------------------------------
def _names_and_numbers(text: Any) -> tuple[set[str], set[float]]:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return set(), {float(text)}
    try:
        tree = ast.parse(" ".join(str(text).split()), mode="eval")
    except SyntaxError:
        return set(), set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    nums = {float(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)}
    return names, nums


def rule_expressions(rs: Ruleset, i: int) -> list[tuple[str, Any]]:
    """``(key, text)`` of every expression of rule ``i`` (criteria included)."""
    rule, m = rs.rules[i], rs._methods[i]
    out = [(".".join(str(p) for p in path), text) for path, text, _ in m.all_expressions(rule)]
    for j, crit in enumerate(rule.get("criteria") or ()):
        if isinstance(crit, Mapping) and "when" in crit:
            out.append((f"criteria[{crit.get('id', j)}]", crit["when"]))
    return out


def expression_numbers(rs: Ruleset) -> set[float]:
    """Every number written in a rule's or derived value's expression."""
    out: set[float] = set()
    for i in range(len(rs.rules)):
        for _, text in rule_expressions(rs, i):
            out |= _names_and_numbers(text)[1]
    for spec in (rs.doc.get("derive") or {}).values():
        out |= _names_and_numbers(spec["expr"] if isinstance(spec, Mapping) else spec)[1]
    return out


def thresholds(rs: Ruleset) -> set[float]:
    """Every band threshold of ``rs``."""
    return {float(r[k]) for b in rs.bands.values() for r in b.rows for k in ("from", "to") if r.get(k) is not None}


def allowed(rs: Ruleset, spec: Mapping[str, Any]) -> list[Any] | None:
    """The allowed values of an input, in scale order (numbers ascending, else as declared)."""
    vals = spec.get("values")
    if vals is not None:
        out = list(vals.keys() if isinstance(vals, Mapping) else vals)
    elif spec.get("table") and spec["table"] in rs.tables:
        out = list(rs.tables[spec["table"]].index)
    else:
        return None
    if _numeric(out):
        out.sort()
    return out


def searchable(spec: Mapping[str, Any], rs: Ruleset) -> bool:
    """Whether the search can propose values for an input (bool, allowed values, numbers)."""
    t = spec["type"]
    return t == "bool" or allowed(rs, spec) is not None or t in ("number", "integer")


def candidates(rs: Ruleset, name: str, current: Any = None, *, extra: Iterable[float] = (),
               limit: int = MAX_CANDIDATES) -> list[Any]:
    """The values the search tries for input ``name`` (see the module docstring), nearest to
    ``current`` first when there are more than ``limit``; ``[]`` for an input it cannot search."""
    spec = rs.inputs[name]
    t = spec["type"]
    if t == "bool":
        return [False, True]
    scale = allowed(rs, spec)
    if scale is not None:
        return scale
    if t not in ("number", "integer"):
        return []
    lo, hi = spec.get("min"), spec.get("max")
    points = thresholds(rs) | expression_numbers(rs) | {float(x) for x in extra}
    step_int = t == "integer"
    vals: set[float] = set()
    for p in points:
        d = 1.0 if step_int else max(abs(p), 1.0) * 1e-9
        vals |= {p - d, p, p + d}
    for q in (lo, hi, spec.get("default"), current):
        if isinstance(q, (int, float)) and not isinstance(q, bool):
            vals.add(float(q))
    out: list[Any] = []
    for v in sorted(vals):
        if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
            continue
        if step_int:
            if v != int(v):
                continue
            out.append(int(v))
        else:
            out.append(int(v) if v == int(v) and abs(v) < 2 ** 53 else v)
    out = sorted(set(out))
    if len(out) > limit:
        ref = current if isinstance(current, (int, float)) and not isinstance(current, bool) else 0
        out = sorted(sorted(out, key=lambda v: abs(v - ref))[:limit])
    return out


def _distance(rs: Ruleset, name: str, a: Any, b: Any, scale: Sequence[Any]) -> float:
    spec = rs.inputs[name]
    if spec["type"] == "bool":
        return 1.0
    if allowed(rs, spec) is not None:  # steps along a numeric scale; any other value set is unordered
        if _numeric(scale) and a in scale and b in scale and len(scale) > 1:
            return abs(scale.index(a) - scale.index(b)) / (len(scale) - 1)
        return 1.0
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        lo, hi = spec.get("min"), spec.get("max")
        width = (hi - lo) if lo is not None and hi is not None and hi > lo else max(abs(a), 1.0)
        return float(abs(b - a) / width)
    return 1.0


def _direction(scale: Sequence[Any], a: Any, b: Any) -> Any:
    """+1/-1 along an ordered scale; the value itself for an unordered one (each value its own way)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None:
        return ("=", b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return 1 if b > a else -1
    return ("=", b)


def _numeric(scale: Sequence[Any]) -> bool:
    return bool(scale) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in scale)


# -- the search -----------------------------------------------------------------------------------
def counterfactuals(rs: Ruleset, facts: Mapping[str, Any], target: Level | str | int | None = None,
                    fixed: Iterable[str] = (), *, max_fields: int = MAX_FIELDS,
                    max_candidates: int = MAX_CANDIDATES,
                    max_evaluations: int = MAX_EVALUATIONS) -> Counterfactuals:
    """The smallest changes to ``facts`` that grade at ``target`` or lower (see the module docstring)."""
    base = rs.grade(facts)
    current = base.level
    fixed = tuple(fixed)
    for f in fixed:
        if f not in rs.inputs:
            raise FactError(f"--fix {f!r} is not an input of {rs.id}; inputs: {', '.join(rs.inputs)}",
                            field=f, code="unknown-input")
    goal = current.raised(-1) if target is None else Level.parse(target)
    if current <= goal or (target is None and current is Level.BLUE):
        return Counterfactuals(current, goal if target is not None else current, (), 1, True)
    inputs = {n: base.inputs[n] for n in rs.inputs}
    fields = [n for n in rs.inputs if n not in fixed and searchable(rs.inputs[n], rs)]
    cands = {n: [v for v in candidates(rs, n, inputs[n], limit=max_candidates) if not _same(v, inputs[n])]
             for n in fields}
    scales = {n: allowed(rs, rs.inputs[n]) or [] for n in fields}
    evaluated = 1
    complete = True
    cache: dict[tuple[tuple[str, Any], ...], Assessment | None] = {}

    def grade(changes: Mapping[str, Any]) -> Assessment | None:
        nonlocal evaluated
        key = tuple(sorted((k, (type(v).__name__, v)) for k, v in changes.items()))
        if key in cache:
            return cache[key]
        evaluated += 1
        trial = {**facts, **changes}
        try:
            a: Assessment | None = rs.grade(trial)
        except FactError:  # the changed record breaks a requirement of the ruleset: not an option
            a = None
        cache[key] = a
        return a

    def ok(a: Assessment | None) -> bool:
        return a is not None and a.level <= goal

    found: list[Counterfactual] = []
    singles: set[tuple[str, Any]] = set()
    # one field
    for n in fields:
        for v in cands[n]:
            if evaluated >= max_evaluations:
                complete = False
                break
            a = grade({n: v})
            if ok(a):
                assert a is not None
                singles.add((n, _key(v)))
                found.append(_option(rs, {n: (inputs[n], v)}, a, scales))
    found = _narrow(rs, found, inputs, grade, ok, scales)
    # two fields (and more, when asked), neither change alone enough
    for k in range(2, max_fields + 1):
        for combo in itertools.combinations(fields, k):
            lists = [[v for v in cands[n] if (n, _key(v)) not in singles] for n in combo]
            for vals in itertools.product(*lists):
                if evaluated >= max_evaluations:
                    complete = False
                    break
                a = grade(dict(zip(combo, vals, strict=True)))
                if ok(a):
                    assert a is not None
                    found.append(_option(rs, {n: (inputs[n], v) for n, v in zip(combo, vals, strict=True)}, a,
                                         scales))
    options = _minimal(found, scales)
    options.sort(key=lambda o: (len(o.changes), round(o.distance, 12), -int(o.level), sorted(o.changes)))
    return Counterfactuals(current, goal, tuple(options), evaluated, complete)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else bool(a == b)


def _key(v: Any) -> Any:
    return (type(v) is bool, v)


def _option(rs: Ruleset, changes: Mapping[str, tuple[Any, Any]], a: Assessment,
            scales: Mapping[str, Sequence[Any]]) -> Counterfactual:
    dist = sum(_distance(rs, n, x, y, scales.get(n, ())) for n, (x, y) in changes.items())
    return Counterfactual(dict(changes), a.level, dist, a)


def _narrow(rs: Ruleset, found: list[Counterfactual], inputs: Mapping[str, Any], grade: Any, ok: Any,
            scales: Mapping[str, Sequence[Any]]) -> list[Counterfactual]:
    """For a number with a range (no scale), move the nearest qualifying value towards the current one
    as far as it still qualifies (bisection)."""
    out = []
    for o in found:
        ((n, (cur, v)),) = o.changes.items()
        spec = rs.inputs[n]
        if scales.get(n) or spec["type"] not in ("number", "integer") or not isinstance(cur, (int, float)):
            out.append(o)
            continue
        good, bad = v, cur
        integer = spec["type"] == "integer"
        best = o.assessment
        for _ in range(_BISECT_STEPS):
            if integer and abs(good - bad) <= 1:
                break
            if not integer and abs(good - bad) <= max(abs(good), 1.0) * 1e-9:
                break
            mid = (good + bad) // 2 if integer else (good + bad) / 2
            a = grade({n: mid})
            if ok(a):
                good, best = mid, a
            else:
                bad = mid
        out.append(_option(rs, {n: (cur, good)}, best, scales))
    return out


def _minimal(found: list[Counterfactual], scales: Mapping[str, Sequence[Any]]) -> list[Counterfactual]:
    """Of the options changing the same fields in the same directions, the nearest in every field."""
    groups: dict[tuple[Any, ...], list[Counterfactual]] = {}
    for o in found:
        sig = tuple((n, _direction(scales.get(n, ()), a, b)) for n, (a, b) in sorted(o.changes.items()))
        groups.setdefault(sig, []).append(o)
    out: list[Counterfactual] = []
    seen: set[tuple[Any, ...]] = set()
    for group in groups.values():
        for o in group:
            dominated = any(p is not o and all(_nearer(scales.get(n, ()), p.changes[n], o.changes[n]) for n in o.changes)
                            and any(p.changes[n] != o.changes[n] for n in o.changes) for p in group)
            sig = tuple(sorted((n, _key(b)) for n, (_, b) in o.changes.items()))
            if not dominated and sig not in seen:
                seen.add(sig)
                out.append(o)
    return out


def _nearer(scale: Sequence[Any], p: tuple[Any, Any], o: tuple[Any, Any]) -> bool:
    """Whether change ``p`` is no farther from the current value than ``o`` (same direction)."""
    cur, pv = p
    ov = o[1]
    if _same(pv, ov):
        return True
    if isinstance(pv, bool) or isinstance(ov, bool):
        return False
    if isinstance(pv, (int, float)) and isinstance(ov, (int, float)) and isinstance(cur, (int, float)):
        return abs(pv - cur) <= abs(ov - cur)
    return False
