"""The machine contract of the CLI (docs/platform.md): positions and ids on every output, blank lines
as error records, stdin streamed, distinct exit codes, JSON load errors, receipts, the fast index."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import jsonschema
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade._cli.doc import schema_for
from riskgrade._grade.receipt import canonical_sha256
from riskgrade._source import registry

from .conftest import MINIMAL

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
RECORD = jsonschema.Draft202012Validator(schema_for("record"))


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return res.exit_code, res.output


def records(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in out.splitlines()]
    for d in lines:
        RECORD.validate(d)
    return lines


class TestPositions:
    def test_every_output_has_index_line_record_and_id(self) -> None:
        code, out = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json")
        assert code == 1  # a record was wrong: a finding, the others answered
        got = [(d["index"], d["line"], d.get("id"), d.get("level") or d["error"]) for d in records(out)]
        assert got == [(0, 1, "JOB-1", "ORANGE"), (1, 2, "JOB-2", "BLUE"), (2, 3, "JOB-3", "RED"),
                       (3, 4, "JOB-4", "not-allowed"), (4, 5, None, "bad-syntax"), (5, 6, "JOB-6", "YELLOW")]
        assert records(out)[0]["record"] == f"{EXAMPLES / 'lec-jobs.jsonl'}:1"

    def test_blank_lines_are_error_records(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.jsonl"
        f.write_text('{"L": 3, "E": 6, "C": 15}\n\n   \n{"L": 1, "E": 0.5, "C": 40}\n', encoding="utf-8")
        code, out = invoke("grade", "-r", "lec-generic", str(f), "--format", "json", "--no-receipt")
        assert code == 1
        assert [(d["index"], d.get("level") or d["error"]) for d in records(out)] == [
            (0, "ORANGE"), (1, "blank-line"), (2, "blank-line"), (3, "BLUE")]

    def test_id_field(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.jsonl"
        f.write_text('{"job": 17, "L": 3, "E": 6, "C": 15}\n{"job": "x", "L": 3}\n', encoding="utf-8")
        code, out = invoke("grade", "-r", "lec-generic", str(f), "--format", "json", "--id-field", "job")
        assert code == 1
        assert [(d["id"], d.get("level") or d["error"]) for d in records(out)] == [
            (17, "ORANGE"), ("x", "missing-fact")]

    def test_yaml_list_has_lines(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.yaml"
        f.write_text("- {id: a, L: 3, E: 6, C: 15}\n- {id: b, L: 3, E: 6, C: 10}\n", encoding="utf-8")
        code, out = invoke("explain", "-r", "lec-generic", str(f), "--format", "json")
        assert code == 1
        assert [(d["index"], d["line"], d["id"]) for d in records(out)] == [(0, 1, "a"), (1, 2, "b")]


class TestExitCodes:
    def test_ok(self) -> None:
        assert invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-job.yaml"))[0] == 0

    def test_bad_record_vs_missing_file(self) -> None:
        assert invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"))[0] == 1
        assert invoke("grade", "-r", "lec-generic", "does-not-exist.jsonl")[0] == 2

    def test_broken_ruleset_vs_failed_case(self, write_ruleset: Callable[..., str]) -> None:
        broken = write_ruleset(MINIMAL.replace("cite: {source: s}", "cite: {source: nope}"), name="broken.yaml")
        assert invoke("grade", "-r", broken, str(EXAMPLES / "lec-job.yaml"))[0] == 2
        assert invoke("test", broken)[0] == 2
        failing = write_ruleset(MINIMAL + "cases:\n  - note: wrong on purpose\n    facts: {x: 1}\n"
                                "    want: {level: RED}\n", name="failing.yaml")
        assert invoke("test", failing)[0] == 1

    def test_json_load_errors_are_json_on_stdout(self, write_ruleset: Callable[..., str],
                                                 tmp_path: pathlib.Path) -> None:
        code, out = invoke("grade", "-r", "nope", str(EXAMPLES / "lec-job.yaml"), "--format", "json")
        assert code == 2
        (rec,) = records(out)
        assert (rec["error"], rec["load"]) == ("unknown-ruleset", "ruleset")
        bad = tmp_path / "f.yaml"
        bad.write_text("L: [3\n", encoding="utf-8")
        code, out = invoke("grade", "-r", "lec-generic", str(bad), "--format", "json")
        assert code == 2
        (rec,) = records(out)
        assert (rec["error"], rec["load"], rec["record"]) == ("bad-syntax", "facts", str(bad))

    def test_help_documents_the_table(self) -> None:
        out = invoke("--help")[1]
        for n in "0123":
            assert f"\n    {n}  " in out


class TestStdin:
    def test_dash_reads_stdin(self) -> None:
        code, out = invoke("grade", "-r", "lec-generic", "-", "--format", "json",
                           input='{"id": "a", "L": 3, "E": 6, "C": 15}\n\n')
        assert code == 1
        assert [(d["record"], d.get("level") or d["error"]) for d in records(out)] == [
            ("<stdin>:1", "ORANGE"), ("<stdin>:2", "blank-line")]

    def test_streams_while_input_arrives(self) -> None:
        """A real subprocess: each result comes back before the next line is written."""
        cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "grade", "-r", "lec-generic", "-",
               "--format", "json", "--no-receipt"]
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env={**os.environ, "LANG": "C.UTF-8"}) as proc:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                for i, c in enumerate((15, 40, 100)):
                    proc.stdin.write(json.dumps({"id": i, "L": 3, "E": 6, "C": c}).encode() + b"\n")
                    proc.stdin.flush()
                    line = proc.stdout.readline()  # blocks until that record's result is out
                    assert (json.loads(line)["id"], json.loads(line)["index"]) == (i, i)
                proc.stdin.close()
                assert proc.stdout.read() == b""
                assert proc.wait(timeout=120) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()


class TestReceipt:
    def test_receipt_contents(self) -> None:
        a = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15})
        r = a.receipt({"L": 3, "E": 6, "C": 15})
        assert r["riskgrade"] == riskgrade.__version__
        assert r["ruleset"] == a.ruleset.to_dict()
        assert r["inputs_sha256"] == canonical_sha256({"C": 15, "E": 6, "L": 3})
        assert r["facts_sha256"] == canonical_sha256({"L": 3, "E": 6, "C": 15})
        assert {p["dist"] for p in r["plugins"]} >= ({"riskgrade-baiyin"} if os.environ.get(
            "RISKGRADE_REQUIRE_PLUGINS") else set())
        jsonschema.Draft202012Validator(schema_for("result")).validate(a.to_dict(receipt=True))

    def test_replays_byte_identically(self) -> None:
        _, first = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json")
        _, again = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-jobs.jsonl"), "--format", "json")
        assert first == again
        results = [d for d in records(first) if "level" in d]
        for d in results:
            # the regulator's check: re-grade the recorded inputs with the recorded ruleset, same receipt
            rs = riskgrade.load(d["ruleset"]["id"])
            assert rs.fingerprint == d["receipt"]["ruleset"]["fingerprint"]
            again_r = rs.grade(d["inputs"]).receipt()
            assert again_r["inputs_sha256"] == d["receipt"]["inputs_sha256"]

    def test_no_receipt(self) -> None:
        _, out = invoke("grade", "-r", "lec-generic", str(EXAMPLES / "lec-job.yaml"), "--format", "json",
                        "--no-receipt")
        assert "receipt" not in records(out)[0]


class TestIndex:
    def test_fast_head_equals_full_parse(self) -> None:
        files = list(registry.shipped_files())
        assert len(files) > 20
        for path in files:
            with open(path, encoding="utf-8") as fh:
                full = yaml.safe_load(fh)
            want = {k: v for k, v in full.items() if k in registry.HEAD_KEYS}
            assert registry._fast_head(pathlib.Path(path).read_text(encoding="utf-8")) == want, path

    def test_unusual_files_fall_back_to_a_full_parse(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "r.yaml"
        f.write_text("base: &b {id: x}\nid: *b\n", encoding="utf-8")
        assert registry.head(str(f)) == {"id": {"id": "x"}}
        f.write_text("---\nid: y\nversion: '1'\n", encoding="utf-8")
        assert registry.head(str(f)) == {"id": "y", "version": "1"}

    def test_a_changed_file_is_read_again(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "r.yaml"
        f.write_text("id: a\n", encoding="utf-8")
        assert registry.head(str(f)) == {"id": "a"}
        time.sleep(0.01)
        f.write_text("id: bb\n", encoding="utf-8")
        assert registry.head(str(f)) == {"id": "bb"}
