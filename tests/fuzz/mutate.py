"""Structure-aware mutation: hostile values and edits of parsed YAML/JSON trees and of their text.

A mutation picks a place in the tree (any mapping key or list item, found by walking the document) and
does one thing there: drop it, duplicate it, give it a value of another type, nudge its value, swap a
level, break a band, rename a key. Text mutations then add what a tree cannot hold: duplicate keys, odd
YAML scalars (timestamps, ``.nan``, octal, tags, aliases), tabs, a BOM, truncation.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
from collections.abc import Callable
from typing import Any

import yaml
from hypothesis import strategies as st

LEVELS = ["RED", "ORANGE", "YELLOW", "BLUE"]

#: values of every JSON/YAML type, including the ones that have broken things before
HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 3, 0.5, -0.0, 1e-05, 2e-05, 1e16, 1e308, -1e308, math.inf, -math.inf, math.nan,
    10**30, -(10**30), 10**1000, "", " ", "RED", "BLUE", "purple", "0", "1e400", "nan", "x" * 300, "\x00", "\ud7ff",
    "__class__", "L * E * C", "{a: 1}", "2024-02-30", datetime.date(9999, 12, 31), datetime.date(1, 1, 1),
    datetime.datetime(2024, 1, 1, 8, 0), [], [1], [[1]], [None], {}, {"v": 3}, {"a": [1, {"b": 2}]},
    {1: 2}, {None: 1}, {"": ""}, [{"from": 1, "to": 0}],
]

#: scalars as YAML text, where PyYAML or cerberus have surprised people
ODD_SCALARS = [
    "2001-12-14t21:59:43.10-05:00", "2002-12-14", "9999-12-31 23:59:59", "0000-00-00", ".nan", ".NaN", ".inf",
    "-.inf", "0o17", "0x1F", "1_000", "0b101", "190:20:30", "yes", "on", "~", "null", "!!binary aGVsbG8=",
    "!!str 3", "!!int '3'", "!!float nan", "!!timestamp 2001-12-14", "!!set {a, b}", "!!omap [a: 1]",
    "*nosuchalias", "&anchor 3", "'unterminated", '"\\x00"', "[", "{", "|\n  block", "? complex", "- item",
    "!!python/object/apply:os.system ['true']", "1e400", "-0", "'\t'", "12345678901234567890123456789",
    "\"\\ud800\"",
]


def _paths(doc: Any, path: tuple[Any, ...] = (), out: list[tuple[Any, ...]] | None = None,
           limit: int = 5000) -> list[tuple[Any, ...]]:
    """Every (container path, key) place in ``doc``, in document order (at most ``limit``)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((*path, k))
            _paths(v, (*path, k), out, limit)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append((*path, i))
            _paths(v, (*path, i), out, limit)
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path[:-1]:
        doc = doc[p]
    return doc


def _nudge(v: Any, k: int) -> Any:
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        # each choice is built lazily: ``v + 0.5`` of a huge integer overflows float in the harness itself
        return [lambda: v + 1, lambda: v - 1, lambda: -v, lambda: v * 10 if abs(v) < 10**40 else 1, lambda: 0,
                lambda: v + 0.5 if abs(v) < 2**1000 else v, lambda: 10 ** (k % 40)][k % 7]()
    if isinstance(v, float):
        return [v * 1.000001, -v, v + 1, 0.0, v / 3, math.nextafter(v, math.inf), v * 1e300][k % 7]
    if isinstance(v, str):
        if v in LEVELS:
            return LEVELS[(LEVELS.index(v) + 1 + k) % 4]
        return [v + "_x", "", v[:-1], v.upper(), v + " ", v * 2 if len(v) < 10**4 else v, v.replace("_", "-")][k % 7]
    if isinstance(v, list):
        return [v[::-1], v[:1], v + v[:1], []][k % 4]
    if isinstance(v, dict):
        return [{}, dict(list(v.items())[:1]), {**v, "extra": 1}][k % 3]
    return v


