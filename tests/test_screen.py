"""Admission screening (issue 14): ``kind: screening`` rulesets, :func:`riskgrade.screen` and
``riskgrade screen`` -- the three example projects decided with their exact reasons and citations,
located errors in screening rulesets and project files, exit codes, canonical JSON."""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Callable

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli.main import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROJECTS = ROOT / "examples" / "projects"
RS = "hazchem-project-screening"


def invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


# -- the three example projects -------------------------------------------------------------------
class TestExampleProjects:
    def test_pass(self) -> None:
        s = riskgrade.screen(RS, PROJECTS / "pass.yaml")
        assert (s.decision, s.reasons, s.conditions, s.project) == ("pass", (), (), "BY-2027-001")
        assert s.citation is not None and (s.citation.source, s.citation.clause, s.citation.status) == (
            "guide-52", "1.2.1", "partial")

    def test_conditions(self) -> None:
        s = riskgrade.screen(RS, PROJECTS / "conditions.yaml")
        assert s.decision == "conditions"
        assert [r.id for r in s.reasons] == ["eliminated-restricted/E2-D03", "city-restricted", "managers-not-certified"]
        pump = s.reasons[0]
        assert (pump.item, pump.citation.source, pump.citation.clause, pump.citation.status, pump.citation.basis) == (
            "E2-D03", "eliminated-2", "第二批 淘汰落后的设备 第3项", "partial", "clause")
        assert "液氯" in pump.label["zh"]  # the list's restriction scope is shown with the item
        assert s.reasons[1].citation.basis == "local" and s.reasons[1].citation.status == "unverified"
        assert [c.rule for c in s.conditions] == ["eliminated-restricted", "city-restricted", "managers-not-certified"]
        assert s.conditions[0].reasons == ("eliminated-restricted/E2-D03",)
        assert s.conditions[2].text["zh"] == "试生产前主要负责人和安全生产管理人员须经考核合格"

    def test_reject(self) -> None:
        s = riskgrade.screen(RS, PROJECTS / "reject.yaml")
        assert s.decision == "reject"
        assert [r.id for r in s.reasons] == ["outside-park", "special-place-distance/2", "external-distance",
                                             "eliminated-item/E1-P02", "eliminated-item/E2-D02"]
        assert {r.decision for r in s.reasons} == {"reject"}
        cites = {r.id: (r.citation.number, r.citation.clause, r.citation.status) for r in s.reasons}
        assert cites["special-place-distance/2"] == ("国务院令第591号(第645号令修订)", "第十九条第一款第(二)项", "verified")
        assert cites["eliminated-item/E1-P02"] == ("应急厅〔2020〕38号", "第一批 一、淘汰落后的工艺技术 第2项", "partial")
        assert cites["external-distance"] == ("安监总管三〔2017〕121号", "第三项", "verified")
        assert s.reasons[2].citation.basis == "derived"

    def test_every_reason_names_its_document_and_status(self) -> None:
        for name in ("conditions", "reject"):
            for r in riskgrade.screen(RS, PROJECTS / f"{name}.yaml").reasons:
                assert r.citation.title and r.citation.status in ("verified", "unverified", "partial", "superseded")
                assert r.citation.basis in ("clause", "derived", "local")
                text = r.text("zh")
                assert r.citation.title in text and "依据" in text

    def test_same_project_same_bytes(self) -> None:
        a = riskgrade.screen(RS, PROJECTS / "reject.yaml").to_json()
        b = riskgrade.screen(riskgrade.load_screening(RS), PROJECTS / "reject.yaml").to_json()
        assert a == b
        d = json.loads(a)
        assert d["ruleset"]["id"] == RS and d["ruleset"]["fingerprint"].startswith("sha256:")
        assert d["decision"] == "reject" and len(d["reasons"]) == 5 and d["default"] is None


