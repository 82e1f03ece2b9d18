"""``Ruleset.counterfactuals`` and ``riskgrade whatif``: the smallest changes that lower a record's level."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade import Level
from riskgrade._cli.main import main
from riskgrade._grade.whatif import counterfactuals as search

from .test_plugin_guide import needs_plugins

ROOT = pathlib.Path(__file__).resolve().parent.parent
D360 = {"L": 3, "E": 3, "C": 40}


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def _published_scales() -> dict[str, list[float]]:
    """The L, E, C scales as published, read from the scale library's YAML (not the compiler)."""
    doc = yaml.safe_load((ROOT / "rulesets" / "library" / "lec.yaml").read_text(encoding="utf-8"))
    return {k: sorted(r["value"] for r in doc["tables"][f"lec_{k}"]["rows"]) for k in ("L", "E", "C")}


def _level(d: float) -> Level:
    """The four-level mapping of D, (from, to]: > 320 RED, > 160 ORANGE, > 70 YELLOW, else BLUE."""
    return Level.RED if d > 320 else Level.ORANGE if d > 160 else Level.YELLOW if d > 70 else Level.BLUE


def _brute_force_single(facts: dict[str, float], target: Level) -> set[tuple[str, float, float]]:
    """Every one-field change over the published scales that grades at target or lower, keeping per field
    and direction the nearest value on the scale (farther ones change more for the same effect)."""
    scales = _published_scales()
    out = set()
    for field, scale in scales.items():
        cur = facts[field]
        for direction in (-1, 1):
            steps = [v for v in scale if (v - cur) * direction > 0]
            steps.sort(key=lambda v: abs(scale.index(v) - scale.index(cur)))
            for v in steps:
                d = 1.0
                for k in ("L", "E", "C"):
                    d *= v if k == field else facts[k]
                if _level(d) <= target:
                    out.add((field, cur, v))
                    break
    return out


class TestLec:
    def test_the_d360_record_is_red(self) -> None:
        a = riskgrade.load("lec-generic").grade(D360)
        assert a.values["D"] == 360 and a.level is Level.RED

    def test_one_field_changes_to_orange_are_exactly_the_brute_force_set(self) -> None:
        rs = riskgrade.load("lec-generic")
        res = rs.counterfactuals(D360)
        assert res.level is Level.RED and res.target is Level.ORANGE and res.complete
        singles = {(f, a, b) for o in res.options if len(o.changes) == 1 for f, (a, b) in o.changes.items()}
        assert singles == _brute_force_single(D360, Level.ORANGE) == {("L", 3, 1), ("E", 3, 2), ("C", 40, 15)}
        # of those, the one that lands on ORANGE itself (the others go further, to YELLOW)
        exact = {f for o in res.options if o.level is Level.ORANGE for f in o.changes}
        assert exact == {"E"}
        for o in res.options:  # each option's level is what grading the changed record gives
            facts = {**D360, **{f: b for f, (_, b) in o.changes.items()}}
            assert rs.grade(facts).level is o.level <= Level.ORANGE

    def test_every_qualifying_single_change_is_an_option_or_farther_than_one(self) -> None:
        rs = riskgrade.load("lec-generic")
        options = {f: b for o in rs.counterfactuals(D360).options if len(o.changes) == 1
                   for f, (_, b) in o.changes.items()}
        scales = _published_scales()
        for field, scale in scales.items():
            for v in scale:
                d = 1.0
                for k in ("L", "E", "C"):
                    d *= v if k == field else D360[k]
                if _level(d) <= Level.ORANGE:
                    assert field in options
                    near = options[field]
                    assert abs(scale.index(near) - scale.index(D360[field])) <= abs(scale.index(v) - scale.index(D360[field]))

    def test_ranked_by_fields_then_distance(self) -> None:
        res = riskgrade.load("lec-generic").counterfactuals(D360, target="BLUE")
        keys = [(len(o.changes), o.distance) for o in res.options]
        assert keys == sorted(keys)
        assert all(o.level is Level.BLUE for o in res.options)
        assert any(len(o.changes) == 2 for o in res.options)
        # a pair is kept only when neither of its changes alone reaches the target
        singles = {(f, b) for o in res.options if len(o.changes) == 1 for f, (_, b) in o.changes.items()}
        for o in res.options:
            if len(o.changes) == 2:
                assert not any((f, b) in singles for f, (_, b) in o.changes.items())

    def test_fixed_fields_stay(self) -> None:
        res = riskgrade.load("lec-generic").counterfactuals(D360, fixed=("L", "C"))
        assert [o.changes for o in res.options] == [{"E": (3, 2)}]

    def test_unknown_fixed_field(self) -> None:
        with pytest.raises(riskgrade.FactError) as e:
            riskgrade.load("lec-generic").counterfactuals(D360, fixed=("X",))
        assert e.value.code == "unknown-input"

    def test_already_at_target_or_lowest(self) -> None:
        rs = riskgrade.load("lec-generic")
        low = rs.counterfactuals({"L": 1, "E": 0.5, "C": 40})
        assert low.level is Level.BLUE and low.options == ()
        assert rs.counterfactuals(D360, target="RED").options == ()

    def test_bad_facts_raise(self) -> None:
        with pytest.raises(riskgrade.FactError):
            riskgrade.load("lec-generic").counterfactuals({"L": 3, "E": 3, "C": 10})

    def test_explanations(self) -> None:
        o = riskgrade.load("lec-generic").counterfactuals(D360).options[1]
        assert o.changes == {"E": (3, 2)}
        assert any("240" in line for line in o.explanation())
        assert o.to_dict()["changes"] == {"E": [3, 2]}


