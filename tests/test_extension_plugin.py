"""The real test plugin distribution riskgrade-mes, end to end (no mocks): a declared grading
method, a failing function (FunctionError, CLI exit 3), a roll-up modifier and a fact enricher."""

from __future__ import annotations

import ast
import datetime
import json
import pathlib
import traceback
from typing import Any

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade import hookspecs
from riskgrade._cli.main import main

from .test_layers import require

DATA = pathlib.Path(__file__).parent / "data"
RULESET = DATA / "mes-test.yaml"
REGISTER = DATA / "mes-enterprise.yaml"
SRC = pathlib.Path(riskgrade.__file__).parent
AS_OF = datetime.date(2024, 6, 30)


@pytest.fixture(autouse=True)
def _mes() -> None:
    require("riskgrade-mes")


def _facts(tmp_path: pathlib.Path, **facts: Any) -> str:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    return str(path)


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def rule_line(rule_id: str) -> int:
    lines = RULESET.read_text(encoding="utf-8").splitlines()
    return lines.index(f"  - id: {rule_id}") + 1


class TestMethod:
    def test_grade_explains_the_formula(self, tmp_path: pathlib.Path) -> None:
        res = run("grade", "--lang", "en", "--ruleset", str(RULESET), _facts(tmp_path, M=5, E=6, S=8))
        assert res.exit_code == 0, res.output
        assert "RED major risk  score 240" in res.output
        assert "R = M × E × S = 5 × 6 × 8 = 240" in res.output

    def test_explain_and_trace_show_the_numbers(self, tmp_path: pathlib.Path) -> None:
        res = run("explain", "--lang", "en", "-r", str(RULESET), _facts(tmp_path, M=3, E=6, S=4))
        assert res.exit_code == 0, res.output
        assert "rule mes (risk R = M × E × S): R = M × E × S = 3 × 6 × 4 = 72" in res.output
        a = riskgrade.load(RULESET).grade({"M": 3, "E": 6, "S": 4})
        assert (a.level.name, a.score) == ("YELLOW", 72)
        assert any("R = M × E × S = 3 × 6 × 4 = 72" in s.text for s in a.trace("en"))

    def test_the_ruleset_cases_pass(self) -> None:
        res = run("test", str(RULESET))
        assert (res.exit_code, res.output.splitlines()[-1]) == (0, "14 passed, 0 failed")


class TestFunctionError:
    def test_located_at_the_rule_with_its_cause(self) -> None:
        rs = riskgrade.load(RULESET)
        with pytest.raises(riskgrade.FunctionError) as info:
            rs.grade({"M": 5, "E": 6, "S": 8, "probe": 0})
        e = info.value
        assert not isinstance(e, riskgrade.FactError)
        assert isinstance(e.__cause__, ZeroDivisionError)
        assert (e.function, e.plugin, e.rule) == ("mes_fail", "mes", "mes-fail-probe")
        assert (pathlib.Path(e.file).resolve(), e.line) == (RULESET.resolve(), rule_line("mes-fail-probe"))
        text = "".join(traceback.format_exception(e))
        assert "r_1 = 4 if (f_mes_fail(v_probe) > 100) else 0" in text  # the generated line (linecache)
        assert "riskgrade_mes" in text and "in mes_fail" in text and "return 1 / x" in text  # the plugin's frame
        assert e.to_dict()["error"] == "function-error"

    def test_grade_many_does_not_swallow_it(self) -> None:
        rs = riskgrade.load(RULESET)
        out = rs.grade_many([{"M": 5, "E": 6, "S": 8}, {"M": 5, "E": 6, "S": 8, "probe": 0}])
        assert next(out).level.name == "RED"
        with pytest.raises(riskgrade.FunctionError):
            next(out)

    def test_a_plugin_function_is_wrapped(self) -> None:
        fn = riskgrade._plugins.get_plugins().functions()["mes_fail"]
        assert (fn.impl(2), fn.impl.__name__) == (2, "mes_fail")
        with pytest.raises(riskgrade.FunctionError) as info:
            fn.impl(0)
        assert (info.value.function, info.value.plugin, info.value.rule) == ("mes_fail", "mes", None)

    def test_cli_exit_3(self, tmp_path: pathlib.Path) -> None:
        res = run("grade", "-r", str(RULESET), _facts(tmp_path, M=5, E=6, S=8, probe=0))
        assert res.exit_code == 3
        assert "function 'mes_fail' of plugin 'mes' failed in rule 'mes-fail-probe'" in res.output

    def test_cli_json_error_record(self, tmp_path: pathlib.Path) -> None:
        path = _facts(tmp_path, M=5, E=6, S=8, probe=0)
        res = run("grade", "--format", "json", "-r", str(RULESET), path)
        assert res.exit_code == 3
        rec = json.loads(res.output.splitlines()[-1])
        assert (rec["error"], rec["function"], rec["plugin"], rec["rule"], rec["rule_line"], rec["record"]) == (
            "function-error", "mes_fail", "mes", "mes-fail-probe", rule_line("mes-fail-probe"), path)

    def test_help_documents_exit_codes(self) -> None:
        out = run("--help").output
        assert "3  a function or plugin failed while grading" in out


