"""Grade lec-generic over synthetic records; compare with a hand-written function and durable-rules.

Run:  python benchmarks/bench_grade.py [--records 100000] [--dr-records 20000]

Prints records/s for each contender and the ratios the project tracks:
  grade_many / hand-written   (target >= 0.25, full Assessments, traces built lazily)
  grade / durable-rules       (target >= 50)
Timings are taken in the same run on the same machine; only ratios are meaningful.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import riskgrade
from riskgrade import Level
from riskgrade._core.canonical import dumps
from riskgrade._grade import assessment

L_VALUES = (10, 6, 3, 1, 0.5, 0.2, 0.1)
E_VALUES = (10, 6, 3, 2, 1, 0.5)
C_VALUES = (100, 40, 15, 7, 3, 1)


def records(n: int, seed: int = 7) -> list[dict[str, float]]:
    rnd = random.Random(seed)
    return [{"L": rnd.choice(L_VALUES), "E": rnd.choice(E_VALUES), "C": rnd.choice(C_VALUES)} for _ in range(n)]


def hand_written() -> Callable[[dict[str, float]], tuple[Level, float]]:
    """The same logic a programmer would write by hand: validate, multiply, band."""
    ls, es, cs = frozenset(L_VALUES), frozenset(E_VALUES), frozenset(C_VALUES)
    red, orange, yellow, blue = Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE

    def grade(f: dict[str, float]) -> tuple[Level, float]:
        L, E, C = f["L"], f["E"], f["C"]
        if L not in ls or E not in es or C not in cs:
            raise ValueError("value off the scale")
        d = L * E * C
        if d <= 70:
            return blue, d
        if d <= 160:
            return yellow, d
        if d <= 320:
            return orange, d
        return red, d

    return grade


def reference_dict(a: riskgrade.Assessment) -> dict[str, Any]:
    """The result schema built from the public properties, as ``to_dict`` built it before issue 17."""
    return {"schema": assessment.SCHEMA_VERSION, "level": a.level.name, "level_zh": a.level.zh, "score": a.score,
            "values": a.values, "inputs": a.inputs, "fired": [f.to_dict() for f in a.fired],
            "ruleset": a.ruleset.to_dict()}


def _cold_json(a: riskgrade.Assessment) -> str:
    # the fast path with its per-ruleset text cache emptied first: what a record no other resembles costs
    plan = assessment._plan(a[0])
    plan.json_cache.clear()
    plan.fired_cache.clear()
    return a.to_json()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    # like timeit: the cyclic garbage collector is paused while a contender runs, for every contender
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        gc.enable()


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    runs = [timed(fn) for _ in range(n)]
    return min(r[0] for r in runs), runs[-1][1]


def bench_durable_rules(recs: list[dict[str, float]]) -> tuple[float, list[str]]:
    """Post the same records to an equivalent durable-rules ruleset (the real engine).

    durable-rules conditions cannot multiply three event fields (arithmetic is allowed
    only on the right-hand side of a comparison), so the event carries D = L·E·C computed
    beforehand, outside the timed loop. That favours durable-rules: the ratio is conservative.
    """
    from durable.lang import m, post, ruleset, when_all

    name = f"bench_lec_{time.time_ns()}"
    out: list[str] = []
    with ruleset(name):
        @when_all(m.D > 320)
        def red(c: Any) -> None:
            out.append("RED")

        @when_all((m.D > 160) & (m.D <= 320))
        def orange(c: Any) -> None:
            out.append("ORANGE")

        @when_all((m.D > 70) & (m.D <= 160))
        def yellow(c: Any) -> None:
            out.append("YELLOW")

        @when_all(m.D <= 70)
        def blue(c: Any) -> None:
            out.append("BLUE")

    events = [{"id": i, "D": r["L"] * r["E"] * r["C"], **r} for i, r in enumerate(recs)]

    def run() -> None:
        for ev in events:
            post(name, ev)

    t, _ = timed(run)
    return t, out


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--dr-records", type=int, default=20_000, help="records posted to durable-rules (slow)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(list(argv) if argv is not None else None)

    rs = riskgrade.load("lec-generic")
    recs = records(args.records)
    hand = hand_written()

    # correctness first: the contenders must agree
    for r in recs[:5000]:
        assert rs.grade(r).level is hand(r)[0]

    t_hand, _ = best_of(args.repeat, lambda: [hand(r) for r in recs])
    t_many, out = best_of(args.repeat, lambda: list(rs.grade_many(recs)))
    assert len(out) == len(recs) and all(isinstance(a, riskgrade.Assessment) for a in out)
    grade = rs.grade
    t_one, _ = best_of(args.repeat, lambda: [grade(r) for r in recs])
    # materialising everything an Assessment offers (values, fired, JSON) costs more; measured against
    # the same result schema built by hand from the public properties and dumped by the canonical dumper
    sample = recs[:20_000]
    t_full, _ = best_of(args.repeat, lambda: [grade(r).to_json() for r in sample])
    t_dict, _ = best_of(args.repeat, lambda: [grade(r).to_dict() for r in sample])
    t_ref_json, _ = best_of(args.repeat, lambda: [dumps(reference_dict(grade(r))) for r in sample])
    t_ref_dict, _ = best_of(args.repeat, lambda: [reference_dict(grade(r)) for r in sample])
    # the same, every record distinct (no text is reused from an earlier record)
    distinct = [{"L": r["L"], "E": r["E"], "C": r["C"], "id": i} for i, r in enumerate(sample)]
    t_cold, _ = best_of(args.repeat, lambda: [_cold_json(grade(r)) for r in distinct])

    dr_recs = recs[: args.dr_records]
    t_dr, dr_out = bench_durable_rules(dr_recs)
    agree = sum(1 for a, b in zip(dr_out, (hand(r)[0].name for r in dr_recs), strict=False) if a == b)

    n = len(recs)
    rate = {
        "hand-written": n / t_hand,
        "grade_many": n / t_many,
        "grade": n / t_one,
        "grade+to_json": len(sample) / t_full,
        "grade+to_dict": len(sample) / t_dict,
        "grade+to_json, no reuse": len(sample) / t_cold,
        "grade+reference json": len(sample) / t_ref_json,
        "grade+reference dict": len(sample) / t_ref_dict,
        "durable-rules": len(dr_recs) / t_dr,
    }
    print(f"python {sys.version.split()[0]}, {n} records (durable-rules: {len(dr_recs)}, "
          f"{agree}/{len(dr_recs)} agree, {len(dr_out)} fired)")
    for k, v in rate.items():
        print(f"  {k:<24} {v:>14,.0f} records/s")
    r1 = rate["grade_many"] / rate["hand-written"]
    r2 = rate["grade"] / rate["durable-rules"]
    print(f"ratio grade_many / hand-written = {r1:.3f}  (target >= 0.25)")
    print(f"ratio grade / durable-rules     = {r2:.1f}  (target >= 50)")
    print(f"ratio to_json / reference json  = {t_ref_json / t_full:.1f}  (same bytes; no reuse: "
          f"{t_ref_json / t_cold:.1f})")
    print(f"ratio to_dict / reference dict  = {t_ref_dict / t_dict:.1f}")
    print(f"ratio grade+to_json / grade     = {t_one / len(recs) / (t_full / len(sample)):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
