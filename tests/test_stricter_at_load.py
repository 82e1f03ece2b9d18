"""Stricter only at load time: whatever a layer adds cannot fail, so it can only raise a level.

Every layer here is a real file, loaded through ``compile_file(..., layers=[read_layer(p)])`` or
``riskgrade._api.load_layer``; plugin functions and methods come from the installed test plugins
(riskgrade-mes, riskgrade-emitter).
"""

from __future__ import annotations

import pathlib
import textwrap

import pytest

import riskgrade
from riskgrade._api import compile_file, load_layer
from riskgrade._compile.layers import read_layer
from riskgrade.exceptions import RefinementError

from .conftest import MINIMAL
from .test_layers import require

HEAD = """\
riskgrade: 1
kind: layer
id: t-layer
jurisdiction: "620421"
refines: {ruleset: tiny, versions: ">=0.1, <1"}
"""

#: the tiny base with an integer and a free text input besides x
BASE = MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                       "  x: {type: number, min: 0, max: 100}\n"
                       "  n: {type: integer, min: 0, max: 6, default: 2}\n"
                       "  site: {type: string, default: plant}\n"
                       "  limit: {type: number, required: false}\n") + (
    "tables:\n  q:\n    key: name\n    columns: {name: string, Q: number}\n"
    "    rows: [{name: a, Q: 10}, {name: b, Q: 0}]\n")


@pytest.fixture
def base(tmp_path: pathlib.Path) -> str:
    p = tmp_path / "tiny.yaml"
    p.write_text(BASE, encoding="utf-8")
    return str(p)


def layer(tmp_path: pathlib.Path, body: str, name: str = "layer.yaml") -> str:
    p = tmp_path / name
    p.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return str(p)


def refine(base: str, path: str) -> riskgrade.Ruleset:
    return compile_file(base, layers=[read_layer(path)])


def rejected(base: str, path: str) -> list[tuple[str, str, int, str]]:
    with pytest.raises(RefinementError) as e:
        refine(base, path)
    return [(p.code, p.file, p.line, p.message) for p in e.value.problems]


def rule(when: str) -> str:
    return f"rules:\n  - {{id: added, method: direct, when: \"{when}\", level: RED, cite: {{source: s}}}}\n"


