"""``POST /v1/grade/{ruleset}`` on a batch: each answer's text filled into a template kept by its facts.

The generic path builds each answer as a dict (``{**a.to_dict(), **position}``) and dumps the list, which
costs some forty times more than grading. Here a record's answer is looked up by its facts
(:func:`~riskgrade._grade.reuse.facts_key`, the id left out) among the templates kept for the ruleset
(:mod:`riskgrade._grade.reuse`, the same code the CLI's JSON Lines path answers with): a record whose facts
were answered before — in this batch or an earlier one — costs a lookup and a ``%`` format of its id and
index, with no grade, no serialising and no receipt hashes. A new one is graded, and its template made from
its result's JSON plan (:func:`~riskgrade._grade.reuse.result_template`) or, for an error record, from its
dict (:func:`~riskgrade._grade.reuse.template`); a function error, or an answer that cannot be cut, is
dumped as the generic path dumps it. The bytes are those of ``dumps([...])`` of the generic path's dicts;
tests/test_serve_batch.py checks that with hypothesis.
"""

from __future__ import annotations

import time
from typing import Any

from riskgrade._core.canonical import (
    _encode_str,  # the text of a string: json_scalar's first case, without the call
    dumps,
    json_scalar,
)
from riskgrade._grade.reuse import (
    Position,
    cache_of,
    error_answer,
    facts_key,
    keep,
    result_template,
    template,
)
from riskgrade._serve.body import WHERE
from riskgrade._source.facts import FactRecord, position
from riskgrade._source.jsondoc import exact_key, exact_keys
from riskgrade.exceptions import FactError, FunctionError

__all__ = ["AT", "TimeUp", "answer_batch", "grade_batch"]

#: the position of a record in a body: ``index`` and ``record`` (``<body>[index]``)
AT = Position(("index", "record"), (json_scalar(f"{WHERE}[")[:-1], ']"'))
#: the clock is read before every 64th record (a batch past its time stops within 64 records; the client
#: has had its 408 already)
_EVERY = 63
_MISSING: Any = object()


class TimeUp(Exception):
    """The request's time ran out between two records."""


def grade_batch(rs: Any, items: list[Any], *, id_field: str, receipt: bool, deadline: float,
                rows: list[dict[str, Any]] | None = None) -> bytes:
    """:func:`answer_batch` of every item."""
    text = answer_batch(rs, items, id_field=id_field, receipt=receipt, deadline=deadline, rows=rows)
    assert text is not None  # known_only=False: every item is answered
    return text


def answer_batch(rs: Any, items: list[Any], *, id_field: str, receipt: bool, deadline: float,
                 rows: list[dict[str, Any]] | None = None, known_only: bool = False) -> bytes | None:
    """The canonical JSON text (UTF-8) of the list of each item's answer — what ``dumps([...])`` of
    ``{**result, **position}`` or the error record gives — in order. ``rows`` (when given) gets each answer's
    access-log fields. Raises :class:`TimeUp` past ``deadline`` (``time.monotonic``, read every 64 records).
    The items are not changed.

    ``known_only``: answer from kept templates alone, and give None (``rows`` then holds the rows of the
    records before it) at the first item that is not a record whose facts were answered before -- no code
    of the ruleset runs, so the call's time is bounded by the batch's length, and the service makes it on
    its event loop; an item that needs grading sends the batch to a worker thread."""
    skip = id_field if id_field and id_field not in rs.inputs else None
    with_id, no_id = cache_of(rs, ("serve", receipt, True)), cache_of(rs, ("serve", receipt, False))
    numbers = _numbers(len(items))
    # every record's key from one orjson call over the batch (facts without the id), where it can give them
    keys = exact_keys([_given(f, skip) for f in items]) if set(map(type, items)) == {dict} else None
    parts: list[bytes] = [b"["]  # the answer is one join of these: no second copy of a large answer
    extend = parts.extend
    monotonic = time.monotonic
    for i, facts in enumerate(items):
        if not i & _EVERY and monotonic() > deadline:
            raise TimeUp
        if facts.__class__ is not dict:
            if known_only:
                return None
            extend((_answer(rs, i, facts, id_field, skip, receipt, rows), b","))
            continue
        rid = facts.get(id_field, _MISSING) if id_field else _MISSING
        if rid is not _MISSING and rid.__class__ is not str and rid.__class__ is not int:
            rid = _MISSING  # no id (a bool, a float, a list …): not echoed
        fk = keys[i] if keys is not None else _key(facts, skip)
        cache = no_id if rid is _MISSING else with_id
        hit = None if fk is None else cache.get(fk)
        if hit is None:
            if known_only:
                return None
            extend((_answer(rs, i, facts, id_field, skip, receipt, rows, cache, fk), b","))
            continue
        pieces, row = hit
        n = numbers[i]
        if rid is _MISSING:
            a, b, c = pieces
            extend((a, n, b, n, c, b","))
        else:
            a, b, c, d = pieces
            extend((a, _encode_str(rid).encode() if rid.__class__ is str else b"%d" % rid, b, n, c, n, d, b","))
        if rows is not None:
            rows.append({"index": i, "id": None if rid is _MISSING else rid, **row})
    if len(parts) > 1:
        parts[-1] = b"]"
        return b"".join(parts)
    return b"[]"


