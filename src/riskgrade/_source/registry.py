"""Finding rulesets: the shipped ones (``riskgrade.rulesets``), files, and plugin-provided ones."""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import Iterator
from importlib import resources
from typing import Any

import attrs
import yaml

from riskgrade.exceptions import Problem, RulesetError

__all__ = ["ShippedRuleset", "find", "head", "shipped", "shipped_files"]


@attrs.frozen
class ShippedRuleset:
    id: str
    edition: str
    effective: str
    path: str
    title: Any
    sector: str
    version: str
    #: ``{"encoded": n, "in_standard": m | None, ...}`` as the ruleset states it, or None
    completeness: Any = None
    #: editions of the standard known to exist but not encoded (``announced:`` in the YAML)
    announced: tuple[Any, ...] = ()


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
                h = head(path)
                if h is None or h.get("kind", "ruleset") != "ruleset" or "riskgrade" not in h:
                    continue
                out.append(ShippedRuleset(str(h.get("id")), str(h.get("edition", "")),
                                          str(h.get("effective", "")), path, h.get("title"),
                                          str(h.get("sector", "")), str(h.get("version", "")),
                                          h.get("completeness"), tuple(h.get("announced") or ())))
    out.sort(key=lambda s: (s.id, s.effective, s.edition))
    return tuple(out)


def head(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: ~10x faster
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def find(ref: str, as_of: datetime.date | None = None) -> str:
    """The file for ``ref``: a path, a shipped id or ``id@edition``.

    A bare id means the newest edition, or with ``as_of`` the edition in force on that date (the
    latest ``effective`` not after it); no edition in force then is a :class:`RulesetError`
    (``no-edition-in-force``).
    """
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
    if as_of is not None and not edition:
        day = as_of.isoformat()
        in_force = [s for s in matches if s.effective <= day]
        if not in_force:
            editions = ", ".join(f"{s.edition} (from {s.effective})" for s in matches)
            raise RulesetError([Problem("no-edition-in-force", f"no edition of {rid!r} was in force on {day}; "
                                        f"editions: {editions}", ref)])
        return in_force[-1].path
    return matches[-1].path
