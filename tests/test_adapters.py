"""The ministry adapter (docs/adapters.md): every example register round-trips export → import, a
document from elsewhere round-trips import → export, and every bad field is a located FactError."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade._enterprise.adapters import FIELDS, TABLES
from riskgrade.exceptions import FactError

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples" / "enterprises").glob("*.yaml")) + sorted((ROOT / "examples" / "region").glob("*.yaml"))
DOC = ROOT / "examples" / "ministry" / "ammonia-tanks.json"
WHO = {"name": "白银示例化工有限公司", "jurisdiction": "620402", "sectors": ("hazchem",)}


def _doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DOC.read_text(encoding="utf-8"))
    return data


def _by_id(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(recs, key=lambda r: str(r["id"]))


class TestRoundTrip:
    @pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
    def test_every_example_register(self, path: pathlib.Path) -> None:
        ent = riskgrade.load_enterprise(path)
        sent = riskgrade.export_ministry(ent)
        text = sent.to_json()
        back = riskgrade.import_ministry(json.loads(text))
        assert riskgrade.register_data(back) == riskgrade.register_data(ent)
        assert back == ent
        assert "x-ministry" not in back.extensions  # nothing left over: every value went somewhere
        assert riskgrade.export_ministry(back).to_json() == text  # byte-identical
        n = len(ent.risk_points)
        assert len(sent.data["sec_security_risk_unit"]) == n and len(sent.data["sec_hidden_danger_info"]) == len(
            ent.hidden_dangers)

    def test_site_plan_travels(self) -> None:
        ent = riskgrade.load_enterprise(ROOT / "examples" / "enterprises" / "chem-plant.yaml")
        data = riskgrade.register_data(ent)
        assert data["site"] == {"boundary": [{"x": 0, "y": 0}, {"x": 400, "y": 0}, {"x": 400, "y": 260},
                                             {"x": 0, "y": 260}]}
        assert data["units"][0]["area"][0] == {"x": 20, "y": 150}
        back = riskgrade.import_ministry(json.loads(riskgrade.export_ministry(ent).to_json()))
        assert back.site_boundary == ent.site_boundary
        assert [u.area for u in back.units] == [u.area for u in ent.units]

    def test_through_files_and_the_cli(self, tmp_path: pathlib.Path) -> None:
        chem = ROOT / "examples" / "enterprises" / "chem-plant.yaml"
        r = CliRunner().invoke(main, ["adapt", "export", "--to", "ministry", str(chem), "-o", str(tmp_path / "c.json")])
        assert r.exit_code == 0, r.output
        assert "required fields have no value" in r.output or "必填字段在台账中无值" in r.output
        r = CliRunner().invoke(main, ["adapt", "import", "--from", "ministry", str(tmp_path / "c.json"),
                                      "-o", str(tmp_path / "c.yaml"), "--lang", "en"])
        assert r.exit_code == 0, r.output
        assert "7 risk points, 4 hazards, 3 hidden dangers" in r.output
        back = riskgrade.load_enterprise(tmp_path / "c.yaml")
        assert riskgrade.register_data(back) == riskgrade.register_data(riskgrade.load_enterprise(chem))
        # the written register grades as the original does
        a = riskgrade.assess(None, back, as_of=riskgrade.load_enterprise(chem).hidden_dangers[0].found)
        b = riskgrade.assess(None, str(chem), as_of=riskgrade.load_enterprise(chem).hidden_dangers[0].found)
        assert a.to_json() == b.to_json()

    def test_strict_exits_1_on_gaps(self, tmp_path: pathlib.Path) -> None:
        chem = ROOT / "examples" / "enterprises" / "chem-plant.yaml"
        r = CliRunner().invoke(main, ["adapt", "export", "--to", "ministry", str(chem), "-o", str(tmp_path / "c.json"),
                                      "--strict", "--lang", "en"])
        assert r.exit_code == 1
        assert "sec_hidden_danger_info.registrant: 3" in r.output
        assert (tmp_path / "c.json").exists()

    def test_a_document_from_elsewhere(self, tmp_path: pathlib.Path) -> None:
        doc = _doc()
        ent = riskgrade.import_ministry(DOC, **WHO)  # type: ignore[arg-type]
        out = riskgrade.export_ministry(ent)
        for table, _zh in TABLES:
            assert _by_id(out.data[table]) == _by_id(doc[table]), table
        # and through a YAML register file written by the CLI
        r = CliRunner().invoke(main, ["adapt", "import", "--from", "ministry", str(DOC), "-o", str(tmp_path / "a.yaml"),
                                      "--name", WHO["name"], "--jurisdiction", "620402", "--sector", "hazchem"])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(main, ["adapt", "export", "--to", "ministry", str(tmp_path / "a.yaml"),
                                      "-o", str(tmp_path / "a.json")])
        assert r.exit_code == 0, r.output
        again = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
        for table, _zh in TABLES:
            assert _by_id(again[table]) == _by_id(doc[table]), table

    def test_an_edit_in_the_register_wins_over_a_kept_value(self) -> None:
        ent = riskgrade.import_ministry(DOC, **WHO)  # type: ignore[arg-type]
        data = riskgrade.register_data(ent)
        data["hidden_dangers"][0]["found"] = "2024-06-11"
        data["risk_points"][0]["name"] = "1号液氨储罐"
        data["risk_points"][0]["controls"] = {"ppe": data["risk_points"][0]["controls"]["engineering"],
                                              "management": data["risk_points"][0]["controls"]["management"],
                                              "engineering": data["risk_points"][0]["controls"]["ppe"]}
        out = riskgrade.export_ministry(data).data
        hd = next(r for r in out["sec_hidden_danger_info"] if r["id"] == "HD-001")
        assert hd["registTime"] == "2024-06-11 00:00:00" and hd["registrant"] == "赵强"
        unit = next(r for r in out["sec_security_risk_unit"] if r["id"] == "RU-001")
        assert unit["riskUnitName"] == "1号液氨储罐" and unit["createBy"] == "张磊"
        measures = {r["riskMeasureDesc"]: r for r in out["sec_security_risk_control_measures"]}
        assert (measures["罐区氨气泄漏检测报警"]["classify1"], measures["罐区氨气泄漏检测报警"]["classify2"]) == ("4", "4-2")
        assert measures["储罐安全阀定期校验"]["classify2"] == "2-2"  # unchanged category: its own class stays

    def test_a_point_without_hazards_carries_its_measures_on_an_event(self) -> None:
        ent = riskgrade.load_enterprise({
            "id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
            "units": [{"id": "U-1", "name": "罐区"}],
            "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 1, "E": 1, "C": 1},
                             "controls": {"emergency": ["应急池"], "training": ["培训"]}}]})
        out = riskgrade.export_ministry(ent)
        assert [e["id"] for e in out.data["sec_security_risk_events"]] == ["P-1-E"]
        assert [(m["id"], m["classify1"], m["classify2"]) for m in out.data["sec_security_risk_control_measures"]] == [
            ("P-1-C1", "3", "3-1"), ("P-1-C2", "4", "4-5")]
        back = riskgrade.import_ministry(out.data)
        assert back.hazards == () and back == ent


class TestErrors:
    @pytest.mark.parametrize(("table", "index", "change", "code", "record", "field"), [
        ("sec_security_risk_unit", 0, {"riskUnitNam": "x"}, "unknown-field", "RU-001", "riskUnitNam"),
        ("sec_security_risk_unit", 0, {"riskUnitName": None}, "missing-field", "RU-001", "riskUnitName"),
        ("sec_security_risk_unit", 0, {"deleted": "2"}, "bad-value", "RU-001", "deleted"),
        ("sec_security_risk_unit", 1, {"companyCode": "620402999"}, "ministry-conflict", "RU-002", "companyCode"),
        ("sec_security_risk_unit", 1, {"id": "RU-001"}, "ministry-conflict", "RU-001", "id"),
        ("sec_security_risk_events", 0, {"riskUnitId": "RU-404"}, "unknown-reference", "RE-001", "riskUnitId"),
        ("sec_security_risk_control_measures", 0, {"classify1": "5"}, "bad-value", "CM-001", "classify1"),
        ("sec_security_risk_control_measures", 0, {"classify2": "9-9"}, "bad-value", "CM-001", "classify2"),
        ("sec_security_risk_control_measures", 1, {"riskEventId": "RE-404"}, "unknown-reference", "CM-002",
         "riskEventId"),
        ("sec_security_risk_control_measures", 0, {"riskMeasureDesc": ["a"]}, "bad-type", "CM-001", "riskMeasureDesc"),
        ("sec_hidden_danger_info", 0, {"dangerState": "2"}, "bad-value", "HD-001", "dangerState"),
        ("sec_hidden_danger_info", 0, {"dangerLevel": None}, "missing-field", "HD-001", "dangerLevel"),
        ("sec_hidden_danger_info", 0, {"registTime": "2024/06/10"}, "bad-date", "HD-001", "registTime"),
        ("sec_hidden_danger_info", 0, {"dangersSrc": "1"}, "unknown-field", "HD-001", "dangersSrc"),
        ("sec_hidden_check_mission", 0, {"checkCycl": 8}, "unknown-field", "CT-001", "checkCycl"),
    ])
    def test_bad_fields_name_the_record_and_field(self, table: str, index: int, change: dict[str, Any], code: str,
                                                  record: str, field: str) -> None:
        doc = _doc()
        doc[table][index].update(change)
        with pytest.raises(FactError) as exc:
            riskgrade.import_ministry(doc, **WHO)  # type: ignore[arg-type]
        assert (exc.value.code, exc.value.record, exc.value.field) == (code, record, field)
        assert f"{table}[{index}]" in str(exc.value)

    def test_a_missing_required_field(self) -> None:
        doc = _doc()
        del doc["sec_hidden_danger_info"][1]["registrant"]
        with pytest.raises(FactError) as exc:
            riskgrade.import_ministry(doc, **WHO)  # type: ignore[arg-type]
        assert (exc.value.code, exc.value.record, exc.value.field) == ("missing-field", "HD-002", "registrant")

    def test_the_document_itself(self, tmp_path: pathlib.Path) -> None:
        for doc, code, field in (({"sec_risks": []}, "unknown-field", "sec_risks"),
                                 ({"sec_security_risk_unit": {}}, "bad-type", "sec_security_risk_unit"),
                                 ({"x-riskgrade": {"points": {}}}, "unknown-field", "x-riskgrade.points")):
            with pytest.raises(FactError) as exc:
                riskgrade.import_ministry(doc, **WHO)  # type: ignore[arg-type]
            assert (exc.value.code, exc.value.field) == (code, field)
        with pytest.raises(FactError) as exc:
            riskgrade.import_ministry(_doc())
        assert (exc.value.code, exc.value.field) == ("missing-field", "name")
        bad = tmp_path / "bad.json"
        bad.write_text('{"sec_security_risk_unit": [', encoding="utf-8")
        r = CliRunner().invoke(main, ["adapt", "import", "--from", "ministry", str(bad), "-o", str(tmp_path / "x.yaml")])
        assert r.exit_code == 2 and "bad.json" in r.output
        assert not (tmp_path / "x.yaml").exists()

    def test_an_extension_that_repeats_a_table_field(self) -> None:
        chem = riskgrade.load_enterprise(ROOT / "examples" / "enterprises" / "chem-plant.yaml")
        doc = copy.deepcopy(dict(riskgrade.export_ministry(chem).data))
        doc["x-riskgrade"]["risk_points"]["P-NH3-TANK"]["name"] = "另一个名字"
        with pytest.raises(FactError) as exc:
            riskgrade.import_ministry(doc)
        assert (exc.value.code, exc.value.record, exc.value.field) == (
            "ministry-conflict", "P-NH3-TANK", "x-riskgrade.risk_points.name")


class TestDocs:
    def test_every_field_is_documented(self) -> None:
        page = (ROOT / "docs" / "adapters.md").read_text(encoding="utf-8")
        for table, fields in FIELDS.items():
            assert f"`{table}`" in page, table
            for f in fields:
                assert f"`{f}`" in page, (table, f)

    def test_the_example_document_is_written_as_yaml_that_loads(self, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "a.yaml"
        r = CliRunner().invoke(main, ["adapt", "import", "--from", "ministry", str(DOC), "-o", str(out),
                                      "--name", "示例", "--jurisdiction", "620402", "--sector", "hazchem"])
        assert r.exit_code == 0, r.output
        data = yaml.safe_load(out.read_text(encoding="utf-8"))
        assert data["risk_points"][0]["facts"] == {} and "x-ministry" in data
        assert riskgrade.load_enterprise(out).record("HD-002").grade == "major"  # type: ignore[union-attr]
