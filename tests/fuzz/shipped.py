"""The shipped documents the fuzz harnesses start from."""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(path: pathlib.Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.cache
def rulesets() -> tuple[str, ...]:
    """Every shipped ruleset of kind ``ruleset`` (paths relative to the root, sorted)."""
    out = []
    for p in sorted((ROOT / "rulesets").rglob("*.yaml")):
        data = _load(p)
        if isinstance(data, dict) and data.get("kind", "ruleset") == "ruleset":
            out.append(str(p.relative_to(ROOT)))
    return tuple(out)


@functools.cache
def document(rel: str) -> Any:
    return _load(ROOT / rel)


@functools.cache
def registers() -> tuple[str, ...]:
    return tuple(str(p.relative_to(ROOT)) for p in sorted((ROOT / "examples" / "enterprises").glob("*.yaml")))


@functools.cache
def event_lines() -> tuple[str, ...]:
    return tuple((ROOT / "examples" / "events" / "chem-plant.jsonl").read_text(encoding="utf-8").splitlines())
