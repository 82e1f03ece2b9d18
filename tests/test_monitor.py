"""Tests for riskgrade._monitor.monitor: warnings on the real durable-rules engine and the real enterprise graph."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest

from riskgrade import Level, Monitor, RiskGraph, load_enterprise
from riskgrade._monitor.events import read_events
from riskgrade._monitor.monitor import engine_rules
from riskgrade._monitor.rules import WarningRules, load_monitor_ruleset, parse_monitor_ruleset
from riskgrade.exceptions import MonitorError

RULES_YAML = """\
# Monitoring and early-warning rules (监测预警规则) for the bundled chemical plant
# (examples/enterprises/chem-plant.yaml). Each rule raises a warning while its condition
# holds and, through the enterprise graph, raises the dynamic level of the risk point it
# is about. Limits named high / high_high come from the monitoring point's own alarm
# limits in the enterprise register, so changing a limit there changes it here.
kind: monitor
id: chem-plant-monitor
version: "1.0"
title: {zh: 化工企业实时监测预警规则, en: chemical plant real-time monitoring rules}
# events may arrive up to 60 s out of order (DCS/SIS collectors poll at different rates)
tolerance: 60s

warnings:
  - id: reactor-temp-high
    title: 反应釜温度超报警值
    kind: threshold
    point: TI-101
    above: high
    deadband: 2          # clears only below high - 2 °C, so a reading hovering at the limit does not flap
    delay: 2min          # raised when readings stay above the limit for 2 minutes
    level: ORANGE
    message:
      zh: "{point} 反应釜温度 {value}{unit} 持续超过报警值 {limit}{unit}（自 {since}）"
      en: "{point} reactor temperature {value}{unit} above its alarm limit {limit}{unit} since {since}"
    cite: {source: "GB/T 50493-2019 石油化工可燃气体和有毒气体检测报警设计标准", clause: "local reading of 5.5", kind: local}
    effect: {raise: 1}

  - id: reactor-temp-sustained-hh
    title: 反应釜温度持续超高高报值
    kind: sustained
    point: TI-101
    above: high_high
    for: 5min
    level: RED
    message:
      zh: "{point} 反应釜温度超过高高报值 {limit}{unit} 已持续 {duration}"
      en: "{point} reactor temperature above its high-high limit {limit}{unit} for {duration}"
    cite: {source: "AQ 3035-2010 危险化学品重大危险源安全监控通用技术规范", clause: "4.2", kind: derived}
    effect: {raise: 2}

  - id: reactor-pressure-alarms
    title: 反应釜压力频繁报警
    kind: alarm_count
    point: PI-101
    alarms: [高报, 高高报]
    count: 3
    window: 10min
    level: YELLOW
    message:
      zh: "{point} 压力 {window} 内报警 {count} 次"
      en: "{point} pressure alarmed {count} times within {window}"
    cite: {source: "AQ 3035-2010 危险化学品重大危险源安全监控通用技术规范", clause: "5.3", kind: derived}
    effect: {raise: 1}

  - id: tank-farm-gas-together
    title: 罐区两台可燃气体探测器同时报警
    kind: together
    points: [GD-301, GD-302]
    alarms: [高报, 高高报]
    within: 5min
    level: RED
    message:
      zh: "罐区可燃气体探测器 {points} 在 {within} 内同时报警，疑似泄漏"
      en: "tank farm gas detectors {points} alarming together within {within}: suspected leak"
    cite: {source: "GB/T 50493-2019 石油化工可燃气体和有毒气体检测报警设计标准", clause: "local reading", kind: local}
    effect: {raise: 2}

  - id: hidden-danger-overdue
    title: 隐患逾期未整改
    kind: hidden_danger_overdue
    level: ORANGE
    message:
      zh: "隐患 {hidden_danger}（风险点 {risk_point}）超过整改期限 {deadline} 仍未整改"
      en: "hidden danger {hidden_danger} at risk point {risk_point} still open past its deadline {deadline}"
    cite: {source: "安全生产事故隐患排查治理暂行规定（国家安监总局令第16号）", clause: "第十五条", kind: derived}
    effect: {raise: 1}
