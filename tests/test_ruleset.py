"""The ruleset compiler: located, collected, sorted problems; grading behaviour."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

import riskgrade
from riskgrade import FactError, Level, RulesetError

from .conftest import MINIMAL

Write = Callable[..., str]


def problems(path: str) -> list[tuple[int, int, str]]:
    with pytest.raises(RulesetError) as ei:
        riskgrade.load(path)
    return [(p.line, p.col, p.code) for p in ei.value.problems]


class TestLoad:
    def test_minimal_loads_and_grades(self, write_ruleset: Write) -> None:
        rs = riskgrade.load(write_ruleset(MINIMAL))
        assert [rs.grade({"x": x}).level for x in (0, 10, 10.5, 20, 25, 30, 31, 100)] == [
            Level.BLUE, Level.BLUE, Level.YELLOW, Level.YELLOW, Level.ORANGE, Level.ORANGE, Level.RED, Level.RED]

    def test_closed_lower(self, write_ruleset: Write) -> None:
        rs = riskgrade.load(write_ruleset(MINIMAL.replace("closed: upper", "closed: lower")))
        assert [rs.grade({"x": x}).level for x in (9.9, 10, 20, 30)] == [
            Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED]

    def test_unknown_shipped_id(self) -> None:
        with pytest.raises(RulesetError) as ei:
            riskgrade.load("no-such-ruleset")
        assert ei.value.codes == ["unknown-ruleset"]
        assert "lec-generic" in str(ei.value)

    def test_same_object_when_cached(self) -> None:
        assert riskgrade.load("lec-generic") is riskgrade.load("lec-generic")


class TestProblems:
    def test_schema_problems_collected_sorted_and_located(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("  x: {type: number, min: 0, max: 100}",
                               "  x: {type: number, min: 0, max: 100, colour: red}")
        text = text.replace("sector: general", "sector: mining").replace("edition: test\n", "")
        path = write_ruleset(text)
        assert problems(path) == [(1, 1, "missing-key"), (4, 9, "bad-value"), (11, 39, "unknown-key")]
        with pytest.raises(RulesetError) as ei:
            riskgrade.load(path)
        assert str(ei.value).splitlines()[2] == f"{path}:11:39: unknown-key: unknown key 'colour'"

    def test_semantic_problems_collected_sorted_and_located(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("      - {from: 20, to: 30, level: ORANGE}", "      - {from: 21, to: 30, level: ORANGE}")
        text = text.replace("    expr: x\n", "    expr: x + y\n")
        text = text.replace("    cite: {source: s}", "    cite: {source: nope}")
        assert problems(write_ruleset(text)) == [(19, 16, "band-gap"), (24, 15, "unknown-name"),
                                                 (26, 20, "unknown-source")]

    def test_schema_and_later_problems_together(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("  x: {type: number, min: 0, max: 100}",
                               "  x: {type: number, min: 0, max: 100, colour: red}")
        text = text.replace("      - {from: 20, to: 30, level: ORANGE}", "      - {from: 21, to: 30, level: ORANGE}")
        text = text.replace("    expr: x\n", "    expr: x + y\n")
        assert problems(write_ruleset(text)) == [(12, 39, "unknown-key"), (19, 16, "band-gap"),
                                                 (24, 15, "unknown-name")]

    def test_band_overlap(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("{from: 20, to: 30, level: ORANGE}", "{from: 15, to: 30, level: ORANGE}")
        assert problems(write_ruleset(text)) == [(19, 16, "band-overlap")]

    def test_band_open_top(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("{from: 30, level: RED}", "{from: 30, to: 40, level: RED}")
        assert [c for _, _, c in problems(write_ruleset(text))] == ["band-gap"]

    def test_band_open_bottom(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("{to: 10, level: BLUE}", "{from: 0, to: 10, level: BLUE}")
        assert [c for _, _, c in problems(write_ruleset(text))] == ["band-gap"]

    def test_wrong_type_and_missing_key(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace('version: "0.1"\n', "").replace("sector: general", "sector: [general]")
        got = problems(write_ruleset(text))
        assert [c for _, _, c in got] == ["missing-key", "wrong-type"]

    def test_unknown_table(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("  x: {type: number, min: 0, max: 100}", "  x: {type: number, table: nope}")
        assert [c for _, _, c in problems(write_ruleset(text))] == ["unknown-table"]

    def test_lookup_unknown_table_in_expression(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("    expr: x\n", "    expr: lookup('nope', x, 'v')\n")
        assert problems(write_ruleset(text)) == [(24, 11, "expr-argument")]

    def test_no_default_level(self, write_ruleset: Write) -> None:
        text = MINIMAL.split("rules:")[0] + "rules:\n  - {id: d, method: direct, when: x > 5, level: RED, cite: {source: s}}\n"
        assert [c for _, _, c in problems(write_ruleset(text))] == ["no-default-level"]

    def test_duplicate_yaml_key(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("edition: test\n", "edition: test\nedition: again\n")
        assert problems(write_ruleset(text)) == [(8, 1, "duplicate-key")]

    def test_yaml_syntax(self, write_ruleset: Write) -> None:
        assert [c for _, _, c in problems(write_ruleset(MINIMAL + "  - [unclosed\n"))] == ["yaml-syntax"]

    def test_derive_cycle(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("rules:", "derive:\n  a: b + 1\n  b: a + 1\nrules:")
        assert "derive-cycle" in [c for _, _, c in problems(write_ruleset(text))]

    def test_hostile_expression(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("    expr: x\n", "    expr: \"().__class__\"\n")
        assert [c for _, _, c in problems(write_ruleset(text))] == ["expr-dunder"]

    def test_unknown_method(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("method: score", "method: magic")
        assert [c for _, _, c in problems(write_ruleset(text))] == ["unknown-method"]

    def test_problem_limit(self, write_ruleset: Write) -> None:
        extra = "".join(f"  k{i}: 1\n" for i in range(150))
        text = MINIMAL.replace("sources:", "tables:\n  t:\n    key: a\n    columns: {a: string}\n"
                               "    rows: []\n" + "    unknown:\n" + extra.replace("  k", "      k") + "sources:")
        with pytest.raises(RulesetError) as ei:
            riskgrade.load(write_ruleset(text))
        assert len(ei.value.problems) == 1  # only 'unknown' itself is an unknown key: its children are data
        assert ei.value.codes == ["unknown-key"]


class TestFacts:
    def test_missing_fact(self) -> None:
        with pytest.raises(FactError) as ei:
            riskgrade.load("lec-generic").grade({"L": 3, "E": 6})
        assert (ei.value.code, ei.value.field) == ("missing-fact", "C")

    @pytest.mark.parametrize("facts,code,field", [
        ({"L": 3, "E": 6, "C": 10}, "not-allowed", "C"),
        ({"L": True, "E": 6, "C": 15}, "wrong-type", "L"),
        ({"L": None, "E": 6, "C": 15}, "wrong-type", "L"),
        ({"L": float("nan"), "E": 6, "C": 15}, "not-finite", "L"),
        ({"L": 3, "E": 6, "C": 15, "Z": 1}, "unknown-fact", "Z"),
    ])
    def test_bad_facts(self, facts: dict[str, object], code: str, field: str) -> None:
        with pytest.raises(FactError) as ei:
            riskgrade.load("lec-generic").grade(facts)
        assert (ei.value.code, ei.value.field) == (code, field)

    def test_meta_keys_allowed(self) -> None:
        a = riskgrade.load("lec-generic").grade({"id": "JOB-1", "L": 3, "E": 6, "C": 15})
        assert a.level is Level.ORANGE

    def test_not_a_mapping(self) -> None:
        with pytest.raises(FactError) as ei:
            riskgrade.load("lec-generic").grade([1, 2])  # type: ignore[arg-type]
        assert ei.value.code == "not-a-mapping"

    def test_range(self, write_ruleset: Write) -> None:
        rs = riskgrade.load(write_ruleset(MINIMAL))
        with pytest.raises(FactError) as ei:
            rs.grade({"x": 101})
        assert (ei.value.code, ei.value.field) == ("out-of-range", "x")
        with pytest.raises(FactError) as ei:
            rs.grade({"x": float("inf")})
        assert ei.value.code in ("out-of-range", "not-finite")


class TestGradeMany:
    def test_one_result_per_input_in_order(self) -> None:
        rs = riskgrade.load("lec-generic")
        out = list(rs.grade_many([{"L": 3, "E": 6, "C": 15}, {"L": 3}, "junk", {"L": 1, "E": 0.5, "C": 40}]))
        assert len(out) == 4
        assert out[0].level is Level.ORANGE  # type: ignore[union-attr]
        assert isinstance(out[1], FactError) and (out[1].record, out[1].field) == (1, "E")
        assert isinstance(out[2], FactError) and (out[2].record, out[2].code) == (2, "not-a-mapping")
        assert out[3].level is Level.BLUE  # type: ignore[union-attr]


class TestAssessment:
    def test_fields(self) -> None:
        rs = riskgrade.load("lec-generic")
        a = rs.grade({"L": 3, "E": 6, "C": 15})
        assert a.score == 270
        assert a.values == {"D": 270}
        assert [(f.id, f.level) for f in a.fired] == [("lec", Level.ORANGE)]
        assert a.fired[0].citation.source == "four-level-mapping"
        assert a.ruleset.id == "lec-generic" and a.ruleset.fingerprint == rs.fingerprint
        assert rs.fingerprint.startswith("sha256:") and len(rs.fingerprint) == 71

    def test_json_is_byte_identical_and_stable(self) -> None:
        rs = riskgrade.load("lec-generic")
        one = rs.grade({"L": 3, "E": 6, "C": 15}).to_json()
        two = rs.grade({"C": 15, "E": 6, "L": 3}).to_json()
        assert one == two
        d = json.loads(one)
        assert sorted(d) == ["fired", "inputs", "level", "level_zh", "ruleset", "schema", "score", "values"]
        assert d["level"] == "ORANGE" and d["level_zh"] == "较大风险" and d["schema"] == 1

    def test_trace_in_both_languages(self) -> None:
        a = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15})
        en = [s.kind for s in a.trace("en")]
        assert en == ["input", "input", "input", "rule", "decision"]
        zh = a.explain("zh")
        assert "D = L × E × C = 3 × 6 × 15 = 270" in zh and "较大风险" in zh
        assert "result: ORANGE high risk" in a.explain("en")

    def test_immutable(self) -> None:
        rs = riskgrade.load("lec-generic")
        with pytest.raises(AttributeError):
            rs.id = "x"  # type: ignore[misc]

    def test_shipped_cases_pass(self) -> None:
        for rid in ("lec-generic", "ls-matrix"):
            results = riskgrade.load(rid).run_cases()
            assert len(results) >= 10
            assert [r.problems for r in results if not r.ok] == []


RECORDS = MINIMAL.split("inputs:")[0] + """\
inputs:
  items:
    type: list
    fields:
      name: {type: string}
      q: {type: number, min: 0}
    derive:
      Q: lookup('crit', name, 'Q')
      share: q / Q
