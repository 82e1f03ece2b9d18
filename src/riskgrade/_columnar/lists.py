"""Lowering a ruleset over a list of records to numpy: the "sum over a list of lookup-derived values" shape.

A GB 18218 unit is a list of substances and the people around it: each substance derives Q and β from
the tables (by name, alias or CAS number, else its category), the unit sums ``q/Q`` and ``β·q/Q`` over
its substances, takes α from a band and is graded by direct rules. Every unit is distinct, so grouping
rows (``table.py``) saves nothing; here the list column is flattened with each item's parent row and

* each item's derived values are found once per **distinct item key** — the item's fields other than the
  numbers its derivation does not read (``quantity_t``) — by the ruleset's own list checker and
  per-record derivation on one representative item (the numbers checked vectorised, a valid stand-in
  put in their place);
* the ruleset's top-level ``derive`` expressions and the ``when`` of its direct rules are evaluated on
  numpy columns by :class:`_Lowering`, keeping for every cell the Python type it would have (None,
  bool, int, float), so a sum over a unit's items, a band, ``a if c else b`` give the values and types
  ``grade`` gives; sums run item by item in list order, as Python's ``sum`` does;
* every row whose value could differ from the generated code's or that would raise — a fact off its
  type or range, an item key whose check or derivation fails, a division by zero, a non-finite or
  inexact (beyond 2^53) number, a comparison with None — is marked and graded by the ruleset's own
  function, so its error (code, field) is exactly ``grade_many``'s.

Supported: number/integer scalar inputs, one list input of records (fields, per-record ``derive``),
top-level derived values built of numbers, names, ``s.field`` in a ``sum``/``any``/``all`` generator
or a list comprehension over that list, ``len``, ``+ - * /``, comparisons, ``and``/``or``/``not``,
``x if c else y`` and ``band('name', x)`` of numeric bands; rules of the ``direct`` method with an
``otherwise`` level and a score that is a derived value. Anything else: :func:`grade_lists` returns
None and the table is graded by distinct rows (``table.py``).
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from riskgrade._columnar.cells import (
    RESULT_COLUMNS,
    Results,
    codes,
    column,
    fired_array,
    fired_dictionary,
    hashed_codes,
    level_array,
    level_values_array,
    modules,
    result_values,
)
from riskgrade._compile.values import META_KEYS
from riskgrade._core.levels import Level

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = ["grade_lists"]

#: the Python type of a cell: None, bool, int, float
NONE, BOOL, INT, FLOAT = 0, 1, 2, 3
#: integers are carried as float64, exact below this magnitude
_EXACT = 2.0**53
_RULE_KEYS = frozenset({"id", "label", "method", "when", "level", "cite", "note", "unverified"})


class _No(Exception):
    """The ruleset or table has a shape this lowering does not cover."""


class _V:
    """A column of Python scalars: ``f`` the value as float64, ``t`` its Python type per cell, ``bad``
    the cells that must be graded by the generated code instead."""

    __slots__ = ("bad", "f", "t")

    def __init__(self, f: Any, t: Any, bad: Any) -> None:
        self.f, self.t, self.bad = f, t, bad


class _L:
    """A list per row (a list comprehension): its items (a :class:`_V` over the items) and their rows."""

    __slots__ = ("bad", "items", "offsets")

    def __init__(self, items: _V, offsets: Any, bad: Any) -> None:
        self.items, self.offsets, self.bad = items, offsets, bad


def _parse(text: Any) -> ast.expr:
    if not isinstance(text, str):
        raise _No
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise _No from None


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _py_type(v: Any) -> int | None:
    """The cell type of a Python value, or None when the value is not a number, bool or None we can carry."""
    if v is None:
        return NONE
    if v is True or v is False:
        return BOOL
    if v.__class__ is int:
        return INT if -_EXACT < v < _EXACT else None
    if v.__class__ is float:
        return FLOAT if v - v == 0 else None  # finite
    return None


class _Items:
    """The flattened list input: per item, its row and its values (vectorised numbers, or per item key)."""

    def __init__(self, np: Any, rows: Any, offsets: Any, bad: Any, by_key: dict[str, _V], vec: dict[str, _V]) -> None:
        self.rows, self.offsets, self.bad = rows, offsets, bad
        self.by_key, self.vec = by_key, vec
        self.lens = np.diff(offsets)
        self.np = np
        self._by_position: list[Any] | None = None

    def by_position(self) -> list[Any]:
        """For each position j, the rows with more than j items."""
        if self._by_position is None:
            np = self.np
            self._by_position = [np.flatnonzero(self.lens > j) for j in range(int(self.lens.max(initial=0)))]
        return self._by_position

    def field(self, name: str) -> _V:
        v = self.vec.get(name)
        if v is None:
            v = self.by_key.get(name)
        if v is None:
            raise _No
        return v


class _Lowering:
    """Evaluate a ruleset's derived values and rules on numpy columns (see the module docstring)."""

    def __init__(self, rs: Ruleset, n: int, scalars: dict[str, _V], list_name: str, items: _Items, np: Any) -> None:
        self.rs, self.n, self.np = rs, n, np
        self.scalars, self.list_name, self.items = scalars, list_name, items
        derive = rs.doc.get("derive") or {}
        self.exprs: dict[str, ast.expr] = {}
        for name, spec in derive.items():
            self.exprs[name] = _parse(spec.get("expr") if isinstance(spec, Mapping) else spec)
        self.memo: dict[str, _V | _L] = {}
        self.no = np.zeros(n, dtype=bool)

    # -- names ------------------------------------------------------------------------------------------
    def value(self, name: str) -> _V | _L:
        got = self.memo.get(name)
        if got is None:
            if name in self.scalars:
                got = self.scalars[name]
            elif name in self.exprs:
                self.memo[name] = _V(None, None, None)  # a cycle (refused by the compiler) reads as unsupported
                got = self.ev(self.exprs[name], None)
            else:
                raise _No
            self.memo[name] = got
        if got.f is None if isinstance(got, _V) else False:
            raise _No
        return got

    def scalar(self, name: str, var: str | None) -> _V:
        v = self.value(name)
        if not isinstance(v, _V):
            raise _No
        if var is None:
            return v
        r = self.items.rows  # a row's value read inside a generator over its items
        return _V(v.f[r], v.t[r], v.bad[r])

    # -- expressions -----------------------------------------------------------------------------------
    def const(self, c: Any, m: int) -> _V:
        t = _py_type(c)
        if t is None:
            raise _No
        np = self.np
        return _V(np.full(m, 0.0 if c is None else float(c)), np.full(m, t, dtype=np.int8), np.zeros(m, dtype=bool))

    def truth(self, v: _V) -> Any:
        return (v.t != NONE) & (v.f != 0)

    def ev(self, node: ast.expr, var: str | None) -> Any:
        """The value of ``node`` per row (``var`` None) or per item of the list (``var`` the loop name)."""
        np = self.np
        m = self.n if var is None else len(self.items.rows)
        if isinstance(node, ast.Constant):
            return self.const(node.value, m)
        if isinstance(node, ast.Name):
            if node.id == var:
                raise _No
            return self.scalar(node.id, var)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if var is None or node.value.id != var:
                raise _No
            return self.items.field(node.attr)
        if isinstance(node, ast.BinOp):
            return self.arith(node.op, self.ev1(node.left, var), self.ev1(node.right, var))
        if isinstance(node, ast.UnaryOp):
            a = self.ev1(node.operand, var)
            if isinstance(node.op, ast.Not):
                return _V((~self.truth(a)).astype(np.float64), np.full(m, BOOL, dtype=np.int8), a.bad)
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                t = np.where(a.t == BOOL, np.int8(INT), a.t)
                return _V(-a.f if isinstance(node.op, ast.USub) else a.f + 0.0, t, a.bad | (a.t == NONE))
            raise _No
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.compare(node.ops[0], self.ev1(node.left, var), self.ev1(node.comparators[0], var))
        if isinstance(node, ast.BoolOp):
            res = self.ev1(node.values[0], var)
            for nxt in node.values[1:]:
                b = self.ev1(nxt, var)
                tr = self.truth(res)
                take_b = tr if isinstance(node.op, ast.And) else ~tr
                res = _V(np.where(take_b, b.f, res.f), np.where(take_b, b.t, res.t), res.bad | (take_b & b.bad))
            return res
        if isinstance(node, ast.IfExp):
            c, a, b = self.ev1(node.test, var), self.ev1(node.body, var), self.ev1(node.orelse, var)
            tr = self.truth(c)
            return _V(np.where(tr, a.f, b.f), np.where(tr, a.t, b.t), c.bad | np.where(tr, a.bad, b.bad))
        if isinstance(node, ast.ListComp) and var is None:
            item, keep = self.generator(node)
            if keep is not None:
                raise _No
            return _L(item, self.items.offsets, self.per_row(item.bad))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return self.call(node.func.id, node.args, var)
        raise _No

    def ev1(self, node: ast.expr, var: str | None) -> _V:
        v = self.ev(node, var)
        if not isinstance(v, _V):
            raise _No
        return v

    def arith(self, op: ast.operator, a: _V, b: _V) -> _V:
        np = self.np
        bad = a.bad | b.bad | (a.t == NONE) | (b.t == NONE)
        if isinstance(op, ast.Add):
            f = a.f + b.f
        elif isinstance(op, ast.Sub):
            f = a.f - b.f
        elif isinstance(op, ast.Mult):
            f = a.f * b.f
        elif isinstance(op, ast.Div):
            bad = bad | (b.f == 0)  # ZeroDivisionError
            f = a.f / b.f
        else:
            raise _No
        if isinstance(op, ast.Div):
            t = np.full(len(f), FLOAT, dtype=np.int8)
        else:
            t = np.where((a.t == FLOAT) | (b.t == FLOAT), np.int8(FLOAT), np.int8(INT))
        bad = bad | ~np.isfinite(f) | ((t == INT) & (np.abs(f) >= _EXACT))
        return _V(f, t, bad)

    def compare(self, op: ast.cmpop, a: _V, b: _V) -> _V:
        np = self.np
        an, bn = a.t == NONE, b.t == NONE
        bad = a.bad | b.bad
        if isinstance(op, (ast.Eq, ast.NotEq)):
            eq = ((a.f == b.f) & ~an & ~bn) | (an & bn)
            r = eq if isinstance(op, ast.Eq) else ~eq
        else:
            bad = bad | an | bn  # None < 1 is a TypeError
            if isinstance(op, ast.Lt):
                r = a.f < b.f
            elif isinstance(op, ast.LtE):
                r = a.f <= b.f
            elif isinstance(op, ast.Gt):
                r = a.f > b.f
            elif isinstance(op, ast.GtE):
                r = a.f >= b.f
            else:
                raise _No
        return _V(r.astype(np.float64), np.full(len(r), BOOL, dtype=np.int8), bad)

    def generator(self, node: ast.GeneratorExp | ast.ListComp) -> tuple[_V, Any]:
        """(the element per item, the items kept by the ``if`` clauses or None) of ``... for s in L``."""
        if len(node.generators) != 1:
            raise _No
        g = node.generators[0]
        if (g.is_async or not isinstance(g.target, ast.Name) or not isinstance(g.iter, ast.Name)
                or g.iter.id != self.list_name):
            raise _No
        var = g.target.id
        keep = None
        cond_bad = self.items.bad
        for cond in g.ifs:
            c = self.ev1(cond, var)
            cond_bad = cond_bad | (c.bad if keep is None else c.bad & keep)
            keep = self.truth(c) if keep is None else keep & self.truth(c)
        elt = self.ev1(node.elt, var)
        bad = cond_bad | (elt.bad if keep is None else elt.bad & keep)
        return _V(elt.f, elt.t, bad), keep

    def per_row(self, item_flags: Any) -> Any:
        """Rows with at least one flagged item."""
        np = self.np
        return np.bincount(self.items.rows[item_flags], minlength=self.n) > 0

    def call(self, fn: str, args: list[ast.expr], var: str | None) -> _V:
        np = self.np
        if fn == "band" and len(args) == 2 and isinstance(args[0], ast.Constant):
            return self.band(args[0].value, self.ev1(args[1], var))
        if len(args) != 1:
            raise _No
        arg = args[0]
        if fn == "len" and var is None:
            if isinstance(arg, ast.Name) and arg.id == self.list_name:
                lens = self.items.lens
                return _V(lens.astype(np.float64), np.full(self.n, INT, dtype=np.int8), self.no)
            got = self.ev(arg, var)
            if not isinstance(got, _L):
                raise _No
            return _V(np.diff(got.offsets).astype(np.float64), np.full(self.n, INT, dtype=np.int8), got.bad)
        if fn not in ("sum", "any", "all") or var is not None or not isinstance(arg, ast.GeneratorExp):
            raise _No
        item, keep = self.generator(arg)
        rows = self.items.rows
        sel = np.ones(len(rows), dtype=bool) if keep is None else keep
        bad = self.per_row(item.bad)
        if fn in ("any", "all"):
            tr = self.truth(item) & sel if fn == "any" else ~self.truth(item) & sel
            hit = np.bincount(rows[tr], minlength=self.n) > 0
            f = hit if fn == "any" else ~hit
            return _V(f.astype(np.float64), np.full(self.n, BOOL, dtype=np.int8), bad)
        # sum: Python adds in list order, from the int 0; a float item makes the rest float
        bad = bad | self.per_row(sel & (item.t == NONE))
        is_float = self.per_row(sel & (item.t == FLOAT))
        ints = sel & (item.t != FLOAT)
        big = np.bincount(rows[ints], weights=np.abs(item.f[ints]), minlength=self.n) >= _EXACT
        acc = self.seq_sum(np.where(sel, item.f, 0.0))
        t = np.where(is_float, np.int8(FLOAT), np.int8(INT))
        return _V(acc, t, bad | big | ~np.isfinite(acc))

    def seq_sum(self, f: Any) -> Any:
        """Per row, the items' values added one after the other from 0.0 (not numpy's pairwise sum)."""
        acc = self.np.zeros(self.n)
        offsets = self.items.offsets
        for j, rows in enumerate(self.items.by_position()):
            acc[rows] += f[offsets[rows] + j]
        return acc

    def band(self, name: Any, x: _V) -> _V:
        np = self.np
        b = self.rs.bands.get(name) if isinstance(name, str) else None
        if b is None or any("level" in r for r in b.rows):
            raise _No
        order = sorted(range(len(b.rows)), key=lambda j: (-float("inf") if b.rows[j].get("from") is None
                                                          else b.rows[j]["from"]))
        tos: list[Any] = [b.rows[j].get("to") for j in order[:-1]]
        if any(_py_type(t) not in (INT, FLOAT) for t in tos) or any(a >= c for a, c in itertools.pairwise(tos)):
            raise _No
        vals = [b.rows[j].get("value") for j in order]
        types = [_py_type(v) for v in vals]
        if any(t is None for t in types):
            raise _No
        # the generated band is an if/elif chain of x < to (x <= to when closed upper), the last row the rest
        side = "left" if b.closed == "upper" else "right"
        idx = np.searchsorted(np.array(tos, dtype=np.float64), x.f, side=side)
        f = np.array([0.0 if v is None else float(v) for v in vals])[idx]
        t = np.array(types, dtype=np.int8)[idx]
        return _V(f, t, x.bad | (x.t == NONE) | ~np.isfinite(x.f))


