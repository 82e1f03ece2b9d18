"""``riskgrade screen``: the admission decision for a new project (源头管控和安全准入), docs/screening.md.

Exit codes follow the command line's meanings: 0 the project passes; 1 a finding -- the decision is
``conditions`` or ``reject`` (the decision and its reasons are printed either way); 2 the project file or
the ruleset cannot be used (a bad fact names ``file:line:col`` and the field); 3 internal error.
"""

from __future__ import annotations

import sys

import click

from riskgrade._api import screen
from riskgrade._cli.contract import CRASHES
from riskgrade._cli.main import EXIT_FINDINGS, EXIT_INPUT, _lang, _lang_option, fact_error_text
from riskgrade._core.canonical import dumps
from riskgrade.exceptions import FactError, RiskgradeError

__all__ = ["screen_cmd"]

_COLOUR = {"pass": "green", "conditions": "yellow", "reject": "red"}


@click.command("screen")
@click.option("--ruleset", "-r", "ref", required=True,
              help="Shipped screening ruleset id (e.g. hazchem-project-screening) or a kind: screening file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: {project, decision, decision_text, reasons, conditions, default, ruleset, values}")
@_lang_option
@click.argument("project", type=click.Path(dir_okay=False))
def screen_cmd(ref: str, fmt: str, lang: str | None, project: str) -> None:
    """Screen the new PROJECT (a YAML or JSON file of project facts): pass, conditions or reject, each
    reason with its clause, document and verification status.

    Exit 0 when the project passes, 1 when it passes with conditions or is rejected, 2 when the project
    file or the ruleset cannot be used.
    """
    lang = _lang(lang)
    try:
        s = screen(ref, project)
    except FactError as e:
        if fmt == "json":
            click.echo(dumps({**e.to_dict(), "load": "project"}))
        else:
            click.echo(f"{e.record}: {fact_error_text(e, lang)}", err=True)
        sys.exit(EXIT_INPUT)
    except CRASHES:
        raise
    except RiskgradeError as e:
        if fmt != "json":
            raise
        click.echo(dumps({"error": getattr(e, "codes", ("ruleset",))[0] if getattr(e, "codes", ()) else "ruleset",
                          "load": "ruleset", "message": str(e)}))
        sys.exit(EXIT_INPUT)
    if fmt == "json":
        click.echo(dumps(s.to_dict(lang)))
    else:
        lines = s.explain(lang)
        click.echo(click.style(lines[0], fg=_COLOUR[s.decision], bold=s.decision != "pass"))
        for line in lines[1:]:
            click.echo(line)
    if s.decision != "pass":
        sys.exit(EXIT_FINDINGS)
