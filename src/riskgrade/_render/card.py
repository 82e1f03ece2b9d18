"""Risk cards (风险告知卡): one page per risk point, as PDF (matplotlib's PDF backend, real text in
an embedded subset of the CJK font) and HTML.

A card shows what the register holds for the point: its level and colour, the enterprise and unit,
the hazards and the accidents they can cause (GB 6441 categories: the point's ``possible_accidents``,
else its hazards' categories), how it was graded (ruleset, values, score, the rule fired and its
citation), what changed the grade (open hidden dangers, vetoes), the control tier, its monitoring
points, its control measures by kind, emergency measures, the responsible person at each tier (the
point's own tier first) and the enterprise's emergency phones. What the register leaves out is printed
as "未填写 / not given", never left blank as if filled.

>>> card_lines_demo = [f for f, _ in FIELDS][:3]
>>> card_lines_demo
['enterprise', 'unit', 'level']
"""

from __future__ import annotations

import html
import os

from riskgrade._core.canonical import fmt_number
from riskgrade._enterprise.graph import EnterpriseAssessment, tiers_text
from riskgrade._render.fonts import cjk_font, require
from riskgrade._render.tables import accidents_text, controls_text, responsible_text
from riskgrade.exceptions import RenderError

__all__ = ["FIELDS", "card_fields", "write_cards"]

#: the rows of a card, in order: (key, (zh label, en label))
FIELDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("enterprise", ("企业", "Enterprise")), ("unit", ("风险单元", "Unit")), ("level", ("风险等级", "Risk level")),
    ("inherent", ("固有风险", "Inherent risk")), ("hazards", ("危险源", "Hazards")),
    ("accidents", ("可能导致的事故", "Possible accidents")), ("grading", ("评价", "Grading")),
    ("basis", ("依据", "Basis")), ("changes", ("动态调整", "Dynamic changes")),
    ("tier", ("管控层级", "Control tier")), ("monitoring", ("监测点", "Monitoring points")),
    ("controls", ("管控措施", "Controls")), ("emergency", ("应急处置措施", "Emergency measures")),
    ("responsible", ("责任人", "Responsible")), ("phone", ("应急电话", "Emergency phone")),
)
_NOT_GIVEN = ("未填写(台账无此项)", "not given in the register")


def card_fields(a: EnterpriseAssessment, point_id: str, lang: str = "zh") -> list[tuple[str, str]]:
    """The (label, text) rows of the card of risk point ``point_id``."""
    zh = lang == "zh"
    ent = a.enterprise
    rp = next((p for p in ent.risk_points if p.id == point_id), None)
    if rp is None:
        raise KeyError(point_id)
    r = a.nodes[point_id]
    unit = next((u.name for u in ent.units if u.id == rp.unit), rp.unit)
    hazards = [h for h in ent.hazards if h.risk_point == rp.id]
    sep = "、" if zh else ", "
    values = " ".join(f"{k}={fmt_number(v) if isinstance(v, (int, float)) else v}" for k, v in sorted(rp.facts.items()))
    score = "" if r.score is None else (fmt_number(r.score) if isinstance(r.score, (int, float)) else str(r.score))
    cites = []
    for f in r.fired:
        c = f.get("citation") or {}
        cite = " ".join(x for x in (c.get("title") or c.get("source", ""), c.get("number", ""), c.get("clause", "")) if x)
        if cite:
            cites.append(cite)
    changes = [f"{m.effect_zh if zh else m.effect_en}: {m.label_zh if zh else m.label_en}"
               + (f" ({' '.join(m.subjects)})" if m.subjects else "") for m in r.modifiers]
    mps = [f"{m.name} ({m.quantity}{' ' + m.unit if m.unit else ''})" for m in ent.monitoring_points
           if m.risk_point == rp.id]
    none = "无" if zh else "none"
    missing = _NOT_GIVEN[0 if zh else 1]
    text = {
        "enterprise": f"{ent.name} ({ent.id})",
        "unit": f"{unit} ({rp.unit})",
        "level": f"{r.level.zh} · {r.level.colour_zh}色" if zh else f"{r.level.name} ({r.level.en})",
        "inherent": r.inherent_level.zh if zh else f"{r.inherent_level.name} ({r.inherent_level.en})",
        "hazards": sep.join(h.name for h in hazards) or none,
        "accidents": accidents_text(rp, [h.category for h in hazards], sep) or none,
        "grading": " · ".join(x for x in (r.ruleset or "", values, (f"分值 {score}" if zh else f"score {score}")
                                          if score else "") if x),
        "basis": "; ".join(cites) or none,
        "changes": "; ".join(changes) or none,
        "tier": tiers_text(r.control_tiers, lang) or none,
        "monitoring": sep.join(mps) or none,
        "controls": controls_text(rp, lang) or missing,
        "emergency": ("；" if zh else "; ").join(rp.emergency_measures) or missing,
        "responsible": responsible_text(rp, lang, r.control_tier) or missing,
        "phone": "; ".join(f"{c.name} {c.phone}" for c in ent.emergency_contacts) or missing,
    }
    return [(label[0 if zh else 1], text[key]) for key, label in FIELDS]


def _wrap(text: str, width: int) -> str:
    """Wrap by display width (a CJK character counts two)."""
    lines, cur, w = [], "", 0
    for ch in text:
        cw = 2 if ord(ch) > 0x2E80 else 1
        if w + cw > width:
            lines.append(cur)
            cur, w = "", 0
        cur += ch
        w += cw
    lines.append(cur)
    return "\n".join(lines)