class TestEnterprise:
    def test_enrich_and_plugin_modifier(self) -> None:
        a = riskgrade.assess(riskgrade.load(RULESET), str(REGISTER), as_of=AS_OF)
        levels = {n: (a[n].level.name, a[n].own_level.name if a[n].own_level else None)
                  for n in ("P-LATHE", "P-PRESS", "P-OVEN", "P-QUENCH", "U-SHOP", "U-HEAT")}
        assert levels == {"P-LATHE": ("BLUE", "BLUE"), "P-PRESS": ("YELLOW", "YELLOW"),
                          "P-OVEN": ("RED", "ORANGE"), "P-QUENCH": ("BLUE", "BLUE"),
                          "U-SHOP": ("YELLOW", None), "U-HEAT": ("RED", None)}
        assert a["P-PRESS"].score == 72  # controls: partial → M = 3 (the enricher)
        assert [m.id for m in a["P-OVEN"].modifiers] == ["night-shift"]
        assert (a.level.name, a.inherent_level.name) == ("RED", "ORANGE")
        assert "+1 level: night-shift work at risk point P-OVEN" in a.explain("en")

    def test_grading_alone_does_not_enrich(self) -> None:
        with pytest.raises(riskgrade.FactError) as info:
            riskgrade.load(RULESET).grade({"controls": "partial", "E": 6, "S": 4})
        assert info.value.code == "missing-fact"

    def test_a_failing_modifier_is_a_plugin_error(self) -> None:
        def boom(**kw: Any) -> bool:
            raise KeyError("shift")

        class Broken:
            @hookspecs.hookimpl
            def riskgrade_rollup_modifiers(self) -> dict[str, Any]:
                return {"mes-night-shift": boom}

        p = riskgrade._plugins.Plugins([("broken", Broken())], entry_points=False)
        with pytest.raises(riskgrade.PluginError) as info:
            riskgrade.RiskGraph.build(riskgrade.load(RULESET), str(REGISTER), as_of=AS_OF,
                                      modifiers=p.rollup_modifiers())
        assert (info.value.plugin, info.value.hook) == ("broken", "riskgrade_rollup_modifiers")
        assert isinstance(info.value.__cause__, KeyError)


class TestPluginsCommand:
    def test_lists_riskgrade_mes_with_its_hooks(self) -> None:
        res = run("plugins")
        assert res.exit_code == 0
        lines = res.output.splitlines()
        i = lines.index("mes  (riskgrade-mes 0.1.0, riskgrade_mes.plugin)")
        assert lines[i + 1:i + 5] == [
            "  hooks: riskgrade_functions, riskgrade_methods, riskgrade_rollup_modifiers, riskgrade_enrich_facts",
            "  functions: mes_fail", "  methods: mes-demo", "  rollup modifiers: mes-night-shift"]


def _hooks() -> list[str]:
    return sorted(n for n in hookspecs.__all__ if n.startswith("riskgrade_"))


def _accessors() -> dict[str, set[str]]:
    """Hook → the ``Plugins`` methods that call it (by name, in ``_plugins.py``)."""
    tree = ast.parse((SRC / "_plugins.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Plugins")
    out: dict[str, set[str]] = {h: set() for h in _hooks()}
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef) or fn.name in ("info", "each", "__init__"):
            continue
        for node in ast.walk(fn):
            name = node.value if isinstance(node, ast.Constant) else node.attr if isinstance(node, ast.Attribute) else None
            if name in out:
                out[name].add(fn.name)
    return out


def _is_plugins(node: ast.expr) -> bool:
    """``get_plugins()``, or a variable named ``plugins`` / ``p`` (how riskgrade holds a Plugins)."""
    if isinstance(node, ast.Call):
        f = node.func
        return (isinstance(f, ast.Name) and f.id == "get_plugins") or (
            isinstance(f, ast.Attribute) and f.attr == "get_plugins")
    return isinstance(node, ast.Name) and node.id in ("plugins", "p")


def _called_methods() -> set[str]:
    """``Plugins`` methods used anywhere in riskgrade outside ``_plugins.py``, the hookspecs and the
    CLI (listing plugins in ``riskgrade plugins`` is not calling them): called, or passed on as a
    callable (``enrich=get_plugins().enrich_facts``)."""
    called: set[str] = set()
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in ("_plugins.py", "hookspecs.py") or rel.startswith("_cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and _is_plugins(node.value):
                called.add(node.attr)
    return called


class TestEveryHookIsCalled:
    def test_the_hooks(self) -> None:
        assert _hooks() == ["riskgrade_enrich_facts", "riskgrade_functions", "riskgrade_layers",
                            "riskgrade_methods", "riskgrade_rollup_modifiers"]
        assert set(_hooks()) == set(riskgrade._plugins._HOOKS)

    @pytest.mark.parametrize("hook", _hooks())
    def test_has_a_call_site(self, hook: str) -> None:
        accessors = _accessors()[hook]
        assert accessors, f"no Plugins method calls {hook}"
        used = accessors & _called_methods()
        assert used, f"{hook} is reached only through {sorted(accessors)}, which nothing in riskgrade calls"
