"""riskgrade: grade industrial safety risk under China's dual prevention mechanism.

风险分级管控与隐患排查治理双重预防机制的风险分级核心库。

>>> import riskgrade
>>> rs = riskgrade.load("lec-generic")
>>> a = rs.grade({"L": 3, "E": 6, "C": 15})
>>> a.level, a.level.zh, a.values["D"]
(<Level.ORANGE: 3>, '较大风险', 270)
"""

from __future__ import annotations

from typing import Any as _Any

from riskgrade._api import (
    LayerFile,
    Monitor,
    RiskGraph,
    assess,
    assess_region,
    check_refinement,
    diff,
    jurisdiction_chain,
    list_rulesets,
    load,
    load_screening,
    load_supervision,
    plan,
    screen,
    supervise,
    verify,
)
from riskgrade._compile.expr import Compiled, Compiler
from riskgrade._compile.extension import CompileContext, Function, Method
from riskgrade._compile.layers import Layer
from riskgrade._compile.refine import Counterexample, DifferentialResult, RefinementReport
from riskgrade._compile.tables import Bands, Matrix, Table
from riskgrade._core.citation import Citation
from riskgrade._core.codes import describe
from riskgrade._core.jurisdictions import Jurisdiction
from riskgrade._core.levels import Level
from riskgrade._core.limits import Limits, set_limits
from riskgrade._core.provenance import RulesetRef
from riskgrade._enterprise.adapters import MinistryExport, MinistryGap, export_ministry, import_ministry
from riskgrade._enterprise.graph import ChainStep, Decision, EnterpriseAssessment, LevelChange, NodeResult
from riskgrade._enterprise.region import EnterpriseSummary, RegionGraph, RegionResult
from riskgrade._enterprise.register import (
    Accident,
    Contact,
    Control,
    Dependency,
    Enterprise,
    Hazard,
    HiddenDanger,
    MonitoringPoint,
    Responsible,
    RiskPoint,
    Unit,
    load_enterprise,
    register_data,
)
from riskgrade._enterprise.rollup import Applied, Condition, External, KindRollup, Modifier, Rollup
from riskgrade._grade.assessment import Assessment, Fired, Step
from riskgrade._grade.coverage import Coverage, coverage
from riskgrade._grade.diff import PopulationDiff, RulesetChange, RulesetDiff
from riskgrade._grade.doc import render as ruleset_page
from riskgrade._grade.doc import render_index as ruleset_index
from riskgrade._grade.receipt import Verification
from riskgrade._grade.ruleset import CaseResult, Ruleset
from riskgrade._grade.screening import AdmissionCondition, Reason, Screening, ScreeningRuleset
from riskgrade._grade.whatif import Counterfactual, Counterfactuals
from riskgrade._monitor.events import Event
from riskgrade._monitor.monitor import Alert, DynamicLevelChange, FeedResult
from riskgrade._monitor.rules import (
    Effect,
    Message,
    WarningRule,
    WarningRules,
    load_monitor_ruleset,
)
from riskgrade._render.card import write_cards
from riskgrade._render.report import write_report
from riskgrade._render.riskmap import County, MapPoint, RiskMap, load_boundaries
from riskgrade._render.sitemap import SiteArea, SiteMap, SitePoint
from riskgrade._render.tables import write_register
from riskgrade._source.yaml import Located
from riskgrade._supervision.declaration import (
    GridGovernment,
    InspectionContent,
    InsuranceRule,
    ReassessmentCycle,
    Supervision,
)
from riskgrade._supervision.outputs import GridOwner, SupervisionResult
from riskgrade._supervision.plan import EnforcementPlan
from riskgrade.exceptions import (
    EventError,
    FactError,
    FunctionError,
    GraphError,
    MonitorError,
    PluginError,
    Problem,
    RefinementError,
    RenderError,
    RiskgradeError,
    RiskgradeWarning,
    RulesetError,
)

__version__ = "0.1.0"


