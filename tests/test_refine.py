"""The stricter-only guarantee: static band/value direction, differential check, the test plugins."""

from __future__ import annotations

import pytest

import riskgrade
from riskgrade import check_refinement
from riskgrade._compile.refine import band_looser_at, bands_direction, lookup_matcher, value_direction
from riskgrade._differential import differential
from riskgrade.exceptions import RefinementError

from .test_layers import EXAMPLES, require

UP = [{"to": 70, "level": "BLUE"}, {"from": 70, "to": 160, "level": "YELLOW"}, {"from": 160, "level": "ORANGE"}]
# a score where higher means safer (like the 2018 hazchem enterprise model: BLUE ≥ 90)
DOWN = [{"to": 60, "level": "RED"}, {"from": 60, "to": 90, "level": "YELLOW"}, {"from": 90, "level": "BLUE"}]


class TestBandLooserAt:
    def test_lowering_a_threshold_of_rising_bands_is_stricter(self) -> None:
        new = [UP[0], {"from": 70, "to": 140, "level": "YELLOW"}, {"from": 140, "level": "ORANGE"}]
        assert band_looser_at(UP, new, "upper") is None

    def test_raising_it_is_looser_with_a_witness(self) -> None:
        new = [UP[0], {"from": 70, "to": 200, "level": "YELLOW"}, {"from": 200, "level": "ORANGE"}]
        assert band_looser_at(UP, new, "upper") == (180.0, "ORANGE", "YELLOW")

    def test_boundary_point_itself_is_checked(self) -> None:
        # closed upper: 160 is YELLOW; with closed lower it would be ORANGE -- same rows, other semantics
        new = [UP[0], {"from": 70, "to": 160.5, "level": "YELLOW"}, {"from": 160.5, "level": "ORANGE"}]
        assert band_looser_at(UP, new, "upper") == (160.25, "ORANGE", "YELLOW")

    def test_falling_bands_raise_the_threshold_to_be_stricter(self) -> None:
        stricter = [DOWN[0], {"from": 60, "to": 95, "level": "YELLOW"}, {"from": 95, "level": "BLUE"}]
        looser = [DOWN[0], {"from": 60, "to": 85, "level": "YELLOW"}, {"from": 85, "level": "BLUE"}]
        assert band_looser_at(DOWN, stricter, "lower") is None
        assert band_looser_at(DOWN, looser, "lower") == (85.0, "YELLOW", "BLUE")

    def test_direction_of_bands(self) -> None:
        assert (bands_direction(UP), bands_direction(DOWN)) == (1, -1)


class TestValueDirection:
    @pytest.mark.parametrize(("rule", "expected"), [
        ({"method": "score", "expr": "x * lookup('t', k, 'v')", "bands": "b"}, (1, True)),
        ({"method": "score", "expr": "x / lookup('t', k, 'v')", "bands": "b"}, (-1, True)),
        ({"method": "direct", "when": "x >= lookup('t', k, 'v')", "level": "RED"}, (-1, True)),
        ({"method": "direct", "when": "not (x < lookup('t', k, 'v'))", "level": "RED"}, (-1, True)),
        ({"method": "direct", "when": "x == lookup('t', k, 'v')", "level": "RED"}, (1, False)),
        ({"method": "score", "expr": "x * f(lookup('t', k, 'v'))", "bands": "b"}, (1, False)),
        ({"method": "score", "expr": "x", "bands": "b"}, (0, True)),
    ])
    def test_rules(self, rule: dict[str, str], expected: tuple[int, bool]) -> None:
        doc = {"bands": {"b": {"rows": UP}}, "rules": [rule]}
        assert value_direction(doc, lookup_matcher("t", "v")) == expected

    def test_through_derived_values_and_falling_bands(self) -> None:
        doc = {"bands": {"b": {"rows": DOWN}}, "derive": {"y": "100 - lookup('t', k, 'v')"},
               "rules": [{"method": "score", "expr": "y", "bands": "b"}]}
        # y falls as v rises, and a lower y is a higher level: v may only rise
        assert value_direction(doc, lookup_matcher("t", "v")) == (1, True)


class TestDifferential:
    def test_identical_rulesets_pass(self) -> None:
        base = riskgrade.load("lec-generic")
        assert differential(base, base, max_examples=50) == differential(base, base, max_examples=50)
        assert differential(base, base, max_examples=50).ok

    def test_sneaky_loosening_found_by_generation_alone_and_shrunk(self) -> None:
        require("riskgrade-baiyin", "riskgrade-sneaky")
        city = riskgrade.load("lec-generic", jurisdiction="620400")
        sneaky = riskgrade.load("lec-generic", jurisdiction="620422")
        res = differential(city, sneaky, use_cases=False)
        assert not res.ok
        assert res.counterexample is not None
        assert res.counterexample.text() == (
            "{L=0.1, E=0.5, C=100, exposed_persons=141}: base YELLOW, refined BLUE [generated]")
        assert res.examples <= 400

    def test_sneaky_passes_the_static_check_but_is_marked_unproven(self) -> None:
        require("riskgrade-baiyin", "riskgrade-sneaky")
        rs = riskgrade.load("lec-generic", jurisdiction="620422")
        assert rs.doc["layers"][-1]["unproven"] == [
            "baiyin_params[crowd_reference].value 10 → 100 by 620422 会宁县, riskgrade_sneaky/layers/"
            "lec-generic.yaml:13 (direction not provable statically: checked by the differential check)"]


class TestCheckRefinement:
    def test_examples_pass_both_checks(self) -> None:
        require(*EXAMPLES)
        rep = check_refinement("lec-generic", "620421")
        assert rep.ok
        assert [(a, b, r.ok, r.examples) for a, b, r in rep.steps] == [
            ("620000 (base)", "620400 白银市", True, 400), ("620400 白银市", "620421 靖远县", True, 400)]

    def test_loosener_is_rejected_at_load_time_with_file_and_line(self) -> None:
        require("riskgrade-loosener")
        with pytest.raises(RefinementError) as e:
            riskgrade.load("lec-generic", jurisdiction="620403")
        p = e.value.problems[0]
        assert (p.file.replace("\\", "/").endswith("riskgrade_loosener/layers/lec-generic.yaml"), p.line, p.col,
                p.code) == (True, 11, 13, "refine-looser")
        assert p.message == ("threshold lec_D ORANGE 160 → 200 makes grading looser: a score of 180 would give "
                             "YELLOW instead of ORANGE (layer 620403 平川区)")
        assert not check_refinement("lec-generic", "620403").ok

    def test_sneaky_is_caught(self) -> None:
        require("riskgrade-baiyin", "riskgrade-sneaky")
        rep = check_refinement("lec-generic", "620422")
        assert not rep.ok and rep.static_problems == ()
        assert [(b, r.ok) for _, b, r in rep.steps] == [("620400 白银市", True), ("620422 会宁县", False)]
