"""Grade a table: group its rows by their facts, grade each distinct set of facts once, spread back.

Grading is a pure function of (ruleset, facts), so two rows with the same cells get the same
result. The rows are keyed column by column with numpy (a float is keyed by its bits, so ``-0.0``
and ``0.0``, ``1`` and ``1.0`` never share a result; a null is its own key), every distinct row is
graded by the ruleset's own generated function — the same checks, the same errors, the same
numbers as :meth:`Ruleset.grade_many` — and the results are gathered back to one row per input row
with Arrow ``take``. A scale of discrete values (LEC, LS, MES, a matrix, yes/no criteria) has few
distinct rows, so most of a large table costs a few vectorised passes; a column of continuous
measurements costs one grade per distinct row, about what ``grade_many`` costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from riskgrade._columnar.cells import RESULT_COLUMNS, codes, hashed_codes, modules, result_columns, take_lists
from riskgrade._columnar.lists import grade_lists
from riskgrade.exceptions import FactError

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = ["RESULT_COLUMNS", "domain", "grade_table", "records", "result_columns"]


#: combined row keys are folded back to 0..n-1 before they could pass this
_KEY_LIMIT = 2**62
#: a combined key of at most this range is densified by counting rather than hashing
_DENSE_LIMIT = 1 << 20


def _kind(table: Any) -> str:
    mod = type(table).__module__.split(".")[0]
    name = type(table).__name__
    if mod == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    if mod == "pandas" and name == "DataFrame":
        return "pandas"
    if mod == "polars" and name == "DataFrame":
        return "polars"
    raise FactError(f"cannot grade a {type(table).__name__} as a table (a pyarrow Table or RecordBatch, a pandas "
                    "or polars DataFrame)", code="not-a-table")


def _to_arrow(kind: str, table: Any, pa: Any) -> Any:
    if kind == "pandas":
        return pa.Table.from_pandas(table, preserve_index=False)
    if kind == "polars":
        return table.to_arrow()
    return pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table


def records(table: Any) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` as the records :func:`grade_table` grades: a null cell is no fact."""
    pa = modules()[1]
    tbl = _to_arrow(_kind(table), table, pa)
    for row in tbl.to_pylist():
        yield {k: v for k, v in row.items() if v is not None}


def domain(rs: Ruleset, name: str) -> tuple[Any, ...] | None:
    """The finite set of values input ``name`` takes (its scale, enumeration or table keys; a yes/no), or
    None for an open input (a measurement, free text, a list)."""
    spec = rs.inputs.get(name)
    if spec is None:
        return None
    if spec["type"] == "bool":
        return (False, True)
    vals = spec.get("values")
    if vals is not None:
        return tuple(vals.keys() if isinstance(vals, dict) else vals)
    table = rs.tables.get(spec.get("table") or "")
    return tuple(table.index) if table is not None else None


