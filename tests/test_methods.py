"""The built-in grading methods, through small real rulesets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import riskgrade
from riskgrade import Level, RulesetError

from .conftest import MINIMAL

HEAD = MINIMAL.split("inputs:")[0]

COMPOSITE = HEAD + """\
inputs:
  a: {type: bool}
  b: {type: bool}
  c: {type: bool}
  d: {type: bool, default: false}
rules:
  - id: k-of-n
    method: composite
    at_least: 2
    level: RED
    criteria:
      - {id: ca, when: a}
      - {id: cb, when: b}
      - {id: cc, when: c}
    cite: {source: s, clause: "综合判定", basis: clause}
  - id: direct-d
    method: direct
    when: d
    level: ORANGE
    cite: {source: s, basis: local}
otherwise:
  level: BLUE
  cite: {source: s, basis: derived}
"""


class TestComposite:
    @pytest.mark.parametrize("facts,level,fired", [
        ({"a": False, "b": False, "c": False}, Level.BLUE, []),
        ({"a": True, "b": False, "c": False}, Level.BLUE, []),
        ({"a": True, "b": False, "c": True}, Level.RED, ["k-of-n"]),
        ({"a": True, "b": True, "c": True, "d": True}, Level.RED, ["k-of-n", "direct-d"]),
        ({"a": False, "b": False, "c": False, "d": True}, Level.ORANGE, ["direct-d"]),
    ])
    def test_levels(self, write_ruleset: Callable[..., str], facts: dict[str, bool], level: Level,
                    fired: list[str]) -> None:
        a = riskgrade.load(write_ruleset(COMPOSITE)).grade(facts)
        assert (a.level, [f.id for f in a.fired]) == (level, fired)

    def test_explains_matched_criteria(self, write_ruleset: Callable[..., str]) -> None:
        a = riskgrade.load(write_ruleset(COMPOSITE)).grade({"a": True, "b": False, "c": True})
        assert a.fired[0].detail == "2 criteria met (at least 2 needed): ca, cc"
        assert "满足 2 项(至少需 2 项): ca, cc" in a.explain("zh")
        assert a.fired[0].citation.basis == "clause"

    def test_otherwise_is_explained(self, write_ruleset: Callable[..., str]) -> None:
        a = riskgrade.load(write_ruleset(COMPOSITE)).grade({"a": False, "b": False, "c": False})
        assert a.explain("en").splitlines()[-1].startswith("result: BLUE low risk (no rule fired, the default")

    def test_at_least_above_n(self, write_ruleset: Callable[..., str]) -> None:
        with pytest.raises(RulesetError) as ei:
            riskgrade.load(write_ruleset(COMPOSITE.replace("at_least: 2", "at_least: 4")))
        assert ei.value.codes == ["bad-value"]

    def test_duplicate_criterion(self, write_ruleset: Callable[..., str]) -> None:
        with pytest.raises(RulesetError) as ei:
            riskgrade.load(write_ruleset(COMPOSITE.replace("{id: cb,", "{id: ca,")))
        assert ei.value.codes == ["duplicate-id"]


class TestLS:
    def test_s_dimensions_max(self, write_ruleset: Callable[..., str]) -> None:
        text = HEAD + """\
inputs:
  L: {type: integer, min: 1, max: 5}
  s1: {type: integer, min: 1, max: 5}
  s2: {type: integer, min: 1, max: 5}
bands:
  r:
    closed: upper
    rows:
      - {to: 8, level: BLUE}
      - {from: 8, to: 12, level: YELLOW}
      - {from: 12, to: 16, level: ORANGE}
      - {from: 16, level: RED}
rules:
  - {id: ls, method: ls, S_dimensions: [s1, s2], bands: r, cite: {source: s}}
"""
        a = riskgrade.load(write_ruleset(text)).grade({"L": 4, "s1": 2, "s2": 5})
        assert (a.values, a.score, a.level) == ({"S": 5, "R": 20}, 20, Level.RED)
