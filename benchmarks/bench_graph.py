"""Full versus incremental re-grade, measured in the same run (no assertions; prints ratios).

1. An enterprise with 10,000 risk points (100 units × 100 points, graded by lec-generic):
   full re-grade (``RiskGraph.regrade``: grade every point, roll everything up) versus
   ``RiskGraph.update`` of one risk point's facts (that point, its unit, the enterprise).
2. A region with 10,000 enterprises over the Baiyin counties: full recount of every region
   versus ``RegionGraph.put`` of one enterprise's new result; and, end to end, assessing all
   10,000 small enterprises versus re-assessing one and putting it.

Run: ``python benchmarks/bench_graph.py`` (PYTHONPATH=src when not installed).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

import riskgrade
from riskgrade import Level, RiskGraph, assess
from riskgrade._enterprise.region import EnterpriseSummary, RegionGraph

AS_OF = dt.date(2024, 6, 30)
LS = [10, 6, 3, 1, 0.5]
ES = [10, 6, 3, 2, 1]
CS = [40, 15, 7, 3, 1]


def best(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Best mean seconds per call over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def enterprise(n_units: int, per_unit: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "id": "E-BENCH", "name": "基准企业", "sectors": ["hazchem"], "jurisdiction": "620402",
        "ruleset": "lec-generic",
        "units": [{"id": f"U-{u}", "name": f"单元{u}"} for u in range(n_units)],
        "risk_points": [{"id": f"P-{u}-{i}", "unit": f"U-{u}", "name": "点",
                         "facts": {"L": rnd.choice(LS), "E": rnd.choice(ES), "C": rnd.choice(CS)}}
                        for u in range(n_units) for i in range(per_unit)],
        "hidden_dangers": [{"id": f"HD-{k}", "target": f"P-{k}-0", "grade": "general", "found": "2024-05-01",
                            "deadline": "2024-06-01"} for k in range(0, n_units, 10)],
    }


def bench_enterprise() -> float:
    rnd = random.Random(2017)
    ruleset = riskgrade.load("lec-generic")
    g = RiskGraph.build(ruleset, enterprise(100, 100, rnd), as_of=AS_OF)
    full = best(g.regrade, repeat=3)
    ids = [f"P-{rnd.randrange(100)}-{rnd.randrange(100)}" for _ in range(500)]
    facts = [{"L": rnd.choice(LS), "E": rnd.choice(ES), "C": rnd.choice(CS)} for _ in range(500)]
    it = iter(range(10**9))

    def one_update() -> None:
        i = next(it) % 500
        g.update(ids[i], {"facts": facts[i]})
    incr = best(one_update, repeat=5, number=200)
    evals0 = g.evaluations
    g.update("P-5-5", {"facts": {"L": 10, "E": 10, "C": 40}})
    print("enterprise, 10,000 risk points (100 units x 100)")
    print(f"  full re-grade        {full * 1e3:10.2f} ms")
    print(f"  incremental update   {incr * 1e6:10.2f} us   ({g.evaluations - evals0} node evaluations)")
    print(f"  ratio full/incremental  {full / incr:8.0f}x   (target >= 100x)")
    return full / incr


def bench_region() -> tuple[float, float]:
    rnd = random.Random(260)
    counties = ["620402", "620403", "620421", "620422", "620423"]
    sectors = ["hazchem", "coal", "nonmetal-mine", "construction", "power", "metallurgy"]
    levels = list(Level)
    summaries = [EnterpriseSummary(f"E-{i}", f"企业{i}", rnd.choice(counties), None, (rnd.choice(sectors),),
                                   rnd.choice(levels), rnd.choice(levels)) for i in range(10_000)]
    region = RegionGraph.of(summaries, AS_OF)
    full = best(region.recount, repeat=3)
    it = iter(range(10**9))

    def one_put() -> None:
        i = next(it)
        s = summaries[i % 10_000]
        region.put(EnterpriseSummary(s.id, s.name, s.jurisdiction, None, s.sectors, levels[i % 4], s.inherent_level))
    incr = best(one_put, repeat=5, number=500)
    print("region, 10,000 enterprises over 5 counties")
    print(f"  full recount         {full * 1e3:10.2f} ms")
    print(f"  incremental put      {incr * 1e6:10.2f} us")
    print(f"  ratio full/incremental  {full / incr:8.0f}x")

    # end to end: assess every enterprise (2 units x 5 points each) versus re-assess one and put it
    ruleset = riskgrade.load("lec-generic")
    registers = []
    for i in range(10_000):
        data = enterprise(2, 5, rnd)
        data.update(id=f"E-{i}", jurisdiction=rnd.choice(counties))
        registers.append(riskgrade.load_enterprise(data))
    t0 = time.perf_counter()
    region2 = RegionGraph.of([assess(ruleset, e, as_of=AS_OF) for e in registers], AS_OF)
    full_e2e = time.perf_counter() - t0

    def one_e2e() -> None:
        i = next(it) % 10_000
        region2.put(assess(ruleset, registers[i], as_of=AS_OF))
    incr_e2e = best(one_e2e, repeat=3, number=50)
    print("region end to end, 10,000 enterprises x 10 risk points (assess + roll up)")
    print(f"  full                 {full_e2e:10.2f} s")
    print(f"  re-assess one + put  {incr_e2e * 1e3:10.2f} ms")
    print(f"  ratio full/incremental  {full_e2e / incr_e2e:8.0f}x")
    return full / incr, full_e2e / incr_e2e


if __name__ == "__main__":
    bench_enterprise()
    print()
    bench_region()
