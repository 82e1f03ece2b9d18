"""CLI commands for enterprises and regions: ``riskgrade assess`` and ``riskgrade region``.

Exit codes: 0 success; 2 bad input (a register, ruleset or date that cannot be used; for
``region``, also when any file failed -- its error is still reported, nothing is dropped).
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import click

from riskgrade._api import assess, supervise
from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._enterprise.region import EnterpriseSummary, RegionGraph
from riskgrade.exceptions import FactError, GraphError, Problem, RiskgradeError, RulesetError

__all__ = ["assess_cmd", "region_cmd"]

_REGISTER_SUFFIXES = (".yaml", ".yml", ".json")


def _rgb(level: Level) -> tuple[int, int, int]:
    h = level.hex.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def _paint(text: str, level: Level) -> str:
    return click.style(text, fg=_rgb(level), bold=level >= Level.ORANGE)


def _parse_as_of(value: str | None) -> _dt.date | None:
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)", param_hint="--as-of") from None


def _error_record(file: str, exc: Exception) -> dict[str, Any]:
    rec: dict[str, Any] = {"file": file, "error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, FactError):
        rec.update(code=exc.code, record=exc.record, field=exc.field)
    elif isinstance(exc, GraphError):
        rec.update(code="cycle" if exc.cycle else "graph", record=exc.record, field=exc.field)
    elif isinstance(exc, RulesetError):
        rec.update(code=exc.codes[0] if exc.codes else "ruleset")
    return rec


def _assess_file(path: str, as_of: _dt.date | None, ruleset: str | None) -> EnterpriseAssessment:
    return assess(ruleset, path, as_of=as_of)


@click.command("assess")
@click.argument("enterprise_file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="judge deadlines and accident windows as of this date "
              "(YYYY-MM-DD; default today, recorded in the result)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--ruleset", metavar="REF", help="default ruleset (overrides the register's 'ruleset:')")
def assess_cmd(enterprise_file: str, fmt: str, as_of: str | None, lang: str, ruleset: str | None) -> None:
    """Assess an enterprise register (台账) and print its risk tree with levels, and its differentiated
    supervision (inspections, content, grid owners, insurance factor, control tiers; docs/supervision.md).

    \b
    riskgrade assess examples/enterprises/chem-plant.yaml --as-of 2024-06-30
    riskgrade assess examples/enterprises/mine.yaml --format json
    """
    date = _parse_as_of(as_of)
    try:
        result = _assess_file(enterprise_file, date, ruleset)
    except RiskgradeError as exc:
        if fmt == "json":
            click.echo(dumps({"errors": [_error_record(enterprise_file, exc)]}, indent=2))
        else:
            click.echo(f"{enterprise_file}: {exc}", err=True)
        raise SystemExit(2) from None
    try:
        sup: Any = supervise(result)
    except RulesetError as exc:  # no supervision declared where the enterprise is: said, not fatal
        if not set(exc.codes) <= {"no-supervision", "unknown-jurisdiction"}:
            raise
        sup = exc.problems[0]
    unsupervised = isinstance(sup, Problem)
    if fmt == "json":
        block = {"errors": [sup.to_dict()]} if unsupervised else sup.to_dict()
        click.echo(dumps({**result.to_dict(), "supervision": block}, indent=2))
        return
    click.echo(result.tree(lang, style=_paint))
    click.echo()
    click.echo(result.explain(lang))
    click.echo()
    click.echo((f"{'差异化监管' if lang == 'zh' else 'supervision'}: {sup.text(lang)}") if unsupervised
               else sup.text(lang))


def _expand(paths: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(_REGISTER_SUFFIXES))
        else:
            out.append(p)
    return out


@click.command("region")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess every enterprise as of this date (YYYY-MM-DD)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def region_cmd(files_or_dirs: tuple[str, ...], fmt: str, as_of: str | None, lang: str) -> None:
    """Assess enterprise registers (files, or directories of .yaml/.json) and print the regional table:
    enterprises by level and sector for each county, city and province (四色图 statistics).

    \b
    riskgrade region examples/enterprises examples/region --as-of 2024-06-30
    """
    date = _parse_as_of(as_of)
    files = _expand(files_or_dirs)
    errors: list[dict[str, Any]] = []
    summaries: list[EnterpriseSummary] = []
    seen: dict[str, str] = {}
    resolved_as_of = date
    for f in files:
        try:
            a = _assess_file(f, date, None)
        except RiskgradeError as exc:
            errors.append(_error_record(f, exc))
            continue
        resolved_as_of = a.as_of
        s = EnterpriseSummary.of(a)
        if s.id in seen:
            errors.append({"file": f, "error": "GraphError", "code": "duplicate-enterprise", "record": s.id,
                           "field": "id", "message": f"enterprise {s.id!r} is already in {seen[s.id]}"})
            continue
        seen[s.id] = f
        summaries.append(s)
    try:
        region = RegionGraph.of(summaries, resolved_as_of)
    except GraphError as exc:
        errors.append(_error_record("", exc))
        region = RegionGraph(resolved_as_of)
    if fmt == "json":
        out = region.to_dict()
        out["errors"] = errors
        out["files"] = len(files)
        click.echo(dumps(out, indent=2))
    else:
        click.echo(region.table(lang))
        for e in errors:
            click.echo(f"{e['file']}: {e['message']}", err=True)
    if errors or not files:
        raise SystemExit(2)
