"""The expression language: a safe subset of Python expressions.

Expressions in rulesets (``L * E * C``, ``sum(s.quantity_t / Q(s) for s in substances)``)
are parsed with :mod:`ast`, checked node by node against an allow-list, and
translated to Python source that the ruleset compiler places in one generated
function. Raw text is never passed to ``eval``; only source we generated from an
accepted tree is compiled.

Allowed: numbers, strings, ``True``/``False``/``None``, level names (``RED`` ...),
names of inputs and derived values, arithmetic ``+ - * / // % **`` (exponent a
literal, at most 8), comparisons (chained), ``and or not``, ``in``/``not in``,
``a if c else b``, tuple/list/set literals, field access ``rec.field`` on a record
bound by a comprehension over a list input, one-``for`` generator expressions
with optional ``if`` filters, and calls to registered functions.

Rejected with a located :class:`~riskgrade.exceptions.Problem`: attribute access
on anything but a record variable, subscripts, lambdas, dunder names, keyword
arguments, starred arguments, walrus, f-strings, unknown names and functions.

>>> c = Compiler(names={"L", "E", "C"})
>>> code = c.compile("L * E * C")
>>> code.source
'((v_L * v_E) * v_C)'
>>> sorted(code.names)
['C', 'E', 'L']
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from riskgrade._core.levels import Level

__all__ = ["Compiled", "Compiler", "ExprError", "Function", "builtin_functions"]

MAX_SOURCE = 2000
MAX_DEPTH = 40
MAX_EXPONENT = 8


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


def _count(*args: Any) -> int:
    return sum(1 for a in args if a)


def _require(cond: Any, message: str) -> bool:
    if not cond:
        from riskgrade.exceptions import FactError

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


def builtin_functions() -> dict[str, Function]:
    """The functions every ruleset may call."""
    return {
        "min": Function("min", min, (1, None), "smallest of the arguments (or of one iterable)"),
        "max": Function("max", max, (1, None), "largest of the arguments (or of one iterable)"),
        "sum": Function("sum", sum, (1, 1), "sum of an iterable", _check_iterable_arg("sum")),
        "any": Function("any", any, (1, 1), "true if any item is true", _check_iterable_arg("any")),
        "all": Function("all", all, (1, 1), "true if every item is true", _check_iterable_arg("all")),
        "len": Function("len", len, (1, 1), "number of items"),
        "abs": Function("abs", abs, (1, 1), "absolute value"),
        "round": Function("round", round, (1, 2), "round half to even, optionally to n digits"),
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
                 tables: Mapping[str, Iterable[str]] | None = None) -> None:
        self.names = set(names)
        self.records = {k: frozenset(v) for k, v in (records or {}).items()}
        self.functions = dict(builtin_functions())
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
        src = str(text)
        if len(src) > MAX_SOURCE:
            raise ExprError("expr-too-long", f"expression is longer than {MAX_SOURCE} characters")
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
        return Compiled(src, out, frozenset(state.used), frozenset(state.calls))

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
                if isinstance(val, bool) or not isinstance(val, (int, float)) or abs(val) > MAX_EXPONENT:
                    raise self._err(node, "expr-exponent",
                                    f"the exponent must be a number literal of at most {MAX_EXPONENT}")
            if op in ("*", "**", "%") and any(
                    (isinstance(x, ast.Constant) and isinstance(x.value, str))
                    or isinstance(x, (ast.Tuple, ast.List, ast.ListComp, ast.Set, ast.JoinedStr))
                    for x in (node.left, node.right)):
                raise self._err(node, "expr-operator", f"operator {op} is not allowed on text or lists")
            if op == "**" and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)
                                  for n in ast.walk(node.left)):
                raise self._err(node, "expr-exponent", "powers of powers are not allowed")
            return f"({self._node(node.left, st, d)} {op} {self._node(node.right, st, d)})"
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
        known = {
            "Lambda": ("expr-lambda", "lambdas are not allowed"),
            "Subscript": ("expr-subscript", "subscripts are not allowed; use lookup(table, key, column)"),
            "NamedExpr": ("expr-walrus", "assignment expressions are not allowed"),
            "JoinedStr": ("expr-fstring", "f-strings are not allowed"),
            "Dict": ("expr-dict", "dict literals are not allowed"),
            "DictComp": ("expr-comprehension", "dict comprehensions are not allowed"),
            "SetComp": ("expr-comprehension", "set comprehensions are not allowed"),
            "Await": ("expr-await", "await is not allowed"),
            "Yield": ("expr-yield", "yield is not allowed"),
            "YieldFrom": ("expr-yield", "yield is not allowed"),
        }
        code, msg = known.get(kind, ("expr-construct", f"{kind} is not allowed in expressions"))
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


def _suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
