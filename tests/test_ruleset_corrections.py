"""Issue 13: corrections to the shipped rulesets, asserted through the public API.

Each test names the case that graded wrongly before the correction.
"""

from __future__ import annotations

import re

import pytest

import riskgrade
from riskgrade import FactError, Level
from riskgrade._source.registry import shipped


# ------------------------------------------------------------------ 1. hazchem enterprise bonus
class TestEnterpriseAccidentFreeBonus:
    def test_no_bonus_with_a_visible_accident(self) -> None:
        # before: 100 − 10 + 5 − 5 = 90 BLUE
        a = riskgrade.load("hazchem-enterprise-2018").grade(
            {"checklist_deductions": 10, "accident_free_5y": True, "visible_accident_no_casualty": True})
        assert (a.level, a.score, a.values["bonus"]) == (Level.YELLOW, 85, 0)

    @pytest.mark.parametrize("accident", ["fatal_accidents_3y", "larger_accidents_3y", "fatal_accidents_1y"])
    def test_no_bonus_with_any_recorded_accident(self, accident: str) -> None:
        a = riskgrade.load("hazchem-enterprise-2018").grade(
            {"checklist_deductions": 0, "accident_free_5y": True, accident: 1})
        assert a.values["bonus"] == 0

    def test_bonus_without_accidents(self) -> None:
        a = riskgrade.load("hazchem-enterprise-2018").grade({"checklist_deductions": 10, "accident_free_5y": True})
        assert (a.level, a.score) == (Level.BLUE, 95)


# ------------------------------------------------------------------ 2. GB 18218
class TestGB18218:
    rs = riskgrade.load("hazchem-gb18218")

    def test_quantity_is_the_design_maximum(self) -> None:
        field = self.rs.inputs["substances"]["fields"]["quantity_t"]
        assert "设计最大量" in field["label"]["zh"] and "design maximum" in field["label"]["en"]
        assert "4.2.2" in field["note"]["zh"]
        assert "设计最大量" in self.rs.inputs["substances"]["label"]["zh"]

    @pytest.mark.parametrize("sub", [{"name": "一氧化碳"}, {"cas": "630-08-0"}])
    def test_carbon_monoxide_is_table1_row13(self, sub: dict[str, str]) -> None:
        # before: without a category, a not-in-table error; with J3 + W2, Q 10 t
        a = self.rs.grade({"substances": [{**sub, "quantity_t": 20}], "exposed_people": 40})
        assert a.values["Q_each"] == [20] and a.values["beta_each"] == [2] and a.values["S"] == 1
        b = self.rs.grade({"substances": [{**sub, "quantity_t": 10, "categories": ["J3", "W2"]}],
                           "exposed_people": 0})
        assert b.values["Q_each"] == [20]
        assert "4.1.2" in self.rs.sources["gb18218-co-reading"]["note"]["zh"]

    def test_beta_of_several_categories_is_cited_as_derived(self) -> None:
        a = self.rs.grade({"substances": [{"name": "某气体", "quantity_t": 10, "categories": ["W2", "J3"]}],
                           "exposed_people": 0})
        f = next(f for f in a.fired if f.id == "beta-several-categories")
        assert f.citation.basis == "derived" and f.citation.status == "unverified"
        assert a.level is Level.BLUE and a.values["beta_each"] == [2]

    def test_one_category_or_table3_is_no_reading(self) -> None:
        for sub in ({"name": "某气体", "category": "W2"}, {"name": "氨", "categories": ["J3", "W2"]}):
            a = self.rs.grade({"substances": [{**sub, "quantity_t": 100}], "exposed_people": 0})
            assert "beta-several-categories" not in [f.id for f in a.fired]


