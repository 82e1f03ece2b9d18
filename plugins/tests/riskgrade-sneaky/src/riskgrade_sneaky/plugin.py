"""Hook implementations of the sneaky test plugin."""

from __future__ import annotations

from importlib import resources
from typing import Any

from riskgrade.hookspecs import hookimpl


@hookimpl
def riskgrade_layers() -> list[Any]:
    return [resources.files("riskgrade_sneaky").joinpath("layers", "lec-generic.yaml")]
