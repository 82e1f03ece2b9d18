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
        assert run("test", path) == (0, "3 passed, 0 failed\n")

    def test_validate_reports_the_loosener(self) -> None:
        require("riskgrade-loosener")
        import riskgrade_loosener

        path = os.path.join(os.path.dirname(riskgrade_loosener.__file__), "layers", "lec-generic.yaml")
        code, out = run("validate", path)
        assert code == 1
        assert out.startswith(f"{path}:11:13: refine-looser: threshold lec_D ORANGE 160 → 200")