def _given(facts: dict[str, Any], skip: str | None) -> dict[str, Any]:
    """The facts without the id field ``skip`` (not an input of the ruleset)."""
    if skip is None or skip not in facts:
        return facts
    given = facts.copy()
    del given[skip]
    return given


def _key(facts: dict[str, Any], skip: str | None) -> Any:
    """The key a record's template is kept under: its facts' :func:`exact_key` without the outer braces, as
    :func:`exact_keys` gives it for a whole batch; else :func:`facts_key` (a tuple, or None: not kept)."""
    given = _given(facts, skip)
    fk = exact_key(given)
    return fk[1:-1] if fk is not None else facts_key(given)


#: the text of each index, made once (``_numbers`` makes more when a batch is longer)
_NUMBERS: list[bytes] = [b"%d" % i for i in range(1024)]


def _numbers(n: int) -> list[bytes]:
    global _NUMBERS
    if n > len(_NUMBERS):
        _NUMBERS = [b"%d" % i for i in range(max(n, 2 * len(_NUMBERS)))]
    return _NUMBERS


def _answer(rs: Any, i: int, facts: Any, id_field: str, skip: str | None, receipt: bool,
            rows: list[dict[str, Any]] | None, cache: dict[Any, Any] | None = None, fk: Any = None) -> bytes:
    """The answer of an item not answered before: graded, its template kept (when ``fk``, its facts' key, is
    not None), its text filled in."""
    rec = FactRecord(i, f"{WHERE}[{i}]", facts)
    if not isinstance(facts, dict):
        return _dump(error_answer(rec, None, _record_id(facts, id_field)), rows)
    rid = _record_id(facts, id_field)
    given = {k: v for k, v in facts.items() if k != skip} if skip is not None and skip in facts else facts
    try:
        a = rs.grade(given)
    except (FactError, FunctionError) as e:
        d = error_answer(rec, e, rid)
        made = None if isinstance(e, FunctionError) else template(d, AT, rec.where)
        row: dict[str, Any] = {"level": None, "error": d["error"], "receipt": None}
    else:
        made = result_template(a, AT, has_id=rid is not None, receipt=receipt, facts=given)
        if made is None:
            d = {**a.to_dict(receipt=receipt, facts=given), **position(rec, rid)}
        else:
            row = {"level": a.level.name, "error": None, "receipt": _receipt_id(made) if receipt else None}
    if made is None:
        return _dump(d, rows)
    pieces = tuple(p.encode("utf-8") for p in made)
    if cache is not None and fk is not None:
        keep(cache, fk, (pieces, row))
    if rows is not None:
        rows.append({"index": i, "id": rid, **row})
    if rid is None:
        return b"%s%d%s%d%s" % (pieces[0], i, pieces[1], i, pieces[2])
    return b"%s%s%s%d%s%d%s" % (pieces[0], json_scalar(rid).encode(), pieces[1], i, pieces[2], i, pieces[3])


def _record_id(facts: Any, id_field: str) -> Any:
    v = facts.get(id_field) if id_field and isinstance(facts, dict) else None
    return v if v.__class__ is str or v.__class__ is int else None


def _receipt_id(pieces: tuple[str, ...]) -> str:
    """The receipt's ``id`` in a result's template (the receipt's first ``"id"`` key is its own: only
    ``facts_sha256``, a hex digest, comes before it)."""
    for p in pieces:
        at = p.find(',"receipt":{')
        if at >= 0:
            at = p.find('"id":"', at) + 6
            return p[at:at + 71]
    raise AssertionError("no receipt in the template")  # pragma: no cover - made with receipt=True


def _dump(d: dict[str, Any], rows: list[dict[str, Any]] | None) -> bytes:
    if rows is not None:
        rows.append({"index": d.get("index"), "id": d.get("id"), "level": d.get("level"), "error": d.get("error"),
                     "receipt": (d.get("receipt") or {}).get("id")})
    return dumps(d).encode("utf-8")
