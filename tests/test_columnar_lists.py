"""The lowering of a list of records to numpy (riskgrade._columnar.lists, docs/columnar.md "Lists of
records"): GB 18218 units graded over their exploded substances give exactly the table that grading
every unit with the ruleset's own function gives (the same Arrow types and values, the same error code
and field), on typed tables that mix valid substances with every kind of invalid one."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._columnar.cells import result_columns
from riskgrade._columnar.lists import grade_lists
from riskgrade._columnar.table import records
from tests._facts import shipped_ids
from tests.test_columnar import same_as_grade_many

pa = pytest.importorskip("pyarrow")

GB = riskgrade.load("hazchem-gb18218")
T1, T2, T3 = (GB.tables[t].index for t in ("table1", "table2", "table3"))
NAMES = [*sorted(k for k in T1 if not k[0].isdigit())[:40], "不存在的物质", "某混合燃气", ""]
CAS = [*sorted({r["cas"] for r in T1.values() if r.get("cas")})[:10], "0-00-0"]
CATEGORIES = [*sorted(T2)[:8], "X9"]
PEOPLE = [0, 1, 29, 30, 49, 50, 99, 100, 500]
EDGES = [0, 0.3, 1, 5, 9.99, 10, 20, 24, 25, 124, 125, 248, 250, 400]


def reference(rs: riskgrade.Ruleset, tbl: Any) -> Any:
    """The results table built row by row with the ruleset's own generated function."""
    names, cols, _ = result_columns(rs, records(tbl))
    return pa.table(cols, names=names)


def assert_same(rs: riskgrade.Ruleset, tbl: Any) -> None:
    got = rs.grade_table(tbl)
    want = reference(rs, tbl)
    assert got.column_names == want.column_names
    for name in want.column_names:
        assert got.column(name).type == want.column(name).type, name
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    same_as_grade_many(rs, tbl, got)


@st.composite
def substance(draw: Any, fields: list[str], qtype: str) -> dict[str, Any] | None:
    if draw(st.integers(0, 40)) == 0:
        return None  # a null item: "must be a record"
    s: dict[str, Any] = {}
    for f in fields:
        roll = draw(st.integers(0, 9))
        if f == "name":
            s[f] = None if roll == 0 else draw(st.sampled_from(NAMES))
        elif f == "cas":
            s[f] = None if roll < 6 else draw(st.sampled_from(CAS))
        elif f == "category":
            s[f] = None if roll < 5 else draw(st.sampled_from(CATEGORIES))
        elif f == "categories":
            s[f] = None if roll < 5 else draw(st.lists(st.sampled_from(CATEGORIES), max_size=3))
        elif f == "quantity_t":
            if qtype == "int":
                s[f] = draw(st.sampled_from([None, -1, 0, 1, 10, 25, 250, 2**60]) if roll == 0
                            else st.integers(0, 500))
            else:
                s[f] = draw(st.sampled_from([None, -0.0, -1.5, math.inf, math.nan, 1e308]) if roll == 0
                            else st.sampled_from(EDGES) | st.floats(0, 500))
        else:  # a field the ruleset does not know: every item is an unknown-fact error
            s[f] = None if roll < 8 else "x"
    return s


