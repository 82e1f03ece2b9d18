"""The Python examples in the README and docs run as written (from the repository root)."""

from __future__ import annotations

import doctest
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: every hand-written page (docs/rulesets is generated from the rulesets and checked by test_ruleset_docs)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: pathlib.Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_blocks_run(path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = blocks(path)
    if not found:
        pytest.skip(f"{path.name} has no python example")
    old = os.getcwd()
    os.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}  # the blocks of one page run in order
    try:
        for code in found:
            if code.lstrip().startswith(">>>"):
                test = doctest.DocTestParser().get_doctest(code, namespace, path.name, str(path), 0)
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
                runner.run(test, out=lambda s: None, clear_globs=False)
                assert not runner.failures, f"{path.name}: a doctest block fails:\n{code}"
                namespace = test.globs
            else:
                exec(compile(code, str(path), "exec"), namespace)
    finally:
        os.chdir(old)


DOC_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("path", DOC_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_never_name_a_private_module(path: pathlib.Path) -> None:
    hits = [f"{path.name}:{i}: {line.strip()}" for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "riskgrade._" in line]
    assert not hits, hits
