"""The names the generated grading code calls (its globals besides its own constants).

Failures keep their cause: a bad fact is a :class:`~riskgrade.exceptions.FactError` naming
the field; a function or plugin that raises becomes a
:class:`~riskgrade.exceptions.FunctionError` located at the YAML rule being graded, with the
original exception as ``__cause__``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from riskgrade._compile import values
from riskgrade._core.levels import Level
from riskgrade._grade.assessment import Assessment
from riskgrade.exceptions import FactError, FunctionError

__all__ = ["namespace"]


def namespace(locations: Mapping[str, tuple[str, int]]) -> dict[str, Any]:
    """Globals for one ruleset's generated code; ``locations`` maps rule ids to their YAML line."""

    def locate(e: FunctionError, at: str | None) -> None:
        if e.rule is None and at is not None:
            e.rule = at
            e.file, e.line = locations.get(at, ("", 0))

    return {
        "FactError": FactError, "_FE": FactError, "_FnE": FunctionError, "_locate": locate,
        "_LEVELS": (None, *Level), "_NUM": (int, float), "_INF": math.inf,
        "_bad": values.bad, "_missing": values.missing, "_extra": values.extra, "_fail": values.fail,
        "_not_mapping": values.not_mapping, "_nonfinite": values.nonfinite,
        "_finite_items": values.finite_items,
        "_new": tuple.__new__, "_A": Assessment,
    }
