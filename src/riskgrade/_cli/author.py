"""The standards author's ``riskgrade diff`` and ``riskgrade whatif`` (attached to the main CLI by ``_cli``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

import click

from riskgrade._api import diff as diff_rulesets
from riskgrade._api import load_ref
from riskgrade._cli.main import (
    EXIT_FINDINGS,
    EXIT_FUNCTION,
    _graded_records,
    _lang,
    _lang_option,
    fact_error_text,
    styled_level,
)
from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade._source.facts import (
    DEFAULT_ID_FIELD,
    function_error_dict,
    position,
    read_facts,
    record_error_dict,
    record_id,
)
from riskgrade.exceptions import FactError, FunctionError

__all__ = ["diff_cmd", "whatif_cmd"]


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--facts", "facts", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="A population of records (.jsonl, .json or .yaml; - for JSON Lines on stdin) graded by both "
                   "rulesets; a record that cannot be read is an error record (exit 1), the others are compared.")
@click.option("--generate", "generate", type=click.IntRange(min=1), default=None, metavar="N",
              help="Without --facts: generate at most N records from the inputs (every combination "
                   "when there are at most N, else a seeded sample of N).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of a generated sample.")
@click.option("--old-jurisdiction", default=None, help="GB/T 2260 code whose layers apply to OLD.")
@click.option("--new-jurisdiction", default=None, help="GB/T 2260 code whose layers apply to NEW.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help='json: {"old", "new", "changes": [...], "population": {"records", "changed", '
                   '"transitions", "unchanged", "examples", "source", "errors"}} (riskgrade schema diff)')
@click.option("--id-field", "id_field", default=DEFAULT_ID_FIELD, show_default=True, metavar="NAME",
              help="the fact that names a record; echoed as id in its error record")
@_lang_option
def diff_cmd(old: str, new: str, facts: str | None, generate: int | None, seed: int, old_jurisdiction: str | None,
             new_jurisdiction: str | None, fmt: str, id_field: str, lang: str | None) -> None:
    """What changed from OLD to NEW, and how many records change level.

    OLD and NEW are shipped ids (id@edition), ruleset files, or either ending in
    @jurisdiction=CODE (the layers of that jurisdiction applied), e.g.
    lec-generic lec-generic@jurisdiction=620421.

    Exit 0 when every record of --facts was compared, 1 when a record could not be read (its error
    record is listed under population.errors, with index, line and id; the others are compared), 2 when
    a ruleset or the whole facts file cannot be used.
    """
    lang = _lang(lang)
    if facts is not None and generate is not None:
        raise click.UsageError("give --facts or --generate, not both")
    a, b = load_ref(old, old_jurisdiction), load_ref(new, new_jurisdiction)
    bad: list[dict[str, Any]] = []
    d = diff_rulesets(a, b, None if facts is None else _readable(facts, id_field or None, bad),
                      generate=generate, seed=seed)
    if fmt == "json":
        out = d.to_dict()
        if facts is not None:
            out["population"]["errors"] = bad
        click.echo(dumps(out, indent=2))
    else:
        click.echo(d.text(lang))
        for e in bad:
            click.echo(f"{e['record']}: {_T_ERROR[lang]}: {e['error']}: {e['message']}")
    if bad:
        sys.exit(EXIT_FINDINGS)


_T_ERROR = {"zh": "错误", "en": "error"}


def _readable(facts: str, id_field: str | None, bad: list[dict[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """The records of FACTS that can be read, in order; each one that cannot (a blank line, not JSON, not
    an object) is appended to ``bad`` as its error record, with its index, line and id, and not compared."""
    for rec in read_facts(facts):
        if rec.error is not None:
            bad.append({**record_error_dict(rec, rec.error), **position(rec, record_id(rec.facts, id_field))})
            continue
        yield rec.facts


def _fields(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.strip() for v in values for f in v.split(",") if f.strip())


@click.command("whatif")
@click.option("--ruleset", "-r", "ref", required=True,
              help="Shipped ruleset id (id@edition), a ruleset file, or either ending in @jurisdiction=CODE.")
@click.option("--jurisdiction", "-j", default=None, help="GB/T 2260 code whose layers apply.")
@click.option("--target", default=None, help="The level to reach or go below (default: one level below the record's).")
@click.option("--fix", "fix", multiple=True, metavar="FIELD",
              help="An input that must stay as it is (repeatable, or comma-separated).")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="Show at most this many options per record.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: one line per record (riskgrade schema whatif): {index, line, record, id, level, target, "
                   'options: [{changes: {"<field>": [from, to]}, level, distance, explanation}], evaluated, '
                   "complete, more}, or its error record")
@click.option("--id-field", "id_field", default=DEFAULT_ID_FIELD, show_default=True, metavar="NAME",
              help="the fact that names a record; echoed as id in its output (and not searched unless the "
                   "ruleset has that input)")
@_lang_option
@click.argument("facts", type=click.Path(dir_okay=False, allow_dash=True))
def whatif_cmd(ref: str, jurisdiction: str | None, target: str | None, fix: tuple[str, ...], limit: int, fmt: str,
               id_field: str, lang: str | None, facts: str) -> None:
    """What would change the level of each record of FACTS (- reads JSON Lines from stdin, streamed): the
    smallest changes to its inputs that grade it at --target or lower, fewest fields first.

    One output per input record, in order (a blank line is an error record). Exit 0 when every record was
    answered, 1 when a record was invalid, 3 when a function failed on one (the others are still
    answered), 2 when the ruleset or FACTS cannot be used (under --format json: a JSON load error)."""
    lang = _lang(lang)
    zh = lang == "zh"
    goal: Level | None = None
    if target is not None:
        try:
            goal = Level.parse(target)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--target") from None
    rs = load_ref(ref, jurisdiction)
    fixed = _fields(fix)
    unknown = [f for f in fixed if f not in rs.inputs]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not an input of {rs.id}; inputs: {', '.join(rs.inputs)}",
                                 param_hint="--fix")
    errors = crashed = 0
    json_out = fmt == "json"
    for rec, given, rid, res in _graded_records(rs, facts, id_field or None):
        if isinstance(res, FunctionError):
            crashed += 1
            click.echo(dumps({**function_error_dict(res), **position(rec, rid)}) if json_out
                       else f"{rec.where}: {'错误' if zh else 'error'}: {res}", err=not json_out)
            continue
        if isinstance(res, FactError):
            errors += 1
            click.echo(dumps({**record_error_dict(rec, res), **position(rec, rid)}) if json_out
                       else f"{rec.where}: {'错误' if zh else 'error'}: {fact_error_text(res, lang)}")
            continue
        cf = rs.counterfactuals(given, goal, fixed)
        if json_out:
            out: dict[str, Any] = cf.to_dict(lang)
            out["more"] = max(0, len(out["options"]) - limit)
            out["options"] = out["options"][:limit]
            click.echo(dumps({**out, **position(rec, rid)}))
            continue
        below = "或更低" if zh else "or lower"
        click.echo(f"{rec.where}: {styled_level(cf.level, lang)} → {'目标' if zh else 'target'} "
                   f"{cf.target.name} {below}")
        if cf.level <= cf.target:
            click.echo(f"  {'已达到目标等级' if zh else 'already at the target level or lower'}")
        elif not cf.options:
            click.echo(f"  {'在搜索范围内没有找到改法' if zh else 'no change found within the search bounds'}")
        for k, o in enumerate(cf.options[:limit], 1):
            click.echo(f"  {k}. {o.text(lang)}  ⇒ {styled_level(o.level, lang)}")
            for line in o.explanation(lang):
                click.echo(f"       {line}")
        if len(cf.options) > limit:
            click.echo(f"  … {len(cf.options) - limit} {'个其他改法' if zh else 'more'} (--limit)")
        how = ("穷举" if cf.complete else "达到搜索上限") if zh else ("complete" if cf.complete else "search bound reached")
        click.echo(f"  ({'评定了' if zh else 'graded'} {cf.evaluated} {'条记录' if zh else 'records'}; {how})")
    if crashed:
        sys.exit(EXIT_FUNCTION)
    if errors:
        sys.exit(EXIT_FINDINGS)
