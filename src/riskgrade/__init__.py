"""riskgrade: grade industrial safety risk under China's dual prevention mechanism.

风险分级管控与隐患排查治理双重预防机制的风险分级核心库。

>>> import riskgrade
>>> rs = riskgrade.load("lec-generic")
>>> a = rs.grade({"L": 3, "E": 6, "C": 15})
>>> a.level, a.level.zh, a.values["D"]
(<Level.ORANGE: 3>, '较大风险', 270)
"""

from __future__ import annotations

from riskgrade._api import list_rulesets, load
from riskgrade._compile.pipeline import CaseResult, Ruleset
from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment, LevelChange, RiskGraph
from riskgrade._enterprise.region import RegionGraph
from riskgrade._enterprise.register import Enterprise, load_enterprise
from riskgrade._grade.assessment import Assessment, Citation, Fired, RulesetRef, Step
from riskgrade._monitor.monitor import Alert, FeedResult, Monitor
from riskgrade._monitor.rules import load_monitor_ruleset
from riskgrade.exceptions import (
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
    "Alert",
    "Assessment",
    "CaseResult",
    "Citation",
    "Enterprise",
    "EnterpriseAssessment",
    "FactError",
    "FeedResult",
    "Fired",
    "GraphError",
    "Level",
    "LevelChange",
    "Monitor",
    "MonitorError",
    "PluginError",
    "RefinementError",
    "RegionGraph",
    "RiskGraph",
    "RiskgradeError",
    "Ruleset",
    "RulesetError",
    "RulesetRef",
    "Step",
    "list_rulesets",
    "load",
    "load_enterprise",
    "load_monitor_ruleset",
]