# -- the Python API ---------------------------------------------------------------------------------
class TestScreenApi:
    def test_mapping_project_and_item_lookup_by_alias_or_id(self) -> None:
        srs = riskgrade.load_screening(RS)
        facts = dict(srs.ruleset.cases[0]["facts"], processes=[{"name": "油浴锅"}, {"name": "E1-P02"}],
                     equipment=[{"name": "储存硫化氢的湿式气柜"}])
        s = riskgrade.screen(srs, facts)
        assert [r.item for r in s.reasons] == ["E2-D02", "E1-P02", "E2-D01"]

    def test_explain_in_both_languages(self) -> None:
        s = riskgrade.screen(RS, PROJECTS / "conditions.yaml")
        zh, en = s.explain("zh"), s.explain("en")
        assert zh[0] == "项目 BY-2027-002: 结论: conditions 附条件准入"
        assert en[0] == "project BY-2027-002: decision: conditions pass with conditions"
        assert "准入条件:" in zh and "conditions:" in en
        assert en[-1].startswith(f"ruleset {RS} 1.0.0 (2024) sha256:")

    def test_a_bad_fact_in_a_project_file_is_located(self, tmp_path: pathlib.Path) -> None:
        text = (PROJECTS / "pass.yaml").read_text(encoding="utf-8").replace("distance_m: 2400", "distance_m: -3")
        p = tmp_path / "bad.yaml"
        p.write_text(text, encoding="utf-8")
        line = next(i for i, ln in enumerate(text.splitlines(), 1) if "distance_m: -3" in ln)
        with pytest.raises(riskgrade.FactError) as ei:
            riskgrade.screen(RS, p)
        e = ei.value
        assert (e.code, e.field) == ("out-of-range", "special_places[0].distance_m")
        assert e.record is not None and e.record.startswith(f"{p}:{line}:")

    def test_a_missing_fact_is_an_error_not_a_pass(self) -> None:
        with pytest.raises(riskgrade.FactError) as ei:
            riskgrade.screen(RS, {"project_type": "new"})
        assert ei.value.code == "missing-fact"

    def test_a_grading_ruleset_is_not_a_screening_ruleset(self) -> None:
        with pytest.raises(riskgrade.RulesetError) as ei:
            riskgrade.load_screening("lec-generic")
        assert list(ei.value.codes) == ["not-screening"]
        with pytest.raises(riskgrade.RulesetError) as ei:
            riskgrade.load_screening("no-such-screening")
        assert list(ei.value.codes) == ["unknown-ruleset"]
        assert RS in str(ei.value)


# -- the command ------------------------------------------------------------------------------------
class TestScreenCommand:
    @pytest.mark.parametrize(("name", "code", "decision"), [("pass", 0, "pass"), ("conditions", 1, "conditions"),
                                                            ("reject", 1, "reject")])
    def test_exit_codes_and_json(self, name: str, code: int, decision: str) -> None:
        rc, out, _ = invoke("screen", "--ruleset", RS, str(PROJECTS / f"{name}.yaml"), "--format", "json")
        assert rc == code
        d = json.loads(out)
        assert d["decision"] == decision
        assert d["reasons"] == [r.to_dict() for r in riskgrade.screen(RS, PROJECTS / f"{name}.yaml").reasons]

    def test_text_zh(self) -> None:
        rc, out, _ = invoke("screen", "-r", RS, str(PROJECTS / "reject.yaml"), "--lang", "zh")
        assert rc == 1
        lines = out.splitlines()
        assert lines[0] == "项目 BY-2027-003: 结论: reject 不予准入"
        assert lines[2].startswith("  - outside-park: [不予准入] 新建、扩建危险化学品生产建设项目未进入化工园区; 依据: "
                                   "中华人民共和国危险化学品安全法 第十八条 [条款直接规定] [部分核实]")

    def test_bad_project_file_exit_2_located(self, tmp_path: pathlib.Path) -> None:
        text = (PROJECTS / "pass.yaml").read_text(encoding="utf-8").replace("park_risk_class: C", "park_risk_class: E")
        p = tmp_path / "bad.yaml"
        p.write_text(text, encoding="utf-8")
        line = next(i for i, ln in enumerate(text.splitlines(), 1) if "park_risk_class: E" in ln)
        rc, _, err = invoke("screen", "-r", RS, str(p), "--lang", "en")
        assert rc == 2
        assert err.startswith(f"{p}:{line}:18: not-allowed: park_risk_class: ")
        rc, out, _ = invoke("screen", "-r", RS, str(p), "--format", "json")
        assert rc == 2 and json.loads(out)["error"] == "not-allowed" and json.loads(out)["record"] == f"{p}:{line}:18"

    def test_unreadable_and_non_mapping_project_files(self, tmp_path: pathlib.Path) -> None:
        broken = tmp_path / "broken.yaml"
        broken.write_text("id: [unclosed\n", encoding="utf-8")
        assert invoke("screen", "-r", RS, str(broken))[0] == 2
        seq = tmp_path / "list.yaml"
        seq.write_text("- a\n- b\n", encoding="utf-8")
        rc, _, err = invoke("screen", "-r", RS, str(seq))
        assert rc == 2 and "not-a-mapping" in err

    def test_unknown_or_wrong_ruleset_exit_2(self) -> None:
        assert invoke("screen", "-r", "nope", str(PROJECTS / "pass.yaml"))[0] == 2
        rc, out, _ = invoke("screen", "-r", "lec-generic", str(PROJECTS / "pass.yaml"), "--format", "json")
        assert rc == 2 and json.loads(out)["error"] == "not-screening"


