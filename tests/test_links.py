"""Links between rulesets (issue 11 item 3): declared, cycle-checked, explained; end to end with the
shipped hazchem rulesets (item (五) of 安监总管三〔2017〕121号 needs the tank farm's GB 18218 grade)."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

import riskgrade
from riskgrade import Level
from riskgrade.exceptions import FactError, RulesetError

ROOT = pathlib.Path(__file__).resolve().parent.parent
HAZCHEM = ROOT / "rulesets" / "hazchem"

#: 氨 125 t with 100 people within 500 m: R = 2.0 × 2 × 125/10 = 50, a grade 2 (二级) installation
GRADE_2 = {"substances": [{"name": "氨", "quantity_t": 125}], "exposed_people": 100}
GRADE_3 = {"substances": [{"name": "氨", "quantity_t": 25}], "exposed_people": 100}


def _ruleset(tmp: pathlib.Path, rid: str, links: str, when: str = "flag") -> pathlib.Path:
    path = tmp / f"{rid}.yaml"
    path.write_text(f"""riskgrade: 1
id: {rid}
title: {{zh: 测试, en: test}}
sector: general
jurisdiction: "620000"
version: "1.0.0"
edition: "t"
effective: 2020-01-01
sources:
  s: {{title: {{zh: 源, en: source}}, status: unverified}}
{links}
inputs:
  flag: {{type: bool, default: false}}
rules:
  - {{id: r1, method: direct, when: "{when}", level: RED, cite: {{source: s}}}}
