"""What a standards author meets when a file is wrong (found by a hostile review of the authoring path):
a misspelt ``kind`` is reported, not passed over; the CLI reads YAML under the limits; a source that
does not say it is verified is not shown as verified; a link never reads the current directory; CSV
tables refuse ragged rows and non-finite numbers and read a byte order mark; a case's ``want`` must
check something and a ``want_error`` case shows what it wanted; booleans are not integers; a key with
no value is a located ``wrong-type``; a closed output pipe is exit 141, not an internal error."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade.exceptions import RulesetError

BASE = """\
riskgrade: 1
id: base-test
title: {zh: 测试, en: test}
sector: general
jurisdiction: "620000"
version: "1.0.0"
edition: "2020"
effective: 2020-12-01
sources:
  s1:
    title: {zh: 来源, en: source}
    status: verified
inputs:
  x:
    type: number
    label: {zh: 分值, en: score}
    min: 0
bands:
  b:
    source: s1
    closed: upper
    rows:
      - {to: 10, level: BLUE}
      - {from: 10, to: 20, level: YELLOW}
      - {from: 20, level: RED}
rules:
  - id: r
    label: {zh: 规则, en: rule}
    method: score
    expr: x
    bands: b
    cite: {source: s1, clause: "1", basis: clause}
score: score
cases:
  - {note: a, facts: {x: 5}, want: {level: BLUE}}
  - {note: b, facts: {x: 15}, want: {level: YELLOW}}
  - {note: c, facts: {x: 25}, want: {level: RED}}
"""


def write(tmp: pathlib.Path, text: str, name: str = "rs.yaml") -> str:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


def test_the_base_file_is_valid_and_passes(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, BASE)
    assert run("validate", path)[0] == 0
    assert run("test", path)[0] == 0


def test_a_misspelt_kind_is_reported_by_validate_and_test(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, BASE.replace("id: base-test\n", "kind: rulset\nid: base-test\n"))
    code, out = run("validate", path)
    assert code == 1 and f"{path}:2:7: bad-value" in out and "'ruleset'" in out
    code, out = run("test", path)
    assert code == 2 and "bad-value" in out


def test_validate_reads_yaml_under_the_limits_only(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No unbounded parse before the checked reader (a 2 MB flow list took 50 s and 671 MB that way)."""
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("yaml.safe_load called")

    monkeypatch.setattr(yaml, "safe_load", refuse)
    path = write(tmp_path, BASE)
    assert run("validate", path)[0] == 0
    assert run("test", path)[0] == 0


def test_supervision_files_are_validated(tmp_path: pathlib.Path) -> None:
    root = pathlib.Path(__file__).resolve().parent.parent / "rulesets" / "supervision"
    code, out = run("validate", str(root))
    assert code == 0 and out.count(": valid") == len(list(root.glob("*.yaml")))


def test_a_source_without_a_status_is_unverified(tmp_path: pathlib.Path) -> None:
    rs = riskgrade.load(write(tmp_path, BASE.replace("    status: verified\n", "")))
    cite = rs.grade({"x": 5}).to_dict()["fired"][0]["citation"]
    assert cite["status"] == "unverified"
    rs = riskgrade.load(write(tmp_path, BASE, "v.yaml"))
    assert rs.grade({"x": 5}).to_dict()["fired"][0]["citation"]["status"] == "verified"


LINKER = (BASE.replace("inputs:\n", "links:\n  lk: {ruleset: lec-generic, facts: job, label: {zh: 子, en: sub}}\ninputs:\n")
          .replace("    expr: x\n", "    expr: x + (100 if lk_level >= RED else 0)\n")
          .replace("cases:\n", "cases: []\nunused:\n"))
IMPOSTOR = (BASE.replace("id: base-test", "id: lec-generic")
            .replace("  x:\n    type: number\n    label: {zh: 分值, en: score}\n    min: 0\n",
                     "  L: {type: number}\n  E: {type: number}\n  C: {type: number}\n")
            .replace("    expr: x\n", "    expr: 1000 + L * E * C\n").split("cases:")[0] + "cases: []\n")


