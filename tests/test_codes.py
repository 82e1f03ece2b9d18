"""The catalogue of error codes: complete, without dead entries, documented (docs/errors.md)."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import textwrap
from types import ModuleType

import pytest

import riskgrade
from riskgrade._cli.main import fact_error_text
from riskgrade._core.codes import CODES, KINDS, describe
from riskgrade.exceptions import FactError
from tests._codescan import scan

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "riskgrade"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_errors_doc", ROOT / "tools" / "gen_errors_doc.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def raised() -> dict[str, list[str]]:
    found, doubtful = scan(PACKAGE)
    assert not doubtful, doubtful
    return found


def test_docs_errors_md_is_generated_from_the_catalogue() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert text == _tool().render(), "docs/errors.md is stale: run python tools/gen_errors_doc.py"


def test_every_raised_code_is_in_the_catalogue(raised: dict[str, list[str]]) -> None:
    missing = {code: where for code, where in raised.items() if code not in CODES}
    assert not missing, f"add these codes to riskgrade/_core/codes.py: {missing}"


def test_every_catalogue_code_is_raised(raised: dict[str, list[str]]) -> None:
    dead = sorted(set(CODES) - set(raised))
    assert not dead, f"no source raises these catalogue codes: {dead}"


def test_every_code_has_zh_and_en_and_known_kinds() -> None:
    for code, entry in CODES.items():
        assert entry.code == code
        assert entry.zh.strip() and entry.en.strip(), code
        assert entry.kinds and set(entry.kinds) <= set(KINDS), code
        assert len(set(entry.kinds)) == len(entry.kinds), code


def test_one_code_for_an_unknown_key() -> None:
    assert "rollup-unknown-key" not in CODES
    assert {"ruleset", "monitor"} <= set(CODES["unknown-key"].kinds)


def test_describe_and_the_public_names() -> None:
    assert riskgrade.describe is describe
    assert describe("band-gap", "zh") == "区间之间有空缺"
    assert describe("band-gap") == "the bands leave a gap"
    assert describe("no-such-code") == ""


def test_the_cli_explains_codes_from_the_catalogue() -> None:
    err = FactError("x", field="L", code="missing-fact")
    assert fact_error_text(err, "zh") == f"missing-fact({CODES['missing-fact'].zh}): L: x"
    assert fact_error_text(err, "en") == "missing-fact: L: x"


@pytest.mark.parametrize("snippet", [
    'raise FactError("m", code="brand-new-code")',
    'problems.append(Problem("brand-new-code", "m", "f.yaml", 1, 1))',
    'located.problem(("a",), "brand-new-code", "m")',
    'self.p(("a",), "brand-new-code", "m")',
    'bad((), "brand-new-code", "m")',
    'raise ExprError("brand-new-code", "m")',
    'rec.update(code="x" if c else "brand-new-code")',
    'out = {"error": "brand-new-code", "message": m}',
    'def helper(where, code, msg):\n    pass\nhelper(1, "brand-new-code", "m")',
    'L.append("raise _FE(m, code=\'brand-new-code\')")',
])
def test_the_scan_finds_a_new_code(tmp_path: pathlib.Path, snippet: str) -> None:
    """A code added anywhere in (a copy of) the package without a catalogue entry is found."""
    pkg = tmp_path / "riskgrade"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    with (pkg / "_enterprise" / "rollup.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef _added() -> None:\n" + textwrap.indent(snippet, "    ") + "\n")
    found, _ = scan(pkg)
    assert "brand-new-code" in found and "brand-new-code" not in CODES


def test_a_code_built_at_run_time_is_refused(tmp_path: pathlib.Path) -> None:
    pkg = tmp_path / "riskgrade"
    pkg.mkdir()
    (pkg / "m.py").write_text('raise FactError("m", code=f"bad-{kind}")\n', encoding="utf-8")
    assert scan(pkg)[1]
