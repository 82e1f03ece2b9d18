"""工贸企业重大事故隐患判定标准 (应急管理部令第10号, 2023) in two rulesets: industry-trade and metallurgy.

Checked through the public API and the CLI only: the item counts per article are the standard's
(3/8/13/8/7/7/2/2/10/2/2 = 64, 第三条 counted once across the two files), every item cites its
article and item, items of another industry or of a special operation not selected never fire but
are shown, and 第十四条 (a named device failed) is one rule that takes only items naming a device.
"""

from __future__ import annotations

import itertools
import pathlib
import re

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade import FactError, Level
from riskgrade._cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
IT_FILE = ROOT / "rulesets" / "industry-trade" / "industry-trade-major-hidden-dangers.yaml"
MET_FILE = ROOT / "rulesets" / "metallurgy" / "metallurgy-major-hidden-dangers.yaml"
IT_ID = "industry-trade-major-hidden-dangers"
MET_ID = "metallurgy-major-hidden-dangers"

#: the standard's own count of items per article (第三条 … 第十三条)
STANDARD = {3: 3, 4: 8, 5: 13, 6: 8, 7: 7, 8: 7, 9: 2, 10: 2, 11: 10, 12: 2, 13: 2}
ART_ZH = {3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十", 11: "十一", 12: "十二",
          13: "十三"}
ITEM_ZH = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三"]

#: which article each industry value selects, per ruleset
INDUSTRY_ARTICLE = {
    IT_ID: {"building-materials": 6, "machinery": 7, "light-industry": 8, "textile": 9, "tobacco": 10,
            "commerce": None},
    MET_ID: {"ferrous": 4, "nonferrous": 5},
}
FLAG_ARTICLE = {"dust_explosion": 11, "ammonia_refrigeration": 12, "toxic_confined_space": 13}
ITEM_ID = re.compile(r"^a(\d\d)-(\d+)$")


@pytest.fixture(scope="module", params=[IT_FILE, MET_FILE], ids=["industry-trade", "metallurgy"])
def rs(request: pytest.FixtureRequest) -> riskgrade.Ruleset:
    return riskgrade.load(str(request.param))


@pytest.fixture(scope="module")
def both() -> tuple[riskgrade.Ruleset, riskgrade.Ruleset]:
    return riskgrade.load(str(IT_FILE)), riskgrade.load(str(MET_FILE))


def items(rs: riskgrade.Ruleset) -> dict[str, tuple[int, int]]:
    """Item rule id → (article, item number)."""
    out = {}
    for rule in rs.rules:
        m = ITEM_ID.match(rule["id"])
        if m:
            out[rule["id"]] = (int(m.group(1)), int(m.group(2)))
    return out


def article_of(rs: riskgrade.Ruleset, art: int) -> str | None:
    """The input value (industry) or flag that selects ``art``; None for 第三条 (everyone)."""
    if art == 3:
        return None
    for flag, a in FLAG_ARTICLE.items():
        if a == art:
            return flag
    return next(k for k, a in INDUSTRY_ARTICLE[rs.id].items() if a == art)


def facts_selecting(rs: riskgrade.Ruleset, art: int) -> dict[str, object]:
    """Facts for an enterprise to which article ``art`` applies."""
    industries = INDUSTRY_ARTICLE[rs.id]
    sel = article_of(rs, art)
    if sel in FLAG_ARTICLE:
        return {"industry": next(iter(industries)), sel: True}
    if sel is None:
        return {"industry": next(iter(industries))}
    return {"industry": sel}


def item_input(rule_id: str) -> str:
    return rule_id.replace("-", "_")


def device_items(rs: riskgrade.Ruleset) -> list[str]:
    return list(rs.inputs["device_failed"]["fields"]["item"]["values"])


def fired(a: riskgrade.Assessment) -> list[str]:
    return [f.id for f in a.fired]


# ------------------------------------------------------------------------------------ shape
def test_loaded_by_shipped_id_and_by_path_agree() -> None:
    for ref, path in ((IT_ID, IT_FILE), (MET_ID, MET_FILE)):
        by_id, by_path = riskgrade.load(ref), riskgrade.load(str(path))
        assert by_id.fingerprint == by_path.fingerprint
        assert by_id.edition == "2023 (应急管理部令第10号)"
        assert str(by_id.effective) == "2023-05-15"
    assert riskgrade.load(IT_ID).sector == "industry-trade"
    assert riskgrade.load(MET_ID).sector == "metallurgy"


