"""``riskgrade plan``: the year's differentiated enforcement plan for a region (docs/supervision.md).

Exit codes: 0 every enterprise planned with an owner; 1 findings (a major risk, major hazard installation
or major hidden danger without a grid owner -- the plan is still printed); 2 usage or unusable input (a
register that cannot be assessed: its error record is printed with the others, nothing is dropped; no
register found; a supervision file that does not load).
"""

from __future__ import annotations

import csv
import io
import sys

import click

from riskgrade._api import plan
from riskgrade._cli.contract import crashed
from riskgrade._cli.main import EXIT_FINDINGS, EXIT_FUNCTION, EXIT_INPUT, _lang, _lang_option
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade.exceptions import RulesetError

__all__ = ["plan_cmd"]


@click.command("plan")
@click.argument("files_or_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--year", type=click.IntRange(1990, 2100), required=True, help="the plan's year (assessed as of 1 January)")
@click.option("--jurisdiction", "-j", default=None,
              help="plan only the enterprises in this GB/T 2260 code (or city/zone); the others are listed as outside")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("--layer", "layers", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="an extra supervision-layer file (repeatable), applied stricter-only after the shipped ones")
@_lang_option
def plan_cmd(files_or_dirs: tuple[str, ...], year: int, jurisdiction: str | None, fmt: str,
             layers: tuple[str, ...], lang: str | None) -> None:
    """The year's differentiated enforcement plan for the enterprise registers in FILES_OR_DIRS: per
    enterprise its level, inspections a year, the months, the items to check and the responsible
    departments; the totals per department.

    \b
    riskgrade plan examples/region --year 2027
    riskgrade plan examples/region --year 2027 --jurisdiction 620421 --format csv
    """
    lang = _lang(lang)
    if jurisdiction is not None:
        try:
            _jurisdictions.get(jurisdiction)
        except RulesetError as e:
            raise click.BadParameter(e.problems[0].message, param_hint="--jurisdiction") from None
    result = plan(files_or_dirs, year, jurisdiction=jurisdiction, layers=layers)
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(result.csv_rows(lang))
        click.echo(buf.getvalue(), nl=False)
        for err in result.errors:
            click.echo(f"{err.get('file') or err.get('record')}: {err['code']}: {err['message']}", err=True)
    else:
        click.echo(result.text(lang))
    if crashed(result.errors):  # a function or plugin failed on a register: code, not input
        sys.exit(EXIT_FUNCTION)
    if any("file" in e for e in result.errors) or not (result.enterprises or result.outside):
        sys.exit(EXIT_INPUT)
    if result.errors:
        sys.exit(EXIT_FINDINGS)
