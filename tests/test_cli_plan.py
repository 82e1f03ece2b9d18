"""``riskgrade plan``, the supervision in ``riskgrade assess``, and check-refinement of supervision layers."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import shutil

from click.testing import CliRunner

import riskgrade
from riskgrade import Level
from riskgrade._cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
REGION = ROOT / "examples" / "region"


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def _ids(directory: pathlib.Path) -> set[str]:
    return {riskgrade.load_enterprise(str(p)).id for p in directory.glob("*.yaml")}


class TestPlan:
    def test_every_enterprise_of_the_region_gets_an_inspection_count_and_an_owner(self) -> None:
        code, out, err = _run("plan", str(REGION), "--year", "2027", "--format", "json")
        assert (code, err) == (0, "")
        d = json.loads(out)
        assert {e["id"] for e in d["enterprises"]} == _ids(REGION) and len(d["enterprises"]) == 10
        assert d["errors"] == [] and d["outside"] == []
        for e in d["enterprises"]:
            sup = riskgrade.load_supervision(e["jurisdiction"])
            assert e["inspections"] == sup.inspections(e["sector"], Level[e["level"]]) >= 1, e["id"]
            assert len(e["months"]) == e["inspections"] and e["months"] == sorted(e["months"])
            assert e["departments"][0]["role"] == "government" and len(e["departments"]) >= 2, e["id"]
            assert e["items"], e["id"]
        # the totals are each department's workload: the enterprises it answers for, the inspections it makes
        want: dict[str, dict[str, object]] = {}
        for e in d["enterprises"]:
            for dd in e["departments"]:
                t = want.setdefault(dd["zh"], {"en": dd["en"], "enterprises": 0, "inspections": 0})
                t["enterprises"] += 1  # type: ignore[operator]
                t["inspections"] += 0 if dd["role"] == "government" else e["inspections"]  # type: ignore[operator]
        assert d["totals"] == want
        assert d["totals"]["靖远县应急管理局"] == {"en": "Jingyuan County emergency management bureau",
                                                 "enterprises": 3, "inspections": 18}
        assert [(e["id"], e["level"], e["inspections"], len(e["departments"])) for e in d["enterprises"]] == [
            ("E-620400-METAL-01", "RED", 12, 3), ("E-620402-TEXTILE-01", "YELLOW", 2, 3),
            ("E-620421-COAL-01", "ORANGE", 6, 2), ("E-620421-FIRE-02", "ORANGE", 10, 2),
            ("E-620421-WATER-01", "YELLOW", 2, 3), ("E-620422-BUILD-01", "BLUE", 1, 3),
            ("E-620422-POWER-01", "YELLOW", 2, 3), ("E-620422-ROAD-01", "YELLOW", 2, 3),
            ("E-620423-HOTEL-01", "ORANGE", 4, 3), ("E-620423-POWER-01", "BLUE", 1, 3)]
        fire = next(e for e in d["enterprises"] if e["id"] == "E-620421-FIRE-02")
        assert (fire["level"], fire["inspections"]) == ("ORANGE", 10)  # the Jingyuan layer's 10, not Gansu's 8

    def test_the_same_input_gives_the_same_bytes(self) -> None:
        assert _run("plan", str(REGION), "--year", "2027", "--format", "json")[1] == \
            _run("plan", str(REGION), "--year", "2027", "--format", "json")[1]

    def test_csv_and_text(self) -> None:
        code, out, _ = _run("plan", str(REGION), "--year", "2027", "--format", "csv", "--lang", "en")
        rows = list(csv.reader(io.StringIO(out)))
        assert code == 0 and rows[0] == ["id", "name", "sector", "level", "inspections", "months", "departments",
                                         "items"]
        assert len(rows) == 11
        code, out, _ = _run("plan", str(REGION), "--year", "2027", "--lang", "zh")
        assert code == 0 and out.startswith("2027 年度差异化执法计划") and "靖远县应急管理局" in out

    def test_a_jurisdiction_plans_its_own_and_lists_the_others(self) -> None:
        d = json.loads(_run("plan", str(REGION), "--year", "2027", "--format", "json", "-j", "620421")[1])
        assert [e["id"] for e in d["enterprises"]] == sorted(i for i in _ids(REGION) if i.startswith("E-620421"))
        assert len(d["outside"]) == 7

    def test_a_broken_register_is_an_error_record_and_the_others_are_planned(self, tmp_path: pathlib.Path) -> None:
        for p in REGION.glob("jingyuan*.yaml"):
            shutil.copy(p, tmp_path / p.name)
        (tmp_path / "broken.yaml").write_text("id: X\nname: 坏\n", encoding="utf-8")
        code, out, _ = _run("plan", str(tmp_path), "--year", "2027", "--format", "json")
        d = json.loads(out)
        assert code == 2 and len(d["enterprises"]) == 3
        assert [(e["file"].endswith("broken.yaml"), e["code"]) for e in d["errors"]] == [(True, "missing-field")]

    def test_an_unassigned_major_risk_is_a_finding(self, tmp_path: pathlib.Path) -> None:
        (tmp_path / "lanzhou.yaml").write_text(
            "id: E-LZ-1\nname: 兰州示例\nsectors: [hazchem]\njurisdiction: '620102'\nruleset: lec-generic\n"
            "units: [{id: U-1, name: 罐区}]\nrisk_points: [{id: P-1, unit: U-1, name: 储罐, facts: {L: 10, E: 6, C: 15}}]\n",
            encoding="utf-8")
        code, out, _ = _run("plan", str(tmp_path), "--year", "2027", "--format", "json")
        d = json.loads(out)
        assert code == 1
        assert [(e["code"], e["record"]) for e in d["errors"]] == [("grid-unassigned", "E-LZ-1"),
                                                                   ("grid-unassigned", "P-1")]

    def test_usage(self) -> None:
        assert _run("plan", str(REGION))[0] == 2
        assert _run("plan", str(REGION), "--year", "2027", "-j", "999999")[0] == 2


class TestAssessShowsSupervision:
    def test_json(self) -> None:
        code, out, _ = _run("assess", str(ROOT / "examples/enterprises/chem-plant.yaml"), "--as-of", "2024-06-30",
                            "--format", "json")
        d = json.loads(out)
        assert code == 0 and sorted(d["supervision"]) == ["control_tiers", "grid", "inspection", "insurance"]
        assert d["supervision"]["inspection"]["per_year"] == 12 and d["level"] == "RED"
        assert d["supervision"]["insurance"]["factor"] == 1.0

    def test_text_in_both_languages(self) -> None:
        path = str(ROOT / "examples/enterprises/chem-plant.yaml")
        zh = _run("assess", path, "--as-of", "2024-06-30", "--lang", "zh")[1]
        en = _run("assess", path, "--as-of", "2024-06-30", "--lang", "en")[1]
        assert "检查频次: 每年 12 次" in zh and "网格责任: 白银区人民政府" in zh and "保险费率浮动系数: 1 (未核实)" in zh
        assert "inspections: 12 a year" in en and "insurance rate factor: 1 (unverified)" in en


class TestCheckRefinementOfSupervision:
    def test_the_shipped_chain_is_stricter(self) -> None:
        code, out, _ = _run("check-refinement", "--ruleset", "supervision", "-j", "620421", "--lang", "en")
        assert code == 0 and "static: ok" in out

    def test_a_county_that_inspects_less_often_is_rejected(self, tmp_path: pathlib.Path) -> None:
        path = tmp_path / "loose.yaml"
        path.write_text(
            "riskgrade: 1\nkind: supervision-layer\nid: loose-county\ntitle: {zh: 放宽, en: looser}\n"
            "jurisdiction: '620421'\nrefines: gansu-supervision\nversion: '0.1'\n"
            "sources: {doc: {title: {zh: 文件, en: doc}, status: unverified}}\n"
            "inspection:\n  hazchem:\n    RED: 10\n    cite: {source: doc, basis: local}\n", encoding="utf-8")
        code, out, _ = _run("check-refinement", "--ruleset", str(path), "-j", "620421", "--format", "json")
        d = json.loads(out)
        assert code == 1 and d["ok"] is False
        assert d["static"]["problems"] == [f"{path}:11:10: refine-looser: hazchem RED: 10 inspections a year is "
                                           "fewer than the 12 declared above"]


def test_assess_outside_gansu_says_there_is_no_supervision(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "beijing.yaml"
    path.write_text("id: E-BJ-1\nname: 北京示例\nsectors: [power]\njurisdiction: '110105'\nruleset: lec-generic\n"
                    "units: [{id: U-1, name: 站}]\nrisk_points: [{id: P-1, unit: U-1, name: 点, facts: {L: 1, E: 3, C: 7}}]\n",
                    encoding="utf-8")
    code, out, _ = _run("assess", str(path), "--as-of", "2024-06-30", "--format", "json")
    assert code == 0
    assert [e["code"] for e in json.loads(out)["supervision"]["errors"]] == ["no-supervision"]
    code, out, _ = _run("assess", str(path), "--as-of", "2024-06-30", "--lang", "en")
    assert code == 0 and "supervision: 110105: no-supervision: no supervision default is declared for 110000" in out