def _key_codes(col: Any, np: Any, pa: Any, pc: Any) -> tuple[Any, int]:
    """Codes for the cells of one field of the items (lists and structs by their Python value)."""
    t = col.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
        seen: dict[Any, int] = {}
        out = np.empty(len(col), dtype=np.int64)
        for i, v in enumerate(col.to_pylist()):
            k = repr(v)
            out[i] = seen.setdefault(k, len(seen))
        return out, max(len(seen), 1)
    return hashed_codes(pa.chunked_array([col], t), np, pa, pc)


def _stand_in(spec: Mapping[str, Any]) -> Any:
    """A value the checker accepts for a number field (its derivation does not read it)."""
    vals = spec.get("values")
    if vals:
        return next(iter(vals.keys() if isinstance(vals, dict) else vals))
    lo, hi = spec.get("min"), spec.get("max")
    v = lo if lo is not None else hi if hi is not None and hi < 0 else 0
    return int(v) if spec["type"] == "integer" and float(v).is_integer() else v


def _numbers(col: Any, spec: Mapping[str, Any], np: Any, pa: Any, pc: Any) -> _V:
    """A column of an integer or number fact, checked vectorised: the cells not certainly valid are bad."""
    n = len(col)
    t = col.type
    if spec["type"] not in ("number", "integer") or not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return _V(np.zeros(n), np.zeros(n, dtype=np.int8), np.ones(n, dtype=bool))
    isint = pa.types.is_integer(t)
    f = pc.fill_null(col, 0).to_numpy(zero_copy_only=False).astype(np.float64)
    bad = ~col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else np.zeros(n, dtype=bool)
    if isint:
        bad |= np.abs(f) >= _EXACT
    else:
        bad |= ~np.isfinite(f)
        if spec["type"] == "integer":
            bad |= True
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None:
        bad |= f < lo
    if hi is not None:
        bad |= f > hi
    vals = spec.get("values")
    if vals is not None:
        allowed = [v for v in (vals.keys() if isinstance(vals, dict) else vals) if _py_type(v) in (INT, FLOAT)]
        bad |= ~np.isin(f, np.array(allowed, dtype=np.float64))
    return _V(f, np.full(n, INT if isint else FLOAT, dtype=np.int8), bad)


