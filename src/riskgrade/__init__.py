"""riskgrade: grade industrial safety risk under China's dual prevention mechanism.

风险分级管控与隐患排查治理双重预防机制的风险分级核心库。

>>> import riskgrade
>>> rs = riskgrade.load("lec-generic")
>>> a = rs.grade({"L": 3, "E": 6, "C": 15})
>>> a.level, a.level.zh, a.values["D"]
(<Level.ORANGE: 3>, '较大风险', 270)
"""

from __future__ import annotations

from ._api import list_rulesets, load
from ._levels import Level
from ._model import Assessment, Citation, Fired, RulesetRef, Step
from ._ruleset import CaseResult, Ruleset
from .exceptions import (
    FactError,
    GraphError,
    MonitorError,
    PluginError,
    RefinementError,
    RiskgradeError,
    RulesetError,
)

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "CaseResult",
    "Citation",
    "FactError",
    "Fired",
    "GraphError",
    "Level",
    "MonitorError",
    "PluginError",
    "RefinementError",
    "RiskgradeError",
    "Ruleset",
    "RulesetError",
    "RulesetRef",
    "Step",
    "list_rulesets",
    "load",
]
