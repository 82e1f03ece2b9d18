"""JSON documents read within :class:`~riskgrade._core.limits.Limits`.

:func:`parse_json` checks the size, counts the values (from the text, before anything is
built), rejects duplicate keys (never last-wins), oversized mappings and integers, and nesting
deeper than ``max_depth``; a UTF-8 byte order mark is skipped. Every failure is a
:class:`JSONDocError` with a stable ``code`` and a short message (never the whole value), which
the caller turns into its own located error.

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

__all__ = ["JSONDocError", "parse_json"]


class JSONDocError(Exception):
    """A JSON document that cannot be accepted: ``code`` (``bad-json``, ``duplicate-key``,
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
    # a document with no more containers than the limit cannot nest deeper (each level is one): no walk
    if text.count("{") + text.count("[") > lim.max_depth:
        _check_depth(data, lim.max_depth)
    return data


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
