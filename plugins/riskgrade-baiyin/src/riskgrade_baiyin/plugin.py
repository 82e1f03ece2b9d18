"""Hook implementations of the Baiyin city plugin (entry point ``baiyin`` in group ``riskgrade``)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from riskgrade.hookspecs import Function, hookimpl


def crowd_factor(persons: float, reference: float) -> float:
    """How many times the reference headcount are exposed at once, at least 1.

    Pure: the result depends on the arguments only (no clock, no I/O, no state).

    >>> crowd_factor(0, 10), crowd_factor(25, 10)
    (1.0, 2.5)
    """
    if reference <= 0:
        raise ValueError("the reference headcount must be positive")
    return max(1.0, persons / reference)


@hookimpl
def riskgrade_layers() -> list[Any]:
    """The city's layer files, shipped inside the package."""
    return [resources.files("riskgrade_baiyin").joinpath("layers", "lec-generic.yaml")]


@hookimpl
def riskgrade_functions() -> list[Function]:
    """``crowd_factor(persons, reference)`` for the city's layer."""
    return [Function("crowd_factor", crowd_factor, (2, 2),
                     "crowd_factor(persons, reference): max(1, persons / reference)")]