"""
T0 = 1714521600.0  # 2024-05-01T08:00:00+08:00

REGISTER: dict[str, Any] = {
    "id": "E-CHEM", "name": "白银示例化工有限公司", "sectors": ["hazchem"], "jurisdiction": "620402",
    "ruleset": "lec-generic",
    "units": [{"id": "U-REACT", "name": "反应车间"}, {"id": "U-TANK", "name": "罐区"}],
    "risk_points": [
        {"id": "RP-REACTOR", "unit": "U-REACT", "name": "反应釜", "facts": {"L": 3, "E": 6, "C": 7}},
        {"id": "RP-TANK", "unit": "U-TANK", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 7}},
    ],
    "monitoring_points": [
        {"id": "TI-101", "risk_point": "RP-REACTOR", "name": "反应釜温度", "quantity": "temperature", "unit": "°C",
         "high": 85, "high_high": 95},
        {"id": "PI-101", "risk_point": "RP-REACTOR", "name": "反应釜压力", "quantity": "pressure", "unit": "MPa",
         "high": 1.6, "high_high": 2.0},
        {"id": "GD-301", "risk_point": "RP-TANK", "name": "可燃气体探测器", "quantity": "LEL", "unit": "%LEL",
         "high": 25, "high_high": 50},
        {"id": "GD-302", "risk_point": "RP-TANK", "name": "可燃气体探测器", "quantity": "LEL", "unit": "%LEL",
         "high": 25, "high_high": 50},
    ],
}


SHIPPED = "rulesets/monitoring/chem-plant-monitor.yaml"
PLANT = "examples/enterprises/chem-plant.yaml"


def graph() -> RiskGraph:
    return RiskGraph.build(None, load_enterprise(REGISTER), as_of=dt.date(2024, 5, 1))


def rules() -> WarningRules:
    return parse_monitor_ruleset(RULES_YAML, "test-monitor.yaml")


def rules_without_overdue_effect() -> WarningRules:
    """The test rules as the shipped ones are written: the roll-up alone raises an overdue hidden danger."""
    head, tail = RULES_YAML.rsplit("effect: {raise: 1}", 1)
    return parse_monitor_ruleset(head + "effect: none" + tail, "test-monitor.yaml")


def reading(t: float, value: float, point: str = "TI-101") -> dict[str, Any]:
    return {"type": "reading", "time": t, "point": point, "value": value}


def alarm(t: float, point: str, kind: str = "高报", state: str = "raised") -> dict[str, Any]:
    return {"type": "alarm", "time": t, "point": point, "alarm": kind, "state": state}


def summary(mon: Monitor, events: list[dict[str, Any]], nodes: str = "RP-") -> list[tuple[Any, ...]]:
    """(offset seconds, what, rule/node, detail) for what the events produced (level changes of ``nodes*``)."""
    out: list[tuple[Any, ...]] = []
    for ev in events:
        res = mon.feed(ev)
        for rec in res.records:
            if rec["kind"] == "level_changed":
                if rec["node"].startswith(nodes):
                    out.append((ev["time"] - T0, "level", rec["node"], f"{rec['from']}->{rec['to']}"))
            elif rec["kind"] == "error":
                out.append((ev["time"] - T0, "error", rec["field"], rec["error"]))
            elif rec["kind"] == "hidden_danger":
                out.append((ev["time"] - T0, "hd", rec["hidden_danger"], rec["status"]))
            else:
                out.append((ev["time"] - T0, rec["kind"].split("_")[1], rec["warning"]["rule"], rec["warning"]["key"]))
    return out


class TestEngineRules:
    def test_threshold_compiles_to_over_and_back_with_deadband(self) -> None:
        rule = rules().rule("reactor-temp-high")
        got = engine_rules(rule, 85.0)
        assert got["reactor-temp-high#over"]["all"][0]["m"]["$and"][-1] == {"$gt": {"value": 85.0}}
        assert got["reactor-temp-high#back"]["all"][0]["m"]["$and"][-1] == {"$lte": {"value": 83.0}}

    def test_overdue_is_a_join_on_event_time(self) -> None:
        got = engine_rules(rules().rule("hidden-danger-overdue"))
        late = got["hidden-danger-overdue#late"]["all"]
        assert [next(iter(c)) for c in late] == ["hd", "ev"]
        assert {"$gt": {"time": {"hd": "deadline"}}} in late[1]["ev"]["$and"]


class TestThreshold:
    def test_delay_then_deadband(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [reading(T0, 86), reading(T0 + 60, 87), reading(T0 + 120, 88),
                            reading(T0 + 180, 84), reading(T0 + 240, 83.5), reading(T0 + 300, 83)])
        assert got == [
            (120, "raised", "reactor-temp-high", "TI-101"), (120, "level", "RP-REACTOR", "YELLOW->ORANGE"),
            (300, "cleared", "reactor-temp-high", "TI-101"), (300, "level", "RP-REACTOR", "ORANGE->YELLOW"),
        ]

    def test_a_dip_below_the_limit_restarts_the_delay(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [reading(T0, 86), reading(T0 + 60, 85), reading(T0 + 120, 86), reading(T0 + 239, 86),
                            reading(T0 + 240, 86)])
        assert got == [(240, "raised", "reactor-temp-high", "TI-101"),
                       (240, "level", "RP-REACTOR", "YELLOW->ORANGE")]

    def test_exactly_at_the_limit_is_not_over(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        assert summary(mon, [reading(T0, 85), reading(T0 + 600, 85)]) == []

    def test_sustained_high_high_raises_two_levels_and_enterprise_follows(self) -> None:
        g = graph()
        mon = Monitor(rules(), g, tolerance=0)
        got = summary(mon, [reading(T0 + 60 * i, 96) for i in range(6)])
        assert got[-2:] == [(300, "raised", "reactor-temp-sustained-hh", "TI-101"),
                            (300, "level", "RP-REACTOR", "ORANGE->RED")]
        assert g.level("RP-REACTOR") is Level.RED
        assert [a.rule for a in mon.active] == ["reactor-temp-high", "reactor-temp-sustained-hh"]


class TestAlarmCount:
    def test_window_edge_is_inclusive(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [alarm(T0, "PI-101"), alarm(T0 + 300, "PI-101", "HH"), alarm(T0 + 600, "PI-101"),
                            reading(T0 + 600, 20), reading(T0 + 601, 20)])
        assert got == [(600, "raised", "reactor-pressure-alarms", "PI-101"),
                       (600, "level", "RP-REACTOR", "YELLOW->ORANGE"),
                       (601, "cleared", "reactor-pressure-alarms", "PI-101"),
                       (601, "level", "RP-REACTOR", "ORANGE->YELLOW")]

    def test_just_outside_the_window_does_not_count(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [alarm(T0, "PI-101"), alarm(T0 + 300, "PI-101"), alarm(T0 + 601, "PI-101")])
        assert got == []

    def test_low_alarms_and_cleared_alarms_do_not_count(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [alarm(T0, "PI-101", "低报"), alarm(T0 + 1, "PI-101", "H", "cleared"),
                            alarm(T0 + 2, "PI-101"), alarm(T0 + 3, "PI-101")])
        assert got == []


class TestTogether:
    def test_pair_within_window_raises_and_clears_when_one_clears(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [alarm(T0, "GD-301"), alarm(T0 + 300, "GD-302"), alarm(T0 + 400, "GD-301", state="cleared")],
                      nodes="")
        assert got == [(300, "raised", "tank-farm-gas-together", "GD-301+GD-302"),
                       (300, "level", "E-CHEM", "YELLOW->RED"), (300, "level", "RP-TANK", "YELLOW->RED"),
                       (300, "level", "U-TANK", "YELLOW->RED"),
                       (400, "cleared", "tank-farm-gas-together", "GD-301+GD-302"),
                       (400, "level", "E-CHEM", "RED->YELLOW"), (400, "level", "RP-TANK", "RED->YELLOW"),
                       (400, "level", "U-TANK", "RED->YELLOW")]

    def test_pair_too_far_apart_does_not_raise(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        assert summary(mon, [alarm(T0, "GD-301"), alarm(T0 + 301, "GD-302")]) == []


class TestHiddenDangerOverdue:
    def test_open_past_deadline_then_rectified(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [
            {"type": "hidden_danger_reported", "time": T0, "hidden_danger": "HD-9", "risk_point": "RP-TANK",
             "deadline": T0 + 3600},
            {"type": "inspection_done", "time": T0 + 3600, "risk_point": "RP-TANK"},
            {"type": "inspection_done", "time": T0 + 3601, "risk_point": "RP-TANK"},
            {"type": "inspection_done", "time": T0 + 3700, "risk_point": "RP-TANK"},
            {"type": "hidden_danger_rectified", "time": T0 + 7200, "hidden_danger": "HD-9"},
            {"type": "inspection_done", "time": T0 + 9000, "risk_point": "RP-TANK"},
        ])
        assert got == [(0, "hd", "HD-9", "open"),
                       (3601, "raised", "hidden-danger-overdue", "HD-9"), (3601, "level", "RP-TANK", "YELLOW->ORANGE"),
                       (7200, "hd", "HD-9", "rectified"),
                       (7200, "cleared", "hidden-danger-overdue", "HD-9"), (7200, "level", "RP-TANK", "ORANGE->YELLOW")]

    def test_reported_overdue_upstream(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        got = summary(mon, [
            {"type": "hidden_danger_reported", "time": T0, "hidden_danger": "HD-1", "risk_point": "RP-TANK",
             "deadline": T0 + 86400},
            {"type": "rectification_overdue", "time": T0 + 10, "hidden_danger": "HD-1"},
            {"type": "rectification_overdue", "time": T0 + 20, "hidden_danger": "HD-1"},
        ])
        assert got == [(0, "hd", "HD-1", "open"), (10, "raised", "hidden-danger-overdue", "HD-1"),
                       (10, "level", "RP-TANK", "YELLOW->ORANGE")]

    def test_register_hidden_dangers_are_watched(self) -> None:
        data = {**REGISTER, "hidden_dangers": [{"id": "HD-R", "target": "RP-TANK", "grade": "general",
                                                "found": "2024-04-20", "deadline": "2024-05-01", "status": "open"}]}
        g = RiskGraph.build(None, load_enterprise(data), as_of=dt.date(2024, 5, 1))
        mon = Monitor(rules(), g, tolerance=0)
        midnight = T0 + 16 * 3600  # 2024-05-02T00:00+08:00: the day after the deadline
        got = summary(mon, [reading(midnight - 1, 20), reading(midnight, 20)])
        assert [x[:3] for x in got if x[1] != "level"] == [(midnight - T0, "raised", "hidden-danger-overdue")]


class TestOrdering:
    def test_out_of_order_within_tolerance_gives_the_in_order_result(self) -> None:
        ordered = [reading(T0, 86), reading(T0 + 60, 87), reading(T0 + 120, 88), reading(T0 + 180, 82)]
        shuffled = [ordered[1], ordered[0], ordered[3], ordered[2]]
        a = Monitor(rules(), graph(), tolerance=0)
        b = Monitor(rules(), graph(), tolerance=60)
        want = [r for ev in ordered for r in a.feed(ev).records]
        got = [r for ev in shuffled for r in b.feed(ev).records] + list(b.flush().records)
        assert got == want and len(want) == 8

    def test_late_beyond_tolerance_is_an_error_record(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=60)
        assert not mon.feed(reading(T0 + 100, 20))
        assert not mon.feed(reading(T0 + 200, 20))   # releases the first
        res = mon.feed(reading(T0 + 50, 20))
        assert [(e.code, e.field) for e in res.errors] == [("late-event", "time")]

    def test_duplicate_ids_and_unknown_points_and_foreign_enterprise(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        assert not mon.feed({**reading(T0, 20), "id": "x"}).errors
        errs = [mon.feed(ev).errors[0] for ev in (
            {**reading(T0 + 1, 20), "id": "x"}, reading(T0 + 2, 20, "TI-999"),
            {**reading(T0 + 3, 20), "enterprise": "E-OTHER"}, {"type": "reading", "time": T0 + 4, "point": "TI-101"})]
        assert [(e.code, e.field) for e in errs] == [("duplicate-event", "id"), ("unknown-point", "point"),
                                                    ("wrong-enterprise", "enterprise"), ("missing-field", "value")]


class TestEngine:
    def test_two_monitors_in_one_process_are_independent(self) -> None:
        a, b = Monitor(rules(), graph(), tolerance=0), Monitor(rules(), graph(), tolerance=0)
        assert a.name != b.name
        for i in range(3):
            a.feed(reading(T0 + 60 * i, 90))
        assert [x.rule for x in a.active] == ["reactor-temp-high"] and b.active == ()
        assert [x.rule for x in b.feed(reading(T0, 20)).raised] == []

    def test_replay_twice_is_identical(self) -> None:
        with open("examples/events/chem-plant.jsonl", encoding="utf-8") as fh:
            lines = fh.readlines()
        outs = []
        for _ in range(2):
            plant = RiskGraph.build(None, load_enterprise(PLANT), as_of=dt.date(2024, 7, 1))
            with Monitor(load_monitor_ruleset(SHIPPED), plant) as mon:
                outs.append([json.dumps(r, ensure_ascii=False) for r in mon.replay(lines)])
        assert outs[0] == outs[1] and len(outs[0]) > 10

    def test_an_error_inside_an_action_is_a_monitor_error(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        mon.feed(reading(T0, 20))
        ruleset = mon._engine._host.get_ruleset(mon.name)

        def boom(c: Any) -> None:
            raise RuntimeError("sensor table corrupt")

        from durable.engine import Promise
        ruleset._actions["reactor-temp-high#over"] = Promise(boom)
        with pytest.raises(MonitorError, match="sensor table corrupt"):
            mon.feed(reading(T0 + 60, 90))
        with pytest.raises(MonitorError):  # a failed monitor stays failed
            mon.feed(reading(T0 + 120, 20))

    def test_no_background_threads(self) -> None:
        before = threading.active_count()
        monitors = [Monitor(rules(), graph(), tolerance=0) for _ in range(3)]
        assert threading.active_count() == before and len(monitors) == 3

    def test_unknown_point_in_rules_is_rejected(self) -> None:
        text = RULES_YAML.replace("point: PI-101", "point: PI-999")
        with pytest.raises(MonitorError, match="PI-999"):
            Monitor(parse_monitor_ruleset(text, "x.yaml"), graph())

    def test_events_without_warnings_keep_memory_bounded(self) -> None:
        mon = Monitor(rules(), graph(), tolerance=0)
        for i in range(2000):
            mon.feed(alarm(T0 + i * 10, "PI-101"))
        assert len(mon._hits) == 0
        assert mon._engine._host.get_facts(mon.name, mon._sid) == []


def test_read_events_feeds_the_monitor() -> None:
    lines = ['{"type": "reading", "time": 0, "point": "TI-101", "value": 1}', "nope"]
    items = list(read_events(lines))
    assert len(items) == 2


# --------------------------------------------------------------------------- hidden dangers in the graph

def hd_reported(t: float, hd: str = "HD-9", rp: str = "RP-TANK", *, deadline: float | None = None,
                major: bool = False) -> dict[str, Any]:
    return {"type": "hidden_danger_reported", "time": t, "hidden_danger": hd, "risk_point": rp,
            "deadline": T0 + 7 * 86400 if deadline is None else deadline, "major": major}


def hd_event(t: float, kind: str, hd: str = "HD-9", **extra: Any) -> dict[str, Any]:
    return {"type": f"hidden_danger_{kind}", "time": t, "hidden_danger": hd, **extra}


def levels(res: Any) -> list[tuple[str, str, str, str]]:
    return [(c.node, c.before.name, c.after.name, c.cause) for c in res.changes]


class TestHiddenDangerRecords:
    def test_major_reported_vetoes_to_red_then_rectified_and_verified(self) -> None:
        g = graph()
        mon = Monitor(rules(), g, tolerance=0)
        res = mon.feed(hd_reported(T0, major=True))
        assert levels(res) == [("E-CHEM", "YELLOW", "RED", "hidden_danger_reported/HD-9"),
                               ("RP-TANK", "YELLOW", "RED", "hidden_danger_reported/HD-9"),
                               ("U-TANK", "YELLOW", "RED", "hidden_danger_reported/HD-9")]
        hd = g.hidden_danger("HD-9")
        assert res.hidden_dangers == (hd,)
        assert hd is not None and (hd.target, hd.grade, hd.status, hd.found, hd.deadline, hd.closed) == (
            "RP-TANK", "major", "open", dt.date(2024, 5, 1), dt.date(2024, 5, 8), None)
        assert res.records[0] == {"kind": "hidden_danger", "time": "2024-05-01T08:00:00+08:00",
                                  "hidden_danger": "HD-9", "event": "hidden_danger_reported", "target": "RP-TANK",
                                  "grade": "major", "status": "open", "found": "2024-05-01",
                                  "deadline": "2024-05-08", "closed": None}
        assert "veto" in g.assessment().explain("en")
        res = mon.feed(hd_event(T0 + 3600, "rectified"))
        # marked rectified, a major hidden danger keeps its veto until verified (issue 14)
        assert levels(res) == []
        assert [(h.status, h.closed) for h in res.hidden_dangers] == [("rectified", dt.date(2024, 5, 1))]
        res = mon.feed(hd_event(T0 + 7200, "verified"))
        assert levels(res) == [("E-CHEM", "RED", "YELLOW", "hidden_danger_verified/HD-9"),
                               ("RP-TANK", "RED", "YELLOW", "hidden_danger_verified/HD-9"),
                               ("U-TANK", "RED", "YELLOW", "hidden_danger_verified/HD-9")]
        assert [h.status for h in res.hidden_dangers] == ["verified"]
        assert g.level("E-CHEM") is Level.YELLOW

    def test_failed_verification_reopens_and_the_veto_returns(self) -> None:
        g = graph()
        mon = Monitor(rules(), g, tolerance=0)
        mon.feed(hd_reported(T0, major=True))
        mon.feed(hd_event(T0 + 10, "rectified"))
        res = mon.feed(hd_event(T0 + 20, "verified", passed=False))
        assert [(h.status, h.closed) for h in res.hidden_dangers] == [("open", None)]
        # the veto never lifted: marked rectified it still held (issue 14)
        assert (levels(res), g.level("RP-TANK")) == ([], Level.RED)
        # reopened, it is watched again for its deadline
        res = mon.feed({"type": "inspection_done", "time": T0 + 8 * 86400, "risk_point": "RP-TANK"})
        assert [a.key for a in res.raised] == ["HD-9"]

    def test_verified_while_open_closes_it(self) -> None:
        g = graph()
        mon = Monitor(rules(), g, tolerance=0)
        mon.feed(hd_reported(T0, major=True))
        res = mon.feed(hd_event(T0 + 10, "verified"))
        assert [(h.status, h.closed) for h in res.hidden_dangers] == [("verified", dt.date(2024, 5, 1))]
        assert g.level("RP-TANK") is Level.YELLOW

    def test_bad_hidden_danger_events_are_error_records_and_the_stream_goes_on(self) -> None:
        data = {**REGISTER, "hidden_dangers": [{"id": "HD-R", "target": "RP-TANK", "grade": "general",
                                                "found": "2024-04-20", "deadline": "2024-05-20"}]}
        g = RiskGraph.build(None, load_enterprise(data), as_of=dt.date(2024, 5, 1))
        mon = Monitor(rules(), g, tolerance=0)
        lines = [json.dumps(ev) for ev in (
            hd_reported(T0, rp="RP-NOPE"),                                 # 1 unknown risk point
            hd_reported(T0 + 1, rp="U-TANK"),                              # 2 a unit is not a risk point
            hd_reported(T0 + 2, hd="HD-R"),                                # 3 the register has it
            hd_reported(T0 + 3, hd="RP-REACTOR"),                          # 4 a node's id
            hd_reported(T0 + 4, major=True),                               # 5 fine
            hd_reported(T0 + 5, major=True),                               # 6 reported twice
            hd_event(T0 + 6, "rectified", "HD-404"),                       # 7 unknown
            hd_event(T0 + 7, "verified", "HD-404"),                        # 8 unknown
            {"type": "rectification_overdue", "time": T0 + 8, "hidden_danger": "HD-404"},  # 9 unknown
            hd_event(T0 + 9, "verified", passed=False),                    # 10 open: nothing to reopen
            hd_reported(T0 + 10, "HD-10", deadline=T0 - 86400),            # 11 deadline before found
            {"type": "inspection_done", "time": T0 + 11, "risk_point": "RP-GONE"},          # 12 unknown
            hd_event(T0 + 12, "rectified"),                                # 13 fine
            hd_event(T0 + 13, "rectified"),                                # 14 already rectified
            hd_event(T0 + 14, "verified"),                                 # 15 fine
            hd_event(T0 + 15, "verified"),                                 # 16 already verified
            {"type": "rectification_overdue", "time": T0 + 16, "hidden_danger": "HD-9"},    # 17 closed
        )]
        records = list(mon.replay(lines))
        errors = [(r["line"], r["field"], r["error"]) for r in records if r["kind"] == "error"]
        assert errors == [
            (1, "risk_point", "unknown-risk-point"), (2, "risk_point", "unknown-risk-point"),
            (3, "hidden_danger", "duplicate-hidden-danger"), (4, "hidden_danger", "duplicate-hidden-danger"),
            (6, "hidden_danger", "duplicate-hidden-danger"), (7, "hidden_danger", "unknown-hidden-danger"),
            (8, "hidden_danger", "unknown-hidden-danger"), (9, "hidden_danger", "unknown-hidden-danger"),
            (10, "hidden_danger", "bad-transition"), (11, "deadline", "bad-value"),
            (12, "risk_point", "unknown-risk-point"), (14, "hidden_danger", "bad-transition"),
            (16, "hidden_danger", "bad-transition"), (17, "hidden_danger", "bad-transition"),
        ]
        assert [(r["line"], r["status"]) for r in records if r["kind"] == "hidden_danger"] == [
            (5, "open"), (13, "rectified"), (15, "verified")]
        msgs = {r["line"]: r["message"] for r in records if r["kind"] == "error"}
        assert msgs[1] == "no risk point 'RP-NOPE' in enterprise 'E-CHEM'"
        assert msgs[14] == "hidden danger 'HD-9' is rectified: only an open hidden danger can be rectified"
        assert msgs[11] == "deadline 2024-04-30 is before found date 2024-05-01"
        assert g.hidden_danger("HD-10") is None and g.level("RP-TANK") is Level.YELLOW

    def test_without_a_graph_the_register_is_checked_and_kept(self) -> None:
        data = {**REGISTER, "hidden_dangers": [{"id": "HD-R", "target": "RP-TANK", "grade": "general",
                                                "found": "2024-04-20", "deadline": "2024-05-20"}]}
        mon = Monitor(rules(), load_enterprise(data), tolerance=0)
        got = summary(mon, [hd_reported(T0, hd="HD-R"), hd_reported(T0 + 1, rp="RP-NOPE"),
                            hd_event(T0 + 2, "rectified", "HD-R"), hd_event(T0 + 3, "rectified", "HD-R"),
                            hd_event(T0 + 4, "rectified", "HD-404")])
        assert got == [(0, "error", "hidden_danger", "duplicate-hidden-danger"),
                       (1, "error", "risk_point", "unknown-risk-point"), (2, "hd", "HD-R", "rectified"),
                       (3, "error", "hidden_danger", "bad-transition"),
                       (4, "error", "hidden_danger", "unknown-hidden-danger")]

    def test_out_of_order_report_and_rectify_within_tolerance(self) -> None:
        g = graph()
        mon = Monitor(rules(), g, tolerance=60)
        got = summary(mon, [hd_event(T0 + 30, "rectified"), hd_reported(T0, major=True),
                            reading(T0 + 200, 20)])
        assert got == [(200, "hd", "HD-9", "open"), (200, "level", "RP-TANK", "YELLOW->RED"),
                       (200, "hd", "HD-9", "rectified")]  # still RED until verified (issue 14)


class TestAsOfFollowsEventTime:
    def test_deadline_passes_at_midnight(self) -> None:
        g = graph()
        mon = Monitor(rules_without_overdue_effect(), g, tolerance=0)
        midnight = T0 + 16 * 3600  # 2024-05-02T00:00+08:00
        mon.feed(hd_reported(T0, deadline=T0 + 3600))
        res = mon.feed(reading(T0 + 3601, 20))
        assert [a.key for a in res.raised] == ["HD-9"] and levels(res) == []
        res = mon.feed(reading(midnight - 1, 20))
        assert levels(res) == [] and g.as_of == dt.date(2024, 5, 1)
        res = mon.feed(reading(midnight + 5, 20))
        # the roll-up's own overdue raise, from the day after the deadline
        assert levels(res) == [("E-CHEM", "YELLOW", "ORANGE", "as_of/2024-05-02"),
                               ("RP-TANK", "YELLOW", "ORANGE", "as_of/2024-05-02"),
                               ("U-TANK", "YELLOW", "ORANGE", "as_of/2024-05-02")]
        assert res.records[0]["time"] == "2024-05-02T00:00:00+08:00" and g.as_of == dt.date(2024, 5, 2)

    def test_a_gap_of_days_is_stepped_day_by_day(self) -> None:
        g = graph()
        mon = Monitor(parse_monitor_ruleset("kind: monitor\nwarnings: []\n"), g, tolerance=0)
        mon.feed(hd_reported(T0, "HD-A", deadline=T0))                      # overdue from 05-02
        mon.feed(hd_reported(T0 + 1, "HD-B", "RP-REACTOR", deadline=T0 + 86400))  # overdue from 05-03
        res = mon.feed(reading(T0 + 5 * 86400, 20))
        assert [(r["node"], r["time"][:10], r["cause"]) for r in res.records if r["node"].startswith("RP-")] == [
            ("RP-TANK", "2024-05-02", "as_of/2024-05-02"), ("RP-REACTOR", "2024-05-03", "as_of/2024-05-03")]
        assert g.as_of == dt.date(2024, 5, 6)

    def test_never_moves_back_and_a_defaulted_graph_is_anchored_at_the_first_event(self) -> None:
        later = RiskGraph.build(None, load_enterprise(REGISTER), as_of=dt.date(2024, 6, 1))
        Monitor(rules(), later, tolerance=0).feed(reading(T0, 20))
        assert later.as_of == dt.date(2024, 6, 1)
        today = RiskGraph.build(None, load_enterprise(REGISTER))
        assert today.as_of_defaulted
        Monitor(rules(), today, tolerance=0).feed(reading(T0, 20))
        assert (today.as_of, today.as_of_defaulted) == (dt.date(2024, 5, 1), False)

    def test_register_hidden_danger_overdue_warning_and_roll_up_do_not_double_count(self) -> None:
        plant = RiskGraph.build(None, load_enterprise(PLANT), as_of=dt.date(2024, 7, 1))
        before = plant.level("P-NH3-LOAD")
        res = Monitor(load_monitor_ruleset(SHIPPED), plant, tolerance=0).feed(reading(1719792000.0, 5, "MP-NH3-GAS"))
        assert [a.key for a in res.raised] == ["HD-2024-003"] and res.changes == ()
        assert plant.level("P-NH3-LOAD") is before is Level.ORANGE


class TestGraphQueries:
    def test_kind_and_hidden_danger(self) -> None:
        g = graph()
        assert [g.kind(n) for n in ("E-CHEM", "U-TANK", "RP-TANK", "nope")] == ["enterprise", "unit", "risk_point",
                                                                               None]
        assert g.hidden_danger("HD-1") is None
        g.add("hidden_danger", {"id": "HD-1", "target": "RP-TANK", "grade": "general", "found": "2024-05-01"})
        g.update("HD-1", {"status": "rectified", "closed": "2024-05-01"})
        hd = g.hidden_danger("HD-1")
        assert hd is not None and hd.status == "rectified"


# --------------------------------------------------------------------------- a sector ruleset with warnings

SECTOR = "tests/data/tank-farm-with-warnings.yaml"


def sector_register() -> dict[str, Any]:
    return {"id": "E-TANK", "name": "罐区示例", "sectors": ["hazchem"], "jurisdiction": "620402", "ruleset": SECTOR,
            "units": [{"id": "U-1", "name": "罐区"}],
            "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 7}}],
            "monitoring_points": [{"id": "GD-1", "risk_point": "P-1", "name": "可燃气体探测器", "quantity": "LEL",
                                   "unit": "%LEL", "high": 20, "high_high": 40}]}


class TestSectorRulesetWithWarnings:
    def test_load_compiles_the_warnings_section(self) -> None:
        import riskgrade

        rs = riskgrade.load(SECTOR)
        section = rs.section("warnings")
        assert isinstance(section, WarningRules)
        assert [(r.id, r.kind) for r in section.rules] == [("tank-gas-high", "threshold"),
                                                          ("major-hidden-danger-overdue", "hidden_danger_overdue")]
        assert section.id == "test-tank-farm-with-warnings" and section.version == "0.1.0"
        assert rs.grade({"L": 3, "E": 6, "C": 15}).level is Level.ORANGE

    def test_monitor_end_to_end(self) -> None:
        import riskgrade

        rs = riskgrade.load(SECTOR)
        g = RiskGraph.build(rs, load_enterprise(sector_register()), as_of=dt.date(2024, 5, 1))
        mon = Monitor(rs, g)
        got = [r for ev in (reading(T0, 25, "GD-1"), hd_reported(T0 + 60, "HD-1", "P-1", major=True, deadline=T0),
                            reading(T0 + 120, 14, "GD-1"), hd_event(T0 + 180, "verified", "HD-1"))
               for r in mon.feed(ev).records]
        assert [(r["kind"], r.get("node") or r.get("hidden_danger") or r["warning"]["rule"]) for r in got] == [
            ("warning_raised", "tank-gas-high"), ("level_changed", "E-TANK"), ("level_changed", "P-1"),
            ("level_changed", "U-1"),
            ("hidden_danger", "HD-1"), ("level_changed", "E-TANK"), ("level_changed", "P-1"),
            ("level_changed", "U-1"), ("warning_raised", "major-hidden-danger-overdue"),
            ("warning_cleared", "tank-gas-high"),
            ("hidden_danger", "HD-1"), ("level_changed", "E-TANK"), ("level_changed", "P-1"),
            ("level_changed", "U-1"), ("warning_cleared", "major-hidden-danger-overdue"),
        ]
        assert [(c.node, c.before.name, c.after.name) for c in mon.feed(reading(T0 + 240, 10, "GD-1")).changes] == []
        assert g.level("P-1") is Level.YELLOW

    def test_a_bad_warnings_section_fails_the_load_with_its_location(self, tmp_path: Any) -> None:
        import riskgrade
        from riskgrade.exceptions import RulesetError

        with open(SECTOR, encoding="utf-8") as fh:
            text = fh.read().replace("kind: threshold", "kind: thresold")
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(RulesetError) as info:
            riskgrade.load(str(bad))
        line = text.splitlines().index("    kind: thresold") + 1
        assert f"bad.yaml:{line}:11: unknown-kind" in str(info.value)
