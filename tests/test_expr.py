"""The expression compiler: agreement with an independent evaluator; hostile input rejected."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskgrade._compile.expr import Compiler, ExprError

from .strategies import NAMES, environments, expressions, reference_eval


def run(text: str, env: dict[str, Any], **kw: Any) -> Any:
    c = Compiler(names=set(env), **kw)
    code = c.compile(text)
    ns = c.namespace()
    ns.update({f"v_{k}": v for k, v in env.items()})
    return eval(compile(code.source, "<test>", "eval"), ns)


class TestAgreement:
    @settings(max_examples=400, deadline=None)
    @given(expressions, environments)
    def test_compiled_agrees_with_reference(self, text: str, env: dict[str, int]) -> None:
        assert run(text, env) == reference_eval(text, env)


class TestLanguage:
    def test_records_and_generators(self) -> None:
        env = {"subs": [{"q": 20, "Q": 10}, {"q": 5, "Q": 5}]}
        assert run("sum(s.q / s.Q for s in subs)", env, records={"subs": {"q", "Q"}}) == 3.0
        assert run("[s.q for s in subs if s.q > 10]", env, records={"subs": {"q", "Q"}}) == [20]

    def test_levels_are_names(self) -> None:
        assert run("RED > ORANGE", {}) is True

    def test_multiline(self) -> None:
        assert run("a\n + 1\n if a else 0", {"a": 2}) == 3

    def test_is_none(self) -> None:
        assert run("a is None", {"a": None}) is True

    def test_require(self) -> None:
        from riskgrade import FactError

        with pytest.raises(FactError) as ei:
            run("require(a > 1, 'a must exceed 1')", {"a": 0})
        assert (ei.value.code, ei.value.message) == ("requirement-failed", "a must exceed 1")

    def test_names_reported(self) -> None:
        c = Compiler(names={"L", "E", "C"})
        assert c.compile("L * E + 1").names == frozenset({"L", "E"})


class TestRejected:
    @pytest.mark.parametrize("text,code", [
        ("a.__class__", "expr-dunder"),
        ("__import__('os')", "expr-dunder"),
        ("(1).real", "expr-attribute"),
        ("open('x')", "unknown-function"),
        ("a[0]", "expr-subscript"),
        ("lambda: 1", "expr-lambda"),
        ("(y := 1)", "expr-walrus"),
        ("f'{a}'", "expr-fstring"),
        ("{1: 2}", "expr-dict"),
        ("a ** 100", "expr-exponent"),
        ("a ** a", "expr-exponent"),
        ("'x' * 100000", "expr-operator"),
        ("max(a, key=abs)", "expr-keyword"),
        ("max(*a)", "expr-starred"),
        ("abs(1, 2)", "expr-arity"),
        ("zz + 1", "unknown-name"),
        ("a is 1", "expr-operator"),
        ("a +", "expr-syntax"),
        ("", "expr-empty"),
        ("x" * 3000, "expr-too-long"),
        ("(1 + " * 60 + "1" + ")" * 60, "expr-too-deep"),
        ("-" * 100 + "1", "expr-too-deep"),
        ("[x for x in a for y in a]", "expr-comprehension"),
        ("{x for x in a}", "expr-comprehension"),
        ("abs", "expr-function-value"),
    ])
    def test_rejected_with_code(self, text: str, code: str) -> None:
        with pytest.raises(ExprError) as ei:
            Compiler(names={"a"}).compile(text)
        assert ei.value.code == code

    def test_location_points_at_the_problem(self) -> None:
        with pytest.raises(ExprError) as ei:
            Compiler(names={"a"}).compile("a + a + zz")
        assert (ei.value.line, ei.value.col) == (1, 8)

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=80))
    def test_hostile_text_only_raises_expr_error(self, text: str) -> None:
        with contextlib.suppress(ExprError):
            Compiler(names=set(NAMES)).compile(text)

    @settings(max_examples=100, deadline=None)
    @given(st.text(alphabet="ab()[]{}.,:_*+-/%<>=!~&|^'\"0123456789 \n\tifelsnotandorlambdaforin", max_size=60))
    def test_hostile_ruleset_expressions_raise_ruleset_error(self, text: str) -> None:
        import json
        import os
        import tempfile

        import riskgrade
        from riskgrade import RulesetError

        from .conftest import MINIMAL
        src = MINIMAL.replace("    expr: x\n", f"    expr: {json.dumps(text)}\n")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.yaml")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(src)
            with contextlib.suppress(RulesetError):
                riskgrade.load(path)
