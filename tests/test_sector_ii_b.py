"""Issue 13: 道路交通, 水利, 人员密集场所 (GB 35181 2017 and 2025) and 电力 major-hidden-danger rulesets, public API and CLI.

What the standards give, as far as verified (see each ruleset's description and sources):

- road transport 2023: 第三条 5 of 5; 第四条 1 (of an unknown count); 第六条 1 (of an unknown count; from a press report);
- water: 在建工程 direct list 3 (total unknown); 水库大坝 6 基础条件 + 12 物的不安全状态 (3 + 3); 灌区 3 + 2; 泵站, 水电站 3 + 2
  (partly verified) with the items counted by the inspector;
- GB 35181-2017: 第6章 10 of 10 direct elements; 13 第7章 elements; 8.2 a)–d) counts 3/3/4/6 (memory, unverified);
  GB 35181-2025: the two principles only (no element obtained);
- power 2022: 第四条 5 of about 7 ((三)(四) missing), 第五条 1 of 1.

Each item is found by grading it alone under a selection it applies to, so the counts are of rules that really fire,
grouped by the article their citation names.
"""

from __future__ import annotations

import pathlib
import re
from collections import Counter

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade import FactError, Level
from riskgrade._cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent / "rulesets"
ROAD = ROOT / "road-transport" / "road-transport-major-hidden-dangers.yaml"
WATER = ROOT / "water" / "water-major-hidden-dangers.yaml"
FIRE17 = ROOT / "crowded-places" / "crowded-places-major-fire-hazards-2017.yaml"
FIRE25 = ROOT / "crowded-places" / "crowded-places-major-fire-hazards-2025.yaml"
POWER = ROOT / "power" / "power-major-hidden-dangers.yaml"
FILES = [ROAD, WATER, FIRE17, FIRE25, POWER]
FIRE = "crowded-places-major-fire-hazards"

ZH = {z: i for i, z in enumerate(["", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]) if z}
CLAUSE = re.compile(r"^第(?P<art>[一二三四五六七八九十]+)条(?:第\((?P<item>[一二三四五六七八九十]+)\)项)?")
ITEM_ID = re.compile(r"^a(?P<art>\d\d)(?:-(?P<item>\d+))?$")


def _load(path: pathlib.Path) -> riskgrade.Ruleset:
    return riskgrade.load(str(path))


def _article_item(clause: str) -> tuple[int, int | None]:
    m = CLAUSE.match(clause)
    assert m, clause
    return ZH[m["art"]], ZH[m["item"]] if m["item"] else None


def _alone(rs: riskgrade.Ruleset, base: dict[str, object], item: str) -> riskgrade.Fired:
    a = rs.grade({**base, item: True})
    assert a.level is Level.RED and a.score == 1 and len(a.fired) == 1, (item, [f.id for f in a.fired])
    return a.fired[0]


