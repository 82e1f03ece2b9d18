"""Ruleset.grade_table: one result row per input row, the same results as grade_many record for
record (a null cell is an absent fact), on every shipped ruleset and for every kind of table."""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._columnar import RESULT_COLUMNS, records
from riskgrade._core.canonical import dumps
from tests._facts import case_facts, facts_for, shipped_ids

pa = pytest.importorskip("pyarrow")


def table_of(recs: list[dict[str, Any]]) -> Any:
    """An Arrow table of ``recs``; a column whose cells have no one Arrow type holds them as text."""
    names = sorted({k for r in recs for k in r})
    cols = []
    for n in names:
        cells = [r.get(n) for r in recs]
        try:
            cols.append(pa.array(cells))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
            cols.append(pa.array([None if c is None else str(c) for c in cells], pa.string()))
    return pa.table(cols, names=names) if names else pa.table({"id": pa.array([None] * len(recs), pa.string())})


def same_as_grade_many(rs: riskgrade.Ruleset, tbl: Any, out: Any) -> None:
    expected = list(rs.grade_many(records(tbl)))
    assert out.num_rows == tbl.num_rows == len(expected)
    got = out.to_pylist()
    value_cols = [c for c in out.column_names if c not in RESULT_COLUMNS]
    for row, want in zip(got, expected, strict=True):
        if isinstance(want, riskgrade.FactError):
            assert (row["error_code"], row["error_field"], row["level"], row["fired"]) == (want.code, want.field,
                                                                                           None, None)
            continue
        assert (row["error_code"], row["level"], row["fired"]) == (None, want.level.name, [f.id for f in want.fired])
        assert close(row["score"], want.score)
        assert len(value_cols) == len(want.values)
        for col, (name, v) in zip(value_cols, want.values.items(), strict=True):
            assert col in (name, f"value_{name}")
            assert close(row[col], v) or row[col] == dumps(v)


def close(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, (int, float)):
        return got == want or (math.isnan(want) and math.isnan(got))
    return bool(got == want)


@pytest.mark.parametrize("rid", shipped_ids())
def test_case_facts_as_a_table(rid: str) -> None:
    rs = riskgrade.load(rid)
    tbl = table_of(case_facts(rs) * 3)
    same_as_grade_many(rs, tbl, rs.grade_table(tbl))


@pytest.mark.parametrize("rid", shipped_ids())
def test_generated_tables(rid: str) -> None:
    rs = riskgrade.load(rid)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(facts_for(rs), min_size=0, max_size=40))
    def run(recs: list[dict[str, Any]]) -> None:
        tbl = table_of(recs)
        same_as_grade_many(rs, tbl, rs.grade_table(tbl))

    run()


LEC = riskgrade.load("lec-generic")


def test_one_row_per_row_with_errors_in_place() -> None:
    tbl = pa.table({"L": [3, None, 6, 3], "E": [6, 6, 6, 6], "C": [15, 15, 99, 15]})
    out = LEC.grade_table(tbl)
    assert out.to_pydict() == {"level": ["ORANGE", None, None, "ORANGE"], "score": [270, None, None, 270],
                               "D": [270, None, None, 270], "fired": [["lec"], None, None, ["lec"]],
                               "error_code": [None, "missing-fact", "not-allowed", None],
                               "error_field": [None, "L", "C", None]}


def test_float_cells_are_keyed_by_their_bits() -> None:
    # 1 and 1.0, 0.0 and -0.0 are different facts; grading them shares nothing
    ints, floats = pa.table({"L": [3], "E": [6], "C": [15]}), pa.table({"L": [3.0], "E": [6.0], "C": [15.0]})
    assert (LEC.grade_table(ints).column("D").type, LEC.grade_table(floats).column("D").type) == (pa.int64(),
                                                                                                  pa.float64())
    rs = riskgrade.load("hazchem-enterprise-2018")
    facts = next(f for f in case_facts(rs) if "checklist_deductions" in f)
    recs = [{**facts, "checklist_deductions": v} for v in (0.0, -0.0, 0.0, 5.5)]
    tbl = table_of(recs)
    same_as_grade_many(rs, tbl, rs.grade_table(tbl))


def test_unknown_column_and_meta_columns() -> None:
    tbl = pa.table({"L": [3, 3], "E": [6, 6], "C": [15, 15], "id": ["a", "b"], "colour": [None, "red"]})
    out = LEC.grade_table(tbl)
    assert (out.column("error_code").to_pylist(), out.column("error_field").to_pylist()) == (
        [None, "unknown-fact"], [None, "colour"])


def test_record_batch_and_empty_table() -> None:
    batch = pa.record_batch({"L": [3], "E": [6], "C": [15]})
    assert LEC.grade_table(batch).column("level").to_pylist() == ["ORANGE"]
    empty = LEC.grade_table(pa.table({"L": pa.array([], pa.int64()), "E": pa.array([], pa.int64()),
                                      "C": pa.array([], pa.int64())}))
    assert (empty.num_rows, empty.column_names) == (0, ["level", "score", "D", "fired", "error_code", "error_field"])


