"""Every shipped ruleset's own cases, one test each; plus GB 18218 arithmetic checked by hand.

The S/R/grade checks recompute the standard's formulas here, in plain Python from the
CSV tables beside the ruleset, and compare with what the ruleset grades:
S = Σ q/Q, R = α · Σ β · q/Q, α from Table 5, grade from Table 6.
"""

from __future__ import annotations

import csv
import itertools
import math
import pathlib

import pytest

import riskgrade
from riskgrade import FactError, Level
from riskgrade._source.registry import shipped

HAZCHEM = pathlib.Path(__file__).resolve().parent.parent / "rulesets" / "hazchem"


def _cases() -> list[tuple[str, int, str]]:
    out = []
    for s in shipped():
        rs = riskgrade.load(s.path)
        out += [(s.path, i, c["note"]) for i, c in enumerate(rs.cases)]
    return out


CASES = _cases()


@pytest.mark.parametrize(("path", "index"), [(p, i) for p, i, _ in CASES],
                         ids=[f"{pathlib.Path(p).stem}#{i}" for p, i, _ in CASES])
def test_ruleset_case(path: str, index: int) -> None:
    rs = riskgrade.load(path)
    result = rs.run_cases()[index]
    assert result.problems == (), f"{rs.id} case {index} ({result.note}): {result.problems}; got {result.actual}"
    assert result.ok is True


@pytest.mark.parametrize("ref", sorted({s.id for s in shipped()}))
def test_every_shipped_ruleset_has_twenty_cases_or_is_not_ours(ref: str) -> None:
    rs = riskgrade.load(ref)
    if rs.sector in ("hazchem", "coal", "nonmetal-mine"):
        assert len(rs.cases) >= 20


