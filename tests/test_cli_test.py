"""``riskgrade test``: located failures, coverage (rules, band rows, criteria), -k, --min-coverage,
JSON lines and JUnit output; and the library's :func:`riskgrade.coverage`."""

from __future__ import annotations

import json
import pathlib
import xml.etree.ElementTree as ET
from collections.abc import Callable

from click.testing import CliRunner

import riskgrade
from riskgrade._cli.main import main

from .conftest import MINIMAL

ROOT = pathlib.Path(__file__).resolve().parent.parent

COMPOSITE = MINIMAL + """\
  - id: c
    method: composite
    at_least: 2
    level: RED
    criteria:
      - {id: big, when: x > 90}
      - {id: odd, when: x == 95}
      - {id: never, when: x > 1000}
    cite: {source: s}
  - id: d
    method: direct
    when: x == 42
    level: YELLOW
    cite: {source: s}
cases:
  - note: low x
    facts: {x: 5}
    want: {level: BLUE, fired: [r]}
  - note: the red one
    facts: {x: 95}
    want: {level: RED, fired: [r, c]}
  - note: wrong on purpose
    facts: {x: 15}
    want: {level: RED}
  - note: an error is expected
    facts: {x: -1}
    want_error: {code: out-of-range, field: x}
"""


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def _line_of(path: str, text: str) -> int:
    lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, 1) if text in ln)


def test_a_failure_is_located_at_its_case_with_want_and_got(write_ruleset: Callable[..., str]) -> None:
    path = write_ruleset(COMPOSITE)
    code, out = invoke("test", path, "--lang", "en")
    assert code == 1
    line = _line_of(path, "note: wrong on purpose")
    assert f"FAIL  {path}:{line}: tiny #2: wrong on purpose" in out
    assert "level: want RED, got YELLOW" in out
    assert '      want: {"level":"RED"}' in out
    assert '      got:  {"fired":["r"],"level":"YELLOW"' in out
    assert out.splitlines()[-1] == "3 passed, 1 failed"


def test_text_reports_what_no_case_exercises(write_ruleset: Callable[..., str]) -> None:
    path = write_ruleset(COMPOSITE)
    _, out = invoke("test", path, "--lang", "en")
    # 3 rules + 4 band rows + 3 criteria = 10 items; covered: r, c, rows BLUE/YELLOW/RED, big, odd
    assert f"{path}: tiny 0.1: 4 cases, coverage 70% (7/10)" in out
    assert f"{path}:{_line_of(path, '- id: d')}:5: uncovered: rule d" in out
    assert f"{path}:{_line_of(path, 'from: 20, to: 30')}:9: uncovered: rule r band row 20 < score ≤ 30" in out
    assert f"{path}:{_line_of(path, 'id: never')}:9: uncovered: rule c criterion never" in out
    _, zh = invoke("test", path, "--lang", "zh")
    assert "uncovered(没有用例覆盖这条规则、分档行或判定项): 规则 c 判定项 never" in zh
    assert "覆盖率 70%" in zh


def test_json_lines_one_object_per_file(write_ruleset: Callable[..., str]) -> None:
    a, b = write_ruleset(COMPOSITE), write_ruleset(MINIMAL)
    code, out = invoke("test", a, b, "--format", "json")
    assert code == 1
    first, second = (json.loads(ln) for ln in out.splitlines())
    assert first["ruleset"] == "tiny" and first["file"] == a
    cov = first["coverage"]
    assert cov["rules"] == {"r": 3, "c": 1, "d": 0}
    assert cov["uncovered"] == ["d"]
    assert cov["percent"] == 70.0
    assert cov["bands"]["r"] == {"score ≤ 10": 1, "10 < score ≤ 20": 1, "20 < score ≤ 30": 0, "score > 30": 1}
    assert cov["criteria"] == {"c": {"big": 1, "odd": 1, "never": 0}}
    assert [c["ok"] for c in first["cases"]] == [True, True, False, True]
    bad = first["cases"][2]
    assert bad["line"] == _line_of(a, "note: wrong on purpose") and bad["want"] == {"level": "RED"}
    assert bad["got"]["level"] == "YELLOW"
    # a ruleset with no cases is reported, at 0 %
    assert second["cases"] == [] and second["coverage"]["percent"] == 0.0
    assert [p["code"] for p in second["problems"]] == ["no-cases"]


