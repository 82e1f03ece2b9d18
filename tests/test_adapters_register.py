"""The register fields regulators expect on the risk register and the risk cards (issue 15 §2):
possible accidents (GB 6441), control measures by kind, emergency measures, the responsible person per
tier and the enterprise's emergency phones -- validated with located errors, exported to xlsx/csv (read
back) and printed on the cards (PDF text extracted)."""

from __future__ import annotations

import csv
import datetime as dt
import pathlib
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade._render.card import card_fields
from riskgrade.exceptions import FactError

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHEM = ROOT / "examples" / "enterprises" / "chem-plant.yaml"
POWER = ROOT / "examples" / "enterprises" / "power-plant.yaml"
AS_OF = dt.date(2024, 6, 30)


def _chem() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CHEM.read_text(encoding="utf-8"))
    return data


class TestFields:
    def test_chem_plant_fields(self) -> None:
        ent = riskgrade.load_enterprise(CHEM)
        tank = ent.record("P-NH3-TANK")
        assert isinstance(tank, riskgrade.RiskPoint)
        assert tank.possible_accidents == ("中毒和窒息", "容器爆炸", "灼烫")
        assert [c.category for c in tank.controls] == ["engineering"] * 3 + ["management"] * 2 + [
            "training", "ppe", "emergency", "emergency"]
        assert tank.controls[0] == riskgrade.Control("engineering", "储罐设高、低液位报警和紧急切断阀")
        assert tank.emergency_measures[0] == "发现泄漏立即报告值班室，关闭紧急切断阀"
        assert tank.responsible[1] == riskgrade.Responsible("department", "李明", "储运车间主任", "13909430012", "储运车间")
        assert [c.phone for c in ent.emergency_contacts] == ["0943-8222119", "0943-8222301", "119", "120"]

    def test_spellings_are_normalised(self) -> None:
        data = _chem()
        data["risk_points"][1] = {"id": "P-NH3-LOAD", "unit": "U-TANK", "name": "装卸", "facts": {"L": 1, "E": 1, "C": 1},
                                  "possible_accidents": ["19", "其它伤害"],
                                  "controls": {"个体防护措施": ["防毒面具"], "工程技术": ["拉断阀"]},
                                  "responsible": {"班组级": {"name": "赵强"}, "公司级": {"name": "王建国"}}}
        rp = riskgrade.load_enterprise(data).record("P-NH3-LOAD")
        assert isinstance(rp, riskgrade.RiskPoint)
        assert rp.possible_accidents == ("中毒和窒息", "其他伤害")
        assert [c.category for c in rp.controls] == ["engineering", "ppe"]  # ordered by kind
        assert [r.tier for r in rp.responsible] == ["company", "team"]  # ordered by tier

    @pytest.mark.parametrize(("change", "code", "field"), [
        ({"possible_accidents": ["火灾爆炸"]}, "bad-accident-type", "possible_accidents[0]"),
        ({"possible_accidents": ["火灾", "火灾"]}, "bad-value", "possible_accidents[1]"),
        ({"possible_accidents": "火灾"}, None, None),  # one text is a list of one
        ({"controls": {"technical": ["x"]}}, "bad-control-category", "controls.technical"),
        ({"controls": {"ppe": ["面具", ""]}}, "bad-type", "controls.ppe[1]"),
        ({"controls": ["x"]}, "bad-type", "controls"),
        ({"emergency_measures": [{"step": 1}]}, "bad-type", "emergency_measures[0]"),
        ({"responsible": {"boss": {"name": "x"}}}, "bad-value", "responsible.boss"),
        ({"responsible": {"company": {"position": "总经理"}}}, "missing-field", "responsible.company.name"),
        ({"responsible": {"company": {"name": "x", "phone": "call me"}}}, "bad-phone", "responsible.company.phone"),
        ({"responsible": {"company": {"name": "x", "phone": "12"}}}, "bad-phone", "responsible.company.phone"),
        ({"responsible": {"company": {"name": "x", "mobile": "139"}}}, "unknown-field", "responsible.company.mobile"),
        ({"responsible": {"company": "王建国"}}, "bad-type", "responsible.company"),
    ])
    def test_bad_fields_are_located(self, change: dict[str, Any], code: str | None, field: str | None) -> None:
        data = _chem()
        data["risk_points"][0].update(change)
        if code is None:
            assert riskgrade.load_enterprise(data).record("P-NH3-TANK").possible_accidents == ("火灾",)  # type: ignore[union-attr]
            return
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(data)
        assert (exc.value.code, exc.value.record, exc.value.field) == (code, "P-NH3-TANK", field)

    def test_contacts_are_checked(self) -> None:
        for contacts, code, field in (([{"name": "值班室"}], "missing-field", "emergency_contacts[0].phone"),
                                      ([{"name": "值班室", "phone": "0943-82x"}], "bad-phone",
                                       "emergency_contacts[0].phone"),
                                      ({"name": "值班室"}, "bad-type", "emergency_contacts")):
            with pytest.raises(FactError) as exc:
                riskgrade.load_enterprise({**_chem(), "emergency_contacts": contacts})
            assert (exc.value.code, exc.value.field) == (code, field)

    def test_error_in_a_file_names_the_line(self, tmp_path: pathlib.Path) -> None:
        text = CHEM.read_text(encoding="utf-8").replace('phone: "13909430023"', 'phone: "1390943x023"')
        p = tmp_path / "chem.yaml"
        p.write_text(text, encoding="utf-8")
        line = next(i for i, s in enumerate(text.splitlines(), 1) if "1390943x023" in s)
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert exc.value.field == "responsible.team.phone"
        assert f"{p}:{line}:" in str(exc.value)

    def test_graph_update_keeps_the_fields(self) -> None:
        ent = riskgrade.load_enterprise(CHEM)
        g = riskgrade.RiskGraph.build(None, ent, as_of=AS_OF)
        g.update("P-NH3-TANK", {"facts": {"L": 1}})
        tank = g.current_enterprise().record("P-NH3-TANK")
        assert tank == ent.record("P-NH3-TANK")  # controls, responsible ... survive the re-parse
        assert isinstance(tank, riskgrade.RiskPoint) and tank.facts["L"] == 1

    def test_register_data_round_trips_every_example(self) -> None:
        files = sorted((ROOT / "examples" / "enterprises").glob("*.yaml")) + sorted((ROOT / "examples" / "region").glob("*.yaml"))
        assert len(files) >= 20
        for f in files:
            ent = riskgrade.load_enterprise(f)
            data = riskgrade.register_data(ent)
            again = riskgrade.load_enterprise(data)
            assert again == ent, f
            assert riskgrade.register_data(again) == data, f


