"""Grade tables of facts: Ruleset.grade_table against grade_many, a hand-written closure and numpy.

Run:  python benchmarks/bench_columnar.py [--records 100000] [--repeat 3]

Needs riskgrade[columnar] (pyarrow, numpy); pandas is timed when installed. Contenders, all timed in
the same run on the same records (only the ratios are meaningful):

  closure      a hand-written Python function per record (check the scales, D = L·E·C, band)
  numpy        the same on columns: isin checks, L·E·C, searchsorted (no results beyond level and D)
  grade_many   riskgrade, one Assessment per record (records as dicts)
  grade_table  riskgrade on a pyarrow Table / a pandas DataFrame: level, score, D, fired, error columns

and a column of continuous measurements (hazchem-enterprise-2018, checklist deductions, every row
distinct), where grade_table grades each row once; GB 18218 units (hazchem-gb18218: a list of
substances with their quantities, the number of people around) against a hand-written function on the
same Table 1/3 data. (The compile time of the shipped rulesets is benchmarks/bench_compile.py.)
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa

import riskgrade

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_grade import C_VALUES, E_VALUES, L_VALUES, best_of_each, hand_written, records


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        gc.enable()


def numpy_lec(L: Any, E: Any, C: Any) -> tuple[Any, Any]:
    """LEC on columns, by hand: values on the scales, D = L·E·C, levels by D (closed on the upper side)."""
    ok = np.isin(L, L_VALUES) & np.isin(E, E_VALUES) & np.isin(C, C_VALUES)
    if not ok.all():
        raise ValueError("value off the scale")
    d = L * E * C
    return np.searchsorted(np.array([70, 160, 320]), d, side="left") + 1, d


def gb18218_units(rs: riskgrade.Ruleset, n: int, seed: int = 3) -> list[dict[str, Any]]:
    """``n`` units, each 1–4 substances of Tables 1 and 3 with a quantity, and the people around."""
    t1, t3 = rs.tables["table1"].index, rs.tables["table3"].index
    names = sorted(k for k in t1 if k in t3 and t1[k]["name"] == k)
    rnd = random.Random(seed)
    return [{"substances": [{"name": rnd.choice(names), "quantity_t": round(rnd.uniform(0, 400), 1)}
                            for _ in range(rnd.randint(1, 4))],
             "exposed_people": rnd.choice([0, 5, 29, 30, 49, 50, 99, 100, 500])} for _ in range(n)]


def gb18218_hand(rs: riskgrade.Ruleset) -> Callable[[dict[str, Any]], tuple[str, float]]:
    """GB 18218-2018 by hand for units of Table 1/3 substances: S = Σ q/Q, R = α·Σ β·q/Q, the grade by R."""
    t1, t3 = rs.tables["table1"].index, rs.tables["table3"].index
    q_of = {k: r["Q"] for k, r in t1.items()}
    beta_of = {k: r["beta"] for k, r in t3.items()}

    def grade(unit: dict[str, Any]) -> tuple[str, float]:
        s = b = 0
        for sub in unit["substances"]:
            q, name = sub["quantity_t"], sub["name"]
            if q.__class__ not in (int, float) or not q >= 0:
                raise ValueError("bad quantity")
            big_q, beta = q_of[name], beta_of[name]
            s += q / big_q
            b += beta * q / big_q
        p = unit["exposed_people"]
        if p.__class__ is not int or p < 0:
            raise ValueError("bad people")
        alpha = 0.5 if p < 1 else 1.0 if p < 30 else 1.2 if p < 50 else 1.5 if p < 100 else 2.0
        r = alpha * b
        if s < 1:
            return "BLUE", r
        return ("RED" if r >= 100 else "ORANGE" if r >= 50 else "YELLOW" if r >= 10 else "BLUE"), r

    return grade


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(list(argv) if argv is not None else None)
    n = args.records

    rs = riskgrade.load("lec-generic")
    recs = records(n)
    tbl = pa.Table.from_pylist(recs)
    cols = {k: tbl.column(k).to_numpy() for k in ("L", "E", "C")}
    hand = hand_written()

    # correctness first: every contender agrees with grade_many record for record
    many = list(rs.grade_many(recs))
    out = rs.grade_table(tbl)
    lv, d = numpy_lec(cols["L"], cols["E"], cols["C"])
    assert out.column("level").to_pylist() == [a.level.name for a in many]
    assert out.column("D").to_pylist() == [a.values["D"] for a in many]
    assert [riskgrade.Level(int(x)).name for x in lv[:5000]] == [hand(r)[0].name for r in recs[:5000]]
    assert np.array_equal(d, out.column("D").to_numpy())

    contenders: dict[str, Callable[[], Any]] = {
        "closure": lambda: [hand(r) for r in recs],
        "numpy": lambda: numpy_lec(cols["L"], cols["E"], cols["C"]),
        "grade_many": lambda: list(rs.grade_many(recs)),
        "grade_table (arrow)": lambda: rs.grade_table(tbl),
    }
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        df = tbl.to_pandas()
        contenders["grade_table (pandas)"] = lambda: rs.grade_table(df)
    rate = {k: n / t for k, t in best_of_each(args.repeat, contenders, timed).items()}

    # continuous measurements: every row distinct
    hz = riskgrade.load("hazchem-enterprise-2018")
    base = next(dict(c["facts"]) for c in hz.cases if "checklist_deductions" in c.get("facts", {}))
    rnd = random.Random(11)
    m = min(n, 20_000)
    hz_recs = [{**base, "checklist_deductions": rnd.uniform(0, 100)} for _ in range(m)]
    hz_tbl = pa.Table.from_pylist(hz_recs)
    assert hz.grade_table(hz_tbl).column("level").to_pylist() == [
        a.level.name if isinstance(a, riskgrade.Assessment) else None for a in hz.grade_many(hz_recs)]
    hzt = best_of_each(args.repeat, {"many": lambda: list(hz.grade_many(hz_recs)),
                                     "table": lambda: hz.grade_table(hz_tbl)}, timed)
    t_hm, t_ht = hzt["many"], hzt["table"]

    # GB 18218 units: a list column per unit, so grade_table grades each row
    gb = riskgrade.load("hazchem-gb18218")
    units = gb18218_units(gb, min(n, 20_000))
    gb_tbl = pa.Table.from_pylist(units)
    gb_hand = gb18218_hand(gb)
    want = [gb_hand(u) for u in units]
    got = gb.grade_table(gb_tbl)
    assert got.column("level").to_pylist() == [w[0] for w in want]
    assert got.column("score").to_pylist() == [w[1] for w in want]
    gbt = best_of_each(args.repeat, {"hand": lambda: [gb_hand(u) for u in units],
                                     "many": lambda: list(gb.grade_many(units)),
                                     "table": lambda: gb.grade_table(gb_tbl)}, timed)
    t_gh, t_gm, t_gt = gbt["hand"], gbt["many"], gbt["table"]

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pyarrow {pa.__version__}; "
          f"lec-generic, {n} records (all contenders agree)")
    for k, v in rate.items():
        print(f"  {k:<22} {v:>14,.0f} records/s")
    print(f"ratio grade_table / closure    = {rate['grade_table (arrow)'] / rate['closure']:.2f}  (target >= 3)")
    print(f"ratio grade_table / numpy      = {rate['grade_table (arrow)'] / rate['numpy']:.3f}  (target >= 0.25)")
    print(f"ratio grade_table / grade_many = {rate['grade_table (arrow)'] / rate['grade_many']:.1f}")
    print(f"hazchem-enterprise-2018, {m} distinct rows: grade_many {m / t_hm:,.0f}/s, grade_table {m / t_ht:,.0f}/s "
          f"(ratio {t_hm / t_ht:.2f})")
    m = len(units)
    print(f"hazchem-gb18218, {m} units (all agree with the hand-written function): hand-written {m / t_gh:,.0f}/s, "
          f"grade_many {m / t_gm:,.0f}/s, grade_table {m / t_gt:,.0f}/s")
    print(f"ratio GB 18218 grade_table / hand-written = {t_gh / t_gt:.2f}  (target >= 1); "
          f"grade_many / hand-written = {t_gh / t_gm:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
