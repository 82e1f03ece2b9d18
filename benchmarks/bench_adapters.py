"""The ministry adapter against loading the same register, measured in the same run (no assertions;
prints ratios): ``export_ministry`` and ``import_ministry`` of a register of N risk points (each with
a hazard and three control measures, a hidden danger on every tenth), for two sizes, so that the
ratio shows whether the adapter stays linear.

Run: ``python benchmarks/bench_adapters.py`` (PYTHONPATH=src when not installed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import riskgrade


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Best seconds of one call over ``repeat`` rounds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def register(n: int) -> dict[str, Any]:
    return {
        "id": "E-BENCH", "name": "基准企业", "sectors": ["hazchem"], "jurisdiction": "620402", "ruleset": "lec-generic",
        "units": [{"id": f"U-{u}", "name": f"单元{u}"} for u in range(max(1, n // 100))],
        "risk_points": [{"id": f"P-{i}", "unit": f"U-{i // 100}", "name": "点", "facts": {"L": 3, "E": 6, "C": 15},
                         "possible_accidents": ["火灾", "中毒和窒息"],
                         "controls": {"engineering": ["紧急切断阀"], "management": ["巡检"], "ppe": ["空气呼吸器"]},
                         "responsible": {"department": {"name": "李明", "department": "储运车间", "phone": "13909430012"}}}
                        for i in range(n)],
        "hazards": [{"id": f"H-{i}", "risk_point": f"P-{i}", "name": "泄漏", "category": "中毒和窒息"} for i in range(n)],
        "hidden_dangers": [{"id": f"HD-{i}", "target": f"P-{i}", "grade": "general", "found": "2024-05-01",
                            "deadline": "2024-06-01", "status": "open", "description": "软管超期"}
                           for i in range(0, n, 10)],
    }


def main() -> None:
    print("ministry adapter, seconds (best of 3) and ratio to load_enterprise of the same register")
    per_point: list[float] = []
    for n in (1_000, 4_000):
        data = register(n)
        ent = riskgrade.load_enterprise(data)
        doc = json.loads(riskgrade.export_ministry(ent).to_json())
        t_load = best(lambda: riskgrade.load_enterprise(data), 3)  # noqa: B023 - called inside the loop
        t_export = best(lambda: riskgrade.export_ministry(ent).to_json(), 3)  # noqa: B023
        t_import = best(lambda: riskgrade.import_ministry(doc), 3)  # noqa: B023
        per_point.append((t_export + t_import) / n)
        print(f"  N={n:>5}: load {t_load:.3f}s  export {t_export:.3f}s ({t_export / t_load:.2f}x)  "
              f"import {t_import:.3f}s ({t_import / t_load:.2f}x)")
    print(f"  export+import per point, N=4000 vs N=1000: {per_point[1] / per_point[0]:.2f}x (1.0 = linear)")


if __name__ == "__main__":
    main()
