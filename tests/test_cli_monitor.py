"""Tests for ``riskgrade monitor`` (riskgrade._cli_monitor), in-process with click's runner."""

from __future__ import annotations

import json

from click.testing import CliRunner

from riskgrade._cli_monitor import monitor_cmd

ARGS = ["--ruleset", "chem-plant-monitor", "--enterprise", "examples/enterprises/chem-plant.yaml",
        "examples/events/chem-plant.jsonl"]


class TestMonitorCmd:
    def test_example_log_gives_the_documented_sequence(self) -> None:
        result = CliRunner().invoke(monitor_cmd, ARGS)
        assert result.exit_code == 1  # the example holds two bad events on purpose
        records = [json.loads(line) for line in result.output.splitlines()]
        got = [(r["kind"], r.get("node") or r.get("warning", {}).get("rule") or r.get("error"))
               for r in records]
        assert got == [
            ("warning_raised", "hidden-danger-overdue"), ("level_changed", "P-NH3-LOAD"),
            ("level_changed", "U-TANK"),
            ("warning_raised", "nh3-gas-high"), ("level_changed", "P-NH3-TANK"),
            ("warning_raised", "tank-gas-and-level-together"),
            ("warning_cleared", "nh3-gas-high"),
            ("error", "bad-type"),
            ("warning_cleared", "tank-gas-and-level-together"), ("level_changed", "P-NH3-TANK"),
            ("warning_raised", "nh3-level-alarms"), ("level_changed", "P-NH3-TANK"),
            ("warning_cleared", "nh3-level-alarms"), ("level_changed", "P-NH3-TANK"),
            ("warning_raised", "hidden-danger-overdue"), ("level_changed", "P-NH3-TANK"),
            ("error", "duplicate-event"),
            ("warning_cleared", "hidden-danger-overdue"), ("level_changed", "P-NH3-TANK"),
        ]
        assert records[4] == {"kind": "level_changed", "node": "P-NH3-TANK", "from": "ORANGE", "to": "RED",
                              "time": "2024-07-01T08:02:00+08:00", "cause": "nh3-gas-high/MP-NH3-GAS"}

    def test_text_log_in_chinese_is_identical_twice(self) -> None:
        runs = [CliRunner().invoke(monitor_cmd, [*ARGS, "--format", "text", "--lang", "zh"]) for _ in range(2)]
        assert runs[0].output == runs[1].output
        first = runs[0].output.splitlines()[3]
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
