"""What every columnar path shares: the lazy imports, cell codes by hashing, and result columns built
from Python values exactly as :meth:`Ruleset.grade_many` gives them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from riskgrade._core.canonical import dumps
from riskgrade.exceptions import FactError

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = [
    "RESULT_COLUMNS",
    "Results",
    "codes",
    "column",
    "hashed_codes",
    "modules",
    "result_columns",
    "result_values",
]

#: the result columns besides the derived values (a derived value of one of these names is
#: shown as ``value_<name>``)
RESULT_COLUMNS = ("level", "score", "fired", "error_code", "error_field")


def modules() -> tuple[Any, Any, Any]:
    try:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError as e:  # pragma: no cover - the extra is installed in the test environments
        raise ImportError("grading a table needs pyarrow and numpy: pip install 'riskgrade[columnar]'") from e
    return np, pa, pc


def codes(vals: Any, np: Any, pa: Any, pc: Any) -> tuple[Any, int]:
    """Codes 0..k-1 of an int64 numpy array, by hashing (Arrow's dictionary encoding), and k."""
    enc = pc.dictionary_encode(pa.array(vals, pa.int64()))
    return enc.indices.to_numpy().astype(np.int64, copy=False), len(enc.dictionary)


def hashed_codes(col: Any, np: Any, pa: Any, pc: Any) -> tuple[Any, int]:
    """Codes 0..k-1 for the cells of one column by hashing (equal codes: cells that read back as equal facts)."""
    n = len(col)
    t = col.type
    valid = col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else None
    if pa.types.is_floating(t):
        vals = pc.fill_null(col, 0.0).to_numpy().astype(np.float64).view(np.int64)
    elif pa.types.is_integer(t) or pa.types.is_boolean(t):
        filled = pc.fill_null(col, False if pa.types.is_boolean(t) else 0)
        vals = filled.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    elif (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_temporal(t)
          or pa.types.is_binary(t) or pa.types.is_dictionary(t) or pa.types.is_decimal(t)):
        enc = pc.dictionary_encode(col.cast(pa.string()) if pa.types.is_dictionary(t) else col)
        vals = pc.fill_null(enc.combine_chunks().indices, -1).to_numpy().astype(np.int64)
    else:  # lists, structs: every row its own
        return np.arange(n, dtype=np.int64), n
    cc, k = codes(vals, np, pa, pc)
    if valid is None:
        return cc, k
    # a null is a code of its own after the values' (no sentinel value: every int64 is some float's bits,
    # INT64_MIN those of -0.0)
    return np.where(valid, cc, np.int64(k)), k + 1


def column(values: list[Any], pa: Any) -> Any:
    """An Arrow column of Python values; values of no one Arrow type become their canonical JSON."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError):
        return pa.array([None if v is None else dumps(v) for v in values], pa.string())


class Results:
    """The results of grading some rows, as Python values per column (what the Arrow columns are built of)."""

    __slots__ = ("codes", "fields", "fired", "levels", "scores", "vals")

    def __init__(self, nvalues: int) -> None:
        self.levels: list[str | None] = []
        self.scores: list[Any] = []
        self.vals: list[list[Any]] = [[] for _ in range(nvalues)]
        self.fired: list[list[str] | None] = []
        self.codes: list[str | None] = []
        self.fields: list[str | None] = []

    def columns(self, rs: Ruleset) -> tuple[list[str], list[Any]]:
        """(names, Arrow arrays) of the result columns."""
        pa = modules()[1]
        names = ["level", "score"]
        cols = [pa.array(self.levels, pa.string()), column(self.scores, pa)]
        for name, col in zip(rs._value_names, self.vals, strict=True):
            names.append(f"value_{name}" if name in RESULT_COLUMNS else name)
            cols.append(column(col, pa))
        names += ["fired", "error_code", "error_field"]
        cols += [pa.array(self.fired, pa.list_(pa.string())), pa.array(self.codes, pa.string()),
                 pa.array(self.fields, pa.string())]
        return names, cols


def result_values(rs: Ruleset, items: Iterable[Mapping[str, Any] | FactError]) -> Results:
    """The results of grading each item (a mapping of facts, or a :class:`FactError` already found for
    that row: a line that could not be read) with the ruleset's own generated function."""
    grade = rs._fn
    rule_ids = [r["id"] for r in rs.rules]
    vs, lvs = rs._slices[0], rs._slices[2]
    out = Results(len(rs._value_names))
    levels, scores, vals, fired, codes, fields = out.levels, out.scores, out.vals, out.fired, out.codes, out.fields
    for facts in items:
        try:
            if isinstance(facts, FactError):
                raise facts
            a = grade(facts)
        except FactError as e:
            levels.append(None)
            scores.append(None)
            for col in vals:
                col.append(None)
            fired.append(None)
            codes.append(e.code)
            fields.append(e.field)
            continue
        levels.append(a.level.name)
        scores.append(a.score)
        for col, v in zip(vals, a[vs], strict=True):
            col.append(v)
        fired.append([rid for rid, lv in zip(rule_ids, a[lvs], strict=True) if lv])
        codes.append(None)
        fields.append(None)
    return out


def result_columns(rs: Ruleset, items: Iterable[Mapping[str, Any] | FactError]) -> tuple[list[str], list[Any], bool]:
    """The result columns (names, Arrow arrays, whether any row is in error) of grading each item: a
    mapping of facts, or a :class:`FactError` already found for that row (a line that could not be read)."""
    res = result_values(rs, items)
    names, cols = res.columns(rs)
    return names, cols, any(c is not None for c in res.codes)
