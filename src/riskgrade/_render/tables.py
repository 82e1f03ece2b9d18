"""The registers as tables (台账): the risk register (风险分级管控清单) and the hidden-danger
register (隐患排查治理台账), written to Excel (openpyxl) or CSV.

Columns come from what a riskgrade register holds: possible accidents (GB 6441 categories), control
measures by kind, emergency measures and the responsible person at each control tier come from the
risk point's fields (docs/enterprise.md §1); a cell the register leaves empty stays empty.

>>> [c[0] for c in RISK_COLUMNS][:4]
['企业', '风险单元', '风险点编号', '风险点']
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from collections.abc import Sequence
from typing import Any

from riskgrade._core.canonical import fmt_number
from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment, tiers_text
from riskgrade._enterprise.register import CONTROL_CATEGORIES, CONTROL_TIERS, RiskPoint
from riskgrade._render.fonts import require
from riskgrade.exceptions import RenderError

__all__ = ["HIDDEN_DANGER_COLUMNS", "RISK_COLUMNS", "accidents_text", "cell_text", "controls_text", "hidden_danger_rows",
           "responsible_text", "risk_rows", "write_register"]

#: (zh header, en header) of the risk register, one row per risk point
RISK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("企业", "enterprise"), ("风险单元", "unit"), ("风险点编号", "risk point id"), ("风险点", "risk point"),
    ("危险源", "hazards"), ("可能导致的事故类型", "possible accidents"), ("评价规则集", "ruleset"),
    ("评价取值", "values"), ("分值", "score"), ("固有风险等级", "inherent level"), ("现实风险等级", "dynamic level"),
    ("管控层级", "control tier"), ("管控措施", "controls"), ("应急处置措施", "emergency measures"),
    ("责任人", "responsible person"), ("未整改隐患", "open hidden dangers"), ("坐标", "location"),
)
#: (zh header, en header) of the hidden-danger register, one row per hidden danger
HIDDEN_DANGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("企业", "enterprise"), ("隐患编号", "hidden danger id"), ("所在对象", "target"), ("隐患等级", "grade"),
    ("隐患描述", "description"), ("依据", "basis"), ("发现日期", "found"), ("整改期限", "deadline"),
    ("状态", "status"), ("整改/验收日期", "closed"), ("是否超期", "overdue"),
)
_LEVEL_COLS = {"固有风险等级", "现实风险等级"}
_HD_GRADE = {"general": ("一般隐患", "general"), "major": ("重大事故隐患", "major")}
_HD_STATUS = {"open": ("未整改", "open"), "rectified": ("已整改", "rectified"), "verified": ("已验收", "verified")}


def _level(lv: Level | None, zh: bool) -> str:
    if lv is None:
        return ""
    return f"{lv.zh}({lv.colour_zh})" if zh else f"{lv.name} ({lv.en})"


def accidents_text(rp: RiskPoint, hazard_categories: list[str], sep: str) -> str:
    """The possible accidents of a point: its GB 6441 ``possible_accidents``, else its hazards' categories."""
    return sep.join(rp.possible_accidents or sorted(set(c for c in hazard_categories if c)))


def controls_text(rp: RiskPoint, lang: str, sep: str = "; ") -> str:
    """``工程技术措施: a、b; 管理措施: c`` -- the point's control measures grouped by kind."""
    zh = lang == "zh"
    parts = []
    for key, label_zh, label_en in CONTROL_CATEGORIES:
        ms = [c.measure for c in rp.controls if c.category == key]
        if ms:
            parts.append(f"{label_zh if zh else label_en}: {('、' if zh else ', ').join(ms)}")
    return sep.join(parts)


def responsible_text(rp: RiskPoint, lang: str, first: str | None = None, sep: str = "; ") -> str:
    """``公司级: 王建国(总经理, 13909430001)`` per tier; the tier ``first`` (the point's control tier) leads."""
    zh = lang == "zh"
    tiers = dict(CONTROL_TIERS)
    people = sorted(rp.responsible, key=lambda r: r.tier != first)
    out = []
    for r in people:
        extra = [x for x in (r.department, r.position, r.phone) if x]
        who = r.name + (f"({', '.join(extra)})" if extra else "")
        out.append(f"{tiers[r.tier] if zh else r.tier}: {who}")
    return sep.join(out)


def risk_rows(a: EnterpriseAssessment, lang: str = "zh") -> list[list[Any]]:
    """One row per risk point (in register order), columns as :data:`RISK_COLUMNS`."""
    zh = lang == "zh"
    ent = a.enterprise
    units = {u.id: u.name for u in ent.units}
    rows: list[list[Any]] = []
    for rp in ent.risk_points:
        r = a.nodes[rp.id]
        hazards = [h for h in ent.hazards if h.risk_point == rp.id]
        values = " ".join(f"{k}={fmt_number(v) if isinstance(v, (int, float)) else v}"
                          for k, v in sorted(rp.facts.items()))
        loc = rp.location or {}
        where = (f"{loc['lon']},{loc['lat']}" if "lon" in loc else f"x={loc['x']} y={loc['y']}" if loc else "")
        rows.append([
            ent.name, units.get(rp.unit, rp.unit), rp.id, rp.name, "、".join(h.name for h in hazards),
            accidents_text(rp, [h.category for h in hazards], "、"), r.ruleset or "", values,
            r.score if isinstance(r.score, (int, float)) and not isinstance(r.score, bool) else
            ("" if r.score is None else str(r.score)),
            _level(r.inherent_level, zh), _level(r.level, zh), tiers_text(r.control_tiers, lang), controls_text(rp, lang),
            ("；" if zh else "; ").join(rp.emergency_measures), responsible_text(rp, lang, r.control_tier),
            "、".join(r.open_hidden_dangers), where,
        ])
    return rows