def _value_set(values: tuple[Any, ...], t: Any, pa: Any) -> Any:
    """``values`` as an Arrow array of type ``t``, keeping only those a cell of that type reads back
    as exactly (an integer column meets the integral numbers, a float column every number)."""
    vals: list[Any]
    if pa.types.is_integer(t):
        vals = [int(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                and float(v).is_integer()]
    elif pa.types.is_floating(t):
        vals = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    elif pa.types.is_boolean(t):
        vals = [v for v in values if isinstance(v, bool)]
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        vals = [v for v in values if isinstance(v, str)]
    else:
        return None
    try:
        arr = pa.array(list(dict.fromkeys(vals)), t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
        return None
    return arr if len(arr) else None


def _column_codes(col: Any, vset: Any, np: Any, pa: Any, pc: Any) -> tuple[Any, int]:
    """Codes 0..k-1 for the cells of one column: equal codes only for cells that read back as the same
    fact (the same type and value; a float by its bits, so ``0.0`` and ``-0.0`` differ).

    For an input of a finite set of values (``vset``, from :func:`_value_set`) the cells are looked up in
    it (Arrow ``index_in``, which compares floats by their bits): code i is the set's i-th value, the next
    code a null, and only the cells off the set (an error, or a value the set does not hold) are hashed,
    after those. ``vset`` None: every cell hashed.
    """
    if vset is None:
        return hashed_codes(col, np, pa, pc)
    m = len(vset)
    idx = pc.index_in(col, value_set=vset)
    if not idx.null_count:  # every cell on the set: the indices are the codes (int32; the key is int64)
        return idx.to_numpy(), m + 1
    codes = pc.fill_null(idx, m).to_numpy().astype(np.int64)
    if idx.null_count == col.null_count:  # every cell on the set or null
        return codes, m + 1
    off = np.asarray(pc.and_(pc.is_null(idx), pc.is_valid(col)).to_numpy(zero_copy_only=False))
    rest, k = hashed_codes(col.filter(pa.array(off)), np, pa, pc)
    codes[off] = m + 1 + rest
    return codes, m + 1 + k


def _value_sets(rs: Ruleset, name: str, t: Any, pa: Any) -> Any:
    """:func:`_value_set` of input ``name``'s domain for a column of type ``t``, made once per ruleset."""
    cache: dict[tuple[str, str], Any] = rs.__dict__.setdefault("_columnar_value_sets", {})
    key = (name, str(t))
    try:
        return cache[key]
    except KeyError:
        values = domain(rs, name)
        vset = cache[key] = None if values is None else _value_set(values, t, pa)
        return vset


def _row_groups(rs: Ruleset, tbl: Any, np: Any, pa: Any, pc: Any) -> tuple[Any, Any]:
    """(the first row of each distinct row, the distinct row of each row)."""
    n = tbl.num_rows
    key = np.zeros(n, dtype=np.int64)
    card = 1
    for i, name in enumerate(tbl.column_names):
        col = tbl.column(i)
        cc, k = _column_codes(col, _value_sets(rs, name, col.type, pa), np, pa, pc)
        k = max(k, 1)
        if card * k >= _KEY_LIMIT:
            key, card = codes(key, np, pa, pc)
        key = key * k + cc
        card *= k
    if card <= max(_DENSE_LIMIT, 4 * n):  # a mixed-radix key of small range: densify by counting, no hashing
        present = np.flatnonzero(np.bincount(key, minlength=card))
        dense = np.empty(card, dtype=np.int64)
        dense[present] = np.arange(len(present), dtype=np.int64)
        inv, k = dense[key], len(present)
    else:
        inv, k = codes(key, np, pa, pc)
    first = np.empty(k, dtype=np.int64)
    first[inv[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)  # the last write wins: the first row
    return first, inv


def _grade_arrow(rs: Ruleset, tbl: Any) -> Any:
    np, pa, pc = modules()
    lowered = grade_lists(rs, tbl)
    if lowered is not None:
        return lowered
    first, inv = _row_groups(rs, tbl, np, pa, pc)
    reps = ({k: v for k, v in row.items() if v is not None} for row in tbl.take(pa.array(first, pa.int64())).to_pylist())
    names, cols, errors = result_columns(rs, reps)
    where = pa.array(inv, pa.int64())
    # level is dictionary-encoded (its take gathers int8 codes); fired's lists are gathered by their offsets
    out = [take_lists(c, inv, np, pa) if name == "fired" else c.take(where)
           for name, c in zip(names[:-2], cols[:-2], strict=True)]
    if errors:
        return pa.table(out + [c.take(where) for c in cols[-2:]], names=names)
    # no row in error: the two error columns are nulls, nothing to gather
    return pa.table(out + [pa.nulls(len(inv), pa.string())] * 2, names=names)


def grade_table(rs: Ruleset, table: Any) -> Any:
    """Grade every row of ``table`` with ``rs``; a table of the same kind, one row per input row.

    >>> import pyarrow as pa, riskgrade
    >>> rs = riskgrade.load("lec-generic")
    >>> out = rs.grade_table(pa.table({"L": [3, 3, 6], "E": [6, 6, 6], "C": [15, 15, 99]}))
    >>> out.column_names
    ['level', 'score', 'D', 'fired', 'error_code', 'error_field']
    >>> out.column("level").to_pylist(), out.column("error_code").to_pylist()
    (['ORANGE', 'ORANGE', None], [None, None, 'not-allowed'])
    """
    pa = modules()[1]
    kind = _kind(table)
    out = _grade_arrow(rs, _to_arrow(kind, table, pa))
    if kind == "pandas":
        df = out.to_pandas()
        df.index = table.index
        return df
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(out)
    return out