def test_item_counts_per_article_are_the_standards(both: tuple[riskgrade.Ruleset, riskgrade.Ruleset]) -> None:
    it, met = both
    it_arts = {a for a, _ in items(it).values()}
    met_arts = {a for a, _ in items(met).values()}
    assert it_arts == {3, 6, 7, 8, 9, 10, 11, 12, 13}
    assert met_arts == {3, 4, 5, 11, 12, 13}
    union = {**items(it), **items(met)}
    per_article = {a: sorted(i for aa, i in union.values() if aa == a) for a in STANDARD}
    # every article has exactly the standard's items, numbered 1..n without gaps
    assert per_article == {a: list(range(1, n + 1)) for a, n in STANDARD.items()}
    assert len(union) == sum(STANDARD.values()) == 64
    assert len(items(it)) == 3 + 8 + 7 + 7 + 2 + 2 + 10 + 2 + 2 == 43
    assert len(items(met)) == 3 + 8 + 13 + 10 + 2 + 2 == 38


def test_shared_articles_are_identical_in_both_files(both: tuple[riskgrade.Ruleset, riskgrade.Ruleset]) -> None:
    it, met = both
    for art in (3, 11, 12, 13):
        a = {r["id"]: r for r in it.rules if ITEM_ID.match(r["id"]) and items(it)[r["id"]][0] == art}
        b = {r["id"]: r for r in met.rules if ITEM_ID.match(r["id"]) and items(met)[r["id"]][0] == art}
        assert a.keys() == b.keys()
        for k in a:
            assert (a[k]["label"], a[k]["cite"]) == (b[k]["label"], b[k]["cite"]), k
            assert it.inputs[item_input(k)] == met.inputs[item_input(k)], k


def test_no_commerce_article(rs: riskgrade.Ruleset) -> None:
    # the standard has no 商贸 article: every rule cites 第三–十四条, or is the not-applicable notice
    arts = set()
    for rule in rs.rules:
        clause = str(rule["cite"].get("clause", ""))
        assert "商贸" not in clause and "商贸" not in str(rule.get("label"))
        m = re.match(r"^第(.+?)条", clause)
        assert m, rule["id"]
        arts.add(m.group(1))
    assert arts <= {*ART_ZH.values(), "十四"}


def test_every_item_cites_its_article_and_item_and_is_verified(rs: riskgrade.Ruleset) -> None:
    for rule_id, (art, n) in items(rs).items():
        a = rs.grade({**facts_selecting(rs, art), item_input(rule_id): True})
        assert a.level is Level.RED
        assert fired(a) == [rule_id]
        c = a.fired[0].citation
        assert c.clause == f"第{ART_ZH[art]}条第({ITEM_ZH[n - 1]})项", rule_id
        assert c.basis == "clause"
        assert c.status == "verified"
        assert c.number == "应急管理部令第10号"
        label = next(r["label"] for r in rs.rules if r["id"] == rule_id)
        assert label["zh"] and label["en"], rule_id
        assert a.score == 1


def test_every_item_has_a_bool_input_defaulting_to_not_found(rs: riskgrade.Ruleset) -> None:
    for rule_id in items(rs):
        spec = rs.inputs[item_input(rule_id)]
        assert spec["type"] == "bool" and spec["default"] is False, rule_id
        assert spec["label"]["zh"] and spec["label"]["en"]


# ------------------------------------------------------------------------------------ selection
def test_nothing_found_is_blue_for_every_industry(rs: riskgrade.Ruleset) -> None:
    for industry in INDUSTRY_ARTICLE[rs.id]:
        a = rs.grade({"industry": industry})
        assert (a.level, a.score, fired(a)) == (Level.BLUE, 0, [])


def test_industry_is_required(rs: riskgrade.Ruleset) -> None:
    with pytest.raises(FactError) as e:
        rs.grade({})
    assert (e.value.code, e.value.field) == ("missing-fact", "industry")


def test_general_items_apply_to_every_industry(rs: riskgrade.Ruleset) -> None:
    for industry, n in itertools.product(INDUSTRY_ARTICLE[rs.id], (1, 2, 3)):
        a = rs.grade({"industry": industry, f"a03_{n}": True})
        assert (a.level, fired(a)) == (Level.RED, [f"a03-{n}"])