# ------------------------------------------------------------------ every file: metadata, cases, citations
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shipped_file_equals_repository_file_and_cases_pass(path: pathlib.Path) -> None:
    rs = _load(path)
    ref = rs.id if path != FIRE17 else f"{rs.id}@2017"
    assert riskgrade.load(ref).fingerprint == rs.fingerprint
    assert rs.sector == {ROAD: "road-transport", WATER: "water", FIRE17: "crowded-places", FIRE25: "crowded-places",
                         POWER: "power"}[path]
    results = rs.run_cases()
    assert len(results) >= 20
    assert all(r.ok and not r.problems for r in results), [(r.note, r.problems) for r in results if not r.ok]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_rule_cited_and_fired_by_some_case(path: pathlib.Path) -> None:
    rs = _load(path)
    results = rs.run_cases()
    fired = {i for r in results for i in r.actual.get("fired", ())}
    ids = {rule["id"] for rule in rs.rules}
    assert fired == ids
    for rule in rs.rules:
        cite = rule["cite"]
        assert cite["source"] in rs.sources and cite.get("clause"), rule["id"]
        assert cite.get("basis", "clause") in ("clause", "derived")
    # nothing found is BLUE with nothing fired, and the cases reach the fact errors of these inputs
    assert any(r.actual.get("level") == "BLUE" and r.actual.get("fired") == [] for r in results)
    codes = {r.actual.get("error") for r in results} - {None}
    want = {"unknown-fact", "wrong-type"}
    if path in (ROAD, WATER, FIRE17, POWER):
        want |= {"missing-fact", "not-allowed", "requirement-failed"}
    if path in (ROAD, WATER, POWER):
        want.add("out-of-range")
    if path in (ROAD, POWER):
        want.add("not-finite")
    if path == FIRE25:
        want.add("requirement-failed")
    assert codes == want


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_description_states_completeness_and_status_follows_the_reference(path: pathlib.Path) -> None:
    rs = _load(path)
    desc = rs.doc["description"]
    text = desc["zh"] + desc["en"] if isinstance(desc, dict) else desc
    assert "完整性" in text and "Completeness" in text
    status = {k: s["status"] for k, s in rs.sources.items()}
    expected = {
        ROAD: {"rt-2023": "verified", "rt-2023-press": "partial"},
        WATER: {"water-344": "verified", "water-344-construction": "verified", "water-344-construction-partial": "partial",
                "water-ops-guide": "verified", "water-ops-guide-mixed": "partial"},
        FIRE17: {"gb35181-2017": "superseded", "gb35181-2017-partial": "partial", "gb35181-2017-memory": "unverified"},
        FIRE25: {"gb35181-2025": "verified", "gb35181-2025-draft": "partial"},
        POWER: {"power-2022": "verified", "power-2022-fragments": "partial", "ndrc-2026": "unverified"},
    }[path]
    assert {k: status[k] for k in expected} == expected


# ------------------------------------------------------------------ road transport
ROAD_BASE = {3: {"enterprise_type": "freight"}, 4: {"enterprise_type": "passenger", "a04_1_line_km": 1000},
             6: {"enterprise_type": "dangerous-goods"}}
ROAD_ITEMS = {"a03_1": 3, "a03_2": 3, "a03_3": 3, "a03_4": 3, "a03_5": 3, "a04_1": 4, "a06_2": 6}
#: encoded per article; the standard's own count where known (第三条 5; 第四条, 第六条 unknown)
ROAD_ENCODED, ROAD_STANDARD = {3: 5, 4: 1, 6: 1}, {3: 5}


def test_road_item_counts_per_article() -> None:
    rs = _load(ROAD)
    per = Counter()
    for name, art in ROAD_ITEMS.items():
        f = _alone(rs, ROAD_BASE[art], name)
        a, i = _article_item(f.citation.clause)
        m = ITEM_ID.match(f.id)
        assert m and (int(m["art"]), int(m["item"])) == (a, i) == (art, int(name.split("_")[1]))
        per[a] += 1
    assert dict(per) == ROAD_ENCODED
    assert {a: per[a] for a in ROAD_STANDARD} == ROAD_STANDARD
    bools = [n for n, v in rs.grade({"enterprise_type": "freight"}).inputs.items() if v is False]
    assert sorted(bools) == sorted(ROAD_ITEMS)


@pytest.mark.parametrize(("km", "fires"), [(800, True), (800.5, True), (1500, True), (799.99, False), (799, False),
                                           (0, False)])
def test_road_800_km_edge(km: float, fires: bool) -> None:
    rs = _load(ROAD)
    a = rs.grade({"enterprise_type": "passenger", "a04_1": True, "a04_1_line_km": km})
    assert ("a04-1" in [f.id for f in a.fired]) is fires
    assert a.level is (Level.RED if fires else Level.BLUE)
    assert a.values["not_applicable_findings"] == ([] if fires else ["a04-1"])


def test_road_800_km_needs_the_length_and_a_passenger_enterprise() -> None:
    rs = _load(ROAD)
    with pytest.raises(FactError) as ei:
        rs.grade({"enterprise_type": "passenger", "a04_1": True})
    assert (ei.value.code, ei.value.field) == ("requirement-failed", "check_line_km")
    for kind in ("freight", "dangerous-goods", "urban-passenger"):
        a = rs.grade({"enterprise_type": kind, "a04_1": True, "a04_1_line_km": 1200})
        assert a.level is Level.BLUE and [f.id for f in a.fired] == ["not-applicable"]


