"""The regional report (riskgrade report): a static HTML site written from real registers, read back as
HTML, and loaded in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium)."""

from __future__ import annotations

import datetime as dt
import html.parser
import os
import pathlib
import posixpath
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main
from riskgrade._render.report import page_names
from riskgrade.exceptions import RenderError

try:  # the browser tests need it (tox installs it); without it they skip, or fail in CI
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    webdriver = None

ROOT = pathlib.Path(__file__).resolve().parent.parent
AS_OF = dt.date(2024, 6, 30)
EXAMPLES = sorted((ROOT / "examples" / "enterprises").glob("*.yaml")) + sorted((ROOT / "examples" / "region").glob("*.yaml"))
CHEM = ROOT / "examples" / "enterprises" / "chem-plant.yaml"

pytest.importorskip("matplotlib")

#: a register whose every text tries to break out of the page, the SVG comments or mathtext
HOSTILE_NAME = "<script>alert('名')</script> & \"甲\" $x$ --> <!--"
HOSTILE = """\
id: "E-<b>&\\"'/1"
name: "<script>alert('名')</script> & \\"甲\\" $x$ --> <!--"
sectors: [power, "<i>sector</i>"]
jurisdiction: "620423"
location: {lon: 104.1, lat: 37.1}
ruleset: lec-generic
units:
  - {id: "U-<1>", name: "</pre><script>u()</script>", area: [{x: 0, y: 0}, {x: 50, y: 0}, {x: 50, y: 40}]}
risk_points:
  - {id: "P-\\"1\\"", unit: "U-<1>", name: "点 --><img src=x onerror=alert(1)>", location: {x: 20, y: 10},
     facts: {L: 3, E: 6, C: 15}}
hidden_dangers:
  - {id: "HD-<1>", target: "P-\\"1\\"", grade: general, found: 2024-06-01,
     description: "<a href='https://evil.example/'>x</a>"}
"""
HOSTILE_ID = "E-<b>&\"'/1"


