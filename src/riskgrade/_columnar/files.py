"""Files of facts in, a file of results out, through the columnar path (``riskgrade grade --format
parquet|arrow|csv --out FILE``).

Facts are read as a table when the file is one (``.parquet``; ``.arrow``/``.feather``/``.ipc``, the Arrow
IPC file format; ``.csv``, typed by Arrow's inference, an empty cell a null) and graded by
:func:`~riskgrade._columnar.table.grade_table`. Any other facts file (JSON Lines, JSON, YAML) is read by
:func:`riskgrade._source.facts.read_facts`, one record per line or item: records whose facts have one
Python type per fact become a table (so the same lookups apply); otherwise — a fact that is an integer
in one record and a float in another, a null, a list, a line that could not be read — every record is
graded as it is, so that the result is always exactly what ``riskgrade grade --format json`` gives. N
records in, N rows out, in order; a record in error is a row with its ``error_code`` and ``error_field``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from riskgrade._columnar.cells import modules, result_columns
from riskgrade._core.canonical import dumps
from riskgrade._source.facts import read_facts, record_id, strip_id
from riskgrade.exceptions import FactError

if TYPE_CHECKING:
    from riskgrade._grade.ruleset import Ruleset

__all__ = ["FORMATS", "Written", "grade_file", "read_table"]

#: the output formats of ``riskgrade grade`` that go through the columnar path
FORMATS = ("parquet", "arrow", "csv")
_TABLE_FILES = {".parquet": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".csv": "csv"}


@attrs.frozen
class Written:
    """What :func:`grade_file` wrote: the number of rows and of rows in error."""

    rows: int
    errors: int


def read_table(path: str) -> Any | None:
    """The facts of ``path`` as an Arrow table when it is a table file (by its suffix), else None."""
    kind = _TABLE_FILES.get(os.path.splitext(path)[1].lower())
    if kind is None:
        return None
    _, pa, _ = modules()
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if kind == "csv":
            import pyarrow.csv as pcsv

            # an empty cell is a null (no fact), text or not
            return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
        with pa.memory_map(path) as src:
            return pa.ipc.open_file(src).read_all()
    except (OSError, pa.ArrowException) as e:
        raise FactError(f"cannot read {path} as {kind}: {e}", record=path, code="unreadable") from None


def _exact_table(rows: Sequence[Mapping[str, Any]], pa: Any) -> Any | None:
    """``rows`` as an Arrow table when every fact has one Python type (bool, int, float or text) in all
    rows, so that each cell reads back as the very fact it was; else None."""
    names = list(dict.fromkeys(k for r in rows for k in r))
    kinds = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
    cols = []
    for name in names:
        cells = [r.get(name) for r in rows]
        types = {c.__class__ for c in cells if c is not None}
        if len(types) != 1 or (t := next(iter(types))) not in kinds or any(name in r and r[name] is None for r in rows):
            return None
        try:
            cols.append(pa.array(cells, kinds[t]))
        except (pa.ArrowInvalid, OverflowError):
            return None
    if not names:
        return None
    return pa.table(cols, names=names)


def _graded(rs: Ruleset, facts_path: str, id_field: str | None) -> tuple[Any, Any]:
    """(the result table, the id of each row or None)."""
    _, pa, _ = modules()
    tbl = read_table(facts_path)
    if tbl is not None:
        ids = None
        if id_field and id_field in tbl.column_names and id_field not in rs.inputs:
            ids = tbl.column(id_field)
            if id_field not in ("id", "name"):  # a named id column is no fact
                tbl = tbl.drop([id_field])
        return rs.grade_table(tbl), ids
    recs = list(read_facts(facts_path))
    rids = [None if r.error is not None else record_id(r.facts, id_field) for r in recs]
    ids = None
    if any(i is not None for i in rids):
        ints = all(i is None or isinstance(i, int) for i in rids)
        try:
            ids = pa.array(rids, pa.int64()) if ints else None
        except OverflowError:
            ids = None
        if ids is None:
            ids = pa.array([None if i is None else str(i) for i in rids], pa.string())
    facts = [r.error if r.error is not None else strip_id(rs, r.facts, id_field) for r in recs]
    rows = [f for f in facts if isinstance(f, dict)]
    if len(rows) == len(facts):
        as_table = _exact_table(rows, pa)
        if as_table is not None:
            return rs.grade_table(as_table), ids
    items = [f.at(record=i) if isinstance(f, FactError) else f for i, f in enumerate(facts)]
    names, cols, _ = result_columns(rs, items)
    return pa.table(cols, names=names), ids


def _csv_ready(tbl: Any, pa: Any) -> Any:
    """``tbl`` with every list or struct column as canonical JSON text (CSV has scalars only)."""
    for i, field in enumerate(tbl.schema):
        t = field.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
            text = pa.array([None if v is None else dumps(v) for v in tbl.column(i).to_pylist()], pa.string())
            tbl = tbl.set_column(i, field.name, text)
    return tbl


def grade_file(rs: Ruleset, facts_path: str, fmt: str, out: str | None, *, id_field: str | None = "id") -> Written:
    """Grade every record of ``facts_path`` and write the results table in ``fmt`` (:data:`FORMATS`) to
    ``out`` (CSV may go to standard output: ``out`` None or ``-``). The table has an ``id`` column first
    when the facts name their records (``id_field``), then the columns of ``grade_table``."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}; one of {', '.join(FORMATS)}")
    _, pa, _ = modules()
    res, ids = _graded(rs, facts_path, id_field)
    if ids is not None:
        res = res.add_column(0, "id", ids)
    errors = res.num_rows - res.column("error_code").null_count
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(res, out)
    elif fmt == "arrow":
        with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, res.schema) as writer:
            writer.write_table(res)
    else:
        import pyarrow.csv as pcsv

        if out is None or out == "-":
            pcsv.write_csv(_csv_ready(res, pa), sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            pcsv.write_csv(_csv_ready(res, pa), out)
    return Written(res.num_rows, errors)
