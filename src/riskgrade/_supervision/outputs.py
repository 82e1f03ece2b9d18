"""What supervision an assessed enterprise gets: inspections, content, grid owners, insurance, control tiers.

:func:`supervise` reads an enterprise assessment (level, nodes, each risk point's ``control_tier``) and a
:class:`~riskgrade._supervision.declaration.Supervision` and returns a :class:`SupervisionResult`, whose
``to_dict()`` is the ``supervision`` object of ``riskgrade assess --format json``::

    {"inspection": {...}, "grid": {...}, "insurance": {...}, "control_tiers": {...}}

Every number names the citation it rests on, with its kind (clause / derived / local) and status.
A major risk, major hazard installation or major hidden danger whose owner cannot be found is an
error record (``grid-unassigned``) in ``grid.errors``, never a silent gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._core.spellings import ACCIDENT_GRADES, GRADE_ZH, accident_rank
from riskgrade._enterprise.graph import TIER_LABELS, EnterpriseAssessment
from riskgrade._enterprise.region import region_chain
from riskgrade._enterprise.rollup import months_before
from riskgrade._supervision.declaration import LEVELS, InspectionContent, ReassessmentCycle, Supervision

__all__ = ["GridOwner", "SupervisionResult", "control_tiers", "grid_code", "supervise"]

_ACC_ZH = dict(ACCIDENT_GRADES)
#: why a subject needs a grid owner, (zh, en)
REASONS = {"major-risk": ("重大风险", "major risk"), "major-hazard": ("重大危险源", "major hazard installation"),
           "major-hidden-danger": ("重大事故隐患", "major hidden danger")}
_TERMS = {"level": ("风险等级", "level"), "standardisation": ("安全生产标准化", "standardisation"),
          "accidents": ("事故记录", "accidents")}
NATIONAL_NOTE = ("国家《安全生产责任保险实施办法》(应急〔2017〕140号)中费率浮动的条文未取得，系数为本地配置，未核实",
                 "the national text on rate floating (应急〔2017〕140号) was not retrieved: the factor is a local "
                 "configuration, unverified")


def control_tiers(assessment: EnterpriseAssessment) -> dict[str, tuple[str, ...]]:
    """Each graded risk point's control tiers (管控层级), as the assessment gives them: today one tier per
    point (``NodeResult.control_tier``); a cascade (a sequence of tiers) is read the same way, so this
    one function is all that changes when the assessment's shape does.

    >>> import riskgrade, datetime
    >>> a = riskgrade.assess(None, "examples/region/jingyuan-fireworks.yaml", as_of=datetime.date(2027, 1, 1))
    >>> control_tiers(a)
    {'P-1': ('company',), 'P-2': ('team',)}
    """
    out: dict[str, tuple[str, ...]] = {}
    for r in sorted(assessment.risk_points, key=lambda r: r.id):
        tier: Any = r.control_tier
        if tier:
            out[r.id] = (tier,) if isinstance(tier, str) else tuple(str(t) for t in tier)
    return out


def grid_code(assessment: EnterpriseAssessment) -> str:
    """The jurisdiction that answers for the enterprise: its county-level code, or ``city/zone`` for a
    zone without a code of its own (the region roll-up's node)."""
    ent = assessment.enterprise
    return region_chain(ent.jurisdiction, ent.zone)[0]


@attrs.frozen
class GridOwner:
    """Who answers for a subject: the people's government of ``jurisdiction``, the competent sector
    department and the safety supervision department (names in zh and en)."""

    jurisdiction: str
    government: tuple[str, str]
    sector_department: tuple[str, str]
    safety_department: tuple[str, str]
    #: the bases: of the safety department, of the sector department, of the government
    cites: tuple[Citation, ...] = ()

    def departments(self) -> list[dict[str, str]]:
        """The three owners, government first; a department that is both sector and safety shows once."""
        out = [{"role": "government", "zh": self.government[0], "en": self.government[1]},
               {"role": "sector", "zh": self.sector_department[0], "en": self.sector_department[1]}]
        if self.safety_department != self.sector_department:
            out.append({"role": "safety", "zh": self.safety_department[0], "en": self.safety_department[1]})
        else:
            out[1]["role"] = "sector+safety"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"jurisdiction": self.jurisdiction, "departments": self.departments(),
                "cites": [c.to_dict() for c in self.cites]}