# ------------------------------------------------------------------ GB 18218 by hand
def _read(name: str) -> list[dict[str, str]]:
    with open(HAZCHEM / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


T1 = {r["name"]: float(r["Q"]) for r in _read("gb18218-table1.csv")}
T2 = {r["symbol"]: (float(r["Q"]), float(r["beta"])) for r in _read("gb18218-table2.csv")}
T3 = {r["name"]: float(r["beta"]) for r in _read("gb18218-table3.csv")}


def _index(rows: list[dict[str, str]], value: str) -> dict[str, float]:
    """name → value, then every lookup key not already taken (first row wins)."""
    out = {r["name"]: float(r[value]) for r in rows}
    for r in rows:
        for k in filter(None, r["lookup_keys"].split(";")):
            out.setdefault(k, float(r[value]))
    return out


Q1 = _index(_read("gb18218-table1.csv"), "Q")       # Table 1 by name, alias or CAS
B3 = _index(_read("gb18218-table3.csv"), "beta")    # Table 3 by name, alias or CAS


def alpha(people: int) -> float:
    if people >= 100:
        return 2.0
    if people >= 50:
        return 1.5
    if people >= 30:
        return 1.2
    if people >= 1:
        return 1.0
    return 0.5


def grade(r: float) -> int:
    return 1 if r >= 100 else 2 if r >= 50 else 3 if r >= 10 else 4


@pytest.fixture(scope="module")
def gb() -> riskgrade.Ruleset:
    return riskgrade.load("hazchem-gb18218")


def test_tables_are_complete() -> None:
    assert len(T1) == 85
    assert len(T2) == 24
    assert len(T3) == 14
    assert T1["氨"] == 10 and T1["氯"] == 5 and T1["碳酰氯"] == 0.3 and T1["钠"] == 10
    assert T2["W2"] == (10, 1.5) and T2["J1"] == (5, 4) and T2["W5.4"] == (5000, 1)
    assert T3["异氰酸甲酯"] == 20 and T3["硫化氢"] == 5


def test_ammonia_and_chlorine_worked_example(gb: riskgrade.Ruleset) -> None:
    # S = 20/10 + 5/5 = 3; R = 2.0 × (2 × 20/10 + 4 × 5/5) = 2.0 × 8 = 16 → 三级
    a = gb.grade({"substances": [{"name": "氨", "quantity_t": 20}, {"name": "氯", "quantity_t": 5}],
                  "exposed_people": 120})
    assert a.values["S"] == 3
    assert a.values["alpha"] == 2.0
    assert a.values["R"] == 16
    assert a.values["major_hazard_grade"] == 3
    assert a.level is Level.YELLOW
    assert [f.id for f in a.fired] == ["mhi-grade-3"]
    assert a.ruleset.edition == "GB 18218-2018"


@pytest.mark.parametrize("name", sorted(T1))
def test_each_table1_substance_at_its_critical_quantity_gives_s_1(gb: riskgrade.Ruleset, name: str) -> None:
    # q = Q makes S exactly 1 (a major hazard installation); β from Table 3 or, failing that, category W2
    fact: dict[str, object] = {"name": name, "quantity_t": T1[name]}
    if name not in B3:
        fact["category"] = "W2"
    a = gb.grade({"substances": [fact], "exposed_people": 0})
    assert a.values["S"] == pytest.approx(1.0, rel=1e-12)
    assert a.values["is_major_hazard"] is True
    beta = B3.get(name, 1.5)
    assert a.values["R"] == pytest.approx(0.5 * beta, rel=1e-12)


MIXES = [
    ([("氨", 30), ("硫化氢", 2)], 45),
    ([("光气", 0.15), ("甲醇", 100, "W5.3")], 0),
    ([("氯", 12), ("氨", 80), ("液化石油气", 60, "W2")], 300),
    ([("某易燃气体", 4, "W2"), ("某毒性气体", 1, "J1")], 29),
    ([("异氰酸甲酯", 0.75)], 100),
    ([("苯", 40, "W5.1"), ("甲苯", 400, "W5.3")], 55),
]


@pytest.mark.parametrize(("mix", "people"), MIXES)
def test_s_r_grade_match_the_formula(gb: riskgrade.Ruleset, mix: list[tuple], people: int) -> None:
    subs = []
    s_sum = r_sum = 0.0
    for name, q, *cat in mix:
        rec: dict[str, object] = {"name": name, "quantity_t": q}
        if cat:
            rec["category"] = cat[0]
        subs.append(rec)
        big_q = Q1[name] if name in Q1 else T2[cat[0]][0]
        beta = B3[name] if name in B3 else T2[cat[0]][1]
        s_sum += q / big_q
        r_sum += beta * q / big_q
    a = gb.grade({"substances": subs, "exposed_people": people})
    want_r = alpha(people) * r_sum
    assert a.values["S"] == pytest.approx(s_sum, rel=1e-12)
    assert a.values["alpha"] == alpha(people)
    assert a.values["R"] == pytest.approx(want_r, rel=1e-12)
    want_grade = grade(want_r) if s_sum >= 1 else None
    assert a.values["major_hazard_grade"] == want_grade
    want_level = {1: Level.RED, 2: Level.ORANGE, 3: Level.YELLOW, 4: Level.BLUE, None: Level.BLUE}[want_grade]
    assert a.level is want_level


@pytest.mark.parametrize(("people", "want"), [(0, 0.5), (1, 1.0), (29, 1.0), (30, 1.2), (49, 1.2), (50, 1.5),
                                             (99, 1.5), (100, 2.0), (10_000, 2.0)])
def test_alpha_table_edges(gb: riskgrade.Ruleset, people: int, want: float) -> None:
    a = gb.grade({"substances": [{"name": "氨", "quantity_t": 10}], "exposed_people": people})
    assert a.values["alpha"] == want
    assert a.values["R"] == pytest.approx(2 * want)


@pytest.mark.parametrize(("tonnes", "want_r", "want_grade"),
                         [(24, 9.6, 4), (25, 10, 3), (124, 49.6, 3), (125, 50, 2), (248, 99.2, 2), (250, 100, 1)])
def test_grade_table_edges(gb: riskgrade.Ruleset, tonnes: float, want_r: float, want_grade: int) -> None:
    a = gb.grade({"substances": [{"name": "氨", "quantity_t": tonnes}], "exposed_people": 100})
    assert a.values["R"] == pytest.approx(want_r)
    assert a.values["major_hazard_grade"] == want_grade


def test_unknown_substance_error_names_it(gb: riskgrade.Ruleset) -> None:
    with pytest.raises(FactError) as ei:
        gb.grade({"substances": [{"name": "氨", "quantity_t": 1}, {"name": "未知物质X", "quantity_t": 1}],
                  "exposed_people": 0})
    assert ei.value.code == "not-in-table"
    assert "未知物质X" in str(ei.value)


def test_every_alias_and_cas_resolves_to_a_table1_row(gb: riskgrade.Ruleset) -> None:
    rows = _read("gb18218-table1.csv")
    for r in rows:
        for key in filter(None, r["lookup_keys"].split(";")):
            by_name = {"name": key} if not key[0].isdigit() else {"cas": key}
            a = gb.grade({"substances": [{**by_name, "quantity_t": 1, "category": "W2"}], "exposed_people": 0})
            q = a.values["Q_each"][0]
            # a shared key resolves to the strictest row that carries it
            candidates = [float(x["Q"]) for x in rows if key in x["lookup_keys"].split(";") or key == x["name"]]
            assert q == min(candidates), (key, q, candidates)


# ------------------------------------------------------------------ item lists and editions
def test_nonmetal_editions_side_by_side() -> None:
    old = riskgrade.load("nonmetal-mine@2017")
    new = riskgrade.load("nonmetal-mine@2022")
    assert riskgrade.load("nonmetal-mine") is new
    assert old.file != new.file
    facts = {"op_4": True, "tp_7": True}       # items unchanged from 2017 keep their names in 2022
    a, b = old.grade(facts), new.grade(facts)
    assert a.level is b.level is Level.RED
    assert a.ruleset.edition.startswith("2017") and b.ruleset.edition.startswith("2022")
    assert {f.id: f.citation.source for f in b.fired} == {"op-04": "nmm-2022", "tp-07": "nmm-2022"}
    assert {f.id: f.citation.basis for f in b.fired} == {"op-04": "clause", "tp-07": "clause"}


@pytest.mark.parametrize(("ref", "count"), [("hazchem-major-hidden-dangers", 20), ("coal-major-hidden-dangers", 80),
                                            ("nonmetal-mine@2017", 48)])
# nonmetal-mine@2022 has items with sub-conditions (128 inputs, 72 rules): tests/test_ruleset_corrections.py
def test_item_lists_are_complete_and_each_item_vetoes(ref: str, count: int) -> None:
    rs = riskgrade.load(ref)
    items = [n for n, s in rs.inputs.items() if s["type"] == "bool"]
    assert len(items) == count == len(rs.rules)
    assert rs.grade({}).level is Level.BLUE
    for n in items:
        a = rs.grade({n: True})
        assert a.level is Level.RED
        assert len(a.fired) == 1 and a.score == 1
    both = rs.grade(dict.fromkeys(items[:2], True))
    assert both.score == 2 and len(both.fired) == 2


def test_coal_categories() -> None:
    rs = riskgrade.load("coal-major-hidden-dangers@2020")
    per_cat = [sum(1 for n in rs.inputs if n.startswith(f"c{c:02d}_")) for c in range(1, 16)]
    assert per_cat == [6, 3, 7, 2, 10, 9, 3, 5, 4, 6, 3, 4, 5, 3, 10]
    assert rs.edition.startswith("2020")


@pytest.mark.parametrize(("facts", "degree", "level"), [
    ({"normal_conditions_confirmed": True}, "正常库", Level.BLUE),
    ({"normal_conditions_confirmed": False}, "病库", Level.YELLOW),
    ({"risky_3": True, "normal_conditions_confirmed": True}, "险库", Level.ORANGE),
    ({"dangerous_3": True, "risky_3": True, "normal_conditions_confirmed": True}, "危库", Level.RED),
    # below 0.98 × required is also 矿安〔2022〕88号 三、尾矿库 (十五), a major hidden danger: RED (issue 13)
    ({"min_safety_factor": 1.14, "required_safety_factor": 1.2, "normal_conditions_confirmed": True}, "险库", Level.RED),
    ({"min_safety_factor": 1.13, "required_safety_factor": 1.2, "normal_conditions_confirmed": True}, "危库", Level.RED),
])
def test_tailings_degree(facts: dict[str, object], degree: str, level: Level) -> None:
    a = riskgrade.load("nonmetal-mine-tailings").grade(facts)
    assert a.values["safety_degree"] == degree
    assert a.level is level


def test_enterprise_score_arithmetic() -> None:
    rs = riskgrade.load("hazchem-enterprise-2018")
    for ded, std, fire, fatal in itertools.product((0, 12.5, 30, 45), ("none", "一级", "三级"), (False, True), (0, 1)):
        a = rs.grade({"checklist_deductions": ded, "standardisation": std, "own_fire_brigade": fire,
                      "fatal_accidents_3y": fatal})
        want = 100 - ded + {"none": 0, "一级": 15, "三级": 2}[std] + (3 if fire else 0) - 8 * fatal
        assert math.isclose(a.score, want)
        band = Level.BLUE if want >= 90 else Level.YELLOW if want >= 75 else Level.ORANGE if want >= 60 else Level.RED
        assert a.level is band


# ------------------------------------------------------------------ bundled sector examples
EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples" / "sectors"
EXAMPLE_RULESETS = [
    ("hazchem-unit-ammonia-chlorine.yaml", "hazchem-gb18218", ["YELLOW"]),
    ("hazchem-units.jsonl", "hazchem-gb18218", ["BLUE", "BLUE", "RED", "BLUE"]),
    ("hazchem-major-hidden-dangers.yaml", "hazchem-major-hidden-dangers", ["RED"]),
    ("hazchem-enterprise-2018.yaml", "hazchem-enterprise-2018", ["YELLOW"]),
    ("hazchem-risk-points.jsonl", "hazchem-risk-point-lec", ["ORANGE", "BLUE", "RED"]),
    ("coal-mine-inspection.yaml", "coal-major-hidden-dangers", ["RED"]),
    ("coal-risk-points.jsonl", "coal-risk-point", ["ORANGE", "BLUE", "BLUE", "BLUE"]),
    ("nonmetal-open-pit.yaml", "nonmetal-mine", ["RED"]),
    ("nonmetal-open-pit.yaml", "nonmetal-mine@2017", ["RED"]),
    ("tailings-pond.yaml", "nonmetal-mine-tailings", ["RED"]),    # 险库, and (十五) a major hidden danger
]


@pytest.mark.parametrize(("name", "ref", "levels"), EXAMPLE_RULESETS)
def test_bundled_sector_example_grades(name: str, ref: str, levels: list[str]) -> None:
    from riskgrade._source.facts import read_facts

    rs = riskgrade.load(ref)
    got = []
    for rec in read_facts(str(EXAMPLES / name)):
        assert rec.error is None, rec.error
        got.append(rs.grade(rec.facts).level.name)
    assert got == levels


def test_every_sector_example_is_listed() -> None:
    files = {p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json", ".jsonl")}
    assert files == {n for n, _, _ in EXAMPLE_RULESETS}