# ------------------------------------------------------------------ 3. non-metal mines 2022
class TestNonmetal2022:
    new = riskgrade.load("nonmetal-mine@2022")
    old = riskgrade.load("nonmetal-mine@2017")

    def test_item_counts_follow_the_standard(self) -> None:
        ids = [r["id"] for r in self.new.rules]
        assert sum(re.fullmatch(r"ug-\d\d", i) is not None for i in ids) == 32
        assert sum(re.fullmatch(r"op-\d\d", i) is not None for i in ids) == 13
        assert sum(re.fullmatch(r"tp-\d\d", i) is not None for i in ids) == 19
        assert sum("-2024-" in i for i in ids) == 8
        assert len(ids) == 72

    def test_every_input_alone_is_one_red_item_cited_by_2022_number(self) -> None:
        items = [n for n, s in self.new.inputs.items() if s["type"] == "bool"]
        assert len(items) == 128
        for n in items:
            a = self.new.grade({n: True})
            assert a.level is Level.RED and a.score == 1 and len(a.fired) == 1, n
            c = a.fired[0].citation
            assert c.basis == "clause" and c.source in ("nmm-2022", "nmm-2024"), n
            assert re.search(r"[一二三]、(地下矿山|露天矿山|尾矿库) \([一二三四五六七八九十]+\)$", c.clause), c.clause

    def test_underground_items_have_their_sub_conditions(self) -> None:
        rules = {r["id"]: r for r in self.new.rules}
        assert [c["id"] for c in rules["ug-01"]["criteria"]] == [f"ug22_1_{i}" for i in range(1, 6)]
        assert len(rules["ug-20"]["criteria"]) == 7
        assert len(rules["ug-22"]["criteria"]) == 5
        ug = [r for i, r in rules.items() if re.fullmatch(r"ug-\d\d", i)]
        assert sum(r["method"] == "composite" for r in ug) >= 15

    def test_open_pit_item_10_has_no_depth_limit(self) -> None:
        label = self.new.inputs["op22_10"]["label"]["zh"]
        assert "30" not in label and "凹陷露天矿山" in label
        assert self.new.grade({"op22_10": True}).fired[0].citation.clause == "二、露天矿山 (十)"
        with pytest.raises(FactError) as e:
            self.new.grade({"op_10": True})       # the 2017 item with the 30 m limit
        assert e.value.code == "unknown-fact"

    def test_retired_drainage_structures_must_be_sealed(self) -> None:
        a = self.new.grade({"tp22_9_3": True})
        assert a.level is Level.RED and [f.id for f in a.fired] == ["tp-09"]
        assert a.fired[0].citation.clause == "三、尾矿库 (九)"

    def test_grades_differently_from_2017(self) -> None:
        # before: the 2022 edition graded exactly like 2017
        assert self.old.grade({"op_11": True}).level is Level.RED       # 雷雨天气爆破, dropped in 2022
        with pytest.raises(FactError):
            self.new.grade({"op_11": True})
        assert self.new.grade({"ug24_1": True}).level is Level.RED      # 2024 supplement
        assert self.new.grade({"ug24_1": True}).fired[0].citation.source == "nmm-2024"

    def test_unchanged_items_keep_their_2017_names(self) -> None:
        for name in ("ug_2", "ug_8", "ug_13", "ug_17", "ug_19", "op_4", "tp_1", "tp_7", "tp_10"):
            assert self.old.grade({name: True}).level is self.new.grade({name: True}).level is Level.RED
        assert self.new.grade({"ug_13": True}).fired[0].id == "ug-12"      # 2017 第13项 = 2022 (十二)

    def test_edition_and_dates(self) -> None:
        assert riskgrade.load("nonmetal-mine").fingerprint == self.new.fingerprint  # the newest edition
        assert self.new.sources["nmm-2022"]["status"] == "verified"
        assert self.new.sources["nmm-2024"]["number"] == "矿安〔2024〕41号"
        assert str(self.new.effective) == "2022-09-01"