def serve_app(*, rulesets: tuple[str, ...] = (), max_body: int = 8 * 1024 * 1024, max_batch: int = 10_000,
              timeout: float = 30.0, api_keys: tuple[str, ...] = (), access_log: str | None = None,
              reload_check: float = 1.0) -> _Any:
    """The ASGI application of ``riskgrade serve`` (a FastAPI app; needs the extra ``riskgrade[serve]``):
    the shipped rulesets plus the ruleset files ``rulesets`` (served by their ids), with the request
    limits ``max_body`` (bytes, 413), ``max_batch`` (records, 413) and ``timeout`` (seconds, 408); with
    ``api_keys``, every request but ``/healthz`` and the OpenAPI document needs one (401 without); ``access_log``: a file (``-``: standard
    error) to append one JSON line per decision to; ``reload_check``: how often, at most, in seconds, a
    served ruleset's files are looked at for a change (0: before every request). See docs/platform.md."""
    # the web stack is an optional extra: imported only when an app is asked for
    from riskgrade._serve import ServeOptions, create_app

    return create_app(ServeOptions(tuple(rulesets), max_body=max_body, max_batch=max_batch, timeout=timeout,
                                   api_keys=tuple(api_keys), access_log=access_log, reload_check=reload_check))

__all__ = [
    "Accident",
    "AdmissionCondition",
    "Alert",
    "Applied",
    "Assessment",
    "Bands",
    "CaseResult",
    "ChainStep",
    "Citation",
    "CompileContext",
    "Compiled",
    "Compiler",
    "Condition",
    "Contact",
    "Control",
    "Counterexample",
    "Counterfactual",
    "Counterfactuals",
    "County",
    "Coverage",
    "Decision",
    "Dependency",
    "DifferentialResult",
    "DynamicLevelChange",
    "Effect",
    "EnforcementPlan",
    "Enterprise",
    "EnterpriseAssessment",
    "EnterpriseSummary",
    "Event",
    "EventError",
    "External",
    "FactError",
    "FeedResult",
    "Fired",
    "Function",
    "FunctionError",
    "GraphError",
    "GridGovernment",
    "GridOwner",
    "Hazard",
    "HiddenDanger",
    "InspectionContent",
    "InsuranceRule",
    "Jurisdiction",
    "KindRollup",
    "Layer",
    "LayerFile",
    "Level",
    "LevelChange",
    "Limits",
    "Located",
    "MapPoint",
    "Matrix",
    "Message",
    "Method",
    "MinistryExport",
    "MinistryGap",
    "Modifier",
    "Monitor",
    "MonitorError",
    "MonitoringPoint",
    "NodeResult",
    "PluginError",
    "PopulationDiff",
    "Problem",
    "Reason",
    "ReassessmentCycle",
    "RefinementError",
    "RefinementReport",
    "RegionGraph",
    "RegionResult",
    "RenderError",
    "Responsible",
    "RiskGraph",
    "RiskMap",
    "RiskPoint",
    "RiskgradeError",
    "RiskgradeWarning",
    "Rollup",
    "Ruleset",
    "RulesetChange",
    "RulesetDiff",
    "RulesetError",
    "RulesetRef",
    "Screening",
    "ScreeningRuleset",
    "SiteArea",
    "SiteMap",
    "SitePoint",
    "Step",
    "Supervision",
    "SupervisionResult",
    "Table",
    "Unit",
    "Verification",
    "WarningRule",
    "WarningRules",
    "assess",
    "assess_region",
    "check_refinement",
    "coverage",
    "describe",
    "diff",
    "export_ministry",
    "import_ministry",
    "jurisdiction_chain",
    "list_rulesets",
    "load",
    "load_boundaries",
    "load_enterprise",
    "load_monitor_ruleset",
    "load_screening",
    "load_supervision",
    "plan",
    "register_data",
    "ruleset_index",
    "ruleset_page",
    "screen",
    "serve_app",
    "set_limits",
    "supervise",
    "verify",
    "write_cards",
    "write_register",
    "write_report",
]

# one front door: the public types say they live here (as httpx does); errors live in riskgrade.exceptions
for _name in __all__:
    _obj = globals()[_name]
    if (isinstance(_obj, type) or callable(_obj)) and _obj.__module__ != "riskgrade.exceptions":
        _obj.__module__ = "riskgrade"
del _name, _obj
