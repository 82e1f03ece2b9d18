"""The year's differentiated enforcement plan for a region (年度执法计划): per enterprise its level,
inspections, the months they fall in, the items to check and the owners; totals per department.

Months are spread over the year deterministically: ``n`` inspections fall every ``12/n`` months,
starting in a month fixed by the enterprise id (so that a department's workload spreads over the
year, and the same input gives the same plan).

>>> spread_months("E-1", 4), spread_months("E-1", 12) == list(range(1, 13)), spread_months("E-1", 0)
([2, 5, 8, 11], True, [])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from riskgrade._core.canonical import dumps
from riskgrade._supervision.outputs import SupervisionResult

__all__ = ["EnforcementPlan", "build_plan", "spread_months"]

SCHEMA = "riskgrade.enforcement-plan/1"


def spread_months(enterprise_id: str, n: int) -> list[int]:
    """The months (1-12) of ``n`` inspections in a year, evenly spaced, offset by the enterprise id."""
    if n <= 0:
        return []
    step = 12 / n
    offset = int(hashlib.sha256(enterprise_id.encode("utf-8")).hexdigest()[:8], 16) % max(1, 12 // n)
    return sorted(1 + (offset + int(i * step)) % 12 for i in range(n))


@attrs.frozen
class EnforcementPlan:
    """A year's plan: ``enterprises`` (one entry per supervised enterprise, by id), ``totals`` per
    department (enterprises and inspections it answers for), ``errors`` (files that could not be
    assessed, subjects without an owner) and ``outside`` (enterprises outside the plan's jurisdiction)."""

    year: int
    jurisdiction: str | None
    enterprises: tuple[Mapping[str, Any], ...]
    totals: Mapping[str, Mapping[str, Any]]
    errors: tuple[Mapping[str, Any], ...] = ()
    outside: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "year": self.year, "jurisdiction": self.jurisdiction,
                "enterprises": [dict(e) for e in self.enterprises], "totals": {k: dict(v) for k, v in self.totals.items()},
                "inspections": sum(int(e["inspections"]) for e in self.enterprises),
                "errors": [dict(e) for e in self.errors], "outside": list(self.outside)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as canonical JSON."""
        return dumps(self.to_dict(), indent=indent)

    def csv_rows(self, lang: str = "zh") -> list[list[str]]:
        """One row per enterprise (header first): id, name, sector, level, inspections, months,
        departments, items."""
        zh = lang == "zh"
        head = (["编号", "名称", "行业", "风险等级", "年检查次数", "检查月份", "责任部门", "检查内容"] if zh
                else ["id", "name", "sector", "level", "inspections", "months", "departments", "items"])
        rows = [head]
        for e in self.enterprises:
            rows.append([e["id"], e["name"], e["sector"], e["level"], str(e["inspections"]),
                         " ".join(str(m) for m in e["months"]),
                         "; ".join(d["zh" if zh else "en"] for d in e["departments"]), " ".join(e["items"])])
        return rows

    def text(self, lang: str = "zh") -> str:
        """The plan for people: one line per enterprise, then the totals per department."""
        zh = lang == "zh"
        lines = [f"{self.year} 年度差异化执法计划" if zh else f"differentiated enforcement plan {self.year}"]
        for e in self.enterprises:
            months = ",".join(str(m) for m in e["months"]) or "-"
            owners = "、".join(d["zh"] for d in e["departments"]) if zh else "; ".join(d["en"] for d in e["departments"])
            lines.append(f"  {e['id']} {e['name']} [{e['sector']} {e['level']}] "
                         + (f"每年 {e['inspections']} 次，{months} 月；{len(e['items'])} 项内容；{owners or '无责任主体'}" if zh
                            else f"{e['inspections']} a year, months {months}; {len(e['items'])} items; "
                                 f"{owners or 'NO OWNER'}"))
        lines.append("按部门合计" if zh else "totals per department")
        for name, t in self.totals.items():
            label = name if zh else str(t["en"])
            lines.append(f"  {label}: {t['enterprises']} {'家企业' if zh else 'enterprises'}, "
                         f"{t['inspections']} {'次检查' if zh else 'inspections'}")
        for err in self.errors:
            lines.append(f"  {'错误' if zh else 'ERROR'}: {err.get('file') or err.get('record')}: {err['code']}: "
                         f"{err.get('message_zh', err['message']) if zh else err['message']}")
        if self.outside:
            lines.append(f"  {'不在本辖区' if zh else 'outside the jurisdiction'}: {', '.join(self.outside)}")
        return "\n".join(lines)


def build_plan(year: int, results: Iterable[tuple[SupervisionResult, str]], *, jurisdiction: str | None = None,
               errors: Iterable[Mapping[str, Any]] = (), outside: Iterable[str] = ()) -> EnforcementPlan:
    """The plan of ``year`` from supervision results (each with the enterprise's name), sorted by id."""
    entries: list[dict[str, Any]] = []
    totals: dict[str, dict[str, Any]] = {}
    errs = list(errors)
    for res, name in sorted(results, key=lambda x: x[0].enterprise):
        depts = res.owner.departments() if res.owner is not None else []
        entries.append({"id": res.enterprise, "name": name, "sector": res.sector, "level": res.level.name,
                        "inspections": res.inspections, "months": spread_months(res.enterprise, res.inspections),
                        "departments": depts, "items": res.item_ids, "jurisdiction": res.jurisdiction})
        for d in depts:
            t = totals.setdefault(d["zh"], {"en": d["en"], "enterprises": 0, "inspections": 0})
            t["enterprises"] += 1
            if d["role"] != "government":
                t["inspections"] += res.inspections
        errs.extend({"enterprise": res.enterprise, **e} for e in res.errors)
    return EnforcementPlan(year, jurisdiction, tuple(entries), dict(sorted(totals.items())), tuple(errs),
                           tuple(sorted(outside)))