@attrs.frozen
class SupervisionResult:
    """The supervision of one enterprise: how often and on what it is inspected (``inspections`` a year,
    ``items`` to check, re-assessment ``cycles``), its grid ``owner`` and the ``subjects`` that need one,
    its insurance ``factor`` with the terms that make it up, and each risk point's control tiers."""

    enterprise: str
    sector: str
    level: Level
    jurisdiction: str
    layers: tuple[str, ...]
    inspections: int
    inspection_cite: Citation
    items: tuple[tuple[str, str, str, str], ...]
    item_cites: tuple[Citation, ...]
    cycles: tuple[ReassessmentCycle, ...]
    owner: GridOwner | None
    subjects: tuple[tuple[str, str, str, str], ...]
    errors: tuple[Mapping[str, Any], ...]
    factor: float
    terms: tuple[tuple[str, str, float, Citation], ...]
    insurance_status: str
    insurance_cites: tuple[Citation, ...]
    tiers: Mapping[str, tuple[str, ...]]
    tier_levels: Mapping[str, Level]

    @property
    def item_ids(self) -> list[str]:
        """The determination items as ``ruleset#rule``."""
        return [f"{rs}#{rid}" for rs, rid, _, _ in self.items]

    def to_dict(self) -> dict[str, Any]:
        by_tier: dict[str, int] = {}
        for tiers in self.tiers.values():
            for t in tiers:
                by_tier[t] = by_tier.get(t, 0) + 1
        return {
            "inspection": {
                "sector": self.sector, "level": self.level.name, "per_year": self.inspections,
                "cite": self.inspection_cite.to_dict(), "jurisdiction": self.jurisdiction,
                "layers": list(self.layers), "items": self.item_ids,
                "item_sources": [c.to_dict() for c in self.item_cites],
                "cycles": [{"id": c.id, "label": {"zh": c.label_zh, "en": c.label_en}, "months": c.months,
                            "cite": c.cite.to_dict()} for c in self.cycles],
            },
            "grid": {
                "owner": None if self.owner is None else self.owner.to_dict(),
                "subjects": [{"id": sid, "kind": kind, "name": name, "reason": reason}
                             for sid, kind, name, reason in self.subjects],
                "errors": [dict(e) for e in self.errors],
            },
            "insurance": {
                "factor": self.factor, "status": self.insurance_status,
                "terms": [{"term": term, "key": key, "value": value, "cite": cite.to_dict()}
                          for term, key, value, cite in self.terms],
                "sources": [c.to_dict() for c in self.insurance_cites],
                "note": {"zh": NATIONAL_NOTE[0], "en": NATIONAL_NOTE[1]},
            },
            "control_tiers": {
                "points": {pid: {"level": self.tier_levels[pid].name, "tiers": list(t)}
                           for pid, t in sorted(self.tiers.items())},
                "by_tier": dict(sorted(by_tier.items())),
            },
        }

    def text(self, lang: str = "en") -> str:
        """The supervision for people, in ``lang`` (``zh`` or ``en``)."""
        zh = lang == "zh"
        lv = self.level.zh if zh else self.level.name
        lines = ["差异化监管" if zh else "supervision",
                 (f"  检查频次: 每年 {self.inspections} 次({self.sector}，{lv}); 依据: {self.inspection_cite.text(lang)}"
                  if zh else f"  inspections: {self.inspections} a year ({self.sector}, {lv}); cite: "
                  f"{self.inspection_cite.text(lang)}"),
                 (f"  检查内容: {len(self.items)} 项判定标准条目" if zh
                  else f"  inspection content: {len(self.items)} determination items")]
        for ic in self.item_cites:
            lines.append(f"    - {ic.text(lang)}")
        for c in self.cycles:
            lines.append(f"  复评周期: {c.label_zh} 每 {c.months} 个月; 依据: {c.cite.text(lang)}" if zh
                          else f"  re-assessment: {c.label_en} every {c.months} months; cite: {c.cite.text(lang)}")
        if self.owner is not None:
            names = "、".join(d["zh"] for d in self.owner.departments()) if zh else \
                "; ".join(d["en"] for d in self.owner.departments())
            lines.append(f"  网格责任: {names}" if zh else f"  grid owners: {names}")
            cites = "; ".join(c.text(lang) for c in self.owner.cites)
            lines.append(f"    依据: {cites}" if zh else f"    cite: {cites}")
        for sid, _kind, name, reason in self.subjects:
            r = REASONS[reason][0 if zh else 1]
            lines.append(f"    - {r} {sid}（{name}）" if zh else f"    - {r} {sid} ({name})")
        for e in self.errors:
            lines.append(f"  {'错误' if zh else 'ERROR'}: {e['code']}: {e['message_zh' if zh else 'message']}")
        lines.append((f"  保险费率浮动系数: {self.factor:g}" if zh else f"  insurance rate factor: {self.factor:g}")
                     + f" ({'未核实' if zh else 'unverified'})" * (self.insurance_status != "verified"))
        for term, key, value, cite in self.terms:
            label = _TERMS[term][0 if zh else 1]
            lines.append(f"    {label} {key}: {value:+g}; {'依据' if zh else 'cite'}: {cite.text(lang)}")
        lines.append(f"    {NATIONAL_NOTE[0 if zh else 1]}")
        for pid, tiers in sorted(self.tiers.items()):
            names = "、".join(TIER_LABELS.get(t, (t, t))[0] for t in tiers) if zh else \
                ", ".join(TIER_LABELS.get(t, (t, t))[1] for t in tiers)
            lines.append(f"  管控层级 {pid}: {names}" if zh else f"  control tiers {pid}: {names}")
        return "\n".join(lines)


