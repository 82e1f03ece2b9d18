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

import contextlib
import itertools
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
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


def _graded(rs: Ruleset, recs: Sequence[Any], id_field: str | None, start: int = 0) -> Any:
    """The result table of ``recs`` (facts records; ``start`` the index of the first in the file), with an
    ``id`` column first when any record names itself."""
    _, pa, _ = modules()
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
    res = None
    if len(rows) == len(facts):
        as_table = _exact_table(rows, pa)
        if as_table is not None:
            res = rs.grade_table(as_table)
    if res is None:
        items = [f.at(record=start + i) if isinstance(f, FactError) else f for i, f in enumerate(facts)]
        names, cols, _ = result_columns(rs, items)
        res = pa.table(cols, names=names)
    return res if ids is None else res.add_column(0, "id", ids)


def _table_graded(rs: Ruleset, tbl: Any, id_field: str | None) -> Any:
    """The result table of a facts table, with its id column first when it has one."""
    ids = None
    if id_field and id_field in tbl.column_names and id_field not in rs.inputs:
        ids = tbl.column(id_field)
        if id_field not in ("id", "name"):  # a named id column is no fact
            tbl = tbl.drop([id_field])
    res = rs.grade_table(tbl)
    return res if ids is None else res.add_column(0, "id", ids)


def _parts(rs: Ruleset, facts_path: str, id_field: str | None, tmp: str, batch: int) -> list[str]:
    """Grade the records of ``facts_path`` ``batch`` at a time, each batch's results written to an Arrow
    IPC file in ``tmp``: at most one batch of facts and results is in memory. The files, in order (at
    least one, maybe of no rows)."""
    _, pa, _ = modules()
    paths: list[str] = []
    recs: list[Any] = []
    start = 0

    def spill() -> None:
        res = _graded(rs, recs, id_field, start)
        path = os.path.join(tmp, f"{len(paths)}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, res.schema) as writer:
            writer.write_table(res)
        paths.append(path)

    for rec in read_facts(facts_path):
        recs.append(rec)
        if len(recs) >= batch:
            spill()
            start += len(recs)
            recs = []
    if recs or not paths:
        spill()
    return paths


def _read_part(path: str) -> Any:
    _, pa, _ = modules()
    with pa.memory_map(path) as src:
        return pa.ipc.open_file(src).read_all()


def _part_schema(path: str) -> Any:
    _, pa, _ = modules()
    with pa.memory_map(path) as src:
        return pa.ipc.open_file(src).schema


def _csv_ready(tbl: Any, pa: Any) -> Any:
    """``tbl`` with every list or struct column as canonical JSON text (CSV has scalars only)."""
    for i, field in enumerate(tbl.schema):
        t = field.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
            text = pa.array([None if v is None else dumps(v) for v in tbl.column(i).to_pylist()], pa.string())
            tbl = tbl.set_column(i, field.name, text)
    return tbl


#: records of a JSON Lines/JSON/YAML facts file graded and written at a time (memory holds one batch)
BATCH = 65_536


def grade_file(rs: Ruleset, facts_path: str, fmt: str, out: str | None, *, id_field: str | None = "id",
               batch: int = BATCH) -> Written:
    """Grade every record of ``facts_path`` and write the results table in ``fmt`` (:data:`FORMATS`) to
    ``out`` (CSV may go to standard output: ``out`` None or ``-``). The table has an ``id`` column first
    when the facts name their records (``id_field``), then the columns of ``grade_table``.

    A table file (parquet, Arrow, CSV) is graded as one table. Records (JSON Lines, JSON, YAML) are graded
    ``batch`` at a time and written batch by batch, so memory stays bounded however long the file; when the
    batches' result tables do not share one schema (a fact that is an integer in one batch and a float in
    another, ids in some batches only), the file is graded once more as one table, so that the output is
    always the one table the whole file gives."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}; one of {', '.join(FORMATS)}")
    modules()  # pyarrow missing: the extra's clear error before any work
    tbl = read_table(facts_path)
    if tbl is not None:
        return _write(fmt, out, [_table_graded(rs, tbl, id_field)])
    with tempfile.TemporaryDirectory(prefix="riskgrade-") as tmp:
        paths = _parts(rs, facts_path, id_field, tmp, batch)
        schemas = [_part_schema(p) for p in paths]
        if all(sc.equals(schemas[0]) for sc in schemas):
            return _write(fmt, out, (_read_part(p) for p in paths), schemas[0])
    return _write(fmt, out, [_graded(rs, list(read_facts(facts_path)), id_field)])


def _write(fmt: str, out: str | None, tables: Iterable[Any], schema: Any = None) -> Written:
    """Write ``tables`` (result tables of one schema, in order) as one file of ``fmt``."""
    _, pa, _ = modules()
    rows = errors = 0
    it = iter(tables)
    first = next(it)
    schema = first.schema if schema is None else schema
    if fmt == "csv":
        schema = _csv_ready(first, pa).schema
    with contextlib.ExitStack() as stack:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            writer: Any = stack.enter_context(pq.ParquetWriter(out, schema))
        elif fmt == "arrow":
            sink = stack.enter_context(pa.OSFile(out, "wb"))
            writer = stack.enter_context(pa.ipc.new_file(sink, schema))
        else:
            import pyarrow.csv as pcsv

            to_stdout = out is None or out == "-"
            target = sys.stdout.buffer if to_stdout else stack.enter_context(pa.OSFile(out, "wb"))
            writer = stack.enter_context(pcsv.CSVWriter(target, schema))
        for res in itertools.chain([first], it):
            rows += res.num_rows
            errors += res.num_rows - res.column("error_code").null_count
            writer.write_table(_csv_ready(res, pa) if fmt == "csv" else res)
    if fmt == "csv" and (out is None or out == "-"):
        sys.stdout.buffer.flush()
    return Written(rows, errors)
