"""``riskgrade monitor``: stream warnings and level changes from a log of monitoring events.

Exit codes: 0 every event processed; 1 some events were malformed, late, duplicate or
foreign (each one got an ``error`` record, the others were processed); 2 the command
line, the ruleset or the enterprise register is wrong; 3 the rules engine failed.
"""

from __future__ import annotations

import datetime as _dt
import sys
from typing import Any, TextIO

import click

from riskgrade._api import Monitor, RiskGraph, load_rules
from riskgrade._core.levels import Level
from riskgrade._enterprise.register import load_enterprise
from riskgrade._monitor.events import CST, Event, read_events
from riskgrade._monitor.monitor import dumps
from riskgrade.exceptions import FactError, GraphError, MonitorError, RiskgradeError, RulesetError

__all__ = ["monitor_cmd", "render_text"]


def render_text(record: dict[str, Any], lang: str) -> str:
    """One output record as a line of a readable log in ``lang``."""
    zh = lang == "zh"
    kind = record["kind"]
    if kind == "error":
        where = f"line {record['line']}" if record.get("line") is not None else "event"
        field = f", field {record['field']!r}" if record.get("field") else ""
        return f"{'错误' if zh else 'ERROR'} {where}{field}: {record['error']}: {record['message']}"
    if kind == "level_changed":
        before, after = Level.parse(record["from"]), Level.parse(record["to"])
        arrow = f"{before.label(lang)} → {after.label(lang)}" if zh else f"{before.en} -> {after.en}"
        return f"{record['time']} {'等级' if zh else 'LEVEL'} {record['node']}: {arrow} ({record['cause']})"
    if kind == "hidden_danger":
        return _render_hidden_danger(record, zh)
    warning = record["warning"]
    level = Level.parse(warning["level"])
    tag = level.colour_zh if zh else level.name
    verb = {("warning_raised", True): "预警", ("warning_raised", False): "RAISED",
            ("warning_cleared", True): "解除", ("warning_cleared", False): "CLEARED"}[(kind, zh)]
    cite = warning["cite"]
    return (f"{record['time']} {verb} [{tag}] {warning['rule']} {warning['key']}: {warning['message'][lang]}"
            f" [{cite['source']} {cite['clause']}]".rstrip())


_HD_VERBS = {  # (event, status) -> (zh, en)
    ("hidden_danger_reported", "open"): ("上报", "reported"),
    ("hidden_danger_rectified", "rectified"): ("整改完成", "rectified"),
    ("hidden_danger_verified", "verified"): ("验收通过", "verified"),
    ("hidden_danger_verified", "open"): ("验收未通过，重新打开", "failed verification, reopened"),
}


def _render_hidden_danger(record: dict[str, Any], zh: bool) -> str:
    verb_zh, verb_en = _HD_VERBS.get((record["event"], record["status"]), (record["status"], record["status"]))
    major = record["grade"] == "major"
    if zh:
        grade = "重大事故隐患" if major else "一般隐患"
        deadline = f"，整改期限 {record['deadline']}" if record.get("deadline") else ""
        return f"{record['time']} 隐患 {record['hidden_danger']} [{grade}] {record['target']}: {verb_zh}{deadline}"
    grade = "major" if major else "general"
    deadline = f" (deadline {record['deadline']})" if record.get("deadline") else ""
    return (f"{record['time']} HIDDEN DANGER {record['hidden_danger']} [{grade}] at {record['target']}: "
            f"{verb_en}{deadline}")


def _graph_for(enterprise: Any, as_of: _dt.date | None) -> Any:
    """The enterprise graph (graded with the register's own rulesets) that applies warning effects."""
    return RiskGraph.build(None, enterprise, as_of=as_of)


def _first_date(lines: list[str]) -> _dt.date | None:
    """The date (China Standard Time) of the first valid event: the graph is judged as of it."""
    for item in read_events(lines):
        if isinstance(item, Event):
            return _dt.datetime.fromtimestamp(item.time, tz=CST).date()
    return None


@click.command("monitor")
@click.option("--ruleset", "ruleset_ref", required=True, metavar="REF",
              help="monitoring ruleset: a kind: monitor file or id, or a ruleset with a warnings section")
@click.option("--enterprise", "enterprise_file", required=True, type=click.Path(dir_okay=False),
              help="enterprise register (YAML or JSON)")
@click.argument("events", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the text log")
@click.option("--tolerance", type=float, default=None,
              help="out-of-order tolerance in seconds (default: the ruleset's)")
def monitor_cmd(ruleset_ref: str, enterprise_file: str, events: TextIO, fmt: str, lang: str,
                tolerance: float | None) -> None:
    """Replay EVENTS.jsonl (or stdin) through the warning rules; stream warnings and level changes."""
    try:
        rules = load_rules(ruleset_ref)
        enterprise = load_enterprise(enterprise_file)
        lines = events.readlines()
        graph = _graph_for(enterprise, _first_date(lines))
        monitor = Monitor(rules, graph, tolerance=tolerance)
    except (RulesetError, FactError, GraphError, MonitorError) as exc:
        click.echo(f"riskgrade monitor: {exc}", err=True)
        sys.exit(2)
    errors = 0
    try:
        with monitor:
            for record in monitor.replay(lines):
                errors += record["kind"] == "error"
                click.echo(dumps(record) if fmt == "jsonl" else render_text(record, lang))
    except RiskgradeError as exc:
        click.echo(f"riskgrade monitor: {exc}", err=True)
        sys.exit(3)
    sys.exit(1 if errors else 0)
