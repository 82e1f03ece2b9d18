"""One JSON dumper, one fingerprint, one number formatter — for every output riskgrade writes.

>>> dumps({"b": 1, "a": "红"})
'{"a":"红","b":1}'
>>> fmt_number(4.200000000000001), fmt_number(270.0), fmt_number(0.1 + 0.2), fmt_number(12)
('4.2', '270', '0.3', '12')
>>> fmt_number(10 ** 1000 * 7), fmt_number(10 ** 40)
('7e+1000', '1e+40')
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "fingerprint", "fmt_number", "json_scalar", "jsonable"]

#: significant digits shown in text (enough for every published threshold, none of the float noise)
_DIGITS = 12


def fmt_number(v: Any) -> str:
    """A number as people read it: integers without ``.0``, floats without binary noise.

    Non-numbers are returned as ``str(v)``.
    """
    t = v.__class__
    if t is int and -(10**30) < v < 10**30:  # the common cases first (bool is not int here)
        return int.__repr__(v)
    if t is float and v.is_integer() and -1e16 < v < 1e16:
        return int.__repr__(int(v))
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        if abs(v) < 10**30:
            return str(v)
        # f"{v:g}" converts to float first: OverflowError beyond 1e308; decimal works at any size
        mant, _, exp = format(decimal.Context(prec=_DIGITS).create_decimal(v), f".{_DIGITS}e").partition("e")
        return f"{mant.rstrip('0').rstrip('.')}e{exp}"
    if not math.isfinite(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    s = f"{v:.{_DIGITS}g}"
    if "e" not in s and "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _clean_float(v: float) -> float | int:
    """A float rounded to the digits :func:`fmt_number` shows, so JSON carries no noise either."""
    if not math.isfinite(v):
        raise ValueError(f"{v!r} is not a finite number and has no JSON form")
    if v.is_integer() and abs(v) < 1e16:
        return v
    return float(f"{v:.{_DIGITS}g}")


def jsonable(o: Any) -> Any:
    """``o`` as plain JSON data (dates ISO, levels by name, sets sorted, floats without noise)."""
    t = type(o)
    if t is str or t is int or t is bool or o is None:
        return o
    if t is float:
        return _clean_float(o)
    if t is dict:
        return {(k if type(k) is str else str(k)): jsonable(v) for k, v in o.items()}
    if t is list or t is tuple:
        return [jsonable(x) for x in o]
    if isinstance(o, enum.Enum):
        return o.name
    if isinstance(o, (str, int)):  # subclasses of the plain types
        return int(o) if isinstance(o, int) and not isinstance(o, bool) else o
    if isinstance(o, float):
        return _clean_float(o)
    if isinstance(o, Mapping):
        return {(k if isinstance(k, str) else str(k)): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(x) for x in o]
    if isinstance(o, (set, frozenset)):
        return [jsonable(x) for x in sorted(o, key=lambda x: (str(type(x)), str(x)))]
    if isinstance(o, (datetime.date, datetime.datetime)):
        return o.isoformat()
    to_dict = getattr(o, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    raise TypeError(f"cannot serialise {type(o).__name__}")


def dumps(obj: Any, indent: int | None = None, *, sort_keys: bool = True) -> str:
    """Canonical JSON: sorted keys, UTF-8 text (not ``\\u`` escapes), no NaN, no float noise.

    ``indent`` for people; compact separators otherwise (one record per line in streams).
    """
    return json.dumps(jsonable(obj), sort_keys=sort_keys, ensure_ascii=False, allow_nan=False, indent=indent,
                      separators=(",", ": ") if indent else (",", ":"))


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for text


def json_scalar(v: Any) -> str:
    """``dumps(v)``, fast for the plain scalars (text, int, float, bool, None); the same bytes.

    >>> [json_scalar(x) for x in ("红\\n", 270, 4.200000000000001, 270.0, True, None, [1, 2])]
    ['"红\\\\n"', '270', '4.2', '270.0', 'true', 'null', '[1,2]']
    """
    t = type(v)
    if t is str:
        return _encode_str(v)
    if t is int:
        return int.__repr__(v)
    if t is float:
        return float.__repr__(_clean_float(v))
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    return dumps(v)


def _canon_keys(v: Any) -> Any:
    # text keys only (so mixed or date keys can be sorted), typed so that 1 and "1" differ
    if isinstance(v, Mapping):
        return {f"{type(k).__name__}:{k}": _canon_keys(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon_keys(x) for x in v]
    return v


def fingerprint(data: Any) -> str:
    """``sha256:`` of the canonical form of ``data`` (what a ruleset or layer was built from)."""
    blob = json.dumps(_canon_keys(data), sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()