def hidden_danger_rows(a: EnterpriseAssessment, lang: str = "zh") -> list[list[Any]]:
    """One row per hidden danger, columns as :data:`HIDDEN_DANGER_COLUMNS`; overdue as of ``a.as_of``."""
    zh = lang == "zh"
    ent = a.enterprise
    names = {ent.id: ent.name}
    for group in (ent.units, ent.risk_points, ent.hazards):
        names.update({r.id: r.name for r in group})
    rows: list[list[Any]] = []
    for hd in ent.hidden_dangers:
        rows.append([
            ent.name, hd.id, f"{hd.target} {names.get(hd.target, '')}".strip(), _HD_GRADE[hd.grade][0 if zh else 1],
            hd.description, hd.basis, hd.found, hd.deadline or "", _HD_STATUS[hd.status][0 if zh else 1],
            hd.closed or "", ("是" if zh else "yes") if hd.is_overdue(a.as_of) else ("否" if zh else "no"),
        ])
    return rows


def _headers(cols: Sequence[tuple[str, str]], zh: bool) -> list[str]:
    return [z if zh else e for z, e in cols]


def write_register(assessments: Sequence[EnterpriseAssessment], path: str | os.PathLike[str],
                   lang: str = "zh") -> str:
    """Write the risk register and the hidden-danger register of ``assessments``.

    ``.xlsx``: one sheet each (风险分级管控清单, 隐患排查治理台账), frozen header, level cells
    filled with the level colour (needs ``riskgrade[render]``). ``.csv``: the risk register at
    ``path`` and the hidden-danger register beside it (``<stem>-hidden-dangers.csv``), UTF-8 with BOM
    so that spreadsheet programs read Chinese. Returns the path written.
    """
    out = os.fspath(path)
    ext = os.path.splitext(out)[1].lower()
    zh = lang == "zh"
    risk = [row for a in assessments for row in risk_rows(a, lang)]
    hds = [row for a in assessments for row in hidden_danger_rows(a, lang)]
    if ext == ".csv":
        stem = out[: -len(ext)]
        for file, cols, rows in ((out, RISK_COLUMNS, risk), (stem + "-hidden-dangers.csv", HIDDEN_DANGER_COLUMNS, hds)):
            with open(file, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(_headers(cols, zh))
                w.writerows([[cell_text(v) for v in row] for row in rows])
        return out
    if ext != ".xlsx":
        raise RenderError(f"{out}: a register is written as .xlsx or .csv, not {ext or 'no suffix'!r}",
                          code="bad-output")
    openpyxl = require("openpyxl")
    styles = require("openpyxl.styles")
    utils = require("openpyxl.utils")
    wb = openpyxl.Workbook()
    stamp = max((a.as_of for a in assessments), default=_dt.date(2000, 1, 1))
    wb.properties.created = wb.properties.modified = _dt.datetime(stamp.year, stamp.month, stamp.day)
    wb.properties.creator = "riskgrade"
    bold = styles.Font(bold=True)
    head_fill = styles.PatternFill("solid", fgColor="DDDDDD")
    sheets = ((("风险分级管控清单" if zh else "Risk register"), RISK_COLUMNS, risk),
              (("隐患排查治理台账" if zh else "Hidden dangers"), HIDDEN_DANGER_COLUMNS, hds))
    for i, (title, cols, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        ws.append(_headers(cols, zh))
        for cell in ws[1]:
            cell.font, cell.fill = bold, head_fill
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        level_idx = [j for j, (z, _e) in enumerate(cols) if z in _LEVEL_COLS]
        for r_i, row in enumerate(rows, start=2):
            for j in level_idx:
                lv = _parse_level(row[j])
                if lv is not None:
                    ws.cell(r_i, j + 1).fill = styles.PatternFill("solid", fgColor=lv.hex.lstrip("#").upper())
        for j, (z, e) in enumerate(cols, start=1):
            width = max([len(z if zh else e) * 2] + [len(cell_text(r[j - 1])) for r in rows] + [8])
            ws.column_dimensions[utils.get_column_letter(j)].width = min(width + 2, 60)
        ws.auto_filter.ref = ws.dimensions
    wb.save(out)
    return out


def _parse_level(text: Any) -> Level | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return Level.parse(text.split("(")[0].strip())
    except ValueError:
        return None


def cell_text(v: Any) -> str:
    """A cell as text: a date in ISO form, a number as riskgrade formats numbers."""
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt_number(v)
    return str(v)
