"""Tests for riskgrade._monitor.rules: the warnings section and kind: monitor rulesets."""

from __future__ import annotations

import pytest

from riskgrade import Citation, Level
from riskgrade._api import SECTIONS
from riskgrade._monitor.rules import Effect, load_monitor_ruleset, parse_duration, parse_monitor_ruleset
from riskgrade.exceptions import RulesetError

HEAD = "kind: monitor\nid: t\nwarnings:\n"
OK = HEAD + """\
  - id: a
    kind: alarm_count
    point: P
    count: 3
    window: 10min
    level: 黄
    message: {zh: "{point} {count} 次", en: "{point} {count} times"}
    cite: {source: AQ 3035-2010, clause: "5.3"}
"""


class TestParseDuration:
    @pytest.mark.parametrize(("text", "seconds"), [(30, 30.0), ("30s", 30.0), ("5min", 300.0), ("2h", 7200.0),
                                                   ("1d", 86400.0), ("1.5m", 90.0)])
    def test_units(self, text: object, seconds: float) -> None:
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize("bad", ["soon", -1, True, "5 weeks"])
    def test_bad(self, bad: object) -> None:
        with pytest.raises(ValueError):
            parse_duration(bad)


class TestMonitorRuleset:
    def test_ok(self) -> None:
        rules = parse_monitor_ruleset(OK, "m.yaml")
        rule = rules.rule("a")
        assert (rule.level, rule.count, rule.window, rule.alarms, rule.effect) == (
            Level.YELLOW, 3, 600.0, ("高报", "高高报"), Effect(steps=1))
        assert rule.cite == Citation("AQ 3035-2010", clause="5.3", basis="clause")
        assert rules.fingerprint.startswith("sha256:") and len(rules.fingerprint) == 71
        assert parse_monitor_ruleset(OK, "m.yaml").fingerprint == rules.fingerprint

    def test_problems_are_collected_and_located(self) -> None:
        text = HEAD + """\
  - id: a
    kind: threshold
    point: P
    above: medium
    delay: soon
    level: purple
    message: {zh: "{point} {colour}", en: x}
    cite: {source: X, kind: folklore}
    effect: {raise: 5}
  - id: a
    kind: together
    points: [P, P]
    level: RED
    message: {zh: x, en: x}
"""
        with pytest.raises(RulesetError) as info:
            parse_monitor_ruleset(text, "m.yaml")
        got = [(p.line, p.col, p.code) for p in info.value.problems]
        assert got == [(7, 12, "bad-limit"), (8, 12, "bad-duration"), (9, 12, "bad-level"),
                       (10, 20, "bad-placeholder"), (11, 29, "bad-citation-kind"), (12, 21, "bad-effect"),
                       (13, 5, "missing-citation"), (13, 9, "duplicate-id"), (15, 13, "bad-points")]
        assert str(info.value.problems[0]).startswith("m.yaml:7:12: bad-limit:")

    def test_unknown_kind_and_field(self) -> None:
        with pytest.raises(RulesetError) as info:
            parse_monitor_ruleset(HEAD + "  - {id: x, kind: thresold}\n  - {id: y, kind: together, colour: red}\n")
        assert "unknown-kind" in info.value.codes and "unknown-key" in info.value.codes

    def test_shipped_chem_plant_ruleset_loads(self) -> None:
        rules = load_monitor_ruleset("rulesets/monitoring/chem-plant-monitor.yaml")
        assert [r.kind for r in rules.rules] == ["threshold", "sustained", "alarm_count", "together",
                                                 "hidden_danger_overdue"]
        assert rules.tolerance == 60.0 and rules.rule("nh3-gas-sustained-hh").effect == Effect(0, None, Level.RED)


def test_warnings_section_is_registered() -> None:
    assert "warnings" in SECTIONS
