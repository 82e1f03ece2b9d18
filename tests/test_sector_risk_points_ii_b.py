"""Issue 13, second part: risk-point grading for 道路交通, 水利, 人员密集场所 and 电力 through the shared scale
libraries (include:, no copied table), the example enterprise registers graded with each sector's own rulesets,
and the region examples that include them. Public API and CLI only.

- road-transport-risk-point: the 5 × 5 LS matrix (library ls, method matrix), S = max(people, loss) — local choice;
- water-risk-point: LEC (library lec) with the water-site wording of C (override, cited) — derived from the MWR guides;
- crowded-places-risk-point: MES (library mes), S = max(injury, property) — local choice;
- power-risk-point: LEC (library lec), the five danger classes on four levels — derived from sector practice.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import pathlib

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade import FactError, Level
from riskgrade._cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
RULESETS = ROOT / "rulesets"
LIBRARY = RULESETS / "library"
ENTERPRISES = ROOT / "examples" / "enterprises"
REGION = ROOT / "examples" / "region"
AS_OF = dt.date(2024, 6, 30)

# sector: (ruleset id, library, method of its one rule)
RISK_POINT = {
    "road-transport": ("road-transport-risk-point", "ls", "matrix"),
    "water": ("water-risk-point", "lec", "lec"),
    "crowded-places": ("crowded-places-risk-point", "mes", "mes"),
    "power": ("power-risk-point", "lec", "lec"),
}
FILES = {s: RULESETS / s / f"{rid}.yaml" for s, (rid, _, _) in RISK_POINT.items()}


def _library_tables(lib: str) -> dict[str, list]:
    doc = yaml.safe_load((LIBRARY / f"{lib}.yaml").read_text(encoding="utf-8"))
    return {**doc.get("tables", {}), **doc.get("bands", {}), **doc.get("matrices", {})}


# ------------------------------------------------------------------ the rulesets
@pytest.mark.parametrize("sector", sorted(RISK_POINT))
class TestRuleset:
    def test_cases_pass_and_are_enough(self, sector: str) -> None:
        rs = riskgrade.load(str(FILES[sector]))
        results = rs.run_cases()
        assert len(results) >= 20
        bad = [(r.note, r.problems, r.actual) for r in results if not r.ok]
        assert bad == []

    def test_cli_test_and_validate(self, sector: str) -> None:
        res = CliRunner().invoke(main, ["validate", str(FILES[sector])])
        assert res.exit_code == 0 and ": valid" in res.output, res.output
        res = CliRunner().invoke(main, ["test", str(FILES[sector]), "-v"])
        assert res.exit_code == 0, res.output
        assert " 0 failed" in res.output

    def test_metadata(self, sector: str) -> None:
        rid, _, method = RISK_POINT[sector]
        rs = riskgrade.load(rid)
        assert (rs.id, rs.sector) == (rid, sector)
        assert [r["method"] for r in rs.rules] == [method]
        assert {lv.name: t for lv, t in rs.control_tiers.items()} == {"RED": "company", "ORANGE": "company",
                                                                     "YELLOW": "department", "BLUE": "team"}

    def test_includes_its_library_and_copies_no_table(self, sector: str) -> None:
        _, lib, _ = RISK_POINT[sector]
        doc = yaml.safe_load(FILES[sector].read_text(encoding="utf-8"))
        assert [i["library"] for i in doc["include"]] == [lib, "rollup"]  # + the sector's roll-up fragments
        assert not ({"tables", "bands", "matrices"} & set(doc)), "a scale is written in the ruleset, not included"
        rs = riskgrade.load(str(FILES[sector]))
        assert [f for f in rs.files if f.replace("\\", "/").endswith(f"rulesets/library/{lib}.yaml")]  # wherever installed
        assert [i["library"] for i in rs.doc["includes"]] == [lib, "rollup"]
        taken = set(rs.doc["includes"][0]["took"])
        assert taken and taken <= set(_library_tables(lib))

    def test_every_case_error_code_is_a_fact_error(self, sector: str) -> None:
        rs = riskgrade.load(str(FILES[sector]))
        codes = {c["want_error"]["code"] for c in rs.cases if "want_error" in c}
        assert {"missing-fact", "unknown-fact", "wrong-type", "not-allowed"} <= codes

    def test_method_basis_is_stated(self, sector: str) -> None:
        rs = riskgrade.load(str(FILES[sector]))
        (rule,) = rs.rules
        assert rule["cite"]["basis"] == ("derived" if sector in ("water", "power") else "local")


def test_road_matrix_every_cell_as_the_library_matrix() -> None:
    rs = riskgrade.load("road-transport-risk-point")
    cells = yaml.safe_load((LIBRARY / "ls.yaml").read_text(encoding="utf-8"))["matrices"]["ls_5x5"]["cells"]
    seen = set()
    for L, S in itertools.product(range(1, 6), range(1, 6)):
        a = rs.grade({"L": L, "S_people": S})
        assert a.level.name == cells[L - 1][S - 1], (L, S)
        assert f"L = {L}, S = {S} → {a.level.name}" in a.explain("en")
        seen.add(a.level)
    assert seen == set(Level)
    # S is the larger dimension
    assert rs.grade({"L": 4, "S_people": 2, "S_loss": 4}).level is Level.ORANGE


def test_water_c_wording_is_the_water_site_one_with_a_citation() -> None:
    rs = riskgrade.load("water-risk-point")
    assert "1000万元" in rs.tables["lec_C"].index[100]["zh"]
    assert sorted(rs.tables["lec_C"].index) == [1, 3, 7, 15, 40, 100]
    changes = rs.doc["includes"][0]["changes"]
    assert len(changes) == 6 and all("replaced by c-water" in c for c in changes)
    # the numbers are the library's: the same grade as the generic LEC everywhere
    ref = riskgrade.load("lec-generic")
    for L, E, C in itertools.product(sorted(ref.tables["lec_L"].index), sorted(ref.tables["lec_E"].index),
                                     sorted(ref.tables["lec_C"].index)):
        f = {"L": L, "E": E, "C": C}
        assert (rs.grade(f).level, rs.grade(f).score) == (ref.grade(f).level, ref.grade(f).score)


def test_crowded_places_mes_bands_at_the_edges() -> None:
    rs = riskgrade.load("crowded-places-risk-point")
    for (M, E, S), level in {(5, 1, 10): Level.BLUE, (5, 3, 4): Level.YELLOW, (3, 3, 10): Level.YELLOW,
                             (1, 10, 10): Level.ORANGE, (3, 6, 10): Level.ORANGE, (5, 10, 4): Level.RED}.items():
        a = rs.grade({"M": M, "E": E, "S_injury": S})
        assert (a.level, a.score) == (level, M * E * S)
    assert "R = M × E × S = 3 × 6 × 10 = 180" in rs.grade({"M": 3, "E": 6, "S_injury": 10}).explain("en")


def test_bad_facts_name_the_field() -> None:
    for rid, facts, code, field in (("road-transport-risk-point", {"L": 6, "S_people": 1}, "not-allowed", "L"),
                                    ("water-risk-point", {"L": 1, "E": 6}, "missing-fact", "C"),
                                    ("crowded-places-risk-point", {"M": 3, "E": 6, "S_injury": 8, "S": 8},
                                     "unknown-fact", "S"),
                                    ("power-risk-point", {"L": "1", "E": 6, "C": 15}, "wrong-type", "L")):
        with pytest.raises(FactError) as e:
            riskgrade.load(rid).grade(facts)
        assert (e.value.code, e.value.field) == (code, field)


def test_list_shows_the_four() -> None:
    res = CliRunner().invoke(main, ["list", "--format", "json"])
    assert res.exit_code == 0
    listed = {(r["id"], r["sector"]) for r in json.loads(res.output)}
    assert {(rid, s) for s, (rid, _, _) in RISK_POINT.items()} <= listed


# ------------------------------------------------------------------ the enterprise registers
# file: (sector, determination ruleset id, {risk point: (ruleset id, dynamic level, inherent level)}, enterprise level)
REGISTERS = {
    "road-transport.yaml": ("road-transport", "road-transport-major-hidden-dangers", {
        "P-COACH-LONG": ("ORANGE", "RED"), "P-COACH-COUNTY": ("YELLOW", "YELLOW"), "P-DG-LOAD": ("YELLOW", "ORANGE"),
        "P-DG-TRANSIT": ("BLUE", "BLUE"), "P-DEPOT-YARD": ("BLUE", "BLUE"), "P-REPAIR": ("YELLOW", "YELLOW")}),
    "water.yaml": ("water", "water-major-hidden-dangers", {
        "P-DAM": ("ORANGE", "RED"), "P-GATE": ("YELLOW", "YELLOW"), "P-PUMP-UNIT": ("YELLOW", "YELLOW"),
        "P-PUMP-PIPE": ("YELLOW", "YELLOW"), "P-CANAL": ("BLUE", "BLUE")}),
    "crowded-mall.yaml": ("crowded-places", "crowded-places-major-fire-hazards", {
        "P-EXIT": ("ORANGE", "RED"), "P-CINEMA": ("YELLOW", "YELLOW"), "P-FCC": ("YELLOW", "YELLOW"),
        "P-KITCHEN-GAS": ("YELLOW", "YELLOW"), "P-GARAGE": ("BLUE", "BLUE")}),
    "power-plant.yaml": ("power", "power-major-hidden-dangers", {
        "P-BOILER-1": ("ORANGE", "ORANGE"), "P-BOOSTER": ("YELLOW", "RED"), "P-LINE-WORK": ("YELLOW", "YELLOW"),
        "P-COAL-BELT": ("YELLOW", "YELLOW"), "P-ASH-YARD": ("BLUE", "BLUE")}),
}
# the major hidden danger of each register, at its risk point; its determination hazard
MAJOR = {"road-transport.yaml": ("HD-R-2024-011", "P-COACH-LONG", "H-COACH-NIGHT", ["a04-1"]),
         "water.yaml": ("HD-W-2024-004", "P-DAM", "H-DAM-LIST", ["sy-kz-reservoir"]),
         "crowded-mall.yaml": ("HD-F-2024-015", "P-EXIT", "H-EXIT-GB35181", ["d6-5"]),
         "power-plant.yaml": ("HD-P-2024-021", "P-BOOSTER", "H-BOOSTER-NET", ["a04-5"])}


def _assess(name: str, as_of: dt.date = AS_OF) -> riskgrade.EnterpriseAssessment:
    return riskgrade.assess(None, str(ENTERPRISES / name), as_of=as_of)


@pytest.mark.parametrize("name", sorted(REGISTERS))
class TestRegister:
    def test_risk_points_graded_by_the_sector_ruleset(self, name: str) -> None:
        sector, determination, points = REGISTERS[name]
        a = _assess(name)
        d = a.to_dict()
        assert d["enterprise"]["sectors"] == [sector]
        rid = RISK_POINT[sector][0]
        assert {p: d["nodes"][p]["ruleset"] for p in points} == {p: rid for p in points}
        assert {p: d["nodes"][p]["own_level"] for p in points} == {p: own for p, (own, _) in points.items()}
        assert {p: d["nodes"][p]["level"] for p in points} == {p: lv for p, (_, lv) in points.items()}
        assert set(d["rulesets"]) == {rid, determination}

    def test_major_hidden_danger_vetoes_to_red_and_is_explained(self, name: str) -> None:
        hd, point, hazard, fired = MAJOR[name]
        a = _assess(name)
        assert a.level is Level.RED
        node = a.to_dict()["nodes"][point]
        assert hd in node["open_hidden_dangers"]
        assert [(m["id"], m["effect"], m["after"]) for m in node["modifiers"] if hd in m["subjects"]] \
            == [("risk-point-major-hidden-danger", "veto", "RED")]
        hz = a.to_dict()["nodes"][hazard]
        assert (hz["level"], [f["id"] for f in hz["fired"]]) == ("RED", fired)
        assert all(f["citation"]["basis"] == "clause" for f in hz["fired"])
        assert hd in a.explain("zh") and hd in a.explain("en")

    def test_one_general_and_one_major_open(self, name: str) -> None:
        ent = riskgrade.load_enterprise(str(ENTERPRISES / name))
        open_ = [h for h in ent.hidden_dangers if h.is_open(AS_OF)]
        assert sorted(h.grade for h in open_) == ["general", "major"]
        assert ent.jurisdiction in ("620402", "620403", "620421", "620422", "620423")
        assert ent.uscc and len(ent.uscc) == 18 and ent.uscc[2:8] == ent.jurisdiction

    def test_cli_assess(self, name: str) -> None:
        res = CliRunner().invoke(main, ["assess", str(ENTERPRISES / name), "--as-of", "2024-06-30", "--lang", "zh"])
        assert res.exit_code == 0, res.output
        assert "重大风险" in res.output and MAJOR[name][0] in res.output
        js = CliRunner().invoke(main, ["assess", str(ENTERPRISES / name), "--as-of", "2024-06-30", "--format", "json"])
        assert js.exit_code == 0 and json.loads(js.output)["level"] == "RED"


def test_road_overdue_general_hidden_danger_raises_one_level() -> None:
    node = _assess("road-transport.yaml").to_dict()["nodes"]["P-DG-LOAD"]
    assert (node["inherent_level"], node["level"], node["control_tier"]) == ("YELLOW", "ORANGE", "company")


def test_determinations_that_do_not_fire_stay_blue() -> None:
    road = _assess("road-transport.yaml").to_dict()["nodes"]["H-DG-CHECK"]
    water = _assess("water.yaml").to_dict()["nodes"]["H-PUMP-LIST"]
    assert (road["level"], road["score"], water["level"], water["score"]) == ("BLUE", 0, "BLUE", 0)


class TestCrowdedPlacesEditionByDate:
    """The mall's fire hazard determination names the ruleset without an edition: the assessment date picks it."""

    def test_before_2025_11_01_the_2017_edition_decides(self) -> None:
        for day in (AS_OF, dt.date(2025, 10, 31)):
            a = _assess("crowded-mall.yaml", day)
            rs = a.to_dict()["rulesets"]["crowded-places-major-fire-hazards"]
            assert rs["edition"] == "2017 (GB 35181-2017)"
            assert a.level is Level.RED

    def test_from_2025_11_01_the_2017_facts_are_refused(self) -> None:
        with pytest.raises(FactError) as e:
            _assess("crowded-mall.yaml", dt.date(2025, 11, 1))
        assert (e.value.record, e.value.code) == ("H-EXIT-GB35181", "unknown-fact")
        assert e.value.field == "facts.d6_5"

    def test_cli_shows_the_edition(self) -> None:
        res = CliRunner().invoke(main, ["assess", str(ENTERPRISES / "crowded-mall.yaml"), "--as-of", "2024-06-30",
                                        "--format", "json"])
        assert res.exit_code == 0
        assert json.loads(res.output)["rulesets"]["crowded-places-major-fire-hazards"]["edition"].startswith("2017")
        res = CliRunner().invoke(main, ["assess", str(ENTERPRISES / "crowded-mall.yaml"), "--as-of", "2025-11-01"])
        assert res.exit_code == 2 and "d6_5" in res.output