# ------------------------------------------------------------------ 4. tailings
class TestTailings:
    tail = riskgrade.load("nonmetal-mine-tailings")
    mine = riskgrade.load("nonmetal-mine")

    def test_gb39496_is_recorded(self) -> None:
        assert self.tail.sources["gb39496"]["number"] == "GB 39496-2020"
        a = self.tail.grade({"dangerous_2": True, "normal_conditions_confirmed": True})
        assert any("GB 39496-2020" in f.citation.clause for f in a.fired)

    @pytest.mark.parametrize("item", ["tp22_9_3", "tp22_15", "tp_7", "tp22_2_2", "tp24_1"])
    def test_a_major_hidden_danger_grades_the_same_under_both(self, item: str) -> None:
        a = self.tail.grade({item: True, "normal_conditions_confirmed": True})
        b = self.mine.grade({item: True})
        assert a.level is b.level is Level.RED
        assert [f.id for f in a.fired if f.id.startswith("tp-")] == [f.id for f in b.fired]
        assert a.fired[0].citation.clause == b.fired[0].citation.clause

    def test_safety_factor_below_098_is_red(self) -> None:
        # before: 险库, ORANGE here although RED under nonmetal-mine (三、尾矿库 (十五))
        a = self.tail.grade({"min_safety_factor": 1.152, "required_safety_factor": 1.2,
                             "normal_conditions_confirmed": True})
        assert a.values["safety_degree"] == "险库" and a.level is Level.RED
        assert a.fired[0].id == "tp-15" and a.fired[0].citation.basis == "clause"

    def test_tilted_well_alone_stays_orange(self) -> None:
        a = self.tail.grade({"risky_3": True, "normal_conditions_confirmed": True})
        assert a.level is Level.ORANGE


# ------------------------------------------------------------------ 5. coal 2026
def test_coal_2026_revision_is_recorded_as_announced_not_encoded() -> None:
    rs = riskgrade.load("coal-major-hidden-dangers")
    assert rs.edition.startswith("2020")
    note = rs.sources["coal-2020"]["note"]
    assert "令第21号" in note["zh"] and "not encoded" in note["en"]
    assert "令第21号" in rs.doc["description"]["zh"]


# ------------------------------------------------------------------ 6. citations
ZH_NUM = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八"]


@pytest.mark.parametrize("ref", sorted(s.path for s in shipped()))
def test_every_rule_cites_a_clause(ref: str) -> None:
    rs = riskgrade.load(ref)
    for r in rs.rules:
        assert str(r["cite"].get("clause", "")).strip(), (rs.id, r["id"])


@pytest.mark.parametrize("ref", ["lec-generic", "ls-matrix", "hazchem-risk-point-lec", "hazchem-risk-point-ls",
                                 "coal-risk-point"])
def test_four_level_mappings_are_not_a_national_clause(ref: str) -> None:
    rs = riskgrade.load(ref)
    facts = {"lec-generic": {"L": 3, "E": 6, "C": 15}, "ls-matrix": {"L": 4, "S": 4}}.get(ref)
    for r in rs.rules:
        assert r["cite"]["basis"] in ("derived", "local"), (ref, r["id"])
        assert rs.sources[r["cite"]["source"]]["status"] != "verified", (ref, r["id"])
    if facts:
        f = rs.grade(facts).fired[0]
        assert f.citation.basis == "derived" and f.citation.status == "unverified" and f.citation.clause


def test_coal_rules_cite_articles() -> None:
    rs = riskgrade.load("coal-major-hidden-dangers@2020")
    for r in rs.rules:
        m_id = re.fullmatch(r"coal-(\d\d)-\d+", r["id"])
        assert m_id, r["id"]
        cat = int(m_id[1])
        clause = r["cite"]["clause"]
        m = re.fullmatch(r"第(.+)条第\((.+)\)项", clause)
        assert m, clause
        assert m[1] == ZH_NUM[cat + 2], (r["id"], clause)       # category N is held by article N + 3
    assert rs.sources["coal-2020"]["status"] == "partial"


def test_no_practice_is_verified_without_a_document() -> None:
    for s in shipped():
        rs = riskgrade.load(s.path)
        for key, src in rs.sources.items():
            title = src["title"]["zh"] if isinstance(src["title"], dict) else src["title"]
            if "本地规定" in title or "通行做法" in title or "一票否决" in title:
                assert src["status"] != "verified", (rs.id, key)
