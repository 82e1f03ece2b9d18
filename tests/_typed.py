"""``typed``: a value with every scalar's type in it, for tests that compare two readers' values exactly."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["typed"]


def typed(v: Any) -> Any:
    """``v`` with every value's type kept (1, 1.0 and True differ; a float by its bits, so -0.0 and 0.0 differ)."""
    if isinstance(v, dict):
        return ("dict", [(k, typed(x)) for k, x in v.items()])
    if isinstance(v, list):
        return ("list", [typed(x) for x in v])
    if isinstance(v, float):
        return ("float", "nan" if math.isnan(v) else v.hex())
    return (type(v).__name__, v)
