"""Decision receipts: what a regulator needs to prove later which code graded what.

A receipt names the riskgrade version, every installed plugin distribution with its version, the
ruleset (id, version, edition, jurisdiction, fingerprint, layers), the SHA-256 of the canonical JSON
of the validated inputs (and of the facts as given, when known), and ``id``: the SHA-256 of the
canonical JSON of the whole decision (the result without its receipt, plus the rest of the receipt).
Nothing in it depends on the clock or the machine, so grading the same facts with the same code gives
a byte-identical receipt; :func:`verify` re-grades a result and compares.

>>> import riskgrade
>>> r = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15}).receipt()
>>> r["ruleset"]["id"], r["inputs_sha256"][:7], r["id"][:7]
('lec-generic', 'sha256:', 'sha256:')
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from riskgrade._core.canonical import dumps

if TYPE_CHECKING:
    from riskgrade._grade.assessment import Assessment

__all__ = ["RECEIPT_VERSION", "canonical_sha256", "plugin_versions", "receipt", "riskgrade_version"]

RECEIPT_VERSION = 1
_GROUP = "riskgrade"


def canonical_sha256(data: Any) -> str:
    """``sha256:`` + the hex SHA-256 of ``dumps(data)`` (canonical JSON: sorted keys, UTF-8, compact).

    >>> canonical_sha256({"b": 1, "a": 2}) == canonical_sha256({"a": 2, "b": 1})
    True
    """
    return "sha256:" + hashlib.sha256(dumps(data).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def riskgrade_version() -> str:
    """The installed riskgrade distribution's version (``?`` when running from a bare source tree)."""
    try:
        return importlib.metadata.version("riskgrade")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "?"


@functools.lru_cache(maxsize=1)
def plugin_versions() -> tuple[tuple[str, str, str], ...]:
    """``(entry point, distribution, version)`` of every installed plugin (entry point group ``riskgrade``),
    sorted: the code that may have contributed methods, functions, layers or roll-up modifiers."""
    out = set()
    for ep in importlib.metadata.entry_points(group=_GROUP):
        dist = ep.dist
        out.add((ep.name, dist.metadata["Name"] if dist else "?", dist.version if dist else "?"))
    return tuple(sorted(out))


def receipt(a: Assessment, facts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The receipt of ``a`` (see the module docstring); ``facts`` as given adds ``facts_sha256``."""
    out: dict[str, Any] = {
        "receipt": RECEIPT_VERSION,
        "riskgrade": riskgrade_version(),
        "plugins": [{"name": n, "dist": d, "version": v} for n, d, v in plugin_versions()],
        "ruleset": a.ruleset.to_dict(),
        "inputs_sha256": canonical_sha256(a.inputs),
    }
    if facts is not None:
        out["facts_sha256"] = canonical_sha256(dict(facts))
    out["id"] = canonical_sha256({"result": a.to_dict(), "receipt": out})
    return out
