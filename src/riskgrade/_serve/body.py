"""A request body's JSON: orjson when it is installed, always the answer of riskgrade's checked reader.

:func:`~riskgrade._source.jsondoc.parse_json` enforces the :class:`~riskgrade._core.limits.Limits`
(size, values, keys per object, integer digits, depth) and refuses a key given twice; it parses with
the standard library's ``json`` and a hook per object and per integer, which costs more than grading a
1,000-record batch. orjson parses the same documents about twenty times faster but knows none of
those rules (a repeated key wins silently, an integer past 64 bits becomes a float, it nests to 1,024).
So :func:`read_body` takes orjson's value only when none of the checks could fail and both readers
must give the same value; in every other case — orjson refuses the text (``NaN``, a byte order mark,
a lone surrogate, bad syntax), or a check might be violated — it answers with ``parse_json`` itself,
so the same errors come out, from the same code:

- size and values: the bounds ``parse_json`` takes from the text are taken from the bytes (every
  character they count is ASCII, so the counts are equal; the bytes are at least as many as the
  characters);
- integers: any run of 19 digits (or more than ``max_int_digits``) anywhere in the body, so no
  integer can be past 64 bits or over the digit limit;
- depth and keys per object: a walk of the parsed value;
- repeated keys: a value with as many keys as there are ``:`` outside strings in the text has lost
  none (a repeated key leaves one key fewer in its object).

tests/test_serve_body.py checks with hypothesis that both readers give the same value or the same error.

>>> read_body(b'[{"id": "a", "L": 3}]', Limits())
[{'id': 'a', 'L': 3}]
>>> read_body(b'{"a": 1, "a": 2}', Limits())
Traceback (most recent call last):
...
riskgrade._source.jsondoc.JSONDocError: duplicate-key: key 'a' appears twice in one object
"""

from __future__ import annotations

import functools
import re
from typing import Any

from riskgrade._core.limits import Limits
from riskgrade._source.jsondoc import JSON_STRING, parse_json

try:  # optional: the [serve] extra installs it; without it every body goes through parse_json
    import orjson
except ImportError:  # pragma: no cover - orjson is in the [serve] extra
    orjson = None  # type: ignore[assignment]

__all__ = ["WHERE", "read_body"]

#: how the body is named in error messages and error records
WHERE = "<body>"
#: no orjson value: answer with parse_json
_NO = object()


@functools.lru_cache(maxsize=8)
def _digits(n: int) -> re.Pattern[bytes]:
    return re.compile(rb"[0-9]{%d}" % n)


def read_body(raw: bytes, limits: Limits) -> Any:
    """``parse_json(raw.decode("utf-8"), "<body>", limits)``, through orjson when that gives the same value.

    Raises :class:`UnicodeDecodeError` when ``raw`` is not UTF-8 and
    :class:`~riskgrade._source.jsondoc.JSONDocError` when ``parse_json`` refuses the text.
    """
    if orjson is not None:
        value = _fast(raw, limits)
        if value is not _NO:
            return value
    return parse_json(raw.decode("utf-8"), WHERE, limits)


def _fast(raw: bytes, lim: Limits) -> Any:
    """orjson's value of ``raw``, or :data:`_NO` when it might differ from parse_json's answer."""
    if len(raw) > lim.max_bytes:
        return _NO
    colons = raw.count(b":")
    if raw.count(b",") + raw.count(b"[") + 2 * colons + 1 > lim.max_nodes:
        return _NO
    if _digits(min(19, lim.max_int_digits + 1)).search(raw):
        return _NO
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NO
    if (data.__class__ is list and lim.max_depth >= 2 and raw.count(b"{") + raw.count(b"[") == len(data) + 1
            and all(x.__class__ is dict for x in data)):
        # a list of flat objects (the usual batch): every '{' or '[' in the text is one of them or the list,
        # so nothing nests deeper
        keys: int | None = sum(map(len, data))
        if data and max(map(len, data)) > lim.max_mapping_keys:
            return _NO
    else:
        keys = _keys(data, lim.max_depth, lim.max_mapping_keys)
    if keys is None:
        return _NO
    if keys != colons and keys != JSON_STRING.sub('""', raw.decode("utf-8")).count(":"):
        return _NO
    return data


def _keys(data: Any, max_depth: int, max_keys: int) -> int | None:
    """The keys of every object in ``data``; None when it nests deeper than ``max_depth`` (the root is
    at depth 1, as parse_json counts) or an object has more than ``max_keys``."""
    keys = 0
    todo: list[tuple[Any, int]] = []
    if data.__class__ is dict or data.__class__ is list:
        todo.append((data, 1))
    while todo:
        v, depth = todo.pop()
        if depth > max_depth:
            return None
        if v.__class__ is dict:
            if len(v) > max_keys:
                return None
            keys += len(v)
            v = v.values()
        todo.extend([(x, depth + 1) for x in v if x.__class__ is dict or x.__class__ is list])
    return keys
