"""Result types: citations, fired rules, assessments."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._core.canonical import dumps
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._core.provenance import RulesetRef
from riskgrade._grade import receipt as _receipt

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = ["Assessment", "Fired", "RulesetRef", "Step"]

SCHEMA_VERSION = 1


@attrs.frozen
class Fired:
    """A rule that gave a level: its id, level, citation, label and detail line."""

    id: str
    level: Level
    citation: Citation
    label: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "level": self.level.name, "label": self.label, "detail": self.detail,
                "citation": self.citation.to_dict()}


@attrs.frozen
class Step:
    """One line of an explanation: what was done, in words, with the numbers."""

    kind: str
    name: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "text": self.text}


_get = operator.itemgetter


class Assessment(tuple):  # type: ignore[type-arg]
    """The graded result for one set of facts.

    Built by :meth:`Ruleset.grade` at the cost of one tuple: ``values``, ``fired``
    and ``trace`` are computed from the raw result when asked for. Treat it as an
    opaque, immutable object; its tuple base is an implementation detail.

    >>> import riskgrade
    >>> a = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15})
    >>> a.level, a.score
    (<Level.ORANGE: 3>, 270)
    >>> a.fired[0].id
    'lec'
    """

    __slots__ = ()

    # raw layout: (ruleset, level, score, *values, *inputs, *rule levels, *rule details); the ruleset
    # knows the slices
    _rs: Ruleset = property(_get(0))  # type: ignore[assignment]
    level: Level = property(_get(1))  # type: ignore[assignment]
    """The risk level."""
    score: Any = property(_get(2))
    """The ruleset's score (e.g. D for LEC), or None when the ruleset has none."""


    @property
    def ruleset(self) -> RulesetRef:
        """The ruleset (id, version, edition, fingerprint) this result came from."""
        return self[0].ref  # type: ignore[no-any-return]

    @property
    def values(self) -> dict[str, Any]:
        """Every derived value and method output, by name."""
        return dict(zip(self[0]._value_names, self[self[0]._slices[0]], strict=True))

    @property
    def inputs(self) -> dict[str, Any]:
        """The validated inputs (defaults applied), by name."""
        return dict(zip(self[0]._input_names, self[self[0]._slices[1]], strict=True))

    @property
    def fired(self) -> tuple[Fired, ...]:
        """The rules that gave a level, in ruleset order."""
        return self[0]._fired(self)  # type: ignore[no-any-return]

    def trace(self, lang: str = "en") -> list[Step]:
        """The ordered steps a person can read: inputs, derived values, rules, decision."""
        return self[0]._trace(self, lang)  # type: ignore[no-any-return]

    def explain(self, lang: str = "en") -> str:
        """The trace as text."""
        return "\n".join(s.text for s in self.trace(lang))

    def receipt(self, facts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The decision receipt (docs/platform.md): riskgrade and plugin versions, the ruleset's id, edition,
        fingerprint and layers, the SHA-256 of the canonical inputs (and of ``facts`` as given), and ``id``,
        the SHA-256 of the whole decision. Same facts, same code: the same receipt, byte for byte."""
        return _receipt.receipt(self, facts)

    def to_dict(self, *, trace: bool = False, lang: str = "en", receipt: bool = False,
                facts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The stable result schema (see docs/api.md). Keys are sorted on output. ``receipt`` adds
        ``receipt`` (:meth:`receipt`, with ``facts`` as given)."""
        out: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "level": self.level.name,
            "level_zh": self.level.zh,
            "score": self.score,
            "values": self.values,
            "inputs": self.inputs,
            "fired": [f.to_dict() for f in self.fired],
            "ruleset": self.ruleset.to_dict(),
        }
        if trace:
            out["trace"] = [s.to_dict() for s in self.trace(lang)]
        if receipt:
            out["receipt"] = self.receipt(facts)
        return out

    def to_json(self, *, trace: bool = False, lang: str = "en", indent: int | None = None,
                receipt: bool = False, facts: Mapping[str, Any] | None = None) -> str:
        """:meth:`to_dict` as canonical JSON (sorted keys, UTF-8 text, no NaN)."""
        return dumps(self.to_dict(trace=trace, lang=lang, receipt=receipt, facts=facts), indent=indent)

    def __repr__(self) -> str:
        return f"<Assessment {self.level.name} score={self.score!r} ruleset={self[0].id}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Assessment):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]
