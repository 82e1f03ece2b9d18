"""The standard's tables and bands, compiled: lookup tables (inline or CSV) and band sets.

A band set is proven gap- and overlap-free when it is compiled; :meth:`Bands.inline` is the
one band lookup: the generated grading code and ``band(name, x)`` run the same comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from riskgrade._core.canonical import fmt_number as _n
from riskgrade._core.levels import Level
from riskgrade.exceptions import FactError

__all__ = ["Bands", "Matrix", "Table"]

_INF = math.inf


@attrs.frozen
class Table:
    name: str
    key: tuple[str, ...]
    columns: Mapping[str, str]
    rows: tuple[Mapping[str, Any], ...]
    index: Mapping[Any, Mapping[str, Any]]
    #: the CSV file the rows were read from, if any
    files: tuple[str, ...] = ()


@attrs.frozen
class Bands:
    name: str
    closed: str
    rows: tuple[Mapping[str, Any], ...]
    fn: Callable[[Any], int]

    def inline(self, x: str, d: str, r: str) -> list[str]:
        """Code that sets ``d`` (the row index) and ``r`` (the level int) for the value ``x``."""
        cmp = "<=" if self.closed == "upper" else "<"
        order = sorted(range(len(self.rows)),
                       key=lambda j: (-_INF if self.rows[j].get("from") is None else self.rows[j]["from"]))
        lines = []
        for n, j in enumerate(order):
            row = self.rows[j]
            lv = int(Level.parse(row["level"])) if "level" in row else 0
            if n == len(order) - 1:
                lines.append("else:" if n else "if True:")
                lines.append(f"    if {x} != {x} or {x} == _INF: raise FactError(f'{{{x}!r}} is not a finite number', "
                             "code='not-finite')")
            else:
                lines.append(f"{'if' if n == 0 else 'elif'} {x} {cmp} {row['to']!r}:")
            lines.append(f"    {d} = {j}; {r} = {lv}")
        return lines

    def row_text(self, i: int, var: str = "x") -> str:
        r = self.rows[i]
        lo, hi = r.get("from"), r.get("to")
        lt_lo = "<" if self.closed == "upper" else "≤"
        lt_hi = "≤" if self.closed == "upper" else "<"
        if lo is None and hi is None:
            return f"any {var}"
        if lo is None:
            return f"{var} {lt_hi} {_n(hi)}"
        if hi is None:
            return f"{var} {'>' if self.closed == 'upper' else '≥'} {_n(lo)}"
        return f"{_n(lo)} {lt_lo} {var} {lt_hi} {_n(hi)}"


@attrs.frozen
class Matrix:
    """A risk matrix: the level of every (row value, column value) cell.

    ``rows``/``columns`` are the axis values from low to high, ``row_name``/``column_name`` what
    each axis measures, ``cells[(r, c)]`` the level of that cell (an int, 1 BLUE … 4 RED).
    """

    name: str
    row_name: str
    column_name: str
    rows: tuple[Any, ...]
    columns: tuple[Any, ...]
    cells: Mapping[tuple[Any, Any], int]
    row_labels: Mapping[Any, Any] = attrs.field(factory=dict)
    column_labels: Mapping[Any, Any] = attrs.field(factory=dict)

    def level(self, row: Any, column: Any) -> int:
        """The level of the cell (row, column); a value off an axis is a ``not-in-matrix`` fact error."""
        lv = self.cells.get((row, column))
        if lv is None:
            bad, axis, vals = ((row, self.row_name, self.rows) if row not in self.rows
                               else (column, self.column_name, self.columns))
            raise FactError(f"{bad!r} is not a value of the {axis} axis of matrix {self.name!r} "
                            f"({', '.join(_n(v) for v in vals)})", code="not-in-matrix", value=bad)
        return lv
