"""The front door: :func:`load` and :func:`list_rulesets`."""

from __future__ import annotations

import functools
import os
from typing import Any

from riskgrade._compile.pipeline import Ruleset, load_file
from riskgrade._source.registry import find, shipped

__all__ = ["list_rulesets", "load"]


def load(ref: str | os.PathLike[str], *, jurisdiction: str | None = None) -> Ruleset:
    """Load a ruleset by shipped id (``"lec-generic"``, ``"nonmetal-mine@2017"``) or file path.

    With ``jurisdiction`` (a GB/T 2260 code), the layers of every jurisdiction from the
    province down to that code are applied, stricter only (see docs/plugins.md).
    Compiled rulesets are cached: loading the same ref twice returns the same object.

    >>> load("lec-generic").id
    'lec-generic'
    """
    path = find(os.fspath(ref))
    mtime = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
    return _load_cached(os.path.abspath(path) if os.path.exists(path) else path, mtime, jurisdiction)


@functools.lru_cache(maxsize=128)
def _load_cached(path: str, mtime: int, jurisdiction: str | None) -> Ruleset:
    if jurisdiction is None:
        return load_file(path)
    from riskgrade._compile.layers import load_for_jurisdiction

    return load_for_jurisdiction(path, jurisdiction)


def list_rulesets() -> list[dict[str, Any]]:
    """Metadata of every shipped ruleset (id, edition, title, sector, version, file)."""
    return [{"id": s.id, "edition": s.edition, "effective": s.effective, "title": s.title, "sector": s.sector,
             "version": s.version, "file": s.path} for s in shipped()]
