"""Maps (四色图), register exports (台账) and coordinates in registers: real files written and read back."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import shutil
import subprocess
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade._render.fonts import cjk_font
from riskgrade._render.riskmap import load_boundaries
from riskgrade.exceptions import FactError, RenderError

ROOT = pathlib.Path(__file__).resolve().parent.parent
AS_OF = dt.date(2024, 6, 30)
REGION = sorted((ROOT / "examples" / "enterprises").glob("*.yaml")) + sorted((ROOT / "examples" / "region").glob("*.yaml"))
CHEM = ROOT / "examples" / "enterprises" / "chem-plant.yaml"

matplotlib = pytest.importorskip("matplotlib")
openpyxl = pytest.importorskip("openpyxl")
mpimg = pytest.importorskip("matplotlib.image")


@pytest.fixture(scope="module")
def assessments() -> list[riskgrade.EnterpriseAssessment]:
    return [riskgrade.assess(None, str(f), as_of=AS_OF) for f in REGION]


@pytest.fixture(scope="module")
def region_map(assessments: list[riskgrade.EnterpriseAssessment]) -> riskgrade.RiskMap:
    return riskgrade.RiskMap.build(assessments)


def _rgb(hexcode: str) -> tuple[int, int, int]:
    h = hexcode.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class TestBoundaries:
    def test_shipped_counties(self) -> None:
        counties = load_boundaries()
        assert {c.adcode: c.name for c in counties} == {
            "620402": "白银区", "620403": "平川区", "620421": "靖远县", "620422": "会宁县", "620423": "景泰县"}

    def test_bad_geojson_names_file_and_feature(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "b.geojson"
        p.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"adcode": "12"}, "geometry": {"type": "Polygon", "coordinates": []}}]}))
        with pytest.raises(RenderError) as exc:
            load_boundaries(p)
        assert exc.value.code == "bad-boundary"
        assert f"{p}: features[0]" in str(exc.value)

    def test_not_json_is_located(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "b.geojson"
        p.write_text('{"type":\n  oops}')
        with pytest.raises(RenderError, match=r"b\.geojson:2:3: not JSON"):
            load_boundaries(p)


class TestRiskMap:
    def test_counts_and_levels(self, region_map: riskgrade.RiskMap,
                               assessments: list[riskgrade.EnterpriseAssessment]) -> None:
        by_county: dict[str, list[riskgrade.Level]] = {}
        for a in assessments:
            by_county.setdefault(a.enterprise.jurisdiction, []).append(a.level)
        for c in region_map.counties:
            assert sum(region_map.counts[c.adcode].values()) == len(by_county[c.adcode])
            assert region_map.level_of(c.adcode) == max(by_county[c.adcode])
        assert sum(region_map.totals().values()) == len(REGION)  # the high-tech zone (620400) is counted too
        assert region_map.others["RED"] + region_map.others["ORANGE"] + region_map.others["YELLOW"] \
            + region_map.others["BLUE"] == len(by_county.get("620400", []))
        located = [a for a in assessments if a.enterprise.lon is not None]
        assert len(region_map.points) == len(located) > 0
        assert {p.id: p.level for p in region_map.points} == {a.enterprise.id: a.level for a in located}

    def test_most_statistic(self, assessments: list[riskgrade.EnterpriseAssessment]) -> None:
        m = riskgrade.RiskMap.build(assessments, statistic="most")
        for c in m.counties:
            n = m.counts[c.adcode]
            top = max(n.values())
            assert m.level_of(c.adcode) == max(lv for lv in riskgrade.Level if n[lv.name] == top)

    def test_geojson_round_trip(self, region_map: riskgrade.RiskMap, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "map.geojson"
        region_map.save(out)
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        counties = [f for f in doc["features"] if f["properties"]["kind"] == "county"]
        points = [f for f in doc["features"] if f["properties"]["kind"] == "enterprise"]
        assert len(counties) == 5 and len(points) == len(region_map.points)
        for f in counties:
            assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
            lv = region_map.level_of(f["properties"]["adcode"])
            assert f["properties"]["level"] == (lv.name if lv else None)
            assert f["properties"]["counts"] == dict(region_map.counts[f["properties"]["adcode"]])
        for f in points:
            assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
            assert set(f["properties"]) >= {"id", "name", "level"}
        back = riskgrade.RiskMap.from_geojson(out)
        assert back.to_geojson() == doc
        again = tmp_path / "again.geojson"
        back.save(again)
        assert again.read_bytes() == out.read_bytes()

    def test_png_has_the_four_colours(self, region_map: riskgrade.RiskMap, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "map.png"
        region_map.save(out, dpi=100)
        img = mpimg.imread(str(out))
        assert img.shape[:2] == (900, 900)  # 9 x 9 inches at 100 dpi
        px = {tuple(int(v * 255 + 0.5) for v in row[:3]) for row in img.reshape(-1, img.shape[2])}
        for lv in riskgrade.Level:
            assert _rgb(lv.hex) in px, f"{lv.name} ({lv.hex}) not drawn"

    def test_svg_parses_with_colours_and_schematic(self, region_map: riskgrade.RiskMap,
                                                   tmp_path: pathlib.Path) -> None:
        out = tmp_path / "map.svg"
        region_map.save(out, lang="en")
        root = ET.parse(out).getroot()
        assert root.tag.endswith("svg")
        text = out.read_text(encoding="utf-8")
        for lv in riskgrade.Level:
            assert lv.hex in text
        again = tmp_path / "again.svg"
        region_map.save(again, lang="en")
        assert again.read_bytes() == out.read_bytes()  # same input, same bytes

    def test_title_says_schematic(self, region_map: riskgrade.RiskMap) -> None:
        assert region_map.title("zh") == "白银市安全风险四色分布示意图"
        assert "schematic" in region_map.title("en")

    def test_unsupported_suffix(self, region_map: riskgrade.RiskMap, tmp_path: pathlib.Path) -> None:
        with pytest.raises(RenderError) as exc:
            region_map.save(tmp_path / "map.bmp")
        assert exc.value.code == "bad-output"


class TestFonts:
    def test_a_cjk_font_is_installed(self) -> None:
        # .ci/run installs fonts-noto-cjk; without it, drawing fails with no-cjk-font (below)
        assert pathlib.Path(cjk_font()).is_file()

    def test_font_without_chinese_fails_clearly(self, region_map: riskgrade.RiskMap, tmp_path: pathlib.Path) -> None:
        latin = str(pathlib.Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
        with pytest.raises(RenderError) as exc:
            region_map.save(tmp_path / "map.png", font=latin)
        assert exc.value.code == "no-cjk-font"
        assert not (tmp_path / "map.png").exists()


class TestMapCli:
    def test_map_png(self, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "map.png"
        r = CliRunner().invoke(main, ["map", str(ROOT / "examples" / "enterprises"), str(ROOT / "examples" / "region"),
                                      "--as-of", "2024-06-30", "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert f"{out}: 5 counties, {len(REGION)} enterprises" in r.output
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_map_bad_register_is_reported_and_exit_2(self, tmp_path: pathlib.Path) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text(CHEM.read_text(encoding="utf-8").replace("lon: 104.171", "lon: 110.5"), encoding="utf-8")
        out = tmp_path / "map.geojson"
        r = CliRunner().invoke(main, ["map", str(bad), str(ROOT / "examples" / "region"), "--out", str(out)])
        assert r.exit_code == 2
        assert "outside the bounds of 620402" in r.output
        assert out.exists()  # the good registers are still drawn

    def test_map_bad_suffix(self, tmp_path: pathlib.Path) -> None:
        r = CliRunner().invoke(main, ["map", str(CHEM), "--out", str(tmp_path / "m.pdf")])
        assert r.exit_code == 2 and "bad-output" in r.output


class TestCoordinates:
    def _register(self, **changes: Any) -> dict[str, Any]:
        reg: dict[str, Any] = {
            "id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
            "location": {"lon": 104.17, "lat": 36.55},
            "units": [{"id": "U-1", "name": "罐区", "location": {"x": 120.0, "y": 45.5}}],
            "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15},
                             "location": {"lon": 104.171, "lat": 36.546}}],
        }
        reg.update(changes)
        return reg

    def test_locations_are_kept(self) -> None:
        ent = riskgrade.load_enterprise(self._register())
        assert (ent.lon, ent.lat) == (104.17, 36.55)
        assert ent.units[0].location == {"x": 120.0, "y": 45.5}
        assert ent.risk_points[0].location == {"lat": 36.546, "lon": 104.171}

    def test_enterprise_outside_its_county(self) -> None:
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(self._register(location={"lon": 104.9, "lat": 36.0}))  # 会宁县, not 白银区
        assert (exc.value.code, exc.value.record, exc.value.field) == ("outside-region", "E-1", "location")

    def test_risk_point_outside_is_located_in_the_file(self, tmp_path: pathlib.Path) -> None:
        text = CHEM.read_text(encoding="utf-8").replace(
            "    location: {x: 55, y: 210}\n", "    location: {lon: 116.4, lat: 39.9}\n", 1)
        assert "lon: 116.4" in text
        p = tmp_path / "chem.yaml"
        p.write_text(text, encoding="utf-8")
        line = next(i for i, s in enumerate(text.splitlines(), 1) if "lon: 116.4" in s)
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert (exc.value.code, exc.value.record, exc.value.field) == ("outside-region", "P-NH3-TANK", "location")
        assert f"{p}:{line}:" in str(exc.value)

    def test_location_shape_and_ranges(self) -> None:
        bad_keys = self._register(units=[{"id": "U-1", "name": "罐区", "location": {"lng": 1, "lat": 2}}])
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(bad_keys)
        assert (exc.value.code, exc.value.field) == ("bad-value", "location")
        bad_lat = self._register(units=[{"id": "U-1", "name": "罐区", "location": {"lon": 104.2, "lat": 95}}])
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(bad_lat)
        assert (exc.value.code, exc.value.field) == ("bad-value", "location.lat")

    def test_unknown_region_checks_ranges_only(self) -> None:
        ent = riskgrade.load_enterprise(self._register(jurisdiction="110101", location={"lon": 116.4, "lat": 39.9}))
        assert ent.lon == 116.4

    def test_city_code_uses_the_union_of_its_counties(self) -> None:
        ent = riskgrade.load_enterprise(self._register(jurisdiction="620400", zone="白银高新技术产业开发区",
                                                       location={"lon": 104.9, "lat": 36.0}))
        assert ent.lat == 36.0


class TestRegisterExport:
    def test_xlsx_read_back(self, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "chem.xlsx"
        r = CliRunner().invoke(main, ["register", str(CHEM), "--as-of", "2024-06-30", "--out", str(out)])
        assert r.exit_code == 0, r.output
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == ["风险分级管控清单", "隐患排查治理台账"]
        ws = wb["风险分级管控清单"]
        rows = list(ws.iter_rows(values_only=True))
        head = rows[0]
        assert head[:4] == ("企业", "风险单元", "风险点编号", "风险点")
        assert ws.freeze_panes == "A2"
        body = {row[2]: dict(zip(head, row, strict=True)) for row in rows[1:]}
        assert list(body) == [p.id for p in a.enterprise.risk_points]
        tank = body["P-NH3-TANK"]
        node = a.nodes["P-NH3-TANK"]
        assert tank["风险单元"] == "液氨罐区"
        assert tank["危险源"] == "液氨泄漏中毒、储罐超压爆炸"
        assert tank["评价规则集"] == node.ruleset
        assert tank["评价取值"] == "C=15 E=6 L=3"
        assert tank["分值"] == node.score
        assert tank["现实风险等级"] == f"{node.level.zh}({node.level.colour_zh})"
        assert tank["管控层级"] == "公司(厂)级→车间(部室)级→班组级→岗位级"  # ORANGE: the cascade from company down
        assert node.control_tiers == ("company", "department", "team", "post")
        col = head.index("现实风险等级") + 1
        row_no = list(body).index("P-NH3-TANK") + 2
        assert ws.cell(row_no, col).fill.fgColor.rgb.endswith(node.level.hex.lstrip("#").upper())
        hd = list(wb["隐患排查治理台账"].iter_rows(values_only=True))
        assert len(hd) - 1 == len(a.enterprise.hidden_dangers)
        first = dict(zip(hd[0], hd[1], strict=True))
        src = a.enterprise.hidden_dangers[0]
        assert first["隐患编号"] == src.id and first["隐患等级"] == "重大事故隐患"
        assert first["发现日期"].date() == src.found
        assert first["是否超期"] == ("是" if src.is_overdue(AS_OF) else "否")

    def test_csv_english(self, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "chem.csv"
        riskgrade.write_register([riskgrade.assess(None, str(CHEM), as_of=AS_OF)], out, lang="en")
        lines = out.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].startswith("enterprise,unit,risk point id,risk point")
        assert len(lines) == 1 + 7
        hd = (tmp_path / "chem-hidden-dangers.csv").read_text(encoding="utf-8-sig").splitlines()
        assert len(hd) == 1 + 3 and "major" in hd[1]

    def test_bad_suffix(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(RenderError) as exc:
            riskgrade.write_register([], tmp_path / "x.ods")
        assert exc.value.code == "bad-output"


class TestRiskCards:
    def test_pdf_and_html_per_risk_point(self, tmp_path: pathlib.Path) -> None:
        pypdf = pytest.importorskip("pypdf")
        r = CliRunner().invoke(main, ["card", str(CHEM), "--as-of", "2024-06-30", "--out", str(tmp_path)])
        assert r.exit_code == 0, r.output
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        ids = [p.id for p in a.enterprise.risk_points]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{i}.pdf" for i in ids] + [f"{i}.html" for i in ids])
        reader = pypdf.PdfReader(tmp_path / "P-SYN-REACTOR.pdf")
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        node = a.nodes["P-SYN-REACTOR"]
        for expected in ("安全风险告知卡", "合成反应釜", "合成车间", node.level.zh, "反应失控", "其他爆炸",
                         "lec-generic", f"分值 {node.score}", "HD-2024-007", "公司(厂)级→车间(部室)级→班组级→岗位级",
                         "启动紧急停车"):
            assert expected in text, expected
        page = (tmp_path / "P-SYN-REACTOR.html").read_text(encoding="utf-8")
        assert f'data-level="{node.level.name}"' in page and node.level.hex in page and "反应失控" in page

    def test_one_point_english(self, tmp_path: pathlib.Path) -> None:
        pypdf = pytest.importorskip("pypdf")
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        written = riskgrade.write_cards(a, tmp_path, point="P-NH3-TANK", lang="en", formats=("pdf",))
        assert written == [str(tmp_path / "P-NH3-TANK.pdf")]
        text = pypdf.PdfReader(written[0]).pages[0].extract_text()
        assert "Safety risk card" in text and a.nodes["P-NH3-TANK"].level.name in text

    def test_unknown_point(self, tmp_path: pathlib.Path) -> None:
        r = CliRunner().invoke(main, ["card", str(CHEM), "--point", "P-NOPE", "--out", str(tmp_path)])
        assert r.exit_code == 2 and "no risk point 'P-NOPE'" in r.output

    @pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed (.ci/run installs it)")
    def test_card_renders_with_the_level_colour(self, tmp_path: pathlib.Path) -> None:
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        pdf = riskgrade.write_cards(a, tmp_path, point="P-SYN-REACTOR", formats=("pdf",))[0]
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", pdf, str(tmp_path / "page")], check=True,
                       capture_output=True)
        img = mpimg.imread(str(tmp_path / "page.png"))
        assert img.shape[0] > img.shape[1]  # A4 portrait
        top = tuple(int(v * 255 + 0.5) for v in img[5, img.shape[1] // 2][:3])
        assert top == _rgb(a.nodes["P-SYN-REACTOR"].level.hex)


class TestSiteCoordinates:
    """``site.boundary`` and a unit's ``area`` in the register: polygons, located errors."""

    def _write(self, tmp_path: pathlib.Path, old: str, new: str) -> tuple[pathlib.Path, str]:
        text = CHEM.read_text(encoding="utf-8")
        assert old in text
        text = text.replace(old, new)
        p = tmp_path / "chem.yaml"
        p.write_text(text, encoding="utf-8")
        return p, text

    def test_polygons_are_kept(self) -> None:
        ent = riskgrade.load_enterprise(CHEM)
        assert ent.site_boundary is not None and len(ent.site_boundary) == 4
        assert ent.units[0].area == ({"x": 20.0, "y": 150.0}, {"x": 125.0, "y": 150.0}, {"x": 125.0, "y": 240.0},
                                     {"x": 20.0, "y": 240.0})

    def test_bad_vertex_is_located(self, tmp_path: pathlib.Path) -> None:
        p, text = self._write(tmp_path, "{x: 400, y: 260}", "{x: 400, y: high}")
        line = next(i for i, s in enumerate(text.splitlines(), 1) if "y: high" in s)
        col = text.splitlines()[line - 1].index("high") + 1
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert (exc.value.code, exc.value.field) == ("bad-value", "site.boundary[2].y")
        assert f"{p}:{line}:{col})" in str(exc.value)

    def test_a_polygon_has_three_positions_in_one_system(self, tmp_path: pathlib.Path) -> None:
        p, _ = self._write(tmp_path, "area: [{x: 160, y: 20}, {x: 265, y: 20}, {x: 265, y: 100}, {x: 160, y: 100}]",
                           "area: [{x: 160, y: 20}, {lon: 104.17, lat: 36.5}, {x: 265, y: 100}]")
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert (exc.value.code, exc.value.record, exc.value.field) == ("bad-value", "U-UTIL", "area[1]")
        p, _ = self._write(tmp_path, "area: [{x: 160, y: 20}, {x: 265, y: 20}, {x: 265, y: 100}, {x: 160, y: 100}]",
                           "area: [{x: 160, y: 20}, {x: 265, y: 20}]")
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert (exc.value.code, exc.value.field) == ("bad-value", "area")

    def test_wgs84_area_outside_the_county(self, tmp_path: pathlib.Path) -> None:
        p, _ = self._write(tmp_path, "{x: 160, y: 20}, {x: 265, y: 20}, {x: 265, y: 100}, {x: 160, y: 100}",
                           "{lon: 104.17, lat: 36.54}, {lon: 104.18, lat: 36.54}, {lon: 116.4, lat: 39.9}")
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert (exc.value.code, exc.value.record, exc.value.field) == ("outside-region", "U-UTIL", "area[2]")

    def test_site_needs_a_boundary(self, tmp_path: pathlib.Path) -> None:
        p, _ = self._write(tmp_path, "  boundary: [", "  boundry: [")
        with pytest.raises(FactError) as exc:
            riskgrade.load_enterprise(p)
        assert (exc.value.code, exc.value.field) == ("missing-field", "site.boundary")


