"""The Python examples in the README and docs run as written (from the repository root)."""

from __future__ import annotations

import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "api.md"]


def blocks(path: pathlib.Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_blocks_run(path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = blocks(path)
    assert found, f"{path.name} has no python example"
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        for code in found:
            exec(compile(code, str(path), "exec"), {"__name__": "__doc_example__"})
    finally:
        os.chdir(old)