def _generated(rs: Ruleset, pattern: str) -> Callable[..., Any] | None:
    m = re.search(pattern, rs._source_code, re.M)
    fn = rs._fn.__globals__.get(m.group(1)) if m else None
    return fn if callable(fn) else None


def _items(rs: Ruleset, name: str, spec: Mapping[str, Any], col: Any, n: int, lowering_names: set[str],
           np: Any, pa: Any, pc: Any) -> tuple[_Items, Any]:
    """Flatten list input ``name`` and derive each item's values once per distinct item key."""
    col = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    t = col.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)) or not pa.types.is_struct(t.value_type):
        raise _No
    fields: Mapping[str, Any] = spec["fields"]
    if any(f.name not in fields and not f.name.startswith("_") for f in t.value_type):
        raise _No  # every item is an unknown-fact error
    row_bad = ~col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else np.zeros(n, dtype=bool)
    lens = pc.fill_null(pc.list_value_length(col), 0).to_numpy().astype(np.int64)
    if "min_items" in spec:
        row_bad |= lens < spec["min_items"]
    if "max_items" in spec:
        row_bad |= lens > spec["max_items"]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    flat = pc.list_flatten(col)
    rows = pc.list_parent_indices(col).to_numpy().astype(np.int64)
    if flat.null_count:
        null_items = ~flat.is_valid().to_numpy(zero_copy_only=False)
    else:
        null_items = np.zeros(len(flat), dtype=bool)
    flat_bad = null_items
    if isinstance(flat, pa.ChunkedArray):
        flat = flat.combine_chunks()
    children = dict(zip([f.name for f in flat.type], flat.flatten(), strict=True))  # a null item's fields null
    item_derive = spec.get("derive") or {}
    read = set().union(*(_names(_parse(x)) for x in item_derive.values())) if item_derive else set()
    vec: dict[str, _V] = {}
    key_fields = []
    for fname, fspec in fields.items():
        child = children.get(fname)
        if child is None:
            continue  # absent from every item: the checker applies its default or refuses it, per key
        if fspec.get("type") in ("number", "integer") and fname not in read:
            v = _numbers(child, fspec, np, pa, pc)
            vec[fname] = v
            flat_bad = flat_bad | v.bad
        else:
            key_fields.append(child)
    m = len(flat)
    key = np.zeros(m, dtype=np.int64)
    card = 1
    for child in key_fields:
        cc, k = _key_codes(child, np, pa, pc)
        if card * k >= 2**62:
            key, card = codes(key, np, pa, pc)
        key, card = key * k + cc, card * k
    if flat.null_count:  # a null item is a key of its own (the checker refuses it)
        key, card = key * 2 + null_items, card * 2
    kcodes, nk = codes(key, np, pa, pc) if m else (key, 0)
    first = np.empty(nk, dtype=np.int64)
    first[kcodes[::-1]] = np.arange(m - 1, -1, -1, dtype=np.int64)
    reps = flat.take(pa.array(first, pa.int64())).to_pylist()
    check = _generated(rs, rf"^\s+v_{name} = (k_\d+)\(v_{name}\)$")
    derive = _generated(rs, rf"^\s+if v_{name} is not None: v_{name} = (k_\d+)\(v_{name}\)$")
    if check is None or (item_derive and derive is None) or "min_items" in spec or "max_items" in spec:
        raise _No
    stand_ins = {f: _stand_in(fields[f]) for f in vec}
    attrs = sorted(lowering_names - set(vec))
    vals: dict[str, list[Any]] = {a: [] for a in attrs}
    key_bad = np.zeros(nk, dtype=bool)
    for i, rep in enumerate(reps):
        try:
            rep.update(stand_ins)  # each item's own number is checked vectorised (flat_bad)
            rec = check([rep])
            if derive is not None:
                rec = derive(rec)
            got = rec[0]
        except Exception:
            key_bad[i] = True
            got = {}
        for a in attrs:
            # a name the record lacks is a KeyError in the generated code: not a value we can carry
            vals[a].append(got.get(a, ...))
    by_key: dict[str, _V] = {}
    for a in attrs:
        types = [_py_type(v) for v in vals[a]]
        tk = np.array([-1 if x is None else x for x in types], dtype=np.int8)
        fk = np.array([float(v) if x not in (None, NONE) else 0.0 for v, x in zip(vals[a], types, strict=True)])
        by_key[a] = _V(fk[kcodes], tk[kcodes], (tk < 0)[kcodes])
    item_bad = flat_bad | key_bad[kcodes]
    row_bad |= np.bincount(rows[item_bad], minlength=n) > 0
    return _Items(np, rows, offsets, item_bad, by_key, vec), row_bad