def test_an_item_of_another_industry_never_fires_but_is_shown(rs: riskgrade.Ruleset) -> None:
    industries = INDUSTRY_ARTICLE[rs.id]
    checked = 0
    for rule_id, (art, _) in items(rs).items():
        if art not in industries.values():
            continue
        for industry, own in industries.items():
            if own == art:
                continue
            a = rs.grade({"industry": industry, item_input(rule_id): True})
            assert a.level is Level.BLUE and a.score == 0
            assert fired(a) == ["not-applicable"], (rule_id, industry)
            assert a.values["not_applicable_findings"] == [rule_id]
            assert a.fired[0].citation.basis == "derived"
            checked += 1
    assert checked > 0


def test_special_items_need_their_flag(rs: riskgrade.Ruleset) -> None:
    industry = next(iter(INDUSTRY_ARTICLE[rs.id]))
    for rule_id, (art, _) in items(rs).items():
        if art not in FLAG_ARTICLE.values():
            continue
        flag = article_of(rs, art)
        off = rs.grade({"industry": industry, item_input(rule_id): True})
        assert (off.level, fired(off)) == (Level.BLUE, ["not-applicable"])
        assert off.values["not_applicable_findings"] == [rule_id]
        on = rs.grade({"industry": industry, flag: True, item_input(rule_id): True})
        assert (on.level, fired(on)) == (Level.RED, [rule_id])
        # another flag does not select it
        other = next(f for f in FLAG_ARTICLE if f != flag)
        assert fired(rs.grade({"industry": industry, other: True, item_input(rule_id): True})) == ["not-applicable"]


def test_special_articles_apply_in_every_industry(rs: riskgrade.Ruleset) -> None:
    for industry, flag in itertools.product(INDUSTRY_ARTICLE[rs.id], FLAG_ARTICLE):
        art = FLAG_ARTICLE[flag]
        a = rs.grade({"industry": industry, flag: True, f"a{art:02d}_1": True})
        assert fired(a) == [f"a{art:02d}-1"]


def test_score_counts_only_what_applies(rs: riskgrade.Ruleset) -> None:
    everything = {item_input(r): True for r in items(rs)}
    for industry, own in INDUSTRY_ARTICLE[rs.id].items():
        a = rs.grade({"industry": industry, **everything})
        expected = STANDARD[3] + (STANDARD[own] if own else 0)
        assert a.score == expected and a.level is Level.RED
        assert "not-applicable" in fired(a)
        with_flags = rs.grade({"industry": industry, **everything, **dict.fromkeys(FLAG_ARTICLE, True)})
        assert with_flags.score == expected + 10 + 2 + 2


# ------------------------------------------------------------------------------------ 第十四条
def test_article_14_is_one_rule(rs: riskgrade.Ruleset) -> None:
    cites = [r["id"] for r in rs.rules if str(r["cite"].get("clause")) == "第十四条"]
    assert cites == ["a14"]
    # one input, a list of records, empty by default
    spec = rs.inputs["device_failed"]
    assert spec["type"] == "list" and spec["default"] == []
    assert not [n for n in rs.inputs if "device" in n and n != "device_failed"]


def test_article_14_takes_only_items_of_this_ruleset_that_name_a_device(rs: riskgrade.Ruleset) -> None:
    accepted = device_items(rs)
    assert accepted and set(accepted) <= set(items(rs))
    assert not [i for i in accepted if i.startswith("a03-")]     # 第三条 names no device
    for rule_id in items(rs):
        facts = {**facts_selecting(rs, items(rs)[rule_id][0]), "device_failed": [{"item": rule_id}]}
        if rule_id in accepted:
            a = rs.grade(facts)
            assert (a.level, fired(a), a.score) == (Level.RED, ["a14"], 1), rule_id
            assert a.fired[0].citation.clause == "第十四条"
            assert a.values["device_failures"] == [rule_id]
        else:
            with pytest.raises(FactError) as e:
                rs.grade(facts)
            assert (e.value.code, e.value.field) == ("not-allowed", "device_failed[0].item"), rule_id


def test_article_14_for_an_item_that_does_not_apply_is_shown_not_graded(rs: riskgrade.Ruleset) -> None:
    industries = INDUSTRY_ARTICLE[rs.id]
    for rule_id in device_items(rs):
        art = items(rs)[rule_id][0]
        if art not in industries.values():
            continue
        other = next(k for k, a in industries.items() if a != art)
        a = rs.grade({"industry": other, "device_failed": [{"item": rule_id}]})
        assert (a.level, fired(a), a.score) == (Level.BLUE, ["not-applicable"], 0)
        assert a.values["not_applicable_device_failures"] == [rule_id]


