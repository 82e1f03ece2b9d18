"""CLI commands for exchange formats: ``riskgrade adapt import`` and ``riskgrade adapt export``.

With ``--format json`` (and ``-o FILE``) each prints one JSON document on stdout (``riskgrade schema
adapt-import``, ``adapt-export``): the file written (path, format, bytes, sha256) and what it holds; an
input or output that cannot be used is one load error there.

Exit codes: 0 success; 1 ``export --strict`` and required fields of the exchange format have no value
in the register (the file is still written); 2 bad input (a document or register that cannot be read,
an unknown or missing field, an output that cannot be written); 3 a plugin or riskgrade itself failed.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
import yaml

from riskgrade._cli.contract import CRASHES, load_error_dict, written_files
from riskgrade._cli.main import _lang, _lang_option
from riskgrade._core.canonical import dumps
from riskgrade._core.codes import describe
from riskgrade._enterprise.adapters import TABLES, export_ministry, import_ministry
from riskgrade._enterprise.register import register_data
from riskgrade.exceptions import FactError, RiskgradeError

__all__ = ["adapt_group"]

_FORMATS = ("ministry",)


_format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                              show_default=True,
                              help="json: one document on stdout: the file written (path, format, bytes, sha256) "
                                   "and what it holds (needs -o FILE)")


def _write(out: str, text: str, fmt: str) -> None:
    if out == "-":
        sys.stdout.write(text)
        return
    try:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        if fmt == "json":
            click.echo(dumps({"error": "bad-output", "load": "output", "file": out,
                              "message": f"cannot write {out}: {exc.strerror}"}))
        click.echo(f"{out}: cannot write: {exc.strerror}", err=True)
        raise SystemExit(2) from None


def _fail(source: str, exc: RiskgradeError, lang: str, fmt: str, what: str) -> NoReturn:
    if fmt == "json":
        click.echo(dumps(load_error_dict(exc, what, file=source)))
    code = getattr(exc, "code", "")
    meaning = f" ({describe(code, lang)})" if isinstance(exc, FactError) and code else ""
    click.echo(f"{source}: {exc}{meaning}", err=True)
    raise SystemExit(3 if isinstance(exc, CRASHES) else 2)


def _json_needs_a_file(fmt: str, out: str) -> None:
    if fmt == "json" and out == "-":
        raise click.UsageError("--format json prints what was written: give -o FILE (with -o - the document "
                               "itself is stdout)")


@click.group("adapt")
@_lang_option
@click.pass_context
def adapt_group(ctx: click.Context, lang: str | None) -> None:
    """Convert registers to and from exchange formats (docs/adapters.md).

    \b
    riskgrade adapt export --to ministry examples/enterprises/chem-plant.yaml -o chem-ministry.json
    riskgrade adapt import --from ministry chem-ministry.json -o chem.yaml
    """
    ctx.obj = {"lang": lang}


def _lang_of(lang: str | None) -> str:
    """The subcommand's ``--lang``, else the group's, else the environment's (``_cli.main``)."""
    ctx = click.get_current_context()
    group = (ctx.parent.obj or {}).get("lang") if ctx.parent is not None else None
    return _lang(lang or group)


@adapt_group.command("import")
@click.option("--from", "source", type=click.Choice(_FORMATS), required=True, help="the format of FILE")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out", required=True, metavar="REGISTER.yaml", help="the register to write ('-': stdout)")
@click.option("--name", help="the enterprise's name (when the document has no x-riskgrade block)")
@click.option("--jurisdiction", metavar="CODE", help="GB/T 2260 code of its county (idem)")
@click.option("--sector", "sectors", multiple=True, help="its sector(s), e.g. hazchem (idem)")
@_lang_option
@_format_option
def import_cmd(source: str, file: str, out: str, name: str | None, jurisdiction: str | None,
               sectors: tuple[str, ...], lang: str | None, fmt: str) -> None:
    """Read FILE (a ministry dual-prevention JSON document) and write it as a riskgrade register."""
    lang = _lang_of(lang)
    _json_needs_a_file(fmt, out)
    try:
        ent = import_ministry(file, name=name, jurisdiction=jurisdiction, sectors=sectors or None)
    except RiskgradeError as exc:
        _fail(file, exc, lang, fmt, "file")
    data = register_data(ent)
    _write(out, yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), fmt)
    kept = data.get("x-ministry") or {}
    n_kept = sum(len(f) for t in (kept.get("records") or {}).values() for f in t.values())
    n_tables = sum(len(v) for v in (kept.get("tables") or {}).values())
    n_deleted = sum(len(v) for v in (kept.get("deleted") or {}).values())
    if fmt == "json":
        click.echo(dumps({"written": written_files([out]), "from": source, "enterprise": ent.id,
                          "risk_points": len(ent.risk_points), "hazards": len(ent.hazards),
                          "hidden_dangers": len(ent.hidden_dangers),
                          "kept": {"values": n_kept, "tables": n_tables, "deleted": n_deleted}}, indent=2))
        return
    zh = lang == "zh"
    click.echo((f"{out}: {len(ent.risk_points)} 个风险点, {len(ent.hazards)} 个危险源, {len(ent.hidden_dangers)} 条隐患; "
                f"x-ministry 保留 {n_kept} 个台账无对应字段的值、{n_tables} 条排查任务/记录、{n_deleted} 条已删除记录")
               if zh else
               (f"{out}: {len(ent.risk_points)} risk points, {len(ent.hazards)} hazards, "
                f"{len(ent.hidden_dangers)} hidden dangers; kept in x-ministry: {n_kept} values with no register "
                f"field, {n_tables} inspection tasks/records, {n_deleted} deleted records"), err=out == "-")


@adapt_group.command("export")
@click.option("--to", "target", type=click.Choice(_FORMATS), required=True, help="the format to write")
@click.argument("register", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out", required=True, metavar="FILE.json", help="the document to write ('-': stdout)")
@click.option("--strict", is_flag=True, help="exit 1 when required fields have no value in the register")
@_lang_option
@_format_option
def export_cmd(target: str, register: str, out: str, strict: bool, lang: str | None, fmt: str) -> None:
    """Write REGISTER in the ministry's dual-prevention field set (JSON, one list per table)."""
    lang = _lang_of(lang)
    _json_needs_a_file(fmt, out)
    try:
        result = export_ministry(register)
    except RiskgradeError as exc:
        _fail(register, exc, lang, fmt, "register")
    _write(out, result.to_json(), fmt)
    zh = lang == "zh"
    by_field: dict[tuple[str, str], int] = {}
    for g in result.gaps:
        by_field[g.table, g.field] = by_field.get((g.table, g.field), 0) + 1
    if fmt == "json":
        doc: dict[str, Any] = {"written": written_files([out]), "to": target,
                               "tables": {t: len(result.data[t]) for t, _ in TABLES},
                               "gaps": [{"table": t, "field": f, "count": n} for (t, f), n in sorted(by_field.items())]}
        click.echo(dumps(doc, indent=2))
        if result.gaps and strict:
            raise SystemExit(1)
        return
    counts = ", ".join(f"{t} {len(result.data[t])}" for t, _ in TABLES)
    click.echo(f"{out}: {counts}", err=out == "-")
    if result.gaps:
        click.echo((f"{len(result.gaps)} 个必填字段在台账中无值(已写为 null):" if zh else
                    f"{len(result.gaps)} required fields have no value in the register (written as null):"), err=True)
        for (t, f), n in sorted(by_field.items()):
            click.echo(f"  {t}.{f}: {n}", err=True)
        if strict:
            raise SystemExit(1)