class TestOtherInputs:
    @needs_plugins
    def test_a_numeric_range_is_narrowed_to_the_threshold(self) -> None:
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        facts = {"L": 3, "E": 6, "C": 15, "exposed_persons": 30}
        res = rs.counterfactuals(facts)
        assert res.level is Level.RED
        (people,) = [o for o in res.options if "exposed_persons" in o.changes]
        to = people.changes["exposed_persons"][1]
        assert rs.grade({**facts, "exposed_persons": to}).level <= Level.ORANGE
        assert rs.grade({**facts, "exposed_persons": to + 1}).level is Level.RED

    def test_bools_of_a_hidden_danger_list(self) -> None:
        rs = riskgrade.load("nonmetal-mine@2022")
        res = rs.counterfactuals({"ug_13": True, "tp_7": True})
        assert res.level is Level.RED
        # one item alone cannot lower it; both must be cleared
        assert [o.changes for o in res.options] == [{"tp_7": (True, False), "ug_13": (True, False)}]

    def test_the_search_is_bounded(self) -> None:
        rs = riskgrade.load("nonmetal-mine@2022")
        res = search(rs, {"ug_13": True, "tp_7": True, "op_1": True}, max_evaluations=200)
        assert not res.complete and res.evaluated <= 200 + 1


class TestCli:
    def test_text(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "job.yaml"
        f.write_text("L: 3\nE: 3\nC: 40\n", encoding="utf-8")
        code, out = invoke("whatif", "--ruleset", "lec-generic", str(f), "--lang", "en")
        assert code == 0, out
        assert "E 3 → 2" in out and "L 3 → 1" in out and "C 40 → 15" in out and "complete" in out

    def test_json_per_record(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "jobs.jsonl"
        f.write_text('{"L": 3, "E": 3, "C": 40}\n{"L": 3, "E": 6, "C": 15}\n', encoding="utf-8")
        code, out = invoke("whatif", "-r", "lec-generic", str(f), "--format", "json", "--fix", "L,C")
        assert code == 0, out
        first, second = (json.loads(line) for line in out.splitlines())
        assert first["level"] == "RED" and first["options"][0]["changes"] == {"E": [3, 2]}
        assert first["options"][0]["level"] == "ORANGE"
        assert second["level"] == "ORANGE" and second["target"] == "YELLOW"
        assert second["options"][0]["changes"] == {"E": [6, 3]}

    def test_target_and_errors(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "jobs.jsonl"
        f.write_text('{"L": 3, "E": 3, "C": 40}\n{"L": 3, "E": 6, "C": 10}\n', encoding="utf-8")
        code, out = invoke("whatif", "-r", "lec-generic", str(f), "--target", "蓝", "--format", "json")
        assert code == 1  # an invalid record is a finding (as in grade); the others are answered
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines[0]["target"] == "BLUE" and lines[1]["error"] == "not-allowed"
        code, out = invoke("whatif", "-r", "lec-generic", str(f), "--target", "PURPLE")
        assert code == 2 and "--target" in out
        code, out = invoke("whatif", "-r", "lec-generic", str(f), "--fix", "X")
        assert code == 2 and "--fix" in out

    def test_zh(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "job.yaml"
        f.write_text("L: 3\nE: 3\nC: 40\n", encoding="utf-8")
        code, out = invoke("whatif", "-r", "lec-generic", str(f), "--lang", "zh")
        assert code == 0 and "目标" in out and "穷举" in out
