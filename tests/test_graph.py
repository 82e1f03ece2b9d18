"""The enterprise graph: cycles, incremental re-grade (counted), mutations, explanation, results."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

import riskgrade
from riskgrade import Level, LevelChange, RiskGraph, assess
from riskgrade.exceptions import FactError, GraphError
from tests._enterprises import AS_OF, FACTS, register

LEC = riskgrade.load("lec-generic")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "enterprises"
#: the veto's cite in the hazchem declaration (rulesets/hazchem/hazchem-enterprise-2018.yaml, rollup:)
HAZCHEM_VETO = ("化工和危险化学品生产经营单位重大生产安全事故隐患判定标准(试行) (安监总管三〔2017〕121号) + "
                "双重预防机制 (安委办〔2016〕11号)")


def build(data: dict[str, Any] | str, as_of: dt.date = AS_OF) -> RiskGraph:
    return RiskGraph.build(LEC, data, as_of=as_of)


def wide(n_units: int = 10, per_unit: int = 10) -> dict[str, Any]:
    data = register({})
    data["units"] = [{"id": f"U-{u}", "name": f"单元{u}"} for u in range(n_units)]
    data["risk_points"] = [{"id": f"P-{u}-{i}", "unit": f"U-{u}", "name": "点", "facts": dict(FACTS["BLUE"])}
                           for u in range(n_units) for i in range(per_unit)]
    return data


def levels(g: RiskGraph) -> dict[str, tuple[str, str]]:
    return {n: (g.level(n).name, g.inherent_level(n).name) for n in g.node_ids()}


class TestCycles:
    def test_declared_cycle_shows_path(self) -> None:
        data = register(dependencies=[{"from": "U-1", "to": "U-2"}, {"from": "U-2", "to": "U-1"}])
        with pytest.raises(GraphError) as info:
            build(data)
        assert (str(info.value), info.value.cycle) == ("dependency cycle: U-1 -> U-2 -> U-1", ("U-1", "U-2", "U-1"))

    def test_cycle_through_structure(self) -> None:
        with pytest.raises(GraphError) as info:
            build(register(dependencies=[{"from": "E-1", "to": "P-1"}]))
        assert info.value.cycle == ("E-1", "P-1", "U-1", "E-1")

    def test_add_dependency_cycle_leaves_graph_unchanged(self) -> None:
        g = build(register(dependencies=[{"from": "P-1", "to": "P-3"}]))
        with pytest.raises(GraphError) as info:
            g.add_dependency("U-2", "P-1")
        assert str(info.value) == "dependency cycle: U-2 -> P-1 -> P-3 -> U-2"
        assert g.children("P-3") == ["P-1"]
        assert g.parents("P-1") == ["P-3", "U-1"]

    def test_self_dependency(self) -> None:
        g = build(register())
        with pytest.raises(GraphError, match="U-1 -> U-1"):
            g.add_dependency("U-1", "U-1")


class TestExtraDependency:
    def test_dependency_counts_as_child(self) -> None:
        g = build(register({"P-1": ("U-1", "ORANGE"), "P-3": ("U-2", "BLUE")},
                           dependencies=[{"from": "U-1", "to": "U-2", "reason": "罐区波及"}]))
        assert (g.level("U-2"), g.children("U-2")) == (Level.ORANGE, ["P-3", "U-1"])

    def test_add_and_remove_dependency(self) -> None:
        g = build(register({"P-1": ("U-1", "ORANGE"), "P-3": ("U-2", "BLUE")}))
        assert sorted(g.add_dependency("U-1", "U-2")) == ["U-2"]
        assert g.level("U-2") == Level.ORANGE
        assert {"U-2": LevelChange("U-2", "unit", Level.ORANGE, Level.BLUE, Level.ORANGE, Level.BLUE)} == \
            g.remove_dependency("U-1", "U-2")


class TestIncremental:
    def test_update_evaluates_only_node_and_ancestors(self) -> None:
        g = build(wide())
        assert (g.evaluations, g.gradings) == (111, 100)
        changes = g.update("P-3-4", {"facts": FACTS["RED"]})
        assert (g.evaluations, g.gradings) == (114, 101)
        assert list(changes) == ["E-1", "P-3-4", "U-3"]
        assert LevelChange("P-3-4", "risk_point", Level.BLUE, Level.RED, Level.BLUE, Level.RED) == changes["P-3-4"]

    def test_unchanged_level_stops_propagation(self) -> None:
        g = build(wide())
        before = g.evaluations
        assert g.update("P-3-4", {"facts": {"C": 1}}) == {}
        assert g.evaluations - before == 1

    def test_same_levels_as_full_build_after_random_updates(self) -> None:
        rnd = random.Random(7)
        data = wide(5, 6)
        g = build(data)
        names = list(FACTS)
        for i in range(60):
            pid = f"P-{rnd.randrange(5)}-{rnd.randrange(6)}"
            lv = rnd.choice(names)
            g.update(pid, {"facts": FACTS[lv]})
            if i % 7 == 0:
                g.add("hidden_danger", {"id": f"HD-{i}", "target": pid, "grade": rnd.choice(["major", "general"]),
                                        "found": "2024-06-01", "deadline": "2024-06-15"})
            if i % 11 == 0:
                g.set_modifier(f"U-{rnd.randrange(5)}", f"w{i}", rnd.randrange(3), "报警")
        fresh = build(g.current_enterprise())
        for node in g.node_ids():
            for key, steps in g.modifiers(node).items():
                fresh.set_modifier(node, key, steps.steps, steps.reason)
        assert levels(fresh) == levels(g)
        before = levels(g)
        assert g.regrade() == {}
        assert before == levels(g)

    def test_regrade_counts_everything(self) -> None:
        g = build(wide())
        g.regrade()
        assert (g.evaluations, g.gradings) == (222, 200)


class TestMutations:
    def test_add_and_remove_risk_point(self) -> None:
        g = build(register())
        changes = g.add("risk_point", {"id": "P-9", "unit": "U-2", "name": "新增", "facts": FACTS["RED"]})
        assert {
            k: (v.before.name if v.before else None, v.after.name if v.after else None) for k, v in changes.items()} == {"E-1": ("YELLOW", "RED"), "P-9": (None, "RED"), "U-2": ("YELLOW", "RED")}
        changes = g.remove("P-9")
        assert (list(changes), changes["P-9"].after) == (["E-1", "P-9", "U-2"], None)
        assert g.level("E-1") == Level.YELLOW

    def test_add_unit_then_point(self) -> None:
        g = build(register())
        g.add("unit", {"id": "U-3", "name": "三车间"})
        g.add("risk_point", {"id": "P-9", "unit": "U-3", "name": "新增", "facts": FACTS["ORANGE"]})
        assert (g.level("U-3"), g.level("E-1")) == (Level.ORANGE, Level.ORANGE)

    def test_add_hazard_with_facts_raises_point(self) -> None:
        g = build(register())
        g.add("hazard", {"id": "H-1", "risk_point": "P-2", "name": "泄漏", "facts": FACTS["ORANGE"]})
        assert (g.level("P-2"), g.inherent_level("P-2")) == (Level.ORANGE, Level.ORANGE)

    def test_remove_unit_with_children_refused(self) -> None:
        g = build(register())
        with pytest.raises(GraphError, match="U-1 still has 2 children"):
            g.remove("U-1")

    def test_hidden_danger_lifecycle(self) -> None:
        g = build(register())
        assert list(g.add("hidden_danger", {"id": "HD-1", "target": "P-2", "grade": "major",
                                                                       "found": "2024-06-01"})) == ["E-1", "P-2", "U-1"]
        assert g.level("E-1") == Level.RED
        # marked rectified, a major hidden danger keeps its veto until verified (issue 14)
        assert g.update("HD-1", {"status": "rectified", "closed": "2024-06-20"}) == {}
        changes = g.update("HD-1", {"status": "verified"})
        assert (changes["E-1"].before, changes["E-1"].after) == (Level.RED, Level.YELLOW)
        g.update("HD-1", {"status": "open", "closed": None})
        g.remove("HD-1")
        assert g.level("E-1") == Level.YELLOW

    def test_move_risk_point(self) -> None:
        g = build(register({"P-1": ("U-1", "ORANGE"), "P-3": ("U-2", "BLUE")}))
        changes = g.update("P-1", {"unit": "U-2"})
        assert sorted(k for k in changes if k.startswith("U")) == ["U-1", "U-2"]
        assert (g.level("U-1"), g.level("U-2"), g.children("U-2")) == (Level.BLUE, Level.ORANGE, ["P-1", "P-3"])

    def test_update_enterprise(self) -> None:
        g = build(register({"P-1": ("U-1", "ORANGE")}))
        assert g.update("E-1", {"standardisation": "一级"})["E-1"].after == Level.YELLOW
        assert g.update("E-1", {"accidents": [{"id": "A-1", "date": "2024-06-01",
                                                                "severity": "一般"}]})["E-1"].after == Level.ORANGE

    def test_set_as_of(self) -> None:
        g = build(register(hidden_dangers=[{"id": "HD-1", "target": "P-1", "grade": "general",
                                            "found": "2024-06-01", "deadline": "2024-07-15"}]))
        assert g.level("P-1") == Level.YELLOW
        assert g.set_as_of(dt.date(2024, 8, 1))["P-1"].after == Level.ORANGE

    def test_bad_update_names_record_and_field(self) -> None:
        g = build(register())
        with pytest.raises(FactError) as info:
            g.update("P-1", {"facts": {"L": 4}})
        assert (info.value.record, info.value.field, info.value.code) == ("P-1", "facts.L", "not-allowed")
        with pytest.raises(FactError) as info:
            g.update("P-1", {"unit": "U-9"})
        assert (info.value.record, info.value.field, info.value.code) == ("P-1", "unit", "unknown-reference")
        with pytest.raises(FactError) as info:
            g.add("risk_point", {"id": "P-2", "unit": "U-1", "name": "x", "facts": {}})
        assert info.value.code == "duplicate-id"

    def test_unknown_node(self) -> None:
        with pytest.raises(GraphError, match="no node 'X'"):
            build(register()).update("X", {})

    def test_bad_facts_at_build(self) -> None:
        data = register()
        data["risk_points"][0]["facts"] = {"L": 3, "E": 6}
        with pytest.raises(FactError) as info:
            build(data)
        assert (info.value.record, info.value.field) == ("P-1", "facts.C")


class TestExternalModifiers:
    def test_set_and_clear(self) -> None:
        g = build(register())
        changes = g.set_modifier("P-2", "gas", 2, "可燃气体二级报警")
        assert {
            k: (v.before.name, v.after.name) for k, v in changes.items() if v.before and v.after} == {"E-1": ("YELLOW", "ORANGE"), "P-2": ("BLUE", "ORANGE"), "U-1": ("YELLOW", "ORANGE")}
        assert g.inherent_level("P-2") == Level.BLUE
        mod = g.assessment()["P-2"].modifiers[0]
        assert (mod.id, mod.external, mod.basis.basis, mod.label_zh) == ("gas", True, "local", "可燃气体二级报警")
        assert list(g.clear_modifier("P-2", "gas")) == ["E-1", "P-2", "U-1"]
        assert g.clear_modifier("P-2", "gas") == {}

    def test_floor_holds_above_standardisation(self) -> None:
        g = build(register(standardisation="一级"))
        g.set_modifier("P-2", "red-warning", 0, "红色预警", floor=Level.RED)
        assert g.level("E-1") == Level.RED

    def test_negative_steps_refused(self) -> None:
        with pytest.raises(GraphError):
            build(register()).set_modifier("P-2", "k", -1, "x")


class TestAssessment:
    def test_chem_plant(self) -> None:
        a = assess(LEC, str(EXAMPLES / "chem-plant.yaml"), as_of=AS_OF)
        assert (a.level, a.inherent_level) == (Level.RED, Level.ORANGE)
        assert (
            a["P-SYN-REACTOR"].control_tier, a["P-BOILER"].control_tier, a["P-SYN-PUMP"].control_tier) == ("company", "department", "team")
        assert [
            (s.node, s.by) for s in a.chain] == [("E-620402-CHEM-01", "max"), ("U-SYN", "max"), ("P-SYN-REACTOR", "modifier")]
        assert a.chain[-1].modifier.subjects == ("HD-2024-007",)  # type: ignore[union-attr]

    def test_explain_en(self) -> None:
        a = assess(LEC, str(EXAMPLES / "chem-plant.yaml"), as_of=AS_OF)
        assert a.explain("en").splitlines() == [
            "enterprise E-620402-CHEM-01 (白银示例化工有限公司): RED (major risk), inherent ORANGE, as of 2024-06-30",
            "  deciding factor: hidden danger (risk point P-SYN-REACTOR (合成反应釜), risk-point-major-hidden-danger "
            f"HD-2024-007; cite: {HAZCHEM_VETO} [derived from principle])",
            "  RED ← highest child: unit U-SYN (合成车间)",
            "  RED ← highest child: risk point P-SYN-REACTOR (合成反应釜)",
            "  RED ← veto → RED: open major hidden danger HD-2024-007 at risk point P-SYN-REACTOR (合成反应釜); "
            f"cite: {HAZCHEM_VETO} [derived from principle]",
            "  control tiers of risk point P-SYN-REACTOR (合成反应釜): company → department → team → post; cite: "
            "风险分级管控原则：风险越大，管控层级越高；上级负责管控的风险，下级必须同时负责管控，并逐级落实具体措施 "
            "[derived from principle] [unverified]",
            "  also: enterprise model hazchem-enterprise-2018 grades it ORANGE (score 87, rule floor-mhi-2); "
            "not the deciding factor",
            "  also: -1 level: safety standardisation grade 1 (no effect: held by a veto/floor); "
            "cite: 应急〔2018〕19号 (标准化一级 +15 分) [derived from principle]",
        ]

    def test_explain_zh_mine(self) -> None:
        a = assess(None, str(EXAMPLES / "mine.yaml"), as_of=AS_OF)
        lines = a.explain("zh").splitlines()
        assert lines[1] == ("  决定因素：事故记录（企业 E-620403-MINE-01（平川示例矿业有限公司），accident-12-months A-2023-11；"
                            "依据 应急〔2018〕19号 (accident deductions) [本地配置]）")
        assert lines[2] == "  重大风险 ← 升1级：近12个月内发生一般及以上事故 A-2023-11（企业 E-620403-MINE-01（平川示例矿业有限公司））; " \
               "依据: 应急〔2018〕19号 (accident deductions) [本地配置]"
        assert lines[-2].startswith("  一般风险 ← 按规则集 lec-generic 评定风险点 P-FACE-ROOF（采场顶板）（得分 126，规则 lec")
        assert lines[-1].startswith("  管控层级（风险点 P-FACE-ROOF（采场顶板））：公司(厂)级→车间(部室)级→班组级→岗位级; 依据: ")

    def test_to_json_byte_identical_and_records_ruleset(self) -> None:
        one = assess(None, str(EXAMPLES / "chem-plant.yaml"), as_of=AS_OF).to_json()
        two = assess(LEC, str(EXAMPLES / "chem-plant.yaml"), as_of=AS_OF).to_json()
        assert one == two
        d = json.loads(one)
        assert (
            d["schema"], d["as_of"], d["as_of_defaulted"], d["level"], d["inherent_level"]) == ("riskgrade.enterprise-assessment/1", "2024-06-30", False, "RED", "ORANGE")
        assert (LEC.fingerprint, LEC.version) == (d["rulesets"]["lec-generic"]["fingerprint"],
                                                  d["rulesets"]["lec-generic"]["version"])
        assert d["counts"]["level"] == {"RED": 1, "ORANGE": 2, "YELLOW": 2, "BLUE": 2}
        assert d["nodes"]["P-SYN-REACTOR"]["open_hidden_dangers"] == ["HD-2024-007"]

    def test_as_of_default_is_recorded(self) -> None:
        a = assess(LEC, register())
        assert (dt.date.today(), True) == (a.as_of, a.as_of_defaulted)

    def test_resolver_callable(self) -> None:
        calls: list[str] = []

        def resolve(ref: str) -> Any:
            calls.append(ref)
            return riskgrade.load(ref)
        a = assess(resolve, register(), as_of=AS_OF)
        # the resolver also loads the ruleset that declares the sector's roll-up (hazchem)
        assert (a.level, calls) == (Level.YELLOW, ["lec-generic", "hazchem-enterprise-2018"])

    def test_missing_ruleset(self) -> None:
        with pytest.raises(FactError) as info:
            assess(lambda ref: LEC, register(ruleset=None), as_of=AS_OF)
        assert (info.value.record, info.value.field, info.value.code) == ("P-1", "ruleset", "missing-ruleset")

    def test_assess_with_a_ruleset(self) -> None:
        assert riskgrade.assess(LEC, riskgrade.load_enterprise(register()), as_of=AS_OF).level == Level.YELLOW

    def test_tree(self) -> None:
        a = assess(LEC, register(hidden_dangers=[{"id": "HD-1", "target": "P-2", "grade": "major",
                                                  "found": "2024-06-01"}]), as_of=AS_OF)
        assert a.tree("en").splitlines() == [
            "E-1 测试企业  RED    major risk  (inherent YELLOW)",
            "├── U-1 一车间  RED    major risk  (inherent YELLOW)",
            "│   ├── P-1 风险点P-1  YELLOW moderate risk  (score 90; tiers department → team → post)",
            "│   └── P-2 风险点P-2  RED    major risk  (inherent BLUE; score 9; tiers company → department → team → post; "
            "veto → RED: open major hidden danger HD-1)",
            "└── U-2 二车间  YELLOW moderate risk",
            "    └── P-3 风险点P-3  YELLOW moderate risk  (score 90; tiers department → team → post)",
        ]