# -- screening rulesets: the author's tools and located errors ------------------------------------------
TINY = """\
riskgrade: 1
kind: screening
id: tiny-screen
title: {zh: 测试准入, en: test screening}
sector: general
jurisdiction: "620000"
version: "0.1"
edition: test
effective: 2020-01-01
sources:
  s: {title: {zh: 测试来源, en: test source}}
  list: {title: {zh: 淘汰目录, en: list}, status: partial}
inputs:
  x: {type: number, min: 0, max: 100}
  tools: {type: list, fields: {name: {type: string}}}
tables:
  bad:
    key: id
    columns: {id: string, name: string, source: string, clause: string}
    rows:
      - {id: T1, name: 旧设备, source: list, clause: "第1项"}
derive:
  hits: "[t.name for t in tools if has('bad', t.name)]"
rules:
  - id: high
    decision: reject
    when: x > 90
    label: {zh: 太高, en: too high}
    cite: {source: s, clause: "1"}
  - id: mid
    decision: conditions
    when: x > 50
    condition: {zh: 降低, en: lower it}
    cite: {source: s, clause: "2"}
  - id: listed
    decision: reject
    when: len(hits) > 0
    items: {table: bad, keys: hits}
    cite: {source: s, clause: "3"}
otherwise: {decision: pass, cite: {source: s, clause: "4"}}
cases:
  - note: low
    facts: {x: 5, tools: []}
    want: {decision: pass, reasons: []}
  - note: both
    facts: {x: 95, tools: [{name: T1}]}
    want: {decision: reject, reasons: [high, mid, listed/T1]}
"""


@pytest.fixture
def write(tmp_path: pathlib.Path) -> Callable[[str], str]:
    def _write(text: str) -> str:
        p = tmp_path / "s.yaml"
        p.write_text(text, encoding="utf-8")
        return str(p)

    return _write


def _problems(path: str) -> list[tuple[int, str]]:
    with pytest.raises(riskgrade.RulesetError) as ei:
        riskgrade.load_screening(path)
    return [(p.line, p.code) for p in ei.value.problems]


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


