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
as a minimal (shrunk) counterexample. It lives in :mod:`riskgrade._differential`, the one module
that imports hypothesis; this module holds its result types.

>>> bands_direction([{"to": 70, "level": "BLUE"}, {"from": 70, "level": "RED"}])
1
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from riskgrade._compile.expr import builtin_functions
from riskgrade._compile.extension import Method
from riskgrade._compile.methods import builtin_methods
from riskgrade._core.levels import Level

__all__ = ["DEFAULT_EXAMPLES", "Counterexample", "DifferentialResult", "RefinementReport", "band_looser_at",
           "value_direction"]

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


def _rule_exprs(rule: Mapping[str, Any], bands_dir: Callable[[str], int],
                methods: Mapping[str, Method]) -> Iterator_:
    """Every expression of ``rule`` with its sign, read from its method's declaration."""
    m = methods.get(str(rule.get("method")))
    if m is None:
        return
    d = bands_dir(str(rule.get("bands"))) if m.banded else 1
    for _path, text, sign in m.all_expressions(rule):
        yield text, sign * d
    for c in rule.get("criteria") or ():  # composite: each criterion's condition
        if isinstance(c, Mapping):
            yield c.get("when"), 1


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
                    known_functions: Iterable[str] = (), methods: Mapping[str, Method] | None = None) -> tuple[int, bool]:
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

    known = set(builtin_functions()) | {"lookup", "has", "band"} | set(known_functions)
    pol = _Polarity(doc, match, known - _MONOTONE_CALLS)
    for rule in doc.get("rules") or ():
        if isinstance(rule, Mapping):
            for text, sign in _rule_exprs(rule, bands_dir, methods or builtin_methods()):
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
# results of the differential check (computed by riskgrade._differential)
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
