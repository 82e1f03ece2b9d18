"""Supervision declared in YAML per jurisdiction: a province default refined by city/county layers.

A ``kind: supervision`` file (``rulesets/supervision/gansu.yaml``) declares, for one province:

- ``inspection``: inspections per enterprise per year by sector and level (``default`` for the others);
- ``cycles``: re-assessment cycles in months (the hazchem diagnosis every 36);
- ``content``: which determination items (rule ids of shipped major-hidden-danger rulesets) to check;
- ``grid``: the safety department, the competent department per sector, the governments by GB/T 2260 code;
- ``insurance``: the safety-liability insurance adjustment factor (base, bounds, adjustments).

A ``kind: supervision-layer`` file refines it for a city or county, **stricter only**: more inspections,
shorter cycles, more content, more grid assignments, higher insurance loadings. A layer that would loosen
anything is a :class:`~riskgrade.RefinementError` (``refine-looser``) naming the layer's ``file:line``.

>>> s = load_chain("620421")
>>> s.inspections("fireworks", Level.ORANGE), s.inspections("fireworks", Level.ORANGE, upto="620400")
(10, 8)
>>> [lay.split(" ")[0] for lay in s.layers]
['620000', '620400', '620421']
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import attrs

from riskgrade._compile.layers import LocatedFile
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._core.spellings import ACCIDENT_GRADES, GRADE_ZH
from riskgrade._source import registry
from riskgrade._source.yaml import Located, load_yaml
from riskgrade._validate import schema as _schema
from riskgrade.exceptions import Problem, RefinementError, RulesetError

__all__ = [
    "LEVELS",
    "SCHEMA",
    "GridGovernment",
    "InspectionContent",
    "InsuranceRule",
    "ReassessmentCycle",
    "Supervision",
    "load_chain",
    "read_supervision",
    "shipped_files",
]

#: the levels, lowest first, as the ``inspection`` rows name them
LEVELS: tuple[Level, ...] = (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)
_LEVEL_NAMES = [lv.name for lv in LEVELS]
_ID = r"^[a-z][a-z0-9\-]*$"
_SECTOR_KEYS = [*sorted(_schema.SECTORS), "default"]
_STD_KEYS = [GRADE_ZH[g] for g in (1, 2, 3)] + ["none"]  # 一级, 二级, 三级, none
_ACC_KEYS = [zh for _, zh in ACCIDENT_GRADES]  # 一般 … 特别重大

_CITE: dict[str, Any] = {"type": "dict", "schema": {
    "source": {"type": "string", "required": True},
    "clause": {"type": ["string", "integer"]},
    "basis": {"type": "string", "required": True, "allowed": ["clause", "derived", "local"]},
    "note": _schema._text,
}}
_WHEN: dict[str, Any] = {"type": "dict", "schema": {"ruleset": {"type": "string", "required": True}}}
_NAME: dict[str, Any] = {"type": "dict", "schema": {"zh": {"type": "string", "required": True},
                                                     "en": {"type": "string", "required": True}}}
_COUNT = {"type": "integer", "min": 0, "max": 366}
_ADJ = {"type": "number", "min": -1, "max": 1}

#: the schema of a ``kind: supervision`` file (a layer's is the same, every section optional)
SCHEMA: dict[str, Any] = {
    "riskgrade": {"type": "integer", "required": True, "allowed": [_schema.FORMAT_VERSION]},
    "kind": {"type": "string", "required": True, "allowed": ["supervision", "supervision-layer"]},
    "id": {"type": "string", "required": True, "regex": _ID},
    "title": {**_schema.label_schema, "required": True},
    "jurisdiction": {"type": "string", "required": True},
    "refines": {"type": "string", "regex": _ID},
    "requires": {"type": "list", "schema": {"type": "string", "regex": _ID}},
    "version": {"type": "string", "required": True},
    "note": _schema._text,
    "sources": {"type": "dict", "keysrules": {"type": "string", "regex": r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"},
                "valuesrules": {"type": "dict", "schema": _schema.SOURCE}},
    "inspection": {"type": "dict", "keysrules": {"type": "string", "allowed": _SECTOR_KEYS},
                   "valuesrules": {"type": "dict", "schema": {
                       **{lv: _COUNT for lv in _LEVEL_NAMES}, "cite": {**_CITE, "required": True}}}},
    "cycles": {"type": "list", "schema": {"type": "dict", "schema": {
        "id": {"type": "string", "required": True, "regex": _ID},
        "sectors": {"type": ["string", "list"], "allowed": ["all", *_SECTOR_KEYS]},
        "when": _WHEN,
        "label": _NAME,
        "months": {"type": "integer", "required": True, "min": 1, "max": 120},
        "cite": {**_CITE, "required": True},
    }}},
    "content": {"type": "dict", "keysrules": {"type": "string", "allowed": _SECTOR_KEYS},
                "valuesrules": {"type": "list", "schema": {"type": "dict", "schema": {
                    "ruleset": {"type": "string", "required": True},
                    "rules": {"type": ["string", "list"], "required": True},
                    "except": {"type": "list", "schema": {"type": "string"}},
                    "when": _WHEN,
                    "cite": {**_CITE, "required": True},
                }}}},
    "grid": {"type": "dict", "schema": {
        "safety_department": _NAME,
        "cite": _CITE,
        "sector_departments": {"type": "dict", "keysrules": {"type": "string", "allowed": _SECTOR_KEYS},
                               "valuesrules": _NAME},
        "sector_cite": _CITE,
        "governments": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": {"type": "dict", "schema": {
            "name": {**_NAME, "required": True}, "prefix": {**_NAME, "required": True}}}},
    }},
    "insurance": {"type": "dict", "schema": {
        "status": {"type": "string", "allowed": ["verified", "unverified", "partial"]},
        "cite": _CITE,
        "formula_cite": _CITE,
        "base": {"type": "number", "min": 0.1, "max": 10},
        "min": {"type": "number", "min": 0, "max": 10},
        "max": {"type": "number", "min": 0, "max": 10},
        "level": {"type": "dict", "schema": {**{lv: _ADJ for lv in _LEVEL_NAMES}, "cite": _CITE}},
        "standardisation": {"type": "dict", "schema": {**{k: _ADJ for k in _STD_KEYS}, "cite": _CITE}},
        "accidents": {"type": "dict", "schema": {
            **{k: _ADJ for k in [*_ACC_KEYS, "none"]}, "within_months": {"type": "integer", "min": 1, "max": 60},
            "cite": _CITE}},
    }},
}

_NO_CITE = Citation("")

#: what a province file must declare (a layer may leave any of it out)
_REQUIRED = ("sources", "inspection", "cycles", "content", "grid", "insurance")


@attrs.frozen
class ReassessmentCycle:
    """A re-assessment cycle: ``id``, the ``sectors`` it applies to (``("all",)`` for every sector), an
    optional ``when`` ruleset (the enterprise has a node graded by it), the label and ``months``."""

    id: str
    sectors: tuple[str, ...]
    label_zh: str
    label_en: str
    months: int
    cite: Citation
    when: str | None = None


@attrs.frozen
class InspectionContent:
    """A group of determination items to inspect: rules ``rules`` (``(id, zh, en)``) of ``ruleset``."""

    ruleset: str
    rules: tuple[tuple[str, str, str], ...]
    cite: Citation
    when: str | None = None


@attrs.frozen
class GridGovernment:
    """The people's government (or zone committee) of a jurisdiction and the prefix of its departments."""

    code: str
    name_zh: str
    name_en: str
    prefix_zh: str
    prefix_en: str
    cite: Citation


