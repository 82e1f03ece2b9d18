"""How much of a ruleset its cases exercise: each rule (times fired), each band row a banded rule
can land in, and each criterion of a composite rule.

A case exercises what its facts reach when graded: a rule that gives a level, the band row the
rule's score falls in, a criterion that holds. A case that expects an error (``want_error``)
exercises nothing. ``percent`` is the share of all items (rules, band rows, criteria) that at
least one case exercises; a ruleset without cases has 0 %.

>>> import riskgrade
>>> cov = riskgrade.coverage(riskgrade.load("lec-generic"))
>>> cov.percent, cov.uncovered
(100.0, ())
>>> cov.rules["lec"] > 0
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from riskgrade._grade.ruleset import Ruleset

__all__ = ["Coverage", "coverage"]


@attrs.frozen
class Coverage:
    """What the cases of one ruleset exercise.

    ``rules``: rule id → times fired; ``bands``: rule id → band row (its text, ``D ≤ 20``) → times
    the rule's score fell in it (banded rules only); ``criteria``: rule id → criterion id → times it
    held (composite rules only); ``cases``: how many cases were graded for it.
    """

    ruleset: str
    cases: int
    rules: Mapping[str, int]
    bands: Mapping[str, Mapping[str, int]]
    criteria: Mapping[str, Mapping[str, int]]

    @property
    def uncovered(self) -> tuple[str, ...]:
        """The ids of the rules no case fired, in ruleset order."""
        return tuple(r for r, n in self.rules.items() if not n)

    @property
    def uncovered_items(self) -> tuple[str, ...]:
        """Every item no case exercises: ``rule X``, ``rule X band row D > 320``, ``rule X criterion c``."""
        out = [f"rule {r}" for r in self.uncovered]
        out += [f"rule {r} band row {row}" for r, rows in self.bands.items() for row, n in rows.items() if not n]
        out += [f"rule {r} criterion {c}" for r, cs in self.criteria.items() for c, n in cs.items() if not n]
        return tuple(out)

    @property
    def total(self) -> int:
        """The number of items: rules, band rows and criteria."""
        return len(self.rules) + sum(map(len, self.bands.values())) + sum(map(len, self.criteria.values()))

    @property
    def covered(self) -> int:
        """The number of items at least one case exercises."""
        return self.total - len(self.uncovered_items)

    @property
    def percent(self) -> float:
        """``covered / total`` in percent, rounded to one decimal (0.0 without cases)."""
        if not self.cases or not self.total:
            return 0.0
        return round(100.0 * self.covered / self.total, 1)

    def to_dict(self) -> dict[str, Any]:
        """``{"rules": {id: n}, "uncovered": [id, ...], "percent": p, "bands": ..., "criteria": ...,
        "uncovered_items": [...], "cases": n}``."""
        return {"rules": dict(self.rules), "uncovered": list(self.uncovered), "percent": self.percent,
                "bands": {k: dict(v) for k, v in self.bands.items()},
                "criteria": {k: dict(v) for k, v in self.criteria.items()},
                "uncovered_items": list(self.uncovered_items), "cases": self.cases}


def coverage(ruleset: Ruleset, cases: Iterable[int] | None = None) -> Coverage:
    """The coverage of ``ruleset`` by its own cases (or only the cases at the indices ``cases``)."""
    rs = ruleset
    rules = rs.rules
    picked = range(len(rs.cases)) if cases is None else sorted(set(cases))
    fired = [0] * len(rules)
    bands: dict[int, list[int]] = {}
    criteria: dict[int, list[int]] = {}
    for i, rule in enumerate(rules):
        m = rs._methods[i]
        b = rs.bands.get(str(rule.get("bands", ""))) if m.banded else None
        if b is not None:
            bands[i] = [0] * len(b.rows)
        if m.name == "composite":
            criteria[i] = [0] * len(rule.get("criteria") or ())
    graded = 0
    for ci in picked:
        case = rs.cases[ci]
        if "want_error" in case:
            continue
        try:
            a = rs.grade(case["facts"])
        except Exception:  # a case that does not grade exercises nothing (run_cases reports it)
            continue
        graded += 1
        levels, details = a[rs._slices[2]], a[rs._slices[3]]
        for i in range(len(rules)):
            if levels[i]:
                fired[i] += 1
            d = details[i]
            if i in bands and isinstance(d, int) and not isinstance(d, bool) and 0 <= d < len(bands[i]):
                bands[i][d] += 1
            elif i in criteria and isinstance(d, tuple):
                for j, hit in enumerate(d[:len(criteria[i])]):
                    criteria[i][j] += bool(hit)
    return Coverage(
        ruleset=rs.id,
        cases=graded,
        rules={str(r["id"]): fired[i] for i, r in enumerate(rules)},
        bands={str(rules[i]["id"]): _band_rows(rs, i, counts) for i, counts in bands.items()},
        criteria={str(rules[i]["id"]): {str(c["id"]): n for c, n in zip(rules[i]["criteria"], counts, strict=True)}
                  for i, counts in criteria.items()},
    )


def _band_rows(rs: Ruleset, i: int, counts: list[int]) -> dict[str, int]:
    rule, m = rs.rules[i], rs._methods[i]
    b = rs.bands[str(rule["bands"])]
    var = m.score_name(rule) or "score"
    return {b.row_text(j, var): n for j, n in enumerate(counts)}
