"""``riskgrade grade --format json`` on JSON Lines at speed: the same bytes, line for line.

The output of a line is a pure function of its bytes (its facts, its id) and of its position (``index``,
``line``, ``record``): grading and serialising depend on nothing else. So the text of a line's output
is kept, keyed by the line's bytes, as a template with three slots for the position; a line seen before
(the same bytes) costs a dictionary lookup and a ``%`` format — no JSON parse, no grade, no receipt
hashes. The template is made from the very dict the generic path dumps (``{**result, **position}``),
each top-level value dumped by the canonical dumper in sorted key order, which is how the canonical
dumper writes the whole dict. The first line (a byte order mark may precede it) is never reused, nor a
line whose output text names its own position. The cache is bounded (``CACHE_LIMIT`` lines, then
emptied), so memory stays constant however long the input.

Output is UTF-8 bytes (the templates are kept encoded), written to standard output's binary buffer a
batch of lines at a time for a file (one write call per batch, even under ``PYTHONUNBUFFERED``), after
every line for standard input (a platform streaming records waits for each answer). A progress bar is
drawn on standard error for an input of at least ``PROGRESS_BYTES`` when it is a terminal, never when
it is piped.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import attrs

from riskgrade._core.canonical import dumps, json_scalar
from riskgrade._core.limits import get_limits
from riskgrade._grade.reuse import CACHE_LIMIT, Position, error_answer, facts_key, keep, template
from riskgrade._source.facts import (
    STDIN,
    STDIN_NAME,
    FactRecord,
    _jsonl_record,
    _lines,
    position,
    record_error_dict,
    record_id,
    strip_id,
)
from riskgrade._source.jsondoc import JSONDocError, exact_key, parse_json, read_object_line
from riskgrade.exceptions import FactError, FunctionError

__all__ = ["CACHE_LIMIT", "Counts", "grade_jsonl"]

#: inputs at least this large (bytes) show a progress bar on a terminal; smaller ones finish before it helps
PROGRESS_BYTES = 1 << 20
_POSITION = ("index", "line", "record")
#: outcome kinds
OK, ERROR, CRASH = 0, 1, 2


@attrs.define
class Counts:
    """Records graded, in error (a fact error or a line that could not be read), crashed (a function failed)."""

    records: int = 0
    errors: int = 0
    crashed: int = 0


class _Progress:
    """A progress bar on standard error (a terminal only): bytes read of the file's size, records, rate."""

    WIDTH = 30

    def __init__(self, total: int, err: IO[str]) -> None:
        self.total, self.err = total, err
        self.t0 = self.last = time.monotonic()

    def show(self, done: int, records: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < 0.25:
            return
        self.last = now
        rate = records / max(now - self.t0, 1e-9)
        part = min(done / self.total, 1.0) if self.total else 1.0
        fill = round(part * self.WIDTH)
        bar = "#" * fill + "-" * (self.WIDTH - fill)
        self.err.write(f"\r[{bar}] {100 * part:5.1f}% {records:,} records  {rate:,.0f}/s" + ("\n" if final else ""))
        self.err.flush()


_BACKSLASH = b"\\"
#: what a plain JSON string's text may not hold: a backslash (an escape) or a control character
_NOT_PLAIN = re.compile(rb"[\x00-\x1f\\]")
_PROBE = "riskgrade:probe"


class _Shapes:
    """Lines that are a line seen before with only the text of its id changed: ``head + id + tail``.

    A shape (``head``, ``tail``) is learnt from a line whose id (text, not an input of the ruleset) is
    written once in it, plainly: the head ends with the id's opening quote. It is kept only if a probe —
    the same head and tail around another id — reads as the same facts with that other id (so the cut
    is the id's value, not some other text that looks like it). A later line with that head and tail
    and, between them, text with no quote, backslash or control character (one plain JSON string) is
    then, token for token, the learnt line with another id: the same facts, keys, counts and nesting,
    hence the same reading and the same output but for the id — no JSON decoding at all. Bounded:
    ``CACHE_LIMIT`` shapes (then emptied), 8 heads."""

    def __init__(self, skip: str | None, lim: Any) -> None:
        self.skip, self.lim = skip, lim
        self.max_bytes: int = lim.max_bytes
        #: head -> tail -> (the output's cuts, kind), heads in the order learnt
        self.heads: dict[bytes, dict[bytes, tuple[tuple[bytes, ...], int]]] = {}
        self.size = 0

    def match(self, raw: bytes) -> tuple[tuple[bytes, ...], int, bytes] | None:
        for head, tails in self.heads.items():
            if raw.startswith(head):
                n = len(head)
                j = raw.find(b'"', n)
                if j < 0:
                    return None
                hit = tails.get(raw[j + 1:])
                if hit is None:
                    return None
                text = raw[n:j]
                if _NOT_PLAIN.search(text) is not None or len(raw) > self.max_bytes:
                    return None
                if not text.isascii():
                    try:
                        text.decode("utf-8")
                    except UnicodeDecodeError:
                        return None
                return hit[0], hit[1], raw[n - 1:j + 1]
        return None

    def learn(self, raw: bytes | None, rid: str, key: bytes, cuts: tuple[bytes, ...], kind: int) -> None:
        """Learn the shape of ``raw`` (facts without the id ``key``, output ``cuts``), when it is sound to."""
        if raw is None or self.skip is None or rid == _PROBE:
            return
        lit = json_scalar(rid).encode("utf-8")
        if _BACKSLASH in lit or raw.count(lit) != 1:
            return
        at = raw.index(lit)
        head, tail = raw[:at + 1], raw[at + len(lit):]
        if head not in self.heads:
            if len(self.heads) >= 8:
                return
            probe = _quick(head + _PROBE.encode() + b'"' + tail, self.lim)
            if probe is None or probe.get(self.skip) != _PROBE:
                return
            del probe[self.skip]
            if exact_key(probe) != key:
                return
            self.heads[head] = {}
        if self.size >= CACHE_LIMIT:
            for kept in self.heads.values():
                kept.clear()
            self.size = 0
        tails = self.heads[head]
        if tail not in tails:
            self.size += 1
        tails[tail] = (cuts, kind)


def _quick(raw: bytes, lim: Any) -> Any:
    """The facts of a line that reads without any error (a JSON object), else None (the generic reader then
    makes the line's error record): the same value :func:`_jsonl_record` reads."""
    facts = read_object_line(raw, lim)
    if facts is not None:
        return facts
    try:
        facts = parse_json(raw.decode("utf-8"), "", lim)
    except (UnicodeDecodeError, JSONDocError):
        return None
    return facts if facts.__class__ is dict else None


#: lines written at once to a file (one write call, whatever the stream's buffering: PYTHONUNBUFFERED)
_BATCH = 512


def grade_jsonl(rs: Any, facts_path: str, *, lang: str, receipt: bool, id_field: str | None,
                write: Callable[[str], Any] | None = None) -> Counts:
    """Grade the JSON Lines of ``facts_path`` (``-``: standard input) and write one canonical JSON line
    per input line to standard output (or ``write``) — byte for byte what the generic path of
    ``riskgrade grade --format json`` writes (results, error records, function error records)."""
    lim = get_limits()
    stdin = facts_path == STDIN
    name = STDIN_NAME if stdin else facts_path
    try:
        fh: IO[bytes] = sys.stdin.buffer if stdin else open(facts_path, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise FactError(f"cannot read {facts_path}: {e.strerror}", record=facts_path, code="unreadable") from None
    out = sys.stdout
    binary: IO[bytes] | None = getattr(out, "buffer", None) if write is None else None
    text_write = write if write is not None else out.write
    if binary is not None:
        out.flush()  # anything written to the text stream before goes first; from here on, bytes
        emit: Callable[[bytes], Any] = binary.write
        flush_out = binary.flush
    else:
        def emit(data: bytes) -> Any:
            return text_write(data.decode("utf-8"))
        flush_out = out.flush
    at = Position(_POSITION, (json_scalar(name + ":")[:-1], '"'))  # the record's text: its name, ':', line, '"'
    progress = None
    if write is None and not stdin and sys.stderr.isatty():
        size = os.fstat(fh.fileno()).st_size
        if size >= PROGRESS_BYTES:
            progress = _Progress(size, sys.stderr)
    per_line = stdin and write is None  # a platform streaming records waits for each answer
    pending: list[bytes] = []
    put = pending.append
    lines: dict[bytes, tuple[bytes, bytes, bytes, bytes, int]] = {}  # a line's bytes → its template (id included)
    same: dict[Any, tuple[tuple[bytes, ...], int]] = {}  # facts without the id → the template
    skip = None if id_field in rs.inputs else id_field
    shapes = _Shapes(skip, lim)
    records = errors = crashed = 0
    try:
        for index, raw in enumerate(_lines(fh, lim.max_bytes)):
            lineno = index + 1
            hit = lines.get(raw) if raw is not None and index else None
            shaped = shapes.match(raw) if hit is None and shapes.heads and raw is not None and index else None
            if hit is not None:
                a, b, c, z, kind = hit
                put(b"%s%d%s%d%s%d%s" % (a, index, b, lineno, c, lineno, z))
            elif shaped is not None:  # the facts of a line seen before, only another text id
                cuts, kind, rtext = shaped
                put(b"%s%s%s%d%s%d%s%d%s" % (cuts[0], rtext, cuts[1], index, cuts[2], lineno, cuts[3], lineno,
                                             cuts[4]))
            else:
                # the first line (a byte order mark may open it) and lines that do not read go the generic way
                facts = _quick(raw, lim) if index and raw is not None else None
                key: Any = None
                rid = None
                if facts is not None:
                    if id_field:
                        rid = facts.get(id_field)
                        if rid is not None and (rid.__class__ is not str and rid.__class__ is not int):
                            rid = record_id(facts, id_field)
                        if skip is not None and skip in facts:
                            del facts[skip]  # a fresh dict of this line only: the facts without the id
                    fk = facts_key(facts)
                    key = None if fk is None else (fk, rid is not None)
                found = same.get(key) if key is not None else None
                d: dict[str, Any] | None = None
                if found is not None:
                    cuts, kind = found
                else:
                    where = f"{name}:{lineno}"
                    rec = (_jsonl_record(raw, index, lineno, where, lim) if facts is None
                           else FactRecord(index, where, facts, line=lineno))
                    d, kind = _outcome(rs, rec, lang=lang, receipt=receipt, id_field=id_field,
                                       known=None if facts is None else (rid, facts))
                    made = template(d, at, where) if index and kind != CRASH else None
                    cuts = () if made is None else (*(t.encode("utf-8") for t in made[:-1]),
                                                    (made[-1] + "\n").encode("utf-8"))
                    if cuts and key is not None:
                        keep(same, key, (cuts, kind), CACHE_LIMIT)
                if not cuts:
                    assert d is not None
                    put((dumps(d) + "\n").encode("utf-8"))
                else:
                    whole = cuts
                    if len(cuts) == 5:  # the id's text goes in the first cut
                        rtext = json_scalar(d["id"] if d is not None else rid).encode("utf-8")
                        cuts = (cuts[0] + rtext + cuts[1], *cuts[2:])
                    if rid.__class__ is str and key is not None and key[0].__class__ is bytes and len(whole) == 5:
                        shapes.learn(raw, rid, key[0], whole, kind)
                    a, b, c, z = cuts
                    put(b"%s%d%s%d%s%d%s" % (a, index, b, lineno, c, lineno, z))
                    if raw is not None and rid is None:  # a line with a record id never comes again
                        keep(lines, raw, (a, b, c, z, kind), CACHE_LIMIT)
            records += 1
            if kind:
                errors += kind == ERROR
                crashed += kind == CRASH
            if per_line or len(pending) >= _BATCH:
                emit(b"".join(pending))
                pending.clear()
                if per_line:
                    flush_out()
            if progress is not None and not index & 0x3FFF:
                progress.show(fh.tell(), records)
    finally:
        if pending:
            emit(b"".join(pending))
        if not stdin:
            if progress is not None:
                progress.show(fh.tell(), records, final=True)
            fh.close()
        if write is None:
            flush_out()
    counts = Counts(records, errors, crashed)
    return counts


def _outcome(rs: Any, rec: FactRecord, *, lang: str, receipt: bool, id_field: str | None,
             known: tuple[Any, Any] | None = None) -> tuple[dict[str, Any], int]:
    """The output dict of one record (what the generic path dumps) and its kind (``known``: the record's id
    and its facts without the id, when already made)."""
    if rec.error is not None:  # already located in its record
        return {**record_error_dict(rec, rec.error), **position(rec, None)}, ERROR
    if known is not None:
        rid, given = known
    else:
        rid, given = record_id(rec.facts, id_field), strip_id(rs, rec.facts, id_field)
    try:
        res = rs.grade(given)
    except FactError as e:
        return error_answer(rec, e, rid), ERROR
    except FunctionError as e:
        return error_answer(rec, e, rid), CRASH
    return {**res.to_dict(lang=lang, receipt=receipt, facts=given), **position(rec, rid)}, OK