@pytest.fixture(scope="module")
def chem() -> riskgrade.EnterpriseAssessment:
    return riskgrade.assess(None, str(CHEM), as_of=AS_OF)


class TestSiteMap:
    def test_positions_and_levels(self, chem: riskgrade.EnterpriseAssessment) -> None:
        m = riskgrade.SiteMap.build(chem)
        assert m.system == "plan" and m.unlocated == ()
        assert {ar.id: ar.level for ar in m.areas} == {u.id: chem.nodes[u.id].level for u in chem.enterprise.units}
        assert {p.id: (p.level, p.position) for p in m.points} == {
            p.id: (chem.nodes[p.id].level, (p.location["x"], p.location["y"]))
            for p in chem.enterprise.risk_points if p.location}
        assert m.counts() == chem.counts()["level"]

    def test_png_has_every_level_colour(self, chem: riskgrade.EnterpriseAssessment, tmp_path: pathlib.Path) -> None:
        out = riskgrade.SiteMap.build(chem).save(tmp_path / "site.png", dpi=100)
        img = mpimg.imread(out)
        assert img.shape[:2] == (800, 1100)
        px = {tuple(int(v * 255 + 0.5) for v in row[:3]) for row in img.reshape(-1, img.shape[2])}
        for lv in riskgrade.Level:  # each level has a risk point in the example, drawn opaque
            assert _rgb(lv.hex) in px, lv.name

    def test_svg_same_bytes_and_schematic(self, chem: riskgrade.EnterpriseAssessment, tmp_path: pathlib.Path) -> None:
        m = riskgrade.SiteMap.build(chem)
        one, two = m.save(tmp_path / "a.svg", lang="en"), m.save(tmp_path / "b.svg", lang="en")
        assert pathlib.Path(one).read_bytes() == pathlib.Path(two).read_bytes()
        ET.parse(one)
        assert m.title("zh").endswith("安全风险四色分布图") and "schematic" in m.title("en")

    def test_wgs84_positions_in_metres(self) -> None:
        reg = {"id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402", "ruleset": "lec-generic",
               "units": [{"id": "U-1", "name": "罐区", "location": {"lon": 104.170, "lat": 36.546}},
                         {"id": "U-2", "name": "仓库"}],
               "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15},
                                "location": {"lon": 104.171, "lat": 36.546}},
                               {"id": "P-2", "unit": "U-2", "name": "仓库", "facts": {"L": 1, "E": 3, "C": 7}}]}
        m = riskgrade.SiteMap.build(riskgrade.assess(None, reg, as_of=AS_OF))
        assert m.system == "wgs84" and m.unlocated == ("U-2", "P-2")
        (x0, y0), (x1, y1) = m.areas[0].position, m.points[0].position
        # 0.001° of longitude at 36.546° N is about 89.4 m (spherical Earth)
        assert abs((x1 - x0) - 89.4) < 0.5 and abs(y1 - y0) < 1e-6
        assert sum(m.counts().values()) == 2  # the point without a position is still counted

    def test_mixed_systems_and_no_positions_are_refused(self) -> None:
        reg: dict[str, Any] = {"id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
                               "ruleset": "lec-generic",
                               "units": [{"id": "U-1", "name": "罐区", "location": {"x": 120.0, "y": 45.5}}],
                               "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15},
                                                "location": {"lon": 104.171, "lat": 36.546}}]}
        with pytest.raises(RenderError, match=r"\{x, y\}: U-1\) and WGS84 \(\{lon, lat\}: P-1\)") as exc:
            riskgrade.SiteMap.build(riskgrade.assess(None, reg, as_of=AS_OF))
        assert exc.value.code == "bad-site-plan"
        del reg["units"][0]["location"], reg["risk_points"][0]["location"]
        with pytest.raises(RenderError, match="has no site positions") as exc:
            riskgrade.SiteMap.build(riskgrade.assess(None, reg, as_of=AS_OF))
        assert exc.value.code == "bad-site-plan"

    def test_names_are_not_mathtext(self, tmp_path: pathlib.Path) -> None:
        reg = {"id": "E-1", "name": "$\\frac{1}{0}$ --> <x>", "sectors": ["hazchem"], "jurisdiction": "620402",
               "ruleset": "lec-generic", "units": [{"id": "U-1", "name": "$_{$", "location": {"x": 1.0, "y": 2.0}}],
               "risk_points": [{"id": "P-1", "unit": "U-1", "name": "^$", "facts": {"L": 3, "E": 6, "C": 15},
                                "location": {"x": 5.0, "y": 5.0}}]}
        m = riskgrade.SiteMap.build(riskgrade.assess(None, reg, as_of=AS_OF))
        svg = m.svg()
        assert svg.startswith("<svg") and "-->" not in svg and "<x>" not in svg
        m.save(tmp_path / "s.png", dpi=50)


