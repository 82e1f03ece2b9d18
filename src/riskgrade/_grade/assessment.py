"""Result types: citations, fired rules, assessments."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._core.canonical import dumps, json_scalar
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
        return list(_plan(self[0]).steps(self, lang))

    def explain(self, lang: str = "en") -> str:
        """The trace as text."""
        return _plan(self[0]).explain(self, lang)

    def receipt(self, facts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The decision receipt (docs/platform.md): riskgrade and plugin versions, the ruleset's id, edition,
        fingerprint and layers, the SHA-256 of the canonical inputs (and of ``facts`` as given), and ``id``,
        the SHA-256 of the whole decision. Same facts, same code: the same receipt, byte for byte."""
        return _receipt.receipt(self, facts)

    def to_dict(self, *, trace: bool = False, lang: str = "en", receipt: bool = False,
                facts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The stable result schema (see docs/api.md). Keys are sorted on output. ``receipt`` adds
        ``receipt`` (:meth:`receipt`, with ``facts`` as given)."""
        plan = _plan(self[0])
        out: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "level": self.level.name,
            "level_zh": self.level.zh,
            "score": self.score,
            "values": dict(zip(plan.value_names, self[plan.values], strict=True)),
            "inputs": dict(zip(plan.input_names, self[plan.inputs], strict=True)),
            "fired": [{**d, "citation": dict(d["citation"])} for d in plan.fired_dicts(self)],
            "ruleset": {**plan.ruleset, "layers": list(plan.ruleset["layers"])},
        }
        if trace:
            out["trace"] = [s.to_dict() for s in self.trace(lang)]
        if receipt:
            out["receipt"] = self.receipt(facts)
        return out

    def to_json(self, *, trace: bool = False, lang: str = "en", indent: int | None = None,
                receipt: bool = False, facts: Mapping[str, Any] | None = None) -> str:
        """:meth:`to_dict` as canonical JSON (sorted keys, UTF-8 text, no NaN)."""
        if trace or indent or receipt:
            return dumps(self.to_dict(trace=trace, lang=lang, receipt=receipt, facts=facts), indent=indent)
        return _plan(self[0]).json(self)

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


# -- serialisation plan -------------------------------------------------------------------------
# What is constant per ruleset (the RulesetRef, each rule's citation, label and id, the sorted order
# of the value and input names, their JSON keys) is worked out once; per record only the numbers,
# the rule details and the levels are encoded. The output is byte for byte what
# ``dumps(to_dict())`` gives: canonical.json_scalar encodes each scalar exactly as the canonical
# dumper does, and anything else goes through the dumper itself.

#: a result's text is a pure function of its raw values: the texts of recurring ones (a scale of
#: discrete values recurs a lot) are kept, up to this many per ruleset, then the cache starts afresh
_CACHE_SIZE = 1024


_SIMPLE = frozenset((int, float, str, bool, type(None)))
_NO_KEY: Any = object()  # a key not worked out yet


def _label_en(v: Any) -> str:
    # what Ruleset._fired shows as a rule's label (the English text, else the Chinese)
    if isinstance(v, dict):
        return str(v.get("en") or v.get("zh") or "")
    return "" if v is None else str(v)


def _sorted_keys(names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    # a name given twice keeps its last value, as dict(zip()) does
    last = {n: i for i, n in enumerate(names)}
    return tuple((dumps(n), last[n]) for n in sorted(last))


def _obj(keys: tuple[tuple[str, int], ...], vals: tuple[Any, ...]) -> str:
    return ",".join([f"{k}:{json_scalar(vals[i])}" for k, i in keys])


class _Plan:
    __slots__ = ("details", "explain_cache", "fired_cache", "input_keys", "input_names", "inputs", "json_cache",
                 "level_json", "levels", "rs", "rule_head", "rule_tail", "ruleset", "ruleset_json", "steps_cache",
                 "value_keys", "value_names", "values")

    def __init__(self, rs: Ruleset) -> None:
        self.rs = rs
        self.value_names = rs._value_names
        self.input_names = rs._input_names
        self.values, self.inputs, self.levels, self.details = rs._slices
        self.ruleset = rs.ref.to_dict()
        self.ruleset_json = dumps(self.ruleset)
        self.value_keys = _sorted_keys(self.value_names)
        self.input_keys = _sorted_keys(self.input_names)
        self.level_json = {lv: f'"level":{dumps(lv.name)},"level_zh":{dumps(lv.zh)}' for lv in Level}
        self.rule_head = tuple(f'{{"citation":{dumps(c.to_dict())},"detail":' for c in rs._citations)
        self.rule_tail = tuple(f',"id":{dumps(r["id"])},"label":{dumps(_label_en(r.get("label")))},"level":'
                               for r in rs.rules)
        # (raw result, its types) → the fired rules' dicts / the whole JSON text
        self.fired_cache: dict[Any, tuple[dict[str, Any], ...]] = {}
        self.json_cache: dict[Any, str] = {}
        # (raw result, its types, language) → the trace's steps (frozen, shared) / the explanation text
        self.steps_cache: dict[Any, tuple[Step, ...]] = {}
        self.explain_cache: dict[Any, str] = {}

    def _key(self, a: Assessment) -> Any:
        """A key two records share only if their results print the same: the same raw result with
        the same plain types (1 and 1.0 differ), and no float zero (-0.0 == 0.0 prints differently);
        None when there is no such key (a list input, a custom value type)."""
        raw = a[1:]
        types = tuple(map(type, a[2:]))
        if not _SIMPLE.issuperset(types):
            return None
        if float in types and 0.0 in raw and any(t is float and x == 0 for x, t in zip(a[2:], types, strict=True)):
            return None
        return (raw, types)

    def _fired(self, a: Assessment, key: Any) -> tuple[dict[str, Any], ...]:
        if key is not None:
            hit = self.fired_cache.get(key)
            if hit is not None:
                return hit
        out = tuple(f.to_dict() for f in self.rs._fired(a))
        if key is not None:
            _put(self.fired_cache, key, out)
        return out

    def fired_dicts(self, a: Assessment) -> tuple[dict[str, Any], ...]:
        return self._fired(a, self._key(a))

    def steps(self, a: Assessment, lang: str, key: Any = _NO_KEY) -> tuple[Step, ...]:
        if key is _NO_KEY:
            key = self._key(a)
        if key is not None:
            hit = self.steps_cache.get((key, lang))
            if hit is not None:
                return hit
        out = tuple(self.rs._trace(a, lang))
        if key is not None:
            _put(self.steps_cache, (key, lang), out)
        return out

    def explain(self, a: Assessment, lang: str) -> str:
        key = self._key(a)
        if key is not None:
            hit = self.explain_cache.get((key, lang))
            if hit is not None:
                return hit
        # the text straight from the lines: no Step objects unless a trace is asked for
        out = "\n".join(self.rs._lines(a, lang))
        if key is not None:
            _put(self.explain_cache, (key, lang), out)
        return out

    def json(self, a: Assessment) -> str:
        key = self._key(a)
        if key is not None:
            hit = self.json_cache.get(key)
            if hit is not None:
                return hit
        fired = ",".join([f"{self.rule_head[i]}{json_scalar(d['detail'])}{self.rule_tail[i]}\"{d['level']}\"}}"
                          for i, d in zip([i for i, lv in enumerate(a[self.levels]) if lv], self._fired(a, key),
                                          strict=True)])
        out = (f'{{"fired":[{fired}],"inputs":{{{_obj(self.input_keys, a[self.inputs])}}},'
               f'{self.level_json[a[1]]},"ruleset":{self.ruleset_json},"schema":{SCHEMA_VERSION},'
               f'"score":{json_scalar(a[2])},"values":{{{_obj(self.value_keys, a[self.values])}}}}}')
        if key is not None:
            _put(self.json_cache, key, out)
        return out


def _put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _plan(rs: Ruleset) -> _Plan:
    try:
        return rs.__dict__["_serial_plan"]  # type: ignore[no-any-return]
    except KeyError:
        plan = rs.__dict__["_serial_plan"] = _Plan(rs)
        return plan
