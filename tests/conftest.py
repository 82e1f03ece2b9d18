"""Shared fixtures: temporary ruleset files built from the shipped lec-generic."""

from __future__ import annotations

import os
import pathlib
import tempfile
import textwrap
from collections.abc import Callable

import pytest

# the cross-process cache of parsed files (riskgrade._source.cache) is on, as for a user, but in a
# directory of this test run (and of the processes it starts), not the user's cache
os.environ.setdefault("RISKGRADE_CACHE_DIR", tempfile.mkdtemp(prefix="riskgrade-test-cache-"))

MINIMAL = """\
riskgrade: 1
id: tiny
title: {zh: 测试, en: test}
sector: general
jurisdiction: "620000"
version: "0.1"
edition: test
effective: 2020-01-01
sources:
  s: {title: {zh: 测试来源, en: test source}}
inputs:
  x: {type: number, min: 0, max: 100}
bands:
  b:
    closed: upper
    rows:
      - {to: 10, level: BLUE}
      - {from: 10, to: 20, level: YELLOW}
      - {from: 20, to: 30, level: ORANGE}
      - {from: 30, level: RED}
rules:
  - id: r
    method: score
    expr: x
    bands: b
    cite: {source: s}
"""


@pytest.fixture
def write_ruleset(tmp_path: pathlib.Path) -> Callable[[str], str]:
    """Write YAML text (dedented) to a file and return its path."""
    counter = iter(range(1000))

    def write(text: str, name: str | None = None) -> str:
        p = tmp_path / (name or f"rs{next(counter)}.yaml")
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(p)

    return write
