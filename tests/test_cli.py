"""The CLI, in process, with exact exit codes and output."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable

from click.testing import CliRunner

from riskgrade._cli.main import main

from .conftest import MINIMAL

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


class TestList:
    def test_lists_shipped(self) -> None:
        code, out = invoke("list")
        assert code == 0
        ids = [line.split()[0] for line in out.splitlines()]
        assert "lec-generic" in ids and "ls-matrix" in ids

    def test_json(self) -> None:
        code, out = invoke("list", "--format", "json")
        assert code == 0
        assert {"lec-generic", "ls-matrix"} <= {d["id"] for d in json.loads(out)}


class TestGrade:
    def test_text_en(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.yaml"
        f.write_text("L: 3\nE: 6\nC: 15\n", encoding="utf-8")
        code, out = invoke("grade", "--ruleset", "lec-generic", str(f), "--lang", "en")
        assert code == 0
        assert out.splitlines()[0] == f"{f}: ORANGE high risk  score 270"
        assert "D = L × E × C = 3 × 6 × 15 = 270" in out

    def test_json_one_line_per_record_and_errors(self) -> None:
        code, out = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json")
        assert code == 1  # some records in error: a finding (docs/platform.md)
        lines = [json.loads(x) for x in out.splitlines()]
        assert len(lines) == 6
        assert [d.get("level") or d["error"] for d in lines] == [
            "ORANGE", "BLUE", "RED", "not-allowed", "bad-syntax", "YELLOW"]
        assert lines[3]["field"] == "C" and lines[3]["record"].endswith("lec-jobs.jsonl:4")
        assert lines[4]["record"].endswith("lec-jobs.jsonl:5")

    def test_zh_errors_explain_the_code(self) -> None:
        code, out = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--lang", "zh")
        assert code == 1
        line = next(x for x in out.splitlines() if x.startswith(str(EXAMPLES / "lec-jobs.jsonl") + ":4"))
        assert line.endswith("错误: not-allowed(不是允许的取值): C: 10 is not an allowed value; "
                             "allowed: 1, 3, 7, 15, 40, 100")

    def test_zh(self) -> None:
        code, out = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-job.yaml"), "--lang", "zh")
        assert code == 0
        assert "ORANGE 较大风险  分值 270" in out

    def test_output_is_byte_identical(self) -> None:
        a = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json")
        b = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json")
        assert a == b

    def test_unknown_ruleset_is_usage_error(self) -> None:
        code, _ = invoke("grade", "-r", "nope", str(EXAMPLES / "lec-job.yaml"))
        assert code == 2

    def test_broken_ruleset_is_unusable_input(self, write_ruleset: Callable[..., str]) -> None:
        path = write_ruleset(MINIMAL.replace("cite: {source: s}", "cite: {source: nope}"))
        code, _ = invoke("grade", "-r", path, str(EXAMPLES / "lec-job.yaml"))
        assert code == 2

    def test_bad_date_in_yaml_facts(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.yaml"
        f.write_text("L: 3\nd: 2020-02-30\n", encoding="utf-8")
        code, out = invoke("grade", "-r", "lec-generic", str(f))
        assert code == 2 and "bad-syntax" in out

    def test_jsonl_invalid_utf8_line_is_one_error_record(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.jsonl"
        f.write_bytes(b'{"L": 3, "E": 6, "C": 15}\n{"L": "\xff"}\n{"L": 1, "E": 0.5, "C": 40}\n')
        code, out = invoke("grade", "-r", "lec-generic", str(f), "--format", "json")
        assert code == 1
        assert [json.loads(x).get("level") or json.loads(x)["error"] for x in out.splitlines()] == [
            "ORANGE", "not-utf8", "BLUE"]

    def test_missing_file(self) -> None:
        code, _ = invoke("grade", "-r", "lec-generic", "does-not-exist.yaml")
        assert code == 2

    def test_bad_yaml_facts(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.yaml"
        f.write_text("L: [3\n", encoding="utf-8")
        code, out = invoke("grade", "-r", "lec-generic", str(f))
        assert code == 2
        assert "bad-syntax" in out


class TestExplain:
    def test_trace(self) -> None:
        code, out = invoke("explain", "-r", "lec-generic", str(EXAMPLES / "lec-job.yaml"), "--lang", "en")
        assert code == 0
        lines = out.splitlines()
        assert lines[0].endswith("ORANGE high risk")
        assert lines[1].strip().startswith("input L (likelihood of an accident) = 3")
        assert lines[-1].strip() == "result: ORANGE high risk (the highest level among fired rules)"

    def test_json_has_trace(self) -> None:
        code, out = invoke("explain", "-r", "lec-generic", str(EXAMPLES / "lec-job.yaml"), "--format", "json")
        assert code == 0
        assert [s["kind"] for s in json.loads(out)["trace"]] == ["input", "input", "input", "rule", "decision"]


class TestValidate:
    def test_valid(self) -> None:
        code, out = invoke("validate", str(EXAMPLES.parent / "rulesets" / "lec-generic.yaml"))
        assert code == 0 and out.strip().endswith(": valid")

    def test_broken_prints_every_problem(self, write_ruleset: Callable[..., str]) -> None:
        text = MINIMAL.replace("      - {from: 20, to: 30, level: ORANGE}", "      - {from: 21, to: 30, level: ORANGE}")
        text = text.replace("    expr: x\n", "    expr: x + y\n").replace("cite: {source: s}", "cite: {source: nope}")
        path = write_ruleset(text)
        code, out = invoke("validate", path)
        assert code == 1
        assert out.splitlines() == [
            f"{path}:19:16: band-gap: values between 20 and 21 fall in no band",
            f"{path}:24:15: unknown-name: unknown name 'y'",
            f"{path}:26:20: unknown-source: no source named 'nope'; defined: s",
        ]


class TestTest:
    def test_shipped_pass(self) -> None:
        code, out = invoke("test", str(EXAMPLES.parent / "rulesets" / "lec-generic.yaml"))
        assert code == 0
        assert out.splitlines()[-1] == "14 passed, 0 failed"
        assert "lec-generic 1.0.0: 14 cases, coverage 100% (5/5)" in out

    def test_failure_exit_1(self, write_ruleset: Callable[..., str]) -> None:
        path = write_ruleset(MINIMAL + "cases:\n  - note: wrong on purpose\n    facts: {x: 5}\n"
                             "    want: {level: RED}\n")
        code, out = invoke("test", path, "--lang", "en")
        assert code == 1
        assert "level: want RED, got BLUE" in out
        assert out.strip().endswith("0 passed, 1 failed")