otherwise: {{level: BLUE, cite: {{source: s}}}}
""", encoding="utf-8")
    return path


class TestHazchemItem5:
    rs = riskgrade.load("hazchem-major-hidden-dangers")

    @pytest.mark.parametrize(("facts", "fired", "grade"), [
        (GRADE_2, True, 2),
        ({"substances": [{"name": "氨", "quantity_t": 250}], "exposed_people": 100}, True, 1),
        (GRADE_3, False, 3),
        ({"substances": [{"name": "氨", "quantity_t": 9.99}], "exposed_people": 100}, False, None),
    ])
    def test_fires_only_for_grade_1_or_2(self, facts: dict[str, object], fired: bool, grade: int | None) -> None:
        a = self.rs.grade({"tank_farm_no_shutoff_or_sis": True, "tank_farm": facts})
        assert a.values["mhi_major_hazard_grade"] == grade
        assert ([f.id for f in a.fired] == ["hc-05"]) is fired
        assert a.level is (Level.RED if fired else Level.BLUE)

    def test_without_tank_farm_facts_the_inspectors_finding_stands(self) -> None:
        a = self.rs.grade({"tank_farm_no_shutoff_or_sis": True})
        assert [f.id for f in a.fired] == ["hc-05"]
        assert a.values["mhi"] is None and a.values["mhi_level"] is None

    def test_values_and_linked_ruleset_ref_in_result(self) -> None:
        a = self.rs.grade({"tank_farm_no_shutoff_or_sis": True, "tank_farm": GRADE_2})
        gb = riskgrade.load("hazchem-gb18218")
        assert (a.values["mhi_level"], a.values["mhi_score"]) == (Level.ORANGE, 50)
        d = json.loads(a.to_json())
        assert d["values"]["mhi"]["ruleset"] == gb.ref.to_dict()
        assert d["values"]["mhi"]["level"] == "ORANGE"
        assert d["values"]["mhi_level"] == "ORANGE"

    def test_fact_errors_are_relocated_under_the_link_fact(self) -> None:
        bad = {"substances": [{"name": "不存在的物质", "quantity_t": 1}], "exposed_people": 0}
        with pytest.raises(FactError) as e:
            self.rs.grade({"tank_farm": bad})
        assert (e.value.code, e.value.field) == ("not-in-table", "tank_farm.substances[0].Q")
        with pytest.raises(FactError) as e:
            self.rs.grade({"tank_farm": {"substances": []}})
        assert (e.value.code, e.value.field) == ("missing-fact", "tank_farm.exposed_people")
        with pytest.raises(FactError) as e:
            self.rs.grade({"tank_farm": [1]})
        assert (e.value.code, e.value.field) == ("wrong-type", "tank_farm")

    def test_files_and_fingerprint_cover_the_linked_ruleset(self) -> None:
        gb = riskgrade.load("hazchem-gb18218")
        assert set(gb.files) <= set(self.rs.files)
        assert self.rs.doc["linked"]["mhi"]["ruleset"]["fingerprint"] == gb.fingerprint

    def test_cases_pass(self) -> None:
        results = self.rs.run_cases()
        assert [r.problems for r in results if not r.ok] == []


class TestExplanation:
    rs = riskgrade.load("hazchem-major-hidden-dangers")

    def test_link_step_zh_en(self) -> None:
        a = self.rs.grade({"tank_farm_no_shutoff_or_sis": True, "tank_farm": GRADE_2})
        fp = riskgrade.load("hazchem-gb18218").fingerprint[:19]
        steps = {s.kind: s for s in a.trace("en")}
        assert steps["link"].text == (f"link mhi: hazchem-gb18218 1.0.0 (GB 18218-2018; fingerprint {fp}…) graded "
                                      "tank_farm → ORANGE high risk, score R = 50; mhi_major_hazard_grade = 2")
        zh = [s for s in a.trace("zh") if s.kind == "link"]
        assert zh[0].text == (f"关联 mhi: hazchem-gb18218 1.0.0 (GB 18218-2018; 指纹 {fp}…) 评定 tank_farm → "
                              "ORANGE 较大风险, 得分 R = 50; mhi_major_hazard_grade = 2")
        # the link's own derived values are not repeated as derive steps
        assert not [s for s in a.trace("en") if s.kind == "derive" and s.name.startswith("mhi")]

    def test_link_step_without_facts(self) -> None:
        text = "\n".join(s.text for s in self.rs.grade({}).trace("zh") if s.kind == "link")
        assert text.endswith("未提供 tank_farm, 关联值均为空")


class TestDeclaration:
    def test_link_by_path_beside_and_fingerprint_follows_the_linked_file(self, tmp_path: pathlib.Path) -> None:
        for f in ("hazchem-gb18218.yaml", "gb18218-table1.csv", "gb18218-table2.csv", "gb18218-table3.csv"):
            shutil.copy(HAZCHEM / f, tmp_path / f)
        a = _ruleset(tmp_path, "link-a", "links:\n  mhi: {ruleset: hazchem-gb18218.yaml, facts: unit}",
                     "mhi_level >= ORANGE")
        rs = riskgrade.load(a)
        assert str(tmp_path / "gb18218-table1.csv") in rs.files
        assert rs.grade({"unit": GRADE_2}).level is Level.RED
        assert rs.grade({"unit": GRADE_3}).level is Level.BLUE
        with pytest.raises(FactError) as e:
            rs.grade({})
        assert (e.value.code, e.value.field) == ("missing-fact", "unit")  # not optional: the facts are required
        table = tmp_path / "gb18218-table1.csv"
        table.write_text(table.read_text(encoding="utf-8").replace(",氨,液氨;氨气,7664-41-7,10,", ",氨,液氨;氨气,7664-41-7,5,"),
                         encoding="utf-8")
        rs2 = riskgrade.load(a)
        assert rs2.fingerprint != rs.fingerprint
        assert rs2.grade({"unit": GRADE_3}).values["mhi_score"] == 20  # Q 10 → 5 doubles R

    def test_cycle_is_an_error_showing_the_path(self, tmp_path: pathlib.Path) -> None:
        _ruleset(tmp_path, "link-b", "links:\n  a: {ruleset: link-a.yaml, facts: fa, optional: true}")
        a = _ruleset(tmp_path, "link-a", "links:\n  b: {ruleset: link-b.yaml, facts: fb, optional: true}")
        with pytest.raises(RulesetError) as e:
            riskgrade.load(a)
        [p] = e.value.problems
        assert p.code == "link-cycle"
        assert "link-a -> link-b -> link-a" in p.message
        assert (p.file, p.line) == (str(tmp_path / "link-b.yaml"), 12)

    def test_self_link_is_a_cycle(self, tmp_path: pathlib.Path) -> None:
        a = _ruleset(tmp_path, "link-a", "links:\n  me: {ruleset: link-a.yaml, facts: fa, optional: true}")
        with pytest.raises(RulesetError) as e:
            riskgrade.load(a)
        assert [(p.code, p.line) for p in e.value.problems] == [("link-cycle", 12)]
        assert "link-a -> link-a" in e.value.problems[0].message

    @pytest.mark.parametrize(("links", "code"), [
        ("links:\n  m: {ruleset: no-such-ruleset, facts: u}", "unknown-ruleset"),
        ("links:\n  m: {ruleset: ../x.yaml, facts: u}", "unknown-ruleset"),
        ("links:\n  m: {ruleset: hazchem-gb18218, facts: u, values: [RR]}", "unknown-name"),
        ("links:\n  m: {ruleset: hazchem-gb18218, facts: flag}", "duplicate-name"),
        ("links:\n  m: {ruleset: hazchem-gb18218}", "missing-key"),
        ("links:\n  m: {ruleset: hazchem-gb18218, facts: u, extra: 1}", "unknown-key"),
    ])
    def test_bad_links_are_located(self, tmp_path: pathlib.Path, links: str, code: str) -> None:
        a = _ruleset(tmp_path, "link-a", links)
        with pytest.raises(RulesetError) as e:
            riskgrade.load(a)
        assert [p.code for p in e.value.problems] == [code]
        assert e.value.problems[0].file == str(a) and e.value.problems[0].line in (11, 12)

    def test_link_value_names_a_declared_part(self, tmp_path: pathlib.Path) -> None:
        a = _ruleset(tmp_path, "link-a", "links:\n  m: {ruleset: hazchem-gb18218, facts: u, optional: true}",
                     "link_value(m, 'S') == 1")
        with pytest.raises(RulesetError) as e:
            riskgrade.load(a)
        assert [p.code for p in e.value.problems] == ["expr-argument"]
        assert "level, score" in e.value.problems[0].message