@pytest.mark.parametrize("kind", ["passenger", "dangerous-goods", "freight", "urban-passenger"])
def test_road_enterprise_type_selects_articles(kind: str) -> None:
    rs = _load(ROAD)
    applies = {"a03_1", "a03_2", "a03_3", "a03_4", "a03_5"} | {"passenger": {"a04_1"},
                                                               "dangerous-goods": {"a06_2"}}.get(kind, set())
    for name in ROAD_ITEMS:
        a = rs.grade({"enterprise_type": kind, "a04_1_line_km": 900, name: True})
        assert (a.level is Level.RED) is (name in applies), (kind, name)


# ------------------------------------------------------------------ water
WATER_RULES = {"reservoir": ("sy-kz-reservoir", 3, 3), "irrigation": ("zh-irrigation", 3, 2),
               "pumping-station": ("zh-pumping-station", 3, 2), "hydropower": ("zh-hydropower", 3, 2)}
RES_BASIC = [f"res_basic_{i}" for i in range(1, 7)]
RES_UNSAFE = [f"sy_kz{i:03d}" for i in range(1, 13)]


def _water_facts(kind: str, basic: int, unsafe: int) -> dict[str, object]:
    if kind == "reservoir":
        return {"project_type": kind, **dict.fromkeys(RES_BASIC[:basic], True), **dict.fromkeys(RES_UNSAFE[:unsafe], True)}
    return {"project_type": kind, "basic_conditions_count": basic, "unsafe_states_count": unsafe}


@pytest.mark.parametrize("kind", sorted(WATER_RULES))
def test_water_k_and_m_edges_per_project_type(kind: str) -> None:
    rs = _load(WATER)
    rule, k, m = WATER_RULES[kind]
    for basic, unsafe, red in ((k, m, True), (k - 1, m, False), (k, m - 1, False), (k - 1, m - 1, False),
                               (k + 1, m + 1, True), (0, m, False), (k, 0, False)):
        a = rs.grade(_water_facts(kind, basic, unsafe))
        assert a.level is (Level.RED if red else Level.BLUE), (kind, basic, unsafe)
        assert [f.id for f in a.fired] == ([rule] if red else []), (kind, basic, unsafe)
        assert (a.values["basic_met"], a.values["unsafe_met"]) == (basic, unsafe)
    # the rule of another project type never fires here
    others = {r for t, (r, _, _) in WATER_RULES.items() if t != kind}
    assert not others & {f.id for f in rs.grade(_water_facts(kind, 6, 12)).fired}


def test_water_item_counts() -> None:
    rs = _load(WATER)
    direct = [f"sj_j00{i}" for i in (1, 2, 3)]
    for i, name in enumerate(direct, 1):
        f = _alone(rs, {"project_type": "construction"}, name)
        assert f.id == f"sj-j00{i}" and f.citation.clause.startswith("在建工程直接判定清单 SJ-J00")
        assert f.citation.status == ("partial" if i == 1 else "verified")
    inputs = rs.grade({"project_type": "construction"}).inputs
    assert sorted(n for n, v in inputs.items() if v is False) == sorted(direct + RES_BASIC + RES_UNSAFE)
    assert len(RES_BASIC) == 6 and len(RES_UNSAFE) == 12
    a = rs.grade(_water_facts("reservoir", 6, 12))
    assert a.values["reservoir_unsafe_found"] == [f"SY-KZ{i:03d}" for i in range(1, 13)]
    # a reservoir item reported for a construction project is not graded, and the reverse
    assert rs.grade({"project_type": "construction", "sy_kz001": True}).level is Level.BLUE
    assert rs.grade({"project_type": "reservoir", "sj_j003": True}).level is Level.BLUE


def test_water_counts_only_where_the_items_were_not_obtained() -> None:
    rs = _load(WATER)
    for facts in ({"project_type": "irrigation"}, {"project_type": "hydropower", "basic_conditions_count": 3},
                  {"project_type": "reservoir", "basic_conditions_count": 3, "unsafe_states_count": 3},
                  {"project_type": "construction", "unsafe_states_count": 1}):
        with pytest.raises(FactError) as ei:
            rs.grade(facts)
        assert (ei.value.code, ei.value.field) == ("requirement-failed", "check_counts")


