"""Grammar-based and hostile expressions: the compiler gives an ``ExprError`` or source that is valid
Python; in a ruleset (a derived value, and the score itself) an expression gives a ``RiskgradeError``
or a ruleset whose grades (of ordinary and of extreme facts) re-run to the same bytes.

``ExprError`` is the compiler's own typed error (the pipeline turns it into a located ``Problem``), so it
is the accepted error of the compiler-level case.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

import riskgrade
from riskgrade._api import compile_located
from riskgrade._compile.expr import Compiler, ExprError, builtin_functions
from riskgrade._core.canonical import dumps
from riskgrade._source.yaml import parse_yaml

from ._harness import SEED, Budget, case, settings, size

TEMPLATE = """\
riskgrade: 1
id: fuzz-expr
title: {zh: 表达式, en: expressions}
sector: general
jurisdiction: "620000"
version: "0.1"
edition: fuzz
effective: 2020-01-01
sources:
  s: {title: {zh: 来源, en: source}}
inputs:
  x: {type: number, min: 0, max: 100}
  L: {type: number, min: 0, max: 10}
  n: {type: integer}
  t: {type: string}
  flag: {type: bool}
  tags: {type: list, items: string}
  subs:
    type: list
    fields: {name: {type: string}, q: {type: number, min: 0}}
derive:
  y: EXPR
bands:
  b:
    closed: upper
    rows:
      - {to: 10, level: BLUE}
      - {from: 10, to: 20, level: YELLOW}
      - {from: 20, to: 30, level: ORANGE}
      - {from: 30, level: RED}
rules:
  - id: r
    method: score
    expr: RULE
    bands: b
    cite: {source: s}
