"""Hook implementations of the MES test plugin.

* method ``mes-demo``: R = M × E × S (M 控制措施状态, E 暴露频繁程度, S 事故后果严重性), declared:
  riskgrade compiles the expressions, calls :func:`mes_score` and grades R with the rule's bands;
* function ``mes_fail(x)``: raises ``ZeroDivisionError`` for 0 (to test ``FunctionError``);
* roll-up modifier ``mes-night-shift``: holds for a node whose facts say ``night_shift: true``;
* fact enricher: for ruleset ``mes-test``, ``controls: none|partial|full`` fills ``M`` (5/3/1).

Everything here is pure: no I/O, no clock, no global state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskgrade import Function, Method
from riskgrade.hookspecs import hookimpl

#: cerberus schema snippets of the rule keys (the same shapes riskgrade's own methods use); M, E and
#: S are optional in a rule: they default to the inputs of the same name
_EXPR: dict[str, Any] = {"type": ["string", "number"]}
_BANDS: dict[str, Any] = {"type": "string", "required": True}
_NAME: dict[str, Any] = {"type": "string", "regex": r"^[A-Za-z][A-Za-z0-9_]*$"}

#: controls (控制措施) → M, as in the MES M scale: none 5, mitigation only 3, prevention 1
CONTROLS_M = {"none": 5, "partial": 3, "full": 1}


def mes_score(M: float, E: float, S: float) -> float:
    """R = M × E × S."""
    return M * E * S


def mes_fail(x: float) -> float:
    """``x``, but ``ZeroDivisionError`` for 0 (a deliberately buggy function)."""
    if x == 0:
        return 1 / x  # ZeroDivisionError, on purpose
    return x


MES = Method(
    "mes-demo",
    schema={"M": _EXPR, "E": _EXPR, "S": _EXPR, "bands": _BANDS, "as": _NAME},
    expressions={"M": 1, "E": 1, "S": 1},
    defaults={"M": "M", "E": "E", "S": "S"},
    outputs={"as": "R"},
    banded=True,
    compute=mes_score,
    operator="×",
    doc="MES: R = M × E × S (控制措施状态 × 暴露频繁程度 × 事故后果严重性)",
)


@hookimpl
def riskgrade_methods() -> list[Method]:
    return [MES]


@hookimpl
def riskgrade_functions() -> list[Function]:
    return [Function("mes_fail", mes_fail, (1, 1), "mes_fail(x): x, but fails for 0 (TEST ONLY)")]


def night_shift(*, kind: str, node: str, record: Any, own: Any, as_of: Any) -> bool:
    """Holds for a risk point or hazard whose facts say ``night_shift: true``."""
    facts = getattr(record, "facts", None) or {}
    return facts.get("night_shift") is True


@hookimpl
def riskgrade_rollup_modifiers() -> Mapping[str, Any]:
    return {"mes-night-shift": night_shift}


@hookimpl
def riskgrade_enrich_facts(ruleset_id: str, facts: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if ruleset_id != "mes-test" or "M" in facts or facts.get("controls") not in CONTROLS_M:
        return None
    out = {k: v for k, v in facts.items() if k != "controls"}
    out["M"] = CONTROLS_M[facts["controls"]]
    return out
