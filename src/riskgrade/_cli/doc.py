"""CLI commands for authors: ``riskgrade doc`` (a ruleset's page) and ``riskgrade schema`` (JSON Schema).

Exit codes: 0 success; 1 the ruleset has problems; 2 usage (an unknown ruleset, a bad option).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from riskgrade._api import SECTIONS, facts_schema_of, load
from riskgrade._cli.main import _lang, _lang_option
from riskgrade._compile.layers import LAYER_SCHEMA
from riskgrade._compile.methods import builtin_methods
from riskgrade._compile.pipeline import _COMMON_RULE_KEYS
from riskgrade._core.canonical import dumps
from riskgrade._grade import doc as _doc
from riskgrade._plugins import get_plugins
from riskgrade._validate import jsonschema as _js
from riskgrade._validate.commands import COMMAND_SCHEMAS, command_schema

__all__ = ["SCHEMA_KINDS", "doc_cmd", "schema_cmd", "schema_for"]

#: what ``riskgrade schema`` can print: the file formats, a ruleset's facts, and every command's JSON output
SCHEMA_KINDS = ("ruleset", "layer", "facts", "result", "record", "verification", *sorted(COMMAND_SCHEMAS))


def _method_schemas() -> dict[str, Mapping[str, Any]]:
    methods = {**builtin_methods(), **get_plugins().methods()}
    return {name: m.schema for name, m in methods.items()}


def _common_rule_keys() -> dict[str, Any]:
    # ``cite.layer`` is written by layering, never in a file (reserved-key)
    cite = dict(_COMMON_RULE_KEYS["cite"])
    cite["schema"] = {k: v for k, v in cite["schema"].items() if k != "layer"}
    return {**_COMMON_RULE_KEYS, "cite": cite}


def schema_for(kind: str, ref: str | None = None, jurisdiction: str | None = None,
               lang: str = "zh") -> dict[str, Any]:
    """The JSON Schema ``riskgrade schema KIND [REF]`` prints (``facts`` needs ``ref``)."""
    if kind == "ruleset":
        return _js.ruleset_schema(_method_schemas(), _common_rule_keys(), SECTIONS)
    if kind == "layer":
        criterion = builtin_methods()["composite"].schema["criteria"]["schema"]
        return _js.layer_schema(LAYER_SCHEMA, _method_schemas(), _common_rule_keys(), criterion)
    if kind == "facts":
        if not ref:
            raise click.UsageError("schema facts needs a ruleset: riskgrade schema facts REF")
        return facts_schema_of(load(ref, jurisdiction=jurisdiction), lang)
    if kind == "result":
        return _js.result_schema()
    if kind == "record":
        return _js.record_schema()
    if kind == "verification":
        return _js.verification_schema()
    if kind in COMMAND_SCHEMAS:
        return command_schema(kind)
    raise click.UsageError(f"unknown schema {kind!r}; known: {', '.join(SCHEMA_KINDS)}")


@click.command("schema")
@click.argument("kind", type=click.Choice(SCHEMA_KINDS))
@click.argument("ref", required=False)
@click.option("--jurisdiction", "-j", default=None, help="facts: the GB/T 2260 code whose layers apply")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="write the schema to FILE instead of printing it")
@_lang_option
def schema_cmd(kind: str, ref: str | None, jurisdiction: str | None, out: str | None, lang: str | None) -> None:
    """Print a JSON Schema (draft 2020-12): of the ruleset or layer file format (for editors), of one
    ruleset's facts (schema facts REF), of a grading result (schema result), of one JSON line of
    grade/explain --format json, error records included (schema record), of verify (schema
    verification), or of any other command's --format json output, its load error and exit-3 failure
    included (schema validate, test, check-refinement, list, assess, region, whatif, plan, screen, diff,
    monitor, plugins; and, for the commands that write files, what was written: schema map, register,
    card, report, adapt-import, adapt-export -- schema register is the register command's output).

    \b
    riskgrade schema ruleset --out ruleset.schema.json
    riskgrade schema facts lec-generic
    riskgrade schema whatif
    """
    if ref and kind != "facts":
        raise click.UsageError(f"schema {kind} takes no REF (only schema facts REF does)")
    text = dumps(schema_for(kind, ref, jurisdiction, _lang(lang)), indent=2) + "\n"
    _write(text, out)


@click.command("doc")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(list(_doc.FORMATS)), default="md", show_default=True,
              help="md: Markdown; html: a standalone UTF-8 page")
@click.option("--jurisdiction", "-j", default=None, help="GB/T 2260 code whose layers apply")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="write the page to FILE instead of printing it")
@_lang_option
def doc_cmd(ref: str, fmt: str, jurisdiction: str | None, out: str | None, lang: str | None) -> None:
    """Print the documentation page of a ruleset (a file, a shipped id or id@edition): sources, inputs,
    tables, bands, derived values, rules with citations and cases, generated from the ruleset itself.

    The page is bilingual (中文 / English); --lang is the language of error messages and of the html
    page's lang attribute."""
    _write(_doc.render(load(ref, jurisdiction=jurisdiction), fmt, lang=_lang(lang)), out)


def _write(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