"""

FACTS: list[dict[str, Any]] = [
    {"x": 5, "L": 3, "n": 4, "t": "ab", "flag": True, "tags": ["a", "b"], "subs": [{"name": "a", "q": 3}]},
    {"x": 0, "L": 0, "n": 0, "t": "", "flag": False, "tags": [], "subs": []},
    {"x": 100, "L": 10, "n": -(10**999), "t": "x" * 5_000, "flag": True, "tags": ["t"] * 5_000,
     "subs": [{"name": "n", "q": 1e300}] * 3},
    {"x": 1e-05, "L": 2e-05, "n": 10**8, "t": "\x00", "flag": False, "tags": ["\ud7ff"], "subs": [{"name": "", "q": 0}]},
]

NAMES = ["x", "L", "n", "t", "flag", "tags", "subs"]
FUNCS = [*sorted(builtin_functions()), "lookup", "eval", "open", "__import__", "getattr"]

_numbers = st.one_of(st.integers(-20, 20), st.sampled_from([10**8, -(10**8), 10**30, 2**64, 0.5, 1e308, 1e-308,
                                                            1e-05, 3.14159])).map(repr)
_leaf = st.one_of(_numbers, st.sampled_from(NAMES), st.sampled_from(["'a'", "''", "RED", "BLUE", "True", "None",
                                                                     "s.q", "s.name", "s"]))


def _combine(c: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(c, c)
    return st.one_of(
        st.tuples(c, st.sampled_from(["+", "-", "*", "/", "//", "%"]), c).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(c, st.sampled_from(["2", "0.5", "-1", "8", "9", "(-0.5)", "n"])).map(lambda t: f"({t[0]} ** {t[1]})"),
        st.tuples(c, st.sampled_from(["<", "<=", "==", "!=", "in", "not in", "is"]), c).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(c, st.sampled_from(["and", "or"]), c).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(c, c, c).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(["-", "not ", "+"]), c).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(st.sampled_from(FUNCS), st.lists(c, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(c, max_size=3).map(lambda cs: f"[{', '.join(cs)}]"),
        st.lists(c, min_size=1, max_size=3).map(lambda cs: f"({', '.join(cs)},)"),
        two.map(lambda t: f"[{t[0]} for s in subs if {t[1]}]"),
        two.map(lambda t: f"sum({t[0]} for s in subs if {t[1]})"),
        c.map(lambda e: f"max([s.q for s in subs] + [{e}])"),
        two.map(lambda t: f"round({t[0]}, {t[1]})"),
    )


grammar = st.recursive(_leaf, _combine, max_leaves=10)

HOSTILE = [
    "x.__class__", "().__class__.__bases__[0]", "lambda: 1", "tags[0]", "f'{t}'", "(y := 1)", "max(*tags)",
    "round(x, ndigits=2)", "max((s.q for s in subs), default=0)", "__import__('os')", "open('/etc/passwd')", "x.real", "s.__dict__", "[s for s in x]",
    "[a for a in subs for b in subs]", "round(1, -10**8)", "round(1, 10**8)", "t * 10**8", "tags * 10**8 * 10**8",
    "n ** n", "9 ** 9 ** 9", "2 ** 1000000", "10 ** 400 * 1.0", "(-8) ** (1/3)", "x / 0", "n // 0", "n % 0",
    "1e308 * 10", "-(1e308 * 10) + 1e308 * 10", "sum([1e308] * 3)", "(" * 200 + "1" + ")" * 200,
    "(" * 100_000 + "1" + ")" * 100_000, "1" + " + 1" * 600, "not " * 1000 + "x", "-" * 5000 + "1",
    "'" + "a" * 2500 + "'", "9" * 5000, "RED < BLUE", "RED + 1", "len(t) * t", "sum(tags)", "min()", "max(1)",
    "count()", "all(x)", "any(tags)", "present()", "require(False, 'no')", "require(x < 0, t)", "ceil(1e308)",
    "floor(-1e308 * 10)", "abs(t)", "x if t else tags", "[1, 2] + tags", "tags + tags", "{1, 2}", "{x: 1}",
    "x\n+\n1", "x # comment", "x;1", "\\x", "\t x", "x\x00", "é + 1", "ⅷ", "True + True", "None + 1",
    "x < y < z", "1 if 2 else", "", " ", "sum(s.q / s.q for s in subs)", "[s.q ** 0.5 for s in subs]",
    "round(x, n)", "round(t * 3, 2)", "t % n", "'%s' % t", "'%999999999d' % x", "[[[[[[x]]]]]]",
    "len([tags] * n)", "len(t * n)", "x ** 8", "L ** -8", "n ** 8", "(n * n * n * n * n * n * n * n) ** 8",
]


def _compiler_case(text: str) -> tuple[str, Any]:
    comp = Compiler(names=set(NAMES) - {"subs"}, records={"subs": {"name", "q"}}, bounds={"x": 100, "L": 10})
    code = comp.compile(text)
    compile(code.source, "<fuzz expression>", "eval")  # generated source is valid Python
    out = f"{code.source}|{sorted(code.names)}|{sorted(code.functions)}|{code.bound}"
    return out, lambda: (lambda c: f"{c.source}|{sorted(c.names)}|{sorted(c.functions)}|{c.bound}")(
        Compiler(names=set(NAMES) - {"subs"}, records={"subs": {"name", "q"}}, bounds={"x": 100, "L": 10}).compile(text))


def _grade_all(rs: riskgrade.Ruleset) -> str:
    out = []
    for facts in FACTS:
        try:
            out.append(rs.grade(facts).to_json(trace=True))
        except riskgrade.FactError as err:
            out.append(dumps(err.to_dict()))
        except riskgrade.RiskgradeError as err:
            out.append(f"{type(err).__name__}: {err}")
    return "\n".join(out)


def _ruleset_case(text: str, as_score: bool) -> tuple[str, Any]:
    doc = TEMPLATE.replace("EXPR", json.dumps(text)).replace("RULE", "y" if as_score else "x")
    rs = compile_located(parse_yaml(doc, "fuzz-expr.yaml"))
    assert rs is not None
    return _grade_all(rs), lambda: _grade_all(rs)


def _both(text: str, as_score: bool) -> None:
    case("expressions", f"compile {text!r:.200}", lambda: _compiler_case(text), typed=(ExprError,))
    case("expr-rulesets", f"score={as_score} {text!r:.200}", lambda: _ruleset_case(text, as_score))


def test_grammar_expressions() -> None:
    budget = Budget("expressions", left=3)

    @settings(size("expressions") * 8 // 10)
    @hypothesis.seed(SEED)
    @given(grammar, st.booleans())
    def run(text: str, as_score: bool) -> None:
        if not budget.over():
            _both(text, as_score)

    run()


def test_random_text_expressions() -> None:
    budget = Budget("expressions", left=2)

    @settings(size("expressions") * 2 // 10)
    @hypothesis.seed(SEED)
    @given(st.text(st.characters(codec="utf-8"), max_size=80), st.booleans())
    def run(text: str, as_score: bool) -> None:
        if not budget.over():
            _both(text, as_score)

    run()


def test_hostile_expressions() -> None:
    for i, text in enumerate(HOSTILE):
        _both(text, i % 2 == 0)
