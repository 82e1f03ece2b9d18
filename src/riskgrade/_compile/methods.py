"""Grading methods: the registry of rule kinds (``method:`` in a rule).

A method turns a rule's YAML into lines of Python placed in the ruleset's
generated grading function. It sets ``r_<i>`` to the rule's level as an int
(0 when the rule does not fire) and may set ``d_<i>`` (a detail: the band row or the
criteria matched) and output values ``v_<name>``.

Built in: ``direct`` (condition → level), ``composite`` (at least k of n criteria →
level), ``score`` (expression + bands), ``lec`` (D = L·E·C + bands), ``ls``
(R = L·S, S the max over its dimensions, + bands). Plugins register more through
the ``riskgrade_methods`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._core.levels import Level

if TYPE_CHECKING:
    from riskgrade._compile.pipeline import CompileContext

__all__ = ["Method", "builtin_methods"]


@attrs.frozen
class Method:
    """A grading method.

    ``schema``: cerberus schema of the keys the rule may have besides the common ones
    (``id``, ``method``, ``label``, ``cite``, ``note``). ``total``: the method gives a level
    for every valid input (so a ruleset needs no ``otherwise``). ``emit(rule, index,
    ctx)`` returns the code lines and the names of the values it outputs; it reports
    problems through ``ctx.problem``. ``explain(rule, detail, values, lang)`` renders
    one line for the trace.
    """

    name: str
    schema: Mapping[str, Any]
    total: bool
    emit: Callable[[Mapping[str, Any], int, CompileContext], tuple[list[str], list[str]]]
    explain: Callable[[Mapping[str, Any], Any, Mapping[str, Any], str], str]
    doc: str = ""


_expr = {"type": ["string", "number"], "required": True}
_level = {"type": "string", "required": True, "allowed": ["RED", "ORANGE", "YELLOW", "BLUE"]}


# -- direct -----------------------------------------------------------------------------------
def _emit_direct(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    cond = ctx.expr(rule["when"], ("rules", ctx.rule_pos(i), "when"))
    lv = int(Level[rule["level"]])
    return [f"r_{i} = {lv} if {cond} else 0"], []


def _explain_direct(rule: Mapping[str, Any], detail: Any, values: Mapping[str, Any], lang: str) -> str:
    when = " ".join(str(rule["when"]).split())
    return f"条件 {when}" if lang == "zh" else f"condition {when}"


# -- composite ----------------------------------------------------------------------------------
def _emit_composite(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    crits = rule["criteria"]
    ids = [c["id"] for c in crits]
    pos = ctx.rule_pos(i)
    for j, cid in enumerate(ids):
        if ids.index(cid) != j:
            ctx.problem(("rules", pos, "criteria", j, "id"), "duplicate-id", f"criterion id {cid!r} is used twice")
    k = rule["at_least"]
    if k > len(crits):
        ctx.problem(("rules", pos, "at_least"), "bad-value",
                    f"at_least is {k} but there are only {len(crits)} criteria")
    conds = [ctx.expr(c["when"], ("rules", pos, "criteria", j, "when")) for j, c in enumerate(crits)]
    lv = int(Level[rule["level"]])
    tup = "(" + "".join(f"bool({c}), " for c in conds) + ")"
    return [f"d_{i} = {tup}", f"r_{i} = {lv} if sum(d_{i}) >= {k} else 0"], []


def _explain_composite(rule: Mapping[str, Any], detail: Any, values: Mapping[str, Any], lang: str) -> str:
    matched = [c["id"] for c, hit in zip(rule["criteria"], detail or (), strict=False) if hit]
    n = len(matched)
    if lang == "zh":
        return f"满足 {n} 项(至少需 {rule['at_least']} 项): {', '.join(matched) or '无'}"
    return f"{n} criteria met (at least {rule['at_least']} needed): {', '.join(matched) or 'none'}"


# -- band based ---------------------------------------------------------------------------------
def _emit_banded(i: int, ctx: CompileContext, bands_name: str, score_src: str, path: tuple[Any, ...],
                 out_name: str | None) -> list[str]:
    lines = []
    target = f"v_{out_name}" if out_name else f"s_{i}"
    lines.append(f"{target} = {score_src}")
    bands = ctx.bands_for_levels(bands_name, path)
    if bands is None:
        return [*lines, f"r_{i} = 0", f"d_{i} = None"]
    lines += bands.inline(target, f"d_{i}", f"r_{i}")
    return lines


def _score_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    src = ctx.expr(rule["expr"], ("rules", pos, "expr"))
    out = rule.get("as")
    if out:
        ctx.declare_output(out, ("rules", pos, "as"))
    return _emit_banded(i, ctx, rule["bands"], src, ("rules", pos, "bands"), out), [out] if out else []


def _lec_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    parts = [ctx.expr(rule.get(k, k), ("rules", pos, k)) for k in ("L", "E", "C")]
    out = rule.get("as", "D")
    ctx.declare_output(out, ("rules", pos, "as"))
    src = f"({parts[0]} * {parts[1]} * {parts[2]})"
    return _emit_banded(i, ctx, rule["bands"], src, ("rules", pos, "bands"), out), [out]


def _ls_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    lsrc = ctx.expr(rule.get("L", "L"), ("rules", pos, "L"))
    lines: list[str] = []
    outs: list[str] = []
    if "S_dimensions" in rule:
        dims = [ctx.expr(d, ("rules", pos, "S_dimensions", j)) for j, d in enumerate(rule["S_dimensions"])]
        s_out = rule.get("S_as", "S")
        ctx.declare_output(s_out, ("rules", pos, "S_as"))
        lines.append(f"v_{s_out} = max({', '.join(dims)}{',' if len(dims) == 1 else ''})")
        ssrc = f"v_{s_out}"
        outs.append(s_out)
    else:
        ssrc = ctx.expr(rule.get("S", "S"), ("rules", pos, "S"))
    out = rule.get("as", "R")
    ctx.declare_output(out, ("rules", pos, "as"))
    outs.append(out)
    lines += _emit_banded(i, ctx, rule["bands"], f"({lsrc} * {ssrc})", ("rules", pos, "bands"), out)
    return lines, outs


def _explain_scored(out_key: str) -> Callable[[Mapping[str, Any], Any, Mapping[str, Any], str], str]:
    def explain(rule: Mapping[str, Any], detail: Any, values: Mapping[str, Any], lang: str) -> str:
        name = rule.get("as", out_key)
        val = values.get(name) if name else None
        return f"{name} = {_num(val)}" if name else ""

    return explain


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def builtin_methods() -> dict[str, Method]:
    """The grading methods shipped with riskgrade."""
    crit = {"type": "dict", "schema": {
        "id": {"type": "string", "required": True, "regex": r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"},
        "when": _expr,
        "label": {"type": ["string", "dict"]},
        "cite": {"type": "dict"},
        "note": {"type": ["string", "dict"]},
    }}
    out = {"type": "string", "regex": r"^[A-Za-z][A-Za-z0-9_]*$"}
    bands = {"type": "string", "required": True}
    return {
        "direct": Method("direct", {"when": _expr, "level": _level}, False, _emit_direct, _explain_direct,
                         "the rule's level when its condition holds (直接判定)"),
        "composite": Method("composite", {"criteria": {"type": "list", "required": True, "minlength": 1,
                                                       "schema": crit},
                                          "at_least": {"type": "integer", "required": True, "min": 1},
                                          "level": _level},
                            False, _emit_composite, _explain_composite,
                            "the rule's level when at least k of its criteria hold (综合判定)"),
        "score": Method("score", {"expr": _expr, "bands": bands, "as": out}, True, _score_emit,
                        _explain_scored(""), "a score expression graded by bands"),
        "lec": Method("lec", {"L": _expr | {"required": False}, "E": _expr | {"required": False},
                              "C": _expr | {"required": False}, "bands": bands, "as": out},
                      True, _lec_emit, _explain_scored("D"), "D = L × E × C graded by bands (LEC)"),
        "ls": Method("ls", {"L": _expr | {"required": False}, "S": _expr | {"required": False, "excludes": "S_dimensions"},
                            "S_dimensions": {"type": "list", "minlength": 1, "schema": _expr, "excludes": "S"},
                            "S_as": out, "bands": bands, "as": out},
                     True, _ls_emit, _explain_scored("R"), "R = L × S, S the max of its dimensions, graded by bands"),
    }