class _Parsed(html.parser.HTMLParser):
    """Tags with their attributes, and the text, of one page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.raw_in: dict[str, list[str]] = {"script": [], "style": []}
        self._open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] in self.raw_in:
            self.raw_in[self._open[-1]].append(data)
        else:
            self.text.append(data)


def _inputs(tmp: pathlib.Path) -> list[str]:
    bad = tmp / "bad.yaml"  # outside its county: an error record, not a dropped file
    bad.write_text(CHEM.read_text(encoding="utf-8").replace("lon: 104.171", "lon: 110.5"), encoding="utf-8")
    hostile = tmp / "hostile.yaml"
    hostile.write_text(HOSTILE, encoding="utf-8")
    return [str(ROOT / "examples" / "enterprises"), str(ROOT / "examples" / "region"), str(bad), str(hostile)]


def _files(d: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, Any, list[str]]:
    tmp = tmp_path_factory.mktemp("report")
    inputs = _inputs(tmp)
    out = tmp / "site"
    r = CliRunner().invoke(main, ["report", *inputs, "--as-of", "2024-06-30", "--out", str(out)])
    return out, r, inputs


@pytest.fixture(scope="module")
def assessments() -> list[riskgrade.EnterpriseAssessment]:
    return [riskgrade.assess(None, str(f), as_of=AS_OF) for f in EXAMPLES]


def _page_of(out: pathlib.Path, ent_id: str) -> pathlib.Path:
    return out / "enterprise" / f"{page_names([ent_id])[ent_id]}.html"


class TestReportCli:
    def test_exit_code_and_summary(self, built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, r, _ = built
        assert r.exit_code == 2, r.output  # as `riskgrade region`: a register failed, and is reported
        assert f"{out / 'index.html'}: {len(EXAMPLES) + 1} enterprises, 1 error records" in r.output
        assert "bad.yaml" in r.output and "outside the bounds of 620402" in r.output

    def test_every_input_is_an_enterprise_row_or_an_error_record(self, built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, _, _ = built
        page = _Parsed((out / "index.html").read_text(encoding="utf-8"))
        rows = [a for t, a in page.tags if t == "tr" and "data-level" in a]
        start = next(i for i, (_t, a) in enumerate(page.tags) if a.get("id") == "error-table")
        assert len(rows) == len(EXAMPLES) + 1
        assert sum(1 for t, _a in page.tags[start:] if t == "tr") == 1 + 1  # the header row and one error record
        text = " ".join(page.text)
        for needle in ("bad.yaml", "FactError", "outside-region", "E-620402-CHEM-01", "location"):
            assert needle in text, needle
        assert any(a.get("id") == "error-banner" for _t, a in page.tags)
        pages = sorted(p.name for p in (out / "enterprise").iterdir())
        assert len(pages) == len(EXAMPLES) + 1

    def test_counts_match_the_region(self, built: tuple[pathlib.Path, Any, list[str]],
                                     assessments: list[riskgrade.EnterpriseAssessment]) -> None:
        out, _, _ = built
        page = _Parsed((out / "index.html").read_text(encoding="utf-8"))
        rows = [a for t, a in page.tags if t == "tr" and "data-level" in a]
        want = {a.enterprise.id: a.level.name for a in assessments}
        got = {a["data-id"]: a["data-level"] for a in rows if a["data-id"] != HOSTILE_ID}
        assert got == want
        region = riskgrade.RegionGraph.of(assessments, AS_OF).to_dict()["regions"]
        text = (out / "index.html").read_text(encoding="utf-8")
        huining = region["620422"]
        cells = "".join(f"<td class=n>{huining['by_level'][lv]}</td>" for lv in ("RED", "ORANGE", "YELLOW", "BLUE"))
        assert f"<td>620422</td><td>\u3000\u3000{huining['name']}</td><td class=n>{huining['total']}</td>{cells}" in text

    def test_enterprise_page(self, built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, _, _ = built
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        text = _page_of(out, a.enterprise.id).read_text(encoding="utf-8")
        page = _Parsed(text)
        words = " ".join(page.text)
        for line in a.explain("zh").splitlines():
            assert line.strip() in words
        point_rows = [t for t, _ in page.tags[[x.get("id") for _t, x in page.tags].index("point-table"):]
                      if t == "tr"]
        assert len(point_rows) >= 1 + len(a.enterprise.risk_points)
        opened = [hd.id for hd in a.enterprise.hidden_dangers if hd.is_open(AS_OF)]
        assert opened and all(i in words for i in opened)
        closed = [hd.id for hd in a.enterprise.hidden_dangers if not hd.is_open(AS_OF)]
        assert closed and not any(i in words for i in closed)
        assert "企业安全风险四色分布图" in words and "<svg" in text  # the site map, inline
        assert any(f["fingerprint"] in words for f in a.rulesets.values())


class TestDeterminism:
    def test_same_input_same_bytes(self, built: tuple[pathlib.Path, Any, list[str]],
                                   tmp_path: pathlib.Path) -> None:
        out, _, inputs = built
        again = tmp_path / "again"
        r = CliRunner().invoke(main, ["report", *inputs, "--as-of", "2024-06-30", "--out", str(again)])
        assert r.exit_code == 2
        assert _files(again) == _files(out)

    def test_rewriting_a_report_replaces_its_pages(self, built: tuple[pathlib.Path, Any, list[str]],
                                                   tmp_path: pathlib.Path) -> None:
        out, _, _ = built
        copy = tmp_path / "copy"
        shutil.copytree(out, copy)
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        riskgrade.write_report([a], copy)
        assert sorted(p.name for p in (copy / "enterprise").iterdir()) == ["E-620402-CHEM-01.html"]
        fresh = tmp_path / "fresh"
        riskgrade.write_report([a], fresh)
        assert _files(copy) == _files(fresh)


class TestEscaping:
    def test_register_text_stays_text(self, built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, _, _ = built
        for path in (out / "index.html", _page_of(out, HOSTILE_ID)):
            text = path.read_text(encoding="utf-8")
            page = _Parsed(text)
            scripts = [a for t, a in page.tags if t == "script"]
            assert scripts and all(a.get("src", "").endswith("assets/report.js") for a in scripts), path
            assert not [t for t, _ in page.tags if t in ("img", "i", "b", "pre") and path.name == "index.html"]
            assert not any("onerror" in a for _t, a in page.tags)
            assert not any((a.get("href") or "").startswith("https:") for _t, a in page.tags)
            assert "".join(page.raw_in["script"]) == ""  # no inline script at all
            assert HOSTILE_NAME in "".join(page.text), path
        page = _Parsed(_page_of(out, HOSTILE_ID).read_text(encoding="utf-8"))
        words = "".join(page.text)
        for needle in ("</pre><script>u()</script>", "点 --><img src=x onerror=alert(1)>",
                       "<a href='https://evil.example/'>x</a>", "<i>sector</i>"):
            assert needle in words, needle
        assert [t for t, _ in page.tags].count("pre") == 2  # the explanation and the supervision text, nothing injected

    def test_hostile_id_gets_a_safe_page_name(self, built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, _, _ = built
        page = _page_of(out, HOSTILE_ID)
        assert page.parent == out / "enterprise" and page.name.startswith("_") and page.is_file()


class TestLocalOnly:
    def test_no_outside_address(self, built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, _, _ = built
        for rel, data in _files(out).items():
            text = data.decode("utf-8")
            if rel.startswith("assets/"):
                assert "http:" not in text and "https:" not in text and "url(" not in text and "@import" not in text
                continue
            if rel.endswith(".geojson"):
                continue
            if rel != str(_page_of(out, HOSTILE_ID).relative_to(out)):
                assert "http://" not in text and "https://" not in text, rel  # not even a namespace name
            page = _Parsed(text)
            assert "".join(page.raw_in["style"]).count("url(") == 0
            for tag, attrs in page.tags:
                for key in ("src", "href", "xlink:href", "action"):
                    ref = attrs.get(key)
                    if ref is None or ref.startswith("#"):
                        continue
                    assert ":" not in ref and not ref.startswith("//"), (rel, tag, ref)
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref.split("#")[0]))
                    assert (out / target).is_file(), (rel, ref)
            csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
            assert csp and "default-src 'none'" in (csp[0]["content"] or "")


class TestApi:
    def test_refuses_a_directory_that_is_not_a_report(self, tmp_path: pathlib.Path) -> None:
        (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        with pytest.raises(RenderError) as exc:
            riskgrade.write_report([a], tmp_path)
        assert exc.value.code == "bad-output"
        assert sorted(os.listdir(tmp_path)) == ["notes.txt"]

    def test_duplicate_enterprise_is_a_graph_error(self, tmp_path: pathlib.Path) -> None:
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        with pytest.raises(riskgrade.GraphError, match="appears twice"):
            riskgrade.write_report([a, a], tmp_path / "r")

    def test_supervision_is_rendered_when_present(self, tmp_path: pathlib.Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        plain = riskgrade.EnterpriseAssessment.to_dict

        def with_plan(self: riskgrade.EnterpriseAssessment) -> dict[str, Any]:
            d = plain(self)
            d["supervision"] = {"frequency": "每月1次", "inspections": [{"by": "<市应急局>", "items": ["储罐", "装卸"]}]}
            return d

        monkeypatch.setattr(riskgrade.EnterpriseAssessment, "to_dict", with_plan)
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        riskgrade.write_report([a], tmp_path, lang="en")
        text = (tmp_path / "enterprise" / "E-620402-CHEM-01.html").read_text(encoding="utf-8")
        assert "<h2>Supervision plan</h2>" in text
        assert "<td>inspections[0].by</td><td>&lt;市应急局&gt;</td>" in text
        assert "<td>inspections[0].items</td><td>储罐、装卸</td>" in text

    def test_supervise_result_is_rendered(self, tmp_path: pathlib.Path) -> None:
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        sup = riskgrade.supervise(a)
        riskgrade.write_report([a], tmp_path, lang="en", supervision={a.enterprise.id: sup})
        text = (tmp_path / "enterprise" / "E-620402-CHEM-01.html").read_text(encoding="utf-8")
        assert f"<td>inspections a year</td><td>{sup.inspections} (" in text
        assert "Baiyin District People&#x27;s Government" in text
        assert f"<td>insurance rate factor</td><td>{sup.factor:g} (unverified)</td>" in text

    def test_cli_report_shows_each_enterprise_supervision(self, tmp_path: pathlib.Path) -> None:
        result = CliRunner().invoke(main, ["report", str(CHEM), "--as-of", "2024-06-30", "--lang", "en",
                                           "--out", str(tmp_path / "r")])
        assert result.exit_code == 0, result.output
        text = (tmp_path / "r" / "enterprise" / "E-620402-CHEM-01.html").read_text(encoding="utf-8")
        assert '<section id="supervision">' in text and "inspections a year" in text

    def test_no_supervision_no_section(self, tmp_path: pathlib.Path) -> None:
        riskgrade.write_report([riskgrade.assess(None, str(CHEM), as_of=AS_OF)], tmp_path)
        assert 'id="supervision"' not in (tmp_path / "enterprise" / "E-620402-CHEM-01.html").read_text(encoding="utf-8")

    def test_english(self, tmp_path: pathlib.Path) -> None:
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        r = CliRunner().invoke(main, ["report", str(CHEM), "--as-of", "2024-06-30", "--lang", "en", "--out",
                                      str(tmp_path)])
        assert r.exit_code == 0, r.output
        text = (tmp_path / "index.html").read_text(encoding="utf-8")
        assert '<html lang="en">' in text and "Enterprise list" in text and a.enterprise.name in text


# --------------------------------------------------------------------------- real headless Chromium

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_DRIVER = shutil.which("chromedriver")


def _browser_or_skip() -> tuple[str, str]:
    """Chromium and its driver (and selenium); without them the test skips, except in CI (CI=true),
    where .ci/run installs Debian's chromium and chromium-driver and tox installs selenium: there it fails."""
    missing = [n for n, v in (("chromium", _CHROMIUM), ("chromedriver", _DRIVER)) if v is None]
    if webdriver is None:
        missing.append("selenium (pip install selenium)")
    if missing:
        why = f"{', '.join(missing)} not installed (Debian: apt-get install chromium chromium-driver; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {why}")
        pytest.skip(why)
    assert _CHROMIUM is not None and _DRIVER is not None
    return _CHROMIUM, _DRIVER


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver = _browser_or_skip()
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,1800", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)  # the given driver: nothing is downloaded
    d.set_page_load_timeout(60)
    d.set_script_timeout(30)
    try:
        yield d
    finally:
        d.quit()


