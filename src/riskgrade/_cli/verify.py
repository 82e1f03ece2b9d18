"""``riskgrade verify RESULTS``: replay stored decisions from their receipts (docs/platform.md).

Exit codes: 0 every stored result replays to the same bytes (error records are reported as
``no-decision``); 1 a result differs (a finding: the same code and ruleset now decide otherwise, or the
kept input is not the one graded); 2 a result cannot be replayed here (no receipt, another riskgrade or
plugin version, a changed or missing ruleset, an unreadable line) or the results file cannot be read.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from riskgrade._api import verify
from riskgrade._cli.main import EXIT_FINDINGS, EXIT_INPUT, _lang, _lang_option
from riskgrade._core.canonical import dumps
from riskgrade._grade.receipt import Verification
from riskgrade._source.facts import position, read_facts, record_id
from riskgrade.exceptions import FactError

__all__ = ["verify_cmd"]

_WORDS = {"zh": {"identical": "一致", "differs": "不一致", "cannot-replay": "无法重放", "no-decision": "无评级"},
          "en": {"identical": "identical", "differs": "DIFFERS", "cannot-replay": "cannot replay",
                 "no-decision": "no decision"}}


@click.command("verify")
@click.argument("results", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--ruleset", "-r", "rulesets", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="a ruleset file that results name by its id (not shipped); repeatable")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: one JSON object per stored line (riskgrade schema verification)")
@_lang_option
def verify_cmd(results: str, rulesets: tuple[str, ...], fmt: str, lang: str | None) -> None:
    """Replay every stored result of RESULTS (grade/explain --format json output: .jsonl, .json, or - for
    stdin, streamed) from its receipt, and say per line: identical, differs, or cannot replay.

    The input replayed is the kept facts (grade --with-input) when the line has them, else the
    result's inputs; each is checked against its SHA-256 in the receipt first."""
    lang = _lang(lang)
    words = _WORDS[lang]
    differs = unplayable = 0
    try:
        for rec in read_facts(results):
            stored = rec.facts
            if rec.error is not None:
                v = Verification("cannot-replay", rec.error.code, f"the stored line cannot be read: {rec.error.message}")
            elif not isinstance(stored, dict):
                v = Verification("cannot-replay", "not-a-mapping", "the stored line is not a JSON object")
            else:
                v = verify(stored, rulesets=rulesets)
            differs += v.status == "differs"
            unplayable += v.status == "cannot-replay"
            rid = record_id(stored, "id") if isinstance(stored, dict) else None
            if fmt == "json":
                click.echo(dumps({**v.to_dict(), **position(rec, rid)}))
            else:
                receipt = f" {v.receipt_id[:19]}" if v.receipt_id else ""
                reason = f" ({v.reason})" if v.reason else ""
                click.echo(f"{rec.where}:{receipt} {words[v.status]}{reason}: {v.message}")
    except FactError as e:  # the whole results document cannot be read
        if fmt != "json":
            raise
        out: dict[str, Any] = {"error": e.code, "load": "results", "message": e.message, "record": e.record,
                               "field": e.field}
        click.echo(dumps(out))
        sys.exit(EXIT_INPUT)
    if differs:
        sys.exit(EXIT_FINDINGS)
    if unplayable:
        sys.exit(EXIT_INPUT)
