"""Supervision on top of assessment, measured in the same run (no assertions; prints ratios).

N small enterprises over the Baiyin counties and sectors are assessed (the baseline), then supervised
(inspections, content, grid owners, insurance, control tiers) from the cached declarations, and planned
(``build_plan``). The ratios say what supervision adds to assessing a region.

Run: ``python benchmarks/bench_supervision.py [N]`` (PYTHONPATH=src when not installed).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from typing import Any

import riskgrade
from riskgrade._supervision.plan import build_plan

AS_OF = dt.date(2027, 1, 1)
COUNTIES = ["620402", "620403", "620421", "620422", "620423"]
SECTORS = ["hazchem", "coal", "nonmetal-mine", "fireworks", "construction", "power", "water", "industry-trade"]


def register(i: int, rnd: random.Random) -> dict[str, Any]:
    return {"id": f"E-{i}", "name": f"企业{i}", "sectors": [rnd.choice(SECTORS)], "jurisdiction": rnd.choice(COUNTIES),
            "ruleset": "lec-generic", "standardisation": rnd.choice([None, "一级", "二级", "三级"]),
            "units": [{"id": "U-1", "name": "单元", "major_hazard_grade": rnd.choice([None, None, "三级"])}],
            "risk_points": [{"id": f"P-{k}", "unit": "U-1", "name": "点",
                             "facts": {"L": rnd.choice([10, 6, 3, 1]), "E": rnd.choice([6, 3, 2]),
                                       "C": rnd.choice([40, 15, 7, 3])}} for k in range(5)]}


def main(n: int) -> None:
    rnd = random.Random(2027)
    regs = [register(i, rnd) for i in range(n)]
    resolve = riskgrade.load
    t0 = time.perf_counter()
    assessments = [riskgrade.assess(resolve, r, as_of=AS_OF) for r in regs]
    t_assess = time.perf_counter() - t0
    for a in assessments[:50]:  # warm the declaration cache (one per county)
        riskgrade.supervise(a)
    t0 = time.perf_counter()
    results = [riskgrade.supervise(a) for a in assessments]
    t_sup = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_plan(2027, [(r, a.enterprise.name) for r, a in zip(results, assessments, strict=True)])
    t_plan = time.perf_counter() - t0
    print(f"{n} enterprises (5 risk points each)")
    print(f"  assess (baseline)   {t_assess / n * 1e6:10.1f} us per enterprise")
    print(f"  supervise           {t_sup / n * 1e6:10.1f} us per enterprise   ratio {t_sup / t_assess:6.3f}")
    print(f"  build the plan      {t_plan / n * 1e6:10.1f} us per enterprise   ratio {t_plan / t_assess:6.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