def test_no_cases_fails_the_run(write_ruleset: Callable[..., str]) -> None:
    code, out = invoke("test", write_ruleset(MINIMAL), "--lang", "en")
    assert code == 1
    assert "no-cases: tiny has no cases (counts as 0% coverage)" in out
    assert out.splitlines()[-1] == "0 passed, 0 failed, 1 rulesets without cases"


def test_min_coverage(write_ruleset: Callable[..., str]) -> None:
    path = write_ruleset(COMPOSITE.replace("    want: {level: RED}\n", "    want: {level: YELLOW}\n"))
    assert invoke("test", path, "--min-coverage", "70")[0] == 0
    code, out = invoke("test", path, "--min-coverage", "70.1", "--lang", "en")
    assert code == 1
    assert "low-coverage: tiny: coverage 70% < 70.1%" in out
    assert out.splitlines()[-1].endswith("1 rulesets below the minimum coverage (70.1%)")
    assert invoke("test", str(ROOT / "rulesets" / "lec-generic.yaml"), "--min-coverage", "100")[0] == 0


def test_k_selects_cases_by_note_or_rule(write_ruleset: Callable[..., str]) -> None:
    path = write_ruleset(COMPOSITE)
    code, out = invoke("test", path, "-k", "RED ONE", "--format", "json")
    (rec,) = map(json.loads, out.splitlines())
    assert code == 0
    assert [c["note"] for c in rec["cases"]] == ["the red one"]
    assert rec["coverage"]["rules"] == {"r": 1, "c": 1, "d": 0}
    _, out = invoke("test", path, "-k", "c", "--format", "json")  # fires rule c, or "c" in the note
    assert {c["index"] for c in json.loads(out)["cases"]} == {1, 3}


def test_junit_is_valid_xml_for_ci(write_ruleset: Callable[..., str]) -> None:
    a, b = write_ruleset(COMPOSITE), write_ruleset(MINIMAL)
    broken = write_ruleset(MINIMAL.replace("cite: {source: s}", "cite: {source: nope}"))
    code, out = invoke("test", a, b, broken, "--format", "junit", "--min-coverage", "50")
    assert code == 2  # a file that does not load (2) outranks a failing case (1)
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 3
    s1 = suites[0]
    assert (s1.get("name"), s1.get("tests"), s1.get("failures"), s1.get("errors")) == ("tiny", "5", "1", "0")
    failed = [tc for tc in s1.iter("testcase") if tc.find("failure") is not None]
    assert [tc.get("name") for tc in failed] == ["#2 wrong on purpose"]
    assert failed[0].get("line") == str(_line_of(a, "note: wrong on purpose"))
    assert s1.find("properties/property[@name='coverage']").get("value") == "70"  # type: ignore[union-attr]
    cov_case = suites[1].find("testcase[@name='coverage']")
    assert cov_case is not None and cov_case.find("failure") is not None       # no cases
    assert suites[2].get("errors") == "1"
    assert root.get("tests") == str(sum(int(s.get("tests") or 0) for s in suites))


def test_the_library_function() -> None:
    rs = riskgrade.load("hazchem-enterprise-2018")
    assert riskgrade.coverage(rs).percent == 100.0
    # without the one case of a 二级 installation, its floor rule is uncovered
    cov = riskgrade.coverage(rs, cases=[i for i, c in enumerate(rs.cases) if "二级" not in c["note"]])
    assert isinstance(cov, riskgrade.Coverage)
    assert cov.uncovered == ("floor-mhi-2",)
    assert cov.rules["floor-mhi-2"] == 0 and cov.percent == round(100 * 11 / 12, 1)
    assert riskgrade.coverage(rs, cases=()).percent == 0.0
    assert set(cov.to_dict()) >= {"rules", "uncovered", "percent"}


def test_a_layer_file_is_tested_with_its_own_cases() -> None:
    import os

    import pytest

    jingyuan = pytest.importorskip("riskgrade_jingyuan")
    path = os.path.join(os.path.dirname(jingyuan.__file__), "layers", "lec-generic.yaml")
    code, out = invoke("test", path, "--format", "json")
    rec = json.loads(out)
    assert code == 0
    assert {c["file"] for c in rec["cases"]} == {path}
    assert len(rec["cases"]) == 3
