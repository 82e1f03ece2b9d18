"""Provenance: which ruleset (id, version, edition, jurisdiction, fingerprint, layers) produced a result."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["RulesetRef"]


@attrs.frozen
class RulesetRef:
    """Which ruleset produced a result: id, version, edition, jurisdiction, fingerprint."""

    id: str
    version: str
    edition: str
    jurisdiction: str
    fingerprint: str
    layers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "edition": self.edition,
                "jurisdiction": self.jurisdiction, "fingerprint": self.fingerprint, "layers": list(self.layers)}
