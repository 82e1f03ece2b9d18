"""CLI commands for enterprises and regions: ``riskgrade assess`` and ``riskgrade region``.

Exit codes: 0 success; 2 bad input (a register, ruleset or date that cannot be used; for
``region``, also when any file failed -- its error is still reported, nothing is dropped).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import click

from riskgrade._api import assess, assess_region, region_sources, supervise
from riskgrade._cli.contract import CRASHES, crashed
from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._enterprise.region import error_record
from riskgrade._supervision.outputs import SupervisionResult
from riskgrade.exceptions import Problem, RiskgradeError, RulesetError

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
    return error_record(file, exc)


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
        raise SystemExit(3 if isinstance(exc, CRASHES) else 2) from None
    sup = supervision_of(result)
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


def supervision_of(result: EnterpriseAssessment) -> SupervisionResult | Problem:
    """The enterprise's differentiated supervision, or the problem saying none is declared where it is
    (not fatal: the grade stands without it)."""
    try:
        return supervise(result)
    except RulesetError as exc:
        if not set(exc.codes) <= {"no-supervision", "unknown-jurisdiction"}:
            raise
        return exc.problems[0]


def _expand(paths: tuple[str, ...]) -> list[str]:
    """Register files (not JSON lines) under ``paths``, for the commands that take one file each."""
    return region_sources(paths, _REGISTER_SUFFIXES)


@click.command("region")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess every enterprise as of this date (YYYY-MM-DD)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True,
              help="worker processes (0: one per CPU); the output is the same for any number")
def region_cmd(files_or_dirs: tuple[str, ...], fmt: str, as_of: str | None, lang: str, jobs: int) -> None:
    """Assess enterprise registers (files, directories of .yaml/.json/.jsonl, or JSON-lines files of
    one register a line) and print the regional table: enterprises by level and sector for each
    county, city and province (四色图 statistics).

    \b
    riskgrade region examples/enterprises examples/region --as-of 2024-06-30
    riskgrade region province.jsonl --jobs 4 --format json
    """
    date = _parse_as_of(as_of)
    result = assess_region(files_or_dirs, as_of=date, jobs=jobs)
    if fmt == "json":
        click.echo(result.to_json())
    else:
        click.echo(result.region.table(lang))
        for e in result.errors:
            click.echo(f"{e['file']}: {e['message']}", err=True)
    if crashed(result.errors):  # a function or plugin failed on a register: code, not input (the others are listed)
        raise SystemExit(3)
    if result.errors or not result.registers:
        raise SystemExit(2)
