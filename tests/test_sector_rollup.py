"""Each sector's declaration of how its enterprises are graded overall, the deciding factor, control tiers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade import Level
from riskgrade._enterprise.rollup import DEFAULT_ROLLUP, KINDS
from riskgrade._source import registry
from riskgrade.exceptions import RulesetError
from tests._enterprises import AS_OF, FACTS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SECTORS = ("coal", "construction", "crowded-places", "fireworks", "hazchem", "industry-trade", "metallurgy",
           "nonmetal-mine", "power", "road-transport", "water")


class TestDeclarations:
    def test_every_sector_declares_exactly_one(self) -> None:
        for sector in SECTORS:
            ids = {s.id for s in registry.shipped() if s.rollup and s.sector == sector}
            assert len(ids) == 1, (sector, ids)
        assert registry.sector_rollup("general") is None

    @pytest.mark.parametrize("sector", SECTORS)
    def test_every_modifier_cites_and_vetoes_under_the_sectors_own_criteria(self, sector: str) -> None:
        ref = registry.sector_rollup(sector)
        assert ref is not None
        rollup = riskgrade.load(ref).section("rollup")
        mods = [m for k in KINDS for m in rollup.for_kind(k).modifiers]
        assert all(m.basis.basis in ("clause", "derived", "local") and m.basis.source for m in mods)
        vetoes = {m.id: m.basis.source for m in mods if m.when.name == "hidden_danger" and m.effect == "veto"}
        assert sorted(vetoes) == ["enterprise-major-hidden-danger", "risk-point-major-hidden-danger",
                                  "unit-major-hidden-danger"]
        assert all("判定" in cite and "(per sector)" not in cite for cite in vetoes.values())

    def test_library_default_fragments_are_the_default_rollup(self, tmp_path: Path) -> None:
        path = tmp_path / "r.yaml"
        path.write_text(RULESET_HEAD + "include:\n  - {library: rollup, rollups: [default, dual_prevention,"
                          " gb18218_installations, orange_cluster]}\n", encoding="utf-8")
        rollup = riskgrade.load(str(path)).section("rollup")
        for kind in KINDS:
            got = sorted(json.dumps(m.to_dict(), sort_keys=True) for m in rollup.for_kind(kind).modifiers)
            want = sorted(json.dumps(m.to_dict(), sort_keys=True) for m in DEFAULT_ROLLUP.for_kind(kind).modifiers)
            assert got == want, kind


#: file → (roll-up declaration, level, inherent level, deciding factor, node, rule, citation kind), as of 2024-06-30
EXPECTED = {
    "enterprises/chem-plant.yaml": ("ruleset:hazchem-enterprise-2018", "RED", "ORANGE", "hidden_danger",
                                    "P-SYN-REACTOR", "risk-point-major-hidden-danger", "derived"),
    "enterprises/construction-site.yaml": ("ruleset:construction-risk-point", "RED", "RED", "hidden_danger", "P-TC2",
                                           "risk-point-major-hidden-danger", "derived"),
    "enterprises/crowded-mall.yaml": ("ruleset:crowded-places-risk-point", "RED", "RED", "hidden_danger", "P-EXIT",
                                      "risk-point-major-hidden-danger", "derived"),
    "enterprises/fireworks-factory.yaml": ("ruleset:fireworks-risk-point", "ORANGE", "ORANGE", "risk_points",
                                           "P-CHARGE", "fireworks-risk-point:lec", "local"),
    "enterprises/industry-trade-food.yaml": ("ruleset:industry-trade-risk-point", "ORANGE", "ORANGE", "risk_points",
                                             "P-NH3-ROOM", "industry-trade-risk-point:lec", "local"),
    "enterprises/metallurgy-smelter.yaml": ("ruleset:metallurgy-risk-point", "RED", "RED", "hidden_danger",
                                            "P-CO-ALARM", "risk-point-major-hidden-danger", "derived"),
    "enterprises/mine.yaml": ("ruleset:nonmetal-mine-tailings", "RED", "ORANGE", "accident", "E-620403-MINE-01",
                              "accident-12-months", "local"),
    "enterprises/power-plant.yaml": ("ruleset:power-risk-point", "RED", "RED", "hidden_danger", "P-BOOSTER",
                                     "risk-point-major-hidden-danger", "derived"),
    "enterprises/road-transport.yaml": ("ruleset:road-transport-risk-point", "RED", "RED", "hidden_danger",
                                        "P-COACH-LONG", "risk-point-major-hidden-danger", "derived"),
    "enterprises/water.yaml": ("ruleset:water-risk-point", "RED", "RED", "hidden_danger", "P-DAM",
                               "risk-point-major-hidden-danger", "derived"),
    "region/baiyin-textile.yaml": ("ruleset:industry-trade-risk-point", "YELLOW", "YELLOW", "risk_points", "P-1",
                                   "industry-trade-risk-point:lec", "local"),
    "region/hitech.yaml": ("ruleset:metallurgy-risk-point", "RED", "RED", "risk_points", "P-1",
                           "metallurgy-risk-point:lec", "local"),
    "region/huining-bus.yaml": ("ruleset:road-transport-risk-point", "YELLOW", "YELLOW", "risk_points", "P-1",
                                "road-transport-risk-point:matrix", "local"),
    "region/huining-wind.yaml": ("ruleset:power-risk-point", "YELLOW", "YELLOW", "risk_points", "P-1",
                                 "power-risk-point:lec", "derived"),
    "region/huining.yaml": ("ruleset:construction-risk-point", "BLUE", "BLUE", "risk_points", "P-1", "lec-generic:lec",
                            "derived"),
    "region/jingtai-hotel.yaml": ("ruleset:crowded-places-risk-point", "ORANGE", "ORANGE", "risk_points", "P-1",
                                  "crowded-places-risk-point:mes", "local"),
    "region/jingtai.yaml": ("ruleset:power-risk-point", "BLUE", "BLUE", "risk_points", "P-1", "lec-generic:lec",
                            "derived"),
    "region/jingyuan-fireworks.yaml": ("ruleset:fireworks-risk-point", "ORANGE", "ORANGE", "risk_points", "P-1",
                                       "fireworks-risk-point:lec", "local"),
    "region/jingyuan-irrigation.yaml": ("ruleset:water-risk-point", "YELLOW", "YELLOW", "risk_points", "P-1",
                                        "water-risk-point:lec", "derived"),
    "region/jingyuan.yaml": ("ruleset:coal-risk-point", "ORANGE", "ORANGE", "risk_points", "P-1", "lec-generic:lec",
                             "derived"),
}


class TestExamples:
    def test_every_example_is_listed(self) -> None:
        files = {str(p.relative_to(EXAMPLES)) for d in ("enterprises", "region") for p in (EXAMPLES / d).glob("*.yaml")}
        assert files == set(EXPECTED)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_grade_follows_the_sectors_declaration(self, name: str) -> None:
        a = riskgrade.assess(None, str(EXAMPLES / name), as_of=AS_OF)
        d = a.decision
        assert d is not None
        got = (a.rollup_source, a.level.name, a.inherent_level.name, d.factor, d.node, d.rule, d.kind)
        assert got == EXPECTED[name]
        assert a.rollup_source == f"ruleset:{registry.sector_rollup(a.enterprise.sectors[0])}"
        declaring = a.rollup_source.removeprefix("ruleset:")
        assert a.rulesets[declaring]["fingerprint"] == riskgrade.load(declaring).fingerprint  # recorded
        out = json.loads(a.to_json())["decided_by"]
        assert (out["factor"], out["kind"], out["citation"]["basis"]) == (d.factor, d.kind, d.kind)

    def test_hazchem_uses_the_2018_diagnosis(self) -> None:
        # before the major hidden danger was found (2024-06-10) the diagnosis decides
        a = riskgrade.assess(None, str(EXAMPLES / "enterprises/chem-plant.yaml"), as_of=dt.date(2024, 6, 1))
        assert a.decision is not None
        assert (a.level.name, a.decision.factor, a.decision.rule, a.decision.kind) == (
            "ORANGE", "sector_model", "hazchem-enterprise-2018:floor-mhi-2", "local")
        assert a["E-620402-CHEM-01"].ruleset == "hazchem-enterprise-2018"
        lines = a.explain("zh").splitlines()
        assert lines[1].startswith("  决定因素：行业企业整体评估模型（企业 E-620402-CHEM-01")
        assert lines[1].endswith("[本地配置] [未核实]）")
        assert a.explain("en").splitlines()[1].startswith("  deciding factor: sector model (enterprise E-620402")

    def test_explanation_never_hides_the_kind(self) -> None:
        for name in EXPECTED:
            a = riskgrade.assess(None, str(EXAMPLES / name), as_of=AS_OF)
            for lang, words in (("en", ("[stated by clause]", "[derived from principle]", "[local choice]")),
                                ("zh", ("[条款直接规定]", "[据原则推导]", "[本地配置]"))):
                line = a.explain(lang).splitlines()[1]
                assert any(w in line for w in words), (name, line)


def register(points: dict[str, str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "E-1", "name": "测试企业", "sectors": ["hazchem"], "jurisdiction": "620402", "ruleset": "lec-generic",
        "units": [{"id": "U-1", "name": "一车间"}],
        "risk_points": [{"id": pid, "unit": "U-1", "name": pid, "facts": dict(FACTS[lv])} for pid, lv in points.items()],
    }
    data.update(extra)
    return data


class TestHazchemAccidentClauses:
    def test_two_larger_accidents_in_three_years_is_red_by_clause(self) -> None:
        acc = [{"id": "A-1", "date": "2022-03-01", "severity": "较大"}, {"id": "A-2", "date": "2023-01-01",
                                                                        "severity": "较大"}]
        a = riskgrade.assess(None, register({"P-1": "BLUE"}, accidents=acc), as_of=AS_OF)
        assert a.decision is not None
        assert (a.level.name, a.decision.factor, a.decision.rule, a.decision.kind) == (
            "RED", "accident", "accident-larger-twice-3-years", "clause")
        one = riskgrade.assess(None, register({"P-1": "BLUE"}, accidents=acc[1:]), as_of=AS_OF)
        assert one.level.name == "BLUE"  # one 较大 accident 18 months ago: neither clause nor the 12-month raise


class TestStandardisationNeverHidesRed:
    @pytest.mark.parametrize("sector", SECTORS)
    def test_case(self, sector: str) -> None:
        a = riskgrade.assess(None, register({"P-1": "RED", "P-2": "BLUE"}, sectors=[sector], standardisation="一级"),
                             as_of=AS_OF)
        assert (a["P-1"].level.name, a.level.name) == ("RED", "RED")
        assert a.decision is not None and a.decision.factor == "risk_points"

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(levels=st.lists(st.sampled_from(["BLUE", "YELLOW", "ORANGE", "RED"]), min_size=1, max_size=5),
           sector=st.sampled_from(SECTORS), std=st.sampled_from(["一级", "二级", "三级", None]),
           overdue=st.booleans())
    def test_property(self, levels: list[str], sector: str, std: str | None, overdue: bool) -> None:
        pts = {f"P-{i}": lv for i, lv in enumerate(levels)}
        hds = [{"id": "HD-1", "target": "P-0", "grade": "general", "found": "2024-01-01", "deadline": "2024-02-01"}]
        a = riskgrade.assess(None, register(pts, sectors=[sector], standardisation=std,
                                            hidden_dangers=hds if overdue else []), as_of=AS_OF)
        if any(r.level is Level.RED for r in a.risk_points):
            assert a.level is Level.RED


RULESET_HEAD = """riskgrade: 1
id: t-rollup
title: {zh: 测试, en: test}
sector: hazchem
jurisdiction: "620000"
version: "1.0.0"
edition: test
effective: 2024-01-01
sources:
  s: {title: {zh: 测试, en: test}, status: verified}
