"""Risk-point grading and example enterprises of 工贸, 冶金有色, 建筑施工 and 烟花爆竹, through the public API.

Each sector grades its risk points with a ruleset that takes its scales from a shared library (``include:``) and
copies none; each example register grades its risk points with its own sector's risk-point ruleset and checks one
point with its own sector's determination ruleset (a major hidden danger found there grades RED).
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
AS_OF = dt.date(2024, 6, 30)

# sector → (risk-point ruleset id, library, rule method, determination ruleset id, example register)
SECTORS = {
    "industry-trade": ("industry-trade-risk-point", "lec", "lec", "industry-trade-major-hidden-dangers",
                       "industry-trade-food.yaml"),
    "metallurgy": ("metallurgy-risk-point", "lec", "lec", "metallurgy-major-hidden-dangers", "metallurgy-smelter.yaml"),
    "construction": ("construction-risk-point", "ls", "matrix", "construction-major-hidden-dangers",
                     "construction-site.yaml"),
    "fireworks": ("fireworks-risk-point", "lec", "lec", "fireworks-major-hidden-dangers", "fireworks-factory.yaml"),
}
LEC = [s for s, v in SECTORS.items() if v[1] == "lec"]
BAIYIN_COUNTIES = {"620402", "620403", "620421", "620422", "620423"}


def path_of(sector: str) -> pathlib.Path:
    return RULESETS / sector / f"{SECTORS[sector][0]}.yaml"


def own_yaml(sector: str) -> dict:
    return yaml.safe_load(path_of(sector).read_text(encoding="utf-8"))


def library_names(library: str) -> set[str]:
    doc = yaml.safe_load((LIBRARY / f"{library}.yaml").read_text(encoding="utf-8"))
    return {name for section in ("tables", "bands", "matrices") for name in doc.get(section) or {}}


def register(sector: str) -> pathlib.Path:
    return ENTERPRISES / SECTORS[sector][4]


def assess(sector: str, day: dt.date = AS_OF) -> riskgrade.EnterpriseAssessment:
    return riskgrade.assess(None, str(register(sector)), as_of=day)


# ----------------------------------------------------------------------------------------------- the rulesets
@pytest.mark.parametrize("sector", SECTORS)
class TestRiskPointRuleset:
    def test_cases_pass(self, sector: str) -> None:
        rs = riskgrade.load(str(path_of(sector)))
        results = rs.run_cases()
        assert len(results) >= 20
        failed = [(r.note, r.problems, r.actual) for r in results if not r.ok]
        assert failed == []

    def test_shipped_id_sector_method_and_tiers(self, sector: str) -> None:
        ref, _, method, _, _ = SECTORS[sector]
        rs = riskgrade.load(ref)
        assert (rs.id, rs.sector) == (ref, sector)
        assert [r["method"] for r in rs.rules] == [method]
        assert all(r["cite"]["basis"] == "local" for r in rs.rules)          # provincial practice, not a clause
        assert rs.control_tiers == {Level.RED: "company", Level.ORANGE: "company", Level.YELLOW: "department",
                                    Level.BLUE: "team"}
        assert "control_tiers" in own_yaml(sector)

    def test_includes_a_library_and_copies_no_table(self, sector: str) -> None:
        library = SECTORS[sector][1]
        rs = riskgrade.load(str(path_of(sector)))
        assert [i["library"] for i in rs.doc["includes"]] == [library, "rollup"]  # + the sector's roll-up fragments
        assert all(i["changes"] == [] for i in rs.doc["includes"])           # no source words a row differently
        own = own_yaml(sector)
        defined = {name for section in ("tables", "bands", "matrices") for name in own.get(section) or {}}
        assert defined & library_names(library) == set()
        assert "tables" not in own and "bands" not in own and "matrices" not in own
        assert [f for f in rs.files if f.replace("\\", "/").endswith(f"rulesets/library/{library}.yaml")]  # wherever installed

    def test_practice_source_is_not_verified(self, sector: str) -> None:
        own = own_yaml(sector)
        cited = {r["cite"]["source"] for r in own["rules"]}
        assert cited <= set(own["sources"])                                  # the ruleset's own source, not a library's
        assert {own["sources"][s]["status"] for s in cited} == {"unverified"}

    def test_bad_facts_cover_each_error_code(self, sector: str) -> None:
        rs = riskgrade.load(str(path_of(sector)))
        codes = {c["want_error"]["code"] for c in rs.cases if "want_error" in c}
        expected = {"missing-fact", "unknown-fact", "wrong-type", "not-allowed"}
        if SECTORS[sector][1] == "lec":
            expected.add("not-finite")
        assert codes == expected
        with pytest.raises(FactError) as e:
            rs.grade([1, 2, 3])  # type: ignore[arg-type]
        assert e.value.code == "not-a-mapping"

    def test_cases_reach_every_level(self, sector: str) -> None:
        rs = riskgrade.load(str(path_of(sector)))
        assert {c["want"]["level"] for c in rs.cases if "want" in c} == {"RED", "ORANGE", "YELLOW", "BLUE"}


@pytest.mark.parametrize("sector", LEC)
def test_lec_cases_include_every_band_edge(sector: str) -> None:
    # 160 and 320 are no products of the scales: the edges are the largest product in a band and the next above it
    rs = riskgrade.load(str(path_of(sector)))
    d_values = {c["want"]["values"]["D"] for c in rs.cases if "want" in c}
    assert {0.05, 70, 75, 150, 180, 300, 360, 10000} <= d_values


@pytest.mark.parametrize("sector", LEC)
def test_lec_grades_exactly_like_lec_generic(sector: str) -> None:
    rs, ref = riskgrade.load(SECTORS[sector][0]), riskgrade.load("lec-generic")
    scales = [sorted(ref.tables[t].index) for t in ("lec_L", "lec_E", "lec_C")]
    combos = list(itertools.product(*scales))
    assert len(combos) == 7 * 6 * 6
    for L, E, C in combos:
        a, b = rs.grade({"L": L, "E": E, "C": C}), ref.grade({"L": L, "E": E, "C": C})
        assert (a.level, a.score) == (b.level, b.score), (L, E, C)


def test_construction_cases_cover_every_matrix_cell() -> None:
    rs = riskgrade.load("construction-risk-point")
    cells = {(c["facts"]["L"], c["want"]["values"]["S"]) for c in rs.cases if "want" in c}
    assert cells >= set(itertools.product(range(1, 6), range(1, 6)))


def test_construction_matrix_agrees_with_the_r_bands_and_takes_the_larger_dimension() -> None:
    rs = riskgrade.load("construction-risk-point")
    for L, p, m in itertools.product(range(1, 6), repeat=3):
        r = L * max(p, m)
        want = Level.BLUE if r <= 8 else Level.YELLOW if r <= 12 else Level.ORANGE if r <= 16 else Level.RED
        a = rs.grade({"L": L, "S_people": p, "S_loss": m})
        assert (a.level, a.score, a.values["S"]) == (want, r, max(p, m)), (L, p, m)


# ----------------------------------------------------------------------------------------------- the registers
# risk points graded by the determination ruleset, and the expected levels as of 2024-06-30
DETERMINATION_POINT = {"industry-trade": "P-FREEZE-CHECK", "metallurgy": "P-CO-ALARM", "construction": "P-TC2",
                       "fireworks": "P-ROOM-LIMITS"}
LEVELS = {
    "metallurgy": ("RED", {"P-TAP": "ORANGE", "P-LADLE": "ORANGE", "P-FLUE": "YELLOW", "P-GAS-MAIN": "ORANGE",
                           "P-CO-ALARM": "RED", "P-CAST": "YELLOW", "P-ELEC": "BLUE"}),
    "industry-trade": ("ORANGE", {"P-DUST-COLLECTOR": "ORANGE", "P-PACK": "ORANGE", "P-NH3-ROOM": "ORANGE",
                                  "P-FREEZE": "YELLOW", "P-FREEZE-CHECK": "BLUE", "P-SEWER": "YELLOW"}),
    "construction": ("RED", {"P-PIT": "ORANGE", "P-FORMWORK": "YELLOW", "P-SCAFFOLD": "YELLOW", "P-LIFTING": "YELLOW",
                             "P-TC2": "RED", "P-HOIST": "BLUE", "P-POWER": "BLUE", "P-REBAR": "YELLOW"}),
    "fireworks": ("ORANGE", {"P-MIX": "ORANGE", "P-GRANULATE": "ORANGE", "P-CHARGE": "ORANGE", "P-FUSE": "YELLOW",
                             "P-ROOM-LIMITS": "BLUE", "P-DRY": "BLUE", "P-STORE-POWDER": "ORANGE",
                             "P-STORE-GOODS": "YELLOW"}),
}


@pytest.mark.parametrize("sector", SECTORS)
class TestExampleRegister:
    def test_register_identity(self, sector: str) -> None:
        ent = riskgrade.load_enterprise(str(register(sector)))
        assert ent.sectors == (sector,)
        assert ent.jurisdiction in BAIYIN_COUNTIES
        assert ent.uscc is not None and ent.uscc[2:8] == ent.jurisdiction   # check character verified on load
        assert len(ent.units) >= 3 and len(ent.hazards) >= 3

    def test_each_risk_point_uses_its_own_sectors_rulesets(self, sector: str) -> None:
        risk_point, _, _, determination, _ = SECTORS[sector]
        d = assess(sector).to_dict()
        assert set(d["rulesets"]) == {risk_point, determination}
        used = {pid: n["ruleset"] for pid, n in d["nodes"].items() if n["kind"] == "risk_point"}
        assert used == {pid: determination if pid == DETERMINATION_POINT[sector] else risk_point
                        for pid in LEVELS[sector][1]}

    def test_levels_as_of_2024_06_30(self, sector: str) -> None:
        a = assess(sector)
        level, points = LEVELS[sector]
        assert a.level.name == level
        assert {p: a.nodes[p].level.name for p in points} == points

    def test_one_open_general_and_one_major_hidden_danger(self, sector: str) -> None:
        ent = riskgrade.load_enterprise(str(register(sector)))
        grades = sorted(h.grade for h in ent.hidden_dangers)
        assert grades == ["general", "major"]
        general = next(h for h in ent.hidden_dangers if h.grade == "general")
        major = next(h for h in ent.hidden_dangers if h.grade == "major")
        assert general.status == "open"
        assert major.target == DETERMINATION_POINT[sector]
        assert major.basis


def test_open_major_hidden_danger_is_found_by_the_determination_ruleset() -> None:
    for sector, rule in (("metallurgy", "a14"), ("construction", "art08-5")):
        node = assess(sector).to_dict()["nodes"][DETERMINATION_POINT[sector]]
        assert (node["own_level"], [f["id"] for f in node["fired"]]) == ("RED", [rule])
        assert [m["id"] for m in node["modifiers"]] == ["risk-point-major-hidden-danger", "major-risk-reported"]


def test_rectified_major_hidden_danger_vetoes_only_while_open() -> None:
    for sector, open_day, point in (("industry-trade", dt.date(2024, 5, 20), "P-FREEZE-CHECK"),
                                    ("fireworks", dt.date(2024, 4, 18), "P-ROOM-LIMITS")):
        before, after = assess(sector, open_day), assess(sector)
        assert (before.nodes[point].level, before.level) == (Level.RED, Level.RED)
        assert after.nodes[point].level is Level.BLUE and after.level is Level.ORANGE


def test_construction_determination_follows_the_edition_in_force() -> None:
    d2022 = assess("construction").to_dict()
    d2024 = assess("construction", dt.date(2025, 1, 10)).to_dict()
    ref = "construction-major-hidden-dangers"
    assert d2022["rulesets"][ref]["edition"].startswith("2022")
    assert d2024["rulesets"][ref]["edition"].startswith("2024")
    assert [f["id"] for f in d2024["nodes"]["P-TC2"]["fired"]] == ["art08-4"]
    assert d2024["level"] == "RED"


def test_overdue_general_hidden_danger_raises_its_point() -> None:
    for sector, point in (("industry-trade", "P-PACK"), ("fireworks", "P-GRANULATE")):
        n = assess(sector).nodes[point]
        assert (n.inherent_level, n.level) == (Level.YELLOW, Level.ORANGE)


# ----------------------------------------------------------------------------------------------- the CLI
@pytest.mark.parametrize("sector", SECTORS)
def test_cli_assess_prints_an_explained_result(sector: str) -> None:
    res = CliRunner().invoke(main, ["assess", str(register(sector)), "--as-of", "2024-06-30", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    ent = riskgrade.load_enterprise(str(register(sector)))
    level = Level[LEVELS[sector][0]]
    assert f"企业 {ent.id}（{ent.name}）：{level.zh}" in res.output
    assert "←" in res.output


def test_cli_region_includes_the_examples() -> None:
    res = CliRunner().invoke(main, ["region", str(ENTERPRISES), str(ROOT / "examples" / "region"),
                                    "--as-of", "2024-06-30", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["errors"] == []
    for sector in SECTORS:
        ent = riskgrade.load_enterprise(str(register(sector)))
        e = d["enterprises"][ent.id]
        assert (e["jurisdiction"], e["sectors"], e["level"]) == (ent.jurisdiction, [sector], LEVELS[sector][0])
        assert d["regions"][ent.jurisdiction]["by_sector"][sector][LEVELS[sector][0]] >= 1


@pytest.mark.parametrize("sector", SECTORS)
def test_cli_test_and_validate(sector: str) -> None:
    res = CliRunner().invoke(main, ["test", str(path_of(sector))])
    assert res.exit_code == 0, res.output
    assert " 0 failed" in res.output
    assert CliRunner().invoke(main, ["validate", str(path_of(sector))]).exit_code == 0