def _ready(d: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if d.execute_script("return document.documentElement.getAttribute('data-ready')") == "1":
            return
        time.sleep(0.1)
    raise AssertionError("the report's script did not run")


def _visible(d: Any) -> list[str]:
    return list(d.execute_script(
        "return Array.from(document.querySelectorAll('#enterprise-table tbody tr'))"
        ".filter(function (tr) { return tr.offsetParent !== null; }).map(function (tr) { return tr.dataset.id; })"))


def _rgb(hexcode: str) -> str:
    h = hexcode.lstrip("#")
    return f"rgb({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)})"


class TestBrowser:
    def test_index_renders_and_filters(self, browser: Any, built: tuple[pathlib.Path, Any, list[str]],
                                       assessments: list[riskgrade.EnterpriseAssessment],
                                       tmp_path: pathlib.Path) -> None:
        out, _, _ = built
        d = browser
        d.get((out / "index.html").as_uri())
        _ready(d)
        # the map: an SVG with a real size, every county filled with its level's colour
        size = d.execute_script("var b = document.querySelector('figure.map svg').getBoundingClientRect();"
                                "return [b.width, b.height];")
        assert size[0] > 300 and size[1] > 300
        m = riskgrade.RiskMap.build(assessments)
        for c in m.counties:
            fill = d.execute_script(f"return getComputedStyle(document.querySelector('#county-{c.adcode}-0 path')).fill")
            lv = m.level_of(c.adcode)
            assert fill == _rgb(lv.hex if lv else "#f2f2f2"), c.adcode
        # the table: every enterprise shown, RED first
        ids = _visible(d)
        assert len(ids) == len(assessments) + 1
        levels = d.execute_script("return Array.from(document.querySelectorAll('#enterprise-table tbody tr'))"
                                  ".map(function (tr) { return tr.dataset.level; })")
        order = ["RED", "ORANGE", "YELLOW", "BLUE"]
        assert levels == sorted(levels, key=order.index)
        # filters, clicked as a person would
        for lv in ("ORANGE", "YELLOW", "BLUE"):
            d.find_element(By.CSS_SELECTOR, f"#filters input[name=level][value={lv}]").click()
        red = sorted(a.enterprise.id for a in assessments if a.level is riskgrade.Level.RED)
        assert sorted(i for i in _visible(d) if i != HOSTILE_ID) == red
        assert d.find_element(By.ID, "shown").text == f"显示 {len(_visible(d))} / {len(assessments) + 1} 家"
        d.find_element(By.CSS_SELECTOR, "#filters button[type=reset]").click()
        time.sleep(0.2)
        assert len(_visible(d)) == len(assessments) + 1
        d.find_element(By.CSS_SELECTOR, "#filters input[name=q]").send_keys("化工")
        assert _visible(d) == ["E-620402-CHEM-01"]
        d.find_element(By.CSS_SELECTOR, "#filters button[type=reset]").click()
        time.sleep(0.2)
        # a county on the map filters the list to its enterprises
        d.execute_script("document.querySelector('#county-620422-0').dispatchEvent("
                         "new MouseEvent('click', {bubbles: true}))")
        huining = sorted(a.enterprise.id for a in assessments if a.enterprise.jurisdiction == "620422")
        assert sorted(_visible(d)) == huining
        d.find_element(By.CSS_SELECTOR, "#filters button[type=reset]").click()
        time.sleep(0.2)
        shot = tmp_path / "report-index.png"
        d.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        mpimg = pytest.importorskip("matplotlib.image")
        img = mpimg.imread(str(shot))
        px = {tuple(int(v * 255 + 0.5) for v in row[:3]) for row in img.reshape(-1, img.shape[2])}
        assert (0xE6, 0x30, 0x31) in px  # RED (the level badges of the table; the map is drawn translucent)
        severe = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []  # no script error, no blocked (outside) request

    def test_enterprise_page_from_the_list(self, browser: Any, built: tuple[pathlib.Path, Any, list[str]],
                                           tmp_path: pathlib.Path) -> None:
        out, _, _ = built
        d = browser
        d.get((out / "index.html").as_uri())
        _ready(d)
        d.find_element(By.CSS_SELECTOR, "#enterprise-table tr[data-id='E-620402-CHEM-01'] a").click()
        _ready(d)
        a = riskgrade.assess(None, str(CHEM), as_of=AS_OF)
        assert d.find_element(By.CSS_SELECTOR, "header.band").get_attribute("data-level") == a.level.name
        assert d.execute_script("return getComputedStyle(document.querySelector('header.band')).backgroundColor") \
            == _rgb(a.level.hex)
        rows = d.find_elements(By.CSS_SELECTOR, "#point-table tbody tr")
        assert len(rows) == len(a.enterprise.risk_points)
        opened = [hd.id for hd in a.enterprise.hidden_dangers if hd.is_open(AS_OF)]
        assert [r.find_element(By.TAG_NAME, "td").text for r in
                d.find_elements(By.CSS_SELECTOR, "#hidden-danger-table tbody tr")] == opened
        size = d.execute_script("var b = document.querySelector('#site svg').getBoundingClientRect();"
                                "return [b.width, b.height];")
        assert size[0] > 300 and size[1] > 200
        d.save_screenshot(str(tmp_path / "report-enterprise.png"))
        d.find_element(By.CSS_SELECTOR, "nav a").click()
        _ready(d)
        assert d.current_url.endswith("/index.html")
        severe = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []

    def test_hostile_page_runs_no_injected_script(self, browser: Any,
                                                  built: tuple[pathlib.Path, Any, list[str]]) -> None:
        out, _, _ = built
        d = browser
        d.get(_page_of(out, HOSTILE_ID).as_uri())
        _ready(d)
        assert d.find_element(By.TAG_NAME, "h1").text == HOSTILE_NAME
        assert d.execute_script("return document.querySelectorAll('img, script:not([src])').length") == 0
