"""Answers reused by their facts: the text of a record's answer, kept as a template with slots for its position.

A record's answer (its result or error record, with ``index``, ``record``, ``line`` and ``id`` where it came
from) is a pure function of its facts — without the id, which is no fact unless the ruleset takes it as an
input — and of its position: grading and writing depend on nothing else. So the answer's text is kept,
keyed by :func:`facts_key`, as a *template*: the canonical JSON text cut around the values of the position
keys (and the id). A record with the same facts is then answered by filling the slots, with no grade, no
serialising and no receipt hashes. Both the CLI's JSON Lines path (``riskgrade grade --format json``,
``_cli/stream.py``) and the service's batch path (``POST /v1/grade``, ``_serve/batch.py``) answer so.

A template is made either from the answer's dict (:func:`template`: each top-level value dumped by the
canonical dumper, in sorted key order, which is how the canonical dumper writes the whole dict) or, for a
result, from the text of its JSON plan (:func:`result_template`: :meth:`Assessment.to_json` cut where the
position keys and the receipt sort in); both give the text ``dumps({**answer, **position})`` gives. An
answer whose text names its own position (an error message quoting its record) gets no template.

>>> import riskgrade
>>> rs = riskgrade.load("lec-generic")
>>> at = Position(("index", "record"), ('"<body>[', ']"'))
>>> t = result_template(rs.grade({"L": 3, "E": 6, "C": 15}), at, has_id=True, receipt=False)
>>> filled = t[0] + '"R-7"' + t[1] + "7" + t[2] + "7" + t[3]
>>> import json; d = json.loads(filled); d["id"], d["index"], d["record"], d["level"]
('R-7', 7, '<body>[7]', 'ORANGE')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._core.canonical import dumps, json_scalar
from riskgrade._core.levels import Level
from riskgrade._grade.receipt import receipt_json
from riskgrade._source.facts import FactRecord, function_error_dict, position, record_error_dict
from riskgrade._source.jsondoc import exact_key
from riskgrade.exceptions import FactError, FunctionError

if TYPE_CHECKING:
    from riskgrade._grade.assessment import Assessment

__all__ = ["CACHE_LIMIT", "Position", "cache_of", "cut", "error_answer", "facts_key", "keep", "result_template", "template"]

#: templates kept per cache, at most (then the cache is emptied): memory stays bounded however long the input
CACHE_LIMIT = 4096


@attrs.frozen
class Position:
    """The position keys an answer carries besides ``id`` (sorted: ``index``, ``line``, ``record``), and how
    the value of ``record`` is written around its number: ``record[0] + number + record[1]`` (the record's
    JSON text, e.g. ``"<body>[`` and ``]"``, or ``"file.jsonl:`` and ``"``)."""

    keys: tuple[str, ...]
    record: tuple[str, str]


def facts_key(facts: Mapping[str, Any]) -> Any:
    """A key two records share only when they are the same facts in the same order with the same plain types
    (``1``, ``1.0`` and ``true`` differ; a float by its bits, so ``0.0`` and ``-0.0`` differ): orjson's text
    of them (:func:`~riskgrade._source.jsondoc.exact_key`), else a tuple of ``(key, type, value)``; None for
    facts with other values (lists, mappings) when orjson is not there to write them."""
    k = exact_key(facts)
    if k is not None:
        return k
    out: list[Any] = []
    for name, v in facts.items():
        c = v.__class__
        if c is float:
            out.append((name, c, v.hex()))
        elif c is str or c is int or c is bool or v is None:
            out.append((name, c, v))
        else:
            return None
    return tuple(out)


def keep(cache: dict[Any, Any], key: Any, value: Any, limit: int = CACHE_LIMIT) -> None:
    """``cache[key] = value``, the cache emptied first when it holds ``limit`` entries."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def error_answer(rec: FactRecord, err: FactError | FunctionError | None, rid: Any) -> dict[str, Any]:
    """The error record of ``rec`` with its position: ``not-a-mapping`` (``err`` None: the record is no JSON
    object), a fact error (located in the record) or a function error."""
    if err is None:
        err = FactError("record must be a JSON object", record=rec.where, code="not-a-mapping")
        return {**record_error_dict(rec, err), **position(rec, rid)}
    if isinstance(err, FunctionError):
        return {**function_error_dict(err), **position(rec, rid)}
    return {**record_error_dict(rec, err.at(record=rec.where)), **position(rec, rid)}


