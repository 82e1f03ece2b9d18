"""What a valid input value is, and the helpers the generated grading code calls to say why not.

Used at compile time (an input's ``default`` must itself be valid) and at grading time (the
generated code checks each fact through these). Every failure is a located
:class:`~riskgrade.exceptions.FactError` naming the field.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Mapping
from typing import Any

from riskgrade._core.canonical import fmt_number
from riskgrade._core.limits import Limits, get_limits, short_repr
from riskgrade.exceptions import FactError

__all__ = ["bad", "check_value", "extra", "fail", "finite_items", "missing", "nonfinite", "not_mapping",
           "slow_check", "sort_key"]

_INF = math.inf
_NUM = (int, float)
#: fact keys that name the record rather than give an input (never "unknown facts")
META_KEYS = frozenset({"id", "name"})


def missing(name: str) -> FactError:
    return FactError("required fact is missing (and has no default)", field=name, code="missing-fact")


def sort_key(a: Any) -> tuple[int, Any]:
    """Numbers in numeric order, then text (a mixed set must not make sorting fail)."""
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return (0, a)
    return (1, str(a))


def nonfinite(value: float) -> None:
    raise FactError(f"the result {short_repr(value)} is not a finite number (overflow?)", code="not-finite",
                    value=value)


def finite_items(items: list[Any] | tuple[Any, ...]) -> None:
    """A derived list carries only finite numbers (its JSON form has no NaN either)."""
    stack: list[Any] = [items]
    while stack:
        v = stack.pop()
        for x in (v.values() if isinstance(v, dict) else v):
            if x.__class__ is float and not (-_INF < x < _INF):
                nonfinite(x)
            elif x.__class__ is complex:
                raise FactError(f"the result {short_repr(x)} is not a real number", code="not-real", value=x)
            elif isinstance(x, (list, tuple, dict)):
                stack.append(x)


def not_mapping(facts: Any) -> FactError:
    if isinstance(facts, Mapping):  # a mapping whose lookup raised TypeError: unhashable key, etc.
        return FactError("facts mapping cannot be read", code="not-a-mapping")
    return FactError(f"facts must be a mapping, not {type(facts).__name__}", code="not-a-mapping")


def extra(facts: Mapping[str, Any], known: frozenset[str]) -> None:
    extra = sorted(str(k) for k in facts if k not in known and k not in META_KEYS and not str(k).startswith("_"))
    if extra:
        raise FactError(f"unknown fact {short_repr(extra[0])} (not an input of this ruleset)", field=extra[0][:200],
                        code="unknown-fact")


def bad(name: str, value: Any, allowed: list[Any] | None, lo: Any = None, hi: Any = None) -> None:
    if allowed is not None:
        shown = ", ".join(fmt_number(a) for a in sorted(allowed, key=sort_key))
        raise FactError(f"{short_repr(value)} is not an allowed value; allowed: {shown}",
                        field=name, code="not-allowed", value=value)
    if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
        raise FactError(f"{value!r} is not a finite number", field=name, code="not-finite", value=value)
    raise FactError(f"{short_repr(value)} is out of range [{fmt_number(lo)}, {fmt_number(hi)}]", field=name, code="out-of-range", value=value)


def fail(at: str | None, e: Exception) -> FactError:
    if isinstance(e, RecursionError):
        return FactError("cannot compute: the value nests too deeply", field=at, code="too-deep")
    if isinstance(e, MemoryError):
        return FactError("cannot compute: out of memory", field=at, code="too-large")
    try:
        text = str(e)
    except Exception:  # e.g. a message that would format an integer of too many digits
        text = ""
    return FactError(f"cannot compute: {type(e).__name__}: {text[:200]}", field=at, code="eval-error")


def slow_check(name: str, spec: Mapping[str, Any], allowed: frozenset[Any] | None,
               limits: Limits | None = None) -> Callable[[Any], Any]:
    """A checker for one input value (types other than the fast numeric path)."""
    max_int = (limits or get_limits()).max_int

    def check(value: Any) -> Any:
        return check_value(spec, value, name, allowed, max_int)

    return check


def _is_in(value: Any, allowed: frozenset[Any], name: str) -> bool:
    try:
        return value in allowed
    except TypeError:  # unhashable
        raise FactError(f"must be a single value, got {type(value).__name__}", field=name, code="wrong-type",
                        value=value) from None


def check_value(spec: Mapping[str, Any], value: Any, name: str, allowed: frozenset[Any] | None = None,
                max_int: int | None = None) -> Any:
    t = spec["type"]
    if value is None:
        raise FactError("value is null", field=name, code="wrong-type")
    if t in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int if t == "integer" else _NUM):
            raise FactError(f"must be {'an integer' if t == 'integer' else 'a number'}, got {short_repr(value)}",
                            field=name, code="wrong-type", value=value)
        if isinstance(value, float) and not math.isfinite(value):
            raise FactError(f"{value!r} is not a finite number", field=name, code="not-finite", value=value)
        big = get_limits().max_int if max_int is None else max_int
        if isinstance(value, int) and not -big <= value <= big:
            raise FactError(f"an integer of more than {len(str(big))} digits (Limits.max_int_digits)", field=name,
                            code="too-large", value=value)
        if allowed is not None and not _is_in(value, allowed, name):
            bad(name, value, sorted(allowed))
        lo, hi = spec.get("min"), spec.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bad(name, value, None, lo if lo is not None else -_INF, hi if hi is not None else _INF)
        return value
    if t == "bool":
        if not isinstance(value, bool):
            raise FactError(f"must be true or false, got {short_repr(value)}", field=name, code="wrong-type",
                            value=value)
        return value
    if t in ("string", "enum"):
        if t == "string" and not isinstance(value, str):
            raise FactError(f"must be text, got {short_repr(value)}", field=name, code="wrong-type", value=value)
        if isinstance(value, (list, dict, bool)) or not isinstance(value, (str, int, float)):
            raise FactError(f"must be a single number or text, got {short_repr(value)}", field=name,
                            code="wrong-type", value=value)
        if allowed is not None and not _is_in(value, allowed, name):
            bad(name, value, sorted(allowed, key=str))
        return value
    if t == "date":
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        raise FactError(f"must be a date YYYY-MM-DD, got {short_repr(value)}", field=name, code="wrong-type",
                        value=value)
    if t == "list":
        if not isinstance(value, (list, tuple)):
            raise FactError(f"must be a list, got {type(value).__name__}", field=name, code="wrong-type")
        if "min_items" in spec and len(value) < spec["min_items"]:
            raise FactError(f"needs at least {spec['min_items']} items", field=name, code="too-few")
        if "max_items" in spec and len(value) > spec["max_items"]:
            raise FactError(f"takes at most {spec['max_items']} items", field=name, code="too-many")
        fields = spec.get("fields")
        if fields is None:
            item_spec = {"type": spec.get("items", "string")}
            return [check_value(item_spec, x, f"{name}[{i}]", None, max_int) for i, x in enumerate(value)]
        out = []
        for i, rec in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(rec, Mapping):
                raise FactError(f"must be a record (mapping), got {type(rec).__name__}", field=where,
                                code="wrong-type")
            unknown = [k for k in rec if k not in fields and not str(k).startswith("_")]
            if unknown:
                raise FactError(f"unknown field {unknown[0]!r}", field=f"{where}.{unknown[0]}", code="unknown-fact")
            r: dict[str, Any] = {}
            for fname, fspec in fields.items():
                fwhere = f"{where}.{fname}"
                if fname in rec and rec[fname] is not None:
                    fa = fspec.get("values")
                    fallowed = frozenset(fa.keys() if isinstance(fa, dict) else fa) if fa is not None else None
                    r[fname] = check_value(fspec, rec[fname], fwhere, fallowed, max_int)
                elif "default" in fspec:
                    r[fname] = fspec["default"]
                elif fspec.get("required", True):
                    raise FactError("required field is missing", field=fwhere, code="missing-fact")
                else:
                    r[fname] = None
            out.append(r)
        return out
    if t == "record":  # the facts of a linked ruleset (links:), checked when that ruleset grades them
        if not isinstance(value, Mapping):
            raise FactError(f"must be a mapping (the facts of a linked ruleset), got {type(value).__name__}",
                            field=name, code="wrong-type")
        return value
    raise FactError(f"unsupported input type {t}", field=name, code="wrong-type")
