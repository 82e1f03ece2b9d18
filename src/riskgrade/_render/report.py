"""The regional report (区域安全风险报告): a static HTML site with ``index.html`` at its root.

The index shows the four-colour map (the SVG of :class:`~riskgrade._render.riskmap.RiskMap`,
embedded), the counts per region and per sector, the enterprise list with filters (plain
script, works opened from disk) and every error record; each enterprise has a page with its
explained grade, risk tree, site map (企业安全风险四色分布图, when the register has site
positions), risk points, open hidden dangers and, when the assessment carries one, its
supervision plan. Nothing is fetched from elsewhere: the stylesheet and the script are copied
into ``assets/``, the maps are inline SVG with their text drawn as paths. All text from the
registers is escaped. Same input, same bytes.

>>> import datetime, tempfile, riskgrade
>>> a = riskgrade.assess(None, "examples/region/jingtai.yaml", as_of=datetime.date(2024, 6, 30))
>>> out = tempfile.mkdtemp()
>>> index = write_report([a], out, errors=[{"file": "bad.yaml", "message": "not a register"}])
>>> sorted(os.listdir(out)), os.listdir(os.path.join(out, "enterprise"))
(['assets', 'enterprise', 'index.html', 'map.geojson'], ['E-620423-POWER-01.html'])
>>> [k for k, _ in ERROR_FIELDS]
['file', 'error', 'code', 'record', 'field', 'message']
>>> page_names(["E-1", "P-1", "p-1", "甲/乙"])  # doctest: +ELLIPSIS
{'E-1': 'E-1', 'P-1': '_...', 'p-1': '_...', '甲/乙': '_...'}
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import importlib.resources
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from riskgrade._core.levels import Level
from riskgrade._core.spellings import GRADE_ZH
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._enterprise.region import REGION_NAMES, RegionGraph, region_chain
from riskgrade._render.figure import svg_fragment
from riskgrade._render.riskmap import County, RiskMap
from riskgrade._render.sitemap import SiteMap
from riskgrade._render.tables import (
    HIDDEN_DANGER_COLUMNS,
    RISK_COLUMNS,
    cell_text,
    hidden_danger_rows,
    risk_rows,
)
from riskgrade._supervision.outputs import SupervisionResult
from riskgrade._validate.schema import SECTORS
from riskgrade.exceptions import RenderError

__all__ = ["ERROR_FIELDS", "GENERATOR", "page_names", "write_report"]

#: the ``<meta name="generator">`` of every page; a directory whose index.html has it may be rewritten
GENERATOR = "riskgrade report"
#: the columns of an error record: (key, (zh, en))
ERROR_FIELDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("file", ("文件", "file")), ("error", ("错误类型", "error")), ("code", ("代码", "code")),
    ("record", ("记录", "record")), ("field", ("字段", "field")), ("message", ("说明", "message")),
)
_ORDER = tuple(reversed(Level))  # RED first
_ASSETS = ("report.css", "report.js")
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")
# scripts only from the report's own files; styles inline too (the SVG maps carry style attributes)
_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"

_T: dict[str, tuple[str, str]] = {
    "report": ("区域安全风险报告", "Regional safety risk report"),
    "as_of": ("评估基准日", "as of"),
    "enterprises": ("企业", "enterprises"),
    "errors": ("错误记录", "Error records"),
    "errors_banner": ("{n} 个文件未能评估, 见错误记录", "{n} files could not be assessed: see the error records"),
    "no_errors": ("无错误记录", "no error records"),
    "map": ("四色图", "Four-colour map"),
    "map_note": ("点击县区可筛选企业清单。示意图, 非标准地图。",
                 "Click a county to filter the enterprise list. Schematic, not an official map."),
    "geojson": ("GeoJSON 数据", "GeoJSON data"),
    "by_region": ("按辖区统计", "By jurisdiction"),
    "by_sector": ("按行业统计", "By sector"),
    "list": ("企业清单", "Enterprise list"),
    "code": ("代码", "code"), "name": ("名称", "name"), "total": ("合计", "total"), "sector": ("行业", "sector"),
    "enterprise": ("企业名称", "enterprise"), "id": ("编号", "id"), "region": ("辖区", "jurisdiction"),
    "level": ("现实风险等级", "dynamic level"), "inherent": ("固有风险等级", "inherent level"),
    "points": ("风险点", "risk points"), "open_hd": ("未整改隐患(重大)", "open hidden dangers (major)"),
    "overdue": ("逾期", "overdue"),
    "filter_level": ("风险等级", "level"), "filter_region": ("辖区", "jurisdiction"),
    "filter_sector": ("行业", "sector"), "filter_q": ("搜索名称或编号", "search name or id"),
    "all": ("全部", "all"), "reset": ("重置", "reset"),
    "shown": ("显示 {n} / {total} 家", "showing {n} of {total}"),
    "back": ("← 区域报告", "← regional report"),
    "facts": ("基本信息", "Register"), "uscc": ("统一社会信用代码", "unified social credit code"),
    "zone": ("园区", "zone"), "standardisation": ("安全生产标准化", "safety standardisation"),
    "source": ("台账文件", "register file"), "rulesets": ("评价规则集", "Rulesets"),
    "version": ("版本", "version"), "edition": ("版次", "edition"), "fingerprint": ("指纹", "fingerprint"),
    "explain": ("等级说明", "Why this level"), "tree": ("风险树", "Risk tree"),
    "site": ("企业安全风险四色分布图", "Enterprise risk map"),
    "no_site": ("台账中没有厂区平面坐标(风险单元的 area/location、风险点的 location), 未绘制分布图。",
                "The register has no site positions (a unit's area/location, a risk point's location): no map drawn."),
    "risk_points": ("风险点", "Risk points"),
    "open": ("未整改隐患", "Open hidden dangers"),
    "closed_note": ("另有 {n} 条已整改或已验收的隐患(见台账导出)。",
                    "{n} more hidden dangers are rectified or verified (see the register export)."),
    "none": ("无", "none"),
    "supervision": ("监管计划", "Supervision plan"),
    "sup_inspections": ("年度检查次数", "inspections a year"),
    "sup_items": ("检查内容(判定条目数)", "inspection content (determination items)"),
    "sup_grid": ("网格责任主体", "grid owners"),
    "sup_insurance": ("安责险费率浮动系数", "insurance rate factor"),
    "key": ("项目", "item"), "value": ("内容", "value"),
    "made_by": ("由 riskgrade 生成", "made by riskgrade"),
    "not_graded": ("未评定", "not graded"),
}


def _t(key: str, lang: str) -> str:
    return _T[key][0 if lang == "zh" else 1]


def _e(v: Any) -> str:
    return html.escape(cell_text(v) if v is not None else "", quote=True)


def page_names(ids: Iterable[str]) -> dict[str, str]:
    """The page file name (without ``.html``) of each enterprise id: the id itself when it is a safe
    file name that no other id equals ignoring case, else ``_`` and 16 hex digits of its SHA-256
    (a safe id never starts with ``_``, so the two kinds cannot clash)."""
    ids = list(ids)
    folded: dict[str, int] = {}
    for i in ids:
        folded[i.lower()] = folded.get(i.lower(), 0) + 1
    out: dict[str, str] = {}
    for i in ids:
        safe = _SAFE.fullmatch(i) is not None and folded[i.lower()] == 1
        out[i] = i if safe else "_" + hashlib.sha256(i.encode("utf-8")).hexdigest()[:16]
    return out


def _badge(level: Level | None, lang: str) -> str:
    if level is None:
        return f'<span class="badge lv-none">{_e(_t("not_graded", lang))}</span>'
    label = level.zh if lang == "zh" else f"{level.name} ({level.en})"
    return f'<span class="badge lv-{level.name}" data-level="{level.name}">{_e(label)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, attrs: str = "",
           numeric: Sequence[int] = ()) -> str:
    """A table of already escaped cells (a cell may hold markup such as a badge)."""
    head = "".join(f'<th{" class=n" if i in numeric else ""} scope="col">{_e(h)}</th>'
                   for i, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{c}</td>' for i, c in enumerate(r))
                     + "</tr>" for r in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def _page(title: str, lang: str, body: str, root: str) -> str:
    return (f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="generator" content="{GENERATOR}">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n"
            f'<link rel="stylesheet" href="{root}assets/report.css">\n</head>\n<body>\n{body}\n'
            f'<script src="{root}assets/report.js"></script>\n</body>\n</html>\n')


def _level_css() -> str:
    rules = [f".lv-{lv.name} {{ background: {lv.hex}; color: {'#111' if lv is Level.YELLOW else '#fff'}; }}"
             for lv in _ORDER]
    return "/* level colours from riskgrade.Level */\n" + "\n".join(rules) + "\n"


def _sector(key: str, lang: str) -> str:
    names = SECTORS.get(key)
    return (names[0] if lang == "zh" else names[1]) if names else key


def _flatten(v: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """A supervision plan (any JSON-like value) as (dotted key, text) rows, in its own order."""
    if isinstance(v, Mapping):
        if not v and prefix:
            yield prefix, ""
        for k, x in v.items():
            yield from _flatten(x, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(v, (list, tuple)) and any(isinstance(x, (Mapping, list, tuple)) for x in v):
        for i, x in enumerate(v):
            yield from _flatten(x, f"{prefix}[{i}]")
    elif isinstance(v, (list, tuple)):
        yield prefix, "、".join(cell_text(x) for x in v)
    else:
        yield prefix, "" if v is None else cell_text(v)


def _prepare(out: str) -> None:
    if os.path.exists(out) and not os.path.isdir(out):
        raise RenderError(f"{out}: a report is written to a directory, and this is a file", code="bad-output")
    if os.path.isdir(out) and os.listdir(out):
        index = os.path.join(out, "index.html")
        head = ""
        if os.path.isfile(index):
            with open(index, encoding="utf-8", errors="replace") as fh:
                head = fh.read(2000)
        if f'<meta name="generator" content="{GENERATOR}">' not in head:
            raise RenderError(f"{out}: the directory is not empty and holds no riskgrade report: choose a new or "
                              "empty directory", code="bad-output")
        pages = os.path.join(out, "enterprise")
        if os.path.isdir(pages):  # pages of enterprises no longer in the input
            for name in os.listdir(pages):
                if name.endswith(".html"):
                    os.remove(os.path.join(pages, name))
    os.makedirs(os.path.join(out, "enterprise"), exist_ok=True)
    os.makedirs(os.path.join(out, "assets"), exist_ok=True)


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_report(assessments: Sequence[EnterpriseAssessment], out_dir: str | os.PathLike[str], *,
                 errors: Iterable[Mapping[str, Any]] = (), lang: str = "zh",
                 boundaries: Sequence[County] | None = None, statistic: str = "highest",
                 font: str | None = None, supervision: Mapping[str, SupervisionResult] | None = None) -> str:
    """Write the regional report of ``assessments`` to ``out_dir``; returns the path of ``index.html``.

    ``errors`` are the inputs that could not be assessed, as records with the keys of
    :data:`ERROR_FIELDS` (``file`` and ``message`` at least); each is listed, none dropped.
    ``out_dir`` must be new, empty, or hold an earlier report (whose enterprise pages are replaced).
    ``supervision`` maps an enterprise id to its :func:`riskgrade.supervise` result, shown on its page
    (inspections a year, grid owners, insurance factor, control tiers, with their citations).
    Needs ``riskgrade[render]`` and a CJK font (the maps); raises ``GraphError`` when an enterprise
    id appears twice.
    """
    sups = supervision or {}
    out = os.fspath(out_dir)
    items = sorted(assessments, key=lambda a: a.enterprise.id)
    errs = [dict(e) for e in errors]
    dates = [a.as_of for a in items]
    as_of = max(dates) if dates else None
    region = RegionGraph.of(items, as_of).to_dict()
    riskmap = RiskMap.build(items, boundaries=boundaries, statistic=statistic)
    map_svg = svg_fragment(riskmap.figure(lang=lang, font=font))
    names = page_names(a.enterprise.id for a in items)
    pages = {a.enterprise.id: _enterprise_page(a, lang, font, sups.get(a.enterprise.id)) for a in items}
    _prepare(out)
    for name in _ASSETS:
        text = importlib.resources.files("riskgrade._render").joinpath(f"assets/{name}").read_text("utf-8")
        _write(os.path.join(out, "assets", name), text + (_level_css() if name.endswith(".css") else ""))
    riskmap.save(os.path.join(out, "map.geojson"))
    for ent_id, page in pages.items():
        _write(os.path.join(out, "enterprise", names[ent_id] + ".html"), page)
    index = os.path.join(out, "index.html")
    _write(index, _index(items, errs, region, riskmap, map_svg, names, as_of, lang))
    return index


# --------------------------------------------------------------------------- the index


def _index(items: Sequence[EnterpriseAssessment], errs: Sequence[Mapping[str, Any]], region: Mapping[str, Any],
           riskmap: RiskMap, map_svg: str, names: Mapping[str, str], as_of: _dt.date | None, lang: str) -> str:
    zh = lang == "zh"
    regions: Mapping[str, Any] = region["regions"]
    title = f"{riskmap.region_name(lang)} {_t('report', lang)}"
    tot = {lv.name: sum(1 for a in items if a.level is lv) for lv in _ORDER}
    summary = " · ".join(f"{lv.colour_zh if zh else lv.name} {tot[lv.name]}" for lv in _ORDER)
    date = as_of.isoformat() if as_of else "—"
    head = [f'<header class="page"><h1>{_e(title)}</h1>',
            f"<p>{_e(_t('as_of', lang))} {_e(date)} · {len(items)} {_e(_t('enterprises', lang))}: "
            f'<span id="totals">{_e(summary)}</span></p>']
    if errs:
        head.append(f'<p class="errors" id="error-banner"><a href="#errors">'
                    f"{_e(_t('errors_banner', lang).format(n=len(errs)))}</a></p>")
    head.append("</header>")
    nav = "<nav>" + "".join(f'<a href="#{k}">{_e(_t(t, lang))}</a>' for k, t in (
        ("map", "map"), ("by-region", "by_region"), ("by-sector", "by_sector"), ("enterprises", "list"),
        ("errors", "errors"))) + "</nav>"
    parts = ["\n".join(head), nav, "<main>",
             f'<section id="map"><h2>{_e(riskmap.title(lang))}</h2><figure class="map">\n{map_svg}</figure>'
             f'<p class="muted">{_e(_t("map_note", lang))} <a href="map.geojson">{_e(_t("geojson", lang))}</a></p>'
             "</section>",
             _region_section(regions, lang), _sector_section(regions, lang),
             _list_section(items, regions, riskmap, names, lang), _error_section(errs, lang), "</main>",
             f'<footer>{_e(_t("made_by", lang))} · {_e(_t("as_of", lang))} {_e(date)}</footer>']
    return _page(title, lang, "\n".join(parts), "")


def _region_section(regions: Mapping[str, Any], lang: str) -> str:
    rows: list[list[str]] = []

    def walk(code: str, depth: int) -> None:
        r = regions[code]
        rows.append([_e(code), "\u3000" * depth + _e(r["name"]), _e(r["total"]),
                     *[_e(r["by_level"][lv.name]) for lv in _ORDER]])
        for child in sorted(k for k, v in regions.items() if v["parent"] == code):
            walk(child, depth + 1)

    for root in sorted(k for k, v in regions.items() if v["parent"] is None):
        walk(root, 0)
    heads = [_t("code", lang), _t("name", lang), _t("total", lang), *[_level_head(lv, lang) for lv in _ORDER]]
    table = _table(heads, rows, attrs=' id="region-table"', numeric=(2, 3, 4, 5, 6))
    return f'<section id="by-region"><h2>{_e(_t("by_region", lang))}</h2>\n{table}</section>'


def _level_head(lv: Level, lang: str) -> str:
    return f"{lv.colour_zh} {lv.zh}" if lang == "zh" else lv.name


def _sector_section(regions: Mapping[str, Any], lang: str) -> str:
    sectors: dict[str, dict[str, int]] = {}
    for r in regions.values():
        if r["parent"] is None:
            for sec, counts in r["by_sector"].items():
                row = sectors.setdefault(sec, {lv.name: 0 for lv in _ORDER})
                for lv in _ORDER:
                    row[lv.name] += counts[lv.name]
    rows = [[_e(_sector(sec, lang)), _e(sum(n.values())), *[_e(n[lv.name]) for lv in _ORDER]]
            for sec, n in sorted(sectors.items())]
    heads = [_t("sector", lang), _t("total", lang), *[_level_head(lv, lang) for lv in _ORDER]]
    table = _table(heads, rows, attrs=' id="sector-table"', numeric=(1, 2, 3, 4, 5))
    return f'<section id="by-sector"><h2>{_e(_t("by_sector", lang))}</h2>\n{table}</section>'


def _list_section(items: Sequence[EnterpriseAssessment], regions: Mapping[str, Any], riskmap: RiskMap,
                  names: Mapping[str, str], lang: str) -> str:
    zh = lang == "zh"
    county_names = {c.adcode: c.name for c in riskmap.counties}
    options: dict[str, str] = dict(county_names)
    ordered = sorted(items, key=lambda a: (-int(a.level), a.enterprise.id))  # RED first
    body: list[str] = []
    for a in ordered:
        ent = a.enterprise
        code = region_chain(ent.jurisdiction, ent.zone)[0]
        rname = regions[code]["name"] if code in regions else code
        options.setdefault(code, rname)
        opened = [hd for hd in ent.hidden_dangers if hd.is_open(a.as_of)]
        major = sum(1 for hd in opened if hd.grade == "major")
        overdue = sum(1 for hd in opened if hd.is_overdue(a.as_of))
        sectors = " ".join(ent.sectors)
        search = f"{ent.id} {ent.name}".lower()
        cells = [f'<a href="enterprise/{_e(names[ent.id])}.html">{_e(ent.name)}</a>', _e(ent.id), _e(rname),
                 _e(("、" if zh else ", ").join(_sector(s, lang) for s in ent.sectors)), _badge(a.level, lang),
                 _badge(a.inherent_level, lang), _e(len(ent.risk_points)), _e(f"{len(opened)} ({major})"),
                 _e(overdue)]
        body.append(f'<tr data-id="{_e(ent.id)}" data-level="{a.level.name}" data-region="{_e(code)}" '
                    f'data-sectors="{_e(sectors)}" data-search="{_e(search)}">'
                    + "".join(f'<td{" class=n" if i >= 6 else ""}>{c}</td>' for i, c in enumerate(cells)) + "</tr>")
    heads = [_t(k, lang) for k in ("enterprise", "id", "region", "sector", "level", "inherent", "points",
                                   "open_hd", "overdue")]
    head = "".join(f'<th{" class=n" if i >= 6 else ""} scope="col">{_e(h)}</th>' for i, h in enumerate(heads))
    boxes = "".join(f'<label><input type="checkbox" name="level" value="{lv.name}" checked> {_badge(lv, lang)}</label> '
                    for lv in _ORDER)
    region_opts = "".join(f'<option value="{_e(k)}">{_e(v)}</option>' for k, v in sorted(options.items()))
    all_sectors = sorted({s for a in items for s in a.enterprise.sectors})
    sector_opts = "".join(f'<option value="{_e(s)}">{_e(_sector(s, lang))}</option>' for s in all_sectors)
    form = (f'<form id="filters"><fieldset><legend>{_e(_t("filter_level", lang))}</legend>{boxes}</fieldset>'
            f'<label>{_e(_t("filter_region", lang))} <select name="region"><option value="">{_e(_t("all", lang))}'
            f"</option>{region_opts}</select></label>"
            f'<label>{_e(_t("filter_sector", lang))} <select name="sector"><option value="">{_e(_t("all", lang))}'
            f"</option>{sector_opts}</select></label>"
            f'<label><input type="search" name="q" placeholder="{_e(_t("filter_q", lang))}"></label>'
            f'<button type="reset">{_e(_t("reset", lang))}</button>'
            f'<output id="shown" data-template="{_e(_t("shown", lang))}">'
            f'{_e(_t("shown", lang).format(n=len(items), total=len(items)))}</output></form>')
    table = (f'<table id="enterprise-table" data-shown="{len(items)}"><thead><tr>{head}</tr></thead>\n<tbody>\n'
             + "\n".join(body) + "\n</tbody></table>")
    return f'<section id="enterprises"><h2>{_e(_t("list", lang))}</h2>\n{form}\n{table}</section>'


def _error_section(errs: Sequence[Mapping[str, Any]], lang: str) -> str:
    if not errs:
        return f'<section id="errors"><h2>{_e(_t("errors", lang))}</h2><p class="muted">{_e(_t("no_errors", lang))}</p></section>'
    rows = [[_e(e.get(k)) for k, _ in ERROR_FIELDS] for e in errs]
    table = _table([lab[0 if lang == "zh" else 1] for _, lab in ERROR_FIELDS], rows, attrs=' id="error-table"')
    return f'<section id="errors" class="errors"><h2>{_e(_t("errors", lang))} ({len(errs)})</h2>\n{table}</section>'


# --------------------------------------------------------------------------- an enterprise's page


def _enterprise_page(a: EnterpriseAssessment, lang: str, font: str | None,
                     sup: SupervisionResult | None = None) -> str:
    zh = lang == "zh"
    ent = a.enterprise
    date = a.as_of.isoformat()
    level = a.level.zh if zh else f"{a.level.name} ({a.level.en})"
    inherent = a.inherent_level.zh if zh else a.inherent_level.name
    head = (f'<header class="band lv-{a.level.name}" data-level="{a.level.name}"><h1>{_e(ent.name)}</h1>'
            f"<p>{_e(ent.id)} · {_e(level)} · {_e(_t('inherent', lang))} {_e(inherent)} · "
            f"{_e(_t('as_of', lang))} {_e(date)}</p></header>")
    nav = f'<nav><a href="../index.html">{_e(_t("back", lang))}</a></nav>'
    code = region_chain(ent.jurisdiction, ent.zone)[0]
    place = f"{REGION_NAMES.get(ent.jurisdiction, ent.jurisdiction)} ({ent.jurisdiction})"
    facts = [("id", ent.id), ("uscc", ent.uscc or "—"), ("region", place),
             ("zone", ent.zone or "—"), ("sector", ("、" if zh else ", ").join(_sector(s, lang) for s in ent.sectors)),
             ("standardisation", GRADE_ZH[ent.standardisation] if ent.standardisation else "—"),
             ("source", ent.source or "—")]
    dl = "".join(f"<dt>{_e(_t(k, lang))}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    rs_rows = [[_e(name), _e(m.get("version")), _e(m.get("edition")), f'<code>{_e(m.get("fingerprint"))}</code>']
               for name, m in sorted(a.rulesets.items())]
    rulesets = _table([_t("rulesets", lang), _t("version", lang), _t("edition", lang), _t("fingerprint", lang)],
                      rs_rows, attrs=' id="ruleset-table"')
    explain = a.explain(lang).splitlines()
    chain = "".join(f"<li>{_e(line.strip())}</li>" for line in explain[1:])
    parts = [head, nav, "<main>",
             f'<section id="facts" data-region="{_e(code)}"><h2>{_e(_t("facts", lang))}</h2>'
             f'<dl class="facts">{dl}</dl>\n{rulesets}</section>',
             f'<section id="explain"><h2>{_e(_t("explain", lang))}</h2><p>{_e(explain[0])}</p>'
             f'<ol class="chain">{chain}</ol>'
             f'<h3>{_e(_t("tree", lang))}</h3><pre class="tree">{_e(a.tree(lang))}</pre></section>',
             _site_section(a, lang, font), _points_section(a, lang), _hidden_section(a, lang),
             _supervision_section(a, lang, sup), "</main>",
             f'<footer>{_e(_t("made_by", lang))} · {_e(_t("as_of", lang))} {_e(date)}</footer>']
    return _page(f"{ent.name} ({ent.id})", lang, "\n".join(p for p in parts if p), "../")


def _has_site(a: EnterpriseAssessment) -> bool:
    ent = a.enterprise
    return bool(ent.site_boundary or any(u.area or u.location for u in ent.units)
                or any(p.location for p in ent.risk_points))


def _site_section(a: EnterpriseAssessment, lang: str, font: str | None) -> str:
    title = f'<h2>{_e(_t("site", lang))}</h2>'
    if not _has_site(a):
        return f'<section id="site">{title}<p class="muted">{_e(_t("no_site", lang))}</p></section>'
    try:
        svg = SiteMap.build(a).svg(lang=lang, font=font)
    except RenderError as exc:
        if exc.code != "bad-site-plan":
            raise
        return f'<section id="site">{title}<p class="errors">{_e(str(exc))}</p></section>'
    return f'<section id="site">{title}<figure class="map">\n{svg}</figure></section>'


def _points_section(a: EnterpriseAssessment, lang: str) -> str:
    zh = lang == "zh"
    cols = RISK_COLUMNS[1:]
    inherent_col = next(i for i, c in enumerate(cols) if c[0] == "固有风险等级")
    level_col = next(i for i, c in enumerate(cols) if c[0] == "现实风险等级")
    rows: list[list[str]] = []
    for rp, row in zip(a.enterprise.risk_points, risk_rows(a, lang), strict=True):
        cells = [_e(v) for v in row[1:]]
        node = a.nodes[rp.id]
        cells[inherent_col] = _badge(node.inherent_level, lang)
        cells[level_col] = _badge(node.level, lang)
        rows.append(cells)
    table = _table([z if zh else e for z, e in cols], rows, attrs=' id="point-table"')
    return f'<section id="risk-points"><h2>{_e(_t("risk_points", lang))} ({len(rows)})</h2>\n{table}</section>'


def _hidden_section(a: EnterpriseAssessment, lang: str) -> str:
    zh = lang == "zh"
    pairs = list(zip(a.enterprise.hidden_dangers, hidden_danger_rows(a, lang), strict=True))
    opened = [[_e(v) for v in row[1:]] for hd, row in pairs if hd.is_open(a.as_of)]
    closed = len(pairs) - len(opened)
    title = f'<h2>{_e(_t("open", lang))} ({len(opened)})</h2>'
    table = (_table([z if zh else e for z, e in HIDDEN_DANGER_COLUMNS[1:]], opened, attrs=' id="hidden-danger-table"')
             if opened else f'<p class="muted">{_e(_t("none", lang))}</p>')
    note = f'<p class="muted">{_e(_t("closed_note", lang).format(n=closed))}</p>' if closed else ""
    return f'<section id="hidden-dangers">{title}\n{table}{note}</section>'


def _supervision_section(a: EnterpriseAssessment, lang: str, sup: SupervisionResult | None) -> str:
    if sup is not None:
        zh = lang == "zh"
        owner = sup.owner.departments() if sup.owner is not None else []
        summary = [
            [_e(_t("sup_inspections", lang)), _e(f"{sup.inspections} ({sup.inspection_cite.text(lang)})")],
            [_e(_t("sup_items", lang)), _e(str(len(sup.items)))],
            [_e(_t("sup_grid", lang)), _e("、".join(d["zh" if zh else "en"] for d in owner) or _t("none", lang))],
            [_e(_t("sup_insurance", lang)), _e(f"{sup.factor:g} ({sup.insurance_status})")],
        ]
        table = _table([_t("key", lang), _t("value", lang)], summary, attrs=' id="supervision-table"')
        return (f'<section id="supervision"><h2>{_e(_t("supervision", lang))}</h2>\n{table}'
                f'<pre class="supervision-text">{_e(sup.text(lang))}</pre></section>')
    plan = a.to_dict().get("supervision")
    if plan is None:
        return ""
    rows = [[_e(k), _e(v)] for k, v in _flatten(plan)]
    table = _table([_t("key", lang), _t("value", lang)], rows, attrs=' id="supervision-table"')
    return f'<section id="supervision"><h2>{_e(_t("supervision", lang))}</h2>\n{table}</section>'
