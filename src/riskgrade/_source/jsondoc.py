"""JSON documents read within :class:`~riskgrade._core.limits.Limits`.

:func:`parse_json` checks the size, counts the values (from the text, before anything is
built), rejects duplicate keys (never last-wins), oversized mappings and integers, and nesting
deeper than ``max_depth``; a UTF-8 byte order mark is skipped. Every failure is a
:class:`JSONDocError` with a stable ``code`` and a short message (never the whole value), which
the caller turns into its own located error.

With the ``fast`` extra (``pip install "riskgrade[fast]"``: orjson) a document is decoded by orjson
first, and its answer is kept only where it is provably the checked reader's (see :func:`_fast`);
everything else — and every error — goes through the checked reader, so the values and the errors
are the same with and without orjson (a property test compares them).

>>> parse_json('{"a": [1, 2]}', "x.json")
{'a': [1, 2]}
>>> parse_json('{"a": 1, "a": 2}', "x.json")
Traceback (most recent call last):
...
riskgrade._source.jsondoc.JSONDocError: duplicate-key: key 'a' appears twice in one object
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from riskgrade._core.limits import Limits, get_limits, short_repr

try:  # the [fast] extra: a C decoder, used only where its answer is provably the checked reader's
    import orjson as _orjson
except ImportError:  # pragma: no cover - the pure-Python test run (tox env pure) has no orjson
    _orjson = None  # type: ignore[assignment]

#: decode with orjson where its answer is the checked reader's (tests set it False to run the pure path)
FAST = _orjson is not None

__all__ = ["FAST", "JSONDocError", "exact_key", "parse_json", "parse_json_bytes", "read_object_line"]


class JSONDocError(Exception):
    """A JSON document that cannot be accepted: ``code`` (``bad-json``, ``duplicate-key``, ``not-utf8``,
    ``too-large``, ``too-deep``), ``message``, and ``line``/``col`` when known (1-based, else 0)."""

    def __init__(self, code: str, message: str, line: int = 0, col: int = 0) -> None:
        self.code = code
        self.message = message
        self.line = line
        self.col = col
        super().__init__(f"{code}: {message}")


#: a JSON string in the text (what the value counts skip)
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def parse_json(text: str, where: str, limits: Limits | None = None) -> Any:
    """The value of the JSON document ``text`` (``where`` names it in messages)."""
    lim = limits or get_limits()
    if text.startswith("\ufeff"):
        text = text[1:]
    return _read(text, lim)


def parse_json_bytes(raw: bytes, where: str, limits: Limits | None = None) -> Any:
    """``parse_json(raw.decode("utf-8"), where, limits)``, the same value or the same error
    (:class:`UnicodeDecodeError` too), read from the bytes themselves where they read at once (orjson).

    >>> parse_json_bytes(b'[{"id": "a", "L": 3}]', "x.json")
    [{'id': 'a', 'L': 3}]
    """
    lim = limits or get_limits()
    try:
        data = _read(raw, lim)
    except JSONDocError:  # the text decides: the same error, or (over max_bytes in bytes only) a value
        data = _MISS
    return parse_json(raw.decode("utf-8"), where, lim) if data is _MISS else data


#: an answer of the fast decoder that cannot be trusted (the checked reader decides)
_MISS: Any = object()
#: orjson reads an integer literal beyond 64 bits (20 digits and more) as a float; with no run of this many
#: digits anywhere in the text, every integer literal is exact and within any ``max_int_digits`` >= 18
_FAST_MIN_DIGITS = 18


#: the punctuation the counts look at; every other byte is deleted before counting
_NOT_PUNCT = bytes(c for c in range(256) if c not in b",:[{")
#: every digit a ``0``, every other byte a space: a run of digits is a run of ``0``
_DIGITS = bytes(48 if 48 <= c <= 57 else 32 for c in range(256))
_RUN = b"0" * 19
#: a JSON string, in UTF-8 bytes
_JSON_STRING_BYTES = re.compile(JSON_STRING.pattern.encode(), re.DOTALL)


@attrs.frozen
class _Counts:
    """``,``, ``:``, ``[`` and ``{`` in a document, strings included (a punctuation byte is never part of a
    multi-byte UTF-8 character, so its bytes count as its characters do), and whether a run of 19 digits
    is in it — counted at C speed in one pass that keeps only those bytes."""

    commas: int
    colons: int
    lists: int
    objects: int
    digit_run: bool

    @classmethod
    def of(cls, raw: bytes) -> _Counts:
        p = raw.translate(None, _NOT_PUNCT)
        return cls(p.count(b","), p.count(b":"), p.count(b"["), p.count(b"{"), _RUN in raw.translate(_DIGITS))

    def values(self) -> int:
        # an upper bound on the values: every value but the first follows a ',', '[' or ':' (a ':' separates a
        # key from its value; each key is a value too); exact where no string holds one
        return self.commas + self.lists + 2 * self.colons + 1


def _utf8(doc: str | bytes) -> bytes:
    return doc if doc.__class__ is bytes else doc.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]


def _outside_strings(doc: str | bytes) -> _Counts:
    """The counts of ``doc`` with every string emptied."""
    return _Counts.of(_JSON_STRING_BYTES.sub(b'""', _utf8(doc)))


def _read(doc: str | bytes, lim: Limits) -> Any:
    """The checks and the readers of :func:`parse_json`, on text — or on UTF-8 bytes, where every step that
    needs the text (the checked reader) gives :data:`_MISS` instead, for the caller to decide on the text."""
    if len(doc) > lim.max_bytes:
        raise JSONDocError("too-large", f"the document is larger than {lim.max_bytes} characters (Limits.max_bytes)")
    n = _Counts.of(_utf8(doc))
    if n.values() > lim.max_nodes and _outside_strings(doc).values() > lim.max_nodes:
        raise JSONDocError("too-large", f"the document has more than {lim.max_nodes} values (Limits.max_nodes)")
    data, depth = _MISS, None
    if FAST and lim.max_int_digits >= _FAST_MIN_DIGITS and not n.digit_run:
        data, depth = _fast(doc, n, lim.max_mapping_keys)
    if data is _MISS:
        if not isinstance(doc, str):
            return _MISS
        data = _checked(doc, lim)
    # a document with no more containers than the limit cannot nest deeper (each level is one): no walk
    if (n.objects + n.lists if depth is None else depth) > lim.max_depth:
        _check_depth(data, lim.max_depth)
    return data


def _fast(doc: str | bytes, n: _Counts, max_keys: int) -> tuple[Any, int | None]:
    """``doc`` (with the counts ``n`` and no run of 19 digits) decoded by orjson, and its depth when known; or
    :data:`_MISS` where that could differ from :func:`_checked`.

    Sound because: whatever orjson rejects (NaN, Infinity, a number beyond the float range, a lone
    surrogate, nesting past 1024, a byte order mark) goes to the checked reader; with no run of 19 digits
    every integer literal is exact (orjson reads 64 bits) and short enough; and a duplicate key (orjson
    keeps the last) is found by counting: every ``:`` outside a string separates one key from its value,
    so the count of ``:`` outside strings equals the number of keys in the decoded objects only when no
    key was repeated (the whole text's count is tried first, as it needs no pass over the strings) — any
    other count goes to the checked reader too. A batch of flat records (a list of objects, with as many
    ``{`` as objects and one ``[``: no other container, two levels) is counted without a walk; a text with
    no backslash is checked by writing the value again with orjson and counting its ``:`` (equal exactly
    when no key was dropped), also without a walk."""
    try:
        data = _orjson.loads(doc)
    except Exception:  # any refusal: the checked reader gives the located error or the value
        return _MISS, None
    colons = n.colons
    if data.__class__ is dict and len(data) == colons:  # a flat record (nested objects, if any, are empty)
        return (data, None) if colons <= max_keys else (_MISS, None)
    if colons == 0:  # no object has a key
        return data, None
    depth = None
    if (data.__class__ is list and n.lists == 1 and n.objects == len(data)
            and set(map(type, data)) == {dict}):
        if max(map(len, data)) > max_keys:
            return _MISS, None
        keys, depth = sum(map(len, data)), 2
    elif colons <= max_keys and not _has_backslash(doc) and (again := _written_colons(data)) >= 0:
        # no backslash anywhere, so every string holds its characters as written, and orjson writes them
        # back so (it escapes only '"', '\\' and control characters, and never ':'): the value written again
        # has every ':' of the strings kept and one per key kept -- as many as the text exactly when no key
        # was dropped as a repeat (a repeat drops its ':' and maybe strings, never adds one); and no object
        # can hold more keys than the text has ':'. One pass in C instead of a walk in Python.
        return (data, None) if again == colons else (_MISS, None)
    else:
        keys = _walk_keys(data, max_keys)
    if keys < 0:
        return _MISS, None
    # a ':' inside a string (a time such as "08:30") is not a key's: then count those outside strings only
    if keys == colons or keys == _outside_strings(doc).colons:
        return data, depth
    return _MISS, None


def _has_backslash(doc: str | bytes) -> bool:
    return b"\\" in doc if isinstance(doc, bytes) else "\\" in doc


def _written_colons(data: Any) -> int:
    """The ``:`` in orjson's text of ``data``; -1 past what its writer nests (254 levels)."""
    try:
        return int(_orjson.dumps(data).count(b":"))
    except Exception:
        return -1


def _walk_keys(data: Any, max_keys: int) -> int:
    """The number of keys in every object of ``data``; -1 when one has more than ``max_keys``."""
    keys = 0
    stack = [data]
    while stack:
        v = stack.pop()
        if v.__class__ is dict:
            if len(v) > max_keys:
                return -1
            keys += len(v)
            stack.extend(x for x in v.values() if x.__class__ is dict or x.__class__ is list)
        elif v.__class__ is list:
            stack.extend(x for x in v if x.__class__ is dict or x.__class__ is list)
    return keys


def _checked(text: str, lim: Limits) -> Any:
    """The checked reader: the standard library's decoder with duplicate-key and integer-size hooks."""
    max_keys = lim.max_mapping_keys
    max_digits = lim.max_int_digits

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(items) > max_keys:
            raise JSONDocError("too-large", f"an object has more than {max_keys} keys (Limits.max_mapping_keys)")
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for k, _ in items:
                if k in seen:
                    raise JSONDocError("duplicate-key", f"key {short_repr(k)} appears twice in one object")
                seen.add(k)
        return out

    def integer(s: str) -> int:
        if len(s.lstrip("-")) > max_digits:
            raise JSONDocError("too-large", f"an integer has more than {max_digits} digits (Limits.max_int_digits)")
        return int(s)

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=integer)
    except json.JSONDecodeError as e:
        raise JSONDocError("bad-json", f"not valid JSON: {e.msg}", e.lineno, e.colno) from None
    except RecursionError:
        raise JSONDocError("too-deep", f"the document nests deeper than {lim.max_depth} (Limits.max_depth)") from None
    except ValueError as e:
        raise JSONDocError("bad-json", f"not valid JSON: {str(e)[:200]}") from None
    if _SURROGATE.search(text) is not None:
        _check_surrogates(text, data)
    return data


#: a ``\\uD800``-``\\uDFFF`` escape: the decoder turns one that is not half of a pair into a lone surrogate,
#: a string that cannot be written as UTF-8 (orjson refuses the text for it)
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_surrogates(text: str, data: Any) -> None:
    """Refuse a document holding a lone surrogate (``"\\ud800"``) in a key or value: it is not Unicode text,
    and nothing riskgrade writes (UTF-8) could hold it."""
    stack = [data]
    while stack:
        v = stack.pop()
        if v.__class__ is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif v.__class__ is list:
            stack.extend(v)
        elif v.__class__ is str:
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                m = _SURROGATE.search(text)
                line, col = (1, 1) if m is None else (text.count("\n", 0, m.start()) + 1,
                                                     m.start() - text.rfind("\n", 0, m.start()))
                raise JSONDocError("not-utf8", f"the text {short_repr(v)} holds a lone surrogate (an escape such "
                                   "as \\ud800 that is not half of a pair): not Unicode text", line, col) from None


def _check_depth(data: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        v, d = stack.pop()
        if d > max_depth:
            raise JSONDocError("too-deep", f"the document nests deeper than {max_depth} (Limits.max_depth)")
        if v.__class__ is dict:
            stack.extend((x, d + 1) for x in v.values() if x.__class__ is dict or x.__class__ is list)
        elif v.__class__ is list:
            stack.extend((x, d + 1) for x in v if x.__class__ is dict or x.__class__ is list)


def exact_key(value: Any) -> bytes | None:
    """A text two decoded documents share only when they are the same values of the same types in the same
    order (``1``, ``1.0`` and ``true`` differ, and ``0.0`` and ``-0.0``), made by orjson; None without the
    ``fast`` extra or for a value orjson cannot write one-to-one (an integer beyond 64 bits, NaN and the
    infinities, which it writes as ``null``: a text with ``null`` anywhere is never a key).

    >>> exact_key({"a": 1}) != exact_key({"a": 1.0}) or not FAST
    True
    """
    if not FAST:
        return None
    try:
        out: bytes = _orjson.dumps(value)
    except Exception:  # a value it cannot write: no key
        return None
    return None if b"null" in out else out


def exact_keys(values: list[dict[str, Any]]) -> list[bytes] | None:
    """:func:`exact_key` of each object of ``values`` without its outer braces, made by one orjson call over
    the list; None where that call cannot give them (without the ``fast`` extra, an empty list, a value it
    cannot write or writes as ``null``, or a ``},{`` inside an object: nested objects in a list, or the
    text in a string).

    Sound because each object's text begins with ``{`` and ends with ``}``, and the list's text is theirs
    joined by ``,``: ``},{`` is found at each of the ``n - 1`` joins, and a count of exactly ``n - 1`` means
    it is found nowhere else (it cannot overlap itself), so splitting there gives each object's text.

    >>> exact_keys([{"a": 1}, {"a": 1.0}, {}]) in ([b'"a":1', b'"a":1.0', b''], None)
    True
    """
    if not FAST or not values:
        return None
    try:
        out: bytes = _orjson.dumps(values)
    except Exception:  # a value it cannot write: no keys
        return None
    if b"null" in out or out.count(b"},{") != len(values) - 1:
        return None
    return out[2:-2].split(b"},{")


def read_object_line(raw: bytes, lim: Limits) -> dict[str, Any] | None:
    """The object on one JSON Lines line when it reads at once (orjson, every limit kept, no key twice), else
    None — then ``parse_json(raw.decode("utf-8"), ...)`` decides, value or error. Where this returns an
    object it is that call's value: the same checks on the same counts (:func:`_read` on the bytes), with no
    decoding."""
    if not FAST:
        return None
    try:
        data = _read(raw, lim)
    except JSONDocError:  # parse_json gives the error (or, for a line over max_bytes in bytes only, the value)
        return None
    return data if data.__class__ is dict else None
