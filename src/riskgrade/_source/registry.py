"""Finding rulesets: the shipped ones (``riskgrade.rulesets``), files, and plugin-provided ones."""

from __future__ import annotations

import datetime
import functools
import os
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import attrs
import yaml

from riskgrade.exceptions import Problem, RulesetError

__all__ = ["HEAD_KEYS", "ShippedRuleset", "find", "find_shipped", "head", "sector_rollup", "shipped", "shipped_files"]


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
    #: whether it declares a ``rollup:`` section: how the enterprises of its sector are graded overall
    rollup: bool = False


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
                                          h.get("completeness"), tuple(h.get("announced") or ()),
                                          "rollup" in h))
    out.sort(key=lambda s: (s.id, s.effective, s.edition))
    return tuple(out)


def sector_rollup(sector: str) -> str | None:
    """The id of the shipped ruleset that declares how enterprises of ``sector`` are graded overall (its
    ``rollup:`` section), or None when the sector declares nothing (the first by id if several do;
    ``tests/test_sector_rollup.py`` checks that each sector has at most one)."""
    ids = sorted({s.id for s in shipped() if s.rollup and s.sector == sector})
    return ids[0] if ids else None


#: the top-level keys :func:`head` reads: what the registry and the library finder need
HEAD_KEYS = frozenset({"riskgrade", "kind", "id", "title", "sector", "version", "edition", "effective",
                       "jurisdiction", "completeness", "announced", "rollup"})
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]|$)")
#: path → ((mtime_ns, size), head): a file is read again only when it changes
_HEADS: dict[str, tuple[tuple[int, int], dict[str, Any] | None]] = {}


def head(path: str) -> dict[str, Any] | None:
    """The :data:`HEAD_KEYS` of the YAML mapping at ``path`` (None when it is not a readable mapping).

    Resolving an id must not parse every shipped file whole (a large ruleset takes a second): only the
    top-level blocks of those keys are cut out and parsed, and the answer is kept until the file
    changes. A file this cannot cut safely (several documents, directives, flow style at the top, an
    alias) is parsed whole; either way the answer is the same (tests/test_platform.py compares them).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _HEADS.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    data = _fast_head(text)
    if data is None:
        data = _full_head(text)
    _HEADS[path] = (stamp, data)
    return data


def _fast_head(text: str) -> dict[str, Any] | None:
    kept: list[str] = []
    keep = False
    for line in text.splitlines():
        if not line or line[0] in " \t#":
            if keep:
                kept.append(line)
            continue
        m = _TOP_KEY.match(line)
        if m is None:  # "---", "%YAML", "{...}", "? key": not plain block style
            return None
        keep = m.group(1) in HEAD_KEYS
        if keep:
            kept.append(line)
    blob = "\n".join(kept)
    if "*" in blob or "&" in blob:  # aliases may point into blocks left out
        return None
    try:
        data = yaml.load(blob, Loader=_LOADER)  # a safe loader: CSafeLoader or SafeLoader
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) and "id" in data else None


def _full_head(text: str) -> dict[str, Any] | None:
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader
    except yaml.YAMLError:
        return None
    return {k: v for k, v in data.items() if k in HEAD_KEYS} if isinstance(data, dict) else None


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def find(ref: str, as_of: datetime.date | None = None) -> str:
    """The file for ``ref``: a path, a shipped id or ``id@edition``.

    A bare id means the newest edition, or with ``as_of`` the edition in force on that date (the
    latest ``effective`` not after it); no edition in force then is a :class:`RulesetError`
    (``no-edition-in-force``).
    """
    if os.path.exists(ref) or ref.endswith((".yaml", ".yml")) or os.sep in ref:
        return ref
    return find_shipped(ref, as_of)


def find_shipped(ref: str, as_of: datetime.date | None = None) -> str:
    """The shipped file for the id or ``id@edition`` ``ref`` (as :func:`find`, never a path: a file of
    that name in the current directory is not looked at); :class:`RulesetError` ``unknown-ruleset``."""
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
