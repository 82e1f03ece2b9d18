"""Finding rulesets: the shipped ones (``riskgrade.rulesets``), files, and plugin-provided ones."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from importlib import resources
from typing import Any

import attrs
import yaml

from riskgrade.exceptions import Problem, RulesetError

__all__ = ["ShippedRuleset", "find", "shipped", "shipped_files"]


@attrs.frozen
class ShippedRuleset:
    id: str
    edition: str
    effective: str
    path: str
    title: Any
    sector: str
    version: str


def _ruleset_dirs() -> Iterator[str]:
    root = resources.files("riskgrade.rulesets")
    yield str(root)


def shipped_files() -> Iterator[str]:
    """Every YAML file shipped in ``riskgrade.rulesets`` (rulesets, monitoring rulesets, layers), sorted."""
    for root in _ruleset_dirs():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith((".yaml", ".yml")):
                    yield os.path.join(dirpath, fn)


@functools.lru_cache(maxsize=1)
def shipped() -> tuple[ShippedRuleset, ...]:
    """Every ruleset file shipped in the package, sorted by id and effective date."""
    out = []
    for root in _ruleset_dirs():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.endswith((".yaml", ".yml")):
                    continue
                path = os.path.join(dirpath, fn)
                head = _head(path)
                if head is None or head.get("kind", "ruleset") != "ruleset" or "riskgrade" not in head:
                    continue
                out.append(ShippedRuleset(str(head.get("id")), str(head.get("edition", "")),
                                          str(head.get("effective", "")), path, head.get("title"),
                                          str(head.get("sector", "")), str(head.get("version", ""))))
    out.sort(key=lambda s: (s.id, s.effective, s.edition))
    return tuple(out)


def _head(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def find(ref: str) -> str:
    """The file for ``ref``: a path, a shipped id (newest edition) or ``id@edition``."""
    if os.path.exists(ref) or ref.endswith((".yaml", ".yml")) or os.sep in ref:
        return ref
    rid, _, edition = ref.partition("@")
    matches = [s for s in shipped() if s.id == rid]
    if edition:
        matches = [s for s in matches if s.edition == edition or s.edition.startswith(edition)
                   or s.effective.startswith(edition)]
    if not matches:
        known = sorted({s.id for s in shipped()})
        raise RulesetError([Problem("unknown-ruleset", f"no shipped ruleset {ref!r}; shipped: {', '.join(known)}",
                                    ref)])
    return matches[-1].path