class TestExports:
    def test_xlsx_columns_read_back(self, tmp_path: pathlib.Path) -> None:
        openpyxl = pytest.importorskip("openpyxl")
        out = tmp_path / "reg.xlsx"
        r = CliRunner().invoke(main, ["register", str(CHEM), str(POWER), "--as-of", "2024-06-30", "--out", str(out)])
        assert r.exit_code == 0, r.output
        rows = list(openpyxl.load_workbook(out)["风险分级管控清单"].iter_rows(values_only=True))
        head = rows[0]
        for col in ("可能导致的事故类型", "管控措施", "应急处置措施", "责任人"):
            assert col in head
        body = {row[2]: dict(zip(head, row, strict=True)) for row in rows[1:]}
        tank = body["P-NH3-TANK"]
        assert tank["可能导致的事故类型"] == "中毒和窒息、容器爆炸、灼烫"
        assert tank["管控措施"].startswith("工程技术措施: 储罐设高、低液位报警和紧急切断阀、液位与进料阀联锁")
        assert "个体防护措施: 配备正压式空气呼吸器和重型防化服" in tank["管控措施"]
        assert tank["应急处置措施"] == "发现泄漏立即报告值班室，关闭紧急切断阀；启动水喷淋稀释，人员向上风向撤离并设置警戒区"
        # the point is controlled at company level: that person leads
        assert tank["责任人"].startswith("公司级: 王建国(总经理, 13909430001); 部门(车间)级: 李明(储运车间, 储运车间主任")
        boiler = body["P-BOILER-1"]
        assert boiler["可能导致的事故类型"] == "锅炉爆炸、灼烫、火灾" and "锅炉车间主任" in boiler["责任人"]
        # a point without the fields: hazard categories stand for the accidents, the rest stays empty
        booster = body["P-BOOSTER"]
        assert booster["可能导致的事故类型"] == "其他伤害、触电"
        assert booster["管控措施"] is None and booster["责任人"] is None

    def test_csv_english(self, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "reg.csv"
        riskgrade.write_register([riskgrade.assess(None, str(CHEM), as_of=AS_OF)], out, lang="en")
        rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
        load = next(r for r in rows if r["risk point id"] == "P-NH3-LOAD")
        assert load["controls"] == "engineering: 装卸鹤管设拉断阀; management: 执行装卸作业票制度, 装卸全程专人监护"
        assert load["responsible person"] == "department: 李明(储运车间, 储运车间主任, 13909430012)"


class TestCards:
    def test_pdf_text_has_the_new_rows(self, tmp_path: pathlib.Path) -> None:
        pypdf = pytest.importorskip("pypdf")
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        pdf, page = riskgrade.write_cards(a, tmp_path, point="P-NH3-TANK")
        text = pypdf.PdfReader(pdf).pages[0].extract_text().replace("\n", "")
        for expected in ("可能导致的事故", "中毒和窒息、容器爆炸、灼烫", "管控措施", "工程技术措施: 储罐设高",
                         "个体防护措施: 配备正压式空气呼吸器", "应急处置措施", "启动水喷淋稀释", "责任人",
                         "公司级: 王建国(总经理, 13909430001)", "应急电话", "企业应急值班室 0943-8222119", "火警 119"):
            assert expected in text, expected
        html = pathlib.Path(page).read_text(encoding="utf-8")
        assert "罐区操作工" in html and "0943-8222119" in html

    def test_missing_fields_say_so(self, tmp_path: pathlib.Path) -> None:
        pypdf = pytest.importorskip("pypdf")
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        rows = dict(card_fields(a, "P-BOILER", "en"))
        assert rows["Controls"] == rows["Responsible"] == "not given in the register"
        pdf = riskgrade.write_cards(a, tmp_path, point="P-BOILER", formats=("pdf",))[0]
        assert "未填写(台账无此项)" in pypdf.PdfReader(pdf).pages[0].extract_text()

    def test_a_long_card_fits_one_page(self, tmp_path: pathlib.Path) -> None:
        pypdf = pytest.importorskip("pypdf")
        data = _chem()
        data["risk_points"][0]["controls"] = {"engineering": [f"第{i}项工程技术措施, 内容较长以占满一行文字" for i in range(40)]}
        ent = riskgrade.load_enterprise(data)
        a = riskgrade.assess(None, ent, as_of=AS_OF)
        pdf = riskgrade.write_cards(a, tmp_path, point="P-NH3-TANK", formats=("pdf",))[0]
        reader = pypdf.PdfReader(pdf)
        text = reader.pages[0].extract_text()
        assert len(reader.pages) == 1 and "第39项" in text and "评估基准日" in text
