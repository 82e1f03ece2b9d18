"""Roll-up: every modifier kind, the staging rules, the YAML section and its located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import riskgrade
from riskgrade import Level, RiskGraph
from riskgrade._enterprise.rollup import DEFAULT_ROLLUP, compile_rollup_data, months_before, rollup_from_yaml
from riskgrade.exceptions import RulesetError
from tests._enterprises import AS_OF, register

LEC = riskgrade.load("lec-generic")


def graph(data: dict[str, Any], as_of: dt.date = AS_OF, rollup: Any = None) -> RiskGraph:
    return RiskGraph.build(LEC, data, as_of=as_of, rollup=rollup)


def hd(ident: str, target: str, grade: str = "general", found: str = "2024-06-01", deadline: str | None = None,
       **kw: Any) -> dict[str, Any]:
    d = {"id": ident, "target": target, "grade": grade, "found": found, **kw}
    if deadline:
        d["deadline"] = deadline
    return d


class TestMaxOfChildren:
    def test_levels_follow_highest_child(self) -> None:
        g = graph(register({"P-1": ("U-1", "ORANGE"), "P-2": ("U-1", "BLUE"), "P-3": ("U-2", "YELLOW")}))
        assert [g.level(n).name for n in ("U-1", "U-2", "E-1")] == ["ORANGE", "YELLOW", "ORANGE"]

    def test_empty_unit_is_blue_and_does_not_count(self) -> None:
        data = register({"P-1": ("U-1", "YELLOW")})
        g = graph(data)
        a = g.assessment()
        assert (a["U-2"].graded, a["U-2"].level, a.level) == (False, Level.BLUE, Level.YELLOW)


class TestEscalation:
    def test_three_orange_points_raise_unit(self) -> None:
        pts = {f"P-{i}": ("U-1", "ORANGE") for i in range(3)}
        g = graph(register(pts))
        assert (g.level("U-1"), g.inherent_level("U-1")) == (Level.RED, Level.RED)
        assert [m.id for m in g.assessment()["U-1"].modifiers] == ["orange-cluster"]

    def test_two_orange_points_do_not(self) -> None:
        g = graph(register({f"P-{i}": ("U-1", "ORANGE") for i in range(2)}))
        assert g.level("U-1") == Level.ORANGE


class TestMajorHazardFloor:
    def test_grade_one_floors_unit_and_enterprise_red(self) -> None:
        data = register({"P-1": ("U-1", "BLUE")})
        data["units"][0]["major_hazard_grade"] = "一级"
        g = graph(data)
        assert [g.level("U-1"), g.inherent_level("U-1"), g.level("E-1"), g.inherent_level("E-1")] == [Level.RED] * 4

    def test_grade_three_floor_yellow(self) -> None:
        data = register({"P-1": ("U-1", "BLUE")})
        data["units"][0]["major_hazard_grade"] = 3
        assert graph(data).level("U-1") == Level.YELLOW


class TestVeto:
    def test_open_major_hidden_danger_makes_red(self) -> None:
        g = graph(register(hidden_dangers=[hd("HD-7", "P-2", "major")]))
        assert (
            g.level("P-2"), g.inherent_level("P-2"), g.level("E-1"), g.inherent_level("E-1")) == (Level.RED, Level.BLUE, Level.RED, Level.YELLOW)

    def test_at_unit_and_enterprise(self) -> None:
        g = graph(register(hidden_dangers=[hd("HD-1", "U-2", "major")]))
        assert (g.level("P-3"), g.level("U-2"), g.level("E-1")) == (Level.YELLOW, Level.RED, Level.RED)

    def test_rectified_major_hidden_danger_no_longer_vetoes(self) -> None:
        g = graph(register(hidden_dangers=[hd("HD-7", "P-2", "major", status="verified", closed="2024-06-10")]))
        assert g.level("P-2") == Level.BLUE

    def test_reproducible_as_of_before_closing(self) -> None:
        data = register(hidden_dangers=[hd("HD-7", "P-2", "major", status="verified", closed="2024-06-10")])
        assert graph(data, as_of=dt.date(2024, 6, 9)).level("E-1") == Level.RED

    def test_rectified_but_not_verified_major_hidden_danger_still_vetoes(self) -> None:
        # issue 14: the veto ends when the danger is verified and closed, not when it is marked rectified
        data = register(hidden_dangers=[hd("HD-7", "P-2", "major", status="rectified", closed="2024-06-10")])
        assert (graph(data).level("P-2"), graph(data).level("E-1")) == (Level.RED, Level.RED)

    def test_rectified_general_hidden_danger_is_closed(self) -> None:
        data = register(hidden_dangers=[hd("HD-1", "P-1", deadline="2024-06-20", status="rectified",
                                           closed="2024-06-15")])
        assert graph(data).level("P-1") == Level.YELLOW

    def test_not_yet_found(self) -> None:
        data = register(hidden_dangers=[hd("HD-7", "P-2", "major", found="2024-07-01")])
        assert graph(data).level("E-1") == Level.YELLOW


class TestOverdue:
    def test_overdue_raises_risk_point_one_level(self) -> None:
        g = graph(register(hidden_dangers=[hd("HD-1", "P-1", deadline="2024-06-29")]))
        assert (g.level("P-1"), g.inherent_level("P-1")) == (Level.ORANGE, Level.YELLOW)

    def test_deadline_today_is_not_overdue(self) -> None:
        g = graph(register(hidden_dangers=[hd("HD-1", "P-1", deadline="2024-06-30")]))
        assert g.level("P-1") == Level.YELLOW

    def test_two_overdue_still_one_level(self) -> None:
        g = graph(register(hidden_dangers=[hd("HD-1", "P-1", deadline="2024-06-01"),
                                           hd("HD-2", "P-1", deadline="2024-06-02")]))
        mods = g.assessment()["P-1"].modifiers
        assert (g.level("P-1"), [m.subjects for m in mods]) == (Level.ORANGE, [("HD-1", "HD-2")])


class TestAccident:
    @pytest.mark.parametrize(("date", "want"), [("2023-06-30", Level.YELLOW), ("2023-07-01", Level.ORANGE),
                                                ("2024-06-30", Level.ORANGE), ("2024-07-01", Level.YELLOW)])
    def test_twelve_month_window(self, date: str, want: Level) -> None:
        g = graph(register(accidents=[{"id": "A-1", "date": date, "severity": "一般"}]))
        assert (want, Level.YELLOW) == (g.level("E-1"), g.inherent_level("E-1"))

    def test_units_not_raised(self) -> None:
        g = graph(register(accidents=[{"id": "A-1", "date": "2024-01-01", "severity": "较大"}]))
        assert g.level("U-1") == Level.YELLOW


class TestStandardisation:
    def test_grade_one_lowers_enterprise(self) -> None:
        g = graph(register({"P-1": ("U-1", "ORANGE")}, standardisation="一级"))
        assert (g.level("E-1"), g.inherent_level("E-1"),
                                                               g.level("U-1")) == (Level.YELLOW, Level.ORANGE, Level.ORANGE)

    def test_never_hides_a_red_risk_point(self) -> None:
        # issue 14: a plant holding a RED (重大风险) risk point stays RED whatever its standardisation
        g = graph(register({"P-1": ("U-1", "RED"), "P-2": ("U-2", "BLUE")}, standardisation="一级"))
        applied = {m.id: (m.before.name, m.after.name) for m in g.assessment()["E-1"].modifiers}
        assert (g.level("E-1"), g.inherent_level("E-1"), applied["standardisation-grade-1"]) == (
            Level.RED, Level.RED, ("RED", "RED"))

    def test_never_hides_a_risk_point_raised_to_red(self) -> None:
        g = graph(register({"P-1": ("U-1", "ORANGE")}, standardisation="一级",
                           hidden_dangers=[hd("HD-1", "P-1", deadline="2024-06-01")]))
        assert (g.level("P-1"), g.level("E-1"), g.inherent_level("E-1")) == (Level.RED, Level.RED, Level.ORANGE)

    def test_grade_two_does_not(self) -> None:
        g = graph(register({"P-1": ("U-1", "ORANGE")}, standardisation="二级"))
        assert g.level("E-1") == Level.ORANGE

    def test_never_below_veto(self) -> None:
        g = graph(register(standardisation="一级", hidden_dangers=[hd("HD-1", "P-1", "major")]))
        assert g.level("E-1") == Level.RED

    def test_never_below_floor(self) -> None:
        data = register({"P-1": ("U-1", "BLUE")}, standardisation="一级")
        data["units"][0]["major_hazard_grade"] = "二级"
        assert graph(data).level("E-1") == Level.ORANGE

    def test_lowers_after_accident_raise(self) -> None:
        g = graph(register(standardisation="一级", accidents=[{"id": "A-1", "date": "2024-05-01",
                                                               "severity": "一般"}]))
        assert g.level("E-1") == Level.YELLOW
        assert [
            (m.id, m.before.name, m.after.name) for m in g.assessment()["E-1"].modifiers] == [("accident-12-months", "YELLOW", "ORANGE"), ("standardisation-grade-1", "ORANGE", "YELLOW")]

    def test_at_most_one_level(self) -> None:
        r = rollup_from_yaml("enterprise:\n  modifiers:\n"
                             "    - {id: a, when: {standardisation: [一级]}, lower: 1, basis: {kind: local, cite: 测试}}\n"
                             "    - {id: b, when: {standardisation: [一级, 二级]}, lower: 1, basis: {kind: local, cite: 测试}}\n")
        g = graph(register({"P-1": ("U-1", "RED")}, standardisation=1), rollup=r)
        assert g.level("E-1") == Level.ORANGE


class TestBasis:
    def test_every_default_modifier_cites_its_basis(self) -> None:
        kinds = {m.id: m.basis.basis for k in ("risk_point", "unit", "enterprise")
                 for m in DEFAULT_ROLLUP.for_kind(k).modifiers}
        assert kinds == {"risk-point-major-hidden-danger": "derived", "overdue-hidden-danger": "local",
                "unit-major-hidden-danger": "derived", "major-hazard-grade-1": "local",
                "major-hazard-grade-2": "local", "major-hazard-grade-3": "local", "major-hazard-grade-4": "local",
                "orange-cluster": "local", "enterprise-major-hidden-danger": "derived",
                "accident-12-months": "local", "standardisation-grade-1": "derived",
                "major-risk-reported": "derived"}


class TestCompile:
    def codes(self, data: Any) -> list[str]:
        return [p.code for p in compile_rollup_data(data)[1]]

    def test_default_round_trips(self) -> None:
        again, problems = compile_rollup_data(DEFAULT_ROLLUP.to_dict())
        assert ([], DEFAULT_ROLLUP.to_dict()) == (problems, again.to_dict())

    @pytest.mark.parametrize(("data", "codes"), [
        ({"plant": {}}, ["rollup-unknown-kind"]),
        ({"unit": {"combine": "sum"}}, ["rollup-bad-combine"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"weather": 1}, "raise": 1, "basis": {"kind": "local", "cite": "x"}}]}},
         ["rollup-bad-condition"]),
        ({"risk_point": {"modifiers": [{"id": "x", "when": {"accident": {}}, "raise": 1,
                                        "basis": {"kind": "local", "cite": "x"}}]}}, ["rollup-not-applicable"]),
        ({"enterprise": {"modifiers": [{"id": "x", "when": {"standardisation": [1]}, "lower": 2,
                                        "basis": {"kind": "local", "cite": "x"}}]}}, ["rollup-lower-too-far"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED"}]}},
         ["rollup-missing-basis"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED",
                                  "basis": {"kind": "clause"}}]}}, ["rollup-bad-basis"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "PURPLE",
                                  "basis": {"kind": "local", "cite": "x"}}]}}, ["rollup-bad-level"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED", "raise": 1,
                                  "basis": {"kind": "local", "cite": "x"}}]}}, ["rollup-bad-effect"]),
        ({"unit": {"modifiers": [
            {"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED", "basis": {"kind": "local", "cite": "x"}},
            {"id": "x", "when": {"major_hazard_grade": [2]}, "floor": "ORANGE", "basis": {"kind": "local", "cite": "x"}}]}},
         ["rollup-duplicate-id"]),
        # a local choice names the document that makes it
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED",
                                  "basis": {"kind": "local"}}]}}, ["rollup-local-without-document"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED",
                                  "basis": {"kind": "local", "cite": "  "}}]}}, ["rollup-local-without-document"]),
        ({"unit": {"modifiers": [{"id": "x", "when": {"major_hazard_grade": [1]}, "floor": "RED",
                                  "basis": {"kind": "local", "cite": "x", "status": "maybe"}}]}},
         ["rollup-bad-basis"]),
    ])
    def test_problem_codes(self, data: Any, codes: list[str]) -> None:
        assert codes == self.codes(data)

    def test_located(self) -> None:
        with pytest.raises(RulesetError) as info:
            rollup_from_yaml("unit:\n  modifiers:\n    - id: x\n      when: {children_at_least: {level: ORANGE,"
                             " count: 0}}\n      raise: 1\n      basis: {kind: local, cite: 测试}\n", "r.yaml")
        assert [
            str(p) for p in info.value.problems] == ["r.yaml:4:56: rollup-bad-condition: count must be a whole number ≥ 1, got 0"]


class TestRulesetSection:
    SECTION = """
