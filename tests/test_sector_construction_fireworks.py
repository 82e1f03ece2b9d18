"""建筑施工 (2022 and 2024 editions side by side) and 烟花爆竹 major-hidden-danger rulesets, through the public API.

The counts are the standards' own: 2024 第四–十七条 5/4/4/3/9/5/2/4/2/7/3/3/1/1 = 53 ("51个一级列项" plus
第十六、十七条 whole); 2022 第四–十五条 = 34; 烟花爆竹 = 20. Each item is found by grading it alone, so the counts
are of rules that really fire, grouped by the article their citation names.
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
C2024 = ROOT / "construction" / "construction-major-hidden-dangers-2024.yaml"
C2022 = ROOT / "construction" / "construction-major-hidden-dangers-2022.yaml"
FIREWORKS = ROOT / "fireworks" / "fireworks-major-hidden-dangers.yaml"
CID = "construction-major-hidden-dangers"

ZH = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六",
      "十七", "十八", "十九", "二十"]
ARTICLE_NO = {z: i for i, z in enumerate(ZH) if z}

PER_ARTICLE = {
    2024: dict(zip(range(4, 18), [5, 4, 4, 3, 9, 5, 2, 4, 2, 7, 3, 3, 1, 1], strict=True)),
    2022: dict(zip(range(4, 16), [4, 4, 3, 5, 7, 3, 1, 2, 1, 2, 1, 1], strict=True)),
}
FLAGS = ["has_excavation", "has_formwork", "has_scaffolding", "has_lifting", "has_confined_space", "has_demolition",
         "has_tunnelling"]
# which articles (and items) each selection input switches off; the rest apply to every project
SCOPE = {
    2024: {"has_excavation": {"5-1", "5-2", "5-3", "5-4", "14-1", "14-2"}, "has_formwork": {f"6-{i}" for i in range(1, 5)},
           "has_scaffolding": {f"7-{i}" for i in range(1, 4)}, "has_lifting": {f"8-{i}" for i in range(1, 10)},
           "has_confined_space": {f"11-{i}" for i in range(1, 5)}, "has_demolition": {"12-1", "12-2"},
           "has_tunnelling": {f"13-{i}" for i in range(1, 8)}},
    2022: {"has_excavation": {f"5-{i}" for i in range(1, 5)}, "has_formwork": {f"6-{i}" for i in range(1, 4)},
           "has_scaffolding": {f"7-{i}" for i in range(1, 6)}, "has_lifting": {f"8-{i}" for i in range(1, 8)},
           "has_confined_space": {"11-1", "11-2"}, "has_demolition": {"12-1"}, "has_tunnelling": {"13-1", "13-2"}},
}
CLAUSE = re.compile(r"^第(?P<art>[一二三四五六七八九十]+)条(?:\((?P<item>[一二三四五六七八九十]+)\))?$")
RULE_ID = re.compile(r"^art(?P<art>\d\d)(?:-(?P<item>\d+))?$")


def _items(rs: riskgrade.Ruleset) -> list[str]:
    """The finding inputs: every bool input that defaults to 'not found' (selection inputs default otherwise)."""
    return [n for n, v in rs.grade({}).inputs.items() if v is False]


def _alone(rs: riskgrade.Ruleset, item: str) -> riskgrade.Assessment:
    a = rs.grade({item: True})
    assert a.level is Level.RED and a.score == 1 and len(a.fired) == 1, item
    return a


def _article_item(clause: str) -> tuple[int, int | None]:
    m = CLAUSE.match(clause)
    assert m, clause
    return ARTICLE_NO[m["art"]], ARTICLE_NO[m["item"]] if m["item"] else None


@pytest.fixture(scope="module", params=[2024, 2022], ids=["2024", "2022"])
def edition(request: pytest.FixtureRequest) -> tuple[int, riskgrade.Ruleset]:
    return request.param, riskgrade.load(f"{CID}@{request.param}")


# ------------------------------------------------------------------ editions
def test_both_editions_load_by_id_and_edition() -> None:
    new, old = riskgrade.load(CID), riskgrade.load(f"{CID}@2022")
    assert riskgrade.load(f"{CID}@2024") is new
    assert pathlib.Path(new.file).name == C2024.name and pathlib.Path(old.file).name == C2022.name
    assert new.edition.startswith("2024") and "建质规〔2024〕5号" in new.edition
    assert old.edition.startswith("2022") and "建质规〔2022〕2号" in old.edition
    assert new.effective > old.effective
    assert new.sector == old.sector == "construction"
    a, b = new.grade({"excav_overdig": True}), old.grade({"excav_overdig": True})
    assert a.ruleset.edition == new.edition and b.ruleset.edition == old.edition
    assert a.ruleset.fingerprint != b.ruleset.fingerprint


def test_shipped_files_equal_the_repository_files() -> None:
    for path, ref in ((C2024, CID), (C2022, f"{CID}@2022"), (FIREWORKS, "fireworks-major-hidden-dangers")):
        assert riskgrade.load(str(path)).fingerprint == riskgrade.load(ref).fingerprint


# ------------------------------------------------------------------ construction: counts and citations
def test_item_counts_per_article_equal_the_standard(edition: tuple[int, riskgrade.Ruleset]) -> None:
    year, rs = edition
    items = _items(rs)
    per = Counter(_article_item(_alone(rs, n).fired[0].citation.clause)[0] for n in items)
    assert dict(per) == PER_ARTICLE[year]
    assert len(items) == sum(PER_ARTICLE[year].values()) == {2024: 53, 2022: 34}[year]
    if year == 2024:   # "51个一级列项" plus the two whole-article items 第十六、十七条
        whole = [n for n in items if _article_item(_alone(rs, n).fired[0].citation.clause)[1] is None]
        assert len(items) - len(whole) == 51 and len(whole) == 2


def test_each_rule_cites_its_article_and_item(edition: tuple[int, riskgrade.Ruleset]) -> None:
    year, rs = edition
    seen = set()
    for n in _items(rs):
        f = _alone(rs, n).fired[0]
        art, item = _article_item(f.citation.clause)
        m = RULE_ID.match(f.id)
        assert m, f.id
        assert int(m["art"]) == art and (int(m["item"]) if m["item"] else None) == item, (f.id, f.citation.clause)
        assert f.citation.number == f"建质规〔{year}〕{5 if year == 2024 else 2}号"
        assert f.citation.basis == "clause" and f.level is Level.RED
        seen.add((art, item))
    # items are numbered 1..n without gaps within each article
    for art, count in PER_ARTICLE[year].items():
        nums = sorted(i for a, i in seen if a == art)
        assert nums in ([None], list(range(1, count + 1))), (art, nums)


def test_verification_status_follows_the_reference() -> None:
    new = riskgrade.load(CID)
    assert {_alone(new, n).fired[0].citation.status for n in _items(new)} == {"verified"}
    old = riskgrade.load(f"{CID}@2022")
    status = {_alone(old, n).fired[0].id: _alone(old, n).fired[0].citation.status for n in _items(old)}
    from_memory = {i for i, s in status.items() if s == "unverified"}
    # 第五条(四) partly, 第六、七条 and 第十三–十五条 from memory; the rest verified (the edition itself superseded)
    assert from_memory == {"art05-4", *(f"art06-{i}" for i in range(1, 4)), *(f"art07-{i}" for i in range(1, 6)),
                           "art13-1", "art13-2", "art14", "art15"}
    assert {s for i, s in status.items() if i not in from_memory} == {"superseded"}


def test_inputs_unchanged_between_editions_keep_their_names() -> None:
    new, old = riskgrade.load(CID), riskgrade.load(f"{CID}@2022")
    shared = set(_items(new)) & set(_items(old))
    assert len(shared) == 22
    # the same finding, renumbered between the editions, keeps its name
    moved = {"crane_foundation_weak": ("art08-2", "art08-7"), "tower_crane_height_ties_out_of_spec": ("art08-7", "art08-2"),
             "hoist_ties_out_of_spec": ("art08-6", "art08-3"), "crane_precheck_missing": ("art08-3", "art08-4"),
             "climbing_scaffold_devices_failed": ("art07-3", "art07-4"), "demolition_out_of_sequence": ("art12-2", "art12-1"),
             "confined_space_procedure_skipped": ("art11-2", "art11-1"), "banned_process_equipment_material": ("art16", "art14"),
             "other_serious_violation": ("art17", "art15"), "excav_overdig": ("art05-2", "art05-2")}
    assert set(moved) <= shared
    for name, (id_new, id_old) in moved.items():
        assert [f.id for f in new.grade({name: True}).fired] == [id_new]
        assert [f.id for f in old.grade({name: True}).fired] == [id_old]
    # the selection inputs are the same in both editions
    assert set(FLAGS) <= set(new.grade({}).inputs) and set(FLAGS) <= set(old.grade({}).inputs)
    # an item that changed has a new name: the old name is not an input of the new edition, and back
    for rs, gone in ((new, "no_safety_licence"), (old, "no_licence_or_over_qualification"),
                     (old, "hazardous_works_not_accepted"), (new, "climbing_scaffold_cantilever_over_limit")):
        with pytest.raises(FactError) as ei:
            rs.grade({gone: True})
        assert (ei.value.code, ei.value.field) == ("unknown-fact", gone)


def test_one_facts_file_of_shared_items_grades_alike_in_both_editions() -> None:
    new, old = riskgrade.load(CID), riskgrade.load(f"{CID}@2022")
    shared = sorted(set(_items(new)) & set(_items(old)))
    for a, b in ((new.grade(dict.fromkeys(shared, True)), old.grade(dict.fromkeys(shared, True))),
                 (new.grade({}), old.grade({}))):
        assert a.level is b.level and a.score == b.score


def test_new_categories_of_2024() -> None:
    new = riskgrade.load(CID)
    by_article = Counter(_article_item(_alone(new, n).fired[0].citation.clause)[0] for n in _items(new))
    assert by_article[14] == 3 and by_article[15] == 3        # 施工临时堆载, 冒险作业
    old = riskgrade.load(f"{CID}@2022")
    for n in ("pit_edge_overloaded", "severe_weather_work", "people_lifted_by_crane"):
        with pytest.raises(FactError):
            old.grade({n: True})


# ------------------------------------------------------------------ construction: selection by kind of work
def test_selection_switches_off_exactly_its_articles(edition: tuple[int, riskgrade.Ruleset]) -> None:
    year, rs = edition
    items = _items(rs)
    where = {}
    for n in items:
        art, item = _article_item(_alone(rs, n).fired[0].citation.clause)
        where[n] = f"{art}-{item or 1}"
    for flag in FLAGS:
        off = set()
        for n in items:
            try:
                a = rs.grade({flag: False, n: True})
            except FactError as e:
                assert (e.code, e.field) == ("requirement-failed", "check_" + flag.removeprefix("has_")), (flag, n)
                off.add(where[n])
            else:
                assert a.level is Level.RED and len(a.fired) == 1
            assert [f.id for f in rs.grade({flag: True, n: True}).fired] == [_alone(rs, n).fired[0].id]
        assert off == SCOPE[year][flag], flag
    # with every special kind of work declared absent, nothing of it is graded, the general articles still are
    none = dict.fromkeys(FLAGS, False)
    assert rs.grade(none).level is Level.BLUE
    general = [n for n in items if not any(where[n] in s for s in SCOPE[year].values())]
    a = rs.grade({**none, **dict.fromkeys(general, True)})
    assert a.level is Level.RED and a.score == len(general) == len(a.fired)


def test_bad_construction_facts() -> None:
    rs = riskgrade.load(CID)
    for facts, code, field in (({"excav_overdig": "是"}, "wrong-type", "excav_overdig"),
                               ({"has_lifting": "无"}, "wrong-type", "has_lifting"),
                               ({"excav_overdgi": True}, "unknown-fact", "excav_overdgi"),
                               ({"has_tunnelling": False, "shield_end_not_reinforced": True},
                                "requirement-failed", "check_tunnelling")):
        with pytest.raises(FactError) as ei:
            rs.grade(facts)
        assert (ei.value.code, ei.value.field) == (code, field)


# ------------------------------------------------------------------ fireworks
@pytest.fixture(scope="module")
def fw() -> riskgrade.Ruleset:
    return riskgrade.load("fireworks-major-hidden-dangers")


def test_fireworks_twenty_items_each_citing_its_number(fw: riskgrade.Ruleset) -> None:
    items = _items(fw)
    assert len(items) == 20
    assert fw.sector == "fireworks" and "安监总管三〔2017〕121号" in fw.edition
    for i, n in enumerate(items, 1):
        f = _alone(fw, n).fired[0]
        assert f.id == f"fw-{i:02d}"
        assert f.citation.clause == f"第({ZH[i]})项"
        assert f.citation.number == "安监总管三〔2017〕121号"
        assert (f.citation.basis, f.citation.status) == ("clause", "verified")
    a = fw.grade(dict.fromkeys(items, True))
    assert a.level is Level.RED and a.score == 20 and len(a.fired) == 20


@pytest.mark.parametrize(("kind", "applies"), [
    ("production", set(range(1, 20))),
    ("wholesale", set(range(1, 21)) - {3, 9, 10, 11, 12, 20}),
    ("retail", set(range(1, 21)) - {3, 9, 10, 11, 12}),
    (None, set(range(1, 21))),
])
def test_fireworks_enterprise_type_selects_items(fw: riskgrade.Ruleset, kind: str | None, applies: set[int]) -> None:
    items = _items(fw)
    assert fw.grade({"enterprise_type": kind}).level is Level.BLUE
    for i, n in enumerate(items, 1):
        facts = {"enterprise_type": kind, n: True}
        if i in applies:
            assert [f.id for f in fw.grade(facts).fired] == [f"fw-{i:02d}"]
        else:   # an item of another kind of enterprise never fires: the facts contradict each other
            with pytest.raises(FactError) as ei:
                fw.grade(facts)
            assert ei.value.code == "requirement-failed"
            assert ei.value.field == ("check_retail_only" if i == 20 else "check_production_only")
    a = fw.grade({"enterprise_type": kind, **{n: True for i, n in enumerate(items, 1) if i in applies}})
    assert a.score == len(applies) == len(a.fired)


def test_bad_fireworks_facts(fw: riskgrade.Ruleset) -> None:
    for facts, code, field in (({"enterprise_type": "factory"}, "not-allowed", "enterprise_type"),
                               ({"enterprise_type": ["production"]}, "wrong-type", "enterprise_type"),
                               ({"licence_misused_or_forged": 1}, "wrong-type", "licence_misused_or_forged"),
                               ({"licence_misused": True}, "unknown-fact", "licence_misused")):
        with pytest.raises(FactError) as ei:
            fw.grade(facts)
        assert (ei.value.code, ei.value.field) == (code, field)


# ------------------------------------------------------------------ the rulesets' own cases
@pytest.mark.parametrize("ref", [CID, f"{CID}@2022", "fireworks-major-hidden-dangers"])
def test_cases_pass_and_fire_every_rule(ref: str) -> None:
    rs = riskgrade.load(ref)
    results = rs.run_cases()
    assert len(results) >= 20
    assert all(r.ok and not r.problems for r in results), [(r.note, r.problems) for r in results if not r.ok]
    fired = {i for r in results for i in r.actual.get("fired", ())}
    every = {_alone(rs, n).fired[0].id for n in _items(rs)}
    assert fired == every
    # the cases exercise every fact error this ruleset can raise, and nothing found
    codes = {r.actual.get("error") for r in results} - {None}
    want = {"unknown-fact", "wrong-type", "requirement-failed"}
    if ref.startswith("fireworks"):
        want.add("not-allowed")
    assert codes == want
    assert any(r.actual.get("level") == "BLUE" and r.actual.get("fired") == [] for r in results)


# ------------------------------------------------------------------ the command line
def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_cli_test_and_list() -> None:
    code, out = _cli("test", str(C2024), str(C2022), str(FIREWORKS))
    assert code == 0, out
    assert re.search(r"\b104 passed, 0 failed", out), out
    code, out = _cli("list")
    assert code == 0
    lines = [ln for ln in out.splitlines() if ln.startswith(CID + " ")]
    assert len(lines) == 2 and any("2022版" in ln for ln in lines) and any("2024版" in ln for ln in lines)
    assert any(ln.startswith("fireworks-major-hidden-dangers ") for ln in out.splitlines())


def test_cli_explain_cites_article_and_status(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "site.yaml"
    facts.write_text("has_tunnelling: false\nexcav_overdig: true\nformwork_overloaded: true\n", encoding="utf-8")
    code, out = _cli("explain", "--ruleset", f"{CID}@2022", str(facts), "--lang", "zh")
    assert code == 0, out
    assert "第五条(二)" in out and "第六条(二)" in out and "未核实" in out and "RED" in out
    code, out = _cli("explain", "--ruleset", CID, str(facts), "--lang", "en")
    assert code == 0, out
    assert "第五条(二)" in out and "第六条(二)" in out and "unverified" not in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("has_tunnelling: false\ntunnel_water_uncontrolled: true\n", encoding="utf-8")
    code, out = _cli("grade", "--ruleset", CID, str(bad))
    assert code != 0 and "requirement-failed" in out and "check_tunnelling" in out
