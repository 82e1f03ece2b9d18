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