def test_items_whose_text_already_is_the_failure_are_not_under_article_14() -> None:
    it = riskgrade.load(str(IT_FILE))
    assert "a06-7" not in device_items(it)    # 电熔制品电炉水冷设备失效
    assert "a11-7" not in device_items(it)    # 20区电气设备不符合防爆要求


# ------------------------------------------------------------------------------------ cases
def test_cases_pass_and_are_enough(rs: riskgrade.Ruleset) -> None:
    results = rs.run_cases()
    assert len(results) >= 20
    bad = [(r.index, r.note, r.problems) for r in results if not r.ok]
    assert bad == []


def test_every_rule_fires_in_some_case(rs: riskgrade.Ruleset) -> None:
    seen: set[str] = set()
    for case in rs.cases:
        if "want" in case:
            seen |= set(fired(rs.grade(case["facts"])))
    # item rules are each fired by the "every item" cases; the rest by their own cases
    assert seen == {r["id"] for r in rs.rules}


def test_cases_cover_each_selection_and_each_fact_error(rs: riskgrade.Ruleset) -> None:
    facts = [c["facts"] for c in rs.cases]
    assert {f.get("industry") for f in facts} >= set(INDUSTRY_ARTICLE[rs.id])
    for flag in FLAG_ARTICLE:
        assert any(f.get(flag) is True for f in facts), flag
    assert any(c["facts"].get("device_failed") and "want" in c and "a14" in c["want"].get("fired", [])
               for c in rs.cases)
    codes = {c["want_error"]["code"] for c in rs.cases if "want_error" in c}
    assert codes >= {"missing-fact", "unknown-fact", "wrong-type", "not-allowed"}
    assert any("want" in c and c["want"].get("fired") == [] and c["want"]["level"] == "BLUE" for c in rs.cases)
    assert any("want" in c and c["want"].get("fired") == ["not-applicable"] for c in rs.cases)


def test_bad_facts_name_the_field(rs: riskgrade.Ruleset) -> None:
    industry = next(iter(INDUSTRY_ARTICLE[rs.id]))
    for facts, want in [
        ({"industry": "冶金有色"}, ("not-allowed", "industry")),
        ({"industry": industry, "a03_1": "是"}, ("wrong-type", "a03_1")),
        ({"industry": industry, "a03_9": True}, ("unknown-fact", "a03_9")),
        ({"industry": industry, "dust_explosion": 1}, ("wrong-type", "dust_explosion")),
        ({"industry": industry, "device_failed": [{"device": "x"}]}, ("missing-fact", "device_failed[0].item")),
        ({"industry": industry, "device_failed": ["a03-1"]}, ("wrong-type", "device_failed[0]")),
    ]:
        with pytest.raises(FactError) as e:
            rs.grade(facts)
        assert (e.value.code, e.value.field) == want, facts


def test_same_facts_same_bytes(rs: riskgrade.Ruleset) -> None:
    industry = next(iter(INDUSTRY_ARTICLE[rs.id]))
    facts = {"industry": industry, "a03_2": True, "a11_1": True, "device_failed": []}
    assert rs.grade(facts).to_json() == rs.grade(dict(facts)).to_json()


# ------------------------------------------------------------------------------------ CLI
def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def test_cli_validate_and_test() -> None:
    code, out = invoke("validate", str(IT_FILE), str(MET_FILE))
    assert code == 0, out
    code, out = invoke("test", str(IT_FILE), str(MET_FILE))
    assert code == 0, out
    assert " 0 failed" in out


def test_cli_list_shows_both() -> None:
    code, out = invoke("list")
    assert code == 0
    ids = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {IT_ID, MET_ID} <= ids


def test_cli_explain_zh_shows_article_14_and_not_applicable(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "facts.yaml"
    f.write_text("industry: machinery\na06_1: true\ndevice_failed:\n  - {item: a07-4, device: 冷却水流量报警不动作}\n",
                 encoding="utf-8")
    code, out = invoke("explain", "--ruleset", str(IT_FILE), str(f), "--lang", "zh")
    assert code == 0, out
    assert "RED 重大风险" in out.splitlines()[0]
    assert "规则 a14" in out and "第十四条" in out and "→ RED" in out
    assert "not_applicable_findings = not_applicable_industry + not_applicable_special = ['a06-1']" in out
    assert "规则 not-applicable" in out


def test_cli_grade_bad_industry_is_an_error_record(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "facts.yaml"
    f.write_text("industry: ferrous\n", encoding="utf-8")
    code, out = invoke("grade", "--ruleset", str(IT_FILE), str(f))
    assert code != 0
    assert "not-allowed" in out and "industry" in out