def test_a_link_to_an_id_never_reads_the_current_directory(tmp_path: pathlib.Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A file named like the shipped id in the current directory (always RED) does not change the grade."""
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "lec-generic").write_text(IMPOSTOR, encoding="utf-8")
    path = write(tmp_path, LINKER.split("unused:")[0], "linker.yaml")
    facts = {"x": 1, "job": {"L": 1, "E": 1, "C": 1}}
    elsewhere = riskgrade.load(path).grade(facts)
    monkeypatch.chdir(tmp_path / "here")
    beside_impostor = riskgrade.load(path).grade(facts)
    assert elsewhere.level.name == beside_impostor.level.name == "BLUE" and beside_impostor.score == 1
    for ref in ("/etc/passwd", str(tmp_path / "linker.YAML"), "here/lec-generic"):
        bad = LINKER.split("unused:")[0].replace("ruleset: lec-generic", f"ruleset: '{ref}'")
        with pytest.raises(RulesetError) as err:
            riskgrade.load(write(tmp_path, bad, "bad.yaml"))
        assert "unknown-ruleset" in [p.code for p in err.value.problems]


CSV_RS = BASE.replace("rules:\n", "tables:\n  tbl:\n    csv: t.csv\n    key: name\n    columns: {name: string, w: number}\nrules:\n")


@pytest.mark.parametrize(("text", "message"), [
    ("name,w\na,1\nb,2,3\n", "t.csv:3: the row has 1 cell more"),
    ("name,w\na,1\nb\n", "t.csv:3: the row has fewer cells"),
    ("name,w\na，1\n", "t.csv:2: the row has fewer cells"),
    ("name,w\na,1\nb,nan\n", "t.csv:3: column 'w' must be a finite number, got 'nan'"),
    ("name,w\na,inf\n", "t.csv:2: column 'w' must be a finite number"),
])
def test_a_bad_csv_row_is_a_located_csv_value(tmp_path: pathlib.Path, text: str, message: str) -> None:
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError) as err:
        riskgrade.load(write(tmp_path, CSV_RS))
    assert [(p.code, message in p.message) for p in err.value.problems][:1] == [("csv-value", True)]


def test_a_csv_with_a_byte_order_mark_reads(tmp_path: pathlib.Path) -> None:
    (tmp_path / "t.csv").write_bytes("\ufeffname,w\na,1\n".encode())
    riskgrade.load(write(tmp_path, CSV_RS))


def test_an_inline_row_with_nan_is_refused(tmp_path: pathlib.Path) -> None:
    text = BASE.replace("rules:\n", "tables:\n  tbl:\n    key: name\n    columns: {name: string, w: number}\n"
                        "    rows:\n      - {name: a, w: .nan}\nrules:\n")
    with pytest.raises(RulesetError) as err:
        riskgrade.load(write(tmp_path, text))
    assert "finite" in str(err.value)


def test_an_empty_want_is_refused_and_a_want_error_case_shows_its_want(tmp_path: pathlib.Path) -> None:
    with pytest.raises(RulesetError) as err:
        riskgrade.load(write(tmp_path, BASE.replace("want: {level: RED}", "want: {}")))
    assert [p.code for p in err.value.problems] == ["missing-key"] and "checks nothing" in str(err.value)
    path = write(tmp_path, BASE.replace("want: {level: YELLOW}", "want_error: {code: out-of-range, field: x}"), "e.yaml")
    code, out = run("test", path)
    assert code == 1 and 'want: {"code":"out-of-range","field":"x"}' in out


@pytest.mark.parametrize("edit", [("riskgrade: 1", "riskgrade: true")])
def test_a_boolean_is_not_an_integer(tmp_path: pathlib.Path, edit: tuple[str, str]) -> None:
    with pytest.raises(RulesetError) as err:
        riskgrade.load(write(tmp_path, BASE.replace(*edit)))
    assert "wrong-type" in [p.code for p in err.value.problems]


def test_a_key_without_a_value_is_a_located_wrong_type(tmp_path: pathlib.Path) -> None:
    text = BASE.replace('    cite: {source: s1, clause: "1", basis: clause}\n', "    cite: ~\n")
    with pytest.raises(RulesetError) as err:
        riskgrade.load(write(tmp_path, text))
    (p,) = err.value.problems
    assert (p.code, p.line) == ("wrong-type", 32) and "'cite' has no value" in p.message
    assert "nullable" not in p.message


@pytest.mark.parametrize("code", ["expr-subscript", "expr-dict", "expr-fstring", "expr-walrus", "expr-lambda"])
def test_every_expression_code_is_described_in_both_languages(code: str) -> None:
    assert riskgrade.describe(code, "zh") and riskgrade.describe(code, "en")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a POSIX pipe")
def test_a_closed_output_pipe_is_exit_141_quietly(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "f.jsonl"
    facts.write_text("".join('{"L": 3, "E": 6, "C": 7}\n' for _ in range(20000)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", "from riskgrade._cli import main; main()", "grade", "-r",
                             "lec-generic", str(facts), "--format", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "RISKGRADE_CACHE": "0"})
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and b"internal error" not in err and b"Traceback" not in err