# ------------------------------------------------------------------ GB 35181
def test_both_gb35181_editions_load_by_id_and_edition() -> None:
    new, old = riskgrade.load(f"{FIRE}@2025"), riskgrade.load(f"{FIRE}@2017")
    assert riskgrade.load(FIRE) is new
    assert pathlib.Path(new.file).name == FIRE25.name and pathlib.Path(old.file).name == FIRE17.name
    assert "GB 35181-2025" in new.edition and "GB 35181-2017" in old.edition
    assert str(new.effective) == "2025-11-01" and new.effective > old.effective
    assert new.fingerprint != old.fingerprint and new.sector == old.sector == "crowded-places"
    a = old.grade({"place_kind": "crowded", "d6_5": True})
    assert a.ruleset.edition == old.edition and a.level is Level.RED
    # a facts file written for 2017 is an error under 2025, never a silent "nothing found"
    with pytest.raises(FactError) as ei:
        new.grade({"place_kind": "crowded", "d6_5": True})
    assert ei.value.code == "unknown-fact"
    assert new.grade({"direct_elements": ["5.3"]}).level is Level.RED


def test_gb35181_2017_direct_elements_ten_of_ten() -> None:
    rs = riskgrade.load(f"{FIRE}@2017")
    status = {}
    for i in range(1, 11):
        f = _alone(rs, {"place_kind": "other"}, f"d6_{i}")
        assert f.id == f"d6-{i}" and f.citation.clause == f"6.{i}" and f.citation.number == "GB 35181-2017"
        status[i] = f.citation.status
    assert {i for i, s in status.items() if s == "unverified"} == {8, 10}
    assert {i for i, s in status.items() if s == "partial"} == {9}
    assert {i for i, s in status.items() if s == "superseded"} == set(range(1, 8))
    elements = [n for n, v in rs.grade({"place_kind": "other"}).inputs.items() if n.startswith("e7_") and v is False]
    assert len(elements) == 13


E7 = ["e7_1_1", "e7_1_2", "e7_1_3", "e7_1_4", "e7_2_1", "e7_2_2", "e7_2_3"]   # outside the 8.2 a) subset
E73 = ["e7_3_1", "e7_3_2", "e7_3_3", "e7_3_4", "e7_3_5", "e7_3_6"]          # in the 8.2 a) subset


@pytest.mark.parametrize(("kind", "elements", "rule"), [
    ("crowded", E73, "c8-2-a"),                     # 3 of the subset (含本数)
    ("flammable", E7[:3], "c8-2-b"),                # 7.1.1-7.1.3
    ("crowded", E7, "c8-2-c"),                      # 4 of any
    ("important", E7, "c8-2-c"),
    ("flammable", E7[3:], "c8-2-c"),                # 7.1.4, 7.2.x: not in the b) subset
    ("other", E7, "c8-2-d"),                        # 6 of any
])
def test_gb35181_2017_counts_inclusive(kind: str, elements: list[str], rule: str) -> None:
    rs = riskgrade.load(f"{FIRE}@2017")
    k = {"c8-2-a": 3, "c8-2-b": 3, "c8-2-c": 4, "c8-2-d": 6}[rule]
    at_k = rs.grade({"place_kind": kind, **dict.fromkeys(elements[:k], True)})
    assert at_k.level is Level.RED and rule in [f.id for f in at_k.fired]
    assert at_k.fired[0].citation.status == "unverified"
    below = rs.grade({"place_kind": kind, **dict.fromkeys(elements[:k - 1], True)})
    assert below.level is Level.BLUE and not below.fired


def test_gb35181_2017_subsets_belong_to_their_kind_of_place() -> None:
    rs = riskgrade.load(f"{FIRE}@2017")
    three = dict.fromkeys(E73[:3], True)
    assert [f.id for f in rs.grade({"place_kind": "crowded", **three}).fired] == ["c8-2-a"]
    for kind in ("flammable", "important", "other"):
        assert rs.grade({"place_kind": kind, **three}).level is Level.BLUE
    # further elements by clause number count in their subsets
    a = rs.grade({"place_kind": "flammable", "e7_1_1": True, "further_elements": ["7.4.5", "7.4.6"]})
    assert [f.id for f in a.fired] == ["c8-2-b"]


