"""The enterprise register: loading, validation, errors naming record and field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from riskgrade._enterprise.register import HiddenDanger, load_enterprise, parse_record, uscc_check_char
from riskgrade._source.facts import read_facts
from riskgrade.exceptions import FactError
from tests._enterprises import register

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def fact_error(data: Any) -> FactError:
    with pytest.raises(FactError) as info:
        load_enterprise(data)
    return info.value


class TestLoadExamples:
    def test_chem_plant(self) -> None:
        ent = load_enterprise(EXAMPLES / "enterprises" / "chem-plant.yaml")
        assert (
            ent.id, ent.jurisdiction, ent.sectors, ent.standardisation) == ("E-620402-CHEM-01", "620402", ("hazchem",), 1)
        assert len(ent.units) == 4
        assert len(ent.risk_points) == 7
        assert ent.record("U-TANK").major_hazard_grade == 2  # type: ignore[union-attr]
        assert [h.grade for h in ent.hidden_dangers] == ["major", "general", "general"]
        assert (ent.dependencies[0].source, ent.dependencies[0].target) == ("U-TANK", "U-SYN")
        assert ent.record("P-NH3-TANK").facts == {"L": 3, "E": 6, "C": 15}  # type: ignore[union-attr]

    def test_mine(self) -> None:
        ent = load_enterprise(str(EXAMPLES / "enterprises" / "mine.yaml"))
        assert (ent.jurisdiction, ent.standardisation) == ("620403", 2)
        assert [("A-2023-11", dt.date(2023, 11, 14), "general", 1)] == [
            (a.id, a.date, a.severity, a.deaths) for a in ent.accidents]

    def test_json_register(self, tmp_path: Path) -> None:
        path = tmp_path / "e.json"
        path.write_text(json.dumps(register(hidden_dangers=[
            {"id": "HD-1", "target": "P-1", "grade": "major", "found": "2024-01-02"}])), encoding="utf-8")
        ent = load_enterprise(path)
        assert dt.date(2024, 1, 2) == ent.hidden_dangers[0].found

    def test_zone(self) -> None:
        ent = load_enterprise(EXAMPLES / "region" / "hitech.yaml")
        assert (ent.jurisdiction, ent.zone) == ("620400", "白银高新技术产业开发区")


class TestErrors:
    def test_unknown_unit(self) -> None:
        data = register()
        data["risk_points"][1]["unit"] = "U-9"
        err = fact_error(data)
        assert (err.code, err.record, err.field) == ("unknown-reference", "P-2", "unit")

    def test_duplicate_id(self) -> None:
        data = register()
        data["units"].append({"id": "P-1", "name": "重复"})
        err = fact_error(data)
        assert (err.code, err.record, err.field) == ("duplicate-id", "P-1", "id")

    def test_unknown_field(self) -> None:
        data = register()
        data["units"][0]["colour"] = "red"
        err = fact_error(data)
        assert (err.code, err.record, err.field) == ("unknown-field", "U-1", "colour")

    def test_extension_field_allowed(self) -> None:
        data = register()
        data["units"][0]["x-erp-code"] = "A17"
        assert load_enterprise(data).units[0].id == "U-1"

    def test_missing_facts(self) -> None:
        data = register()
        del data["risk_points"][0]["facts"]
        err = fact_error(data)
        assert (err.code, err.record, err.field) == ("missing-field", "P-1", "facts")

    def test_bad_date(self) -> None:
        err = fact_error(register(hidden_dangers=[{"id": "HD-1", "target": "P-1", "grade": "general",
                                                   "found": "2024-13-01"}]))
        assert (err.code, err.record, err.field) == ("bad-date", "HD-1", "found")

    def test_deadline_before_found(self) -> None:
        err = fact_error(register(hidden_dangers=[{"id": "HD-1", "target": "P-1", "grade": "general",
                                                   "found": "2024-03-01", "deadline": "2024-02-01"}]))
        assert (err.code, err.field) == ("bad-value", "deadline")

    def test_hidden_danger_target_checked(self) -> None:
        err = fact_error(register(hidden_dangers=[{"id": "HD-1", "target": "P-404", "grade": "major",
                                                   "found": "2024-03-01"}]))
        assert (err.code, err.record, err.field, err.value) == ("unknown-reference", "HD-1", "target", "P-404")

    def test_bad_grade(self) -> None:
        err = fact_error(register(standardisation="五级"))
        assert (err.code, err.record, err.field) == ("bad-value", "E-1", "standardisation")

    def test_bad_uscc(self) -> None:
        err = fact_error(register(uscc="91620402MA71XQ8K30"))
        assert (err.code, err.field) == ("bad-uscc", "uscc")

    def test_good_uscc(self) -> None:
        assert load_enterprise(register(uscc="91620402MA71XQ8K3Y")).uscc == "91620402MA71XQ8K3Y"

    def test_bad_jurisdiction(self) -> None:
        err = fact_error(register(jurisdiction="6204"))
        assert (err.code, err.field) == ("bad-jurisdiction", "jurisdiction")

    def test_dependency_reference(self) -> None:
        err = fact_error(register(dependencies=[{"from": "U-1", "to": "U-7"}]))
        assert (err.code, err.record, err.field) == ("unknown-reference", "dependencies[0]", "to")

    def test_yaml_file_location(self, tmp_path: Path) -> None:
        path = tmp_path / "e.yaml"
        path.write_text("id: E-1\nname: x\nsectors: [a]\njurisdiction: '620402'\n"
                        "units:\n  - {id: U-1, name: a, major_hazard_grade: 七级}\n", encoding="utf-8")
        err = fact_error(str(path))
        assert (err.code, err.record, err.field) == ("bad-value", "U-1", "major_hazard_grade")
        assert str(err).endswith(f"({path}:6:44)")

    def test_yaml_syntax(self, tmp_path: Path) -> None:
        path = tmp_path / "e.yaml"
        path.write_text("id: [\n", encoding="utf-8")
        err = fact_error(str(path))
        assert ("bad-syntax", str(path)) == (err.code, err.record)  # the code a facts file gives for it

    def test_json_syntax_is_bad_syntax_too(self, tmp_path: Path) -> None:
        path = tmp_path / "e.json"
        path.write_text('{"id": "E-1",\n', encoding="utf-8")
        err = fact_error(str(path))
        assert ("bad-syntax", str(path)) == (err.code, err.record)
        facts = tmp_path / "f.json"
        facts.write_text('{"id": "E-1",\n', encoding="utf-8")
        with pytest.raises(FactError) as info:
            list(read_facts(str(facts)))
        assert info.value.code == err.code  # one code for one fault, in a register and in a facts file

    def test_missing_file(self, tmp_path: Path) -> None:
        err = fact_error(str(tmp_path / "none.yaml"))
        assert err.code == "unreadable"


class TestHiddenDanger:
    HD = HiddenDanger("HD-1", "P-1", "general", dt.date(2024, 1, 10), dt.date(2024, 2, 10), "rectified",
                      dt.date(2024, 3, 1))

    def test_open_window(self) -> None:
        assert [self.HD.is_open(dt.date(2024, m, d))
                                              for m, d in ((1, 9), (1, 10), (2, 29), (3, 1))] == [False, True, True, False]

    def test_overdue_after_deadline_day(self) -> None:
        assert [self.HD.is_overdue(dt.date(2024, 2, 10)), self.HD.is_overdue(dt.date(2024, 2, 11))] == [False, True]

    def test_chinese_spellings(self) -> None:
        hd = parse_record("hidden_danger", {"id": "H", "target": "P", "grade": "重大事故隐患",
                                            "found": dt.date(2024, 1, 1), "status": "已整改",
                                            "closed": dt.date(2024, 1, 5)})
        assert (hd.grade, hd.status) == ("major", "rectified")  # type: ignore[union-attr]


def test_uscc_check_char() -> None:
    assert uscc_check_char("91620402MA71XQ8K3") == "Y"
