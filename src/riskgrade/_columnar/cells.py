"""What every columnar path shares: the lazy imports, cell codes by hashing, and result columns built
from Python values exactly as :meth:`Ruleset.grade_many` gives them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade.exceptions import FactError

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = [
    "RESULT_COLUMNS",
    "Results",
    "codes",
    "column",
    "fired_array",
    "fired_dictionary",
    "hashed_codes",
    "level_array",
    "level_dictionary",
    "level_values_array",
    "modules",
    "result_columns",
    "result_values",
    "take_lists",
]

#: the result columns besides the derived values (a derived value of one of these names is
#: shown as ``value_<name>``)
RESULT_COLUMNS = ("level", "score", "fired", "error_code", "error_field")


#: the ``level`` column's dictionary: every level name, in level order (a row's index is its level's position)
LEVEL_NAMES = tuple(lv.name for lv in Level)
_LEVEL_INDEX = {name: i for i, name in enumerate(LEVEL_NAMES)}
#: the level dictionary, made once (Arrow arrays are immutable)
_DICTIONARIES: dict[str, Any] = {}


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


def level_dictionary(pa: Any) -> Any:
    """The dictionary of every ``level`` column: all level names, the same for every ruleset and table (so
    batches of results share one schema and one dictionary, as an Arrow IPC file needs)."""
    got = _DICTIONARIES.get("level")
    if got is None:
        got = _DICTIONARIES["level"] = pa.array(LEVEL_NAMES, pa.string())
    return got


def level_array(names: list[str | None], pa: Any) -> Any:
    """A ``level`` column (``dictionary<int8, string>`` over :func:`level_dictionary`) of level names."""
    index = _LEVEL_INDEX
    return pa.DictionaryArray.from_arrays(pa.array([None if n is None else index[n] for n in names], pa.int8()),
                                          level_dictionary(pa))


def level_values_array(values: Any, np: Any, pa: Any) -> Any:
    """A ``level`` column of a numpy array of level values (``int(Level)``; 0: no level, a null)."""
    lookup = np.full(max(lv.value for lv in Level) + 1, -1, dtype=np.int8)
    for i, name in enumerate(LEVEL_NAMES):
        lookup[Level[name].value] = i
    index = lookup[values]
    return pa.DictionaryArray.from_arrays(pa.array(index, mask=index < 0), level_dictionary(pa))


def fired_dictionary(rs: Ruleset, pa: Any) -> tuple[Any, Any, dict[str, int]]:
    """(the dictionary of ``rs``'s ``fired`` columns: every rule id in ruleset order; its index type; each
    id's index), made once per ruleset."""
    got: tuple[Any, Any, dict[str, int]] | None = rs.__dict__.get("_columnar_fired")
    if got is None:
        ids = [r["id"] for r in rs.rules]
        n = len(ids)
        itype = pa.int8() if n < 2**7 else pa.int16() if n < 2**15 else pa.int32()
        got = rs.__dict__["_columnar_fired"] = (pa.array(ids, pa.string()), itype,
                                                {rid: i for i, rid in enumerate(ids)})
    return got


def fired_array(rs: Ruleset, lists: list[list[str] | None], pa: Any) -> Any:
    """A ``fired`` column (``list<dictionary<intN, string>>`` over :func:`fired_dictionary`) of lists of rule ids."""
    ids, itype, index = fired_dictionary(rs, pa)
    offsets = [0]
    flat: list[int] = []
    for rids in lists:
        if rids:
            flat += [index[r] for r in rids]
        offsets.append(len(flat))
    mask = pa.array([x is None for x in lists], pa.bool_()) if None in lists else None
    values = pa.DictionaryArray.from_arrays(pa.array(flat, itype), ids)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=mask)


def take_lists(col: Any, where: Any, np: Any, pa: Any) -> Any:
    """``col.take(where)`` for a list array ``col`` and a numpy array of row indices ``where`` (no nulls),
    with numpy building the offsets and one ``take`` on the items (Arrow's list ``take`` costs several
    times that)."""
    offs = np.asarray(col.offsets.to_numpy(), dtype=np.int64)
    lens = np.diff(offs)[where]
    out = np.zeros(len(where) + 1, dtype=np.int64)
    np.cumsum(lens, out=out[1:])
    if out[-1] >= 2**31:  # beyond 32-bit offsets: Arrow's own take says so
        return col.take(pa.array(where, pa.int64()))
    starts = offs[:-1][where]
    if len(lens) and lens.min() == lens.max() == 1:  # one item per row (LEC: one rule fired): no repeat
        items = starts
    else:
        items = np.repeat(starts - out[:-1], lens) + np.arange(out[-1], dtype=np.int64)
    mask = None
    if col.null_count:
        mask = pa.array(~np.asarray(col.is_valid().to_numpy(zero_copy_only=False))[where])
    values = col.values.take(pa.array(items, pa.int64()))
    return pa.ListArray.from_arrays(pa.array(out, pa.int32()), values, mask=mask)


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
        cols = [level_array(self.levels, pa), column(self.scores, pa)]
        for name, col in zip(rs._value_names, self.vals, strict=True):
            names.append(f"value_{name}" if name in RESULT_COLUMNS else name)
            cols.append(column(col, pa))
        names += ["fired", "error_code", "error_field"]
        cols += [fired_array(rs, self.fired, pa), pa.array(self.codes, pa.string()),
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