def _applies(when: str | None, graded_by: set[str]) -> bool:
    return when is None or when in graded_by


def _graded_by(assessment: EnterpriseAssessment) -> set[str]:
    """The ruleset ids that graded a node of the enterprise (its sub-sector shows in them)."""
    return {r.ruleset for r in assessment.nodes.values() if r.ruleset} | set(assessment.rulesets)


def supervise(assessment: EnterpriseAssessment, supervision: Supervision) -> SupervisionResult:
    """The supervision of the assessed enterprise under ``supervision`` (see the module docstring).

    An enterprise of several sectors is inspected as often as its strictest sector says and on the
    content of all of them; its grid owner is the competent department of its first sector.
    """
    ent = assessment.enterprise
    level = assessment.level
    sectors = tuple(ent.sectors)
    idx = LEVELS.index(level)
    best = max(sectors, key=lambda s: (supervision.row(s)[0][idx], -sectors.index(s)))
    counts, cites = supervision.row(best)
    graded_by = _graded_by(assessment)
    items: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    item_cites: list[Citation] = []
    for s in sectors:
        groups: Sequence[InspectionContent] = supervision.content.get(s, ())
        for g in groups:
            if not _applies(g.when, graded_by):
                continue
            item_cites.append(g.cite)
            for rid, zh, en in g.rules:
                items.setdefault((g.ruleset, rid), (g.ruleset, rid, zh, en))
    cycles = tuple(c for c in supervision.cycles
                   if ("all" in c.sectors or set(c.sectors) & set(sectors)) and _applies(c.when, graded_by))
    owner, errors = _owner(assessment, supervision, sectors[0])
    subjects = _subjects(assessment)
    if owner is None:
        errors = errors + tuple(_unassigned(sid, kind, reason, errors[0]["message"], errors[0]["message_zh"])
                                for sid, kind, _, reason in subjects)
    factor, terms = _insurance(assessment, supervision)
    tiers = control_tiers(assessment)
    ins = supervision.insurance
    return SupervisionResult(
        ent.id, best, level, grid_code(assessment), supervision.layers, counts[idx], cites[idx],
        tuple(items.values()), tuple(item_cites), cycles, owner, subjects, errors, factor, terms, ins.status,
        (ins.cite, ins.formula_cite), tiers, {pid: assessment.nodes[pid].level for pid in tiers})


