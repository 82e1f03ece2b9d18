"""The stricter-only guarantee: a static, direction-aware check and a differential check.

**Static** (run at load time by ``_layers`` for every override):

- bands that give levels: the old and new band functions are compared at every
  breakpoint and between them, so the check is exact whichever way the levels run;
  a layer may move a threshold only where no score ends up with a lower level;
- table values: where a value is used is found in the expressions (through derived
  values), with its direction (``q / Q`` — Q may only fall; ``L * E * C`` — may only
  rise; ``x >= limit`` in a condition — the limit may only fall). Where the direction
  cannot be told (through a plugin function, ``==``, a mix), the value may only rise and
  the change is marked *unproven*: the differential check must confirm it;
- a rule's level may only rise; rules, criteria and inputs can only be added.

**Differential** (:func:`differential`, ``riskgrade check-refinement``): facts generated
with hypothesis from the input declarations (table keys, allowed values, ranges with
the band thresholds, lists), plus every case, are graded by both rulesets; a refined
level below the base level, or an error where the base grades, is a finding, reported
as a minimal (shrunk) counterexample.

>>> import riskgrade
>>> base = riskgrade.load("lec-generic")
>>> differential(base, base, max_examples=20).ok
True
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from riskgrade._core.levels import Level
from riskgrade.exceptions import FactError, RulesetError

__all__ = ["DEFAULT_EXAMPLES", "Counterexample", "DifferentialResult", "RefinementReport", "band_looser_at",
           "check_refinement", "differential", "value_direction"]

#: the differential check's default budget of generated fact sets per refinement step
DEFAULT_EXAMPLES = 400

_MONOTONE_CALLS = frozenset({"min", "max", "sum", "any", "all"})
OPAQUE = 2  # "passes through a plugin function": direction unknown


# ----------------------------------------------------------------------------------------------
# static: bands
# ----------------------------------------------------------------------------------------------
def _band_at(rows: Sequence[Mapping[str, Any]], closed: str, x: float) -> Mapping[str, Any] | None:
    for r in rows:
        lo, hi = r.get("from"), r.get("to")
        if closed == "upper":
            if (lo is None or x > lo) and (hi is None or x <= hi):
                return r
        elif (lo is None or x >= lo) and (hi is None or x < hi):
            return r
    return None


def _probe_points(*row_sets: Sequence[Mapping[str, Any]]) -> list[float]:
    cuts = sorted({float(r[k]) for rows in row_sets for r in rows for k in ("from", "to") if r.get(k) is not None})
    if not cuts:
        return [0.0]
    pts = [cuts[0] - 1.0, cuts[-1] + 1.0, *cuts]
    pts += [(a + b) / 2 for a, b in itertools.pairwise(cuts)]
    return sorted(set(pts))


def band_looser_at(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], closed: str,
                   direction: int = 1) -> tuple[float, Any, Any] | None:
    """The first score at which the ``new`` band rows give a lower result than ``old``, or None.

    Rows give ``level`` (compared as levels) or ``value`` (compared as numbers in
    ``direction``: +1 a higher value is stricter, -1 a lower one). Exact: both band
    functions are constant between the probe points.

    >>> old = [{"to": 70, "level": "BLUE"}, {"from": 70, "level": "RED"}]
    >>> band_looser_at(old, [{"to": 60, "level": "BLUE"}, {"from": 60, "level": "RED"}], "upper") is None
    True
    >>> band_looser_at(old, [{"to": 80, "level": "BLUE"}, {"from": 80, "level": "RED"}], "upper")
    (75.0, 'RED', 'BLUE')
    """
    for x in _probe_points(old, new):
        a, b = _band_at(old, closed, x), _band_at(new, closed, x)
        if a is None or b is None:
            continue
        if "level" in a and "level" in b:
            if Level.parse(b["level"]) < Level.parse(a["level"]):
                return (x, a["level"], b["level"])
        elif (isinstance(a.get("value"), (int, float)) and isinstance(b.get("value"), (int, float))
              and (b["value"] - a["value"]) * direction < 0):
            return (x, a["value"], b["value"])
    return None


# ----------------------------------------------------------------------------------------------
# static: which way a value acts
# ----------------------------------------------------------------------------------------------
def _parse(text: Any) -> ast.expr | None:
    try:
        return ast.parse("(" + str(text).strip() + "\n)", mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None


def _rule_exprs(rule: Mapping[str, Any], bands_dir: Callable[[str], int]) -> Iterator_:
    m = rule.get("method")
    if m in ("direct",):
        yield rule.get("when"), 1
    elif m == "composite":
        for c in rule.get("criteria") or ():
            if isinstance(c, Mapping):
                yield c.get("when"), 1
    elif m in ("score", "lec", "ls"):
        d = bands_dir(str(rule.get("bands")))
        keys = {"score": ("expr",), "lec": ("L", "E", "C"), "ls": ("L", "S")}[m]
        for k in keys:
            if k in rule or m != "score":
                yield rule.get(k, k), d
        for e in rule.get("S_dimensions") or ():
            yield e, d
    else:  # a plugin method: its expressions cannot be read
        for k, v in rule.items():
            if k not in ("id", "method", "label", "cite", "note", "bands", "as", "level") and isinstance(v, str):
                yield v, 0


Iterator_ = Iterable[tuple[Any, int]]


def bands_direction(rows: Sequence[Mapping[str, Any]]) -> int:
    """+1 if the bands' levels (or numeric values) never fall as the score rises, -1 if they never
    rise, 0 otherwise.

    >>> bands_direction([{"to": 1, "level": "BLUE"}, {"from": 1, "level": "RED"}])
    1
    """
    srt = sorted(rows, key=lambda r: -math.inf if r.get("from") is None else r["from"])
    raw = [int(Level.parse(r["level"])) if "level" in r else r.get("value") for r in srt]
    seq: list[float] = [v for v in raw if isinstance(v, (int, float))]
    if len(seq) != len(raw):
        return 0
    if all(a <= b for a, b in itertools.pairwise(seq)):
        return 1
    if all(a >= b for a, b in itertools.pairwise(seq)):
        return -1
    return 0


class _Polarity:
    """Collects the directions in which the occurrences matched by ``match`` act on the level."""

    def __init__(self, doc: Mapping[str, Any], match: Callable[[ast.Call], bool], known: Iterable[str]) -> None:
        self.match = match
        self.known = set(known)
        derive = doc.get("derive") or {}
        self.derive = {n: _parse(s["expr"] if isinstance(s, Mapping) else s) for n, s in derive.items()}
        self.found: list[int] = []

    def walk(self, node: ast.AST | None, sign: int, depth: int = 0) -> None:
        if node is None or depth > 60:
            return
        w = self.walk
        d = depth + 1
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            fname = node.func.id
            if self.match(node):
                self.found.append(sign)
                return
            if fname in _MONOTONE_CALLS:
                inner = sign
            elif fname in self.known:
                inner = 0
            else:
                inner = OPAQUE if sign else 0
            for a in node.args:
                w(a, inner, d)
            return
        if isinstance(node, ast.BinOp):
            op = node.op
            if isinstance(op, (ast.Add, ast.Mult)):
                w(node.left, sign, d)
                w(node.right, sign, d)
            elif isinstance(op, (ast.Sub, ast.Div, ast.FloorDiv)):
                w(node.left, sign, d)
                w(node.right, -sign if sign in (1, -1) else sign, d)
            elif isinstance(op, ast.Pow) and isinstance(node.right, ast.Constant) and \
                    isinstance(node.right.value, (int, float)) and node.right.value > 0:
                w(node.left, sign, d)
            else:
                w(node.left, 0, d)
                w(node.right, 0, d)
            return
        if isinstance(node, ast.UnaryOp):
            flips = isinstance(node.op, (ast.USub, ast.Not)) and sign in (1, -1)
            w(node.operand, -sign if flips else sign, d)
            return
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                w(v, sign, d)
            return
        if isinstance(node, ast.Compare):
            if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
                up = 1 if isinstance(node.ops[0], (ast.Gt, ast.GtE)) else -1
                s = sign * up if sign in (1, -1) else sign
                w(node.left, s, d)
                w(node.comparators[0], -s if s in (1, -1) else s, d)
            else:
                for n in (node.left, *node.comparators):
                    w(n, 0, d)
            return
        if isinstance(node, ast.IfExp):
            w(node.test, 0, d)
            w(node.body, sign, d)
            w(node.orelse, sign, d)
            return
        if isinstance(node, ast.GeneratorExp):
            w(node.elt, sign, d)
            for g in node.generators:
                w(g.iter, 0, d)
                for c in g.ifs:
                    w(c, 0, d)
            return
        if isinstance(node, ast.Name):
            sub = self.derive.get(node.id)
            if sub is not None:
                w(sub, sign, d)
            return
        for child in ast.iter_child_nodes(node):
            w(child, 0, d)


def value_direction(doc: Mapping[str, Any], match: Callable[[ast.Call], bool],
                    known_functions: Iterable[str] = ()) -> tuple[int, bool]:
    """How the occurrences picked by ``match`` act on the level in ``doc``: ``(direction, proven)``.

    ``direction`` +1: a higher value is stricter; -1: a lower one; 0: the value is not used
    in grading. When the direction cannot be told (a plugin function, ``==``, a mix), the
    answer is ``(1, False)``: the value may only rise, and the differential check must confirm.

    >>> doc = {"rules": [{"method": "direct", "when": "q / lookup('t', k, 'Q') >= 1", "level": "RED"}]}
    >>> value_direction(doc, lambda c: c.func.id == "lookup")
    (-1, True)
    """
    bands = doc.get("bands") or {}

    def bands_dir(name: str) -> int:
        b = bands.get(name)
        return bands_direction(b["rows"]) if isinstance(b, Mapping) and b.get("rows") else 0

    from riskgrade._compile.expr import builtin_functions

    known = set(builtin_functions()) | {"lookup", "has", "band"} | set(known_functions)
    pol = _Polarity(doc, match, known - _MONOTONE_CALLS)
    for rule in doc.get("rules") or ():
        if isinstance(rule, Mapping):
            for text, sign in _rule_exprs(rule, bands_dir):
                if text is not None:
                    pol.walk(_parse(text), sign)
    found = set(pol.found)
    if not found:
        return (0, True)
    if found == {1}:
        return (1, True)
    if found == {-1}:
        return (-1, True)
    return (1, False)


def lookup_matcher(table: str, column: str) -> Callable[[ast.Call], bool]:
    """Matches ``lookup('table', key, 'column'...)``."""
    def match(c: ast.Call) -> bool:
        a = c.args
        return (isinstance(c.func, ast.Name) and c.func.id == "lookup" and len(a) >= 3
                and isinstance(a[0], ast.Constant) and a[0].value == table
                and isinstance(a[2], ast.Constant) and a[2].value == column)
    return match


def band_matcher(name: str) -> Callable[[ast.Call], bool]:
    """Matches ``band('name', x)``."""
    def match(c: ast.Call) -> bool:
        return (isinstance(c.func, ast.Name) and c.func.id == "band" and len(c.args) == 2
                and isinstance(c.args[0], ast.Constant) and c.args[0].value == name)
    return match


# ----------------------------------------------------------------------------------------------
# differential
# ----------------------------------------------------------------------------------------------
@attrs.frozen
class Counterexample:
    """Facts on which the refined ruleset is looser than its base (``found_by``: a case or generated)."""

    facts: Mapping[str, Any]
    base_level: Level
    refined_level: Level | None
    refined_error: str = ""
    found_by: str = "generated"

    def text(self) -> str:
        got = self.refined_level.name if self.refined_level else f"error ({self.refined_error})"
        facts = ", ".join(f"{k}={v!r}" for k, v in self.facts.items())
        return f"{{{facts}}}: base {self.base_level.name}, refined {got} [{self.found_by}]"


@attrs.frozen
class DifferentialResult:
    """``ok`` when no counterexample was found among ``cases`` cases and ``examples`` generated facts."""

    ok: bool
    cases: int
    examples: int
    counterexample: Counterexample | None = None


_MISSING = object()


def _strategy(inputs: Mapping[str, Mapping[str, Any]], tables: Mapping[str, Any],
              cuts: Sequence[float]) -> Any:
    from hypothesis import strategies as st

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
    from hypothesis import HealthCheck, find, settings
    from hypothesis.errors import NoSuchExample, Unsatisfiable

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
@attrs.frozen
class RefinementReport:
    """The outcome of :func:`check_refinement`: static problems, unproven changes and one
    differential result per refinement step (``(from label, to label, result)``)."""

    ruleset: str
    jurisdiction: str
    static_problems: tuple[str, ...] = ()
    unproven: tuple[str, ...] = ()
    steps: tuple[tuple[str, str, DifferentialResult], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.static_problems and all(r.ok for _, _, r in self.steps)


def check_refinement(ref: str, jurisdiction: str, *, max_examples: int = DEFAULT_EXAMPLES) -> RefinementReport:
    """Run the static check (by loading) and the differential check step by step down the chain.

    >>> check_refinement("lec-generic", "620402", max_examples=20).ok
    True
    """
    from riskgrade._api import load
    from riskgrade._core import jurisdictions as _jurisdictions

    try:
        final = load(ref, jurisdiction=jurisdiction)
    except RulesetError as e:
        return RefinementReport(ref, jurisdiction, tuple(str(p) for p in e.problems))
    steps: list[tuple[str, str, DifferentialResult]] = []
    prev = load(ref)
    prev_label = f"{prev.jurisdiction} (base)"
    for j in _jurisdictions.chain(jurisdiction):
        cur = load(ref, jurisdiction=j.code)
        if cur.fingerprint == prev.fingerprint:
            continue
        steps.append((prev_label, j.label, differential(prev, cur, max_examples=max_examples)))
        prev, prev_label = cur, j.label
    unproven = tuple(ch for lay in final.doc.get("layers") or () for ch in lay.get("unproven") or ())
    return RefinementReport(ref, jurisdiction, (), unproven, tuple(steps))
