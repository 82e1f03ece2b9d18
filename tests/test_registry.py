"""Shipped rulesets: listing by sector, completeness, announced editions, the edition in force by date."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main

SECTORS = {"road-transport", "coal", "hazchem", "nonmetal-mine", "fireworks", "construction", "metallurgy", "water",
           "crowded-places", "power", "industry-trade", "general"}


class TestList:
    def test_json_has_the_documented_fields(self) -> None:
        res = CliRunner().invoke(main, ["list", "--format", "json"])
        assert res.exit_code == 0, res.output
        items = json.loads(res.output)
        assert items and all({"id", "edition", "sector", "title", "completeness", "announced"} <= set(it)
                             for it in items)
        assert {it["sector"] for it in items} <= SECTORS

    def test_sector_filter(self) -> None:
        res = CliRunner().invoke(main, ["list", "--format", "json", "--sector", "construction"])
        items = json.loads(res.output)
        assert {it["sector"] for it in items} == {"construction"}
        assert sorted(it["edition"][:4] for it in items if it["id"] == "construction-major-hidden-dangers") == [
            "2022", "2024"]
        assert {it["id"] for it in items} == {"construction-major-hidden-dangers", "construction-risk-point"}

    def test_unknown_sector_is_a_usage_error(self) -> None:
        res = CliRunner().invoke(main, ["list", "--sector", "farming"])
        assert res.exit_code == 2

    def test_completeness_is_shown(self) -> None:
        res = CliRunner().invoke(main, ["list", "--sector", "fireworks", "--lang", "en"])
        assert "[20/20 items]" in res.output
        items = {it["id"]: it for it in riskgrade.list_rulesets()}
        assert items["fireworks-major-hidden-dangers"]["completeness"]["encoded"] == 20


class TestEditionInForce:
    ID = "construction-major-hidden-dangers"

    def test_bare_id_is_the_newest(self) -> None:
        assert riskgrade.load(self.ID).edition.startswith("2024")

    def test_as_of_picks_the_edition_in_force(self) -> None:
        assert riskgrade.load(self.ID, as_of=dt.date(2023, 6, 1)).edition.startswith("2022")
        assert riskgrade.load(self.ID, as_of=dt.date(2025, 6, 1)).edition.startswith("2024")

    def test_an_explicit_edition_wins_over_as_of(self) -> None:
        assert riskgrade.load(f"{self.ID}@2022", as_of=dt.date(2025, 6, 1)).edition.startswith("2022")

    def test_no_edition_in_force_is_an_error(self) -> None:
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(self.ID, as_of=dt.date(2010, 1, 1))
        assert e.value.codes == ["no-edition-in-force"]


class TestCompletenessIsChecked:
    def test_more_encoded_than_the_standard_has(self, tmp_path: pathlib.Path) -> None:
        src = pathlib.Path(riskgrade.load("fireworks-major-hidden-dangers").file).read_text(encoding="utf-8")
        bad = src.replace("  encoded: 20\n  in_standard: 20\n", "  encoded: 21\n  in_standard: 20\n")
        assert bad != src
        path = tmp_path / "fw.yaml"
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(path)
        assert e.value.codes == ["bad-value"]


class TestGb35181ByDate:
    """GB 35181-2025 replaced the 2017 edition on 2025-11-01: a bare id follows the assessment date."""

    ID = "crowded-places-major-fire-hazards"

    def test_before_and_after_the_switch(self) -> None:
        assert "2017" in riskgrade.load(self.ID, as_of=dt.date(2025, 10, 31)).edition
        assert "2025" in riskgrade.load(self.ID, as_of=dt.date(2025, 11, 1)).edition
        assert "2025" in riskgrade.load(self.ID).edition