class TestScreeningRulesets:
    def test_cases_and_coverage(self, write: Callable[[str], str]) -> None:
        path = write(TINY)
        rc, out, _ = invoke("test", path, "--min-coverage", "100", "-v")
        assert rc == 0, out
        assert "tiny-screen 0.1: 2 cases, coverage 100% (3/3)" in out
        assert invoke("validate", "--strict", path)[0] == 0

    def test_a_wrong_want_fails_with_the_decision(self, write: Callable[[str], str]) -> None:
        path = write(TINY.replace("want: {decision: pass, reasons: []}", "want: {decision: conditions}"))
        rc, out, _ = invoke("test", path)
        assert rc == 1 and "decision: want conditions, got pass" in out

    def test_a_level_in_a_screening_rule_is_located(self, write: Callable[[str], str]) -> None:
        text = TINY.replace("    decision: reject\n    when: x > 90\n", "    decision: reject\n    level: RED\n    when: x > 90\n")
        assert (_line(text, "level: RED"), "unknown-key") in _problems(write(text))

    def test_conditions_need_a_condition(self, write: Callable[[str], str]) -> None:
        text = TINY.replace("    condition: {zh: 降低, en: lower it}\n", "")
        assert (_line(text, "- id: mid"), "missing-key") in _problems(write(text))

    def test_a_reject_has_no_condition(self, write: Callable[[str], str]) -> None:
        text = TINY.replace("    when: x > 90\n", "    when: x > 90\n    condition: {zh: 无, en: none}\n")
        assert (_line(text, "condition: {zh: 无"), "conflicting-keys") in _problems(write(text))

    def test_a_bad_decision_is_located(self, write: Callable[[str], str]) -> None:
        text = TINY.replace("decision: conditions", "decision: maybe")
        assert (_line(text, "decision: maybe"), "bad-value") in _problems(write(text))

    def test_items_need_a_citing_table(self, write: Callable[[str], str]) -> None:
        text = TINY.replace("columns: {id: string, name: string, source: string, clause: string}",
                            "columns: {id: string, name: string, source: string}").replace(', clause: "第1项"', "")
        assert (_line(text, "items: {table: bad"), "unknown-column") in _problems(write(text))
        text = TINY.replace("source: list, clause", "source: nolist, clause")
        assert (_line(text, "source: nolist"), "unknown-source") in _problems(write(text))
        text = TINY.replace("items: {table: bad, keys: hits}", "items: {table: bad, keys: hitz}")
        assert (_line(text, "keys: hitz"), "unknown-name") in _problems(write(text))

    def test_a_case_naming_an_unknown_reason(self, write: Callable[[str], str]) -> None:
        text = TINY.replace("reasons: [high, mid, listed/T1]", "reasons: [high, mid, lsted/T1]")
        assert (_line(text, "lsted/T1"), "unknown-rule") in _problems(write(text))

    def test_the_default_must_be_a_cited_pass(self, write: Callable[[str], str]) -> None:
        text = TINY.replace('otherwise: {decision: pass, cite: {source: s, clause: "4"}}\n', "")
        assert (1, "missing-key") in _problems(write(text))

    def test_the_shipped_screening_rulesets_are_green(self) -> None:
        folder = str(ROOT / "rulesets" / "screening")
        assert invoke("validate", "--strict", folder)[0] == 0
        rc, out, _ = invoke("test", folder, "--min-coverage", "100")
        assert rc == 0, out


# -- docs/screening.md: the worked example is what the command prints -------------------------------------
def test_the_worked_example_in_the_docs_is_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    page = (ROOT / "docs" / "screening.md").read_text(encoding="utf-8")
    shown = re.findall(r"```text\n\$ riskgrade (.*?)\n(.*?)```", page, flags=re.S)
    assert len(shown) == 2
    monkeypatch.chdir(ROOT)
    for command, text in shown:
        rc, out, _ = invoke(*command.split())
        assert rc == 1
        assert re.sub(r"sha256:[0-9a-f]+", "sha256:…", out) == text


def test_the_mine_ruleset_applies_each_item_to_its_mining_method() -> None:
    mine = riskgrade.load_screening("nonmetal-mine-project-screening")
    base = {"project_type": "new", "other_listed_item": False}
    pit = mine.screen({**base, "mine_type": "open_pit", "equipment": [{"name": "扩壶爆破"}, {"name": "NM2-08"}]})
    assert [(r.id, r.citation.number, r.citation.status) for r in pit.reasons] == [
        ("banned-item/NM2-01", "安监总管一〔2015〕13号", "verified")]
    under = mine.screen({**base, "mine_type": "underground", "equipment": [{"name": "扩壶爆破"}]})
    assert (under.decision, under.citation is not None and under.citation.clause) == ("pass", "前言")
    hoist = mine.screen({**base, "mine_type": "underground", "equipment": [{"name": "TKD型提升机电控装置"}]})
    assert [(r.item, r.citation.status) for r in hoist.reasons] == [("NM2-09", "partial")]  # the row says so
