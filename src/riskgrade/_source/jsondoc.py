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

from riskgrade._core.limits import Limits, get_limits, short_repr

try:  # the [fast] extra: a C decoder, used only where its answer is provably the checked reader's
    import orjson as _orjson
except ImportError:  # pragma: no cover - the pure-Python test run (tox env pure) has no orjson
    _orjson = None  # type: ignore[assignment]

#: decode with orjson where its answer is the checked reader's (tests set it False to run the pure path)
FAST = _orjson is not None

__all__ = ["FAST", "JSONDocError", "exact_key", "parse_json", "read_object_line"]


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
    if len(text) > lim.max_bytes:
        raise JSONDocError("too-large", f"the document is larger than {lim.max_bytes} characters (Limits.max_bytes)")
    # an upper bound on the values, at C speed: every value but the first follows a ',', '[' or ':'
    # (a ':' separates a key from its value; each key is a value too)
    if text.count(",") + text.count("[") + 2 * text.count(":") + 1 > lim.max_nodes:
        bare = JSON_STRING.sub('""', text)  # the same count outside strings is exact
        n = bare.count(",") + bare.count("[") + 2 * bare.count(":") + 1
        if n > lim.max_nodes:
            raise JSONDocError("too-large", f"the document has more than {lim.max_nodes} values (Limits.max_nodes)")
    data = _MISS
    if FAST and lim.max_int_digits >= _FAST_MIN_DIGITS:
        data = _fast(text, lim.max_mapping_keys)
    if data is _MISS:
        data = _checked(text, lim)
    # a document with no more containers than the limit cannot nest deeper (each level is one): no walk
    if text.count("{") + text.count("[") > lim.max_depth:
        _check_depth(data, lim.max_depth)
    return data


#: an answer of the fast decoder that cannot be trusted (the checked reader decides)
_MISS: Any = object()
#: orjson reads an integer literal beyond 64 bits (20 digits and more) as a float; with no run of this many
#: digits anywhere in the text, every integer literal is exact and within any ``max_int_digits`` >= 18
_FAST_MIN_DIGITS = 18
#: tested at C speed (~10x faster than ``re.search(r"[0-9]{19}")``): the UTF-8 bytes with every ASCII digit
#: made ``0`` and every other byte a space (a multi-byte UTF-8 sequence holds no byte 0x30-0x39), searched
#: for 19 ``0`` in a row
_DIGITS_ONLY = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_RUN_19 = b"0" * 19


def _has_digit_run(text: str) -> bool:
    """Whether ``text`` holds 19 ASCII digits in a row."""
    return text.encode("utf-8", "surrogatepass").translate(_DIGITS_ONLY).find(_RUN_19) != -1


def _fast(text: str, max_keys: int) -> Any:
    """``text`` decoded by orjson, or :data:`_MISS` where that could differ from :func:`_checked`.

    Sound because: whatever orjson rejects (NaN, Infinity, a number beyond the float range, a lone
    surrogate, nesting past 1024, a byte order mark) goes to the checked reader; with no run of 19 digits
    every integer literal is exact (orjson reads 64 bits) and short enough; and a duplicate key (orjson
    keeps the last) is found by counting: every ``:`` outside a string separates one key from its value,
    so the count of ``:`` outside strings equals the number of keys in the decoded objects only when no
    key was repeated (the whole text's count is tried first, as it needs no pass over the strings) — any
    other count goes to the checked reader too."""
    if _has_digit_run(text):
        return _MISS
    try:
        data = _orjson.loads(text)
    except Exception:  # any refusal: the checked reader gives the located error or the value
        return _MISS
    colons = text.count(":")
    if data.__class__ is dict and len(data) == colons:  # a flat record (nested objects, if any, are empty)
        return data if colons <= max_keys else _MISS
    if colons == 0:  # no object has a key
        return data
    keys = 0
    stack: list[Any] = [data] if data.__class__ is dict or data.__class__ is list else []
    pop, push = stack.pop, stack.append
    while stack:
        v: Any = pop()
        if v.__class__ is dict:
            if len(v) > max_keys:
                return _MISS
            keys += len(v)
            v = v.values()
        for x in v:  # a dict's values or a list's items
            c = x.__class__
            if c is dict or c is list:
                push(x)
    if keys == colons:
        return data
    # a ':' inside a string (a time such as "08:30") is not a key's: count those outside strings only
    return data if keys == JSON_STRING.sub('""', text).count(":") else _MISS


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


_DIGIT_RUN_BYTES = re.compile(rb"[0-9]{19}")


def read_object_line(raw: bytes, lim: Limits) -> dict[str, Any] | None:
    """The object on one JSON Lines line when it reads at once (orjson, every limit kept, no key twice), else
    None — then ``parse_json(raw.decode("utf-8"), ...)`` decides, value or error. Where this returns an
    object it is that call's value: the same checks on the same counts (a punctuation byte is never part of
    a multi-byte UTF-8 character, so bytes count as characters do), with no decoding and no walk."""
    if not FAST or len(raw) > lim.max_bytes or lim.max_int_digits < _FAST_MIN_DIGITS:
        return None
    colons = raw.count(b":")
    opens = raw.count(b"[")
    if (colons > lim.max_mapping_keys or raw.count(b",") + opens + 2 * colons + 1 > lim.max_nodes
            or raw.count(b"{") + opens > lim.max_depth or _DIGIT_RUN_BYTES.search(raw) is not None):
        return None
    try:
        data = _orjson.loads(raw)
    except Exception:  # any refusal: the checked reader decides
        return None
    return data if data.__class__ is dict and len(data) == colons else None
