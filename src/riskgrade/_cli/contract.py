"""The machine contract of the command line under ``--format json``: a load error is one JSON error
record on stdout, in the place of the output it stops (``riskgrade schema KIND`` describes it), never
plain text there; exit codes as docs/platform.md says.

>>> from riskgrade.exceptions import FactError
>>> load_error_dict(FactError("cannot read x.yaml", record="x.yaml", code="unreadable"), "facts")
{'error': 'unreadable', 'load': 'facts', 'message': 'cannot read x.yaml', 'record': 'x.yaml', 'field': None}
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import Any

import click

from riskgrade._source.facts import function_error_dict
from riskgrade._validate.jsonschema import FAILURE_CODES
from riskgrade.exceptions import (
    FactError,
    FunctionError,
    GraphError,
    MonitorError,
    PluginError,
    Problem,
    RefinementError,
    RiskgradeError,
    RulesetError,
)

__all__ = ["CRASHES", "CRASH_CODES", "JSON_FORMATS", "LOAD_OF_COMMAND", "crash_dict", "crashed", "json_command", "load_error_dict",
           "missing_file_dict", "problem_dict", "written_dict", "written_files"]

#: the codes of an exit-3 error record: code failed (a function, a plugin's hook, riskgrade itself), not the input
CRASH_CODES = FAILURE_CODES

#: the riskgrade exceptions that mean code failed (exit 3), never bad input: a command that catches
#: ``RiskgradeError`` to report bad input lets these through
CRASHES = (FunctionError, PluginError, MonitorError)


def crashed(errors: Any) -> bool:
    """Whether any error record of ``errors`` (``riskgrade region``, ``plan``, ``assess``) is an exit-3 failure."""
    return any(e.get("code") in CRASH_CODES for e in errors)

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


def crash_dict(e: BaseException) -> dict[str, Any]:
    """The JSON error record of an exit-3 failure (``riskgrade schema KIND`` calls it ``failure``): a
    function that failed (``function-error``, naming it, its plugin and rule), a plugin's hook that failed
    or returned something wrong (``plugin-error``, naming the plugin and hook), or anything else that
    escaped (``internal-error``, naming the exception's type).

    >>> crash_dict(ZeroDivisionError("division by zero"))
    {'error': 'internal-error', 'message': 'ZeroDivisionError: division by zero', 'exception': 'ZeroDivisionError'}
    """
    if isinstance(e, FunctionError):
        return function_error_dict(e)
    if isinstance(e, PluginError):
        return {"error": "plugin-error", "message": str(e), "plugin": e.plugin, "hook": e.hook}
    return {"error": "internal-error", "message": f"{type(e).__name__}: {e}", "exception": type(e).__name__}


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
    if isinstance(cmd, click.Group):  # ``adapt export ...``: the subcommand is its first argument that names one
        at = next((i for i, a in enumerate(args) if a in cmd.commands), None)
        if at is None:
            return None
        found = json_command(cmd, ctx, (args[at], args[at + 1:]))
        return None if found is None else f"{name} {found}"
    if cmd is None:
        return None
    try:
        sub = cmd.make_context(name, list(args), parent=ctx, resilient_parsing=True)
    except (click.exceptions.ClickException, click.exceptions.Exit):
        return None
    return name if sub.params.get("fmt") in JSON_FORMATS else None


def written_dict(path: str) -> dict[str, Any]:
    """What a command wrote to ``path``: the path, its format (the suffix), its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    return {"path": path, "format": fmt, "bytes": size, "sha256": f"sha256:{digest.hexdigest()}"}


def written_files(paths: Iterable[str]) -> list[dict[str, Any]]:
    """:func:`written_dict` of each of ``paths``, in their order."""
    return [written_dict(p) for p in paths]