def test_not_a_table_is_a_fact_error() -> None:
    with pytest.raises(riskgrade.FactError) as e:
        LEC.grade_table([{"L": 3, "E": 6, "C": 15}])
    assert e.value.code == "not-a-table"


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas not installed")
def test_pandas_in_pandas_out() -> None:
    import pandas as pd

    df = pd.DataFrame({"L": [3.0, float("nan"), 10.0], "E": [6, 6, 10], "C": [15, 15, 100]}, index=[7, 8, 9])
    out = LEC.grade_table(df)
    assert isinstance(out, pd.DataFrame) and list(out.index) == [7, 8, 9]
    def cells(col: str) -> list[Any]:
        return [None if pd.isna(x) else x for x in out[col]]

    assert cells("level") == ["ORANGE", None, "RED"]
    assert cells("error_code") == [None, "missing-fact", None]
    assert [float(x) for x in out["score"].fillna(-1)] == [270.0, -1.0, 10000.0]


@pytest.mark.skipif(importlib.util.find_spec("polars") is None, reason="polars not installed")
def test_polars_in_polars_out() -> None:
    import polars as pl

    out = LEC.grade_table(pl.DataFrame({"L": [3], "E": [6], "C": [15]}))
    assert isinstance(out, pl.DataFrame) and out["level"].to_list() == ["ORANGE"]


def test_import_riskgrade_does_not_import_pyarrow() -> None:
    import subprocess
    import sys

    code = "import sys, riskgrade; riskgrade.load('lec-generic'); print('pyarrow' in sys.modules, 'numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == [
        "False", "False"]


class TestDictionaryColumns:
    """``level`` is ``dictionary<int8, string>`` over every level name and ``fired`` a list of
    ``dictionary<intN, string>`` over the ruleset's rule ids: the same dictionaries whatever the rows and
    whichever path graded them, so tables of results share one schema and can be written batch by batch."""

    def test_types_and_fixed_dictionaries(self) -> None:
        out = LEC.grade_table(pa.table({"L": [3, None], "E": [6, 6], "C": [15, 15]}))
        level, fired = out.column("level").combine_chunks(), out.column("fired").combine_chunks()
        assert level.type == pa.dictionary(pa.int8(), pa.string())
        assert level.dictionary.to_pylist() == [lv.name for lv in riskgrade.Level]
        assert fired.type == pa.list_(pa.dictionary(pa.int8(), pa.string()))
        assert fired.values.dictionary.to_pylist() == [r["id"] for r in LEC.rules]

    @pytest.mark.parametrize("rid", ["lec-generic", "hazchem-gb18218", "hazchem-enterprise-2018"])
    def test_every_path_gives_one_schema(self, rid: str) -> None:
        from riskgrade._columnar.cells import result_columns

        rs = riskgrade.load(rid)
        facts = [f for f in case_facts(rs) if f]
        tbl = table_of(facts)
        names, cols, _ = result_columns(rs, records(tbl))  # one by one, as the CLI's fallback does
        by_rows = pa.table(cols, names=names)
        whole, part = rs.grade_table(tbl), rs.grade_table(tbl.slice(0, 1))
        assert whole.to_pylist() == by_rows.to_pylist()
        for c in ("level", "fired"):  # (a value column's type is that of its cells)
            assert whole.schema.field(c) == by_rows.schema.field(c) == part.schema.field(c)
            d = [t.column(c).combine_chunks() for t in (whole, by_rows, part)]
            if c == "fired":
                d = [a.values for a in d]
            assert all(a.dictionary.equals(d[0].dictionary) for a in d)
        sink = pa.BufferOutputStream()  # an IPC file refuses a dictionary that changes between batches
        two = [t.select(["level", "fired"]) for t in (whole, part)]
        with pa.ipc.new_file(sink, two[0].schema) as writer:
            for t in two:
                writer.write_table(t)
        assert pa.ipc.open_file(sink.getvalue()).read_all().to_pylist() == two[0].to_pylist() + two[1].to_pylist()

    @pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas not installed")
    def test_pandas_gets_categories_in_level_order(self) -> None:
        import pandas as pd

        out = LEC.grade_table(pd.DataFrame({"L": [3, 10], "E": [6, 10], "C": [15, 100]}))
        assert isinstance(out["level"].dtype, pd.CategoricalDtype)
        assert list(out["level"].cat.categories) == ["BLUE", "YELLOW", "ORANGE", "RED"]
        assert list(out["level"]) == ["ORANGE", "RED"] and [list(f) for f in out["fired"]] == [["lec"], ["lec"]]


@given(st.lists(st.none() | st.lists(st.sampled_from(["a", "b", "c"]), max_size=3), min_size=1, max_size=12),
       st.data())
@settings(max_examples=200, deadline=None, database=None)
def test_take_lists_is_arrows_take(lists: list[list[str] | None], data: st.DataObject) -> None:
    import numpy as np

    from riskgrade._columnar.cells import take_lists

    where = data.draw(st.lists(st.integers(0, len(lists) - 1), max_size=30))
    col = pa.array(lists, pa.list_(pa.string()))
    if data.draw(st.booleans()):  # a slice: offsets that do not start at 0
        col = pa.concat_arrays([pa.array([["x"]], pa.list_(pa.string())), col]).slice(1)
    got = take_lists(col, np.array(where, dtype=np.int64), np, pa)
    want = col.take(pa.array(where, pa.int64()))
    assert got.type == want.type and got.to_pylist() == want.to_pylist() and got.null_count == want.null_count