# ------------------------------------------------------------------ the region
REGION_FILES = {"huining-bus.yaml": ("E-620422-ROAD-01", "road-transport", "620422", "YELLOW"),
                "jingyuan-irrigation.yaml": ("E-620421-WATER-01", "water", "620421", "YELLOW"),
                "jingtai-hotel.yaml": ("E-620423-HOTEL-01", "crowded-places", "620423", "ORANGE"),
                "huining-wind.yaml": ("E-620422-POWER-01", "power", "620422", "YELLOW")}


@pytest.mark.parametrize("name", sorted(REGION_FILES))
def test_region_file_grades_with_its_sector_ruleset(name: str) -> None:
    eid, sector, county, level = REGION_FILES[name]
    a = riskgrade.assess(None, str(REGION / name), as_of=AS_OF)
    d = a.to_dict()
    assert (d["enterprise"]["id"], d["enterprise"]["sectors"], d["enterprise"]["jurisdiction"]) == (eid, [sector], county)
    assert set(d["rulesets"]) == {RISK_POINT[sector][0]}
    assert d["level"] == level


def test_region_of_the_region_examples_includes_them() -> None:
    res = CliRunner().invoke(main, ["region", str(REGION), "--as-of", "2024-06-30", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["errors"] == []
    for eid, sector, county, level in REGION_FILES.values():
        e = d["enterprises"][eid]
        assert (e["sectors"], e["jurisdiction"], e["level"]) == ([sector], county, level)
    for sector in RISK_POINT:
        assert sum(d["regions"]["620000"]["by_sector"][sector].values()) >= 1


def test_region_of_enterprises_and_region_includes_the_registers() -> None:
    res = CliRunner().invoke(main, ["region", str(ENTERPRISES), str(REGION), "--as-of", "2024-06-30",
                                    "--format", "json", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["errors"] == []
    ids = {"E-620421-ROAD-01": "620421", "E-620423-WATER-01": "620423", "E-620402-MALL-01": "620402",
           "E-620403-POWER-01": "620403"}
    assert {e: (d["enterprises"][e]["jurisdiction"], d["enterprises"][e]["level"]) for e in ids} \
        == {e: (c, "RED") for e, c in ids.items()}
    for sector in RISK_POINT:
        assert d["regions"]["620000"]["by_sector"][sector]["RED"] == 1
