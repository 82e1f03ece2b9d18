"""The pages in docs/rulesets/ are generated from the rulesets and must match them exactly."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "gen_ruleset_docs.py"
DOCS = ROOT / "docs" / "rulesets"


def _tool():
    spec = importlib.util.spec_from_file_location("gen_ruleset_docs", TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _tool()
PAGES = GEN.generate()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_committed_page_equals_generated(name: str) -> None:
    path = DOCS / name
    assert path.exists(), f"docs/rulesets/{name} is missing: run python tools/gen_ruleset_docs.py"
    assert path.read_text(encoding="utf-8") == PAGES[name], (
        f"docs/rulesets/{name} is stale: run python tools/gen_ruleset_docs.py")


def test_no_orphan_pages() -> None:
    on_disk = {p.name for p in DOCS.glob("*.md")}
    assert on_disk - set(PAGES) == set(), "pages without a shipped ruleset; delete them or restore the ruleset"


def test_generation_is_deterministic() -> None:
    assert GEN.generate() == PAGES


def test_page_shows_verification_and_citations() -> None:
    page = PAGES["hazchem-gb18218.md"]
    assert "**unverified 未核实**" in page            # the local level mapping source
    assert "| `mhi-grade-1` |" in page
    assert "[local 本地规定; **unverified 未核实**]" in page
    assert "gb18218-table1.csv` (85 rows)" in page
    assert "| 85 | 钠 | 金属钠 | 7440-23-5 | 10 |" in page
    tail = PAGES["nonmetal-mine-tailings.md"]
    assert "superseded 已被代替" in tail
    assert tail.count("**unverified**") >= 10         # 病库/正常库 conditions


def test_check_mode_reports_stale(tmp_path: pathlib.Path) -> None:
    assert GEN.main(["--check", "--out", str(tmp_path)]) == 1
    assert GEN.main(["--out", str(tmp_path)]) == 0
    assert GEN.main(["--check", "--out", str(tmp_path)]) == 0
