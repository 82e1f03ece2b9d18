"""CLI commands for what people print: ``riskgrade map`` (四色图), ``riskgrade register`` (台账 in
Excel/CSV) and ``riskgrade card`` (风险告知卡).

Exit codes: 0 success; 2 bad input (a register that cannot be assessed -- reported, the others
still drawn -- or an output that cannot be written: no CJK font, a missing extra, a wrong suffix).
"""

from __future__ import annotations

import datetime as _dt

import click

from riskgrade._cli.graph import _assess_file, _expand, _parse_as_of
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._render.card import write_cards
from riskgrade._render.riskmap import STATISTICS, RiskMap, load_boundaries
from riskgrade._render.tables import write_register
from riskgrade.exceptions import RiskgradeError

__all__ = ["card_cmd", "map_cmd", "register_cmd"]


def _assess_all(paths: tuple[str, ...], date: _dt.date | None) -> tuple[list[EnterpriseAssessment], int]:
    files = _expand(paths)
    out: list[EnterpriseAssessment] = []
    errors = 0 if files else 1
    seen: set[str] = set()
    for f in files:
        try:
            a = _assess_file(f, date, None)
        except RiskgradeError as exc:
            click.echo(f"{f}: {exc}", err=True)
            errors += 1
            continue
        if a.enterprise.id in seen:
            click.echo(f"{f}: enterprise {a.enterprise.id!r} appears twice", err=True)
            errors += 1
            continue
        seen.add(a.enterprise.id)
        out.append(a)
    return out, errors


@click.command("map")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, metavar="FILE", help="FILE.png, FILE.svg or FILE.geojson")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess every enterprise as of this date (YYYY-MM-DD)")
@click.option("--boundaries", metavar="GEOJSON", help="county polygons with an 'adcode' (default: the shipped "
              "Baiyin counties)")
@click.option("--statistic", type=click.Choice(STATISTICS), default="highest", show_default=True,
              help="how a county's colour follows its enterprises' levels")
def map_cmd(files_or_dirs: tuple[str, ...], out: str, lang: str, as_of: str | None, boundaries: str | None,
            statistic: str) -> None:
    """Draw the four-colour risk map (四色图) of enterprise registers (files or directories).

    \b
    riskgrade map examples/enterprises examples/region --as-of 2024-06-30 --out map.png
    riskgrade map examples/enterprises --out map.geojson
    """
    date = _parse_as_of(as_of)
    assessments, errors = _assess_all(files_or_dirs, date)
    try:
        bounds = load_boundaries(boundaries) if boundaries else None
        m = RiskMap.build(assessments, boundaries=bounds, statistic=statistic)
        m.save(out, lang=lang)
    except RiskgradeError as exc:
        click.echo(f"{out}: {exc}", err=True)
        raise SystemExit(2) from None
    tot = m.totals()
    click.echo(f"{out}: {len(m.counties)} counties, {len(assessments)} enterprises "
               f"(RED {tot['RED']}, ORANGE {tot['ORANGE']}, YELLOW {tot['YELLOW']}, BLUE {tot['BLUE']}), "
               f"{len(m.points)} drawn as points")
    if errors:
        raise SystemExit(2)


@click.command("register")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, metavar="FILE", help="FILE.xlsx (two sheets) or FILE.csv")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess as of this date (YYYY-MM-DD)")
def register_cmd(files_or_dirs: tuple[str, ...], out: str, lang: str, as_of: str | None) -> None:
    """Export the risk register (风险分级管控清单) and the hidden-danger register (隐患排查治理台账).

    \b
    riskgrade register examples/enterprises/chem-plant.yaml --as-of 2024-06-30 --out chem.xlsx
    """
    date = _parse_as_of(as_of)
    assessments, errors = _assess_all(files_or_dirs, date)
    try:
        write_register(assessments, out, lang)
    except RiskgradeError as exc:
        click.echo(f"{out}: {exc}", err=True)
        raise SystemExit(2) from None
    points = sum(len(a.enterprise.risk_points) for a in assessments)
    hds = sum(len(a.enterprise.hidden_dangers) for a in assessments)
    click.echo(f"{out}: {len(assessments)} enterprises, {points} risk points, {hds} hidden dangers")
    if errors:
        raise SystemExit(2)


@click.command("card")
@click.argument("enterprise_file", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, metavar="DIR", help="directory for <risk point id>.pdf and .html")
@click.option("--point", metavar="ID", help="only this risk point (default: every risk point)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess as of this date (YYYY-MM-DD)")
def card_cmd(enterprise_file: str, out: str, point: str | None, lang: str, as_of: str | None) -> None:
    """Write risk cards (风险告知卡), one PDF and one HTML page per risk point.

    \b
    riskgrade card examples/enterprises/chem-plant.yaml --as-of 2024-06-30 --out cards/
    """
    date = _parse_as_of(as_of)
    try:
        a = _assess_file(enterprise_file, date, None)
        written = write_cards(a, out, point=point, lang=lang)
    except RiskgradeError as exc:
        click.echo(f"{enterprise_file}: {exc}", err=True)
        raise SystemExit(2) from None
    for path in written:
        click.echo(path)
