"""The machine contract of the command line under ``--format json``: a load error is one JSON error
record on stdout, in the place of the output it stops (``riskgrade schema KIND`` describes it), never
plain text there; exit codes as docs/platform.md says.

>>> from riskgrade.exceptions import FactError
>>> load_error_dict(FactError("cannot read x.yaml", record="x.yaml", code="unreadable"), "facts")
{'error': 'unreadable', 'load': 'facts', 'message': 'cannot read x.yaml', 'record': 'x.yaml', 'field': None}
"""

from __future__ import annotations

from typing import Any

import click

from riskgrade.exceptions import FactError, GraphError, Problem, RefinementError, RiskgradeError, RulesetError

__all__ = ["JSON_FORMATS", "LOAD_OF_COMMAND", "json_command", "load_error_dict", "missing_file_dict", "problem_dict"]

#: the ``--format`` values that make a command's stdout a machine's (``monitor`` prints JSON Lines by default)
JSON_FORMATS = ("json", "jsonl")

#: what a load error of each command names as unusable when the error does not say (``load``)
LOAD_OF_COMMAND = {"assess": "register", "region": "register", "plan": "register", "screen": "project",
                   "whatif": "facts", "diff": "facts", "monitor": "monitor", "verify": "results",
                   "check-refinement": "ruleset", "validate": "file", "test": "file"}


def problem_dict(p: Problem) -> dict[str, Any]:
    """A problem in a JSON record: code, message, file:line:col."""
    return {"code": p.code, "message": p.message, "file": p.file, "line": p.line, "col": p.col}


def load_error_dict(e: RiskgradeError, what: str, **extra: Any) -> dict[str, Any]:
    """The JSON load error of ``e`` (what could not be used: ``what``), with ``extra`` keys (``file``)."""
    if isinstance(e, RefinementError):
        out: dict[str, Any] = {"error": e.codes[0] if e.codes else "refinement", "load": "layer", "message": str(e),
                               "problems": [problem_dict(p) for p in e.problems]}
    elif isinstance(e, RulesetError):
        out = {"error": e.codes[0] if e.codes else "ruleset", "load": what, "message": str(e),
               "problems": [problem_dict(p) for p in e.problems]}
    elif isinstance(e, FactError):
        out = {"error": e.code, "load": what, "message": e.message,
               "record": None if e.record is None else str(e.record), "field": e.field}
    elif isinstance(e, GraphError):
        out = {"error": "cycle" if e.cycle else "graph", "load": what, "message": str(e)}
    else:
        code = getattr(e, "code", None)
        out = {"error": code if isinstance(code, str) else "internal-error", "load": what, "message": str(e)}
    return {**out, **extra}


def missing_file_dict(path: str, what: str = "file") -> dict[str, Any]:
    """The load error of a path that does not exist (``unreadable``)."""
    return {"error": "unreadable", "load": what, "file": path,
            "message": f"cannot read {path}: No such file or directory"}


def json_command(group: click.Group, ctx: click.Context, invoked: tuple[str, list[str]] | None) -> str | None:
    """The name of the command ``invoked`` (name and arguments) when its ``--format`` is a JSON one, else
    None -- read back from its arguments without running anything (resilient parsing)."""
    if invoked is None:
        return None
    name, args = invoked
    cmd = group.get_command(ctx, name)
    if cmd is None or isinstance(cmd, click.Group):
        return None
    try:
        sub = cmd.make_context(name, list(args), parent=ctx, resilient_parsing=True)
    except (click.exceptions.ClickException, click.exceptions.Exit):
        return None
    return name if sub.params.get("fmt") in JSON_FORMATS else None