# ------------------------------------------------------------------ power
POWER_BASE = {"a04_1": {"facility": "grid", "voltage_kv": 500}, "a04_2": {"facility": "grid", "voltage_kv": 1000},
              "a04_5": {"facility": "coal", "capacity_mw": 600}, "a04_6": {"facility": "hydro", "capacity_mw": 700},
              "a04_7": {"facility": "construction", "beyond_scale_works": True},
              "a05": {"facility": "nuclear-conventional"}}
#: encoded per article; 第四条 about 7 in the standard, (三)(四) not obtained; 第五条 1 of 1
POWER_ENCODED, POWER_MISSING = {4: 5, 5: 1}, {(4, 3), (4, 4)}


def test_power_item_counts_and_missing_items() -> None:
    rs = _load(POWER)
    per, seen = Counter(), set()
    for name, base in POWER_BASE.items():
        f = _alone(rs, base, name)
        a, i = _article_item(f.citation.clause)
        per[a] += 1
        seen.add((a, i))
        assert f.id == name.replace("_", "-")
        assert f.citation.status == ("verified" if name == "a04_1" else "partial")
    assert dict(per) == POWER_ENCODED
    assert not seen & POWER_MISSING
    for name in ("a04_3", "a04_4"):
        with pytest.raises(FactError) as ei:
            rs.grade({"facility": "nuclear-conventional", name: True})
        assert ei.value.code == "unknown-fact"
    desc = rs.doc["description"]["zh"]
    assert "2026-07-01" in desc and "49" in desc and "未编码" in desc


@pytest.mark.parametrize(("facts", "in_scope"), [
    ({"facility": "grid", "voltage_kv": 330}, True), ({"facility": "grid", "voltage_kv": 329.9}, False),
    ({"facility": "coal", "capacity_mw": 300}, True), ({"facility": "coal", "capacity_mw": 299}, False),
    ({"facility": "hydro", "capacity_mw": 300}, True), ({"facility": "hydro", "capacity_mw": 100}, False),
    ({"facility": "gas", "capacity_mw": 200}, True), ({"facility": "gas", "capacity_mw": 199}, False),
    ({"facility": "wind", "capacity_mw": 300}, True), ({"facility": "solar", "capacity_mw": 299.9}, False),
    ({"facility": "nuclear-conventional"}, True),
    ({"facility": "construction", "beyond_scale_works": True}, True),
    ({"facility": "construction", "beyond_scale_works": False}, False),
])
def test_power_scope_edges(facts: dict[str, object], in_scope: bool) -> None:
    a = _load(POWER).grade({**facts, "a05": True})
    assert a.values["in_scope"] is in_scope
    assert a.level is (Level.RED if in_scope else Level.BLUE)


# ------------------------------------------------------------------ the command line
def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_cli_test_all_five_files() -> None:
    code, out = _cli("test", *map(str, FILES))
    assert code == 0, out
    total = sum(len(_load(p).run_cases()) for p in FILES)
    assert re.search(rf"\b{total} passed, 0 failed", out), out


def test_cli_explain_cites_clause_and_status(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "dam.yaml"
    facts.write_text("project_type: reservoir\nres_basic_1: true\nres_basic_2: true\nres_basic_3: true\n"
                     "sy_kz001: true\nsy_kz002: true\nsy_kz003: true\n", encoding="utf-8")
    code, out = _cli("explain", "--ruleset", str(WATER), str(facts), "--lang", "zh")
    assert code == 0, out
    assert "RED" in out and "水库大坝" in out and "sy-kz-reservoir" in out
    fire = tmp_path / "mall.yaml"
    fire.write_text("place_kind: crowded\ne7_3_1: true\ne7_3_2: true\ne7_3_3: true\n", encoding="utf-8")
    code, out = _cli("explain", "--ruleset", f"{FIRE}@2017", str(fire), "--lang", "zh")
    assert code == 0, out
    assert "8.2 a)" in out and "未核实" in out
    coach = tmp_path / "coach.yaml"
    coach.write_text("enterprise_type: passenger\na04_1: true\na04_1_line_km: 800\n", encoding="utf-8")
    code, out = _cli("explain", "--ruleset", str(ROAD), str(coach), "--lang", "zh")
    assert code == 0, out
    assert "第四条第(一)项" in out and "RED" in out
