"""The columnar path's vectorised cell coding (docs/columnar.md "How it is fast"): cells of an input with a
finite scale are looked up in it, and the results still equal grade_many record for record — on typed
columns (integer, float, yes/no, text) of every shipped ruleset, with the scales' values, band edges,
values just off them, -0.0, NaN, nulls and cells of the wrong type."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._columnar.table import _column_codes, _value_set, domain
from tests._facts import shipped_ids
from tests.test_columnar import same_as_grade_many

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")
pc = pytest.importorskip("pyarrow.compute")


def _edges(rs: riskgrade.Ruleset) -> list[float]:
    """Every band edge of the ruleset and the numbers either side of it."""
    out: list[float] = []
    for b in rs.bands.values():
        for row in b.rows:
            for k in ("from", "to"):
                x = row.get(k)
                if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
                    out += [x, math.nextafter(x, -math.inf), math.nextafter(x, math.inf)]
    return out


def _numbers(rs: riskgrade.Ruleset, spec: Any, name: str) -> list[float]:
    vals = [v for v in domain(rs, name) or () if isinstance(v, (int, float)) and not isinstance(v, bool)]
    for k in ("min", "max"):
        if isinstance(spec.get(k), (int, float)):
            vals += [spec[k], spec[k] - 1, spec[k] + 0.5]
    return vals + _edges(rs)[:30] + [0.0, -0.0, math.nan, math.inf, -1.0, 7.25, 10**6]


def column_strategy(rs: riskgrade.Ruleset, name: str, spec: Any, n: int) -> st.SearchStrategy[Any]:
    """One typed column of ``n`` cells for input ``name`` (mostly on its scale, sometimes not)."""
    t = spec["type"]
    dom = list(domain(rs, name) or ())
    nums = _numbers(rs, spec, name) if t in ("number", "integer", "enum") else []
    kinds: list[tuple[Any, list[Any]]] = []
    if t == "bool":
        kinds.append((pa.bool_(), [True, False]))
    texts = [v for v in dom if isinstance(v, str)]
    if texts or t in ("enum", "string"):
        kinds.append((pa.string(), [*texts, "none-such", ""]))
    if nums:
        kinds.append((pa.float64(), [float(x) for x in nums]))
        ints = [int(x) for x in nums if math.isfinite(x) and float(x).is_integer()]
        if ints:
            kinds.append((pa.int64(), ints))
    kinds.append((pa.string(), ["3", "yes"]))  # the wrong type for most inputs
    if t == "bool":
        kinds.append((pa.int64(), [0, 1, 2]))

    @st.composite
    def draw(d: Any) -> Any:
        typ, pool = d(st.sampled_from(kinds))
        cells = d(st.lists(st.one_of(st.sampled_from(pool), st.none()) if d(st.booleans())
                           else st.sampled_from(pool), min_size=n, max_size=n))
        return pa.array(cells, typ)

    return draw()


def tables_for(rs: riskgrade.Ruleset) -> st.SearchStrategy[Any]:
    names = [n for n, s in rs.inputs.items() if s["type"] in ("bool", "number", "integer", "enum", "string")]

    @st.composite
    def draw(d: Any) -> Any:
        n = d(st.integers(0, 60))
        chosen = d(st.lists(st.sampled_from(names), unique=True, max_size=min(len(names), 12))) if names else []
        # the inputs not drawn are left out (their defaults apply, or the row is a missing-fact error)
        cols = {c: d(column_strategy(rs, c, rs.inputs[c], n)) for c in sorted(chosen)}
        if not cols:
            cols = {"id": pa.array([str(i) for i in range(n)], pa.string())}
        return pa.table(cols)

    return draw()


@pytest.mark.parametrize("rid", shipped_ids())
def test_typed_columns_equal_grade_many(rid: str) -> None:
    rs = riskgrade.load(rid)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(tables_for(rs))
    def run(tbl: Any) -> None:
        same_as_grade_many(rs, tbl, rs.grade_table(tbl))

    run()


LEC = riskgrade.load("lec-generic")


def test_on_scale_cells_are_looked_up_and_the_rest_hashed() -> None:
    col = pa.chunked_array([pa.array([3.0, 0.5, None, -0.0, 3.0]), pa.array([float("nan"), 0.0, -0.0, 7.0])])
    codes, k = _column_codes(col, _value_set((0, 0.5, 3), col.type, pa), np, pa, pc)
    # the scale's values take codes 0..2 in its order, a null 3, each other cell its own code after
    assert list(codes[:3]) == [2, 1, 3] and codes[0] == codes[4]
    assert codes[3] == codes[7] != codes[6] == 0
    assert len({int(codes[5]), int(codes[3]), int(codes[8])}) == 3 and min(codes[5], codes[8]) > 3
    assert k == 3 + 1 + 3


def test_an_integer_column_meets_only_the_integral_scale_values() -> None:
    col = pa.chunked_array([pa.array([1, 3, 2, None])])
    codes, k = _column_codes(col, _value_set((0.5, 1, 3.0), col.type, pa), np, pa, pc)
    assert (list(codes[:2]), k) == ([0, 1], 2 + 1 + 1) and codes[3] == 2 and codes[2] == 3


def test_domains_of_shipped_inputs() -> None:
    assert domain(LEC, "L") == tuple(LEC.tables["lec_L"].index)
    fw = riskgrade.load("fireworks-major-hidden-dangers")
    assert domain(fw, "principals_not_certified") == (False, True)
    assert domain(fw, "enterprise_type") == ("production", "wholesale", "retail")
    hz = riskgrade.load("hazchem-enterprise-2018")
    assert domain(hz, "checklist_deductions") is None and domain(LEC, "nope") is None


def test_large_lec_table_with_errors_in_place() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    L = rng.choice([10, 6, 3, 1, 0.5, 0.2, 0.1, 4.0, -0.0], n)
    E = rng.choice([10, 6, 3, 2, 1, 0.5], n)
    C = rng.choice([100, 40, 15, 7, 3, 1, 99], n)
    tbl = pa.table({"L": L, "E": pa.array(E).cast(pa.float64()), "C": pa.array(C, pa.int64())})
    out = LEC.grade_table(tbl)
    same_as_grade_many(LEC, tbl, out)
    codes = out.column("error_code").to_pylist()
    assert codes.count("not-allowed") > 0 and codes.count(None) > n // 2


def test_a_null_and_minus_zero_are_different_facts() -> None:
    # found by test_typed_columns_equal_grade_many: a null cell once shared its key with -0.0 (whose bits
    # are INT64_MIN, the old null sentinel) in a column of measurements
    rs = riskgrade.load("power-major-hidden-dangers")
    tbl = pa.table({"facility": ["coal", "coal"], "voltage_kv": pa.array([220, 220], pa.int64()),
                    "capacity_mw": pa.array([-0.0, None], pa.float64())})
    same_as_grade_many(rs, tbl, rs.grade_table(tbl))
    codes, k = _column_codes(tbl.column("capacity_mw"), None, np, pa, pc)
    assert codes[0] != codes[1] and max(codes) < k
