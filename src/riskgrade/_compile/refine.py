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
import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from riskgrade._compile.expr import builtin_functions
from riskgrade._compile.extension import Method
from riskgrade._compile.methods import builtin_methods
from riskgrade._core.levels import Level

__all__ = ["DEFAULT_EXAMPLES", "PROBE_BUDGET", "Counterexample", "DifferentialResult", "MayFail", "RefinementReport",
           "TotalityCheck", "band_looser_at", "probe", "value_direction"]

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
        #: the per-record derived values of list inputs (``s.Q`` in ``sum(s.q / s.Q for s in substances)``)
        self.fields = {f: _parse(text) for spec in (doc.get("inputs") or {}).values() if isinstance(spec, Mapping)
                       for f, text in (spec.get("derive") or {}).items()}
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
        if isinstance(node, ast.Attribute):
            sub = self.fields.get(node.attr)
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


# ----------------------------------------------------------------------------------------------
# static: what a layer adds must not fail
# ----------------------------------------------------------------------------------------------
#: the most argument combinations a plugin function or method is tried on to prove it never fails
PROBE_BUDGET = 20_000
#: the largest integer range an input's values are enumerated over
_ENUM_RANGE = 10_000


@attrs.frozen
class _V:
    """What the analysis knows of a value: its kind (``num``, ``bool``, ``str``, ``date``, ``list``,
    ``rec``, ``any``), whether it may be None, and (when finite and known) every value it can take."""

    kind: str
    none: bool = False
    domain: frozenset[Any] | None = None
    fields: Mapping[str, Any] | None = None
    #: proven not 0 by a guard (``x / y if y else 0``)
    nz: bool = False
    #: a lower bound (an input's ``min``)
    lo: float | None = None

    @property
    def nonzero(self) -> bool:
        return self.nz or (self.domain is not None
                           and all(isinstance(v, (int, float)) and v != 0 for v in self.domain))

    @property
    def nonneg(self) -> bool:
        return (self.lo is not None and self.lo >= 0) or (
            self.domain is not None and all(isinstance(v, (int, float)) and v >= 0 for v in self.domain))