def _break_bands(node: Any, k: int) -> bool:
    """Perturb one ``from``/``to`` row of a band: a gap, an overlap, an inversion, a hole."""
    rows = []
    for p in _paths(node):
        target = node
        for q in p:
            target = target[q]
        if isinstance(target, dict) and ("from" in target or "to" in target):
            rows.append(target)
    if not rows:
        return False
    row = rows[k % len(rows)]
    key = "from" if ("from" in row and (k // 5) % 2) or "to" not in row else "to"
    v = row[key]
    row[key] = [v + 1, v - 1, -v, None, "x"][k % 5] if isinstance(v, (int, float)) else _nudge(v, k)
    return True


Op = tuple[str, int, int]  # (operation, place index, variant)


def apply(doc: Any, ops: list[Op], pool: list[Any]) -> Any:
    """A mutated deep copy of ``doc``; ``pool``: values to draw from (hostile ones and the doc's own)."""
    doc = copy.deepcopy(doc)
    for name, where, k in ops:
        places = _paths(doc)
        if not places:
            return pool[k % len(pool)]
        path = places[where % len(places)]
        parent = _parent(doc, path)
        key = path[-1]
        try:
            value = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        if name == "drop":
            del parent[key]
        elif name == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, copy.deepcopy(value))
            else:
                parent[f"{key}_{k}" if k % 2 else str(key).upper()] = copy.deepcopy(value)
        elif name == "retype":
            parent[key] = copy.deepcopy(pool[k % len(pool)])
        elif name == "nudge":
            parent[key] = _nudge(value, k)
        elif name == "swap":
            if isinstance(parent, list) and len(parent) > 1:
                j = (key + 1 + k) % len(parent)
                parent[key], parent[j] = parent[j], parent[key]
            elif isinstance(parent, dict):
                keys = list(parent)
                other = keys[(keys.index(key) + 1 + k) % len(keys)]
                parent[key], parent[other] = parent[other], parent[key]
        elif name == "bands":
            _break_bands(doc, k)
        elif name == "rename" and isinstance(parent, dict):
            new = [str(key) + "s", str(key)[:-1], str(key).title(), 7, None, "_" + str(key)][k % 6]
            if new not in parent:
                parent[new] = parent.pop(key)
        elif name == "hoist" and isinstance(value, (dict, list)) and value:
            inner = next(iter(value.values())) if isinstance(value, dict) else value[0]
            parent[key] = copy.deepcopy(inner)
    return doc


OPS = ["drop", "duplicate", "retype", "nudge", "nudge", "swap", "bands", "rename", "hoist", "retype"]


def ops(max_ops: int = 4) -> st.SearchStrategy[list[Op]]:
    return st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)),
                    min_size=1, max_size=max_ops)


def text_ops(text: str, edits: list[tuple[int, int, int]]) -> str:
    """Apply text edits: a duplicated line (duplicate keys), an odd scalar after a colon, tabs, BOM, truncation."""
    for kind, where, k in edits:
        lines = text.split("\n")
        i = where % max(1, len(lines))
        if kind == 0:
            lines.insert(i, lines[i])
        elif kind == 1 and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}: {ODD_SCALARS[k % len(ODD_SCALARS)]}"
        elif kind == 2:
            lines[i] = lines[i].replace("  ", "\t", 1)
        elif kind == 3:
            return "\ufeff" + "\n".join(lines)
        elif kind == 4:
            return "\n".join(lines)[: k % max(1, len(text))]
        elif kind == 5:
            lines.insert(i, f"{ODD_SCALARS[k % len(ODD_SCALARS)]}: {ODD_SCALARS[(k // 7) % len(ODD_SCALARS)]}")
        text = "\n".join(lines)
    return text


def text_edits(max_edits: int = 2) -> st.SearchStrategy[list[tuple[int, int, int]]]:
    return st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10**6), st.integers(0, 10**6)), max_size=max_edits)


def dump_yaml(doc: Any) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return repr(doc)


def dump_json(doc: Any) -> str:
    default: Callable[[Any], Any] = str
    try:
        return json.dumps(doc, ensure_ascii=False, default=default)
    except (ValueError, TypeError, RecursionError):
        return json.dumps(str(doc))


def scalars(doc: Any, limit: int = 200) -> list[Any]:
    """The doc's own scalar values and keys (for references that point at something else)."""
    out: list[Any] = []
    stack = [doc]
    while stack and len(out) < limit:
        d = stack.pop()
        if isinstance(d, dict):
            out.extend(k for k in d if isinstance(k, str))
            stack.extend(d.values())
        elif isinstance(d, list):
            stack.extend(d)
        else:
            out.append(d)
    return out
