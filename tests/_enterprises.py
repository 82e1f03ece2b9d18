"""Small enterprise registers shared by the graph, roll-up and CLI tests (real lec-generic grading)."""

from __future__ import annotations

import datetime as dt
from typing import Any

AS_OF = dt.date(2024, 6, 30)

# L, E, C giving each level under lec-generic: D = 9 BLUE, 90 YELLOW, 270 ORANGE, 600 RED
FACTS = {"BLUE": {"L": 1, "E": 3, "C": 3}, "YELLOW": {"L": 1, "E": 6, "C": 15},
         "ORANGE": {"L": 3, "E": 6, "C": 15}, "RED": {"L": 10, "E": 6, "C": 40}}


def register(points: dict[str, tuple[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    """A register with units U-1, U-2 and risk points ``{id: (unit, level name)}``."""
    points = points or {"P-1": ("U-1", "YELLOW"), "P-2": ("U-1", "BLUE"), "P-3": ("U-2", "YELLOW")}
    data: dict[str, Any] = {
        "id": "E-1", "name": "测试企业", "sectors": ["hazchem"], "jurisdiction": "620402", "ruleset": "lec-generic",
        "units": [{"id": "U-1", "name": "一车间"}, {"id": "U-2", "name": "二车间"}],
        "risk_points": [{"id": pid, "unit": unit, "name": f"风险点{pid}", "facts": dict(FACTS[lv])}
                        for pid, (unit, lv) in points.items()],
    }
    data.update(extra)
    return data