@st.composite
def gb_tables(draw: Any) -> Any:
    """A typed table of GB 18218 units: the substance fields present, the quantity column's type and the
    people column's type drawn per table; cells mostly valid, now and then wrong in some way."""
    fields = ["name", "quantity_t", *draw(st.lists(st.sampled_from(["cas", "category", "categories"]), unique=True))]
    if draw(st.integers(0, 15)) == 0:
        fields.append(draw(st.sampled_from(["extra", "_note"])))
    if draw(st.integers(0, 15)) == 0:
        fields.remove("quantity_t")
    qtype = draw(st.sampled_from(["int", "float"]))
    ptype = draw(st.sampled_from(["int", "int", "float"]))
    types = {"name": pa.string(), "cas": pa.string(), "category": pa.string(), "categories": pa.list_(pa.string()),
             "quantity_t": pa.int64() if qtype == "int" else pa.float64(), "extra": pa.string(),
             "_note": pa.string()}
    n = draw(st.integers(1, 30))
    units, people = [], []
    for _ in range(n):
        units.append(None if draw(st.integers(0, 40)) == 0
                     else draw(st.lists(substance(fields, qtype), max_size=5)))
        p = draw(st.sampled_from(PEOPLE) if draw(st.integers(0, 9)) else st.sampled_from([None, -1, 10**17]))
        people.append(None if p is None else float(p) if ptype == "float" else p)
    struct = pa.struct([(f, types[f]) for f in fields])
    cols = {"substances": pa.array(units, pa.list_(struct)),
            "exposed_people": pa.array(people, pa.float64() if ptype == "float" else pa.int64())}
    if draw(st.integers(0, 10)) == 0:
        cols["id"] = pa.array([f"u{i}" for i in range(n)])
    if draw(st.integers(0, 20)) == 0:
        cols["unknown"] = pa.array([None if i % 2 else 1 for i in range(n)], pa.int64())
    return pa.table(cols)


class TestGb18218:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(gb_tables())
    def test_mixed_valid_and_invalid_substances_equal_the_generated_code(self, tbl: Any) -> None:
        assert_same(GB, tbl)

    def test_valid_units_are_lowered(self) -> None:
        tbl = pa.table({"substances": [[{"name": "氨", "quantity_t": 20.0}, {"name": "氯", "quantity_t": 5.0}],
                                       [{"name": "液氨", "quantity_t": 25.0}], []],
                        "exposed_people": [120, 100, 0]})
        out = grade_lists(GB, tbl)
        assert out is not None
        assert out.column("level").to_pylist() == ["YELLOW", "YELLOW", "BLUE"]
        assert out.column("R").to_pylist() == [16.0, 10.0, 0.0]
        assert out.column("S").to_pylist() == [3.0, 2.5, 0.0]
        assert out.column("Q_each").to_pylist() == [[10, 5], [10], []]
        assert out.column("fired").to_pylist() == [["mhi-grade-3"], ["mhi-grade-3"], []]
        assert_same(GB, tbl)

    def test_an_invalid_substance_falls_back_with_its_error(self) -> None:
        tbl = pa.table({"substances": [[{"name": "氨", "quantity_t": 1.0}, {"name": "未知物质X", "quantity_t": 1.0}],
                                       [{"name": "氨", "quantity_t": -1.0}], [{"name": "氨", "quantity_t": 30.0}]],
                        "exposed_people": [0, 0, 0]})
        out = grade_lists(GB, tbl)
        assert out is not None
        assert out.column("error_code").to_pylist() == ["not-in-table", "out-of-range", None]
        assert out.column("error_field").to_pylist() == ["substances[1].Q", "substances[0].quantity_t", None]
        assert_same(GB, tbl)

    def test_sums_run_in_list_order(self) -> None:
        # 0.1 + 0.2 + 0.3 differs from 0.3 + 0.2 + 0.1 in float64: the order of the list is kept
        subs = [{"name": "甲醇", "quantity_t": q, "category": "W5.3"} for q in (50.0, 100.0, 150.0)]
        tbl = pa.table({"substances": [subs, subs[::-1]], "exposed_people": [0, 0]})
        assert grade_lists(GB, tbl) is not None
        assert_same(GB, tbl)

    def test_case_facts(self) -> None:
        cases = [dict(c["facts"]) for c in GB.cases if isinstance(c.get("facts"), dict)]
        assert_same(GB, pa.Table.from_pylist(cases * 2))


@pytest.mark.parametrize("rid", shipped_ids())
def test_shipped_rulesets_lowered_or_not_give_the_same_table(rid: str) -> None:
    rs = riskgrade.load(rid)
    cases = [dict(c["facts"]) for c in rs.cases if isinstance(c.get("facts"), dict)]
    try:
        tbl = pa.Table.from_pylist(cases)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pytest.skip("the case facts have no one Arrow type per column")
    if tbl.num_rows:
        assert_same(rs, tbl)
