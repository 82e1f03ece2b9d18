"""Region roll-up: chains of GB/T 2260 codes, counts by level and sector, incremental updates."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

import riskgrade
from riskgrade import Level, jurisdiction_chain
from riskgrade._cli.render import _assess_records
from riskgrade._enterprise.region import (
    REGION_NAMES,
    EnterpriseSummary,
    RegionGraph,
    RegionResult,
    duplicate_record,
    region_chain,
    region_kind,
)
from riskgrade.exceptions import GraphError

CHEM = Path(__file__).resolve().parents[1] / "examples" / "enterprises" / "chem-plant.yaml"


def s(ident: str, code: str, level: Level, sectors: tuple[str, ...] = ("hazchem",), zone: str | None = None,
      inherent: Level | None = None) -> EnterpriseSummary:
    return EnterpriseSummary(ident, ident, code, zone, sectors, level, inherent or level)


class TestChain:
    def test_county(self) -> None:
        assert region_chain("620421") == ["620421", "620400", "620000"]

    def test_zone(self) -> None:
        assert region_chain("620400", "高新区") == ["620400/高新区", "620400", "620000"]

    def test_city_without_zone(self) -> None:
        assert region_chain("620400") == ["620400", "620000"]

    def test_kinds(self) -> None:
        assert [region_kind(c) for c in ("620000", "620400", "620402",
                                                                                    "620400/x")] == ["province", "city", "county", "zone"]


class TestCounts:
    def region(self) -> RegionGraph:
        return RegionGraph.of([s("E-1", "620402", Level.RED, inherent=Level.ORANGE),
                               s("E-2", "620402", Level.BLUE, ("coal",)),
                               s("E-3", "620421", Level.ORANGE, ("coal", "power")),
                               s("E-4", "620400", Level.YELLOW, zone="白银高新技术产业开发区")])

    def test_by_level(self) -> None:
        r = self.region()
        assert (
            r.counts("620402"), r.counts("620000")) == ({"RED": 1, "ORANGE": 0, "YELLOW": 0, "BLUE": 1}, {"RED": 1, "ORANGE": 1, "YELLOW": 1, "BLUE": 1})

    def test_by_sector_and_inherent(self) -> None:
        d = self.region().to_dict()["regions"]["620400"]
        assert d["by_sector"] == {"coal": {"RED": 0, "ORANGE": 1, "YELLOW": 0, "BLUE": 1},
                "hazchem": {"RED": 1, "ORANGE": 0, "YELLOW": 1, "BLUE": 0},
                "power": {"RED": 0, "ORANGE": 1, "YELLOW": 0, "BLUE": 0}}
        assert d["inherent_by_level"] == {"RED": 0, "ORANGE": 2, "YELLOW": 1, "BLUE": 1}
        assert (d["name"], d["kind"], d["parent"], d["total"], d["highest"]) == ("白银市", "city", "620000", 4, "RED")

    def test_zone_region(self) -> None:
        d = self.region().to_dict()["regions"]["620400/白银高新技术产业开发区"]
        assert (d["name"], d["kind"], d["parent"], d["total"]) == ("白银高新技术产业开发区", "zone", "620400", 1)

    def test_put_updates_only_its_chain(self) -> None:
        r = self.region()
        before = r.evaluations
        assert r.put(s("E-3", "620421", Level.RED, ("coal", "power"))) == ["620000", "620400", "620421"]
        assert r.evaluations - before == 6
        assert r.counts("620000") == {"RED": 2, "ORANGE": 0, "YELLOW": 1, "BLUE": 1}

    def test_put_moves_between_counties(self) -> None:
        r = self.region()
        assert r.put(s("E-2", "620421", Level.BLUE, ("coal",))) == ["620402", "620421"]
        assert (r.counts("620402")["BLUE"], r.counts("620421")["BLUE"]) == (0, 1)

    def test_put_same_result_changes_nothing(self) -> None:
        r = self.region()
        assert r.put(s("E-2", "620402", Level.BLUE, ("coal",))) == []

    def test_incremental_equals_full(self) -> None:
        r = self.region()
        r.put(s("E-5", "620423", Level.RED))
        r.remove("E-1")
        full = RegionGraph.of([s("E-2", "620402", Level.BLUE, ("coal",)),
                               s("E-3", "620421", Level.ORANGE, ("coal", "power")),
                               s("E-4", "620400", Level.YELLOW, zone="白银高新技术产业开发区"),
                               s("E-5", "620423", Level.RED)])
        got, want = r.to_dict(), full.to_dict()
        got["regions"].pop("620402")
        want["regions"].pop("620402")
        assert want == got

    def test_duplicate_enterprise(self) -> None:
        with pytest.raises(GraphError, match="appears twice"):
            RegionGraph.of([s("E-1", "620402", Level.RED), s("E-1", "620403", Level.RED)])

    def test_remove_unknown(self) -> None:
        with pytest.raises(GraphError):
            self.region().remove("E-9")

    def test_json_stable(self) -> None:
        assert self.region().to_json() == self.region().to_json()
        legend = json.loads(self.region().to_json())["legend"]
        assert (legend["RED"]["colour_zh"], legend["RED"]["hex"]) == ("红", "#e63031")

    def test_table_en(self) -> None:
        lines = RegionGraph.of([s("E-1", "620402", Level.RED)]).table("en").splitlines()
        assert lines == ["code    name        total  RED  ORANGE  YELLOW  BLUE",
                "620000  甘肃省          1    1       0       0     0",
                "620400    白银市        1    1       0       0     0",
                "620402      白银区      1    1       0       0     0",
                "", "by sector", "  hazchem: RED 1  ORANGE 0  YELLOW 0  BLUE 0"]


def test_region_names_come_from_the_one_jurisdiction_table() -> None:
    assert REGION_NAMES["620421"] == jurisdiction_chain("620421")[-1].name == "靖远县"
    assert "620401" not in REGION_NAMES  # 市辖区 is a statistical placeholder, not a jurisdiction


class TestDuplicateRecord:
    """The one ``duplicate-enterprise`` record, the same from every path that meets a repeated id."""

    def test_record(self) -> None:
        assert duplicate_record("b.yaml", "E-1", "a.yaml") == {
            "file": "b.yaml", "error": "GraphError", "code": "duplicate-enterprise", "record": "E-1", "field": "id",
            "message": "enterprise 'E-1' is already in a.yaml"}

    @pytest.fixture()
    def twice(self, tmp_path: Path) -> tuple[str, str, str]:
        a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
        shutil.copy(CHEM, a)
        shutil.copy(CHEM, b)
        return str(a), str(b), riskgrade.load_enterprise(str(CHEM)).id

    def test_assess_region(self, twice: tuple[str, str, str]) -> None:
        a, b, eid = twice
        r = riskgrade.assess_region([a, b], as_of=dt.date(2024, 6, 30))
        assert (r.errors, len(r.region)) == ((duplicate_record(b, eid, a),), 1)

    def test_plan(self, twice: tuple[str, str, str]) -> None:
        a, b, eid = twice
        assert riskgrade.plan([a, b], 2027).errors == (duplicate_record(b, eid, a),)

    def test_cli_render(self, twice: tuple[str, str, str]) -> None:
        a, b, eid = twice
        out, records, files = _assess_records((a, b), dt.date(2024, 6, 30))
        assert (len(out), records, files) == (1, [duplicate_record(b, eid, a)], 2)

    def test_merge(self) -> None:
        one = RegionGraph()
        one.add(s("E-1", "620402", Level.RED))
        other = RegionGraph()
        other.add(s("E-1", "620421", Level.BLUE))
        merged = RegionResult(one, (), 1, 1).merge(RegionResult(other, (), 1, 1))
        assert merged.errors == (duplicate_record("", "E-1", "another partition"),)
        assert merged.region.counts("620000")["RED"] == 1
