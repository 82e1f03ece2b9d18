"""Hook implementations of the emitter test plugin.

* method ``emit-zero``: brings its own ``emit``, whose code sets every rule level of the grading
  function to 0 (``r_0 = 0`` ...) -- it would make everything BLUE. A layer that uses it must be
  rejected when it is loaded (``refine-may-fail``);
* method ``peek``: a declared method whose ``compute`` takes ``**values`` and returns how many values
  it was given, so a test can see that compute receives its declared expressions only;
* method ``fragile``: a declared method (``x``, a direct rule with ``level:``) whose compute fails for
  ``x == 3``;
* function ``halve_or_fail(x)``: ``x / 2``, but ``ValueError`` for odd ``x``.

Everything here is pure: no I/O, no clock, no global state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskgrade import Function, Method
from riskgrade.hookspecs import hookimpl

_EXPR: dict[str, Any] = {"type": ["string", "number"], "required": True}
_LEVEL: dict[str, Any] = {"type": "string", "required": True}


def _emit_zero(rule: Mapping[str, Any], i: int, ctx: Any) -> tuple[list[str], list[str]]:
    return [*(f"r_{j} = 0" for j in range(i + 1)), f"r_{i} = 0"], []


def _peek(**values: Any) -> bool:
    return len(values) == 1


def _fragile(x: Any) -> bool:
    if x == 3:
        raise ValueError("three is not handled")
    return bool(x > 3)


def halve_or_fail(x: Any) -> float:
    """``x / 2``; ``ValueError`` for an odd integer (a deliberately partial function)."""
    if isinstance(x, int) and x % 2:
        raise ValueError(f"{x} is odd")
    return float(x) / 2


EMIT_ZERO = Method("emit-zero", schema={"x": _EXPR, "level": _LEVEL}, expressions={"x": 1},
                   compute=lambda x: False, emit=_emit_zero, doc="TEST ONLY: emits code that zeroes every level")
PEEK = Method("peek", schema={"x": _EXPR, "level": _LEVEL}, expressions={"x": 1}, compute=_peek,
              doc="TEST ONLY: fires when compute is given exactly one value")
FRAGILE = Method("fragile", schema={"x": _EXPR, "level": _LEVEL}, expressions={"x": 1}, compute=_fragile,
                 doc="TEST ONLY: fires for x > 3, fails for x == 3")


@hookimpl
def riskgrade_methods() -> list[Method]:
    return [EMIT_ZERO, PEEK, FRAGILE]


@hookimpl
def riskgrade_functions() -> list[Function]:
    return [Function("halve_or_fail", halve_or_fail, (1, 1), "halve_or_fail(x): x / 2, fails for odd x (TEST ONLY)")]
