"""The assess and region commands, in process, with exact exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from riskgrade._cli.graph import assess_cmd, region_cmd

ROOT = Path(__file__).resolve().parent.parent
CHEM = str(ROOT / "examples" / "enterprises" / "chem-plant.yaml")


class TestAssess:
    def test_text_zh(self) -> None:
        r = CliRunner().invoke(assess_cmd, [CHEM, "--as-of", "2024-06-30"])
        assert r.exit_code == 0
        lines = r.output.splitlines()
        assert lines[0] == "E-620402-CHEM-01 白银示例化工有限公司  RED    重大风险  (固有 ORANGE; 得分 87; 降1级: 安全生产标准化一级)"
        assert "企业 E-620402-CHEM-01（白银示例化工有限公司）：重大风险（红），固有风险 较大风险，评估基准日 2024-06-30" in lines

    def test_json_is_stable(self) -> None:
        a = CliRunner().invoke(assess_cmd, [CHEM, "--as-of", "2024-06-30", "--format", "json"])
        b = CliRunner().invoke(assess_cmd, [CHEM, "--as-of", "2024-06-30", "--format", "json"])
        assert (0, a.output) == (b.exit_code, b.output)
        assert (json.loads(a.output)["level"], json.loads(a.output)["as_of"]) == ("RED", "2024-06-30")

    def test_colour(self) -> None:
        r = CliRunner().invoke(assess_cmd, [CHEM, "--as-of", "2024-06-30", "--lang", "en"], color=True)
        assert r.exit_code == 0
        assert "\x1b[38;2;230;48;49m\x1b[1mRED    major risk\x1b[0m" in r.output

    def test_bad_date_is_usage_error(self) -> None:
        r = CliRunner().invoke(assess_cmd, [CHEM, "--as-of", "30/06/2024"])
        assert r.exit_code == 2
        assert "'30/06/2024' is not a date" in r.output

    def test_bad_register(self, tmp_path: Path) -> None:
        path = tmp_path / "e.yaml"
        path.write_text("id: E-1\nname: x\nsectors: [a]\njurisdiction: '620402'\n"
                        "risk_points: [{id: P-1, unit: U-1, name: p, facts: {}}]\n", encoding="utf-8")
        r = CliRunner().invoke(assess_cmd, [str(path), "--format", "json"])
        assert r.exit_code == 2
        err = json.loads(r.output)["errors"][0]
        assert (err["error"], err["code"], err["record"],
                                                                     err["field"]) == ("FactError", "unknown-reference", "P-1", "unit")

    def test_cycle(self, tmp_path: Path) -> None:
        path = tmp_path / "e.yaml"
        path.write_text("id: E-1\nname: x\nsectors: [a]\njurisdiction: '620402'\nruleset: lec-generic\n"
                        "units: [{id: U-1, name: a}, {id: U-2, name: b}]\n"
                        "dependencies: [{from: U-1, to: U-2}, {from: U-2, to: U-1}]\n", encoding="utf-8")
        r = CliRunner().invoke(assess_cmd, [str(path)])
        assert r.exit_code == 2
        assert "dependency cycle: U-1 -> U-2 -> U-1" in r.output


class TestRegion:
    def test_json(self) -> None:
        r = CliRunner().invoke(region_cmd, [str(ROOT / "examples" / "enterprises"), str(ROOT / "examples" / "region"),
                                            "--as-of", "2024-06-30", "--format", "json"])
        assert r.exit_code == 0
        d = json.loads(r.output)
        files = len([*(ROOT / "examples" / "enterprises").glob("*.yaml"), *(ROOT / "examples" / "region").glob("*.yaml")])
        assert (d["files"], d["errors"], d["as_of"]) == (files, [], "2024-06-30")
        assert sum(d["regions"]["620000"]["by_level"].values()) == len(d["enterprises"]) == files
        # the original six; each sector's own files assert their levels in their own tests
        assert {e: d["enterprises"][e]["level"] for e in ("E-620402-CHEM-01", "E-620403-MINE-01", "E-620400-METAL-01",
                                                          "E-620421-COAL-01", "E-620422-BUILD-01", "E-620423-POWER-01")} \
            == {"E-620402-CHEM-01": "RED", "E-620403-MINE-01": "RED", "E-620400-METAL-01": "RED",
                "E-620421-COAL-01": "ORANGE", "E-620422-BUILD-01": "BLUE", "E-620423-POWER-01": "BLUE"}

    def test_error_file_reported_not_dropped(self, tmp_path: Path) -> None:
        (tmp_path / "bad.yaml").write_text("id: E-X\n", encoding="utf-8")
        r = CliRunner().invoke(region_cmd, [CHEM, str(tmp_path), "--format", "json", "--as-of", "2024-06-30"])
        assert r.exit_code == 2
        d = json.loads(r.output)
        assert (d["files"], len(d["enterprises"]), d["errors"][0]["code"]) == (2, 1, "missing-field")

    def test_duplicate_enterprise(self) -> None:
        r = CliRunner().invoke(region_cmd, [CHEM, CHEM, "--format", "json", "--as-of", "2024-06-30"])
        assert r.exit_code == 2
        assert [e["code"] for e in json.loads(r.output)["errors"]] == ["duplicate-enterprise"]

    def test_text(self) -> None:
        r = CliRunner().invoke(region_cmd, [CHEM, "--as-of", "2024-06-30", "--lang", "en"])
        assert r.exit_code == 0
        assert "620402      白银区      1    1       0       0     0" in r.output.splitlines()