@attrs.frozen
class InsuranceRule:
    """The insurance rate float: ``factor = base + Σ adjustments``, clamped to ``[low, high]``."""

    base: float
    low: float
    high: float
    level: Mapping[str, float]
    standardisation: Mapping[str, float]
    accidents: Mapping[str, float]
    within_months: int
    status: str
    cite: Citation
    formula_cite: Citation
    level_cite: Citation
    standardisation_cite: Citation
    accidents_cite: Citation


@attrs.frozen
class Supervision:
    """The supervision declaration in force in one jurisdiction: the province default and every layer
    down to it, merged (stricter only). ``layers`` are the jurisdictions' labels, province first;
    ``history`` keeps each step's inspection table so that a result can say what a layer changed."""

    id: str
    jurisdiction: str
    layers: tuple[str, ...]
    files: tuple[str, ...]
    inspection: Mapping[str, tuple[tuple[int, ...], tuple[Citation, ...]]]
    cycles: tuple[ReassessmentCycle, ...]
    content: Mapping[str, tuple[InspectionContent, ...]]
    safety_department: tuple[str, str]
    sector_departments: Mapping[str, tuple[str, str]]
    grid_cite: Citation
    sector_cite: Citation
    governments: Mapping[str, GridGovernment]
    insurance: InsuranceRule
    history: tuple[tuple[str, Mapping[str, tuple[tuple[int, ...], tuple[Citation, ...]]]], ...] = attrs.field(eq=False,
                                                                                                 default=())

    def row(self, sector: str) -> tuple[tuple[int, ...], tuple[Citation, ...]]:
        """The inspection row of ``sector`` (``default`` when the sector has none)."""
        return self.inspection.get(sector) or self.inspection["default"]

    def inspections(self, sector: str, level: Level, upto: str | None = None) -> int:
        """Inspections per year for ``sector`` at ``level`` (as of the layer of ``upto``, default all)."""
        table = self.inspection
        if upto is not None:
            table = next(t for label, t in self.history if label.split(" ")[0] == upto)
        counts, _ = table.get(sector) or table["default"]
        return counts[LEVELS.index(level)]