def write_cards(a: EnterpriseAssessment, out_dir: str | os.PathLike[str], *, point: str | None = None,
                lang: str = "zh", font: str | None = None, formats: tuple[str, ...] = ("pdf", "html")) -> list[str]:
    """Write one card per risk point (or only ``point``) to ``out_dir``: ``<point id>.pdf`` and
    ``<point id>.html``. Returns the paths written, in register order."""
    ids = [p.id for p in a.enterprise.risk_points]
    if point is not None:
        if point not in ids:
            raise RenderError(f"enterprise {a.enterprise.id} has no risk point {point!r}", code="bad-output")
        ids = [point]
    for fmt in formats:
        if fmt not in ("pdf", "html"):
            raise RenderError(f"a risk card is written as pdf or html, not {fmt!r}", code="bad-output")
    out = os.fspath(out_dir)
    os.makedirs(out, exist_ok=True)
    written: list[str] = []
    for pid in ids:
        rows = card_fields(a, pid, lang)
        if "pdf" in formats:
            written.append(_pdf(a, pid, rows, os.path.join(out, f"{pid}.pdf"), lang, font))
        if "html" in formats:
            written.append(_html(a, pid, rows, os.path.join(out, f"{pid}.html"), lang))
    return written


def _title(a: EnterpriseAssessment, pid: str, lang: str) -> tuple[str, str]:
    name = a.nodes[pid].name
    return ("安全风险告知卡", f"{name} ({pid})") if lang == "zh" else ("Safety risk card", f"{name} ({pid})")


def _pdf(a: EnterpriseAssessment, pid: str, rows: list[tuple[str, str]], path: str, lang: str,
         font: str | None) -> str:
    figure_mod = require("matplotlib.figure")
    patches = require("matplotlib.patches")
    fm = require("matplotlib.font_manager")
    mpl = require("matplotlib")
    fp = fm.FontProperties(fname=cjk_font(font))
    lv = a.nodes[pid].level
    fig = figure_mod.Figure(figsize=(8.27, 11.69))  # A4
    head, sub = _title(a, pid, lang)
    fig.patches.append(patches.Rectangle((0, 0.86), 1, 0.14, transform=fig.transFigure, facecolor=lv.hex,
                                         edgecolor="none"))
    ink = "#111111" if lv.name == "YELLOW" else "white"
    fig.text(0.5, 0.94, head, fontproperties=fp, fontsize=26, ha="center", va="center", color=ink)
    fig.text(0.5, 0.895, sub, fontproperties=fp, fontsize=15, ha="center", va="center", color=ink)
    # shrink the text until every row fits between the header band and the footer (a long list of
    # controls must not run off the page)
    scale = 1.0
    while True:
        bodies = [_wrap(text, int(62 / scale)) for _, text in rows]
        lines = sum(b.count("\n") + 1 for b in bodies)
        if 0.022 * scale * (lines + len(rows)) <= 0.78 or scale < 0.45:
            break
        scale *= 0.9
    y = 0.83
    for (label, _text), body in zip(rows, bodies, strict=True):
        n = body.count("\n") + 1
        fig.text(0.07, y, label, fontproperties=fp, fontsize=11 * scale, va="top", color="#333333", weight="bold")
        fig.text(0.30, y, body, fontproperties=fp, fontsize=11 * scale, va="top", color="#111111", linespacing=1.4)
        y -= 0.022 * scale * (n + 1)
    when = a.as_of.isoformat()
    fig.text(0.5, 0.03, (f"评估基准日 {when} · riskgrade 生成" if lang == "zh" else f"as of {when} · made by riskgrade"),
             fontproperties=fp, fontsize=8, ha="center", color="#666666")
    # Type 3 glyphs with a ToUnicode map: the text extracts as Chinese, and a CFF-flavoured OpenType
    # font (Noto CJK) is not mislabelled as TrueType as Type 42 would be
    with mpl.rc_context({"pdf.fonttype": 3}):
        fig.savefig(path, format="pdf", metadata={"CreationDate": None, "Creator": "riskgrade",
                                                    "Title": f"{head} {sub}"})
    return path


def _html(a: EnterpriseAssessment, pid: str, rows: list[tuple[str, str]], path: str, lang: str) -> str:
    lv = a.nodes[pid].level
    head, sub = _title(a, pid, lang)
    ink = "#111" if lv.name == "YELLOW" else "#fff"
    body = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    page = f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{html.escape(head)} {html.escape(sub)}</title>
<style>body{{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Zen Hei",sans-serif;margin:0}}
header{{background:{lv.hex};color:{ink};text-align:center;padding:1em}} h1{{margin:0;font-size:2em}}
table{{border-collapse:collapse;margin:1em auto;width:90%}} th,td{{border:1px solid #999;padding:.4em;text-align:left;
vertical-align:top}} th{{width:22%;background:#f3f3f3}}</style></head>
<body><header data-level="{lv.name}"><h1>{html.escape(head)}</h1><p>{html.escape(sub)}</p></header>
<table>
{body}
</table>
<p style="text-align:center;color:#666;font-size:.8em">{html.escape(a.as_of.isoformat())} · riskgrade</p>
</body></html>
"""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page)
    return path
