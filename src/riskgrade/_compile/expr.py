"""The expression language: a safe subset of Python expressions.

Expressions in rulesets (``L * E * C``, ``sum(s.quantity_t / Q(s) for s in substances)``)
are parsed with :mod:`ast`, checked node by node against an allow-list, and
translated to Python source that the ruleset compiler places in one generated
function. Raw text is never passed to ``eval``; only source we generated from an
accepted tree is compiled.

Allowed: numbers, strings, ``True``/``False``/``None``, level names (``RED`` ...),
names of inputs and derived values, arithmetic ``+ - * / // % **`` (exponent a
literal, at most ``Limits.max_exponent``), comparisons (chained), ``and or not``, ``in``/``not in``,
``a if c else b``, tuple/list/set literals, field access ``rec.field`` on a record
bound by a comprehension over a list input, one-``for`` generator expressions
with optional ``if`` filters, and calls to registered functions.

Rejected with a located :class:`~riskgrade.exceptions.Problem`: attribute access
on anything but a record variable, subscripts, lambdas, dunder names, keyword
arguments, starred arguments, walrus, f-strings, unknown names and functions.

>>> c = Compiler(names={"L", "E", "C"}, bounds={"L": 10, "E": 10, "C": 100})
>>> code = c.compile("L * E * C")
>>> code.source
'((v_L * v_E) * v_C)'
>>> sorted(code.names)
['C', 'E', 'L']

Work stays bounded (:class:`~riskgrade._core.limits.Limits`): where the compiler cannot prove from
the inputs' scales and ranges that ``*``, ``+``, ``%`` or ``**`` yields a number of bounded size, it
emits a guarded call instead, which refuses (``too-large``) to build a text or list longer than
``max_length`` or an integer of more than ``max_int_digits`` digits, and gives ``not-real`` for a
complex power:

>>> c = Compiler(names={"t", "n"}, bounds={"n": 10})
>>> c.compile("n * 2").source, c.compile("t * 2").source
('(v_n * 2)', '_mul(v_t, 2)')
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from riskgrade._core.levels import Level
from riskgrade._core.limits import Limits, get_limits, short_repr
from riskgrade.exceptions import FactError

__all__ = ["Compiled", "Compiler", "ExprError", "Function", "builtin_functions", "guards"]

MAX_DEPTH = 40


class ExprError(Exception):
    """A rejected expression: ``code``, message and 0-based offset into the source (line, col)."""

    def __init__(self, code: str, message: str, line: int = 1, col: int = 0) -> None:
        self.code = code
        self.message = message
        self.line = line
        self.col = col
        super().__init__(f"{code}: {message}")


@attrs.frozen
class Function:
    """A function callable from expressions.

    ``impl`` must be pure: same arguments, same result, no side effects, no clock, no
    randomness -- results must stay reproducible. ``arity`` is ``(min, max)``, max None
    for variadic. ``static`` optionally checks the literal arguments at compile time
    and returns an error message or None. ``emit`` optionally generates inline code.
    """

    name: str
    impl: Callable[..., Any]
    arity: tuple[int, int | None]
    doc: str = ""
    static: Callable[[list[ast.expr], Compiler], str | None] | None = None
    emit: Callable[[list[str], list[ast.expr], Compiler], str] | None = None


@attrs.frozen
class Compiled:
    """An accepted expression: Python ``source`` (names prefixed ``v_``), the input and
    derived ``names`` it reads, the functions it calls, and the original ``text``."""

    text: str
    source: str
    names: frozenset[str]
    functions: frozenset[str]
    #: a bound on the magnitude of the value when it is certainly a number (None: it may not be)
    bound: float | None = None


def _count(*args: Any) -> int:
    return sum(1 for a in args if a)


def _require(cond: Any, message: str) -> bool:
    if not cond:
        raise FactError(str(message), code="requirement-failed")
    return True


def _present(*args: Any) -> list[Any]:
    return [a for a in args if a is not None]


def _check_iterable_arg(fn: str) -> Callable[[list[ast.expr], Compiler], str | None]:
    def check(args: list[ast.expr], comp: Compiler) -> str | None:
        if len(args) == 1 and isinstance(args[0], ast.Constant):
            return f"{fn}() of a single constant makes no sense"
        return None

    return check


def _too_large(message: str, value: Any = None) -> Exception:
    return FactError(message, code="too-large", value=value)


def _round_within(limit: int) -> Callable[..., Any]:
    def round_(x: Any, *n: Any) -> Any:
        if n and isinstance(n[0], int) and not -limit <= n[0] <= limit:
            raise _too_large(f"round(x, n) takes |n| <= {limit} (Limits.max_round_digits), got "
                             f"{short_repr(n[0])}", n[0])
        return round(x, *n)

    round_.__name__ = "round"
    return round_


def guards(limits: Limits) -> dict[str, Callable[..., Any]]:
    """The guarded operators the generated code calls where the compiler cannot prove an operation
    small: ``_mul``, ``_add``, ``_mod``, ``_pow`` (see the module docstring).

    >>> g = guards(Limits(max_length=10))
    >>> g["_mul"]("ab", 3)
    'ababab'
    >>> g["_mul"]("ab", 10 ** 8)
    Traceback (most recent call last):
    ...
    riskgrade.exceptions.FactError: too-large: the result would have 200000000 items or characters (Limits.max_length is 10)
    """
    max_len = limits.max_length
    max_bits = limits.max_int_bits
    max_int = limits.max_int
    seqs = (str, list, tuple)

    def too_long(n: int) -> Exception:
        return _too_large(f"the result would have {n} items or characters (Limits.max_length is {max_len})")

    def too_big() -> Exception:
        return _too_large(f"the result would have more than {limits.max_int_digits} digits "
                          "(Limits.max_int_digits)")

    def mul(a: Any, b: Any) -> Any:
        ca, cb = a.__class__, b.__class__
        if ca is float or cb is float:
            return a * b
        if isinstance(a, seqs) or isinstance(b, seqs):
            seq, n = (a, b) if isinstance(a, seqs) else (b, a)
            if isinstance(n, int) and n > 0 and len(seq) * n > max_len:
                raise too_long(len(seq) * n)
            return a * b
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > max_bits:
                raise too_big()
            r = a * b
            if not -max_int <= r <= max_int:
                raise too_big()
            return r
        return a * b

    def add(a: Any, b: Any) -> Any:
        if isinstance(a, seqs) and isinstance(b, seqs) and len(a) + len(b) > max_len:
            raise too_long(len(a) + len(b))
        return a + b

    def mod(a: Any, b: Any) -> Any:
        if isinstance(a, (str, bytes)):
            raise FactError(f"% takes numbers, not text ({short_repr(a)})", code="wrong-type")
        return a % b

    def pow_(a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > max_bits + b:
            raise too_big()
        try:
            r = a**b
        except OverflowError:
            raise FactError(f"{short_repr(a)} ** {short_repr(b)} is too large for a number", code="not-finite") from None
        if r.__class__ is complex:
            raise FactError(f"{short_repr(a)} ** {short_repr(b)} is not a real number", code="not-real")
        if r.__class__ is int and not -max_int <= r <= max_int:
            raise too_big()
        return r

    return {"_mul": mul, "_add": add, "_mod": mod, "_pow": pow_}


def builtin_functions(limits: Limits | None = None) -> dict[str, Function]:
    """The functions every ruleset may call (``round`` within ``limits.max_round_digits``)."""
    lim = limits or get_limits()
    return {
        "min": Function("min", min, (1, None), "smallest of the arguments (or of one iterable)"),
        "max": Function("max", max, (1, None), "largest of the arguments (or of one iterable)"),
        "sum": Function("sum", sum, (1, 1), "sum of an iterable", _check_iterable_arg("sum")),
        "any": Function("any", any, (1, 1), "true if any item is true", _check_iterable_arg("any")),
        "all": Function("all", all, (1, 1), "true if every item is true", _check_iterable_arg("all")),
        "len": Function("len", len, (1, 1), "number of items"),
        "abs": Function("abs", abs, (1, 1), "absolute value"),
        "round": Function("round", _round_within(lim.max_round_digits), (1, 2),
                          "round half to even, optionally to n digits"),
        "count": Function("count", _count, (1, None), "how many of the arguments are true"),
        "floor": Function("floor", math.floor, (1, 1), "largest integer not above x"),
        "require": Function("require", _require, (2, 2),
                            "require(condition, message): true, or a FactError 'requirement-failed' with message"),
        "present": Function("present", _present, (1, None), "the arguments that are not null, as a list"),
        "ceil": Function("ceil", math.ceil, (1, 1), "smallest integer not below x"),
    }


_LEVEL_NAMES = {lv.name: lv for lv in Level}

_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}


class Compiler:
    """Compiles expressions against a set of known names.

    ``names``: input and derived value names; ``records``: list inputs mapped to the
    set of their field names; ``functions``: callable functions (builtins plus any
    registered by the ruleset's tables or plugins); ``tables``: table name ->
    column names, for ``lookup``.
    """

    def __init__(self, names: Iterable[str] = (), *, records: Mapping[str, Iterable[str]] | None = None,
                 functions: Mapping[str, Function] | None = None,
                 tables: Mapping[str, Iterable[str]] | None = None,
                 bounds: Mapping[str, float] | None = None, limits: Limits | None = None) -> None:
        self.names = set(names)
        self.records = {k: frozenset(v) for k, v in (records or {}).items()}
        self.limits = limits or get_limits()
        #: input name -> a bound on its magnitude (inf: a number of any size); absent: maybe not a number
        self.bounds = dict(bounds or {})
        self.functions = dict(builtin_functions(self.limits))
        if functions:
            self.functions.update(functions)
        self.tables = {k: frozenset(v) for k, v in (tables or {}).items()}
        #: constants the generated code refers to (name -> object), shared across expressions
        self.constants: dict[str, Any] = {}
        self._const_ids: dict[Any, str] = {}

    # -- public -----------------------------------------------------------------------------
    def compile(self, text: Any, *, extra_names: Iterable[str] = ()) -> Compiled:
        """Check and translate ``text``; raises :class:`ExprError` on the first problem."""
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise ExprError("expr-type", f"an expression must be text or a number, not {type(text).__name__}")
        src = str(text) if not isinstance(text, int) or text.bit_length() < 3000 else "<a huge integer>"
        if len(src) > self.limits.max_expression:
            raise ExprError("expr-too-long", f"expression is longer than {self.limits.max_expression} characters "
                            "(Limits.max_expression)")
        if not src.strip():
            raise ExprError("expr-empty", "expression is empty")
        try:
            # parenthesised, so that an expression may span lines the way YAML authors write them
            tree = ast.parse("(" + src.strip() + "\n)", mode="eval")
        except SyntaxError as exc:
            col = (exc.offset or 2) - 2 if (exc.lineno or 1) == 1 else (exc.offset or 1) - 1
            raise ExprError("expr-syntax", f"syntax error: {exc.msg}", exc.lineno or 1, max(col, 0)) from None
        except (ValueError, RecursionError, MemoryError):
            raise ExprError("expr-syntax", "expression cannot be parsed") from None
        state = _State(set(extra_names))
        out = self._node(tree.body, state, 0)
        if isinstance(tree.body, ast.GeneratorExp):
            # a value must be reusable and serialisable: a bare generator becomes a list
            out = "[" + out[1:-1] + "]"
        return Compiled(src, out, frozenset(state.used), frozenset(state.calls), self._bound(tree.body, state))

    def product(self, parts: list[tuple[str, float | None]]) -> str:
        """The source of the product of compiled ``(source, bound)`` parts (a method's L × E × C):
        plain where the bounds prove it small, guarded otherwise."""
        src, bound = parts[0]
        for s, b in parts[1:]:
            nb = None if bound is None or b is None else _times(bound, b)
            src = f"({src} * {s})" if nb is not None and nb <= self.limits.max_int else f"_mul({src}, {s})"
            bound = nb
        return src

    # -- bounds: what the compiler can prove about the size of a value --------------------------
    def _bound(self, node: ast.AST, st: _State) -> float | None:
        """A bound on ``|value|`` when ``node`` certainly yields a number (inf: of unknown size);
        None when it may yield text, a list, or anything else."""
        key = id(node)
        if key in st.bounds:
            return st.bounds[key]
        b = self._bound_of(node, st)
        st.bounds[key] = b
        return b

    def _bound_of(self, node: ast.AST, st: _State) -> float | None:
        if isinstance(node, ast.Constant):
            v = node.value
            return float(abs(v)) if isinstance(v, (int, float)) and abs(v) < 1e300 else None
        if isinstance(node, ast.Name):
            if node.id in st.locals or node.id in st.extra:
                return None
            return self.bounds.get(node.id)
        if isinstance(node, ast.UnaryOp):
            return 1.0 if isinstance(node.op, ast.Not) else self._bound(node.operand, st)
        if isinstance(node, ast.Compare):
            return 1.0
        if isinstance(node, (ast.BoolOp, ast.IfExp)):
            parts = node.values if isinstance(node, ast.BoolOp) else [node.body, node.orelse]
            bs = [self._bound(p, st) for p in parts]
            return None if any(b is None for b in bs) else max(b for b in bs if b is not None)
        if isinstance(node, ast.BinOp):
            a, b = self._bound(node.left, st), self._bound(node.right, st)
            if a is None or b is None:
                return None
            if isinstance(node.op, (ast.Add, ast.Sub)):
                return a + b
            if isinstance(node.op, ast.Mult):
                return _times(a, b)
            if isinstance(node.op, ast.Mod):
                return b
            if isinstance(node.op, ast.Pow):
                r = node.right
                e = r.value if isinstance(r, ast.Constant) else None
                if isinstance(e, int) and not isinstance(e, bool) and e >= 0:
                    return math.inf if a > 1e300 else (a ** e if a < 1e30 else math.inf)
                return None
            return math.inf  # / and // of numbers: numbers, of any size
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            arg = self._bound(node.args[0], st) if node.args else None
            name = node.func.id
            if name in ("round", "floor", "ceil") and arg is not None:
                return arg + 1
            if name == "abs":
                return arg
            if name in ("len", "count", "sum"):
                return math.inf
        return None

    def _binop(self, node: ast.BinOp, op: str, left: str, right: str, st: _State) -> str:
        """Plain Python where the operand bounds prove the result small; a guarded call otherwise."""
        lb, rb = self._bound(node.left, st), self._bound(node.right, st)
        if op == "*":
            nb = None if lb is None or rb is None else _times(lb, rb)
            return f"({left} * {right})" if nb is not None and nb <= self.limits.max_int else f"_mul({left}, {right})"
        if op == "+":
            return f"({left} + {right})" if lb is not None and rb is not None else f"_add({left}, {right})"
        if op == "%":
            return f"({left} % {right})" if lb is not None else f"_mod({left}, {right})"
        if op == "**":
            nb = self._bound(node, st)
            return f"({left} ** {right})" if nb is not None and nb <= self.limits.max_int else f"_pow({left}, {right})"
        return f"({left} {op} {right})"

    def const(self, value: Any) -> str:
        """The name under which ``value`` is available to generated code."""
        key = (type(value).__name__, repr(value)) if isinstance(value, (int, float, str, frozenset)) else id(value)
        name = self._const_ids.get(key)
        if name is None:
            name = f"k_{len(self._const_ids)}"
            self._const_ids[key] = name
            self.constants[name] = value
        return name

    def namespace(self) -> dict[str, Any]:
        """Globals for the generated code: functions (``f_<name>``) and constants."""
        ns: dict[str, Any] = {f"f_{n}": f.impl for n, f in self.functions.items()}
        ns.update(self.constants)
        ns.update(guards(self.limits))
        ns["Level"] = Level
        return ns

    # -- translation ------------------------------------------------------------------------
    def _err(self, node: ast.AST, code: str, msg: str) -> ExprError:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        return ExprError(code, msg, line, max(col - 1, 0) if line == 1 else col)

    def _node(self, node: ast.AST, st: _State, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise self._err(node, "expr-too-deep", f"expression nests deeper than {MAX_DEPTH}")
        d = depth + 1
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None or isinstance(v, (int, float, str)):
                if isinstance(v, float) and not math.isfinite(v):
                    raise self._err(node, "expr-number", "numbers must be finite")
                return repr(v)
            raise self._err(node, "expr-constant", f"constants of type {type(v).__name__} are not allowed")
        if isinstance(node, ast.Name):
            return self._name(node, st)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise self._err(node, "expr-operator", f"operator {type(node.op).__name__} is not allowed")
            if op == "**":
                r = node.right
                val = r.value if isinstance(r, ast.Constant) else None
                if (isinstance(r, ast.UnaryOp) and isinstance(r.op, ast.USub)
                        and isinstance(r.operand, ast.Constant)):
                    val = r.operand.value
                if (isinstance(val, bool) or not isinstance(val, (int, float))
                        or not abs(val) <= self.limits.max_exponent):
                    raise self._err(node, "expr-exponent", "the exponent must be a number literal of at most "
                                    f"{self.limits.max_exponent} (Limits.max_exponent)")
            if op in ("*", "**", "%") and any(
                    (isinstance(x, ast.Constant) and isinstance(x.value, str))
                    or isinstance(x, (ast.Tuple, ast.List, ast.ListComp, ast.Set, ast.JoinedStr))
                    for x in (node.left, node.right)):
                raise self._err(node, "expr-operator", f"operator {op} is not allowed on text or lists")
            if op == "**" and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)
                                  for n in ast.walk(node.left)):
                raise self._err(node, "expr-exponent", "powers of powers are not allowed")
            return self._binop(node, op, self._node(node.left, st, d), self._node(node.right, st, d), st)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return f"(not {self._node(node.operand, st, d)})"
            if isinstance(node.op, ast.USub):
                return f"(-{self._node(node.operand, st, d)})"
            if isinstance(node.op, ast.UAdd):
                return f"(+{self._node(node.operand, st, d)})"
            raise self._err(node, "expr-operator", "operator ~ is not allowed")
        if isinstance(node, ast.BoolOp):
            op = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + op.join(self._node(v, st, d) for v in node.values) + ")"
        if isinstance(node, ast.Compare):
            parts = [self._node(node.left, st, d)]
            for op_node, right in zip(node.ops, node.comparators, strict=True):
                op = _CMPOPS.get(type(op_node))
                if op is None:
                    raise self._err(node, "expr-operator", f"comparison {type(op_node).__name__} is not allowed")
                if op in ("is", "is not") and not (isinstance(right, ast.Constant) and right.value is None):
                    raise self._err(node, "expr-operator", "'is' and 'is not' compare with None only")
                if op in ("in", "not in") and isinstance(right, (ast.List, ast.Tuple, ast.Set)) and all(
                        isinstance(e, ast.Constant) for e in right.elts):
                    parts.append(f"{op} {self.const(frozenset(e.value for e in right.elts if isinstance(e, ast.Constant)))}")
                else:
                    parts.append(f"{op} {self._node(right, st, d)}")
            return "(" + " ".join(parts) + ")"
        if isinstance(node, ast.IfExp):
            return (f"({self._node(node.body, st, d)} if {self._node(node.test, st, d)} "
                    f"else {self._node(node.orelse, st, d)})")
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = [self._node(e, st, d) for e in node.elts]
            if any(isinstance(e, ast.Starred) for e in node.elts):
                raise self._err(node, "expr-starred", "starred items are not allowed")
            return "(" + "".join(i + ", " for i in items) + ")"
        if isinstance(node, ast.Attribute):
            return self._attribute(node, st)
        if isinstance(node, ast.Call):
            return self._call(node, st, d)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            return self._comprehension(node, st, d)
        if isinstance(node, ast.Starred):
            raise self._err(node, "expr-starred", "starred items are not allowed")
        kind = type(node).__name__
        # each a {"code": ..., "message": ...} literal, so that the codes are seen by tests/_codescan.py
        known = {
            "Lambda": {"code": "expr-lambda", "message": "lambdas are not allowed"},
            "Subscript": {"code": "expr-subscript", "message": "subscripts are not allowed; use lookup(table, key, column)"},
            "NamedExpr": {"code": "expr-walrus", "message": "assignment expressions are not allowed"},
            "JoinedStr": {"code": "expr-fstring", "message": "f-strings are not allowed"},
            "Dict": {"code": "expr-dict", "message": "dict literals are not allowed"},
            "DictComp": {"code": "expr-comprehension", "message": "dict comprehensions are not allowed"},
            "SetComp": {"code": "expr-comprehension", "message": "set comprehensions are not allowed"},
            "Await": {"code": "expr-await", "message": "await is not allowed"},
            "Yield": {"code": "expr-yield", "message": "yield is not allowed"},
            "YieldFrom": {"code": "expr-yield", "message": "yield is not allowed"},
        }
        other = {"code": "expr-construct", "message": f"{kind} is not allowed in expressions"}
        got = known.get(kind, other)
        code, msg = got["code"], got["message"]
        raise self._err(node, code, msg)

    def _name(self, node: ast.Name, st: _State) -> str:
        n = node.id
        if n.startswith("_"):
            raise self._err(node, "expr-dunder", f"names starting with '_' are not allowed: {n}")
        if n in st.locals:
            return f"c_{n}"
        if n in self.names or n in st.extra:
            st.used.add(n)
            return f"v_{n}"
        if n in _LEVEL_NAMES:
            return f"Level.{n}"
        if n in self.functions:
            raise self._err(node, "expr-function-value", f"function {n} must be called, e.g. {n}(...)")
        raise self._err(node, "unknown-name", f"unknown name {n!r}" + _suggest(n, self.names | st.extra))

    def _attribute(self, node: ast.Attribute, st: _State) -> str:
        if node.attr.startswith("_"):
            raise self._err(node, "expr-dunder", f"attribute {node.attr!r} is not allowed")
        base = node.value
        if not (isinstance(base, ast.Name) and base.id in st.locals):
            raise self._err(node, "expr-attribute",
                            "attribute access is allowed only on a record variable of a comprehension "
                            "(e.g. s.quantity_t for s in substances)")
        fields = st.locals[base.id]
        if node.attr not in fields:
            raise self._err(node, "unknown-field", f"record {base.id!r} has no field {node.attr!r}"
                            + _suggest(node.attr, set(fields)))
        return f"c_{base.id}[{node.attr!r}]"

    def _call(self, node: ast.Call, st: _State, d: int) -> str:
        if not isinstance(node.func, ast.Name):
            raise self._err(node, "expr-call", "only registered functions can be called, by name")
        name = node.func.id
        if name.startswith("_"):
            raise self._err(node, "expr-dunder", f"names starting with '_' are not allowed: {name}")
        fn = self.functions.get(name)
        if fn is None:
            raise self._err(node, "unknown-function", f"unknown function {name!r}" + _suggest(name, set(self.functions)))
        if node.keywords:
            raise self._err(node, "expr-keyword", "keyword arguments are not allowed")
        lo, hi = fn.arity
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            raise self._err(node, "expr-arity", f"{name}() takes {want} arguments, got {n}")
        if fn.static is not None:
            msg = fn.static(list(node.args), self)
            if msg:
                raise self._err(node, "expr-argument", msg)
        st.calls.add(name)
        args = [self._node(a, st, d) for a in node.args]
        if fn.emit is not None:
            return fn.emit(args, list(node.args), self)
        return f"f_{name}({', '.join(args)})"

    def _comprehension(self, node: ast.GeneratorExp | ast.ListComp, st: _State, d: int) -> str:
        if len(node.generators) != 1:
            raise self._err(node, "expr-comprehension", "a comprehension may have one 'for' only")
        gen = node.generators[0]
        if gen.is_async:
            raise self._err(node, "expr-comprehension", "async comprehensions are not allowed")
        if not isinstance(gen.target, ast.Name):
            raise self._err(gen.target, "expr-comprehension", "the loop variable must be a single name")
        var = gen.target.id
        if var.startswith("_"):
            raise self._err(gen.target, "expr-dunder", f"names starting with '_' are not allowed: {var}")
        if var in st.locals or var in self.names:
            raise self._err(gen.target, "expr-shadow", f"loop variable {var!r} hides another name")
        it = gen.iter
        fields: frozenset[str] = frozenset()
        if isinstance(it, ast.Name) and it.id in self.records:
            fields = self.records[it.id]
        it_src = self._node(it, st, d)
        st.locals[var] = fields
        try:
            conds = [self._node(c, st, d) for c in gen.ifs]
            elt = self._node(node.elt, st, d)
        finally:
            del st.locals[var]
        cond = "".join(f" if {c}" for c in conds)
        body = f"{elt} for c_{var} in {it_src}{cond}"
        return f"[{body}]" if isinstance(node, ast.ListComp) else f"({body})"


@attrs.define
class _State:
    extra: set[str]
    used: set[str] = attrs.field(factory=set)
    calls: set[str] = attrs.field(factory=set)
    locals: dict[str, frozenset[str]] = attrs.field(factory=dict)
    bounds: dict[int, float | None] = attrs.field(factory=dict)


def _times(a: float, b: float) -> float:
    if a == 0 or b == 0:
        return 0.0
    return a * b if a < 1e150 and b < 1e150 else math.inf


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