class TestSiteMapCli:
    def test_map_site_png(self, tmp_path: pathlib.Path) -> None:
        out = tmp_path / "site.png"
        r = CliRunner().invoke(main, ["map", "--site", str(CHEM), "--as-of", "2024-06-30", "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert f"{out}: E-620402-CHEM-01 site map, 4 units and 7 risk points drawn (RED 1, ORANGE 2, YELLOW 2, BLUE 2)" \
            in r.output
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_site_takes_one_register(self, tmp_path: pathlib.Path) -> None:
        r = CliRunner().invoke(main, ["map", "--site", str(ROOT / "examples" / "enterprises"), "--out",
                                      str(tmp_path / "s.png")])
        assert r.exit_code == 2 and "give one register file" in r.output
        r = CliRunner().invoke(main, ["map", "--site", str(CHEM), "--statistic", "most", "--out", str(tmp_path / "s.png")])
        assert r.exit_code == 2 and "not of --site" in r.output

    def test_no_positions_exit_2(self, tmp_path: pathlib.Path) -> None:
        r = CliRunner().invoke(main, ["map", "--site", str(ROOT / "examples" / "region" / "jingtai.yaml"), "--out",
                                      str(tmp_path / "s.svg")])
        assert r.exit_code == 2 and "bad-site-plan" in r.output
        assert not (tmp_path / "s.svg").exists()

    def test_site_geojson_is_refused(self, tmp_path: pathlib.Path) -> None:
        r = CliRunner().invoke(main, ["map", "--site", str(CHEM), "--out", str(tmp_path / "s.geojson")])
        assert r.exit_code == 2 and "bad-output" in r.output
