"""The regional four-colour risk map (区域安全风险四色分布示意图).

County polygons are coloured by a statistic of their enterprises' levels (the highest, by
default), enterprise points by their own (dynamic) level; the legend counts enterprises per
level in Chinese and English. Everything is WGS84 longitude/latitude (RFC 7946). Boundaries are
the shipped Baiyin counties (``riskgrade/data/baiyin_counties.geojson``, sample data, see its
README) unless a GeoJSON FeatureCollection of county polygons with an ``adcode`` is given.

>>> m = RiskMap.build([], statistic="highest")
>>> sorted(c.adcode for c in m.counties)
['620402', '620403', '620421', '620422', '620423']
>>> m.level_of("620402") is None, m.to_geojson()["type"]
(True, 'FeatureCollection')
"""

from __future__ import annotations

import datetime as _dt
import importlib.resources
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade._enterprise.graph import EnterpriseAssessment
from riskgrade._enterprise.region import REGION_NAMES
from riskgrade._render.figure import check_suffix, save_figure
from riskgrade._render.fonts import cjk_font, require
from riskgrade.exceptions import RenderError

__all__ = ["STATISTICS", "County", "MapPoint", "RiskMap", "load_boundaries"]

_ORDER = tuple(reversed(Level))  # RED first
#: how a county's colour is chosen from its enterprises' levels
STATISTICS = ("highest", "most")
_NO_DATA = "#f2f2f2"
_SCHEMA = "riskgrade.map/1"

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]  # outer ring, then holes


@attrs.frozen
class County:
    """A county-level area: GB/T 2260 ``adcode``, name, polygons (WGS84) and a label position."""

    adcode: str
    name: str
    polygons: tuple[Polygon, ...] = attrs.field(eq=False, repr=False)
    label: tuple[float, float] | None = None


@attrs.frozen
class MapPoint:
    """An enterprise on the map: its id, name, WGS84 position, level and jurisdiction."""

    id: str
    name: str
    lon: float
    lat: float
    level: Level
    jurisdiction: str
    sectors: tuple[str, ...] = ()


def _ring(raw: Any, where: str) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise RenderError(f"{where}: a linear ring needs at least 4 positions", code="bad-boundary")
    out = []
    for pos in raw:
        if (not isinstance(pos, list) or len(pos) < 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos[:2])):
            raise RenderError(f"{where}: a position is [lon, lat], got {pos!r}", code="bad-boundary")
        out.append((float(pos[0]), float(pos[1])))
    return tuple(out)


def load_boundaries(path: str | os.PathLike[str] | None = None) -> tuple[County, ...]:
    """County polygons from a GeoJSON FeatureCollection (``None``: the shipped Baiyin counties).

    Each feature is a Polygon or MultiPolygon with an ``adcode`` (GB/T 2260) property; ``name``
    defaults to riskgrade's name for the code, ``label_lon``/``label_lat`` place the label.
    Raises :class:`RenderError` (``bad-boundary``) naming the file and the feature.
    """
    if path is None:
        src = "riskgrade/data/baiyin_counties.geojson"
        text = importlib.resources.files("riskgrade").joinpath("data/baiyin_counties.geojson").read_text("utf-8")
    else:
        src = os.fspath(path)
        try:
            with open(src, encoding="utf-8-sig") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise RenderError(f"{src}: cannot read: {exc}", code="bad-boundary") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RenderError(f"{src}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}", code="bad-boundary") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise RenderError(f"{src}: expected a GeoJSON FeatureCollection", code="bad-boundary")
    out: list[County] = []
    for i, feat in enumerate(doc["features"]):
        where = f"{src}: features[{i}]"
        props = feat.get("properties") if isinstance(feat, dict) else None
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if not isinstance(props, dict) or not isinstance(geom, dict):
            raise RenderError(f"{where}: a feature needs properties and a geometry", code="bad-boundary")
        if geom.get("type") == "Point":
            continue  # a map written by riskgrade carries enterprise points too
        code = props.get("adcode")
        if not isinstance(code, (str, int)) or isinstance(code, bool) or not str(code).isdigit() or len(str(code)) != 6:
            raise RenderError(f"{where}: property 'adcode' must be a six-digit GB/T 2260 code, got {code!r}",
                              code="bad-boundary")
        code = str(code)
        coords = geom.get("coordinates")
        if geom.get("type") == "Polygon" and isinstance(coords, list):
            polys = [coords]
        elif geom.get("type") == "MultiPolygon" and isinstance(coords, list):
            polys = coords
        else:
            raise RenderError(f"{where} ({code}): geometry must be a Polygon or MultiPolygon", code="bad-boundary")
        polygons = tuple(tuple(_ring(r, f"{where} ({code})") for r in poly) for poly in polys)
        lon, lat = props.get("label_lon"), props.get("label_lat")
        label = (float(lon), float(lat)) if isinstance(lon, (int, float)) and isinstance(lat, (int, float)) else None
        out.append(County(code, str(props.get("name") or REGION_NAMES.get(code, code)), polygons, label))
    if not out:
        raise RenderError(f"{src}: no county polygons", code="bad-boundary")
    return tuple(out)