rollup:
  risk_point:
    modifiers:
      - id: any-open-hidden-danger
        when: {hidden_danger: {grade: any}}
        raise: 1
        label: {zh: 存在未整改隐患, en: open hidden danger}
        basis: {kind: local, cite: 测试}
"""

    def test_section_replaces_default(self, tmp_path: Path) -> None:
        src = Path(LEC.file).read_text(encoding="utf-8")
        path = tmp_path / "lec-with-rollup.yaml"
        path.write_text(src.replace("id: lec-generic", "id: lec-rollup-test", 1) + self.SECTION, encoding="utf-8")
        rs = riskgrade.load(str(path))
        g = RiskGraph.build(rs, register(ruleset=None, hidden_dangers=[hd("HD-1", "P-1", "major")]), as_of=AS_OF)
        a = g.assessment()
        assert (
            a.rollup_source, a.level, [m.id for m in a["P-1"].modifiers]) == ("ruleset:lec-rollup-test", Level.ORANGE, ["any-open-hidden-danger"])

    def test_bad_section_is_a_ruleset_error(self, tmp_path: Path) -> None:
        src = Path(LEC.file).read_text(encoding="utf-8")
        path = tmp_path / "bad.yaml"
        path.write_text(src.replace("id: lec-generic", "id: lec-bad", 1) + "\nrollup:\n  plant: {}\n",
                        encoding="utf-8")
        with pytest.raises(RulesetError) as info:
            riskgrade.load(str(path))
        assert info.value.codes == ["rollup-unknown-kind"]


def test_months_before_clamps() -> None:
    assert [dt.date(2023, 6, 30), dt.date(2023, 2, 28), dt.date(2023, 12, 31)] == [
        months_before(dt.date(2024, 6, 30), 12), months_before(dt.date(2024, 2, 29), 12),
        months_before(dt.date(2024, 1, 31), 1)]


class TestOneSpellingTable:
    """Registers and roll-ups read grades and severities from one table (_core.spellings)."""

    def test_accident_severity_spelled_as_in_a_register(self) -> None:
        for spelling in ("一般事故", "一般", "general", "较大事故"):
            rollup, problems = compile_rollup_data({"enterprise": {"modifiers": [
                {"id": "acc", "when": {"accident": {"severity_at_least": spelling}}, "raise": 1,
                 "basis": {"kind": "derived", "cite": "国务院令第493号"}}]}})
            assert problems == [], spelling
            assert rollup.for_kind("enterprise").modifiers[0].when.severity_at_least in ("general", "larger")

    def test_grades_in_every_spelling(self) -> None:
        for spelling in ("一级", 1, "1"):
            rollup, problems = compile_rollup_data({"enterprise": {"modifiers": [
                {"id": "std", "when": {"standardisation": [spelling]}, "lower": 1,
                 "basis": {"kind": "derived", "cite": "应急〔2018〕19号"}}]}})
            assert problems == [] and rollup.for_kind("enterprise").modifiers[0].when.grades == (1,)


class TestRiskPointsAtLeast:
    """Escalation by counts of the enterprise's risk points, across units (issue 14)."""

    RULE = ("enterprise:\n  modifiers:\n"
            "    - {id: three-orange, when: {risk_points_at_least: {level: ORANGE, count: 3}}, raise: 1,\n"
            "       basis: {kind: local, cite: 示例规定}}\n")

    def test_three_orange_points_in_three_units_raise_the_enterprise(self) -> None:
        data = register({"P-1": ("U-1", "ORANGE"), "P-2": ("U-2", "ORANGE"), "P-3": ("U-2", "BLUE")})
        data["units"].append({"id": "U-3", "name": "三车间"})
        data["risk_points"].append({"id": "P-4", "unit": "U-3", "name": "风险点P-4",
                                    "facts": {"L": 3, "E": 6, "C": 15}})
        g = graph(data, rollup=rollup_from_yaml(self.RULE))
        assert (g.level("U-1"), g.level("E-1"), [m.id for m in g.assessment()["E-1"].modifiers]) == (
            Level.ORANGE, Level.RED, ["three-orange"])

    def test_recounted_when_a_point_changes_below_an_unchanged_unit(self) -> None:
        data = register({"P-1": ("U-1", "ORANGE"), "P-2": ("U-1", "YELLOW"), "P-3": ("U-2", "ORANGE")})
        g = graph(data, rollup=rollup_from_yaml(self.RULE))
        assert g.level("E-1") == Level.ORANGE
        changes = g.update("P-2", {"facts": {"L": 3, "E": 6, "C": 15}})
        assert (sorted(changes), g.level("U-1"), g.level("E-1")) == (["E-1", "P-2"], Level.ORANGE, Level.RED)

    def test_not_applicable_to_units(self) -> None:
        _, problems = compile_rollup_data({"unit": {"modifiers": [
            {"id": "x", "when": {"risk_points_at_least": {"level": "RED"}}, "raise": 1,
             "basis": {"kind": "local", "cite": "x"}}]}})
        assert [p.code for p in problems] == ["rollup-not-applicable"]