def template(d: dict[str, Any], at: Position, where: str) -> tuple[str, ...] | None:
    """``dumps(d)`` cut around the values of ``id`` (when in ``d``) and of the position keys ``at.keys`` (in that
    order: the keys are sorted), the value of ``record`` cut after ``at.record[0]`` (and so followed by
    ``at.record[1]``); None when ``d`` lacks a position key, has a key that is not text, or names ``where``
    (its position) in another value."""
    if not all(k in d for k in at.keys) or not all(k.__class__ is str for k in d):
        return None
    slots = ("id", *at.keys) if "id" in d else at.keys
    named = json_scalar(where)[1:-1]
    cuts: list[str] = []
    text = "{"
    for k in sorted(d):
        key = f"{',' if len(text) > 1 or cuts else ''}{json_scalar(k)}:"
        if k in slots:
            cuts.append(text + key + (at.record[0] if k == "record" else ""))
            text = at.record[1] if k == "record" else ""
        else:
            value = dumps(d[k])
            if named in value:
                return None
            text += key + value
    return (*cuts, text + "}")


_INPUTS = '],"inputs":{'
_RULESET = ',"ruleset":{'
#: what follows the inputs in a result's text, per level
_LEVEL = {lv: f',"level":{json_scalar(lv.name)},"level_zh":{json_scalar(lv.zh)}' for lv in Level}


def cut(text: str, level: Level) -> tuple[str, str, str, str] | None:
    """``(head, mid, tail, inputs)`` of a result's text: ``head`` up to ``"inputs"``, ``mid`` from there to
    ``,"ruleset"``, ``tail`` the rest and ``inputs`` the inputs' own text; None when it cannot be cut safely:
    ``],"inputs":{`` and ``,"ruleset":{`` must each occur exactly once (outside a string a ``"`` is always a
    delimiter, so a single occurrence is the top-level key) and the levels stand where the plan puts them."""
    if text.count(_INPUTS) != 1 or text.count(_RULESET) != 1:
        return None
    k = text.index(_INPUTS) + 2
    r = text.index(_RULESET)
    mid = text[k:r]
    lv = _LEVEL[level]
    if r < k or not mid.endswith(lv):
        return None
    return text[:k], mid, text[r:], mid[len('"inputs":'):-len(lv)]


def result_template(a: Assessment, at: Position, *, has_id: bool, receipt: bool,
                    facts: Mapping[str, Any] | None = None) -> tuple[str, ...] | None:
    """The template of ``{**a.to_dict(receipt=receipt, facts=facts), **position}`` made from ``a.to_json()``:
    the position keys (and ``id`` when ``has_id``) and the receipt spliced in where the canonical dumper's
    sorted order puts them — ``{"fired":[…],`` ``"id":…,"index":…,`` ``"inputs":{…},"level":…,"level_zh":…``
    ``,"line":…`` ``,"receipt":{…}`` ``,"record":…`` ``,"ruleset":{…},…}`` — the same pieces :func:`template`
    cuts from that dict; None when the text cannot be cut (see :func:`cut`)."""
    text = a.to_json()
    parts = cut(text, a.level)
    if parts is None:
        return None
    head, mid, tail, inputs = parts
    got = f',"receipt":{receipt_json(a, text, inputs, facts)}' if receipt else ""
    pieces = [head + '"id":', ',"index":'] if has_id else [head + '"index":']
    rest = "," + mid
    if "line" in at.keys:
        pieces.append(rest + ',"line":')
        rest = ""
    pieces.append(rest + got + ',"record":' + at.record[0])
    pieces.append(at.record[1] + tail)
    return tuple(pieces)


def cache_of(rs: Any, name: Any) -> dict[Any, Any]:
    """The templates kept for the ruleset ``rs`` under ``name`` (one cache per way of answering: position
    keys, receipt or not), made when first asked for; it lives as long as ``rs`` (a recompiled ruleset
    starts afresh). A lookup or store is one dict operation, so threads may share it: a lost store costs
    a template again, never a wrong answer."""
    caches: dict[Any, dict[Any, Any]] = rs.__dict__.setdefault("_reused_answers", {})
    return caches.setdefault(name, {})