tables:
  crit:
    key: name
    columns: {name: string, Q: number}
    rows:
      - {name: ammonia, Q: 10}
      - {name: chlorine, Q: 5}
derive:
  S: sum(s.share for s in items)
  Q_each: "[s.Q for s in items]"
rules:
  - {id: major, method: direct, when: S >= 1, level: RED, cite: {source: s}}
otherwise: {level: BLUE, cite: {source: s, basis: derived}}
"""


class TestRecordDerive:
    def test_per_record_fields(self, write_ruleset: Write) -> None:
        rs = riskgrade.load(write_ruleset(RECORDS))
        a = rs.grade({"items": [{"name": "ammonia", "q": 20}, {"name": "chlorine", "q": 5}]})
        assert a.values == {"S": 3.0, "Q_each": [10, 5]}
        assert a.level is Level.RED

    def test_error_names_record_and_field(self, write_ruleset: Write) -> None:
        rs = riskgrade.load(write_ruleset(RECORDS))
        with pytest.raises(FactError) as ei:
            rs.grade({"items": [{"name": "ammonia", "q": 1}, {"name": "argon", "q": 5}]})
        assert (ei.value.code, ei.value.field) == ("not-in-table", "items[1].Q")
        assert "'argon'" in ei.value.message

    def test_unknown_name_in_record_derive(self, write_ruleset: Write) -> None:
        text = RECORDS.replace("share: q / Q", "share: q / QQ")
        assert [c for _, _, c in problems(write_ruleset(text))] == ["unknown-name"]


class TestReviewFindings:
    """Defects found in review, kept fixed."""

    def test_trailing_newline_in_a_name_is_rejected(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("  x: {type: number, min: 0, max: 100}", '  "x\\n": {type: number}')
        assert "bad-value" in [c for _, _, c in problems(write_ruleset(text))]

    @pytest.mark.parametrize("old,new", [
        ("{from: 30, level: RED}", "{from: .nan, level: RED}"),
        ("max: 100}", "max: .inf}"),
    ])
    def test_non_finite_numbers_rejected(self, write_ruleset: Write, old: str, new: str) -> None:
        assert [c for _, _, c in problems(write_ruleset(MINIMAL.replace(old, new)))] == ["bad-value"]

    def test_generator_derive_is_a_reusable_list(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("rules:", "derive:\n  g: (x for _i in [1, 2])\n  h: sum(g)\nrules:")
        text = text.replace("_i", "i")
        a = riskgrade.load(write_ruleset(text)).grade({"x": 3})
        assert a.values == {"g": [3, 3], "h": 6, "score": 3}  # a score rule without 'as:' keeps its score
        assert json.loads(a.to_json())["values"]["g"] == [3, 3]

    @pytest.mark.parametrize("expr,code", [
        ("((x ** 8) ** 8) ** 8", "expr-exponent"),
        ("len((1,) * 100000000)", "expr-operator"),
    ])
    def test_unbounded_work_rejected(self, write_ruleset: Write, expr: str, code: str) -> None:
        text = MINIMAL.replace("    expr: x\n", f"    expr: {json.dumps(expr)}\n")
        assert [c for _, _, c in problems(write_ruleset(text))] == [code]

    def test_overflow_is_a_fact_error(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("rules:", "derive:\n  h: x * 1.0e+300 * 1.0e+300\nrules:")
        rs = riskgrade.load(write_ruleset(text.replace("expr: x", "expr: h")))
        with pytest.raises(FactError) as ei:
            rs.grade({"x": 5})
        assert (ei.value.code, ei.value.field) == ("not-finite", "h")

    def test_table_key_type_must_match_input(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("  x: {type: number, min: 0, max: 100}", "  x: {type: number, table: t}")
        text = text.replace("bands:", "tables:\n  t:\n    key: k\n    columns: {k: string}\n"
                            "    rows: [{k: 'one'}]\nbands:", 1)
        assert [c for _, _, c in problems(write_ruleset(text))] == ["type-mismatch"]

    def test_quoted_expression_location(self, write_ruleset: Write) -> None:
        text = MINIMAL.replace("    expr: x\n", '    expr: "x + zz"\n')
        assert problems(write_ruleset(text)) == [(24, 16, "unknown-name")]