# ----------------------------------------------------------------------------------------------- reading


@functools.lru_cache(maxsize=1)
def _shipped_dir() -> str:
    return str(resources.files("riskgrade.rulesets").joinpath("supervision"))


def shipped_files() -> list[str]:
    """The supervision files shipped in ``riskgrade.rulesets`` (``rulesets/supervision/``), sorted."""
    root = _shipped_dir()
    if not os.path.isdir(root):
        return []
    return sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith((".yaml", ".yml")))


def _display(path: str) -> str:
    root = os.path.dirname(str(resources.files("riskgrade.rulesets")))
    ap = os.path.abspath(path)
    return os.path.relpath(ap, root).replace(os.sep, "/") if ap.startswith(root + os.sep) else path


@attrs.frozen
class _File(LocatedFile):
    """A supervision file or supervision layer, checked (``file``: the path shown, as in ``located``)."""

    located: Located
    file: str
    kind: str
    id: str
    jurisdiction: str
    refines: str | None
    requires: tuple[str, ...]


def read_supervision(path: str) -> _File:
    """Read and schema-check one supervision or supervision-layer file; raises :class:`RulesetError`."""
    located = load_yaml(path)
    located = Located(located.data, _display(path), located.marks)
    data = located.data
    problems = _schema.check(data, SCHEMA, located)
    if problems:
        raise RulesetError(problems)
    assert isinstance(data, dict)
    kind = data["kind"]
    if kind == "supervision":
        problems += [located.problem((), "missing-key", f"required key {k!r} is missing") for k in _REQUIRED
                     if k not in data]
        if "refines" in data:
            problems.append(located.problem(("refines",), "unknown-key", "a province default refines nothing",
                                            key=True))
    elif "refines" not in data:
        problems.append(located.problem((), "missing-key", "required key 'refines' is missing"))
    try:
        j = _jurisdictions.get(str(data["jurisdiction"]))
    except RulesetError as e:
        problems.append(located.problem(("jurisdiction",), "unknown-jurisdiction", e.problems[0].message))
    else:
        if kind == "supervision" and j.kind != "province":
            problems.append(located.problem(("jurisdiction",), "bad-value",
                                            f"a province default needs a province code, not {j.label}"))
        if kind == "supervision-layer" and j.kind == "province":
            problems.append(located.problem(("jurisdiction",), "bad-value",
                                            "a layer refines a province default for a city, county or zone"))
    if problems:
        raise RulesetError(problems)
    return _File(located, located.file, kind, data["id"], _jurisdictions.get(str(data["jurisdiction"])).code,
                 data.get("refines"), tuple(data.get("requires") or ()))


# ----------------------------------------------------------------------------------------------- merging


