"""Tests for ``riskgrade monitor`` (riskgrade._cli.monitor), in-process with click's runner."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from riskgrade._cli.monitor import monitor_cmd


def _brief(r: dict[str, Any]) -> tuple[Any, ...]:
    kind = r["kind"]
    when = r.get("time", "")[5:19].replace("T", " ")
    if kind == "level_changed":
        return (kind, r["node"], f"{r['from']}->{r['to']}", when)
    if kind == "error":
        return (kind, r["line"], r["field"], r["error"])
    if kind == "hidden_danger":
        return (kind, r["hidden_danger"], r["status"], when)
    return (kind, r["warning"]["rule"], r["warning"]["key"], when)


ARGS = ["--ruleset", "chem-plant-monitor", "--enterprise", "examples/enterprises/chem-plant.yaml",
        "examples/events/chem-plant.jsonl"]


class TestMonitorCmd:
    def test_example_log_gives_the_documented_sequence(self) -> None:
        """The sequence documented in docs/monitoring.md ("Example: the chemical plant log")."""
        result = CliRunner().invoke(monitor_cmd, ARGS)
        assert result.exit_code == 1  # the example holds four bad events on purpose
        records = [json.loads(line) for line in result.output.splitlines()]
        assert [_brief(r) for r in records] == [
            ("warning_raised", "hidden-danger-overdue", "HD-2024-003", "07-01 08:00:00"),
            ("hidden_danger", "HD-2024-007", "verified", "07-01 08:00:30"),
            ("level_changed", "E-620402-CHEM-01", "RED->ORANGE", "07-01 08:00:30"),
            ("level_changed", "P-SYN-REACTOR", "RED->ORANGE", "07-01 08:00:30"),
            ("level_changed", "U-SYN", "RED->ORANGE", "07-01 08:00:30"),
            ("warning_raised", "nh3-gas-high", "MP-NH3-GAS", "07-01 08:02:00"),
            ("level_changed", "E-620402-CHEM-01", "ORANGE->RED", "07-01 08:02:00"),
            ("level_changed", "P-NH3-TANK", "ORANGE->RED", "07-01 08:02:00"),
            ("level_changed", "U-SYN", "ORANGE->RED", "07-01 08:02:00"),
            ("level_changed", "U-TANK", "ORANGE->RED", "07-01 08:02:00"),
            ("warning_raised", "tank-gas-and-level-together", "MP-NH3-LEVEL+MP-NH3-GAS", "07-01 08:05:00"),
            ("warning_cleared", "nh3-gas-high", "MP-NH3-GAS", "07-01 08:06:00"),
            ("error", 11, "value", "bad-type"),
            ("warning_cleared", "tank-gas-and-level-together", "MP-NH3-LEVEL+MP-NH3-GAS", "07-01 08:07:00"),
            ("level_changed", "E-620402-CHEM-01", "RED->ORANGE", "07-01 08:07:00"),
            ("level_changed", "P-NH3-TANK", "RED->ORANGE", "07-01 08:07:00"),
            ("level_changed", "U-SYN", "RED->ORANGE", "07-01 08:07:00"),
            ("level_changed", "U-TANK", "RED->ORANGE", "07-01 08:07:00"),
            ("warning_raised", "nh3-level-alarms", "MP-NH3-LEVEL", "07-01 08:35:00"),
            ("level_changed", "E-620402-CHEM-01", "ORANGE->RED", "07-01 08:35:00"),
            ("level_changed", "P-NH3-TANK", "ORANGE->RED", "07-01 08:35:00"),
            ("level_changed", "U-SYN", "ORANGE->RED", "07-01 08:35:00"),
            ("level_changed", "U-TANK", "ORANGE->RED", "07-01 08:35:00"),
            ("warning_cleared", "nh3-level-alarms", "MP-NH3-LEVEL", "07-01 09:00:00"),
            ("level_changed", "E-620402-CHEM-01", "RED->ORANGE", "07-01 09:00:00"),
            ("level_changed", "P-NH3-TANK", "RED->ORANGE", "07-01 09:00:00"),
            ("level_changed", "U-SYN", "RED->ORANGE", "07-01 09:00:00"),
            ("level_changed", "U-TANK", "RED->ORANGE", "07-01 09:00:00"),
            ("hidden_danger", "HD-2024-017", "open", "07-01 09:30:00"),
            ("level_changed", "E-620402-CHEM-01", "ORANGE->RED", "07-01 09:30:00"),
            ("level_changed", "P-NH3-TANK", "ORANGE->RED", "07-01 09:30:00"),
            ("level_changed", "U-SYN", "ORANGE->RED", "07-01 09:30:00"),
            ("level_changed", "U-TANK", "ORANGE->RED", "07-01 09:30:00"),
            ("error", 17, "hidden_danger", "duplicate-hidden-danger"),
            ("hidden_danger", "HD-2024-018", "open", "07-01 11:00:00"),
            ("hidden_danger", "HD-2024-017", "rectified", "07-01 14:00:00"),
            ("error", 21, "hidden_danger", "unknown-hidden-danger"),
            ("hidden_danger", "HD-2024-017", "verified", "07-01 16:00:00"),
            ("level_changed", "E-620402-CHEM-01", "RED->ORANGE", "07-01 16:00:00"),
            ("level_changed", "P-NH3-TANK", "RED->ORANGE", "07-01 16:00:00"),
            ("level_changed", "U-SYN", "RED->ORANGE", "07-01 16:00:00"),
            ("level_changed", "U-TANK", "RED->ORANGE", "07-01 16:00:00"),
            ("error", 25, "id", "duplicate-event"),
            ("warning_raised", "hidden-danger-overdue", "HD-2024-018", "07-01 18:30:00"),
            ("level_changed", "P-BOILER", "YELLOW->ORANGE", "07-02 00:00:00"),
            ("level_changed", "U-UTIL", "YELLOW->ORANGE", "07-02 00:00:00"),
            ("hidden_danger", "HD-2024-018", "rectified", "07-02 09:00:00"),
            ("level_changed", "P-BOILER", "ORANGE->YELLOW", "07-02 09:00:00"),
            ("level_changed", "U-UTIL", "ORANGE->YELLOW", "07-02 09:00:00"),
            ("warning_cleared", "hidden-danger-overdue", "HD-2024-018", "07-02 09:00:00"),
        ]
        assert records[7] == {"kind": "level_changed", "node": "P-NH3-TANK", "from": "ORANGE", "to": "RED",
                              "time": "2024-07-01T08:02:00+08:00", "cause": "nh3-gas-high/MP-NH3-GAS"}
        assert records[28] == {"kind": "hidden_danger", "time": "2024-07-01T09:30:00+08:00", "line": 16,
                               "hidden_danger": "HD-2024-017", "event": "hidden_danger_reported",
                               "target": "P-NH3-TANK", "grade": "major", "status": "open", "found": "2024-07-01",
                               "deadline": "2024-07-03", "closed": None}
        assert records[29] == {"kind": "level_changed", "node": "E-620402-CHEM-01", "from": "ORANGE", "to": "RED",
                               "time": "2024-07-01T09:30:00+08:00", "cause": "hidden_danger_reported/HD-2024-017"}
        assert records[33] == {"kind": "error", "line": 17, "field": "hidden_danger", "error": "duplicate-hidden-danger",
                               "message": "hidden danger 'HD-2024-017' already exists in enterprise "
                                          "'E-620402-CHEM-01'"}
        assert records[44] == {"kind": "level_changed", "node": "P-BOILER", "from": "YELLOW", "to": "ORANGE",
                               "time": "2024-07-02T00:00:00+08:00", "cause": "as_of/2024-07-02"}

    def test_text_log_in_chinese_is_identical_twice(self) -> None:
        runs = [CliRunner().invoke(monitor_cmd, [*ARGS, "--format", "text", "--lang", "zh"]) for _ in range(2)]
        assert runs[0].output == runs[1].output
        lines = runs[0].output.splitlines()
        assert lines[1] == ("2024-07-01T08:00:30+08:00 隐患 HD-2024-007 [重大事故隐患] P-SYN-REACTOR: 验收通过，"
                            "整改期限 2024-07-10")
        assert lines[2] == ("2024-07-01T08:00:30+08:00 等级 E-620402-CHEM-01: 重大风险 → 较大风险 "
                            "(hidden_danger_verified/HD-2024-007)")
        first = lines[5]
        assert first.startswith("2024-07-01T08:02:00+08:00 预警 [橙] nh3-gas-high MP-NH3-GAS: MP-NH3-GAS 氨气浓度 28.4ppm")

    def test_bad_ruleset_exits_2_with_location(self, tmp_path: object) -> None:
        import pathlib

        bad = pathlib.Path(str(tmp_path)) / "bad.yaml"
        bad.write_text("kind: monitor\nwarnings:\n  - id: x\n    kind: thresold\n", encoding="utf-8")
        result = CliRunner().invoke(monitor_cmd, ["--ruleset", str(bad), "--enterprise",
                                                  "examples/enterprises/chem-plant.yaml", "-"], input="")
        assert result.exit_code == 2
        assert f"{bad}:4:11: unknown-kind" in result.output

    def test_clean_stream_exits_0(self) -> None:
        line = '{"type": "reading", "time": "2024-07-01T08:00:00+08:00", "point": "MP-NH3-GAS", "value": 3}\n'
        result = CliRunner().invoke(monitor_cmd, [*ARGS[:4], "-"], input=line)
        records = [json.loads(x) for x in result.output.splitlines()]
        assert result.exit_code == 0
        # only the register's own overdue hidden danger (deadline 2024-05-01) is warned about
        assert {r.get("warning", {}).get("key") for r in records if r["kind"] != "level_changed"} == {"HD-2024-003"}

    def test_a_sector_ruleset_with_a_warnings_section(self, tmp_path: Any) -> None:
        register = tmp_path / "tank.yaml"
        register.write_text(
            "id: E-TANK\nname: 罐区示例\nsectors: [hazchem]\njurisdiction: '620402'\n"
            "ruleset: tests/data/tank-farm-with-warnings.yaml\nunits: [{id: U-1, name: 罐区}]\n"
            "risk_points: [{id: P-1, unit: U-1, name: 储罐, facts: {L: 3, E: 6, C: 7}}]\n"
            "monitoring_points: [{id: GD-1, risk_point: P-1, name: 探测器, quantity: LEL, unit: '%LEL', high: 20}]\n",
            encoding="utf-8")
        events = ('{"type": "reading", "time": "2024-05-01T08:00:00+08:00", "point": "GD-1", "value": 25}\n'
                  '{"type": "reading", "time": "2024-05-01T08:01:00+08:00", "point": "GD-1", "value": 10}\n')
        result = CliRunner().invoke(monitor_cmd, ["--ruleset", "tests/data/tank-farm-with-warnings.yaml",
                                                  "--enterprise", str(register), "-"], input=events)
        assert result.exit_code == 0, result.output
        records = [json.loads(x) for x in result.output.splitlines()]
        assert [_brief(r) for r in records] == [
            ("warning_raised", "tank-gas-high", "GD-1", "05-01 08:00:00"),
            ("level_changed", "E-TANK", "YELLOW->ORANGE", "05-01 08:00:00"),
            ("level_changed", "P-1", "YELLOW->ORANGE", "05-01 08:00:00"),
            ("level_changed", "U-1", "YELLOW->ORANGE", "05-01 08:00:00"),
            ("warning_cleared", "tank-gas-high", "GD-1", "05-01 08:01:00"),
            ("level_changed", "E-TANK", "ORANGE->YELLOW", "05-01 08:01:00"),
            ("level_changed", "P-1", "ORANGE->YELLOW", "05-01 08:01:00"),
            ("level_changed", "U-1", "ORANGE->YELLOW", "05-01 08:01:00"),
        ]

    def test_records_are_canonical_json_with_the_one_citation(self) -> None:
        """Issue 9: one JSON dumper (compact, sorted keys) and one Citation type in the output."""
        from riskgrade import Citation
        from riskgrade._core.canonical import dumps

        result = CliRunner().invoke(monitor_cmd, ARGS)
        lines = result.output.splitlines()
        for line in lines:
            assert line == dumps(json.loads(line))
        cite = json.loads(lines[0])["warning"]["cite"]
        assert cite == Citation(source=cite["source"], clause="第十五条", basis="derived").to_dict()
        assert sorted(cite) == ["basis", "clause", "layer", "number", "source", "status", "title"]