def _owner(assessment: EnterpriseAssessment, sup: Supervision,
           sector: str) -> tuple[GridOwner | None, tuple[Mapping[str, Any], ...]]:
    ent = assessment.enterprise
    code = grid_code(assessment)
    gov = sup.governments.get(code)
    dept = sup.sector_departments.get(sector)
    if gov is None:
        msg = (f"no government is declared for {code} in the supervision of {sup.jurisdiction} "
               f"(grid.governments); the enterprise has no grid owner")
        msg_zh = f"{sup.jurisdiction} 的监管配置中没有 {code} 的属地政府(grid.governments)，企业无网格责任主体"
        return None, (_unassigned(ent.id, "enterprise", "enterprise", msg, msg_zh, "jurisdiction"),)
    if dept is None or not sup.safety_department[0]:
        msg = f"no competent department is declared for sector {sector!r} (grid.sector_departments)"
        msg_zh = f"没有为行业 {sector!r} 配置主管部门(grid.sector_departments)"
        return None, (_unassigned(ent.id, "enterprise", "enterprise", msg, msg_zh, "sectors"),)
    safety = sup.safety_department
    return GridOwner(code, (gov.name_zh, gov.name_en), (gov.prefix_zh + dept[0], f"{gov.prefix_en} {dept[1]}"),
                     (gov.prefix_zh + safety[0], f"{gov.prefix_en} {safety[1]}"),
                     (sup.grid_cite, sup.sector_cite, gov.cite)), ()


def _unassigned(record: str, kind: str, reason: str, message: str, message_zh: str,
                field: str = "jurisdiction") -> dict[str, Any]:
    return {"code": "grid-unassigned", "record": record, "kind": kind, "reason": reason, "field": field,
            "message": message, "message_zh": message_zh}


def _subjects(assessment: EnterpriseAssessment) -> tuple[tuple[str, str, str, str], ...]:
    """Every major risk (RED risk point), major hazard installation and open major hidden danger."""
    ent = assessment.enterprise
    out = [(r.id, "risk_point", r.name, "major-risk") for r in sorted(assessment.risk_points, key=lambda r: r.id)
           if r.level == Level.RED]
    out += [(u.id, "unit", u.name, "major-hazard") for u in sorted(ent.units, key=lambda u: u.id)
            if u.major_hazard_grade is not None]
    out += [(h.id, "hidden_danger", h.description or h.id, "major-hidden-danger")
            for h in sorted(ent.hidden_dangers, key=lambda h: h.id)
            if h.grade == "major" and h.is_open(assessment.as_of)]
    return tuple(out)


def _insurance(assessment: EnterpriseAssessment, sup: Supervision) -> tuple[float, tuple[tuple[str, str, float, Citation], ...]]:
    ins = sup.insurance
    ent = assessment.enterprise
    std = GRADE_ZH.get(ent.standardisation or 0, "none") if ent.standardisation in (1, 2, 3) else "none"
    start = months_before(assessment.as_of, ins.within_months)
    worst = max((a.severity for a in ent.accidents if start < a.date <= assessment.as_of),
                key=accident_rank, default=None)
    acc = _ACC_ZH[worst] if worst is not None else "none"
    terms = (("level", assessment.level.name, ins.level[assessment.level.name], ins.level_cite),
             ("standardisation", std, ins.standardisation[std], ins.standardisation_cite),
             ("accidents", acc, ins.accidents[acc], ins.accidents_cite))
    raw = ins.base + sum(t[2] for t in terms)
    return round(min(max(raw, ins.low), ins.high), 6), terms

