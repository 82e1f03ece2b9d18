"""The extension protocol: what a grading method or an expression function declares.

A **method** (``method:`` of a rule) is *declared*: the schema of its rule keys, which keys
hold expressions and which way each acts on the level, the values it outputs, whether its
score is graded by ``bands:``, and a pure ``compute`` that turns the evaluated expressions
into a score (or, without bands, into "fires / does not fire"). The compiler compiles the
expressions, calls ``compute`` from the generated grading function, grades the score with the
rule's bands and explains it from the declaration; layers, the stricter-only check and
explanations read the same declaration. A plugin never writes Python source.

>>> mes = Method("mes", schema={"M": EXPR, "E": EXPR, "S": EXPR, "bands": BANDS, "as": NAME},
...              expressions={"M": 1, "E": 1, "S": 1}, outputs={"as": "R"}, banded=True,
...              compute=lambda M, E, S: M * E * S, operator="×", doc="R = M × E × S")
>>> mes.expression_keys({"M": "M", "E": "E", "S": "S"})
[('M', 'M', 1), ('E', 'E', 1), ('S', 'S', 1)]
>>> mes.output_names({"as": "R"})
['R']

A **function** (:class:`Function`) is a pure callable usable in expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from riskgrade._compile.expr import Compiled, Compiler, ExprError, Function
from riskgrade._compile.tables import Bands, Matrix
from riskgrade._source.yaml import Located
from riskgrade.exceptions import Problem

__all__ = ["BANDS", "EXPR", "LEVEL", "NAME", "CompileContext", "Function", "Method"]

#: schema snippets for a method's rule keys: an expression, a level, a value name, a bands name
EXPR: Mapping[str, Any] = {"type": ["string", "number"], "required": True}
LEVEL: Mapping[str, Any] = {"type": "string", "required": True, "allowed": ["RED", "ORANGE", "YELLOW", "BLUE"]}
NAME: Mapping[str, Any] = {"type": "string", "regex": r"^[A-Za-z][A-Za-z0-9_]*$"}
BANDS: Mapping[str, Any] = {"type": "string", "required": True}

#: emit(rule, index, ctx) -> (code lines, output names): the built-in methods' inlined fast path
Emit = Callable[[Mapping[str, Any], int, "CompileContext"], tuple[list[str], list[str]]]
Explain = Callable[[Mapping[str, Any], Any, Mapping[str, Any], str], str]


@attrs.frozen
class Method:
    """A grading method, declared.

    :param name: the ``method:`` value.
    :param schema: cerberus schema of the rule keys besides the common ones (``id``, ``method``,
        ``label``, ``cite``, ``note``, ``unverified``).
    :param expressions: rule keys that hold an expression, each with its direction: ``1`` when a
        larger value never lowers the level, ``-1`` when it never raises it, ``0`` unknown (the
        stricter-only check then needs the differential check).
    :param list_expressions: rule keys that hold a list of expressions (e.g. ``S_dimensions``).
    :param defaults: the expression text used when the rule omits an expression key (``L`` for ``L``).
    :param outputs: rule key naming an output value → the default name (``{"as": "D"}``); an empty
        default means "no output unless the rule names one"; ``(default, key)`` means "only when the
        rule has ``key``" (``{"S_as": ("S", "S_dimensions")}``). The score is the ``as`` output.
    :param banded: the score is graded by the rule's ``bands:`` (which must give levels).
    :param compute: called with the evaluated expressions as keyword arguments (keys as declared),
        returns the score (banded) or a truth value (the rule fires at its ``level:``). Must be pure.
    :param operator: how the expressions combine in an explanation (``×`` gives ``D = L × E × C``).
    :param total: the method gives a level for every valid input (so a ruleset needs no ``otherwise``);
        always true for a banded method.
    :param explain: ``explain(rule, detail, values, lang)`` for a custom explanation line.
    :param emit: built-in methods only: emits inline code instead of calling ``compute``.
    :param doc: one line for ``riskgrade plugins`` and the docs.
    """

    name: str
    schema: Mapping[str, Any]
    expressions: Mapping[str, int] = attrs.field(factory=dict)
    list_expressions: Mapping[str, int] = attrs.field(factory=dict)
    defaults: Mapping[str, str] = attrs.field(factory=dict)
    outputs: Mapping[str, str | tuple[str, str]] = attrs.field(factory=dict)
    banded: bool = False
    compute: Callable[..., Any] | None = None
    operator: str = ""
    total: bool = False
    explain: Explain | None = None
    emit: Emit | None = None
    doc: str = ""

    def __attrs_post_init__(self) -> None:
        if self.emit is None and self.compute is None:
            raise TypeError(f"method {self.name!r} needs a compute function")
        if self.banded and not self.total:  # bands are proven complete: every score gets a level
            object.__setattr__(self, "total", True)

    def expression_keys(self, rule: Mapping[str, Any]) -> list[tuple[str, Any, int]]:
        """``(key, expression text, direction)`` for every single expression of ``rule``."""
        out = []
        for k, sign in self.expressions.items():
            text = rule.get(k, self.defaults.get(k))
            if text is not None:
                out.append((k, text, sign))
        return out

    def all_expressions(self, rule: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], Any, int]]:
        """``(path in the rule, text, direction)`` for every expression, list items included."""
        out: list[tuple[tuple[Any, ...], Any, int]] = [((k,), text, s) for k, text, s in self.expression_keys(rule)]
        for k, sign in self.list_expressions.items():
            for j, text in enumerate(rule.get(k) or ()):
                out.append(((k, j), text, sign))
        return out

    def output_names(self, rule: Mapping[str, Any]) -> list[str]:
        """The names of the values ``rule`` outputs."""
        out = []
        for k, d in self.outputs.items():
            default, needs = (d, None) if isinstance(d, str) else d
            if rule.get(k):
                out.append(str(rule[k]))
            elif default and (needs is None or needs in rule):
                out.append(default)
        return out

    def score_name(self, rule: Mapping[str, Any]) -> str | None:
        """The value the rule's score is stored under (its ``as`` output), or None."""
        d = self.outputs.get("as")
        default = d if isinstance(d, str) or d is None else d[0]
        return str(rule.get("as") or default) if self.banded and (rule.get("as") or default) else None