@attrs.define
class _Builder:
    """The declaration being merged, step by step down the chain; problems collected per step."""

    jurisdiction: str
    sources: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    inspection: dict[str, tuple[tuple[int, ...], tuple[Citation, ...]]] = attrs.field(factory=dict)
    cycles: dict[str, ReassessmentCycle] = attrs.field(factory=dict)
    content: dict[str, list[InspectionContent]] = attrs.field(factory=dict)
    safety: tuple[str, str] = ("", "")
    departments: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    grid_cite: Citation = _NO_CITE
    sector_cite: Citation = _NO_CITE
    governments: dict[str, GridGovernment] = attrs.field(factory=dict)
    ins: dict[str, Any] = attrs.field(factory=dict)
    problems: list[Problem] = attrs.field(factory=list)
    looser: list[Problem] = attrs.field(factory=list)
    history: list[tuple[str, Mapping[str, tuple[tuple[int, ...], tuple[Citation, ...]]]]] = attrs.field(factory=list)

    def apply(self, f: _File, label: str, province: bool) -> None:
        loc = f.located
        d = f.data
        for key, src in (d.get("sources") or {}).items():
            if key in self.sources:
                self.problems.append(loc.problem(("sources", key), "duplicate-id",
                                                 f"source {key!r} is already declared above", key=True))
            self.sources[key] = src
        layer = "" if province else label
        self._inspection(f, d.get("inspection") or {}, layer, province)
        self._cycles(f, d.get("cycles") or [], layer)
        for sector, groups in (d.get("content") or {}).items():
            for i, g in enumerate(groups):
                group = self._group(f, ("content", sector, i), g, layer)
                if group is not None:
                    self.content.setdefault(sector, []).append(group)
        self._grid(f, d.get("grid") or {}, layer)
        self._insurance(f, d.get("insurance") or {}, layer, province)
        self.history.append((label, dict(self.inspection)))

    def cite(self, f: _File, path: tuple[Any, ...], c: Mapping[str, Any] | None, layer: str) -> Citation:
        if not c:
            return Citation("")
        src = self.sources.get(str(c["source"]))
        if src is None:
            self.problems.append(f.located.problem((*path, "source"), "unknown-source",
                                                   f"no source {c['source']!r} (declare it under sources:)"))
            src = {}
        title = src.get("title")
        note = c.get("note")
        return Citation(str(c["source"]), title=_zh(title), number=str(src.get("number", "")),
                        clause=str(c.get("clause") or src.get("clause") or ""), basis=str(c["basis"]),
                        status=str(src.get("status", "unverified")), layer=layer, note=_zh(note))

    def _looser(self, f: _File, path: tuple[Any, ...], message: str, message_zh: str) -> None:
        self.looser.append(f.located.problem(path, "refine-looser", message, message_zh=message_zh,
                                             hint="a layer may only supervise more strictly than the jurisdiction above",
                                             hint_zh="下级只能比上级监管更严"))

    def _inspection(self, f: _File, rows: Mapping[str, Any], layer: str, province: bool) -> None:
        if province and "default" not in rows:
            self.problems.append(f.located.problem(("inspection",), "missing-key",
                                                   "required key 'default' is missing (the sectors not listed)"))
        for sector, row in rows.items():
            path = ("inspection", sector)
            old = self.inspection.get(sector) or self.inspection.get("default")
            cite = self.cite(f, (*path, "cite"), row["cite"], layer)
            counts: list[int] = []
            cites: list[Citation] = []
            for i, lv in enumerate(_LEVEL_NAMES):
                cites.append(cite if lv in row or old is None else old[1][i])
                if lv in row:
                    n = int(row[lv])
                    if old is not None and n < old[0][i]:
                        self._looser(f, (*path, lv), f"{sector} {lv}: {n} inspections a year is fewer than the "
                                     f"{old[0][i]} declared above", f"{sector} {lv}: 每年 {n} 次少于上级规定的 "
                                     f"{old[0][i]} 次")
                    counts.append(n)
                elif old is not None:
                    counts.append(old[0][i])
                else:
                    self.problems.append(f.located.problem(path, "missing-key", f"required key {lv!r} is missing"))
                    counts.append(0)
            for i in range(1, len(counts)):
                if counts[i] < counts[i - 1]:
                    self.problems.append(f.located.problem(
                        (*path, _LEVEL_NAMES[i]) if _LEVEL_NAMES[i] in row else path, "inspection-not-monotone",
                        f"{sector}: {_LEVEL_NAMES[i]} is inspected less often ({counts[i]}) than "
                        f"{_LEVEL_NAMES[i - 1]} ({counts[i - 1]})",
                        message_zh=f"{sector}: {_LEVEL_NAMES[i]} 的检查次数({counts[i]})少于 "
                                   f"{_LEVEL_NAMES[i - 1]}({counts[i - 1]})"))
            self.inspection[sector] = (tuple(counts), tuple(cites))

    def _cycles(self, f: _File, items: Sequence[Mapping[str, Any]], layer: str) -> None:
        seen: set[str] = set()
        for i, c in enumerate(items):
            path = ("cycles", i)
            cid = str(c["id"])
            if cid in seen:
                self.problems.append(f.located.problem((*path, "id"), "duplicate-id", f"cycle {cid!r} is listed twice"))
            seen.add(cid)
            cite = self.cite(f, (*path, "cite"), c["cite"], layer)
            old = self.cycles.get(cid)
            if old is not None:
                for key in ("sectors", "when", "label"):
                    if key in c:
                        self.problems.append(f.located.problem(
                            (*path, key), "layer-conflict", f"cycle {cid!r} is declared above; a layer may only "
                            "shorten its months", key=True))
                if int(c["months"]) > old.months:
                    self._looser(f, (*path, "months"), f"cycle {cid!r}: every {c['months']} months is longer than "
                                 f"the {old.months} declared above",
                                 f"周期 {cid!r}: 每 {c['months']} 个月长于上级规定的 {old.months} 个月")
                self.cycles[cid] = attrs.evolve(old, months=min(old.months, int(c["months"])), cite=cite)
                continue
            missing = [k for k in ("sectors", "label") if k not in c]
            if missing:
                self.problems.append(f.located.problem(path, "missing-key",
                                                       f"a new cycle needs {', '.join(missing)}"))
                continue
            sectors = c["sectors"]
            when = c.get("when")
            self.cycles[cid] = ReassessmentCycle(cid, (sectors,) if isinstance(sectors, str) else tuple(sectors),
                                     c["label"]["zh"], c["label"]["en"], int(c["months"]), cite,
                                     when["ruleset"] if when else None)

    def _group(self, f: _File, path: tuple[Any, ...], g: Mapping[str, Any], layer: str) -> InspectionContent | None:
        cite = self.cite(f, (*path, "cite"), g["cite"], layer)
        known = _rule_ids(str(g["ruleset"]))
        if known is None:
            self.problems.append(f.located.problem((*path, "ruleset"), "unknown-ruleset",
                                                   f"no shipped ruleset {g['ruleset']!r}"))
            return None
        rules = g["rules"]
        if isinstance(rules, str) and rules != "all":
            self.problems.append(f.located.problem((*path, "rules"), "bad-value",
                                                   f"rules is 'all' or a list of rule ids, not {rules!r}"))
            return None
        wanted = list(known) if rules == "all" else [str(r) for r in rules]
        for key in ("except",) if "except" in g else ():
            wanted = [r for r in wanted if r not in set(map(str, g[key]))]
        named = [*([] if rules == "all" else [(("rules", k), r) for k, r in enumerate(wanted)]),
                 *[(("except", k), str(r)) for k, r in enumerate(g.get("except") or ())]]
        for sub, rid in named:
            if rid not in known:
                self.problems.append(f.located.problem((*path, *sub), "unknown-rule",
                                                       f"ruleset {g['ruleset']!r} has no rule {rid!r}"))
        when = g.get("when")
        if when and _rule_ids(str(when["ruleset"])) is None:
            self.problems.append(f.located.problem((*path, "when", "ruleset"), "unknown-ruleset",
                                                   f"no shipped ruleset {when['ruleset']!r}"))
        items = tuple((r, *known[r]) for r in wanted if r in known)
        return InspectionContent(str(g["ruleset"]), items, cite, when["ruleset"] if when else None)

    def _grid(self, f: _File, grid: Mapping[str, Any], layer: str) -> None:
        if "safety_department" in grid:
            new = (grid["safety_department"]["zh"], grid["safety_department"]["en"])
            if self.safety[0] and new != self.safety:
                self.problems.append(f.located.problem(("grid", "safety_department"), "layer-conflict",
                                                       "the safety department is declared above"))
            self.safety = new
        # the first ``cite`` is the basis of the safety department; a layer's is the basis of its governments
        cite = self.cite(f, ("grid", "cite"), grid["cite"], layer) if "cite" in grid else self.grid_cite
        if not self.grid_cite.source:
            self.grid_cite = cite
        if "sector_cite" in grid:
            self.sector_cite = self.cite(f, ("grid", "sector_cite"), grid["sector_cite"], layer)
        for sector, name in (grid.get("sector_departments") or {}).items():
            new = (name["zh"], name["en"])
            if sector in self.departments and self.departments[sector] != new:
                self.problems.append(f.located.problem(("grid", "sector_departments", sector), "layer-conflict",
                                                       f"the department of {sector} is declared above"))
            self.departments[sector] = new
        for code, g in (grid.get("governments") or {}).items():
            path = ("grid", "governments", code)
            try:
                j = _jurisdictions.get(str(code))
            except RulesetError as e:
                self.problems.append(f.located.problem(path, "unknown-jurisdiction", e.problems[0].message, key=True))
                continue
            if not _within(j.code, f.jurisdiction):
                self.problems.append(f.located.problem(path, "bad-value", f"{j.label} is not within "
                                                       f"{_jurisdictions.get(f.jurisdiction).label}", key=True))
                continue
            gov = GridGovernment(j.code, g["name"]["zh"], g["name"]["en"], g["prefix"]["zh"], g["prefix"]["en"], cite)
            if j.code in self.governments and attrs.evolve(self.governments[j.code], cite=cite) != gov:
                self.problems.append(f.located.problem(path, "layer-conflict",
                                                       f"the government of {j.label} is declared above", key=True))
                continue
            self.governments[j.code] = gov

    def _insurance(self, f: _File, ins: Mapping[str, Any], layer: str, province: bool) -> None:
        if province:
            for key in ("base", "min", "max", "level", "standardisation", "accidents", "cite", "formula_cite"):
                if key not in ins:
                    self.problems.append(f.located.problem(("insurance",), "missing-key",
                                                           f"required key {key!r} is missing"))
        for key in ("base", "min", "max"):
            if key in ins:
                self._not_lower(f, ("insurance", key), key, self.ins.get(key), float(ins[key]))
                self.ins[key] = float(ins[key])
        for part, keys in (("level", _LEVEL_NAMES), ("standardisation", _STD_KEYS), ("accidents", [*_ACC_KEYS, "none"])):
            given = ins.get(part) or {}
            table = dict(self.ins.get(part) or {})
            for k in keys:
                if k in given:
                    self._not_lower(f, ("insurance", part, k), f"{part} {k}", table.get(k), float(given[k]))
                    table[k] = float(given[k])
                elif province and part in ins:
                    self.problems.append(f.located.problem(("insurance", part), "missing-key",
                                                           f"required key {k!r} is missing"))
            self.ins[part] = table
            if "cite" in given:
                self.ins[f"{part}_cite"] = self.cite(f, ("insurance", part, "cite"), given["cite"], layer)
        if "within_months" in (ins.get("accidents") or {}):
            n = int(ins["accidents"]["within_months"])
            old = self.ins.get("within_months")
            if old is not None and n < old:
                self._looser(f, ("insurance", "accidents", "within_months"),
                             f"counting accidents over {n} months is shorter than the {old} declared above",
                             f"统计 {n} 个月内的事故短于上级规定的 {old} 个月")
            self.ins["within_months"] = max(n, old or 0)
        elif province:
            self.ins["within_months"] = 12
        for key in ("cite", "formula_cite"):
            if key in ins:
                self.ins[key] = self.cite(f, ("insurance", key), ins[key], layer)
        if "status" in ins:
            self.ins["status"] = ins["status"]

    def _not_lower(self, f: _File, path: tuple[Any, ...], what: str, old: float | None, new: float) -> None:
        if old is not None and new < old:
            self._looser(f, path, f"insurance {what}: {new:g} is lower than the {old:g} declared above "
                         "(a layer may only raise loadings)", f"保险 {what}: {new:g} 低于上级规定的 {old:g}(只能上调)")

    def build(self, sup_id: str, layers: tuple[str, ...], files: tuple[str, ...]) -> Supervision:
        ins = self.ins
        none = Citation("")
        insurance = InsuranceRule(ins.get("base", 1.0), ins.get("min", 0.0), ins.get("max", 10.0), ins.get("level", {}),
                              ins.get("standardisation", {}), ins.get("accidents", {}), ins.get("within_months", 12),
                              ins.get("status", "unverified"), ins.get("cite", none), ins.get("formula_cite", none),
                              ins.get("level_cite", none), ins.get("standardisation_cite", none),
                              ins.get("accidents_cite", none))
        return Supervision(sup_id, self.jurisdiction, layers, files, dict(self.inspection),
                           tuple(self.cycles.values()), {k: tuple(v) for k, v in sorted(self.content.items())},
                           self.safety, dict(self.departments), self.grid_cite, self.sector_cite,
                           dict(sorted(self.governments.items())), insurance, tuple(self.history))


