"""Proofs at load (riskgrade._compile.lint): monotone bands, static types, cases checked against the
inputs, and the warnings (unreachable and shadowed rules, unused inputs and tables)."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli.main import main
from riskgrade.exceptions import RulesetError

from .conftest import MINIMAL

ROOT = pathlib.Path(__file__).resolve().parent.parent
Write = Callable[..., str]

CASE = "cases:\n  - note: low\n    facts: {x: 5}\n    want: {level: BLUE, fired: [r]}\n"


def errors(path: str) -> list[tuple[int, str]]:
    with pytest.raises(RulesetError) as ei:
        riskgrade.load(path)
    return [(p.line, p.code) for p in ei.value.problems]


def line_of(path: str, text: str) -> int:
    return next(i for i, ln in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1)
                if text in ln)


class TestMonotoneBands:
    def test_a_level_that_falls_is_an_error_at_its_row(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace("{from: 20, to: 30, level: ORANGE}", "{from: 20, to: 30, level: BLUE}"))
        assert errors(path) == [(line_of(path, "from: 20, to: 30"), "band-not-monotone")]

    def test_a_cited_exception_on_the_row_is_accepted(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace(
            "{from: 20, to: 30, level: ORANGE}",
            "{from: 20, to: 30, level: BLUE, exception: {cite: {source: s, clause: '4.2'}}}") + CASE)
        assert riskgrade.load(path).grade({"x": 25}).level is riskgrade.Level.BLUE

    def test_the_exception_cites_a_defined_source(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace(
            "{from: 20, to: 30, level: ORANGE}", "{from: 20, to: 30, level: BLUE, exception: {cite: {source: nope}}}"))
        assert errors(path) == [(line_of(path, "from: 20, to: 30"), "unknown-source")]

    def test_falling_bands_must_never_rise(self, write_ruleset: Write) -> None:
        falling = MINIMAL.replace("    closed: upper\n", "    closed: upper\n    falling: {cite: {source: s}}\n")
        ok = falling.replace("level: BLUE}", "level: X}").replace("level: RED}", "level: BLUE}").replace(
            "level: X}", "level: RED}").replace("to: 20, level: YELLOW", "to: 20, level: ORANGE").replace(
            "to: 30, level: ORANGE", "to: 30, level: YELLOW")
        assert riskgrade.load(write_ruleset(ok + CASE.replace("BLUE", "RED"))).grade({"x": 95}).level.name == "BLUE"
        path = write_ruleset(falling)
        assert [c for _, c in errors(path)] == ["band-not-monotone"] * 3

    def test_the_shipped_diagnosis_bands_fall_by_their_clause(self) -> None:
        rs = riskgrade.load("hazchem-enterprise-2018")
        assert rs.doc["bands"]["diagnosis"]["falling"]["cite"]["source"] == "guide-2018"


class TestTypes:
    def test_text_compared_with_a_number(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                                             "  x: {type: number, min: 0, max: 100}\n  grade: {type: string}\n")
                             + "  - {id: d, method: direct, when: grade == 3, level: RED, cite: {source: s}}\n")
        assert errors(path) == [(line_of(path, "grade == 3"), "type-compare")]

    def test_an_enum_of_numbers_compared_with_text(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                                             "  x: {type: number, min: 0, max: 100}\n  k: {type: enum, values: [1, 2]}\n")
                             + "  - {id: d, method: direct, when: \"k in ['1', 2]\", level: RED, cite: {source: s}}\n")
        assert [c for _, c in errors(path)] == ["type-compare"]

    def test_an_optional_input_without_default_in_a_formula(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                                             "  x: {type: number, min: 0, max: 100, required: false}\n"))
        assert errors(path) == [(line_of(path, "expr: x"), "optional-no-default")]

    def test_a_guarded_optional_input_is_accepted(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                                             "  x: {type: number, min: 0, max: 100}\n  y: {type: number, required: false}\n")
                             + "  - {id: d, method: direct, when: y != None and y > 3, level: RED, cite: {source: s}}\n"
                             + CASE)
        rs = riskgrade.load(path)
        assert (rs.grade({"x": 5}).level.name, rs.grade({"x": 5, "y": 4}).level.name) == ("BLUE", "RED")

    def test_a_default_makes_it_safe(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                                             "  x: {type: number, min: 0, max: 100, default: 0}\n") + CASE)
        assert riskgrade.load(path).grade({}).level.name == "BLUE"


class TestCases:
    def test_facts_are_checked_against_the_inputs(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL + "cases:\n  - note: bad\n    facts: {x: '5', y: 1}\n    want: {level: BLUE}\n"
                             "  - note: off scale\n    facts: {x: 500}\n    want: {level: RED}\n")
        line = line_of(path, "facts: {x: '5'")
        assert errors(path) == [(line, "bad-case"), (line, "bad-case"), (line_of(path, "x: 500"), "bad-case")]

    def test_a_case_expecting_an_error_may_have_bad_facts(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL + "cases:\n  - note: bad\n    facts: {x: '5'}\n"
                             "    want_error: {code: wrong-type, field: x}\n")
        assert riskgrade.load(path).run_cases()[0].ok

    def test_unknown_rules_values_and_codes(self, write_ruleset: Write) -> None:
        path = write_ruleset(MINIMAL + "cases:\n  - note: a\n    facts: {x: 5}\n"
                             "    want: {level: BLUE, fired: [rr], not_fired: [q], values: {scor: 5}}\n"
                             "  - note: b\n    facts: {x: -1}\n    want_error: {code: out-of-ranges}\n")
        with pytest.raises(RulesetError) as ei:
            riskgrade.load(path)
        by_code = {p.code: p for p in ei.value.problems}
        assert sorted(ei.value.codes) == ["unknown-code", "unknown-name", "unknown-rule", "unknown-rule"]
        assert by_code["unknown-code"].hint == "did you mean 'out-of-range'?"
        assert by_code["unknown-name"].hint == "did you mean 'score'?"
        assert by_code["unknown-rule"].line == line_of(path, "fired: [rr]")


class TestWarnings:
    TEXT = MINIMAL.replace(
        "  x: {type: number, min: 0, max: 100}\n",
        "  x: {type: number, min: 0, max: 100}\n  kind: {type: enum, values: [a, b]}\n  spare: {type: bool, default: false}\n"
    ).replace("bands:\n", "tables:\n  t: {key: k, columns: {k: string}, rows: [{k: a}]}\nbands:\n") + (
        "  - {id: never, method: direct, when: kind == 'c', level: RED, cite: {source: s}}\n"
        "  - {id: low, method: direct, when: x > 50, level: BLUE, cite: {source: s}}\n"
        "cases:\n  - note: a\n    facts: {x: 5, kind: a}\n    want: {level: BLUE}\n")

    def test_warnings_do_not_stop_a_load(self, write_ruleset: Write) -> None:
        path = write_ruleset(self.TEXT)
        rs = riskgrade.load(path)
        got = [(w.line, w.code, w.severity) for w in rs.warnings]
        assert got == [(line_of(path, "spare:"), "unused-input", "warning"),
                       (line_of(path, "  t: {key"), "unused-table", "warning"),
                       (line_of(path, "id: never"), "unreachable-rule", "warning"),
                       (line_of(path, "id: low"), "shadowed-rule", "warning")]
        assert all(w.message_zh and w.hint and w.hint_zh for w in rs.warnings)

    def test_allow_marks_a_deliberate_exception(self, write_ruleset: Write) -> None:
        text = self.TEXT.replace("spare: {type: bool, default: false}",
                                 "spare: {type: bool, default: false, allow: {unused-input: kept for the register}}")
        assert "unused-input" not in [w.code for w in riskgrade.load(write_ruleset(text)).warnings]

    def test_validate_prints_warnings_and_exits_0(self, write_ruleset: Write) -> None:
        path = write_ruleset(self.TEXT)
        r = CliRunner().invoke(main, ["validate", "--lang", "en", path])
        assert r.exit_code == 0
        assert f"{path}:{line_of(path, 'spare:')}:3: unused-input [warning]: input 'spare' is read by no rule" in r.output
        assert r.output.rstrip().endswith(f"{path}: valid (4 warnings)")

    def test_strict_makes_warnings_errors(self, write_ruleset: Write) -> None:
        path = write_ruleset(self.TEXT)
        r = CliRunner().invoke(main, ["validate", "--strict", "--lang", "zh", path])
        assert r.exit_code == 1
        assert "unreachable-rule [警告]: 规则 'never' 永远不会触发" in r.output
        assert r.output.rstrip().endswith(f"{path}: 失败 (4 个警告)")

    def test_json_format(self, write_ruleset: Write) -> None:
        path = write_ruleset(self.TEXT)
        r = CliRunner().invoke(main, ["validate", "--format", "json", "--strict", path])
        rec = json.loads(r.output)
        assert (r.exit_code, rec["valid"], rec["errors"], len(rec["warnings"])) == (1, False, [], 4)
        assert rec["warnings"][0]["severity"] == "warning" and rec["warnings"][0]["message_zh"]


def test_every_shipped_ruleset_passes_validate_strict() -> None:
    r = CliRunner().invoke(main, ["validate", "--strict", "--lang", "en", str(ROOT / "rulesets")])
    assert r.exit_code == 0, r.output
    assert "warning" not in r.output