def _item_attrs(rs: Ruleset, list_name: str) -> set[str]:
    """The item fields and derived values read as ``s.x`` anywhere in the ruleset's expressions."""
    out: set[str] = set()
    texts = [s.get("expr") if isinstance(s, Mapping) else s for s in (rs.doc.get("derive") or {}).values()]
    texts += [r.get("when") for r in rs.rules]
    for text in texts:
        for node in ast.walk(_parse(text)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                out.add(node.attr)
    return out


def _arrow_of(v: _V, sel: Any, np: Any, pa: Any) -> Any | None:
    """The cells ``sel`` of ``v`` as the Arrow array ``pa.array`` infers for their Python values, or None
    when no one Arrow type holds them (a bool among numbers)."""
    f, t = v.f[sel], v.t[sel]
    counts = np.bincount(t, minlength=4)
    types = {i for i in range(4) if counts[i]}
    null = t == NONE
    mask = null if null.any() else None
    if types <= {NONE}:
        return pa.nulls(len(t))
    if types <= {NONE, BOOL}:
        return pa.array(f != 0, mask=mask)
    if types <= {NONE, INT}:
        return pa.array(f.astype(np.int64), mask=mask)
    if types <= {NONE, INT, FLOAT}:
        return pa.array(f, mask=mask)
    return None


def _python_of(v: _V, sel: Any) -> list[Any]:
    conv = (lambda x: None, bool, int, float)
    return [conv[t](x) for x, t in zip(v.f[sel].tolist(), v.t[sel].tolist(), strict=True)]


class _Column:
    """One result column of the lowered rows: its Arrow array (None: build it from Python values) and
    the Python values, made only when the column must be merged cell by cell."""

    def __init__(self, arrow: Any | None, python: Callable[[], list[Any]]) -> None:
        self.arrow, self.python = arrow, python


def _value_column(v: _V | _L, good: Any, gi: Any, items: _Items, np: Any, pa: Any) -> _Column:
    if isinstance(v, _V):
        return _Column(_arrow_of(v, gi, np, pa), lambda: _python_of(v, gi))
    keep = good[items.rows]
    lens = items.lens[gi]
    offs = np.zeros(len(gi) + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    inner = _arrow_of(v.items, keep, np, pa)

    def python() -> list[Any]:
        flat = _python_of(v.items, keep)
        return [flat[offs[i]:offs[i + 1]] for i in range(len(gi))]

    if inner is None or offs[-1] >= 2**31:
        return _Column(None, python)
    return _Column(pa.ListArray.from_arrays(pa.array(offs, pa.int32()), inner), python)


def _merge(low: _Column, fb: list[Any], gi: Any, bi: Any, n: int, np: Any, pa: Any,
           build: Callable[[list[Any]], Any] | None = None) -> Any:
    """The column of all rows: the lowered rows ``gi`` and the rows ``bi`` graded by the generated code
    (``fb``), exactly as one Arrow column built of all their Python values in row order (by ``build``,
    default :func:`column`)."""
    if build is None:
        def build(vals: list[Any]) -> Any:
            return column(vals, pa)

    if not len(bi) and low.arrow is not None:
        return low.arrow
    fb_arr = build(fb)
    if low.arrow is not None and low.arrow.type == fb_arr.type:
        inv = np.empty(n, dtype=np.int64)
        inv[np.concatenate([gi, bi])] = np.arange(n, dtype=np.int64)
        return pa.concat_arrays([low.arrow, fb_arr]).take(pa.array(inv, pa.int64()))
    vals: list[Any] = [None] * n
    for i, x in zip(gi.tolist(), low.python(), strict=True):
        vals[i] = x
    for i, x in zip(bi.tolist(), fb, strict=True):
        vals[i] = x
    return build(vals)


def _rules(rs: Ruleset) -> tuple[list[tuple[str, int, ast.expr]], int]:
    """(id, level, parsed ``when``) of every rule, and the ``otherwise`` level; rules of the direct method only."""
    out = []
    for r in rs.rules:
        if r.get("method") != "direct" or not set(r) <= _RULE_KEYS or "when" not in r or "level" not in r:
            raise _No
        out.append((r["id"], int(Level.parse(r["level"])), _parse(r["when"])))
    other = rs.doc.get("otherwise")
    if not isinstance(other, Mapping) or "level" not in other:
        raise _No
    return out, int(Level.parse(other["level"]))


def grade_lists(rs: Ruleset, tbl: Any) -> Any | None:
    """The results table of ``tbl`` (one row per row, as ``grade_table`` gives it), with the ruleset
    lowered to numpy over its list input's items; None when the ruleset or table is not of that shape."""
    np, pa, pc = modules()
    list_inputs = [k for k, s in rs.inputs.items() if s.get("type") == "list" and s.get("fields")]
    if len(list_inputs) != 1 or list_inputs[0] not in tbl.column_names or tbl.num_rows == 0:
        return None
    try:
        with np.errstate(all="ignore"):  # a non-finite or invalid cell is marked and graded by the generated code
            return _grade(rs, tbl, list_inputs[0], np, pa, pc)
    except _No:
        return None


def _grade(rs: Ruleset, tbl: Any, list_name: str, np: Any, pa: Any, pc: Any) -> Any | None:
    n = tbl.num_rows
    rules, otherwise = _rules(rs)
    score_name = rs.doc.get("score")
    if score_name is not None and score_name not in rs._value_names:
        raise _No
    bad = np.zeros(n, dtype=bool)
    for name in tbl.column_names:  # a fact that is no input is an unknown-fact error where it is given
        if name not in rs.inputs and name not in META_KEYS and not name.startswith("_"):
            col = tbl.column(name)
            bad |= col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else np.ones(n, dtype=bool)
    scalars: dict[str, _V] = {}
    for name, spec in rs.inputs.items():
        if name == list_name:
            continue
        if spec.get("type") not in ("number", "integer") or name not in tbl.column_names:
            raise _No
        v = _numbers(tbl.column(name).combine_chunks(), spec, np, pa, pc)
        scalars[name] = v
        bad |= v.bad
    items, list_bad = _items(rs, list_name, rs.inputs[list_name], tbl.column(list_name), n,
                             _item_attrs(rs, list_name), np, pa, pc)
    bad |= list_bad
    low = _Lowering(rs, n, scalars, list_name, items, np)
    values: list[_V | _L] = [low.value(name) for name in rs._value_names]
    for val in values:
        bad |= val.bad
    level = np.zeros(n, dtype=np.int64)
    hits = []
    for _, lv, when in rules:
        w = low.ev1(when, None)
        bad |= w.bad
        hit = low.truth(w)
        hits.append(hit)
        level = np.maximum(level, np.where(hit, lv, 0))
    level = np.where(level == 0, otherwise, level)
    gi, bi = np.flatnonzero(~bad), np.flatnonzero(bad)
    if not len(gi):
        return None
    good = ~bad
    fb = result_values(rs, ({k: v for k, v in row.items() if v is not None}
                            for row in tbl.take(pa.array(bi, pa.int64())).to_pylist())) if len(bi) else None
    fbr = fb if fb is not None else Results(len(values))
    names = ["level", "score"]
    lv_arr = level_values_array(level[gi], np, pa)
    cols = [_merge(_Column(lv_arr, lambda: lv_arr.to_pylist()), fbr.levels, gi, bi, n, np, pa,
                   lambda v: level_array(v, pa))]
    score = (_value_column(values[rs._value_names.index(score_name)], good, gi, items, np, pa)
             if score_name is not None else _Column(pa.nulls(len(gi)), lambda: [None] * len(gi)))
    cols.append(_merge(score, fbr.scores, gi, bi, n, np, pa))
    for name, val, fbv in zip(rs._value_names, values, fbr.vals, strict=True):
        names.append(f"value_{name}" if name in RESULT_COLUMNS else name)
        cols.append(_merge(_value_column(val, good, gi, items, np, pa), fbv, gi, bi, n, np, pa))
    fired = np.stack(hits, axis=1)[gi] if hits else np.zeros((len(gi), 0), dtype=bool)
    counts = fired.sum(axis=1)
    offs = np.zeros(len(gi) + 1, dtype=np.int32)
    np.cumsum(counts, out=offs[1:])
    ids, itype, _ = fired_dictionary(rs, pa)  # the rules in ruleset order: rule j is the dictionary's j-th id
    which = np.tile(np.arange(len(rules), dtype=np.int64), len(gi))[fired.ravel()]
    fired_arr = pa.ListArray.from_arrays(pa.array(offs, pa.int32()),
                                         pa.DictionaryArray.from_arrays(pa.array(which, itype), ids))
    cols.append(_merge(_Column(fired_arr, lambda: fired_arr.to_pylist()), fbr.fired, gi, bi, n, np, pa,
                       lambda v: fired_array(rs, v, pa)))
    names += ["fired", "error_code", "error_field"]
    if fb is None or all(c is None for c in fb.codes):
        cols += [pa.nulls(n, pa.string())] * 2
    else:
        nulls = _Column(pa.nulls(len(gi), pa.string()), lambda: [None] * len(gi))
        def text(v: list[Any]) -> Any:
            return pa.array(v, pa.string())

        cols += [_merge(nulls, fb.codes, gi, bi, n, np, pa, text), _merge(nulls, fb.fields, gi, bi, n, np, pa, text)]
    return pa.table(cols, names=names)
