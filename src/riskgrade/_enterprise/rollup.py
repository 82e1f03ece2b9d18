"""Roll-up: how a node's level follows from its children and its own facts (ruleset section ``rollup:``).

A ruleset may declare, per node kind (``hazard``, ``risk_point``, ``unit``, ``enterprise``), how
levels roll up the enterprise graph. A ruleset without the section uses :data:`DEFAULT_ROLLUP`
(printed in ``docs/enterprise.md``). The format::

    rollup:
      risk_point:                 # one entry per node kind; a kind left out combines by max, no modifiers
        combine: max              # the base level: max of own graded level and children's levels
        modifiers:
          - id: major-hidden-danger-veto
            when: {hidden_danger: {grade: major}}     # exactly one condition (see below)
            veto: RED                                 # exactly one effect: raise | lower | floor | veto
            label: {zh: 存在未整改的重大事故隐患, en: open major hidden danger}   # optional
            basis: {kind: derived, cite: "...", note: "..."}                  # kind: clause|derived|local

Conditions (``when:``), each with the node kinds it applies to:

=====================================================  ===================================  =========
condition                                              holds when                           phase
=====================================================  ===================================  =========
``children_at_least: {level: ORANGE, count: 3}``       ≥ count children at level or above   structural
``major_hazard_grade: [一级, 二级]``                    the unit is a 重大危险源 of that grade   structural
``hidden_danger: {grade: major|general|any,``          ≥ count hidden dangers at this node   dynamic
``overdue: true|false, count: 1}``                     open as of ``as_of`` (and overdue)
``accident: {within_months: 12,``                      ≥ count enterprise accidents in      dynamic
``severity_at_least: 一般, count: 1}``                  (as_of − months, as_of]
``standardisation: [一级]``                             safety standardisation grade in list dynamic
``risk_points_at_least: {level: ORANGE, count: 3}``    ≥ count of the enterprise's risk     structural
                                                       points at level or above (escalation
                                                       by counts; enterprise only)
``level_at_least: RED``                                the node's level after raises is at  structural
                                                       least that (risk point, unit,
                                                       enterprise)
``plugin: NAME``                                       the plugin roll-up modifier NAME     dynamic
                                                       (hook ``riskgrade_rollup_modifiers``)
                                                       says so for this node
=====================================================  ===================================  =========

Every node has an *inherent* level (own facts, children's inherent levels, structural modifiers)
and a *dynamic* level (children's dynamic levels and every modifier, plus external modifiers set
by the monitoring layer). Effects are applied in stages, whatever their order in the file:

1. base = max(own graded level, children's levels); no graded input at all gives BLUE;
2. ``raise: n`` modifiers in file order, then external modifiers (clamped at RED);
3. the *lock* = max of holding ``floor``/``veto`` levels here and every child's lock;
   (``level_at_least`` conditions are judged here, on the level after the raises: a ``floor`` on
   them is how a reporting duty -- a 重大风险 point is reported as such -- becomes a lock);
4. ``lower: 1`` modifiers (together at most one level), never below the lock nor the node's own
   graded level (an enterprise graded by its sector's model, ``diagnosis:`` in the register);
5. level = max(level, lock). A veto or floor anywhere below therefore holds at every ancestor.

>>> rollup, problems = compile_rollup_data({"enterprise": {"modifiers": [
...     {"id": "std", "when": {"standardisation": ["一级"]}, "lower": 1,
...      "basis": {"kind": "derived", "cite": "应急〔2018〕19号"}}]}})
>>> problems, rollup.for_kind("enterprise").modifiers[0].effect
([], 'lower')
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs

from riskgrade._compile.sections import SectionCompiler
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._core.spellings import ACCIDENT_GRADES, ACCIDENT_SPELLINGS, GRADES, accident_rank
from riskgrade._enterprise.register import Accident, HiddenDanger, grade_zh
from riskgrade._source.yaml import Located, parse_yaml
from riskgrade.exceptions import Problem, RulesetError

__all__ = [
    "DEFAULT_ROLLUP",
    "KINDS",
    "Applied",
    "Condition",
    "KindRollup",
    "Modifier",
    "Outcome",
    "Rollup",
    "basis",
    "compile_rollup",
    "compile_rollup_data",
    "evaluate",
    "months_before",
    "rollup_from_yaml",
]

#: node kinds of the enterprise graph, lowest first
KINDS: tuple[str, ...] = ("hazard", "risk_point", "unit", "enterprise")
KIND_LABELS: dict[str, tuple[str, str]] = {
    "hazard": ("危险源", "hazard"), "risk_point": ("风险点", "risk point"), "unit": ("风险单元", "unit"),
    "enterprise": ("企业", "enterprise"),
}
BasisKind = Literal["clause", "derived", "local"]
Effect = Literal["raise", "lower", "floor", "veto"]
_EFFECTS: tuple[Effect, ...] = ("raise", "lower", "floor", "veto")
_CONDITIONS: dict[str, tuple[str, frozenset[str]]] = {
    "children_at_least": ("structural", frozenset(KINDS)),
    "major_hazard_grade": ("structural", frozenset({"unit"})),
    "hidden_danger": ("dynamic", frozenset({"risk_point", "unit", "enterprise"})),
    "accident": ("dynamic", frozenset({"enterprise"})),
    "standardisation": ("dynamic", frozenset({"enterprise"})),
    "plugin": ("dynamic", frozenset(KINDS)),
    "level_at_least": ("structural", frozenset({"risk_point", "unit", "enterprise"})),
    "risk_points_at_least": ("structural", frozenset({"enterprise"})),
}
_ACC_SPELL = ACCIDENT_SPELLINGS
_ACC_ZH = dict(ACCIDENT_GRADES)
_GRADES = GRADES
_BASIS_STATUSES = ("verified", "unverified", "partial")


def basis(kind: BasisKind, cite: str, note: str = "", status: str = "verified") -> Citation:
    """Why a modifier exists (``basis: {kind, cite, note, status}`` in YAML): the one :class:`Citation`,
    whose ``basis`` is the kind (a ``clause`` of a standard, a reading ``derived`` from one, or a ``local``
    choice, which names the local document in ``cite``), whose ``source`` is the cited text and whose
    ``status`` says whether the cited wording was verified."""
    return Citation(source=cite, basis=kind, note=note, status=status)


@attrs.frozen
class Condition:
    """One ``when:`` condition of a modifier (see the module docstring for the vocabulary)."""

    name: str
    level: Level = Level.BLUE
    count: int = 1
    grades: tuple[int, ...] = ()
    hd_grade: str = "any"
    overdue: bool | None = None
    within_months: int = 12
    severity_at_least: str = "general"
    plugin: str = ""

    @property
    def phase(self) -> str:
        """``structural`` (counts in the inherent level too) or ``dynamic``."""
        return _CONDITIONS[self.name][0]

    def to_dict(self) -> dict[str, Any]:
        if self.name in ("children_at_least", "risk_points_at_least"):
            return {self.name: {"level": self.level.name, "count": self.count}}
        if self.name in ("major_hazard_grade", "standardisation"):
            return {self.name: [grade_zh(g) for g in self.grades]}
        if self.name == "hidden_danger":
            d: dict[str, Any] = {"grade": self.hd_grade, "count": self.count}
            if self.overdue is not None:
                d["overdue"] = self.overdue
            return {self.name: d}
        if self.name == "plugin":
            return {self.name: self.plugin}
        if self.name == "level_at_least":
            return {self.name: self.level.name}
        return {self.name: {"within_months": self.within_months, "severity_at_least": self.severity_at_least,
                            "count": self.count}}

    def text(self, lang: str = "en") -> str:
        zh = lang == "zh"
        n = self.name
        if n == "children_at_least":
            return (f"至少{self.count}个下级为{self.level.zh}及以上" if zh
                    else f"at least {self.count} children at {self.level.name} or above")
        if n == "risk_points_at_least":
            return (f"至少{self.count}个风险点为{self.level.zh}及以上" if zh
                    else f"at least {self.count} risk points at {self.level.name} or above")
        if n == "major_hazard_grade":
            gs = "/".join(grade_zh(g) for g in self.grades)
            return f"{gs}重大危险源" if zh else f"major hazard installation grade {'/'.join(map(str, self.grades))}"
        if n == "standardisation":
            gs = "/".join(grade_zh(g) for g in self.grades)
            return (f"安全生产标准化{gs}" if zh
                    else f"safety standardisation grade {'/'.join(map(str, self.grades))}")
        if n == "hidden_danger":
            what_zh = {"major": "重大事故隐患", "general": "一般事故隐患", "any": "事故隐患"}[self.hd_grade]
            what_en = {"major": "major hidden danger", "general": "general hidden danger",
                       "any": "hidden danger"}[self.hd_grade]
            if self.overdue:
                return f"逾期未整改的{what_zh}" if zh else f"open {what_en} past its rectification deadline"
            return f"未整改的{what_zh}" if zh else f"open {what_en}"
        if n == "plugin":
            return f"插件条件 {self.plugin}" if zh else f"plugin condition {self.plugin}"
        if n == "level_at_least":
            return f"本级为{self.level.zh}及以上" if zh else f"its own level is {self.level.name} or above"
        sev = _ACC_ZH[self.severity_at_least]
        return (f"近{self.within_months}个月内发生{sev}及以上事故" if zh
                else f"{self.severity_at_least} or worse accident within the last {self.within_months} months")


@attrs.frozen
class Modifier:
    """A roll-up modifier: if ``when`` holds, apply ``effect`` (``steps`` for raise/lower, ``level`` for
    floor/veto), citing ``basis``."""

    id: str
    when: Condition
    effect: Effect
    basis: Citation
    steps: int = 0
    level: Level = Level.RED
    label_zh: str = ""
    label_en: str = ""

    def label(self, lang: str = "en") -> str:
        own = self.label_zh if lang == "zh" else self.label_en
        return own or self.when.text(lang)

    def effect_text(self, lang: str = "en") -> str:
        zh = lang == "zh"
        if self.effect == "raise":
            return f"升{self.steps}级" if zh else f"+{self.steps} level"
        if self.effect == "lower":
            return f"降{self.steps}级" if zh else f"-{self.steps} level"
        if self.effect == "floor":
            return f"不低于{self.level.zh}" if zh else f"at least {self.level.name}"
        return f"一票否决→{self.level.zh}" if zh else f"veto → {self.level.name}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "when": self.when.to_dict(), "basis": _basis_dict(self.basis)}
        d[self.effect] = self.steps if self.effect in ("raise", "lower") else self.level.name
        if self.label_zh or self.label_en:
            d["label"] = {"zh": self.label_zh, "en": self.label_en}
        return d


@attrs.frozen
class KindRollup:
    """The roll-up of one node kind."""

    kind: str
    combine: str = "max"
    modifiers: tuple[Modifier, ...] = ()
    #: the modifiers sorted once for :func:`evaluate` (not part of the value: derived from ``modifiers``)
    _plan: _Plan = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_plan", _Plan(self.modifiers))

    def to_dict(self) -> dict[str, Any]:
        return {"combine": self.combine, "modifiers": [m.to_dict() for m in self.modifiers]}


def kind_plan(rule: KindRollup) -> _Plan:
    """The modifiers of ``rule`` sorted once for :func:`evaluate` (what :class:`_Plan` holds)."""
    return rule._plan


#: a modifier with the texts of what it applies: (modifier, (label zh, label en, effect zh, effect en))
_Planned = tuple[Modifier, tuple[str, str, str, str]]


class _Plan:
    """A kind's modifiers split once per view (inherent: structural conditions only; dynamic: all)
    into those judged on the children and facts and the ``level_at_least`` ones judged after the
    raises, in declaration order, each with the texts of its :class:`Applied` computed once."""

    __slots__ = ("counts_points", "dyn", "dyn_on_level", "inh", "inh_on_level", "memo", "uses_plugin", "views_agree")

    def __init__(self, modifiers: Sequence[Modifier]) -> None:
        planned = [(m, (m.label("zh"), m.label("en"), m.effect_text("zh"), m.effect_text("en"))) for m in modifiers]
        structural = [p for p in planned if p[0].when.phase == "structural"]
        self.inh: tuple[_Planned, ...] = tuple(p for p in structural if p[0].when.name != "level_at_least")
        self.inh_on_level: tuple[_Planned, ...] = tuple(p for p in structural if p[0].when.name == "level_at_least")
        self.dyn: tuple[_Planned, ...] = tuple(p for p in planned if p[0].when.name != "level_at_least")
        self.dyn_on_level: tuple[_Planned, ...] = tuple(p for p in planned if p[0].when.name == "level_at_least")
        self.uses_plugin = any(m.when.name == "plugin" for m in modifiers)
        #: whether the kind escalates by counts of the enterprise's risk points (``risk_points_at_least``)
        self.counts_points = any(m.when.name == "risk_points_at_least" for m in modifiers)
        #: whether the dynamic view can differ from the inherent one only through hidden dangers, accidents
        #: or external modifiers (its only dynamic conditions are ``hidden_danger`` and ``accident``, which
        #: never hold without them): then a node with none of those and the same counts of children in
        #: both views has the same outcome in both
        self.views_agree = all(m.when.name in ("hidden_danger", "accident") for m in modifiers
                               if m.when.phase == "dynamic")
        #: outcomes of :func:`evaluate` for nodes without hidden dangers, accidents, external modifiers or
        #: plugin conditions: then an outcome is a function of the view, the own level, the children's
        #: counts by level and lock, the date and the grades alone (bounded: cleared when full)
        self.memo: dict[tuple[Any, ...], Outcome] = {}


@attrs.frozen
class Rollup:
    """A compiled roll-up: a :class:`KindRollup` per node kind. ``source`` says where it came from."""

    kinds: Mapping[str, KindRollup] = attrs.field(eq=False)
    source: str = "default"

    def for_kind(self, kind: str) -> KindRollup:
        return self.kinds.get(kind) or _no_modifiers(kind)

    def to_dict(self) -> dict[str, Any]:
        return {k: self.for_kind(k).to_dict() for k in KINDS}


@functools.lru_cache(maxsize=16)
def _no_modifiers(kind: str) -> KindRollup:
    """The roll-up of a kind a ``rollup:`` section leaves out (plain max), made once per kind."""
    return KindRollup(kind)


# --------------------------------------------------------------------------- compiling


def compile_rollup_data(data: Any, located: Located | None = None, path: tuple[Any, ...] = (),
                        source: str = "ruleset") -> tuple[Rollup, list[Problem]]:
    """Compile the ``rollup:`` section ``data``; problems are located through ``located`` when given."""
    loc = located or Located(data, "<rollup>", {})
    problems: list[Problem] = []

    def bad(p: tuple[Any, ...], code: str, msg: str, key: bool = False) -> None:
        problems.append(loc.problem((*path, *p), code, msg, key=key))

    kinds: dict[str, KindRollup] = {}
    if not isinstance(data, Mapping):
        bad((), "rollup-bad-type", "the rollup section must be a mapping of node kinds")
        return Rollup({}, source), problems
    ids: set[str] = set()
    for kind, spec in data.items():
        if kind not in KINDS:
            bad((kind,), "rollup-unknown-kind", f"unknown node kind {kind!r} (use {', '.join(KINDS)})", key=True)
            continue
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            bad((kind,), "rollup-bad-type", f"{kind}: expected a mapping with combine/modifiers")
            continue
        for key in spec:
            if key not in ("combine", "modifiers"):
                bad((kind, key), "unknown-key", f"unknown key {key!r} (use combine, modifiers)", key=True)
        combine = spec.get("combine", "max")
        if combine != "max":
            bad((kind, "combine"), "rollup-bad-combine", f"combine {combine!r} is not supported (use max)")
        mods_v = spec.get("modifiers") or []
        if not isinstance(mods_v, list):
            bad((kind, "modifiers"), "rollup-bad-type", "modifiers must be a list")
            mods_v = []
        mods: list[Modifier] = []
        for i, m in enumerate(mods_v):
            mod = _compile_modifier(m, kind, (kind, "modifiers", i), bad)
            if mod is None:
                continue
            if mod.id in ids:
                bad((kind, "modifiers", i, "id"), "rollup-duplicate-id", f"modifier id {mod.id!r} is used twice")
            ids.add(mod.id)
            mods.append(mod)
        kinds[kind] = KindRollup(kind, "max", tuple(mods))
    return Rollup(kinds, source), problems


def _compile_modifier(m: Any, kind: str, p: tuple[Any, ...], bad: Any) -> Modifier | None:
    if not isinstance(m, Mapping):
        bad(p, "rollup-bad-type", "a modifier must be a mapping with id, when, an effect and basis")
        return None
    ok = True
    for key in m:
        if key not in ("id", "when", "label", "basis", *_EFFECTS):
            bad((*p, key), "unknown-key",
                f"unknown key {key!r} (use id, when, label, basis, raise/lower/floor/veto)", key=True)
            ok = False
    mid = m.get("id")
    if not isinstance(mid, str) or not mid:
        bad(p, "rollup-missing-id", "a modifier needs an id")
        ok = False
    cond = _compile_condition(m.get("when"), kind, (*p, "when"), bad)
    effects = [e for e in _EFFECTS if e in m]
    steps, level = 0, Level.RED
    if len(effects) != 1:
        bad(p, "rollup-bad-effect", "a modifier needs exactly one effect: raise, lower, floor or veto")
        ok = False
    else:
        eff = effects[0]
        v = m[eff]
        if eff in ("raise", "lower"):
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 3:
                bad((*p, eff), "rollup-bad-steps", f"{eff} takes a number of levels 1-3, got {v!r}")
                ok = False
            elif eff == "lower" and v > 1:
                bad((*p, eff), "rollup-lower-too-far", "a modifier may lower a level by at most one step")
                ok = False
            else:
                steps = v
        else:
            try:
                level = Level.parse(v)
            except ValueError as exc:
                bad((*p, eff), "rollup-bad-level", str(exc))
                ok = False
    basis = _compile_basis(m.get("basis"), (*p, "basis"), bad)
    label = m.get("label") or {}
    if not isinstance(label, Mapping) or not all(k in ("zh", "en") and isinstance(t, str) for k, t in label.items()):
        bad((*p, "label"), "rollup-bad-label", "label must be a mapping {zh: ..., en: ...} of text")
        label = {}
    if not ok or cond is None or basis is None:
        return None
    return Modifier(str(mid), cond, effects[0], basis, steps, level, label.get("zh", ""), label.get("en", ""))


def _compile_basis(b: Any, p: tuple[Any, ...], bad: Any) -> Citation | None:
    if not isinstance(b, Mapping):
        bad(p, "rollup-missing-basis", "every modifier cites its basis: {kind: clause|derived|local, cite: ...}")
        return None
    kind, cite, note = b.get("kind"), b.get("cite", ""), b.get("note", "")
    status = b.get("status", "verified")
    extra = [k for k in b if k not in ("kind", "cite", "note", "status")]
    if extra:
        bad((*p, extra[0]), "unknown-key", f"unknown key {extra[0]!r} in basis (use kind, cite, note, status)",
            key=True)
        return None
    if kind not in ("clause", "derived", "local"):
        bad((*p, "kind"), "rollup-bad-basis", f"basis kind must be clause, derived or local, got {kind!r}")
        return None
    if status not in _BASIS_STATUSES:
        bad((*p, "status"), "rollup-bad-basis",
            f"basis status must be one of {', '.join(_BASIS_STATUSES)}, got {status!r}")
        return None
    if not isinstance(cite, str) or not isinstance(note, str):
        bad(p, "rollup-bad-basis", "cite and note are text")
        return None
    if not cite.strip():
        if kind == "local":
            bad(p, "rollup-local-without-document",
                "a local basis names the local document that makes the choice (cite: ...), so that an "
                "explanation can say whose choice it is")
        else:
            bad(p, "rollup-bad-basis", "a clause or derived basis needs a cite (text)")
        return None
    return basis(kind, cite.strip(), note.strip(), status)


def _compile_condition(w: Any, kind: str, p: tuple[Any, ...], bad: Any) -> Condition | None:
    if not isinstance(w, Mapping) or len(w) != 1:
        bad(p, "rollup-bad-condition", f"when: needs exactly one condition ({', '.join(_CONDITIONS)})")
        return None
    ((name, arg),) = w.items()
    if name not in _CONDITIONS:
        bad((*p, name), "rollup-bad-condition", f"unknown condition {name!r} (use {', '.join(_CONDITIONS)})",
            key=True)
        return None
    if kind not in _CONDITIONS[name][1]:
        bad((*p, name), "rollup-not-applicable",
            f"condition {name!r} does not apply to {kind} (only {', '.join(sorted(_CONDITIONS[name][1]))})",
            key=True)
        return None
    q = (*p, name)
    if name == "plugin":
        if not isinstance(arg, str) or not arg:
            bad(q, "rollup-bad-condition", f"plugin takes the name of a plugin roll-up modifier, got {arg!r}")
            return None
        return Condition(name, plugin=arg)
    if name == "level_at_least":
        try:
            return Condition(name, level=Level.parse(arg))
        except ValueError as exc:
            bad(q, "rollup-bad-level", str(exc))
            return None
    if name in ("major_hazard_grade", "standardisation"):
        items = arg if isinstance(arg, list) else [arg]
        grades = [_GRADES.get(g) if not isinstance(g, bool) else None for g in items]
        if not items or any(g is None for g in grades):
            bad(q, "rollup-bad-condition", f"{name} takes a list of grades 一级..四级, got {arg!r}")
            return None
        return Condition(name, grades=tuple(sorted({g for g in grades if g})))
    allowed = {"children_at_least": ("level", "count"), "risk_points_at_least": ("level", "count"),
               "hidden_danger": ("grade", "overdue", "count"),
               "accident": ("within_months", "severity_at_least", "count")}[name]
    if not isinstance(arg, Mapping):
        bad(q, "rollup-bad-condition", f"{name} takes a mapping with {', '.join(allowed)}")
        return None
    for key in arg:
        if key not in allowed:
            bad((*q, key), "unknown-key", f"unknown key {key!r} in {name} (use {', '.join(allowed)})",
                key=True)
            return None
    count = arg.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        bad((*q, "count"), "rollup-bad-condition", f"count must be a whole number ≥ 1, got {count!r}")
        return None
    if name in ("children_at_least", "risk_points_at_least"):
        try:
            level = Level.parse(arg.get("level"))
        except ValueError as exc:
            bad((*q, "level"), "rollup-bad-level", str(exc))
            return None
        return Condition(name, level=level, count=count)
    if name == "hidden_danger":
        grade = arg.get("grade", "any")
        grade = {"重大": "major", "一般": "general", "全部": "any"}.get(grade, grade)
        overdue = arg.get("overdue")
        if grade not in ("major", "general", "any"):
            bad((*q, "grade"), "rollup-bad-condition", f"grade must be major, general or any, got {grade!r}")
            return None
        if overdue is not None and not isinstance(overdue, bool):
            bad((*q, "overdue"), "rollup-bad-condition", f"overdue must be true or false, got {overdue!r}")
            return None
        return Condition(name, count=count, hd_grade=grade, overdue=overdue)
    months = arg.get("within_months", 12)
    sev = _ACC_SPELL.get(str(arg.get("severity_at_least", "general")))
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
        bad((*q, "within_months"), "rollup-bad-condition", f"within_months must be 1-120, got {months!r}")
        return None
    if sev is None:
        bad((*q, "severity_at_least"), "rollup-bad-condition",
            f"severity_at_least must be one of {', '.join(_ACC_SPELL)}")
        return None
    return Condition(name, count=count, within_months=months, severity_at_least=sev)


def compile_rollup(data: Any, located: Located, path: tuple[Any, ...], context: Any) -> tuple[Any, list[Problem]]:
    """The section compiler registered for ``rollup:`` (see :mod:`riskgrade._compile.sections`)."""
    ruleset_id = located.data.get("id") if isinstance(located.data, Mapping) else None
    return compile_rollup_data(data, located, path, f"ruleset:{ruleset_id}" if ruleset_id else "ruleset")


def rollup_from_yaml(text: str, file: str = "<rollup>") -> Rollup:
    """A roll-up from YAML text holding the section's body (raises :class:`RulesetError`).

    >>> r = rollup_from_yaml("unit:\\n  modifiers:\\n    - id: c3\\n      when: {children_at_least: "
    ...                      "{level: ORANGE, count: 3}}\\n      raise: 1\\n      basis: {kind: local, cite: x}\\n")
    >>> r.for_kind("unit").modifiers[0].when.text("zh")
    '至少3个下级为较大风险及以上'
    """
    located = parse_yaml(text, file)
    rollup, problems = compile_rollup_data(located.data, located, (), file)
    if problems:
        raise RulesetError(problems)
    return rollup


SECTION = SectionCompiler("rollup", compile_rollup,
         "how levels roll up hazards → risk points → units → enterprise (see riskgrade._enterprise.rollup)")


# --------------------------------------------------------------------------- the default


def _default() -> Rollup:
    veto_basis = basis(
        "derived", "重大事故隐患判定标准 (per sector) + 双重预防机制 (安委办〔2016〕11号)",
        "a major hidden danger (重大事故隐患) grades its place as major risk until rectified (一票否决)")

    def veto(kind: str) -> Modifier:
        return Modifier(f"{kind.replace('_', '-')}-major-hidden-danger", Condition("hidden_danger", hd_grade="major"),
                        "veto", veto_basis, level=Level.RED)

    overdue = Modifier("overdue-hidden-danger", Condition("hidden_danger", overdue=True), "raise",
                       basis("local", "riskgrade 默认汇总规则 (docs/enterprise.md §3)",
                             "a hidden danger left open past its rectification deadline raises its risk point "
                             "one level"), steps=1)
    floors = tuple(
        Modifier(f"major-hazard-grade-{g}", Condition("major_hazard_grade", grades=(g,)), "floor",
                 basis("local", "GB 18218-2018 表6 (重大危险源分级)",
                       "the mapping of 一级/二级/三级/四级 to RED/ORANGE/YELLOW/BLUE is a local choice"), level=lv)
        for g, lv in ((1, Level.RED), (2, Level.ORANGE), (3, Level.YELLOW), (4, Level.BLUE)))
    cluster = Modifier("orange-cluster", Condition("children_at_least", level=Level.ORANGE, count=3), "raise",
                       basis("local", "riskgrade 默认汇总规则 (docs/enterprise.md §3)",
                             "three or more risk points at ORANGE or above in one unit raise the unit one level"),
                       steps=1)
    reported = Modifier(
        "major-risk-reported", Condition("level_at_least", level=Level.RED), "floor",
        basis("derived", "安委办〔2016〕11号 (重大风险 报属地负有安全生产监督管理职责的部门备案)",
              "a 重大风险 point is reported to the regulator as major risk, so no modifier above it "
              "(e.g. standardisation) may grade its enterprise lower; the reporting wording is recalled, "
              "not verified against the gazette", "unverified"), level=Level.RED)
    accident = Modifier("accident-12-months", Condition("accident", within_months=12), "raise",
                        basis("local", "应急〔2018〕19号 (accident deductions)",
                              "the guideline deducts points for accidents within 3 years; a one-level raise "
                              "for any accident within 12 months is a local choice"), steps=1)
    standard = Modifier("standardisation-grade-1", Condition("standardisation", grades=(1,)), "lower",
                        basis("derived", "应急〔2018〕19号 (标准化一级 +15 分)",
                              "+15 points equals one 15-point band of the guideline's 100-point scale; "
                              "lowering never passes a floor or veto, nor a 重大风险 point "
                              "(major-risk-reported)"), steps=1)
    return Rollup({
        "hazard": KindRollup("hazard"),
        "risk_point": KindRollup("risk_point", "max", (veto("risk_point"), overdue, reported)),
        "unit": KindRollup("unit", "max", (veto("unit"), *floors, cluster)),
        "enterprise": KindRollup("enterprise", "max", (veto("enterprise"), accident, standard)),
    }, "default")


#: the roll-up used when a ruleset has no ``rollup:`` section
DEFAULT_ROLLUP: Rollup = _default()


# --------------------------------------------------------------------------- evaluation


@functools.lru_cache(maxsize=256)
def months_before(d: _dt.date, months: int) -> _dt.date:
    """``d`` moved back ``months`` calendar months (day clamped to the month's end).

    >>> months_before(_dt.date(2024, 3, 31), 1), months_before(_dt.date(2024, 2, 29), 12)
    (datetime.date(2024, 2, 29), datetime.date(2023, 2, 28))
    """
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    nxt = _dt.date(y + (m == 12), m % 12 + 1, 1)
    return _dt.date(y, m, min(d.day, (nxt - _dt.timedelta(days=1)).day))


@attrs.frozen
class Applied:
    """A modifier that held at a node: its effect took the level from ``before`` to ``after``."""

    id: str
    effect: str
    label_zh: str
    label_en: str
    effect_zh: str
    effect_en: str
    basis: Citation
    subjects: tuple[str, ...] = ()
    before: Level = Level.BLUE
    after: Level = Level.BLUE
    external: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "effect": self.effect, "label": {"zh": self.label_zh, "en": self.label_en},
                "basis": _basis_dict(self.basis), "subjects": list(self.subjects),
                "before": self.before.name, "after": self.after.name, "external": self.external}


_MONITORING = Citation("monitoring", basis="local")


@attrs.frozen
class External:
    """A modifier set from outside the roll-up (e.g. an active monitoring warning)."""

    key: str
    steps: int
    reason: str
    floor: Level | None = None
    basis: Citation = _MONITORING


@attrs.frozen
class Outcome:
    """The result of evaluating one node in one view (inherent or dynamic)."""

    level: Level
    base: Level
    own_decides: bool
    pre_lock: Level
    lock: int
    own_lock: int
    applied: tuple[Applied, ...]
    graded: bool


#: levels by number without the enum's call (0, no lock, is BLUE where a level is needed)
_LEVEL = (Level.BLUE, Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)


def _max_index(counts: Sequence[int]) -> int:
    for i in (4, 3, 2, 1):
        if counts[i]:
            return i
    return 0


def evaluate(rule: KindRollup, *, dynamic: bool, own: Level | None, child_levels: Sequence[int],
             child_locks: Sequence[int], as_of: _dt.date, major_hazard_grade: int | None = None,
             standardisation: int | None = None, hidden_dangers: Sequence[HiddenDanger] = (),
             accidents: Sequence[Accident] = (), externals: Sequence[External] = (),
             plugin: Callable[[str], bool] | None = None, point_levels: Sequence[int] = ()) -> Outcome:
    """Evaluate one node: ``child_levels[i]`` / ``child_locks[i]`` count children at level ``i`` (1-4;
    index 0 counts children without a lock; ``point_levels[i]`` counts the enterprise's risk points at
    level ``i``). See the module docstring for the stages.

    >>> o = evaluate(DEFAULT_ROLLUP.for_kind("unit"), dynamic=True, own=None, child_levels=[0, 1, 0, 3, 0],
    ...              child_locks=[4, 0, 0, 0, 0], as_of=_dt.date(2024, 6, 1))
    >>> o.level.name, [a.id for a in o.applied]
    ('RED', ['orange-cluster'])
    """
    plan = kind_plan(rule)
    if hidden_dangers or accidents or externals or (plugin is not None and plan.uses_plugin):
        return _evaluate(rule, plan, dynamic, own, child_levels, child_locks, as_of, major_hazard_grade,
                         standardisation, hidden_dangers, accidents, externals, plugin, point_levels)
    key = (dynamic, own, tuple(child_levels), tuple(child_locks), as_of, major_hazard_grade, standardisation,
           tuple(point_levels))
    memo = plan.memo
    out = memo.get(key)
    if out is None:
        out = _evaluate(rule, plan, dynamic, own, child_levels, child_locks, as_of, major_hazard_grade,
                        standardisation, (), (), (), None, point_levels)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = out
    return out


#: entries of a kind's :attr:`_Plan.memo` (a few hundred bytes each)
_MEMO_SIZE = 4096


def _evaluate(rule: KindRollup, plan: _Plan, dynamic: bool, own: Level | None, child_levels: Sequence[int],
              child_locks: Sequence[int], as_of: _dt.date, major_hazard_grade: int | None,
              standardisation: int | None, hidden_dangers: Sequence[HiddenDanger], accidents: Sequence[Accident],
              externals: Sequence[External], plugin: Callable[[str], bool] | None,
              point_levels: Sequence[int]) -> Outcome:
    max_child = _max_index(child_levels)
    own_i = int(own) if own is not None else 0
    graded = bool(own_i or max_child)
    base = _LEVEL[max(own_i, max_child, 1)]
    level = base
    applied: list[Applied] = []
    lowers: list[tuple[_Planned, tuple[str, ...]]] = []
    locks: list[tuple[_Planned, tuple[str, ...]]] = []
    for pm in plan.dyn if dynamic else plan.inh:
        m = pm[0]
        subjects = _holds(m.when, child_levels, as_of, major_hazard_grade, standardisation, hidden_dangers,
                          accidents, plugin, point_levels)
        if subjects is None:
            continue
        if m.effect == "raise":
            after = level.raised(m.steps)
            applied.append(_applied(pm, subjects, level, after))
            level = after
        elif m.effect == "lower":
            lowers.append((pm, subjects))
        else:
            locks.append((pm, subjects))
    own_lock = 0
    if dynamic:
        for ext in externals:
            after = level.raised(ext.steps)
            if ext.steps:
                applied.append(Applied(ext.key, "raise", ext.reason, ext.reason, f"升{ext.steps}级",
                                       f"+{ext.steps} level", ext.basis, (), level, after, True))
            level = after
            if ext.floor is not None:
                own_lock = max(own_lock, int(ext.floor))
    for pm in plan.dyn_on_level if dynamic else plan.inh_on_level:
        # judged on the level after raises: a reporting duty that holds it (stage 3)
        m = pm[0]
        if level >= m.when.level:
            if m.effect == "raise":
                after = level.raised(m.steps)
                applied.append(_applied(pm, (), level, after))
                level = after
            elif m.effect == "lower":
                lowers.append((pm, ()))
            else:
                locks.append((pm, ()))
    for pm, _ in locks:
        own_lock = max(own_lock, int(pm[0].level))
    lock = max(own_lock, _max_index(child_locks))
    if lowers:
        # never below a lock, nor below the node's own graded level (e.g. the 2018 diagnosis,
        # which already counts standardisation)
        target = max(level.raised(-1), _LEVEL[lock], _LEVEL[max(own_i, 1)])
        for pm, subjects in lowers:
            applied.append(_applied(pm, subjects, level, target))
        level = target
    pre_lock = level
    if lock > level:
        level = _LEVEL[lock]
    for pm, subjects in locks:
        applied.append(_applied(pm, subjects, pre_lock, level))
    if dynamic:
        for ext in externals:
            if ext.floor is not None:
                applied.append(Applied(ext.key, "floor", ext.reason, ext.reason, f"不低于{ext.floor.zh}",
                                       f"at least {ext.floor.name}", ext.basis, (), pre_lock, level, True))
    return Outcome(level, base, own_i >= max_child and own_i > 0, pre_lock, lock, own_lock, tuple(applied), graded)


def _applied(pm: _Planned, subjects: tuple[str, ...], before: Level, after: Level) -> Applied:
    m, (label_zh, label_en, effect_zh, effect_en) = pm
    return Applied(m.id, m.effect, label_zh, label_en, effect_zh, effect_en, m.basis, subjects, before, after)


def _holds(c: Condition, child_levels: Sequence[int], as_of: _dt.date, mhg: int | None, std: int | None,
           hds: Sequence[HiddenDanger], accidents: Sequence[Accident],
           plugin: Callable[[str], bool] | None = None, points: Sequence[int] = ()) -> tuple[str, ...] | None:
    n = c.name
    if n == "risk_points_at_least":
        return () if sum(points[int(c.level):]) >= c.count else None
    if n == "plugin":
        return () if plugin is not None and plugin(c.plugin) else None
    if n == "children_at_least":
        return () if sum(child_levels[int(c.level):]) >= c.count else None
    if n == "major_hazard_grade":
        return () if mhg in c.grades else None
    if n == "standardisation":
        return () if std in c.grades else None
    if n == "hidden_danger":
        found = tuple(sorted(
            h.id for h in hds
            if (c.hd_grade == "any" or h.grade == c.hd_grade) and h.is_open(as_of)
            and (c.overdue is None or h.is_overdue(as_of) == c.overdue)))
        return found if len(found) >= c.count else None
    start = months_before(as_of, c.within_months)
    rank = accident_rank(c.severity_at_least)
    hit = tuple(sorted(a.id for a in accidents if start < a.date <= as_of and accident_rank(a.severity) >= rank))
    return hit if len(hit) >= c.count else None


def _basis_dict(c: Citation) -> dict[str, str]:
    """A modifier's basis as the ``rollup:`` section writes it (``{kind, cite, note, status}``), so that
    a compiled roll-up prints back as YAML that compiles to the same roll-up."""
    d = {"kind": c.basis, "cite": c.source}
    if c.note:
        d["note"] = c.note
    if c.status != "verified":
        d["status"] = c.status
    return d