def _bbox(c: County) -> tuple[float, float, float, float]:
    xs = [p[0] for poly in c.polygons for p in poly[0]]
    ys = [p[1] for poly in c.polygons for p in poly[0]]
    return min(xs), min(ys), max(xs), max(ys)


def _statistic(counts: Mapping[str, int], statistic: str) -> Level | None:
    if not any(counts.values()):
        return None
    if statistic == "highest":
        return next(lv for lv in _ORDER if counts[lv.name])
    # most: the most frequent level; a tie goes to the higher level
    return max(_ORDER, key=lambda lv: (counts[lv.name], int(lv)))


@attrs.frozen
class RiskMap:
    """The data of a four-colour map: counties with counts by level, enterprise points.

    Build it with :meth:`build` from enterprise assessments, or :meth:`from_geojson` from a map
    riskgrade wrote; draw it with :meth:`save` (``.png``, ``.svg``, ``.geojson``).
    """

    counties: tuple[County, ...]
    counts: Mapping[str, Mapping[str, int]] = attrs.field(eq=False)
    points: tuple[MapPoint, ...] = ()
    #: enterprises counted but not drawn: outside every county of the map (e.g. a city-level zone)
    #: or without a location
    elsewhere: tuple[str, ...] = ()
    statistic: str = "highest"
    as_of: _dt.date | None = None
    #: enterprises by level whose jurisdiction is none of the map's counties
    others: Mapping[str, int] = attrs.field(factory=lambda: {lv.name: 0 for lv in _ORDER}, eq=False)

    @classmethod
    def build(cls, assessments: Iterable[EnterpriseAssessment], *, boundaries: Sequence[County] | None = None,
              statistic: str = "highest") -> RiskMap:
        """A map of ``assessments`` over ``boundaries`` (default: the shipped Baiyin counties)."""
        if statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
        counties = tuple(boundaries) if boundaries is not None else load_boundaries()
        counts = {c.adcode: {lv.name: 0 for lv in _ORDER} for c in counties}
        points: list[MapPoint] = []
        elsewhere: list[str] = []
        as_of: _dt.date | None = None
        others = {lv.name: 0 for lv in _ORDER}
        for a in assessments:
            e = a.enterprise
            as_of = a.as_of if as_of is None else max(as_of, a.as_of)
            counts.get(e.jurisdiction, others)[a.level.name] += 1
            if e.lon is not None and e.lat is not None:
                points.append(MapPoint(e.id, e.name, e.lon, e.lat, a.level, e.jurisdiction, tuple(e.sectors)))
            if e.jurisdiction not in counts or e.lon is None:
                elsewhere.append(e.id)
        return cls(counties, counts, tuple(sorted(points, key=lambda p: p.id)), tuple(sorted(elsewhere)),
                   statistic, as_of, others)

    def level_of(self, adcode: str) -> Level | None:
        """The colour-deciding level of a county (``None``: no enterprise)."""
        return _statistic(self.counts[adcode], self.statistic)

    def totals(self) -> dict[str, int]:
        """Enterprises per level over the whole map (those outside its counties included)."""
        out = dict(self.others)
        for c in self.counts.values():
            for k, n in c.items():
                out[k] += n
        return out

    # ------------------------------------------------------------------ GeoJSON

    def to_geojson(self) -> dict[str, Any]:
        """An RFC 7946 FeatureCollection: county features (``adcode``, ``name``, ``level``, ``counts``)
        and enterprise points (``id``, ``name``, ``level``)."""
        feats: list[dict[str, Any]] = []
        for c in self.counties:
            lv = self.level_of(c.adcode)
            coords = [[[list(p) for p in ring] for ring in poly] for poly in c.polygons]
            geom = ({"type": "Polygon", "coordinates": coords[0]} if len(coords) == 1
                    else {"type": "MultiPolygon", "coordinates": coords})
            props: dict[str, Any] = {
                "kind": "county", "adcode": c.adcode, "name": c.name, "level": lv.name if lv else None,
                "level_zh": lv.zh if lv else None, "fill": lv.hex if lv else _NO_DATA,
                "counts": dict(self.counts[c.adcode]), "total": sum(self.counts[c.adcode].values()),
            }
            if c.label is not None:
                props["label_lon"], props["label_lat"] = c.label
            feats.append({"type": "Feature", "properties": props, "geometry": geom})
        for p in self.points:
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                          "properties": {"kind": "enterprise", "id": p.id, "name": p.name, "level": p.level.name,
                                         "level_zh": p.level.zh, "fill": p.level.hex,
                                         "jurisdiction": p.jurisdiction, "sectors": list(p.sectors)}})
        return {"type": "FeatureCollection", "schema": _SCHEMA, "schematic": "示意图 (schematic)",
                "statistic": self.statistic, "as_of": self.as_of.isoformat() if self.as_of else None,
                "elsewhere": list(self.elsewhere), "others": dict(self.others), "features": feats}

    @classmethod
    def from_geojson(cls, path_or_doc: str | os.PathLike[str] | Mapping[str, Any]) -> RiskMap:
        """Read back a map written by :meth:`save` as ``.geojson`` (counts and levels included)."""
        if isinstance(path_or_doc, Mapping):
            doc: Any = path_or_doc
            src = "<map>"
        else:
            src = os.fspath(path_or_doc)
            with open(src, encoding="utf-8") as fh:
                doc = json.load(fh)
        if not isinstance(doc, Mapping) or doc.get("schema") != _SCHEMA:
            raise RenderError(f"{src}: not a riskgrade map (schema {_SCHEMA})", code="bad-boundary")
        counties: list[County] = []
        counts: dict[str, dict[str, int]] = {}
        points: list[MapPoint] = []
        for i, feat in enumerate(doc["features"]):
            props, geom = feat["properties"], feat["geometry"]
            if props.get("kind") == "enterprise":
                lon, lat = geom["coordinates"]
                points.append(MapPoint(props["id"], props["name"], float(lon), float(lat),
                                       Level.parse(props["level"]), props["jurisdiction"], tuple(props["sectors"])))
                continue
            polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
            label = (props["label_lon"], props["label_lat"]) if "label_lon" in props else None
            counties.append(County(props["adcode"], props["name"],
                                   tuple(tuple(_ring(r, f"{src}: features[{i}]") for r in poly) for poly in polys),
                                   label))
            counts[props["adcode"]] = {lv.name: int(props["counts"][lv.name]) for lv in _ORDER}
        as_of = _dt.date.fromisoformat(doc["as_of"]) if doc.get("as_of") else None
        others = {lv.name: int(doc["others"][lv.name]) for lv in _ORDER}
        return cls(tuple(counties), counts, tuple(points), tuple(doc.get("elsewhere", ())), doc["statistic"], as_of,
                   others)

    # ------------------------------------------------------------------ drawing

    def region_name(self, lang: str = "zh") -> str:
        """The city (or cities) of the map's counties: ``白银市`` in zh, the GB/T 2260 code in en."""
        cities = sorted({c.adcode[:4] + "00" for c in self.counties})
        return "、".join(REGION_NAMES.get(c, c) for c in cities) if lang == "zh" else ", ".join(cities)

    def title(self, lang: str = "zh") -> str:
        city = self.region_name(lang)
        if lang == "zh":
            return f"{city}安全风险四色分布示意图"
        return f"Four-colour safety risk map of {city} (schematic)"

    def save(self, path: str | os.PathLike[str], *, lang: str = "zh", font: str | None = None,
             dpi: int = 150) -> str:
        """Write the map to ``path``: ``.geojson``/``.json`` (RFC 7946), ``.png`` or ``.svg`` (matplotlib).

        PNG and SVG need ``riskgrade[render]`` and a CJK font (:func:`~riskgrade._render.fonts.cjk_font`);
        both are labelled 示意图 (schematic). Returns the path written.
        """
        out = os.fspath(path)
        if os.path.splitext(out)[1].lower() in (".geojson", ".json"):
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(dumps(self.to_geojson(), indent=1) + "\n")
            return out
        ext = check_suffix(out, (".png", ".svg", ".geojson"), "a map")
        save_figure(self.figure(lang=lang, font=font), out, ext, dpi)
        return out

    def figure(self, *, lang: str = "zh", font: str | None = None) -> Any:
        """The map as a matplotlib ``Figure`` (no pyplot state; draw it with ``savefig``)."""
        figure_mod = require("matplotlib.figure")
        patches = require("matplotlib.patches")
        path_mod = require("matplotlib.path")
        lines = require("matplotlib.lines")
        fm = require("matplotlib.font_manager")
        fp = fm.FontProperties(fname=cjk_font(font))
        zh = lang == "zh"
        fig = figure_mod.Figure(figsize=(9, 9))
        ax = fig.add_axes((0.04, 0.04, 0.92, 0.86))
        boxes = [_bbox(c) for c in self.counties]
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        for c in self.counties:
            lv = self.level_of(c.adcode)
            for k, poly in enumerate(c.polygons):
                verts: list[tuple[float, float]] = []
                codes: list[int] = []
                for ring in poly:
                    verts.extend(ring)
                    codes.extend([path_mod.Path.MOVETO] + [path_mod.Path.LINETO] * (len(ring) - 2)
                                 + [path_mod.Path.CLOSEPOLY])
                # the id lets a page that embeds the SVG (riskgrade report) find the county
                ax.add_patch(patches.PathPatch(path_mod.Path(verts, codes), facecolor=lv.hex if lv else _NO_DATA,
                                               edgecolor="#404040", linewidth=0.8, alpha=0.85,
                                               gid=f"county-{c.adcode}-{k}"))
            lx, ly = c.label or ((_bbox(c)[0] + _bbox(c)[2]) / 2, (_bbox(c)[1] + _bbox(c)[3]) / 2)
            n = self.counts[c.adcode]
            text = c.name if zh else f"{c.name} {c.adcode}"
            sub = " ".join(f"{lv.colour_zh if zh else lv.name[0]}{n[lv.name]}" for lv in _ORDER if n[lv.name])
            ax.text(lx, ly, text + ("\n" + sub if sub else ""), fontproperties=fp, fontsize=10, ha="center",
                    va="center", color="#111111",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.6, "linewidth": 0})
        for p in self.points:
            ax.plot([p.lon], [p.lat], marker="o", markersize=11, markerfacecolor="white", markeredgecolor="black",
                    markeredgewidth=0.8, linestyle="none")
            ax.plot([p.lon], [p.lat], marker="o", markersize=7, markerfacecolor=p.level.hex, markeredgecolor="black",
                    markeredgewidth=0.6, linestyle="none")
        tot = self.totals()
        handles = [patches.Patch(facecolor=lv.hex, edgecolor="#404040",
                                 label=(f"{lv.colour_zh} {lv.zh} {tot[lv.name]} 家" if zh
                                        else f"{lv.name.title()} – {lv.en}: {tot[lv.name]}"))
                   for lv in _ORDER]
        handles.append(patches.Patch(facecolor=_NO_DATA, edgecolor="#404040", label="无企业" if zh else "no enterprise"))
        n_out = sum(self.others.values())
        if n_out:
            handles.append(patches.Patch(facecolor="none", edgecolor="none",
                                         label=(f"含 {n_out} 家不在图中县区(如园区)" if zh
                                                else f"incl. {n_out} outside the counties (e.g. a zone)")))
        if self.points:
            handles.append(lines.Line2D([], [], marker="o", markersize=7, markerfacecolor="white", markeredgecolor="black",
                                        linestyle="none", label="企业(按其等级着色)" if zh else "enterprise (its level)"))
        ax.legend(handles=handles, loc="lower left", prop=fp, fontsize=9, framealpha=0.9,
                  title="风险等级(企业数)" if zh else "Risk level (enterprises)", title_fontproperties=fp)
        ax.set_xlim(x0 - 0.05, x1 + 0.05)
        ax.set_ylim(y0 - 0.05, y1 + 0.05)
        ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))  # equirectangular, true shape at mid-latitude
        ax.set_xticks([])
        ax.set_yticks([])
        stat = {"highest": ("按最高企业等级着色", "coloured by the highest enterprise level"),
                "most": ("按最多的企业等级着色", "coloured by the most frequent enterprise level")}[self.statistic]
        fig.text(0.5, 0.955, self.title(lang), fontproperties=fp, fontsize=16, ha="center")
        date = self.as_of.isoformat() if self.as_of else "—"
        fig.text(0.5, 0.918, (f"示意图 · {stat[0]} · 评估基准日 {date} · WGS84" if zh
                              else f"schematic (示意图) · {stat[1]} · as of {date} · WGS84"),
                 fontproperties=fp, fontsize=9, ha="center", color="#444444")
        fig.text(0.99, 0.01, "示意图, 非标准地图 (schematic, not an official map)", fontproperties=fp, fontsize=7,
                 ha="right", color="#666666")
        return fig