def _within(code: str, jurisdiction: str) -> bool:
    """``code`` is ``jurisdiction`` or below it."""
    return any(j.code == _jurisdictions.get(jurisdiction).code for j in _jurisdictions.chain(code))


def _zh(text: Any) -> str:
    if isinstance(text, Mapping):
        return str(text.get("zh") or text.get("en") or "")
    return "" if text is None else str(text)


_RULES: dict[str, tuple[tuple[int, int], dict[str, tuple[str, str]] | None]] = {}


def _rule_ids(ref: str) -> dict[str, tuple[str, str]] | None:
    """The rule ids of the shipped ruleset ``ref`` with their labels (zh, en), or None when there is none."""
    try:
        path = registry.find(ref)
    except RulesetError:
        return None
    st = os.stat(path)
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _RULES.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    data = load_yaml(path).data
    out: dict[str, tuple[str, str]] | None = None
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        out = {}
        for r in data["rules"]:
            if isinstance(r, dict) and "id" in r:
                label = r.get("label")
                zh = _zh(label)
                en = str(label.get("en", zh)) if isinstance(label, Mapping) else zh
                out[str(r["id"])] = (zh, en)
    _RULES[path] = (stamp, out)
    return out


def load_chain(jurisdiction: str, extra: Sequence[str] = ()) -> Supervision:
    """The supervision in force in ``jurisdiction``: the shipped province default, then the shipped layers
    of every jurisdiction down to it, then the layer files ``extra`` (in chain order), merged.

    Raises :class:`RulesetError` for a broken file, a missing province default or a missing
    ``requires:`` layer, and :class:`RefinementError` (``refine-looser``) when a layer would loosen.
    """
    chain = _jurisdictions.chain(jurisdiction)
    order = {j.code: i for i, j in enumerate(chain)}
    files = [read_supervision(p) for p in (*shipped_files(), *extra)]
    bases = [f for f in files if f.kind == "supervision" and f.jurisdiction == chain[0].code]
    if not bases:
        raise RulesetError([Problem("no-supervision", f"no supervision default is declared for {chain[0].label} "
                                    "(kind: supervision)", jurisdiction)])
    base = bases[0]
    layers = [f for f in files if f.kind == "supervision-layer" and f.jurisdiction in order]
    problems: list[Problem] = []
    for f in files[len(files) - len(extra):]:
        if f.jurisdiction not in order:
            problems.append(f.located.problem(("jurisdiction",), "bad-value",
                                              f"layer {f.id!r} is for {_jurisdictions.get(f.jurisdiction).label}, "
                                              f"which is not on the chain of {chain[-1].label}"))
    for lay in layers:
        if lay.refines != base.id:
            problems.append(lay.located.problem(("refines",), "layer-wrong-ruleset",
                                                f"layer {lay.id!r} refines {lay.refines!r}, not {base.id!r}"))
    layers.sort(key=lambda lay: (order[lay.jurisdiction], lay.id))
    for i, lay in enumerate(layers):
        above = {o.id for o in layers[:i] if o.jurisdiction != lay.jurisdiction}
        for k, need in enumerate(lay.requires):
            if need not in above:
                problems.append(lay.located.problem(("requires", k), "missing-layer",
                                                    f"layer {lay.id!r} builds on {need!r}, which is not declared for "
                                                    "a jurisdiction above it"))
    if problems:
        raise RulesetError(problems)
    b = _Builder(chain[-1].code)
    b.apply(base, chain[0].label, True)
    for lay in layers:
        b.apply(lay, _jurisdictions.get(lay.jurisdiction).label, False)
    if b.looser:  # a layer that loosens is a finding about the layer, whatever else is wrong with it
        raise RefinementError([*b.looser, *b.problems])
    if b.problems:
        raise RulesetError(b.problems)
    return b.build(base.id, tuple(_jurisdictions.get(x).label for x in dict.fromkeys(
        [base.jurisdiction, *(lay.jurisdiction for lay in layers)])),
        tuple(os.path.abspath(f.located.file) if os.path.exists(f.located.file) else f.located.file
              for f in [base, *layers]))