inputs:
  x: {type: number, label: {zh: x, en: x}}
rules:
  - {id: r, method: direct, when: "x > 1", level: RED, cite: {source: s}}
otherwise: {level: BLUE, cite: {source: s}}
"""


class TestLocalNamesItsDocument:
    def test_rejected_and_located(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text(RULESET_HEAD + "rollup:\n  unit:\n    modifiers:\n"
                        "      - {id: d, when: {major_hazard_grade: [一级, 二级]}, floor: RED, basis: {kind: local}}\n",
                        encoding="utf-8")
        with pytest.raises(RulesetError) as info:
            riskgrade.load(str(path))
        (p,) = info.value.problems
        assert (p.code, p.line) == ("rollup-local-without-document", 19)
        assert str(path) in str(info.value)

    def test_a_direct_rule_naming_its_document_decides(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text(RULESET_HEAD + "include:\n  - {library: rollup, rollups: [dual_prevention]}\n"
                        "rollup:\n  unit:\n    modifiers:\n"
                        "      - {id: mhi-direct-red, when: {major_hazard_grade: [一级, 二级]}, floor: RED,\n"
                        "         basis: {kind: local, cite: 某市安全风险分级管控实施细则(示例), status: unverified}}\n",
                        encoding="utf-8")
        data = register({"P-1": "YELLOW"}, ruleset=str(path))
        data["units"][0]["major_hazard_grade"] = "二级"
        data["risk_points"][0]["ruleset"] = "lec-generic"
        a = riskgrade.assess(None, data, as_of=AS_OF)
        assert a.decision is not None
        assert (a.level.name, a.decision.factor, a.decision.node, a.decision.kind) == (
            "RED", "direct_rule", "U-1", "local")
        assert "某市安全风险分级管控实施细则(示例) [local choice] [unverified]" in a.explain("en").splitlines()[1]

    def test_included_problem_is_located_in_the_library(self, tmp_path: Path) -> None:
        (tmp_path / "lib.yaml").write_text(
            "riskgrade: 1\nkind: library\nid: mylib\ntitle: {zh: 库, en: lib}\nversion: '1'\nrollups:\n"
            "  frag:\n    enterprise:\n      modifiers:\n"
            "        - {id: x, when: {standardisation: [一级]}, lower: 1, basis: {kind: local}}\n", encoding="utf-8")
        path = tmp_path / "t.yaml"
        path.write_text(RULESET_HEAD + "include:\n  - {library: lib.yaml, rollups: [frag, nope]}\n", encoding="utf-8")
        with pytest.raises(RulesetError) as info:
            riskgrade.load(str(path))
        got = sorted((p.code, Path(p.file).name, p.line) for p in info.value.problems)
        assert got == [("unknown-name", "t.yaml", 17)]
        path.write_text(RULESET_HEAD + "include:\n  - {library: lib.yaml, rollups: [frag]}\n", encoding="utf-8")
        with pytest.raises(RulesetError) as info:
            riskgrade.load(str(path))
        got = sorted((p.code, Path(p.file).name, p.line) for p in info.value.problems)
        assert got == [("rollup-local-without-document", "lib.yaml", 10)]


class TestControlTiers:
    def tiers(self, tmp_path: Path, spec: str) -> Any:
        path = tmp_path / "t.yaml"
        path.write_text(RULESET_HEAD + f"control_tiers: {spec}\n", encoding="utf-8")
        return riskgrade.load(str(path))

    def test_cascade_form_equals_top_tier_form(self, tmp_path: Path) -> None:
        rs = self.tiers(tmp_path, "{RED: [company, department, team, post], ORANGE: [department, team, post],"
                                  " YELLOW: [team, post], BLUE: [post]}")
        assert {lv.name: t for lv, t in rs.control_tiers.items()} == {
            "RED": "company", "ORANGE": "department", "YELLOW": "team", "BLUE": "post"}

    @pytest.mark.parametrize("spec", ["{RED: [company, post]}", "{RED: [post, team]}", "{RED: team, BLUE: company}",
                                      "{RED: [boss]}"])
    def test_bad_cascades(self, tmp_path: Path, spec: str) -> None:
        with pytest.raises(RulesetError) as info:
            self.tiers(tmp_path, spec)
        assert {p.code for p in info.value.problems} == {"bad-value"}

    def test_each_risk_point_shows_its_cascade(self) -> None:
        a = riskgrade.assess(None, str(EXAMPLES / "enterprises/chem-plant.yaml"), as_of=AS_OF)
        got = {r.id: r.control_tiers for r in a.risk_points}
        assert got["P-SYN-REACTOR"] == ("company", "department", "team", "post")
        assert got["P-BOILER"] == ("department", "team", "post")
        assert got["P-SYN-PUMP"] == ("team", "post")
        node = json.loads(a.to_json())["nodes"]["P-SYN-PUMP"]
        assert (node["control_tier"], node["control_tiers"]) == ("team", ["team", "post"])
        tree = a.tree("zh")
        assert "物料输送泵区" in tree and "管控 班组级→岗位级" in tree
        assert "tiers company → department → team → post" in a.tree("en")


class TestDiagnosisReadsTheAccidentRecord:
    def data(self) -> dict[str, Any]:
        return register({"P-1": "BLUE"}, diagnosis={"ruleset": "hazchem-enterprise-2018",
                                                    "facts": {"checklist_deductions": 20}},
                        accidents=[{"id": "A-1", "date": "2023-01-05", "severity": "较大", "deaths": 4}])

    def test_accident_counts_fill_the_diagnosis(self) -> None:
        a = riskgrade.assess(None, self.data(), as_of=AS_OF)
        top = a["E-1"]
        assert (top.score, top.own_level, a.level) == (70, Level.ORANGE, Level.ORANGE)  # 100 − 20 − 10 (较大)
        assert a.decision is not None and (a.decision.factor, a.decision.node) == ("sector_model", "E-1")

    def test_given_facts_win_and_the_window_moves_with_as_of(self) -> None:
        data = self.data()
        data["diagnosis"]["facts"]["larger_accidents_3y"] = 0
        assert riskgrade.assess(None, data, as_of=AS_OF)["E-1"].score == 80
        g = riskgrade.RiskGraph.build(None, self.data(), as_of=AS_OF)
        changes = g.set_as_of(dt.date(2026, 1, 6))  # the accident is now more than 36 months back
        assert (g.assessment()["E-1"].score, g.level("E-1"), sorted(changes)) == (80, Level.YELLOW, ["E-1"])
