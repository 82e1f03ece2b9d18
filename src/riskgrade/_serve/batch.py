"""``POST /v1/grade/{ruleset}`` on a batch: the response text written from each result's JSON plan.

The generic path builds each answer as a dict (``{**a.to_dict(), **position}``) and dumps the list,
which costs some forty times more than grading. Here each result is written once by
:meth:`Assessment.to_json` (the per-ruleset JSON plan; the same bytes as ``dumps(to_dict())``, and
the same text again for a recurring result), and the position keys — and the receipt — are spliced
into that text where the canonical dumper's sorted order puts them:
``{"fired":[…],`` ``"id":…,"index":…,`` ``"inputs":{…},"level":…,"level_zh":…`` ``,"receipt":{…}``
``,"record":…`` ``,"ruleset":{…},…}``. A result's text is cut there once (then kept, bounded): the
cut is taken only when ``],"inputs":{`` and ``,"ruleset":{`` each occur exactly once in it (outside a
string a ``"`` is always a delimiter, so a single occurrence is the top-level key) and the levels
stand where the plan puts them; otherwise that record goes the generic way. The receipt is written
by :func:`~riskgrade._grade.receipt.receipt_json` from the same texts. Error records (not an object,
a fact error, a function error) are dumped as the generic path dumps them. The bytes are those of
``dumps([...])`` of the generic path's dicts; tests/test_serve_batch.py checks that with hypothesis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from riskgrade._core.canonical import dumps, json_scalar
from riskgrade._core.levels import Level
from riskgrade._grade.receipt import receipt_json
from riskgrade._serve.body import WHERE
from riskgrade._source.facts import (
    FactRecord,
    function_error_dict,
    position,
    record_error_dict,
    record_id,
    strip_id,
)
from riskgrade.exceptions import FactError, FunctionError

__all__ = ["CACHE_SIZE", "Cuts", "TimeUp", "grade_batch"]

_INPUTS = '],"inputs":{'
_RULESET = ',"ruleset":{'
#: what follows the inputs in a result's text, per level
_LEVEL = {lv: f',"level":{json_scalar(lv.name)},"level_zh":{json_scalar(lv.zh)}' for lv in Level}
#: result texts whose cuts are kept, at most (then the cache starts afresh); a plan keeps as many texts
CACHE_SIZE = 1024
#: a result's text → its cuts (None: it cannot be cut); one per app, shared by its worker threads (a
#: lookup or store is one dict operation; a lost store costs a cut again, never a wrong answer)
Cuts = dict[str, tuple[str, str, str, str] | None]
#: the clock is read before every 64th record (a batch past its time stops within 64 records; the client
#: has had its 408 already)
_EVERY = 63


class TimeUp(Exception):
    """The request's time ran out between two records."""


def _cut(text: str, level: Level) -> tuple[str, str, str, str] | None:
    """``(head, mid, tail, inputs)`` of a result's text: ``head`` up to ``"inputs"``, ``mid`` from there to
    ``,"ruleset"``, ``tail`` the rest and ``inputs`` the inputs' own text; None when it cannot be cut safely."""
    if text.count(_INPUTS) != 1 or text.count(_RULESET) != 1:
        return None
    k = text.index(_INPUTS) + 2
    r = text.index(_RULESET)
    mid = text[k:r]
    lv = _LEVEL[level]
    if r < k or not mid.endswith(lv):
        return None
    return text[:k], mid, text[r:], mid[len('"inputs":'):-len(lv)]


