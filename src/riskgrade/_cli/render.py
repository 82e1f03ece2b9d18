"""CLI commands for what people print: ``riskgrade map`` (四色图, and with ``--site`` the enterprise
risk map 企业安全风险四色分布图), ``riskgrade register`` (台账 in Excel/CSV), ``riskgrade card``
(风险告知卡) and ``riskgrade report`` (the regional report, a static HTML site).

With ``--format json`` each prints one JSON document on stdout (``riskgrade schema map`` ...): what was
written (``written``: path, format, bytes, sha256 of every file), what it knows (enterprises, levels
counted, pages ...) and an error record for every register that could not be assessed; an output that
cannot be written is one load error (``load: output``).

Exit codes: 0 success; 2 bad input (a register that cannot be assessed -- reported, the others
still drawn -- or an output that cannot be written: no CJK font, a missing extra, a wrong suffix);
3 a function or plugin failed on a register (its error record says which).
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import click

from riskgrade._cli.contract import CRASHES, crashed, load_error_dict, written_files
from riskgrade._cli.graph import _assess_file, _error_record, _expand, _parse_as_of, supervision_of
from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._enterprise.region import duplicate_record
from riskgrade._render.card import write_cards
from riskgrade._render.report import write_report
from riskgrade._render.riskmap import STATISTICS, RiskMap, load_boundaries
from riskgrade._render.sitemap import SiteMap
from riskgrade._render.tables import write_register
from riskgrade.exceptions import Problem, RiskgradeError

__all__ = ["card_cmd", "map_cmd", "register_cmd", "report_cmd"]


_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                              show_default=True,
                              help="json: one document of what was written (path, format, bytes, sha256 of each "
                                   "file), what was counted, and the registers' error records")


def _assess_all(paths: tuple[str, ...], date: _dt.date | None
                ) -> tuple[list[EnterpriseAssessment], list[dict[str, Any]], int]:
    """The assessments of the registers in ``paths``, an error record per file that failed (each one
    printed on stderr), and the number of failures (1 more when ``paths`` hold no register)."""
    out, records, files = _assess_records(paths, date)
    for rec in records:
        click.echo(f"{rec['file']}: {rec['message']}", err=True)
    return out, records, len(records) + (0 if files else 1)


def _levels(levels: Any) -> dict[str, int]:
    """``{"RED": n, "ORANGE": n, "YELLOW": n, "BLUE": n}`` of ``levels``."""
    got = list(levels)
    return {lv.name: sum(1 for x in got if x is lv) for lv in sorted(Level, reverse=True)}


def _cannot_write(out: str, exc: RiskgradeError, fmt: str, what: str = "output") -> None:
    """An output that cannot be written (or the one register that cannot be used): exit 2, or 3 when
    code failed; a JSON load error on stdout under ``--format json``."""
    if fmt == "json":
        click.echo(dumps(load_error_dict(exc, what, file=out)))
    click.echo(f"{out}: {exc}", err=True)
    raise SystemExit(3 if isinstance(exc, CRASHES) else 2)


def _finish(doc: dict[str, Any], text: str, fmt: str, errors: list[dict[str, Any]], failed: int) -> None:
    """Print the JSON document (or the line for people); exit 3 when a register crashed, 2 when one failed."""
    click.echo(dumps(doc, indent=2) if fmt == "json" else text)
    if crashed(errors):
        raise SystemExit(3)
    if failed:
        raise SystemExit(2)


def _assess_records(paths: tuple[str, ...], date: _dt.date | None
                    ) -> tuple[list[EnterpriseAssessment], list[dict[str, Any]], int]:
    """The assessments, an error record per file that failed (as ``riskgrade region`` writes them),
    and the number of files."""
    files = _expand(paths)
    out: list[EnterpriseAssessment] = []
    records: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for f in files:
        try:
            a = _assess_file(f, date, None)
        except RiskgradeError as exc:
            records.append(_error_record(f, exc))
            continue
        ident = a.enterprise.id
        if ident in seen:
            records.append(duplicate_record(f, ident, seen[ident]))
            continue
        seen[ident] = f
        out.append(a)
    return out, records, len(files)


@click.command("map")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, metavar="FILE", help="FILE.png, FILE.svg or FILE.geojson")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess every enterprise as of this date (YYYY-MM-DD)")
@click.option("--boundaries", metavar="GEOJSON", help="county polygons with an 'adcode' (default: the shipped "
              "Baiyin counties)")
@click.option("--statistic", type=click.Choice(STATISTICS), default=None,
              help="how a county's colour follows its enterprises' levels  [default: highest]")
@click.option("--site", is_flag=True, help="draw one enterprise's risk map on its site plan (企业安全风险四色分布图) "
              "from the site positions in its register; FILE.png or FILE.svg")
@_format_option
def map_cmd(files_or_dirs: tuple[str, ...], out: str, lang: str, as_of: str | None, boundaries: str | None,
            statistic: str | None, site: bool, fmt: str) -> None:
    """Draw the four-colour risk map (四色图) of enterprise registers (files or directories), or with
    --site the risk map of one enterprise on its site plan.

    \b
    riskgrade map examples/enterprises examples/region --as-of 2024-06-30 --out map.png
    riskgrade map examples/enterprises --out map.geojson
    riskgrade map --site examples/enterprises/chem-plant.yaml --as-of 2024-06-30 --out site.png
    """
    date = _parse_as_of(as_of)
    if site:
        _site_map(files_or_dirs, out, lang, date, boundaries, statistic, fmt)
        return
    assessments, records, errors = _assess_all(files_or_dirs, date)
    try:
        bounds = load_boundaries(boundaries) if boundaries else None
        m = RiskMap.build(assessments, boundaries=bounds, statistic=statistic or "highest")
        m.save(out, lang=lang)
    except RiskgradeError as exc:
        _cannot_write(out, exc, fmt)
    totals = m.totals()
    doc = {"written": written_files([out]), "counties": len(m.counties), "enterprises": len(assessments),
           "levels": {k: totals[k] for k in ("RED", "ORANGE", "YELLOW", "BLUE")}, "points": len(m.points),
           "errors": records}
    _finish(doc, f"{out}: {len(m.counties)} counties, {len(assessments)} enterprises ({_by_level(totals)}), "
                 f"{len(m.points)} drawn as points", fmt, records, errors)


def _by_level(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {counts[k]}" for k in ("RED", "ORANGE", "YELLOW", "BLUE"))


def _site_map(paths: tuple[str, ...], out: str, lang: str, date: _dt.date | None, boundaries: str | None,
              statistic: str | None, fmt: str) -> None:
    if len(paths) != 1 or os.path.isdir(paths[0]):
        raise click.UsageError("--site draws one enterprise: give one register file")
    if boundaries or statistic:
        raise click.UsageError("--boundaries and --statistic are options of the regional map, not of --site")
    try:
        a = _assess_file(paths[0], date, None)
    except RiskgradeError as exc:
        _cannot_write(paths[0], exc, fmt, "register")
    try:
        m = SiteMap.build(a)
        m.save(out, lang=lang)
    except RiskgradeError as exc:
        _cannot_write(out, exc, fmt)
    counts = m.counts()
    doc = {"written": written_files([out]), "enterprise": m.enterprise, "units": len(m.areas),
           "risk_points": len(m.points), "levels": {k: counts.get(k, 0) for k in ("RED", "ORANGE", "YELLOW", "BLUE")},
           "unlocated": list(m.unlocated)}
    _finish(doc, f"{out}: {m.enterprise} site map, {len(m.areas)} units and {len(m.points)} risk points drawn "
                 f"({_by_level(counts)})" + (f", without a position: {', '.join(m.unlocated)}" if m.unlocated else ""),
            fmt, [], 0)


@click.command("register")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, metavar="FILE", help="FILE.xlsx (two sheets) or FILE.csv")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess as of this date (YYYY-MM-DD)")
@_format_option
def register_cmd(files_or_dirs: tuple[str, ...], out: str, lang: str, as_of: str | None, fmt: str) -> None:
    """Export the risk register (风险分级管控清单) and the hidden-danger register (隐患排查治理台账).

    \b
    riskgrade register examples/enterprises/chem-plant.yaml --as-of 2024-06-30 --out chem.xlsx
    """
    date = _parse_as_of(as_of)
    assessments, records, errors = _assess_all(files_or_dirs, date)
    try:
        write_register(assessments, out, lang)
    except RiskgradeError as exc:
        _cannot_write(out, exc, fmt)
    points = sum(len(a.enterprise.risk_points) for a in assessments)
    hds = sum(len(a.enterprise.hidden_dangers) for a in assessments)
    files = [out, *([f"{out[:-4]}-hidden-dangers.csv"] if out.lower().endswith(".csv") else [])]
    doc = {"written": written_files(files), "enterprises": len(assessments),
           "levels": _levels(a.level for a in assessments), "risk_points": points, "hidden_dangers": hds,
           "errors": records}
    _finish(doc, f"{out}: {len(assessments)} enterprises, {points} risk points, {hds} hidden dangers", fmt,
            records, errors)


@click.command("card")
@click.argument("enterprise_file", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, metavar="DIR", help="directory for <risk point id>.pdf and .html")
@click.option("--point", metavar="ID", help="only this risk point (default: every risk point)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess as of this date (YYYY-MM-DD)")
@_format_option
def card_cmd(enterprise_file: str, out: str, point: str | None, lang: str, as_of: str | None, fmt: str) -> None:
    """Write risk cards (风险告知卡), one PDF and one HTML page per risk point.

    \b
    riskgrade card examples/enterprises/chem-plant.yaml --as-of 2024-06-30 --out cards/
    """
    date = _parse_as_of(as_of)
    try:
        a = _assess_file(enterprise_file, date, None)
    except RiskgradeError as exc:
        _cannot_write(enterprise_file, exc, fmt, "register")
    try:
        written = write_cards(a, out, point=point, lang=lang)
    except RiskgradeError as exc:
        _cannot_write(out, exc, fmt)
    ids = [point] if point else [p.id for p in a.enterprise.risk_points]
    if fmt != "json":
        for path in written:
            click.echo(path)
        return
    click.echo(dumps({"written": written_files(written), "enterprise": a.enterprise.id, "risk_points": len(ids),
                      "levels": _levels(a[pid].level for pid in ids)}, indent=2))


@click.command("report")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", required=True, metavar="DIR", help="directory for index.html, enterprise/, assets/")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--as-of", "as_of", metavar="DATE", help="assess every enterprise as of this date (YYYY-MM-DD)")
@click.option("--boundaries", metavar="GEOJSON", help="county polygons with an 'adcode' (default: the shipped "
              "Baiyin counties)")
@click.option("--statistic", type=click.Choice(STATISTICS), default="highest", show_default=True,
              help="how a county's colour follows its enterprises' levels")
@_format_option
def report_cmd(files_or_dirs: tuple[str, ...], out: str, lang: str, as_of: str | None, boundaries: str | None,
               statistic: str, fmt: str) -> None:
    """Write the regional report: a static HTML site (open DIR/index.html; no server, no internet) with the
    four-colour map, counts per jurisdiction and sector, the enterprise list with filters, a page per
    enterprise, and an error record for every register that could not be assessed.

    \b
    riskgrade report examples/enterprises examples/region --as-of 2024-06-30 --out report/
    """
    date = _parse_as_of(as_of)
    assessments, records, errors = _assess_all(files_or_dirs, date)
    try:
        bounds = load_boundaries(boundaries) if boundaries else None
        sups = {a.enterprise.id: sup for a in assessments if not isinstance(sup := supervision_of(a), Problem)}
        index = write_report(assessments, out, errors=records, lang=lang, boundaries=bounds, statistic=statistic,
                             supervision=sups)
    except RiskgradeError as exc:
        _cannot_write(out, exc, fmt)
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(out) for f in names)
    doc = {"index": index, "written": written_files(files), "pages": sum(f.endswith(".html") for f in files),
           "enterprises": len(assessments), "levels": _levels(a.level for a in assessments), "errors": records}
    _finish(doc, f"{index}: {len(assessments)} enterprises, {len(records)} error records", fmt, records, errors)
