"""The enterprise risk map (企业安全风险四色分布图): one enterprise's units and risk points on its
site plan, coloured by their dynamic (现实) level.

Positions come from the register: a unit's ``area`` (its outline) or ``location``, a risk point's
``location``, the ``site.boundary``; all in site-plan metres (``{x, y}``) or all in WGS84
(``{lon, lat}``, drawn in metres around their centre). A record without a position is named on
the map as not drawn; a register that mixes the two systems is refused (``bad-site-plan``).

>>> import datetime, riskgrade
>>> a = riskgrade.assess(None, "examples/enterprises/chem-plant.yaml", as_of=datetime.date(2024, 6, 30))
>>> m = SiteMap.build(a)
>>> m.system, len(m.areas), len(m.points), m.unlocated
('plan', 4, 7, ())
>>> m.counts()
{'RED': 1, 'ORANGE': 2, 'YELLOW': 2, 'BLUE': 2}
>>> m.title("zh")
'白银示例化工有限公司安全风险四色分布图'
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._render.figure import check_suffix, save_figure, svg_fragment
from riskgrade._render.fonts import cjk_font, require
from riskgrade.exceptions import RenderError

__all__ = ["SiteArea", "SiteMap", "SitePoint"]

_ORDER = tuple(reversed(Level))  # RED first
_NO_DATA = "#d9d9d9"
_EARTH_M = 6_371_008.8  # mean Earth radius (IUGG), for the local metres of WGS84 positions

XY = tuple[float, float]


@attrs.frozen
class SiteArea:
    """A unit on the site plan: its outline (``None``: drawn at ``position``), level (``None``: not graded)."""

    id: str
    name: str
    level: Level | None
    outline: tuple[XY, ...] | None
    position: XY | None


@attrs.frozen
class SitePoint:
    """A risk point on the site plan, with its dynamic level."""

    id: str
    name: str
    unit: str
    level: Level
    position: XY


def _system(pos: Mapping[str, float]) -> str:
    return "wgs84" if "lon" in pos else "plan"


@attrs.frozen
class SiteMap:
    """The data of an enterprise risk map, in metres (``x`` east, ``y`` north).

    Build it with :meth:`build` from an assessment; draw it with :meth:`save` (``.png``, ``.svg``).
    """

    enterprise: str
    name: str
    as_of: _dt.date
    #: ``plan`` (site-plan metres as given) or ``wgs84`` (converted to metres around ``origin``)
    system: str
    areas: tuple[SiteArea, ...]
    points: tuple[SitePoint, ...]
    boundary: tuple[XY, ...] | None = None
    #: ids of the units and risk points without a position (named on the map, not drawn)
    unlocated: tuple[str, ...] = ()
    #: the risk points by dynamic level, located or not
    levels: Mapping[str, int] = attrs.field(factory=dict, eq=False)
    origin: XY | None = None

    @classmethod
    def build(cls, a: EnterpriseAssessment) -> SiteMap:
        """The site map of assessment ``a``; ``RenderError`` (``bad-site-plan``) when its register has
        no site positions, or mixes site-plan metres and WGS84."""
        ent = a.enterprise
        used: dict[str, list[str]] = {"plan": [], "wgs84": []}
        raw: list[Mapping[str, float]] = []

        def note(rid: str, positions: Iterable[Mapping[str, float]]) -> None:
            for pos in positions:
                used[_system(pos)].append(rid)
                raw.append(pos)

        note(f"{ent.id} (site.boundary)", ent.site_boundary or ())
        for u in ent.units:
            note(u.id, [*(u.area or ()), *([u.location] if u.location else [])])
        for p in ent.risk_points:
            note(p.id, [p.location] if p.location else [])
        if not raw:
            raise RenderError(f"enterprise {ent.id} has no site positions: give units an 'area' or 'location' and "
                              "risk points a 'location' ({x, y} in site-plan metres or {lon, lat} in WGS84)",
                              code="bad-site-plan")
        if used["plan"] and used["wgs84"]:
            def ids(sys: str) -> str:
                return ", ".join(dict.fromkeys(used[sys]))
            raise RenderError(f"enterprise {ent.id} mixes site-plan metres ({{x, y}}: {ids('plan')}) and WGS84 "
                              f"({{lon, lat}}: {ids('wgs84')}); one site plan uses one system", code="bad-site-plan")
        system = "wgs84" if used["wgs84"] else "plan"
        origin: XY | None = None
        if system == "wgs84":
            lons, lats = [p["lon"] for p in raw], [p["lat"] for p in raw]
            origin = ((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)

        def xy(pos: Mapping[str, float]) -> XY:
            if origin is None:
                return (pos["x"], pos["y"])
            k = math.radians(1) * _EARTH_M
            return ((pos["lon"] - origin[0]) * k * math.cos(math.radians(origin[1])), (pos["lat"] - origin[1]) * k)

        areas: list[SiteArea] = []
        unlocated: list[str] = []
        for u in ent.units:
            r = a.nodes[u.id]
            outline = tuple(xy(p) for p in u.area) if u.area else None
            where = xy(u.location) if u.location else None
            if outline is None and where is None:
                unlocated.append(u.id)
                continue
            areas.append(SiteArea(u.id, u.name, r.level if r.graded else None, outline, where))
        points: list[SitePoint] = []
        for p in ent.risk_points:
            if p.location is None:
                unlocated.append(p.id)
                continue
            points.append(SitePoint(p.id, p.name, p.unit, a.nodes[p.id].level, xy(p.location)))
        levels = {lv.name: 0 for lv in _ORDER}
        for p in ent.risk_points:
            levels[a.nodes[p.id].level.name] += 1
        boundary = tuple(xy(p) for p in ent.site_boundary) if ent.site_boundary else None
        return cls(ent.id, ent.name, a.as_of, system, tuple(areas), tuple(points), boundary, tuple(unlocated),
                   levels, origin)

    def counts(self) -> dict[str, int]:
        """The enterprise's risk points by dynamic level (RED first), those without a position included."""
        return dict(self.levels)

    def title(self, lang: str = "zh") -> str:
        return (f"{self.name}安全风险四色分布图" if lang == "zh"
                else f"Four-colour risk map of {self.name} (schematic)")

    def save(self, path: str | os.PathLike[str], *, lang: str = "zh", font: str | None = None,
             dpi: int = 150) -> str:
        """Write the map to ``path`` (``.png`` or ``.svg``; needs ``riskgrade[render]`` and a CJK font).
        Returns the path written."""
        out = os.fspath(path)
        ext = check_suffix(out, (".png", ".svg"), "a site map")
        save_figure(self.figure(lang=lang, font=font), out, ext, dpi)
        return out

    def svg(self, *, lang: str = "zh", font: str | None = None) -> str:
        """The map as an ``<svg>`` element to embed in an HTML page (``riskgrade report`` does)."""
        return svg_fragment(self.figure(lang=lang, font=font))

    def _extent(self) -> tuple[float, float, float, float]:
        pts: list[XY] = [*(self.boundary or ()), *(p.position for p in self.points)]
        for ar in self.areas:
            pts.extend(ar.outline or ())
            if ar.position is not None:
                pts.append(ar.position)
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs), min(ys), max(xs), max(ys)

    def figure(self, *, lang: str = "zh", font: str | None = None) -> Any:
        """The map as a matplotlib ``Figure`` (no pyplot state)."""
        figure_mod = require("matplotlib.figure")
        patches = require("matplotlib.patches")
        lines = require("matplotlib.lines")
        fm = require("matplotlib.font_manager")
        fp = fm.FontProperties(fname=cjk_font(font))
        zh = lang == "zh"
        fig = figure_mod.Figure(figsize=(11, 8))
        ax = fig.add_axes((0.03, 0.1, 0.7, 0.78))
        # names come from the register: never read them as mathtext ("$...$")
        text: dict[str, Any] = {"fontproperties": fp, "parse_math": False}
        if self.boundary:
            ax.add_patch(patches.Polygon(self.boundary, closed=True, facecolor="#fbfbf8", edgecolor="#555555",
                                         linewidth=1.2, linestyle="--", zorder=1))
        for ar in self.areas:
            colour = ar.level.hex if ar.level else _NO_DATA
            if ar.outline:
                ax.add_patch(patches.Polygon(ar.outline, closed=True, facecolor=colour, edgecolor="#333333",
                                             linewidth=0.9, alpha=0.55, zorder=2))
                cx = sum(p[0] for p in ar.outline) / len(ar.outline)
                top = max(p[1] for p in ar.outline)
                ax.text(cx, top, ar.name, ha="center", va="top", fontsize=10, color="#111111", zorder=5,
                        **text)
            else:
                assert ar.position is not None
                ax.plot([ar.position[0]], [ar.position[1]], marker="s", markersize=16, markerfacecolor=colour,
                        markeredgecolor="#333333", alpha=0.8, linestyle="none", zorder=2)
                ax.text(ar.position[0], ar.position[1], "\n\n" + ar.name, ha="center", va="top", fontsize=9,
                        color="#111111", zorder=5, **text)
        for p in self.points:
            ax.plot([p.position[0]], [p.position[1]], marker="o", markersize=12, markerfacecolor="white",
                    markeredgecolor="black", markeredgewidth=0.8, linestyle="none", zorder=3)
            ax.plot([p.position[0]], [p.position[1]], marker="o", markersize=8, markerfacecolor=p.level.hex,
                    markeredgecolor="black", markeredgewidth=0.6, linestyle="none", zorder=4)
            ax.annotate(p.name, p.position, xytext=(7, -3), textcoords="offset points", fontsize=8,
                        color="#111111", zorder=5, annotation_clip=False, **text)
        x0, y0, x1, y1 = self._extent()
        pad = max(x1 - x0, y1 - y0, 1.0) * 0.06
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad * 1.6, y1 + pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        self._scale_bar(ax, x0 - pad, y0 - pad * 1.6, x1 - x0, pad, text)
        n = self.counts()
        handles: list[Any] = [patches.Patch(facecolor=lv.hex, edgecolor="#333333",
                                            label=(f"{lv.colour_zh} {lv.zh} {n[lv.name]} 处" if zh
                                                   else f"{lv.name.title()} – {lv.en}: {n[lv.name]}"))
                              for lv in _ORDER]
        if any(ar.level is None for ar in self.areas):
            handles.append(patches.Patch(facecolor=_NO_DATA, edgecolor="#333333", label="未评定" if zh else "not graded"))
        handles.append(patches.Patch(facecolor="#cccccc", edgecolor="#333333", alpha=0.55,
                                     label="风险单元(按其等级着色)" if zh else "unit (its level)"))
        handles.append(lines.Line2D([], [], marker="o", markersize=8, markerfacecolor="white", markeredgecolor="black",
                                    linestyle="none", label="风险点(按其等级着色)" if zh else "risk point (its level)"))
        if self.boundary:
            handles.append(lines.Line2D([], [], color="#555555", linestyle="--",
                                        label="厂区边界" if zh else "site boundary"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), prop=fp, fontsize=9,
                  framealpha=0.9, title="风险等级(风险点数)" if zh else "Risk level (risk points)",
                  title_fontproperties=fp)
        fig.text(0.5, 0.955, self.title(lang), fontsize=16, ha="center", **text)
        where = {"plan": ("厂区平面坐标(米)", "site-plan metres"),
                 "wgs84": ("WGS84 坐标换算为米", "WGS84, shown in metres")}[self.system]
        fig.text(0.5, 0.918, (f"示意图 · 按现实风险等级着色 · 评估基准日 {self.as_of.isoformat()} · {where[0]}" if zh
                              else f"schematic (示意图) · coloured by dynamic level · as of {self.as_of.isoformat()} · "
                                   f"{where[1]}"),
                 fontsize=9, ha="center", color="#444444", **text)
        missing = ("、" if zh else ", ").join(self.unlocated)
        foot = ((f"未标注位置, 未绘出: {missing}" if zh else f"no position in the register, not drawn: {missing}")
                if self.unlocated else ("全部风险单元和风险点均已标注位置" if zh else "every unit and risk point is drawn"))
        fig.text(0.03, 0.04, foot, fontsize=8, color="#444444", wrap=True, **text)
        fig.text(0.99, 0.01, "示意图, 非标准地图 (schematic, not an official map)", fontsize=7, ha="right",
                 color="#666666", **text)
        return fig

    @staticmethod
    def _scale_bar(ax: Any, x: float, y: float, width: float, pad: float, text: Mapping[str, Any]) -> None:
        """A bar of a round length (1, 2 or 5 × 10ⁿ m) near a fifth of the site's width."""
        target = max(width, 1.0) / 5
        exp = 10 ** math.floor(math.log10(target))
        length = max(m * exp for m in (1, 2, 5) if m * exp <= target)
        bx, by = x + pad * 0.5, y + pad * 0.6
        ax.plot([bx, bx + length], [by, by], color="black", linewidth=2.5, solid_capstyle="butt", zorder=6)
        label = f"{length:g} m"
        ax.text(bx + length / 2, by + pad * 0.15, label, ha="center", va="bottom", fontsize=8, zorder=6, **text)