class CompileContext:
    """What a method or section compiler may use while a ruleset compiles."""

    def __init__(self, located: Located, doc: dict[str, Any], compiler: Compiler,
                 methods: Mapping[str, Method]) -> None:
        self.located = located
        self.doc = doc
        self.compiler = compiler
        self.methods = methods
        self.problems: list[Problem] = []
        self.bands: dict[str, Bands] = {}
        self.matrices: dict[str, Matrix] = {}
        self.outputs: dict[str, tuple[Any, ...]] = {}
        self._rule_pos: dict[int, int] = {}
        self.broken_bands: set[str] = set()

    def problem(self, path: tuple[Any, ...], code: str, message: str, *, key: bool = False) -> None:
        self.problems.append(self.located.problem(path, code, message, key=key))

    def rule_pos(self, i: int) -> int:
        return self._rule_pos.get(i, i)

    def expr(self, text: Any, path: tuple[Any, ...], extra: Iterable[str] = ()) -> str:
        """Compile an expression found at ``path``; on error record a located problem."""
        return self.expr_bound(text, path, extra)[0]

    def expr_bound(self, text: Any, path: tuple[Any, ...],
                   extra: Iterable[str] = ()) -> tuple[str, float | None]:
        """Like :meth:`expr`, with the bound the compiler proved on the value's magnitude (None when
        it may not be a number); :meth:`product` uses it."""
        try:
            c: Compiled = self.compiler.compile(text, extra_names=extra)
        except ExprError as e:
            line, col = self.located.where(path)
            # the expression's own offset, when it sits on the same line as the key
            self.problems.append(Problem(e.code, e.message, self.located.file, line,
                                         col + (e.col if e.line == 1 else 0)))
            return "None", None
        return c.source, c.bound

    def product(self, parts: list[tuple[str, float | None]]) -> str:
        """The source of the product of parts from :meth:`expr_bound`: plain Python where the bounds
        prove it small, a guarded multiplication (``Limits``) otherwise."""
        return self.compiler.product(parts)

    def declare_output(self, name: str, path: tuple[Any, ...]) -> None:
        if name in self.outputs or name in self.doc.get("inputs", {}) or name in (self.doc.get("derive") or {}):
            self.problem(path, "duplicate-name", f"value {name!r} is already defined")
        self.outputs[name] = path
        self.compiler.names.add(name)

    def declare_outputs(self, method: Method, rule: Mapping[str, Any], i: int) -> list[str]:
        """Declare the values rule ``i`` outputs (as its method declares them); their names."""
        pos = self.rule_pos(i)
        names = method.output_names(rule)
        keys = [k for k, d in method.outputs.items()
                if rule.get(k) or ((d if isinstance(d, str) else d[0]) and (isinstance(d, str) or d[1] in rule))]
        for k, name in zip(keys, names, strict=True):
            self.declare_output(name, ("rules", pos, k))
        return names

    def bands_for_levels(self, name: str, path: tuple[Any, ...]) -> Bands | None:
        b = self.bands.get(name)
        if b is None and name in self.broken_bands:
            return None  # already reported where the bands are defined
        if b is None:
            self.problem(path, "unknown-bands", f"no bands named {name!r}"
                         + (f"; defined: {', '.join(sorted(self.bands))}" if self.bands else ""))
            return None
        if any("level" not in r for r in b.rows):
            self.problem(path, "bands-without-levels", f"bands {name!r} must give a level in every row")
            return None
        return b