class TestDiagnosis:
    """The enterprise node graded by its sector's enterprise-level model (hazchem 2018 diagnosis)."""

    def test_diagnosis_grades_the_enterprise_joined_with_its_points(self) -> None:
        data = register(diagnosis={"ruleset": "hazchem-enterprise-2018", "facts": {"checklist_deductions": 45}})
        a = riskgrade.assess(riskgrade.load, data, as_of=AS_OF)
        assert (a.level, a["E-1"].own_level, a["E-1"].ruleset, a.chain[0].by, a.chain[0].rule) == (
            Level.RED, Level.RED, "hazchem-enterprise-2018", "graded", "diagnosis-score")

    def test_register_fills_standardisation_and_major_hazard_grade(self) -> None:
        data = register(standardisation="一级",
                        diagnosis={"ruleset": "hazchem-enterprise-2018", "facts": {"checklist_deductions": 5}})
        data["units"][0]["major_hazard_grade"] = "二级"
        a = riskgrade.assess(riskgrade.load, data, as_of=AS_OF)
        # 100 − 5 + 15 = 110 → BLUE by score; the 二级 installation floors the diagnosis at ORANGE
        assert (a["E-1"].score, a["E-1"].own_level, a.level) == (110, Level.ORANGE, Level.ORANGE)

    def test_standardisation_never_lowers_below_the_diagnosis(self) -> None:
        data = register({"P-1": ("U-1", "ORANGE")}, standardisation="一级",
                        diagnosis={"ruleset": "hazchem-enterprise-2018", "facts": {"checklist_deductions": 50}})
        a = riskgrade.assess(riskgrade.load, data, as_of=AS_OF)
        assert (a["E-1"].own_level, a.level) == (Level.ORANGE, Level.ORANGE)

    def test_bad_diagnosis_fact_names_the_field(self) -> None:
        data = register(diagnosis={"ruleset": "hazchem-enterprise-2018", "facts": {"checklist_deductions": "x"}})
        with pytest.raises(riskgrade.FactError) as exc:
            riskgrade.assess(riskgrade.load, data, as_of=AS_OF)
        assert (exc.value.record, exc.value.field) == ("E-1", "diagnosis.facts.checklist_deductions")

    def test_chem_plant_example_is_joined_with_the_2018_diagnosis(self) -> None:
        a = riskgrade.assess(riskgrade.load, "examples/enterprises/chem-plant.yaml", as_of=AS_OF)
        top = a["E-620402-CHEM-01"]
        # 100 − 28 + 15 (一级, from the register) = 87 → YELLOW; the 二级 tank farm floors it at ORANGE
        assert (top.ruleset, top.score, top.own_level, a.level) == ("hazchem-enterprise-2018", 87, Level.ORANGE,
                                                                    Level.RED)
        assert ("  also: enterprise model hazchem-enterprise-2018 grades it ORANGE (score 87, rule floor-mhi-2); "
                "not the deciding factor") in a.explain("en").splitlines()
