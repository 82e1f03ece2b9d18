"""A request body's JSON: :func:`~riskgrade._source.jsondoc.parse_json` of its UTF-8 text (read from the bytes).

``parse_json`` enforces the :class:`~riskgrade._core.limits.Limits` (size, values, keys per object,
integer digits, depth) and refuses a key given twice; with the ``fast`` extra (orjson, which the
``serve`` extra installs too) it decodes with orjson first and keeps that value only where it is
provably the checked reader's (``riskgrade._source.jsondoc._fast``, on the body's bytes:
:func:`~riskgrade._source.jsondoc.parse_json_bytes`), so a usual batch of flat records is read at C speed and every error comes from the same checked code as in the CLI.
tests/test_serve_body.py checks with hypothesis that both readers give the same value or the same error.

>>> read_body(b'[{"id": "a", "L": 3}]', Limits())
[{'id': 'a', 'L': 3}]
>>> read_body(b'{"a": 1, "a": 2}', Limits())
Traceback (most recent call last):
...
riskgrade._source.jsondoc.JSONDocError: duplicate-key: key 'a' appears twice in one object
"""

from __future__ import annotations

from typing import Any

from riskgrade._core.limits import Limits
from riskgrade._source.jsondoc import parse_json_bytes

__all__ = ["WHERE", "read_body"]

#: how the body is named in error messages and error records
WHERE = "<body>"


def read_body(raw: bytes, limits: Limits) -> Any:
    """``parse_json(raw.decode("utf-8"), "<body>", limits)``.

    Raises :class:`UnicodeDecodeError` when ``raw`` is not UTF-8 and
    :class:`~riskgrade._source.jsondoc.JSONDocError` when ``parse_json`` refuses the text.
    """
    return parse_json_bytes(raw, WHERE, limits)
