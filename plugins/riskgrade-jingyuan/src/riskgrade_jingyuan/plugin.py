"""Hook implementations of the Jingyuan county plugin (entry point ``jingyuan`` in group ``riskgrade``)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from riskgrade.hookspecs import hookimpl


@hookimpl
def riskgrade_layers() -> list[Any]:
    """The county's layer files, shipped inside the package."""
    return [resources.files("riskgrade_jingyuan").joinpath("layers", "lec-generic.yaml")]
