"""The built-in grading methods, declared (see :mod:`riskgrade._compile.extension`).

``direct`` (condition → level), ``composite`` (at least k of n criteria → level), ``score``
(expression + bands), ``lec`` (D = L·E·C + bands), ``ls`` (R = L·S, S the max over its
dimensions, + bands), ``mes`` (R = M·E·S + bands), ``matrix`` (the cell of a risk matrix). Each declares its keys, expressions and outputs like a plugin method;
being built in, each also has an ``emit`` that inlines its code in the generated grading
function instead of calling ``compute``. Plugins add methods through ``riskgrade_methods``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskgrade._compile.extension import BANDS, EXPR, LEVEL, NAME, CompileContext, Method
from riskgrade._core.canonical import fmt_number
from riskgrade._core.levels import Level

__all__ = ["builtin_methods"]

_OPTIONAL = {**EXPR, "required": False}


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
def emit_banded(i: int, ctx: CompileContext, bands_name: str, score_src: str, path: tuple[Any, ...],
                out_name: str) -> list[str]:
    """Lines that set ``v_<out_name>`` to the score and grade it by the bands ``bands_name``."""
    target = f"v_{out_name}"
    lines = [f"{target} = {score_src}"]
    bands = ctx.bands_for_levels(bands_name, path)
    if bands is None:
        return [*lines, f"r_{i} = 0", f"d_{i} = None"]
    lines += bands.inline(target, f"d_{i}", f"r_{i}")
    return lines


def _score_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    src = ctx.expr(rule["expr"], ("rules", pos, "expr"))
    outs = ctx.declare_outputs(_SCORE, rule, i)
    return emit_banded(i, ctx, rule["bands"], src, ("rules", pos, "bands"), outs[-1]), outs


def _lec_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    parts = [ctx.expr_bound(rule.get(k, k), ("rules", pos, k)) for k in ("L", "E", "C")]
    outs = ctx.declare_outputs(_LEC, rule, i)
    src = ctx.product(parts)
    return emit_banded(i, ctx, rule["bands"], src, ("rules", pos, "bands"), outs[-1]), outs


def _ls_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    lpart = ctx.expr_bound(rule.get("L", "L"), ("rules", pos, "L"))
    lines: list[str] = []
    outs = ctx.declare_outputs(_LS, rule, i)
    spart: tuple[str, float | None]
    if "S_dimensions" in rule:
        dims = [ctx.expr_bound(d, ("rules", pos, "S_dimensions", j)) for j, d in enumerate(rule["S_dimensions"])]
        srcs = [d[0] for d in dims]
        lines.append(f"v_{outs[0]} = max({', '.join(srcs)}{',' if len(srcs) == 1 else ''})")
        bounds = [d[1] for d in dims]
        spart = (f"v_{outs[0]}", None if any(b is None for b in bounds) else max(b for b in bounds if b is not None))
    else:
        spart = ctx.expr_bound(rule.get("S", "S"), ("rules", pos, "S"))
    lines += emit_banded(i, ctx, rule["bands"], ctx.product([lpart, spart]), ("rules", pos, "bands"), outs[-1])
    return lines, outs


def _mes_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    parts = [ctx.expr(rule.get(k, k), ("rules", pos, k)) for k in ("M", "E", "S")]
    outs = ctx.declare_outputs(_MES, rule, i)
    src = f"({parts[0]} * {parts[1]} * {parts[2]})"
    return emit_banded(i, ctx, rule["bands"], src, ("rules", pos, "bands"), outs[-1]), outs


def _matrix_emit(rule: Mapping[str, Any], i: int, ctx: CompileContext) -> tuple[list[str], list[str]]:
    pos = ctx.rule_pos(i)
    name = rule["matrix"]
    mx = ctx.matrices.get(name)
    if mx is None:
        if name not in ctx.broken_bands:
            ctx.problem(("rules", pos, "matrix"), "unknown-matrix", f"no matrix named {name!r}"
                        + (f"; defined: {', '.join(sorted(ctx.matrices))}" if ctx.matrices else ""))
        return [f"r_{i} = 0", f"d_{i} = None"], []
    row = ctx.expr(rule.get("row", mx.row_name), ("rules", pos, "row"))
    col = ctx.expr(rule.get("column", mx.column_name), ("rules", pos, "column"))
    k = ctx.compiler.const(mx)
    return [f"d_{i} = ({row}, {col})", f"r_{i} = {k}.level(d_{i}[0], d_{i}[1])"], []


def _explain_matrix(rule: Mapping[str, Any], detail: Any, values: Mapping[str, Any], lang: str) -> str:
    r, c = detail if isinstance(detail, tuple) else ("?", "?")
    row, col = rule.get("row", "row"), rule.get("column", "column")
    name = rule["matrix"]
    if lang == "zh":
        return f"矩阵 {name}: {row} = {fmt_number(r)}, {col} = {fmt_number(c)}"
    return f"matrix {name}: {row} = {fmt_number(r)}, {col} = {fmt_number(c)}"


def _product(*xs: Any) -> Any:
    out = 1
    for x in xs:
        out = out * x
    return out


_DIRECT = Method("direct", {"when": EXPR, "level": LEVEL}, expressions={"when": 1},
                 compute=bool, explain=_explain_direct, emit=_emit_direct,
                 doc="the rule's level when its condition holds (直接判定)")
_CRITERION = {"type": "dict", "schema": {
    "id": {"type": "string", "required": True, "regex": r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"},
    "when": EXPR,
    "label": {"type": ["string", "dict"]},
    "cite": {"type": "dict"},
    "note": {"type": ["string", "dict"]},
}}
_COMPOSITE = Method("composite", {"criteria": {"type": "list", "required": True, "minlength": 1,
                                               "schema": _CRITERION},
                                  "at_least": {"type": "integer", "required": True, "min": 1},
                                  "level": LEVEL},
                    compute=bool, explain=_explain_composite, emit=_emit_composite,
                    doc="the rule's level when at least k of its criteria hold (综合判定)")
_SCORE = Method("score", {"expr": EXPR, "bands": BANDS, "as": NAME}, expressions={"expr": 1},
                outputs={"as": "score"}, banded=True, compute=lambda expr: expr, emit=_score_emit,
                doc="a score expression graded by bands")
_LEC = Method("lec", {"L": _OPTIONAL, "E": _OPTIONAL, "C": _OPTIONAL, "bands": BANDS, "as": NAME},
              expressions={"L": 1, "E": 1, "C": 1}, defaults={"L": "L", "E": "E", "C": "C"}, outputs={"as": "D"},
              banded=True, compute=_product, operator="×", emit=_lec_emit, doc="D = L × E × C graded by bands (LEC)")
_LS = Method("ls", {"L": _OPTIONAL, "S": {**_OPTIONAL, "excludes": "S_dimensions"},
                    "S_dimensions": {"type": "list", "minlength": 1, "schema": EXPR, "excludes": "S"},
                    "S_as": NAME, "bands": BANDS, "as": NAME},
             expressions={"L": 1, "S": 1}, list_expressions={"S_dimensions": 1}, defaults={"L": "L", "S": "S"},
             outputs={"S_as": ("S", "S_dimensions"), "as": "R"}, banded=True, compute=_product, operator="×",
             emit=_ls_emit, doc="R = L × S, S the max of its dimensions, graded by bands")


_MES = Method("mes", {"M": _OPTIONAL, "E": _OPTIONAL, "S": _OPTIONAL, "bands": BANDS, "as": NAME},
               expressions={"M": 1, "E": 1, "S": 1}, defaults={"M": "M", "E": "E", "S": "S"}, outputs={"as": "R"},
               banded=True, compute=_product, operator="×", emit=_mes_emit,
               doc="R = M × E × S graded by bands (MES: 控制措施状态 × 暴露频繁程度 × 事故后果严重性)")
_MATRIX = Method("matrix", {"matrix": {"type": "string", "required": True, "regex": r"^[A-Za-z][A-Za-z0-9_]*$"},
                            "row": _OPTIONAL, "column": _OPTIONAL},
                 expressions={"row": 1, "column": 1}, total=True, compute=lambda row, column: (row, column),
                 explain=_explain_matrix, emit=_matrix_emit,
                 doc="the level of the cell (row, column) of a risk matrix (风险矩阵), any n × m")


def builtin_methods() -> dict[str, Method]:
    """The grading methods shipped with riskgrade."""
    return {m.name: m for m in (_DIRECT, _COMPOSITE, _SCORE, _LEC, _LS, _MES, _MATRIX)}