class MayFail(Exception):
    """Raised by :class:`TotalityCheck` with the reason an expression may fail and a fix hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message, self.hint = message, hint
        super().__init__(message)


_ANY = _V("any")
#: a derived value that may fail: reported where it is defined, so not again where it is used
_ERR = _V("err")
_NUM = _V("num")
_BOOL = _V("bool", domain=frozenset({True, False}))
_KINDS = {"number": "num", "integer": "num", "bool": "bool", "string": "str", "date": "date", "list": "list"}


def _kind_of(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "num"
    return "str" if isinstance(v, str) else "any"


def _field_value(spec: Mapping[str, Any], tables: Mapping[str, Any], top: bool) -> _V:
    t = str(spec.get("type"))
    none = top and "default" not in spec and spec.get("required", True) is False
    vals = spec.get("values")
    domain: frozenset[Any] | None = None
    if vals:
        domain = frozenset(vals.keys() if isinstance(vals, Mapping) else vals)
    elif t == "bool":
        domain = frozenset({True, False})
    elif spec.get("table") in tables:
        domain = frozenset(tables[spec["table"]])
    elif t == "integer" and isinstance(spec.get("min"), int) and isinstance(spec.get("max"), int) \
            and spec["max"] - spec["min"] <= _ENUM_RANGE:
        domain = frozenset(range(spec["min"], spec["max"] + 1))
    if domain is not None and none:
        domain = domain | {None}
    kind = _KINDS.get(t, "any")
    if t == "enum":
        kinds = {_kind_of(v) for v in domain or ()} - {"any"}
        kind = kinds.pop() if len(kinds) == 1 else "any"
    if t == "list":
        return _V("list", none, None, spec.get("fields") or {"": {"type": spec.get("items", "any")}})
    lo = spec.get("min")
    return _V(kind, none, domain, lo=lo if isinstance(lo, (int, float)) and not isinstance(lo, bool) else None)


class TotalityCheck:
    """Proves that an expression a layer adds cannot fail for any facts the ruleset accepts.

    Whatever a layer adds only raises levels (each rule's level joins the others' by ``max``, a
    criterion only adds to a count), so the one way an addition could loosen grading is by failing:
    a record the base grades would become an error. This is a conservative check: an expression is
    accepted only where every operation is proven total from the input declarations (types, allowed
    values, ranges, defaults) and the tables. Plugin functions and methods are pure by contract, so
    they are proven by trying every combination of their arguments' values (at most
    :data:`PROBE_BUDGET`); an argument that can take unboundedly many values cannot be proven.

    >>> doc = {"inputs": {"x": {"type": "number", "min": 0, "max": 9}, "n": {"type": "integer", "min": 1,
    ...        "max": 5}}, "rules": []}
    >>> chk = TotalityCheck(doc, {}, {})
    >>> chk.check("x / n > 1")
    >>> try:
    ...     chk.check("require(x < 5, 'too much')")
    ... except MayFail as e:
    ...     print(e.message)
    require() turns every record that breaks the condition into an error
    """

    def __init__(self, doc: Mapping[str, Any], methods: Mapping[str, Method],
                 functions: Mapping[str, Any]) -> None:
        self.doc = doc
        self.functions = functions
        self.tables: dict[str, dict[Any, Mapping[str, Any]]] = {}
        self.columns: dict[str, Mapping[str, Any]] = {}
        for name, spec in (doc.get("tables") or {}).items():
            if isinstance(spec, Mapping) and isinstance(spec.get("rows"), list):
                keys = spec["key"] if isinstance(spec.get("key"), list) else [spec.get("key")]
                index: dict[Any, Mapping[str, Any]] = {}
                for r in spec["rows"]:
                    if isinstance(r, Mapping):
                        for k in keys:
                            if r.get(k) not in (None, ""):
                                index[r[k]] = r
                self.tables[name] = index
                self.columns[name] = spec.get("columns") or {}
        self.env: dict[str, _V] = {}
        for name, spec in (doc.get("inputs") or {}).items():
            if isinstance(spec, Mapping):
                self.env[name] = _field_value(spec, self.tables, top=True)
        for r in doc.get("rules") or ():
            m = methods.get(str(r.get("method"))) if isinstance(r, Mapping) else None
            if m is not None:
                for out in m.output_names(r):
                    self.env[out] = _NUM
        self._derive = {n: (s.get("expr") if isinstance(s, Mapping) else s) for n, s in (doc.get("derive") or {}).items()}
        self._busy: set[str] = set()

    # -- names ------------------------------------------------------------------------------------
    def _name(self, name: str, scope: Mapping[str, _V]) -> _V:
        if name in scope:
            return scope[name]
        if name in ("RED", "ORANGE", "YELLOW", "BLUE"):
            return _V("num", domain=frozenset({int(Level[name])}))
        if name in self.env:
            return self.env[name]
        if name in self._derive and name not in self._busy:
            self._busy.add(name)
            try:
                v = self.value(self._derive[name])
            except MayFail:  # reported where it is defined (or, in the base, failing there too)
                v = _ERR
            finally:
                self._busy.discard(name)
            self.env[name] = attrs.evolve(v, domain=None) if v.domain is not None and len(v.domain) > 64 else v
            return self.env[name]
        return _ANY

    # -- entry points -----------------------------------------------------------------------------
    def check(self, text: Any) -> None:
        """Raise :class:`MayFail` unless ``text`` provably evaluates without an error."""
        self.value(text)

    def value(self, text: Any) -> _V:
        if isinstance(text, bool):
            return _BOOL
        if isinstance(text, (int, float)):
            return _V("num", domain=frozenset({text}))
        node = _parse(text)
        if node is None:
            raise MayFail("the expression cannot be parsed")
        return self._v(node, {}, 0)

    # -- nodes ------------------------------------------------------------------------------------
    def _v(self, node: ast.AST, scope: Mapping[str, _V], depth: int) -> _V:
        if depth > 60:
            raise MayFail("the expression nests too deep to be proven")
        v = functools.partial(self._v, scope=scope, depth=depth + 1)
        if isinstance(node, ast.Constant):
            if node.value is None:
                return _V("any", none=True, domain=frozenset({None}))
            return _V(_kind_of(node.value), domain=frozenset({node.value}))
        if isinstance(node, ast.Name):
            return self._name(node.id, scope)
        if isinstance(node, ast.Attribute):
            base = v(node.value)
            if base.kind == "rec" and base.fields is not None and isinstance(base.fields.get(node.attr), Mapping):
                return _field_value(base.fields[node.attr], self.tables, top=False)
            return _ANY
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            for e in node.elts:
                v(e)
            return _V("list", fields={"": {"type": "any"}}, domain=frozenset({len(node.elts)}))
        if isinstance(node, ast.BoolOp):
            vals = [v(x) for x in node.values]
            return _join(vals)
        if isinstance(node, ast.UnaryOp):
            x = v(node.operand)
            if isinstance(node.op, ast.Not):
                return _BOOL
            self._numeric(x, "unary minus")
            dom = frozenset(-a if isinstance(node.op, ast.USub) else a for a in x.domain) if x.domain else None
            return _V("num", domain=dom)
        if isinstance(node, ast.BinOp):
            return self._binop(node, v(node.left), v(node.right))
        if isinstance(node, ast.Compare):
            left = v(node.left)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = v(right_node)
                self._compare(op, left, right)
                left = right
            return _BOOL
        if isinstance(node, ast.IfExp):
            v(node.test)
            body = self._v(node.body, {**scope, **self._narrow(node.test, scope)}, depth + 1)
            return _join([body, v(node.orelse)])
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            gen = node.generators[0]
            it = v(gen.iter)
            if it.none:
                raise MayFail("a comprehension runs over a list input that may be missing")
            inner = dict(scope)
            if isinstance(gen.target, ast.Name):
                f = it.fields or {}
                inner[gen.target.id] = (_field_value(f[""], self.tables, top=False) if "" in f
                                        else _V("rec", fields=f))
            for c in gen.ifs:
                self._v(c, inner, depth + 1)
            self._v(node.elt, inner, depth + 1)
            return _V("list", fields={"": {"type": "any"}})
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._call(node, [v(a) for a in node.args])
        raise MayFail(f"{type(node).__name__} cannot be proven total")

    def _narrow(self, test: ast.AST, scope: Mapping[str, _V]) -> dict[str, _V]:
        """What the condition of ``a if test else b`` proves inside ``a``: ``y``, ``y != 0``, ``y > 0``
        prove ``y`` is not 0 (nor missing); ``y is not None`` proves it is not missing; ``and`` both."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            out: dict[str, _V] = {}
            for t in test.values:
                out.update(self._narrow(t, {**scope, **out}))
            return out
        if isinstance(test, ast.Name):
            return {test.id: attrs.evolve(self._name(test.id, scope), none=False, nz=True)}
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and \
                isinstance(test.comparators[0], ast.Constant):
            name, op, c = test.left.id, test.ops[0], test.comparators[0].value
            cur = self._name(name, scope)
            if isinstance(op, ast.IsNot) and c is None:
                return {name: attrs.evolve(cur, none=False)}
            if isinstance(c, (int, float)) and not isinstance(c, bool) and (
                    (isinstance(op, ast.NotEq) and c == 0) or (isinstance(op, ast.Gt) and c >= 0)
                    or (isinstance(op, ast.Lt) and c <= 0)):
                return {name: attrs.evolve(cur, none=False, nz=True)}
        return {}

    def _numeric(self, x: _V, what: str) -> None:
        if x.kind == "err":
            return
        if x.none:
            raise MayFail(f"{what} of a value that may be missing (an optional input without a default)",
                          "give the input a default")
        if x.kind not in ("num", "bool"):
            raise MayFail(f"{what} of a value that may not be a number ({x.kind})")

    def _binop(self, node: ast.BinOp, a: _V, b: _V) -> _V:
        op = type(node.op)
        if op is ast.Add and a.kind == b.kind == "str" and not (a.none or b.none):
            return _V("str")
        self._numeric(a, "arithmetic")
        self._numeric(b, "arithmetic")
        if op in (ast.Div, ast.FloorDiv, ast.Mod) and not b.nonzero:
            raise MayFail("the divisor may be 0", "divide by a value that cannot be 0 (an input with min > 0, "
                          "values without 0, a table column without 0), or guard it: x / y if y else 0")
        if op is ast.Pow:
            e = node.right.value if isinstance(node.right, ast.Constant) else None
            if not isinstance(e, (int, float)) or isinstance(e, bool):
                raise MayFail("the exponent must be a number literal")
            if (not float(e).is_integer() and not a.nonneg) or (e < 0 and not a.nonzero):
                raise MayFail(f"x ** {e} may not be a real number for every x",
                              "use an exponent that is a positive whole number, or a base that cannot be negative")
        dom = None
        if a.domain is not None and b.domain is not None and len(a.domain) * len(b.domain) <= 4096:
            fn: Callable[[Any, Any], Any] | None = _ARITH.get(op)
            try:
                dom = frozenset(fn(x, y) for x in a.domain for y in b.domain) if fn else None
            except (ArithmeticError, TypeError, ValueError):
                dom = None
        return _V("num", domain=dom)

    def _compare(self, op: ast.cmpop, a: _V, b: _V) -> None:
        if isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
            return
        if isinstance(op, (ast.In, ast.NotIn)):
            if b.none:
                raise MayFail("'in' a value that may be missing")
            if b.kind == "str" and a.kind != "str":
                raise MayFail("'in' a text with a value that may not be text")
            if b.kind not in ("list", "str"):
                raise MayFail(f"'in' a value that may not be a list ({b.kind})")
            return
        if "err" in (a.kind, b.kind):
            return
        if a.none or b.none:
            raise MayFail("an ordering comparison with a value that may be missing (an optional input without "
                          "a default)", "give the input a default")
        order = {"num": "num", "bool": "num", "str": "str", "date": "date"}
        if order.get(a.kind) is None or order.get(a.kind) != order.get(b.kind):
            raise MayFail(f"comparing {a.kind} with {b.kind} may fail")

    def _call(self, node: ast.Call, args: list[_V]) -> _V:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name == "require":
            raise MayFail("require() turns every record that breaks the condition into an error",
                          "write the condition as a rule's 'when:' (it then only raises a level)")
        if name == "lookup":
            return self._lookup(node, args)
        if name == "has":
            return _BOOL
        if name == "band":
            self._numeric(args[1], "band()")
            return _NUM
        if name in ("min", "max"):
            if len(args) == 1:
                if not (isinstance(node.args[0], (ast.Tuple, ast.List)) and node.args[0].elts):
                    raise MayFail(f"{name}() of a list that may be empty fails", f"write {name}(a, b, ...)")
                return _NUM
            for a in args:
                self._numeric(a, f"{name}()")
            doms = [a.domain for a in args if a.domain is not None]
            if len(doms) == len(args) and math.prod(len(d) for d in doms) <= 4096:
                f = min if name == "min" else max
                return _V("num", domain=frozenset(f(c) for c in itertools.product(*doms)))
            return _NUM
        if name in ("abs", "round", "floor", "ceil"):
            self._numeric(args[0], f"{name}()")
            return _NUM
        if name in ("sum",):
            return _NUM
        if name in ("any", "all", "count"):
            return _BOOL if name != "count" else _NUM
        if name == "len":
            if args[0].none or args[0].kind not in ("list", "str"):
                raise MayFail("len() of a value that may not be a list or text")
            return _NUM
        if name == "present":
            return _V("list", fields={"": {"type": "any"}})
        fn = self.functions.get(name)
        if fn is None:
            raise MayFail(f"function {name}() is unknown here")
        results = probe(getattr(fn, "impl", fn), [a.domain for a in args], f"function {name}")
        return _from_results(results)

    def _lookup(self, node: ast.Call, args: list[_V]) -> _V:
        a = node.args
        table = a[0].value if isinstance(a[0], ast.Constant) else None
        column = a[2].value if len(a) > 2 and isinstance(a[2], ast.Constant) else None
        table, column = str(table), str(column)
        index = self.tables.get(table) or {}
        key = args[1]
        keys = None if key.domain is None else set(key.domain)
        if len(a) < 4 and (keys is None or not keys <= set(index)):
            missing = "" if keys is None else f" ({', '.join(map(repr, sorted(keys - set(index), key=repr)[:3]))})"
            raise MayFail(f"lookup in table {table!r} of a key that may not be in it{missing}",
                          f"give a default: lookup({table!r}, key, {column!r}, default)")
        raw = self.columns.get(table, {}).get(column, "any")
        col_type = str(raw.get("type", "any") if isinstance(raw, Mapping) else raw)
        proven = keys is not None and keys <= set(index)
        vals = {index[k].get(column) for k in keys} if proven and keys is not None else \
            {r.get(column) for r in index.values()}
        finite = True
        if not proven and len(args) > 3:
            finite = args[3].domain is not None
            vals |= set(args[3].domain or ())
        domain = frozenset(vals) if finite and all(_hashable(x) for x in vals) and len(vals) <= 4096 else None
        none = None in vals
        return _V(_KINDS.get(col_type, "any"), none, domain)