class TestAddedRules:
    def test_require_in_an_added_rule_is_rejected_with_file_and_line(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer(tmp_path, rule("require(x <= 16, 'x above 16') and x > 12"))
        assert rejected(base, lay) == [(
            "refine-may-fail", lay, 7,
            "require() turns every record that breaks the condition into an error: a record the base grades "
            "would become an error; write the condition as a rule's 'when:' (it then only raises a level) "
            "(layer 620421 靖远县)")]

    def test_the_same_condition_as_a_rule_only_raises(self, base: str, tmp_path: pathlib.Path) -> None:
        rs = refine(base, layer(tmp_path, rule("x > 12")))
        assert [rs.grade({"x": x}).level.name for x in (5, 13, 25, 90)] == ["BLUE", "RED", "RED", "RED"]

    @pytest.mark.parametrize("when", [
        "x / n > 3",                       # n may be 0
        "x % n == 1",
        "lookup('q', site, 'Q') > 1",      # site is free text: maybe not a key of q
        "x / lookup('q', 'b', 'Q') > 1",   # Q of b is 0
        "limit > 3",                       # an optional input without a default may be missing
        "site > 3",                        # text compared with a number
        "min(s for s in (x, n)) > 1 and max(present(limit)) > 2",  # max() of a list that may be empty
        "x ** 0.5 > 1 if n else x ** -1 > 1",  # x may be 0
    ])
    def test_expressions_that_may_fail_are_rejected(self, base: str, tmp_path: pathlib.Path, when: str) -> None:
        assert [p[0] for p in rejected(base, layer(tmp_path, rule(when)))] == ["refine-may-fail"]

    @pytest.mark.parametrize("when", [
        "x / 2 > 3 and x / lookup('q', 'a', 'Q') > 1",
        "(x / n if n else 0) > 3",         # a guard proves the divisor is not 0
        "(x / n if n > 0 and x > 1 else 0) > 3",
        "lookup('q', site, 'Q', 10) < x",  # with a default, any key is fine
        "limit is not None and (limit > 3 if limit is not None else False)",
        "x ** 2 > 100 or x ** 0.5 > 9",    # x is not negative: its square root is real
        "has('q', site) and x in (1, 2, 3)",
        "max(x, n, 3) > 50 and round(x) == 7",
    ])
    def test_total_expressions_are_accepted(self, base: str, tmp_path: pathlib.Path, when: str) -> None:
        plain = compile_file(base)
        rs = refine(base, layer(tmp_path, rule(when)))
        for facts in ({"x": 0}, {"x": 0, "n": 0}, {"x": 7, "site": "a"}, {"x": 100, "n": 6, "limit": 4}):
            assert rs.grade(facts).level >= plain.grade(facts).level


class TestAddedDerivedValuesAndCriteria:
    def test_a_derived_value_that_may_fail_is_rejected(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer(tmp_path, "derive:\n  ratio: 100 / x\n" + rule("ratio > 3"))
        assert [(p[0], p[2]) for p in rejected(base, lay)] == [("refine-may-fail", 7)]

    def test_a_criterion_that_may_fail_is_rejected(self, write_ruleset: object, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "comp.yaml"
        p.write_text(BASE.replace("""  - id: r
    method: score
    expr: x
    bands: b
    cite: {source: s}
""", """  - id: r
    method: score
    expr: x
    bands: b
    cite: {source: s}
  - id: c
    method: composite
    level: ORANGE
    at_least: 2
    criteria:
      - {id: big, when: x > 5}
      - {id: many, when: n > 4}
    cite: {source: s}
"""), encoding="utf-8")
        bad = layer(tmp_path, "criteria:\n  c:\n    - {id: q, when: \"lookup('q', site, 'Q') > 5\"}\n", "bad.yaml")
        assert [(c, line) for c, _f, line, _m in rejected(str(p), bad)] == [("refine-may-fail", 8)]
        good = layer(tmp_path, "criteria:\n  c:\n    - {id: q, when: \"has('q', site)\"}\n", "good.yaml")
        rs = refine(str(p), good)
        assert rs.grade({"x": 6, "site": "a"}).level is riskgrade.Level.ORANGE  # big and the added q
        assert rs.grade({"x": 6}).level is riskgrade.Level.BLUE  # big only: c needs two criteria


class TestPluginCode:
    def test_a_plugin_function_is_proven_on_every_value_of_its_arguments(self, base: str,
                                                                         tmp_path: pathlib.Path) -> None:
        require("riskgrade-emitter")
        # n takes 0..6: halve_or_fail fails for 1
        bad = layer(tmp_path, rule("halve_or_fail(n) > 1"), "bad.yaml")
        assert [m for *_, m in rejected(base, bad)] == [
            "function halve_or_fail fails for (1): ValueError: 1 is odd: a record the base grades would become "
            "an error (layer 620421 靖远县)"]
        ok = layer(tmp_path, rule("halve_or_fail(n * 2) > 5"), "ok.yaml")
        assert refine(base, ok).grade({"x": 1, "n": 6}).level is riskgrade.Level.RED

    def test_a_plugin_function_of_an_unbounded_value_cannot_be_proven(self, base: str,
                                                                      tmp_path: pathlib.Path) -> None:
        require("riskgrade-mes")
        msgs = [m for *_, m in rejected(base, layer(tmp_path, rule("mes_fail(x) > 1")))]
        assert msgs[0].startswith("function mes_fail cannot be proven never to fail: an argument can take "
                                  "unboundedly many values")

    def test_a_method_that_emits_code_cannot_be_added_by_a_layer(self, base: str, tmp_path: pathlib.Path) -> None:
        require("riskgrade-emitter")
        lay = layer(tmp_path, "rules:\n  - {id: z, method: emit-zero, x: x, level: BLUE, cite: {source: s}}\n")
        assert [(c, line, m.split(",")[0]) for c, _f, line, m in rejected(base, lay)] == [
            ("refine-may-fail", 7, "method 'emit-zero' emits its own code")]

    def test_a_declared_method_is_proven_and_sees_only_its_expressions(self, base: str,
                                                                       tmp_path: pathlib.Path) -> None:
        require("riskgrade-emitter")
        bad = layer(tmp_path, "rules:\n  - {id: f, method: fragile, x: n, level: RED, cite: {source: s}}\n", "b.yaml")
        assert [m.split(":")[0] for *_, m in rejected(base, bad)] == ["method 'fragile' fails for (x=3)"]
        ok = layer(tmp_path, "rules:\n  - {id: f, method: fragile, x: n * 2, level: RED, cite: {source: s}}\n"
                   "  - {id: p, method: peek, x: n, level: ORANGE, cite: {source: s}}\n", "ok.yaml")
        rs = refine(base, ok)
        # peek fires only when compute is given exactly one value (its declared x), whatever the ruleset holds
        assert rs.grade({"x": 1, "n": 1}).level is riskgrade.Level.ORANGE
        assert rs.grade({"x": 1, "n": 2}).level is riskgrade.Level.RED


class TestShippedLayers:
    def test_a_county_require_on_lec_d_is_rejected_by_load_layer(self, tmp_path: pathlib.Path) -> None:
        require("riskgrade-baiyin")
        p = tmp_path / "jingtai.yaml"
        p.write_text(textwrap.dedent("""\
            riskgrade: 1
            kind: layer
            id: jingtai-cap
            jurisdiction: "620423"
            refines: {ruleset: lec-generic, versions: ">=1.0, <2"}
            rules:
              - id: cap
                method: direct
                when: "require(D <= 160, 'D above 160') and D > 100"
                level: ORANGE
                cite: {source: baiyin-example}
            """), encoding="utf-8")
        with pytest.raises(RefinementError) as e:
            load_layer(str(p))
        assert [(pr.code, pr.file, pr.line) for pr in e.value.problems] == [("refine-may-fail", str(p), 9)]

    def test_the_example_plugins_still_load(self) -> None:
        require("riskgrade-baiyin", "riskgrade-jingyuan")
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        assert rs.grade({"L": 10, "E": 1, "C": 15, "exposed_persons": 20}).level is riskgrade.Level.RED