def grade_batch(rs: Any, items: list[Any], *, id_field: str, receipt: bool, deadline: float,
                rows: list[dict[str, Any]] | None = None, cuts: Cuts | None = None) -> list[str]:
    """The canonical JSON text of each item's answer (what ``dumps({**result, **position})`` gives, or
    its error record), in order; graded by one :meth:`Ruleset.grade_many` pass. ``rows`` (when given)
    gets each answer's access-log fields; ``cuts`` keeps the cut texts between calls. Raises :class:`TimeUp` past ``deadline`` (``time.monotonic``,
    read every 64 records)."""
    rids, givens = _ids(rs, items, id_field)
    out: list[str] = []
    plain = all(g.__class__ is dict for g in givens)
    graded = _grade_from(rs, givens, 0, plain)
    if cuts is None:
        cuts = {}
    monotonic = time.monotonic
    for i, facts in enumerate(items):
        if not i & _EVERY and monotonic() > deadline:
            raise TimeUp
        rid = rids[i]
        if not isinstance(facts, dict):
            rec = FactRecord(i, f"{WHERE}[{i}]", facts)
            err = FactError("record must be a JSON object", record=rec.where, code="not-a-mapping")
            out.append(_dump({**record_error_dict(rec, err), **position(rec, rid)}, rows))
            continue
        try:
            a = next(graded)
        except FunctionError as e:
            rec = FactRecord(i, f"{WHERE}[{i}]", facts)
            out.append(_dump({**function_error_dict(e), **position(rec, rid)}, rows))
            graded = _grade_from(rs, givens, i + 1, plain)  # the failed generator is finished: go on after it
            continue
        if isinstance(a, FactError):
            rec = FactRecord(i, f"{WHERE}[{i}]", facts)
            out.append(_dump({**record_error_dict(rec, a.at(record=rec.where)), **position(rec, rid)}, rows))
            continue
        text = a.to_json()
        try:
            parts = cuts[text]
        except KeyError:
            parts = _cut(text, a.level)
            if len(cuts) >= CACHE_SIZE:
                cuts.clear()
            cuts[text] = parts
        given = givens[i]
        if parts is None:  # the generic way
            rec = FactRecord(i, f"{WHERE}[{i}]", facts)
            out.append(_dump({**a.to_dict(receipt=receipt, facts=given), **position(rec, rid)}, rows))
            continue
        head, mid, tail, inputs = parts
        ident = "" if rid is None else f'"id":{json_scalar(rid)},'
        got = f',"receipt":{receipt_json(a, text, inputs, given)}' if receipt else ""
        out.append(f'{head}{ident}"index":{i},{mid}{got},"record":"{WHERE}[{i}]"{tail}')
        if rows is not None:
            # the receipt's first "id" key is its own (only facts_sha256, a hex digest, comes before it)
            at = got.find('"id":"') + 6
            rows.append({"index": i, "id": rid, "level": a.level.name, "error": None,
                         "receipt": got[at:at + 71] if receipt else None})
    return out


def _ids(rs: Any, items: list[Any], id_field: str) -> tuple[list[Any], list[Any]]:
    """``record_id`` and ``strip_id`` of every item (the plain cases inline: a dict, its id text, an
    integer or absent)."""
    rids: list[Any] = []
    givens: list[Any] = []
    strip = bool(id_field) and id_field not in rs.inputs
    for f in items:
        if f.__class__ is not dict:
            rids.append(record_id(f, id_field))
            givens.append(strip_id(rs, f, id_field))
        elif not id_field or id_field not in f:
            rids.append(None)
            givens.append(f)
        else:
            v = f[id_field]
            rids.append(v if v.__class__ is str or v.__class__ is int else record_id(f, id_field))
            if strip:
                f = f.copy()
                del f[id_field]
            givens.append(f)
    return rids, givens


def _grade_from(rs: Any, givens: list[Any], start: int, plain: bool) -> Iterator[Any]:
    """``grade_many`` over the objects among ``givens[start:]`` (``plain``: they all are)."""
    rest = givens[start:] if start else givens
    return rs.grade_many(rest if plain else (g for g in rest if isinstance(g, dict)))  # type: ignore[no-any-return]


def _dump(d: dict[str, Any], rows: list[dict[str, Any]] | None) -> str:
    if rows is not None:
        rows.append({"index": d.get("index"), "id": d.get("id"), "level": d.get("level"), "error": d.get("error"),
                     "receipt": (d.get("receipt") or {}).get("id")})
    return dumps(d)