_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _join(vals: Sequence[_V]) -> _V:
    kinds = {x.kind for x in vals}
    doms = [x.domain for x in vals]
    dom = frozenset().union(*doms) if all(d is not None for d in doms) else None  # type: ignore[arg-type]
    return _V(kinds.pop() if len(kinds) == 1 else "any", any(x.none for x in vals), dom)


def _from_results(results: set[Any] | None) -> _V:
    if results is None:
        return _ANY
    kinds = {_kind_of(r) for r in results}
    dom = frozenset(results) if all(_hashable(r) for r in results) and len(results) <= 4096 else None
    return _V(kinds.pop() if len(kinds) == 1 else "any", None in results, dom)


def probe(fn: Callable[..., Any], domains: Sequence[frozenset[Any] | None], what: str,
          keywords: Sequence[str] | None = None) -> set[Any]:
    """Call the pure ``fn`` on every combination of its arguments' values; the set of results.

    Raises :class:`MayFail` when an argument can take unboundedly many values, the combinations
    exceed :data:`PROBE_BUDGET`, or a call fails (naming the arguments it failed on).

    >>> sorted(probe(lambda a, b: a * b, [frozenset({1, 2}), frozenset({3})], "f"))
    [3, 6]
    """
    if any(d is None for d in domains):
        raise MayFail(f"{what} cannot be proven never to fail: an argument can take unboundedly many values",
                      "pass it values with a finite scale (an input with values:, a bounded integer, a table "
                      "value), or use it in a rule of the base ruleset")
    size = math.prod(len(d) for d in domains if d is not None)
    if size > PROBE_BUDGET:
        raise MayFail(f"{what} cannot be proven never to fail: {size} combinations of its arguments "
                      f"(at most {PROBE_BUDGET} are tried)")
    out: set[Any] = set()
    for combo in itertools.product(*(sorted(d, key=repr) for d in domains if d is not None)):
        try:
            r = fn(**dict(zip(keywords, combo, strict=True))) if keywords is not None else fn(*combo)
        except Exception as e:  # a plugin's failure, whatever it is, is the finding
            cause = e.__cause__ if e.__cause__ is not None else e
            shown = ", ".join(f"{k}={c!r}" for k, c in zip(keywords, combo, strict=True)) if keywords is not None \
                else ", ".join(map(repr, combo))
            raise MayFail(f"{what} fails for ({shown}): {type(cause).__name__}: {cause}") from None
        out.add(r if _hashable(r) else repr(r))
    return out
