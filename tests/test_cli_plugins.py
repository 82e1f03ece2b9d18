"""``riskgrade plugins`` and ``riskgrade check-refinement``, in process, with exact exit codes."""

from __future__ import annotations

import os

from click.testing import CliRunner

from riskgrade._cli.main import main

from .test_layers import EXAMPLES, require


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


class TestPluginsCommand:
    def test_lists_plugins_and_contributions(self) -> None:
        require(*EXAMPLES)
        code, out = run("plugins")
        assert code == 0
        assert out.splitlines()[:2] == ["riskgrade  (riskgrade 0.1.0, riskgrade._plugins._Builtin)",
                                        "  hooks: riskgrade_layers"]
        assert ("  layer: baiyin-lec — 620400 白银市 refines lec-generic >=1.0, <2 "
                "(riskgrade_baiyin/layers/lec-generic.yaml)") in out.splitlines()
        assert "  functions: crowd_factor" in out.splitlines()


class TestCheckRefinementCommand:
    def test_examples_ok(self) -> None:
        require(*EXAMPLES)
        code, out = run("check-refinement", "--ruleset", "lec-generic", "--jurisdiction", "620421")
        assert code == 0
        assert out.splitlines() == [
            "check-refinement lec-generic for 620421 靖远县",
            "static: ok",
            "differential 620000 (base) → 620400 白银市: ok (18 cases, 400 generated fact sets)",
            "differential 620400 白银市 → 620421 靖远县: ok (7 cases, 400 generated fact sets)",
        ]

    def test_loosener_exit_1_with_file_and_line(self) -> None:
        require("riskgrade-loosener")
        code, out = run("check-refinement", "-r", "lec-generic", "-j", "620403")
        assert code == 1
        assert out.splitlines()[1] == "static: FINDING"
        assert "riskgrade_loosener/layers/lec-generic.yaml:11:13: refine-looser:" in out.replace(os.sep, "/")

    def test_sneaky_exit_1_with_counterexample(self) -> None:
        require("riskgrade-baiyin", "riskgrade-sneaky")
        code, out = run("check-refinement", "-r", "lec-generic", "-j", "620422")
        assert code == 1
        assert out.splitlines()[-2:] == [
            "differential 620400 白银市 → 620422 会宁县: FINDING (4 cases, 0 generated fact sets)",
            "  counterexample: {L=10, E=1, C=15, exposed_persons=20}: base RED, refined YELLOW "
            "[case '[620400 白银市] 20 people exposed double D = 150 to 300, RED']"]

    def test_bad_jurisdiction_is_a_usage_error(self) -> None:
        code, out = run("check-refinement", "-r", "lec-generic", "-j", "62042")
        assert code == 2
        assert "'62042' is not a GB/T 2260 six-digit code" in out


class TestLayerFilesInValidateAndTest:
    def test_validate_and_test_a_layer_file(self) -> None:
        require(*EXAMPLES)
        import riskgrade_jingyuan

        path = os.path.join(os.path.dirname(riskgrade_jingyuan.__file__), "layers", "lec-generic.yaml")
        assert run("validate", path) == (0, f"{path}: valid\n")
        code, out = run("test", path)
        assert (code, out.splitlines()[-1]) == (0, "3 passed, 0 failed")

    def test_validate_reports_the_loosener(self) -> None:
        require("riskgrade-loosener")
        import riskgrade_loosener

        path = os.path.join(os.path.dirname(riskgrade_loosener.__file__), "layers", "lec-generic.yaml")
        code, out = run("validate", path)
        assert code == 1
        assert out.startswith(f"{path}:11:13: refine-looser: threshold lec_D ORANGE 160 → 200")


class TestLang:
    """README: "All commands take ``--lang zh|en``" -- with the one default of ``_cli.main``."""

    def test_every_command_takes_lang(self) -> None:
        from riskgrade._cli import main as full

        for name, cmd in full.commands.items():
            assert "--lang" in [o for p in cmd.params for o in getattr(p, "opts", [])], name

    def test_plugins_commands_share_the_main_lang_default(self) -> None:
        from riskgrade._cli import main as full

        def lang(name: str) -> object:
            (opt,) = [p for p in full.commands[name].params if p.name == "lang"]
            return opt.default, opt.help

        assert lang("plugins") == lang("check-refinement") == lang("list") == lang("grade")

    def test_plugins_zh_and_en(self) -> None:
        from riskgrade._cli import main as full

        require(*EXAMPLES)
        zh = CliRunner().invoke(full, ["plugins", "--lang", "zh"])
        en = CliRunner().invoke(full, ["plugins", "--lang", "en"])
        assert zh.exit_code == en.exit_code == 0
        assert "  钩子: riskgrade_layers" in zh.output.splitlines() and "  函数: crowd_factor" in zh.output.splitlines()
        assert "  hooks: riskgrade_layers" in en.output.splitlines() and "hooks:" not in zh.output

    def test_check_refinement_zh_and_en(self) -> None:
        from riskgrade._cli import main as full

        require(*EXAMPLES)
        args = ["check-refinement", "-r", "lec-generic", "-j", "620421", "-n", "20", "--lang"]
        zh = CliRunner().invoke(full, [*args, "zh"])
        en = CliRunner().invoke(full, [*args, "en"])
        assert zh.exit_code == en.exit_code == 0
        assert zh.output.splitlines()[:2] == ["check-refinement lec-generic 辖区 620421 靖远县", "静态检查: 通过"]
        assert "差分检查 620400 白银市 → 620421 靖远县: 通过(7 个用例,20 组生成的事实)" in zh.output.splitlines()
        assert en.output.splitlines()[:2] == ["check-refinement lec-generic for 620421 靖远县", "static: ok"]


class TestUnknownJurisdiction:
    def test_check_refinement_with_an_unlisted_baiyin_code_is_a_usage_error(self) -> None:
        code, out = run("check-refinement", "--ruleset", "lec-generic", "--jurisdiction", "620432")
        assert code == 2
        assert "620432" in out and "ok" not in out.split("Error:")[-1]

    def test_load_with_an_unlisted_baiyin_code_raises(self) -> None:
        import pytest

        import riskgrade

        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load("lec-generic", jurisdiction="620432")
        assert e.value.codes == ["unknown-jurisdiction"] and "620432" in str(e.value)
        for code in ("620000", "620400", "620421", "620422", "110105"):  # 620402/620403: the test plugins
            riskgrade.load("lec-generic", jurisdiction=code)
