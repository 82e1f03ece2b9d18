"""The enterprise register (台账): enterprise, units, risk points, hazards, hidden dangers.

A register is one YAML or JSON document, a flat mapping whose lists reference each
other by id (every id is unique in the register, every reference is checked)::

    id: E-001
    name: 白银示例化工有限公司
    uscc: 91620402MA0000000Q          # unified social credit code (GB 32100), checked
    sectors: [hazchem]
    jurisdiction: "620402"            # GB/T 2260 code of the county-level division
    zone: null                        # a named sub-jurisdiction without a code (e.g. a high-tech zone)
    location: {lon: 104.18, lat: 36.55}   # WGS84 degrees, inside the jurisdiction's bounds (docs/maps.md)
    standardisation: 二级               # safety standardisation grade 一级/二级/三级, or null
    ruleset: lec-generic              # default ruleset for risk points
    diagnosis: {ruleset: hazchem-enterprise-2018, facts: {...}}   # optional: the sector's enterprise-level
                                      # model grades the enterprise node itself (joined with its risk points)
    site:             {boundary: [{x, y}, ...]}      # optional: the outline of the site plan (厂区平面图)
    units:            [{id, name, major_hazard_grade: 一级..四级 | null, location?, area?}]
    emergency_contacts: [{name, phone, role?}]          # 应急电话 (enterprise duty room, fire, ambulance ...)
    risk_points:      [{id, unit, name, ruleset?, facts: {...}, location?,
                        possible_accidents?: [GB 6441 categories], controls?: {category: [measure, ...]},
                        emergency_measures?: [text], responsible?: {tier: {name, position?, phone?, department?}}}]
    hazards:          [{id, risk_point, name, category?, ruleset?, facts?}]
    hidden_dangers:   [{id, target, grade: general|major, found, deadline?, status: open|rectified|verified,
                        closed?, description?, basis?}]
    monitoring_points: [{id, risk_point, name, quantity, unit?, low?, high?, low_low?, high_high?}]
    accidents:        [{id, date, severity: 一般|较大|重大|特别重大, deaths?, injuries?, description?}]
    dependencies:     [{from, to, reason?}]   # extra edges: "from" endangers "to"

A ``location`` is ``{lon, lat}`` in WGS84 degrees (not GCJ-02), or, for units and risk points,
``{x, y}`` in metres on the enterprise's site plan. A unit's ``area`` and the ``site.boundary``
are polygons on the site plan: lists of at least three such positions, all in one system (the
enterprise risk map draws them, docs/maps.md). WGS84 coordinates must lie inside the
bounds of the register's jurisdiction where riskgrade ships its boundary (the Baiyin counties);
elsewhere only the ranges of longitude and latitude are checked.

Every problem raises :class:`~riskgrade.exceptions.FactError` naming the record (its id,
or ``list[index]`` when it has none) and the field.

>>> ent = load_enterprise({
...     "id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
...     "units": [{"id": "U-1", "name": "罐区"}],
...     "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15}}],
... })
>>> ent.risk_points[0].unit, ent.record("U-1").name
('U-1', '罐区')
>>> load_enterprise({"id": "E-1", "name": "x", "sectors": ["hazchem"], "jurisdiction": "620402",
...                  "risk_points": [{"id": "P-1", "unit": "U-9", "name": "x", "facts": {}}]})
Traceback (most recent call last):
...
riskgrade.exceptions.FactError: record P-1, field 'unit': unknown-reference: no unit with id 'U-9'
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.resources
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from riskgrade._core.limits import get_limits
from riskgrade._core.spellings import (
    ACCIDENT_GRADES,
    ACCIDENT_SPELLINGS,
    GRADE_ZH,
    GRADES,
    HIDDEN_DANGER_GRADES,
    HIDDEN_DANGER_STATUSES,
)
from riskgrade._source.jsondoc import JSONDocError, parse_json
from riskgrade._source.yaml import Located, load_yaml
from riskgrade.exceptions import FactError, RulesetError

__all__ = [
    "ACCIDENT_GRADES",
    "ACCIDENT_TYPES",
    "CONTROL_CATEGORIES",
    "CONTROL_TIERS",
    "Accident",
    "Contact",
    "Control",
    "Dependency",
    "Enterprise",
    "Hazard",
    "HiddenDanger",
    "MonitoringPoint",
    "Responsible",
    "RiskPoint",
    "Unit",
    "load_enterprise",
    "parse_record",
    "register_data",
]

_ACCIDENT_SPELL = ACCIDENT_SPELLINGS
_NUM_ZH = GRADE_ZH
HDGrade = Literal["general", "major"]
HDStatus = Literal["open", "rectified", "verified"]


def grade_zh(grade: int | None) -> str:
    """``1`` → ``一级``; ``None`` → ``无``."""
    return _NUM_ZH[grade] if grade else "无"


#: GB 6441-1986 《企业职工伤亡事故分类》 accident categories (事故类别), in the standard's order: (code, name)
ACCIDENT_TYPES: tuple[tuple[str, str], ...] = (
    ("01", "物体打击"), ("02", "车辆伤害"), ("03", "机械伤害"), ("04", "起重伤害"), ("05", "触电"), ("06", "淹溺"),
    ("07", "灼烫"), ("08", "火灾"), ("09", "高处坠落"), ("10", "坍塌"), ("11", "冒顶片帮"), ("12", "透水"),
    ("13", "放炮"), ("14", "火药爆炸"), ("15", "瓦斯爆炸"), ("16", "锅炉爆炸"), ("17", "容器爆炸"), ("18", "其他爆炸"),
    ("19", "中毒和窒息"), ("20", "其他伤害"),
)
#: every accepted spelling of a GB 6441 category (name, code, 其它/其他) → its name
_ACCIDENT_TYPE_SPELL: dict[str, str] = {
    **{name: name for _, name in ACCIDENT_TYPES}, **{code: name for code, name in ACCIDENT_TYPES},
    "其它爆炸": "其他爆炸", "其它伤害": "其他伤害",
}
#: the five kinds of control measure (管控措施) of the provincial risk lists: (key, zh, en)
CONTROL_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("engineering", "工程技术措施", "engineering"), ("management", "管理措施", "management"),
    ("training", "培训教育措施", "training"), ("ppe", "个体防护措施", "personal protective equipment"),
    ("emergency", "应急处置措施", "emergency"),
)
_CONTROL_SPELL: dict[str, str] = {
    **{k: k for k, _, _ in CONTROL_CATEGORIES}, **{zh: k for k, zh, _ in CONTROL_CATEGORIES},
    **{zh.removesuffix("措施"): k for k, zh, _ in CONTROL_CATEGORIES},
}
#: the control tiers (管控层级), highest first: (key, zh) -- the values of a ruleset's ``control_tiers``
CONTROL_TIERS: tuple[tuple[str, str], ...] = (
    ("company", "公司级"), ("department", "部门(车间)级"), ("team", "班组级"), ("post", "岗位级"),
)
_TIER_SPELL: dict[str, str] = {
    **{k: k for k, _ in CONTROL_TIERS}, **{zh: k for k, zh in CONTROL_TIERS},
    "公司": "company", "厂级": "company", "部门级": "department", "车间级": "department", "班组": "team", "岗位": "post",
}
#: a telephone number, lightly: digits with optional +, spaces, hyphens, parentheses; 3 to 18 digits
_PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ()\-]*[0-9]$")


@attrs.frozen
class Control:
    """One control measure (管控措施) of a risk point: its ``category`` (a key of
    :data:`CONTROL_CATEGORIES`) and the measure in words."""

    category: str
    measure: str


@attrs.frozen
class Responsible:
    """The person responsible (责任人) for a risk point at one control ``tier`` (company … post)."""

    tier: str
    name: str
    position: str = ""
    phone: str = ""
    department: str = ""


@attrs.frozen
class Contact:
    """An emergency contact (应急电话) of the enterprise: who answers, the number, and their role."""

    name: str
    phone: str
    role: str = ""


@attrs.frozen
class Unit:
    """A risk unit (风险单元): a plant, workshop or area grouping risk points.

    ``major_hazard_grade`` is the GB 18218-2018 grade (1 = 一级 ... 4 = 四级) when the unit is a
    major hazard installation (重大危险源), else ``None``.
    """

    id: str
    name: str
    major_hazard_grade: int | None = None
    kind: str = "unit"
    #: ``{"lon", "lat"}`` (WGS84) or ``{"x", "y"}`` (site-plan metres), or ``None``
    location: Mapping[str, float] | None = attrs.field(default=None, eq=False, hash=False)
    #: the unit's outline on the site plan: positions, all ``{"x", "y"}`` or all ``{"lon", "lat"}``
    area: tuple[Mapping[str, float], ...] | None = attrs.field(default=None, eq=False, hash=False)


@attrs.frozen
class RiskPoint:
    """A risk point (风险点): the unit that is graded, by ``ruleset`` from ``facts``."""

    id: str
    unit: str
    name: str
    facts: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)
    ruleset: str | None = None
    kind: str = "risk_point"
    #: ``{"lon", "lat"}`` (WGS84) or ``{"x", "y"}`` (site-plan metres), or ``None``
    location: Mapping[str, float] | None = attrs.field(default=None, eq=False, hash=False)
    #: the accidents it can cause (可能导致的事故类型), GB 6441-1986 category names
    possible_accidents: tuple[str, ...] = ()
    #: its control measures (管控措施), ordered by :data:`CONTROL_CATEGORIES`, then as given
    controls: tuple[Control, ...] = ()
    #: what to do when it goes wrong (应急处置措施)
    emergency_measures: tuple[str, ...] = ()
    #: who answers for it at each control tier (责任人), ordered by :data:`CONTROL_TIERS`
    responsible: tuple[Responsible, ...] = ()


@attrs.frozen
class Hazard:
    """A hazard (危险源) at a risk point; graded too when it has ``facts``."""

    id: str
    risk_point: str
    name: str
    category: str = ""
    facts: Mapping[str, Any] | None = attrs.field(default=None, eq=False, hash=False)
    ruleset: str | None = None
    kind: str = "hazard"


@attrs.frozen
class HiddenDanger:
    """A hidden danger (隐患) found at ``target`` (a risk point, unit or the enterprise).

    It is open *as of* a date ``d`` when it was found on or before ``d`` and was not yet closed
    then (status ``open``, or ``closed`` after ``d``). A *major* hidden danger (重大事故隐患) is
    closed only when it is ``verified`` (验收销号) — marked ``rectified`` by the enterprise it
    stays open, and its veto holds (issue 14; a derived reading of 《安全生产事故隐患排查治理暂行规定》
    (原国家安监总局令第16号): after a major hidden danger is treated it is assessed and reviewed by the
    regulator before production resumes — recalled as 第二十三条, the article number unverified). It is overdue
    when it was not rectified by its ``deadline`` and ``d`` is past that deadline.

    >>> import datetime as dt
    >>> hd = HiddenDanger("HD-1", "P-1", "major", dt.date(2024, 1, 5), dt.date(2024, 2, 1), "open")
    >>> hd.is_open(dt.date(2024, 1, 4)), hd.is_open(dt.date(2024, 3, 1)), hd.is_overdue(dt.date(2024, 3, 1))
    (False, True, True)
    >>> fixed = HiddenDanger("HD-2", "P-1", "major", dt.date(2024, 1, 5), dt.date(2024, 2, 1), "rectified",
    ...                      dt.date(2024, 1, 20))
    >>> fixed.is_open(dt.date(2024, 3, 1)), fixed.is_overdue(dt.date(2024, 3, 1))
    (True, False)
    """

    id: str
    target: str
    grade: HDGrade
    found: _dt.date
    deadline: _dt.date | None = None
    status: HDStatus = "open"
    closed: _dt.date | None = None
    description: str = ""
    basis: str = ""
    kind: str = "hidden_danger"

    def is_open(self, as_of: _dt.date) -> bool:
        """Open on ``as_of`` (found by then, not closed by then; a major one closes only when verified)."""
        if self.found > as_of:
            return False
        if self.status == "open" or (self.grade == "major" and self.status != "verified"):
            return True
        return self.closed is not None and self.closed > as_of

    def is_rectified(self, as_of: _dt.date) -> bool:
        """Rectified (or verified) on or before ``as_of``."""
        if self.status == "open" or self.found > as_of:
            return False
        return self.closed is None or self.closed <= as_of

    def is_overdue(self, as_of: _dt.date) -> bool:
        """Open on ``as_of``, not rectified by then, and past its rectification deadline."""
        return (self.is_open(as_of) and not self.is_rectified(as_of) and self.deadline is not None
                and self.deadline < as_of)


@attrs.frozen
class MonitoringPoint:
    """A monitoring point (监测点) at a risk point, with its alarm limits."""

    id: str
    risk_point: str
    name: str
    quantity: str
    unit: str = ""
    low_low: float | None = None
    low: float | None = None
    high: float | None = None
    high_high: float | None = None
    kind: str = "monitoring_point"


@attrs.frozen
class Accident:
    """An accident of the enterprise, graded per 国务院令第493号 (``general`` ... ``extraordinary``)."""

    id: str
    date: _dt.date
    severity: str
    deaths: int = 0
    injuries: int = 0
    description: str = ""
    kind: str = "accident"


@attrs.frozen
class Dependency:
    """An extra dependency: ``source`` endangers ``target`` (its level counts as a child of it)."""

    source: str
    target: str
    reason: str = ""
    kind: str = "dependency"


Record = Unit | RiskPoint | Hazard | HiddenDanger | MonitoringPoint | Accident


@attrs.frozen
class Enterprise:
    """An enterprise and its register. Build it with :func:`load_enterprise`."""

    id: str
    name: str
    jurisdiction: str
    sectors: tuple[str, ...]
    uscc: str | None = None
    zone: str | None = None
    lon: float | None = None
    lat: float | None = None
    standardisation: int | None = None
    ruleset: str | None = None
    units: tuple[Unit, ...] = ()
    risk_points: tuple[RiskPoint, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    hidden_dangers: tuple[HiddenDanger, ...] = ()
    monitoring_points: tuple[MonitoringPoint, ...] = ()
    accidents: tuple[Accident, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    source: str = attrs.field(default="", eq=False)
    kind: str = "enterprise"
    #: the sector's enterprise-level model (e.g. ``hazchem-enterprise-2018``) grading the enterprise node
    diagnosis_ruleset: str | None = None
    diagnosis_facts: Mapping[str, Any] | None = attrs.field(default=None, eq=False, hash=False)
    #: the outline of the site plan (``site: {boundary: [...]}``): positions, all ``{"x", "y"}``
    #: (site-plan metres) or all ``{"lon", "lat"}`` (WGS84)
    site_boundary: tuple[Mapping[str, float], ...] | None = attrs.field(default=None, eq=False, hash=False)
    #: emergency contacts (应急电话)
    emergency_contacts: tuple[Contact, ...] = ()
    #: top-level extension fields (``x-...``) of the register, kept as given (the ministry adapter's ``x-ministry``)
    extensions: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)

    @property
    def facts(self) -> Mapping[str, Any] | None:
        """The enterprise-level facts its :attr:`diagnosis_ruleset` grades (``None`` without one)."""
        return self.diagnosis_facts if self.diagnosis_ruleset else None

    def record(self, record_id: str) -> Record:
        """The unit, risk point, hazard, hidden danger, monitoring point or accident ``record_id``.

        Raises ``KeyError`` when there is none.
        """
        for group in (self.units, self.risk_points, self.hazards, self.hidden_dangers,
                      self.monitoring_points, self.accidents):
            for rec in group:
                if rec.id == record_id:
                    return rec
        raise KeyError(record_id)


# --------------------------------------------------------------------------- parsing

_ANY_FIELDS = ("note", "notes")
_INF = float("inf")
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _field_path(field: str) -> tuple[str | int, ...]:
    """``"area[2].x"`` → ``("area", 2, "x")``, ``"controls.ppe[1]"`` → ``("controls", "ppe", 1)``: the path
    of a field inside its record."""
    return tuple(int(m[2]) if m[2] is not None else m[1] for m in _FIELD_PART.finditer(field))


class _Fields:
    """Reads the fields of one record, raising FactError that names it."""

    def __init__(self, data: Any, record: str, where: Callable[[str], str], prefix: str = "") -> None:
        self.record = record
        self.where = where
        #: the path of this mapping inside the record (``responsible.company.``), prefixed to field names
        self.prefix = prefix
        if not isinstance(data, Mapping):
            raise FactError(f"expected a mapping, got {type(data).__name__}{where(prefix.rstrip('.'))}",
                            record=record, field=prefix.rstrip(".") or None, code="bad-type")
        self.data = data
        self.used: set[str] = set(_ANY_FIELDS)

    def fail(self, field: str, code: str, message: str, value: Any = None) -> FactError:
        full = self.prefix + field
        return FactError(message + self.where(full), field=full, record=self.record, code=code, value=value)

    def get(self, field: str, required: bool = False) -> Any:
        self.used.add(field)
        v = self.data.get(field)  # a missing field and null are the same
        if v is None and required:
            raise self.fail(field, "missing-field", f"{field!r} is required")
        return v

    def text(self, field: str, required: bool = False, default: str = "") -> str:
        v = self.get(field, required)
        if v is None:
            return default
        if type(v) is str:  # the common case, checked first
            s = v.strip()
            if required and not s:
                raise self.fail(field, "missing-field", f"{field!r} must not be empty")
            return s
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise self.fail(field, "bad-type", f"expected text, got {type(v).__name__}", v)
        s = str(v).strip()
        if required and not s:
            raise self.fail(field, "missing-field", f"{field!r} must not be empty")
        return s

    def opt_text(self, field: str) -> str | None:
        s = self.text(field)
        return s or None

    def number(self, field: str) -> float | None:
        v = self.get(field)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(field, "bad-type", f"expected a number, got {v!r}", v)
        return float(v)

    def count(self, field: str) -> int:
        v = self.get(field)
        if v is None:
            return 0
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.fail(field, "bad-value", f"expected a whole number ≥ 0, got {v!r}", v)
        return v

    def date(self, field: str, required: bool = False) -> _dt.date | None:
        v = self.get(field, required)
        if v is None:
            return None
        return parse_date(v, lambda msg: self.fail(field, "bad-date", msg, v))

    def choice(self, field: str, spellings: Mapping[str, str], default: str | None = None) -> str:
        v = self.get(field, default is None)
        if v is None:
            assert default is not None
            return default
        key = str(v).strip()
        found = spellings.get(key) or spellings.get(key.lower())
        if found is None:
            raise self.fail(field, "bad-value", f"{v!r} is not one of {', '.join(sorted(set(spellings)))}", v)
        return found

    def grade(self, field: str) -> int | None:
        """A 一级..四级 grade (1-4) or None."""
        v = self.get(field)
        if v is None or v in ("none", "无", ""):
            return None
        found = GRADES.get(str(v).strip())
        if found is None or isinstance(v, bool):
            raise self.fail(field, "bad-value", f"{v!r} is not a grade (一级/二级/三级/四级 or 1-4)", v)
        return found

    def mapping(self, field: str) -> dict[str, Any] | None:
        v = self.get(field)
        if v is None:
            return None
        if not isinstance(v, Mapping):
            raise self.fail(field, "bad-type", f"expected a mapping, got {type(v).__name__}", v)
        return {str(k): x if type(x) in _SCALARS else _plain(x) for k, x in v.items()}

    def location(self) -> dict[str, float] | None:
        """``{lon, lat}`` (WGS84 degrees) or ``{x, y}`` (site-plan metres)."""
        v = self.mapping("location")
        return None if v is None else self.position("location", v)

    def position(self, field: str, v: Any) -> dict[str, float]:
        """One position ``v`` of ``field``: ``{lon, lat}`` (WGS84 degrees) or ``{x, y}`` (site-plan metres)."""
        if not isinstance(v, Mapping):
            raise self.fail(field, "bad-type", f"a position is a mapping {{x, y}} or {{lon, lat}}, got {v!r}", v)
        keys = {str(k) for k in v}
        if keys not in ({"lon", "lat"}, {"x", "y"}):
            raise self.fail(field, "bad-value", f"a position is {{lon, lat}} (WGS84) or {{x, y}} "
                            f"(site-plan metres), got keys {sorted(keys)}")
        for key, val in sorted((str(k), x) for k, x in v.items()):
            if isinstance(val, bool) or not isinstance(val, (int, float)) or val != val or val in (_INF, -_INF):
                raise self.fail(f"{field}.{key}", "bad-value", f"{val!r} is not a number", val)
            lim = {"lon": 180, "lat": 90}.get(key)
            if lim is not None and abs(val) > lim:
                raise self.fail(f"{field}.{key}", "bad-value", f"{val!r} is not a {key}itude", val)
        return {str(k): float(x) for k, x in sorted(v.items())}

    def polygon(self, field: str, required: bool = False) -> tuple[dict[str, float], ...] | None:
        """A polygon on the site plan: at least three positions, all ``{x, y}`` or all ``{lon, lat}``."""
        v = self.get(field, required)
        if v is None:
            return None
        if not isinstance(v, list) or len(v) < 3:
            raise self.fail(field, "bad-value", "a polygon is a list of at least 3 positions, each {x, y} "
                            "(site-plan metres) or {lon, lat} (WGS84)", v)
        out = tuple(self.position(f"{field}[{i}]", p) for i, p in enumerate(v))
        for i, p in enumerate(out):
            if set(p) != set(out[0]):
                raise self.fail(f"{field}[{i}]", "bad-value", "the positions of one polygon are all {x, y} "
                                "or all {lon, lat}, not both", v[i])
        return out

    def texts(self, field: str) -> tuple[str, ...]:
        """A list of non-empty texts (a single text counts as a list of one)."""
        v = self.get(field)
        if v is None:
            return ()
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, (list, tuple)):
            raise self.fail(field, "bad-type", f"expected a list of texts, got {type(v).__name__}", v)
        out: list[str] = []
        for i, x in enumerate(items):
            if isinstance(x, bool) or not isinstance(x, (str, int)) or not str(x).strip():
                raise self.fail(f"{field}[{i}]", "bad-type", f"expected a non-empty text, got {x!r}", x)
            out.append(str(x).strip())
        return tuple(out)

    def accident_types(self, field: str) -> tuple[str, ...]:
        """GB 6441-1986 accident categories, each once, in the order given."""
        out: list[str] = []
        for i, x in enumerate(self.texts(field)):
            name = _ACCIDENT_TYPE_SPELL.get(x)
            if name is None:
                raise self.fail(f"{field}[{i}]", "bad-accident-type",
                                f"{x!r} is not a GB 6441-1986 accident category (one of "
                                f"{', '.join(n for _, n in ACCIDENT_TYPES)})", x)
            if name in out:
                raise self.fail(f"{field}[{i}]", "bad-value", f"{name!r} is listed twice", x)
            out.append(name)
        return tuple(out)

    def phone(self, field: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(field, "bad-type", f"expected a telephone number as text, got {value!r}", value)
        s = str(value).strip()
        digits = sum(c.isdigit() for c in s)
        if not _PHONE_RE.match(s) or not 3 <= digits <= 18:
            raise self.fail(field, "bad-phone", f"{s!r} is not a telephone number (digits, optionally with +, "
                            "spaces, hyphens or parentheses: 0943-8222119, 13909430001, 119)", value)
        return s

    def controls(self, field: str) -> tuple[Control, ...]:
        """``{category: [measure, ...]}`` (or, re-parsing a record, a sequence of :class:`Control`)."""
        v = self.get(field)
        if v is None:
            return ()
        found: dict[str, list[str]] = {}
        if isinstance(v, (list, tuple)) and all(isinstance(x, Control) for x in v):
            for c in v:
                found.setdefault(c.category, []).append(c.measure)
        elif isinstance(v, Mapping):
            for key, measures in v.items():
                cat = _CONTROL_SPELL.get(str(key).strip())
                if cat is None:
                    raise self.fail(f"{field}.{key}", "bad-control-category",
                                    f"{key!r} is not a kind of control measure (one of "
                                    f"{', '.join(f'{k} ({zh})' for k, zh, _ in CONTROL_CATEGORIES)})", key)
                if cat in found:
                    raise self.fail(f"{field}.{key}", "duplicate-key", f"{key!r} repeats the category {cat!r}")
                sub = _Fields({str(key): measures}, self.record, self.where, f"{self.prefix}{field}.")
                found[cat] = list(sub.texts(str(key)))
        else:
            raise self.fail(field, "bad-type", "expected a mapping {category: [measure, ...]}", v)
        return tuple(Control(cat, m) for cat, _, _ in CONTROL_CATEGORIES for m in found.get(cat, ()))

    def responsible(self, field: str) -> tuple[Responsible, ...]:
        """``{tier: {name, position?, phone?, department?}}`` (or a sequence of :class:`Responsible`)."""
        v = self.get(field)
        if v is None:
            return ()
        if isinstance(v, (list, tuple)) and all(isinstance(x, Responsible) for x in v):
            v = {r.tier: {"name": r.name, "position": r.position, "phone": r.phone or None,
                          "department": r.department} for r in v}
        if not isinstance(v, Mapping):
            raise self.fail(field, "bad-type", "expected a mapping {tier: {name, position, phone}}", v)
        found: dict[str, Responsible] = {}
        for key, person in v.items():
            tier = _TIER_SPELL.get(str(key).strip())
            if tier is None:
                raise self.fail(f"{field}.{key}", "bad-value", f"{key!r} is not a control tier (one of "
                                f"{', '.join(f'{k} ({zh})' for k, zh in CONTROL_TIERS)})", key)
            if tier in found:
                raise self.fail(f"{field}.{key}", "duplicate-key", f"{key!r} repeats the tier {tier!r}")
            pf = _Fields(person, self.record, self.where, f"{self.prefix}{field}.{key}.")
            name = pf.text("name", required=True)
            phone = pf.get("phone")
            found[tier] = Responsible(tier, name, pf.text("position"),
                                      "" if phone is None else pf.phone("phone", phone), pf.text("department"))
            pf.done()
        return tuple(found[t] for t, _ in CONTROL_TIERS if t in found)

    def done(self) -> None:
        if self.used.issuperset(self.data):  # every key a known field (the common case)
            return
        extra = sorted(str(k) for k in self.data if str(k) not in self.used and not str(k).startswith("x-"))
        if extra:
            raise self.fail(extra[0], "unknown-field",
                            f"unknown field {extra[0]!r} (allowed: {', '.join(sorted(self.used))}; "
                            "prefix extensions with 'x-')")


def _positions(polygon: Iterable[Mapping[str, float]]) -> list[dict[str, Any]]:
    return [{k: _num(v) for k, v in pos.items()} for pos in polygon]


#: values :func:`_plain` leaves as they are (checked by exact type first, the common case)
_SCALARS = frozenset({str, int, float})


def _plain(v: Any) -> Any:
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def parse_date(v: Any, fail: Callable[[str], Exception]) -> _dt.date:
    """A date from a ``date`` or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise fail(f"{v!r} is not a date (use YYYY-MM-DD)")


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of a unified social credit code's first 17 characters.

    >>> uscc_check_char("91620402MA0000000")
    'Q'
    """
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def _is_uscc(code: str) -> bool:
    return bool(_USCC_RE.match(code)) and uscc_check_char(code[:17]) == code[17]


_HD_GRADES = HIDDEN_DANGER_GRADES
_HD_STATUS = HIDDEN_DANGER_STATUSES


def parse_record(kind: str, data: Any, record: str = "", where: Callable[[str], str] = lambda f: "") -> Record:
    """One register record of ``kind`` (``unit``, ``risk_point``, ``hazard``, ``hidden_danger``,
    ``monitoring_point``, ``accident``) from a mapping; references are not checked here.

    >>> parse_record("hidden_danger", {"id": "HD-1", "target": "P-1", "grade": "重大", "found": "2024-05-01"})
    HiddenDanger(id='HD-1', target='P-1', grade='major', found=datetime.date(2024, 5, 1), deadline=None, \
status='open', closed=None, description='', basis='', kind='hidden_danger')
    """
    fast = _FAST.get(kind)
    if fast is not None and type(data) is dict and data.keys() <= fast[0]:
        built = fast[1](data)
        if built is not None:
            return built
    rid = record
    if isinstance(data, Mapping) and isinstance(data.get("id"), (str, int)) and not isinstance(data["id"], bool):
        rid = str(data["id"])
    f = _Fields(data, rid, where)
    ident = f.text("id", required=True)
    rec: Record
    if kind == "unit":
        rec = Unit(ident, f.text("name", required=True), f.grade("major_hazard_grade"), location=f.location(),
                   area=f.polygon("area"))
    elif kind == "risk_point":
        facts = f.mapping("facts")
        if facts is None:
            raise f.fail("facts", "missing-field", "'facts' is required (the inputs its ruleset grades)")
        rec = RiskPoint(ident, f.text("unit", required=True), f.text("name", required=True), facts,
                        f.opt_text("ruleset"), location=f.location(),
                        possible_accidents=f.accident_types("possible_accidents"), controls=f.controls("controls"),
                        emergency_measures=f.texts("emergency_measures"), responsible=f.responsible("responsible"))
    elif kind == "hazard":
        rec = Hazard(ident, f.text("risk_point", required=True), f.text("name", required=True),
                     f.text("category"), f.mapping("facts"), f.opt_text("ruleset"))
    elif kind == "hidden_danger":
        found = f.date("found", required=True)
        assert found is not None
        deadline, closed = f.date("deadline"), f.date("closed")
        status = f.choice("status", _HD_STATUS, "open")
        if deadline is not None and deadline < found:
            raise f.fail("deadline", "bad-value", f"deadline {deadline} is before found date {found}")
        if closed is not None and closed < found:
            raise f.fail("closed", "bad-value", f"closed date {closed} is before found date {found}")
        if closed is not None and status == "open":
            raise f.fail("closed", "bad-value", "an open hidden danger has no closed date")
        rec = HiddenDanger(ident, f.text("target", required=True), f.choice("grade", _HD_GRADES),  # type: ignore[arg-type]
                           found, deadline, status, closed, f.text("description"), f.text("basis"))  # type: ignore[arg-type]
    elif kind == "monitoring_point":
        limits = [f.number(k) for k in ("low_low", "low", "high", "high_high")]
        given = [x for x in limits if x is not None]
        if given != sorted(given):
            raise f.fail("high", "bad-value", "alarm limits must satisfy low_low ≤ low ≤ high ≤ high_high")
        rec = MonitoringPoint(ident, f.text("risk_point", required=True), f.text("name", required=True),
                              f.text("quantity", required=True), f.text("unit"), limits[0], limits[1], limits[2],
                              limits[3])
    elif kind == "accident":
        date = f.date("date", required=True)
        assert date is not None
        rec = Accident(ident, date, f.choice("severity", _ACCIDENT_SPELL), f.count("deaths"), f.count("injuries"),
                       f.text("description"))
    else:
        raise ValueError(f"unknown record kind {kind!r}")
    f.done()
    return rec


# -- the fast path: a plain record is built directly ----------------------------------------------
# A record that is a dict of known fields whose values have the plain types (text as str, dates as
# ISO text or dates, numbers as int/float) is built without the field-by-field reader; anything
# else -- a wrong type, a missing or empty required field, an unknown or ``x-`` field, a date out of
# order -- returns None, and parse_record reads it field by field and raises the located error.
# So the fast path never decides an error, and builds exactly what the reader would.
def _str(v: Any) -> str | None:
    """Required text: the stripped str, or None (the reader decides)."""
    if type(v) is not str:
        return None
    s = v.strip()
    return s or None


def _opt(v: Any, default: str | None = "") -> str | bool | None:
    """Optional text: the stripped str (``default`` when absent or empty), or False (the reader decides)."""
    if v is None:
        return default
    if type(v) is not str:
        return False
    return v.strip() or default


def _fdate(v: Any) -> _dt.date | None:
    t = type(v)
    if t is _dt.date:
        return v  # type: ignore[no-any-return]
    if t is str:
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def _facts(v: Any) -> dict[str, Any] | None:
    return {str(k): x if type(x) in _SCALARS else _plain(x) for k, x in v.items()} if type(v) is dict else None


def _fast_unit(d: dict[str, Any]) -> Record | None:
    ident, name, g = _str(d.get("id")), _str(d.get("name")), d.get("major_hazard_grade")
    if ident is None or name is None:
        return None
    grade: int | None = None
    if g is not None and g not in ("none", "无", "") and (type(g) is not str or (grade := GRADES.get(g.strip())) is None):
        return None
    return Unit(ident, name, grade)


def _fast_risk_point(d: dict[str, Any]) -> Record | None:
    ident, unit, name, facts = _str(d.get("id")), _str(d.get("unit")), _str(d.get("name")), _facts(d.get("facts"))
    rs = _opt(d.get("ruleset"), None)
    if ident is None or unit is None or name is None or facts is None or rs is False:
        return None
    return RiskPoint(ident, unit, name, facts, rs)  # type: ignore[arg-type]


def _fast_hazard(d: dict[str, Any]) -> Record | None:
    ident, point, name, cat = _str(d.get("id")), _str(d.get("risk_point")), _str(d.get("name")), _opt(d.get("category"))
    v = d.get("facts")
    facts = None if v is None else _facts(v)
    rs = _opt(d.get("ruleset"), None)
    if ident is None or point is None or name is None or cat is False or (v is not None and facts is None) or rs is False:
        return None
    return Hazard(ident, point, name, cat, facts, rs)  # type: ignore[arg-type]


def _fast_hidden_danger(d: dict[str, Any]) -> Record | None:
    ident, target, found = _str(d.get("id")), _str(d.get("target")), _fdate(d.get("found"))
    dl, cl, st, gr = d.get("deadline"), d.get("closed"), d.get("status"), d.get("grade")
    deadline = None if dl is None else _fdate(dl)
    closed = None if cl is None else _fdate(cl)
    status = "open" if st is None else (_HD_STATUS.get(st.strip()) if type(st) is str else None)
    grade = _HD_GRADES.get(gr.strip()) if type(gr) is str else None
    desc, basis = _opt(d.get("description")), _opt(d.get("basis"))
    if (ident is None or target is None or found is None or status is None or grade is None or desc is False
            or basis is False or (dl is not None and (deadline is None or deadline < found))
            or (cl is not None and (closed is None or closed < found or status == "open"))):
        return None
    return HiddenDanger(ident, target, grade, found, deadline, status, closed, desc, basis)  # type: ignore[arg-type]


def _fast_monitoring_point(d: dict[str, Any]) -> Record | None:
    ident, point, name, qty = _str(d.get("id")), _str(d.get("risk_point")), _str(d.get("name")), _str(d.get("quantity"))
    unit = _opt(d.get("unit"))
    limits: list[float | None] = []
    for k in ("low_low", "low", "high", "high_high"):
        v = d.get(k)
        if v is not None and type(v) not in (int, float):
            return None
        limits.append(None if v is None else float(v))
    given = [x for x in limits if x is not None]
    if ident is None or point is None or name is None or qty is None or unit is False or given != sorted(given):
        return None
    return MonitoringPoint(ident, point, name, qty, unit, *limits)  # type: ignore[arg-type]


def _fast_accident(d: dict[str, Any]) -> Record | None:
    ident, date, sev, desc = _str(d.get("id")), _fdate(d.get("date")), d.get("severity"), _opt(d.get("description"))
    severity = _ACCIDENT_SPELL.get(sev.strip()) if type(sev) is str else None
    counts = [d.get("deaths"), d.get("injuries")]
    for k, v in enumerate(counts):
        if v is None:
            counts[k] = 0
        elif type(v) is not int or v < 0:
            return None
    if ident is None or date is None or severity is None or desc is False:
        return None
    return Accident(ident, date, severity, counts[0], counts[1], desc)  # type: ignore[arg-type]


#: kind -> (the fields its fast path reads, the fast path)
_FAST: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], Record | None]]] = {
    "unit": (frozenset({"id", "name", "major_hazard_grade", *_ANY_FIELDS}), _fast_unit),
    "risk_point": (frozenset({"id", "unit", "name", "facts", "ruleset", *_ANY_FIELDS}), _fast_risk_point),
    "hazard": (frozenset({"id", "risk_point", "name", "category", "facts", "ruleset", *_ANY_FIELDS}), _fast_hazard),
    "hidden_danger": (frozenset({"id", "target", "grade", "found", "deadline", "status", "closed", "description",
                                 "basis", *_ANY_FIELDS}), _fast_hidden_danger),
    "monitoring_point": (frozenset({"id", "risk_point", "name", "quantity", "unit", "low_low", "low", "high",
                                    "high_high", *_ANY_FIELDS}), _fast_monitoring_point),
    "accident": (frozenset({"id", "date", "severity", "deaths", "injuries", "description", *_ANY_FIELDS}),
                 _fast_accident),
}


_LISTS = (("units", "unit"), ("risk_points", "risk_point"), ("hazards", "hazard"),
          ("hidden_dangers", "hidden_danger"), ("monitoring_points", "monitoring_point"),
          ("accidents", "accident"))


def load_enterprise(path_or_mapping: str | os.PathLike[str] | Mapping[str, Any]) -> Enterprise:
    """An :class:`Enterprise` from a register file (``.yaml``/``.yml``/``.json``) or a mapping.

    Raises :class:`~riskgrade.exceptions.FactError` naming the record and field; for a file,
    the message ends with ``(file:line:col)``.
    """
    located: Located | None = None
    source = ""
    if isinstance(path_or_mapping, Mapping):
        data: Any = path_or_mapping
    else:
        source = os.fspath(path_or_mapping)
        if source.endswith(".json"):
            data = read_json(source)
        else:
            try:
                located = load_yaml(source)
            except RulesetError as exc:
                p = exc.problems[0]
                where = f" ({p.file}:{p.line}:{p.col})" if p.line else ""
                raise FactError(p.message + where, record=source,
                                code="bad-syntax" if p.code in ("yaml-syntax", "yaml-value") else p.code) from None
            data = located.data
    return _build(data, located, source)


def read_json(source: str) -> Any:
    """The JSON document in the file ``source`` (budgeted by :class:`~riskgrade.Limits`); a
    :class:`FactError` naming the file (and line:col) when it cannot be read or parsed."""
    lim = get_limits()
    try:
        with open(source, encoding="utf-8-sig") as fh:
            text = fh.read(lim.max_bytes + 1)
    except OSError as exc:
        raise FactError(f"cannot read file: {exc.strerror}", record=source, code="unreadable") from None
    except UnicodeDecodeError as exc:
        raise FactError(f"cannot read file: {exc}", record=source, code="unreadable") from None
    try:
        return parse_json(text, source, lim)
    except JSONDocError as exc:
        at = f" ({source}:{exc.line}:{exc.col})" if exc.line else ""
        raise FactError(exc.message + at, record=source, code="bad-syntax" if exc.code == "bad-json" else exc.code) from None


_JURISDICTION = re.compile(r"\d{6}")


def _build(data: Any, located: Located | None, source: str) -> Enterprise:
    def where_of(path: tuple[Any, ...]) -> Callable[[str], str]:
        if located is None:
            return lambda field: ""

        def where(field: str) -> str:
            full = (*path, *_field_path(field)) if field else path
            line, col = located.where(full)
            return f" ({located.file}:{line}:{col})"
        return where

    top_id = data.get("id") if isinstance(data, Mapping) else None
    f = _Fields(data, str(top_id) if isinstance(top_id, (str, int)) else (source or "enterprise"), where_of(()))
    ident = f.text("id", required=True)
    name = f.text("name", required=True)
    juris = f.text("jurisdiction", required=True)
    if not _JURISDICTION.fullmatch(juris) or juris.startswith("00"):
        raise f.fail("jurisdiction", "bad-jurisdiction", f"{juris!r} is not a GB/T 2260 six-digit code")
    sectors_v = f.get("sectors", required=True)
    if isinstance(sectors_v, str):
        sectors_v = [sectors_v]
    if not isinstance(sectors_v, list) or not sectors_v or not all(isinstance(s, str) and s for s in sectors_v):
        raise f.fail("sectors", "bad-type", "expected a non-empty list of sector names")
    uscc = f.opt_text("uscc")
    if uscc is not None and not _is_uscc(uscc):
        raise f.fail("uscc", "bad-uscc", f"{uscc!r} is not a valid unified social credit code (GB 32100)")
    loc = f.mapping("location") or {}
    lon, lat = loc.get("lon"), loc.get("lat")
    for key, val, lim in (("lon", lon, 180), ("lat", lat, 90)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, (int, float)) or abs(val) > lim):
            raise f.fail(f"location.{key}", "bad-value", f"{val!r} is not a {key}itude")
    lists: dict[str, list[Record]] = {}
    for field, kind in _LISTS:
        items = f.get(field) or []
        if not isinstance(items, list):
            raise f.fail(field, "bad-type", f"expected a list, got {type(items).__name__}")
        fast_keys, fast = _FAST[kind]
        out: list[Record] = []
        for i, item in enumerate(items):
            rec = fast(item) if type(item) is dict and item.keys() <= fast_keys else None
            out.append(rec if rec is not None else parse_record(kind, item, f"{field}[{i}]", where_of((field, i))))
        lists[field] = out
    diag = f.mapping("diagnosis")
    diag_rs: str | None = None
    diag_facts: dict[str, Any] | None = None
    if diag is not None:
        df0 = _Fields(diag, ident, where_of(("diagnosis",)))
        diag_rs = df0.text("ruleset", required=True)
        diag_facts = df0.mapping("facts") or {}
        df0.done()
    site = f.mapping("site")
    boundary: tuple[dict[str, float], ...] | None = None
    if site is not None:
        sf = _Fields(site, ident, f.where, prefix="site.")
        boundary = sf.polygon("boundary", required=True)
        sf.done()
    contacts_v = f.get("emergency_contacts") or []
    if not isinstance(contacts_v, list):
        raise f.fail("emergency_contacts", "bad-type", "expected a list of {name, phone, role?}")
    contacts: list[Contact] = []
    for i, c in enumerate(contacts_v):
        cf = _Fields(c, ident, f.where, f"emergency_contacts[{i}].")
        contacts.append(Contact(cf.text("name", required=True), cf.phone("phone", cf.get("phone", required=True)),
                                cf.text("role")))
        cf.done()
    deps_v = f.get("dependencies") or []
    if not isinstance(deps_v, list):
        raise f.fail("dependencies", "bad-type", "expected a list")
    deps: list[Dependency] = []
    for i, d in enumerate(deps_v):
        df = _Fields(d, f"dependencies[{i}]", where_of(("dependencies", i)))
        deps.append(Dependency(df.text("from", required=True), df.text("to", required=True), df.text("reason")))
        df.done()
    ent = Enterprise(
        id=ident, name=name, jurisdiction=juris, sectors=tuple(str(s) for s in sectors_v), uscc=uscc,
        zone=f.opt_text("zone"), lon=None if lon is None else float(lon), lat=None if lat is None else float(lat),
        standardisation=f.grade("standardisation"), ruleset=f.opt_text("ruleset"),
        units=tuple(lists["units"]), risk_points=tuple(lists["risk_points"]),  # type: ignore[arg-type]
        hazards=tuple(lists["hazards"]), hidden_dangers=tuple(lists["hidden_dangers"]),  # type: ignore[arg-type]
        monitoring_points=tuple(lists["monitoring_points"]),  # type: ignore[arg-type]
        accidents=tuple(lists["accidents"]), dependencies=tuple(deps), source=source,  # type: ignore[arg-type]
        diagnosis_ruleset=diag_rs, diagnosis_facts=diag_facts, site_boundary=boundary, emergency_contacts=tuple(contacts),
        extensions={str(k): _plain(v) for k, v in data.items() if str(k).startswith("x-")},
    )
    f.done()
    check_references(ent, where_of)
    _check_bounds(ent, where_of)
    return ent


@functools.lru_cache(maxsize=1)
def _shipped_bounds() -> dict[str, tuple[float, float, float, float]]:
    """County code → (min lon, min lat, max lon, max lat) of the shipped boundaries (riskgrade/data)."""
    text = importlib.resources.files("riskgrade").joinpath("data/baiyin_counties.geojson").read_text("utf-8")
    out: dict[str, tuple[float, float, float, float]] = {}
    for feat in json.loads(text)["features"]:
        pts: list[tuple[float, float]] = []
        stack: list[Any] = [feat["geometry"]["coordinates"]]
        while stack:
            c = stack.pop()
            if isinstance(c[0], (int, float)):
                pts.append((c[0], c[1]))
            else:
                stack.extend(c)
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        out[str(feat["properties"]["adcode"])] = (min(xs), min(ys), max(xs), max(ys))
    return out


@functools.lru_cache(maxsize=1024)
def region_bounds(code: str) -> tuple[float, float, float, float] | None:
    """The WGS84 bounding box of a county (or the union of a city's counties) riskgrade ships a
    boundary for, else ``None``.

    >>> region_bounds("620402")
    (103.890418, 36.250956, 104.413906, 36.78468)
    >>> region_bounds("110101") is None
    True
    """
    shipped = _shipped_bounds()
    boxes = [b for c, b in shipped.items() if c == code or (code.endswith("00") and c.startswith(code[:4]))]
    if not boxes or code.endswith("0000"):
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _check_bounds(ent: Enterprise, where_of: Callable[[tuple[Any, ...]], Callable[[str], str]]) -> None:
    box = region_bounds(ent.jurisdiction)
    if box is None:
        return
    spots: list[tuple[str, tuple[Any, ...], str, float, float]] = []
    if ent.lon is not None and ent.lat is not None:
        spots.append((ent.id, (), "location", ent.lon, ent.lat))
    for i, pos in enumerate(ent.site_boundary or ()):
        if "lon" in pos:
            spots.append((ent.id, ("site",), f"boundary[{i}]", pos["lon"], pos["lat"]))
    for field in ("units", "risk_points"):
        for i, rec in enumerate(getattr(ent, field)):
            if rec.location is not None and "lon" in rec.location:
                spots.append((rec.id, (field, i), "location", rec.location["lon"], rec.location["lat"]))
            for j, pos in enumerate(getattr(rec, "area", None) or ()):
                if "lon" in pos:
                    spots.append((rec.id, (field, i), f"area[{j}]", pos["lon"], pos["lat"]))
    for rid, path, field, lon, lat in spots:
        if not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
            what = "location" if field == "location" else "position"
            raise FactError(f"{what} ({lon}, {lat}) lies outside the bounds of {ent.jurisdiction} "
                            f"(lon {box[0]}..{box[2]}, lat {box[1]}..{box[3]}, WGS84){where_of(path)(field)}",
                            record=rid, field=field if not path or path[0] != "site" else f"site.{field}",
                            code="outside-region", value=(lon, lat))


def check_references(ent: Enterprise,
                     where_of: Callable[[tuple[Any, ...]], Callable[[str], str]] = lambda p: lambda f: "") -> None:
    """Raise :class:`FactError` on a duplicate id or a reference to a missing record."""
    seen: dict[str, str] = {ent.id: "enterprise"}
    for field, _kind in _LISTS:
        for i, rec in enumerate(getattr(ent, field)):
            if rec.id in seen:
                raise FactError(f"id {rec.id!r} is already used by a {seen[rec.id]}{where_of((field, i))('id')}",
                                record=rec.id, field="id", code="duplicate-id")
            seen[rec.id] = rec.kind
    units = {u.id for u in ent.units}
    points = {p.id for p in ent.risk_points}
    nodes = units | points | {h.id for h in ent.hazards} | {ent.id}

    def check(items: Iterable[Any], field: str, attr: str, allowed: set[str], what: str) -> None:
        for i, rec in enumerate(items):
            ref = getattr(rec, attr)
            if ref not in allowed:
                raise FactError(f"no {what} with id {ref!r}{where_of((field, i))(attr)}", record=rec.id,
                                field=attr, code="unknown-reference", value=ref)

    check(ent.risk_points, "risk_points", "unit", units, "unit")
    check(ent.hazards, "hazards", "risk_point", points, "risk point")
    check(ent.monitoring_points, "monitoring_points", "risk_point", points, "risk point")
    check(ent.hidden_dangers, "hidden_dangers", "target", points | units | {ent.id},
          "risk point, unit or enterprise")
    for i, d in enumerate(ent.dependencies):
        for attr, key in (("source", "from"), ("target", "to")):
            ref = getattr(d, attr)
            if ref not in nodes:
                raise FactError(f"no unit, risk point or hazard with id {ref!r}"
                                f"{where_of(('dependencies', i))(key)}", record=f"dependencies[{i}]", field=key,
                                code="unknown-reference", value=ref)


# --------------------------------------------------------------------------- writing

def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", (), [], {})}


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def point_data(rp: RiskPoint) -> dict[str, Any]:
    """One risk point as a register mapping (:func:`register_data`)."""
    controls: dict[str, list[str]] = {}
    for c in rp.controls:
        controls.setdefault(c.category, []).append(c.measure)
    return _drop_empty({
        "id": rp.id, "unit": rp.unit, "name": rp.name, "ruleset": rp.ruleset, "facts": _plain(dict(rp.facts)),
        "location": None if rp.location is None else {k: _num(v) for k, v in rp.location.items()},
        "possible_accidents": list(rp.possible_accidents), "controls": controls,
        "emergency_measures": list(rp.emergency_measures),
        "responsible": {r.tier: _drop_empty({"name": r.name, "position": r.position, "phone": r.phone,
                                             "department": r.department}) for r in rp.responsible},
    }) | {"facts": _plain(dict(rp.facts))}


def register_data(ent: Enterprise) -> dict[str, Any]:
    """The register of ``ent`` as a plain mapping (dates as ISO text) that :func:`load_enterprise` reads
    back to an equal enterprise: the inverse of loading, used to write registers (the ministry adapter).

    >>> ent = load_enterprise({
    ...     "id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
    ...     "units": [{"id": "U-1", "name": "罐区"}],
    ...     "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15},
    ...                      "controls": {"个体防护措施": ["空气呼吸器"], "engineering": ["紧急切断阀"]},
    ...                      "possible_accidents": ["中毒和窒息", "其它爆炸"]}],
    ... })
    >>> data = register_data(ent)
    >>> data["risk_points"][0]["controls"], data["risk_points"][0]["possible_accidents"]
    ({'engineering': ['紧急切断阀'], 'ppe': ['空气呼吸器']}, ['中毒和窒息', '其他爆炸'])
    >>> register_data(load_enterprise(data)) == data
    True
    """
    out: dict[str, Any] = {"id": ent.id, "name": ent.name, "uscc": ent.uscc, "sectors": list(ent.sectors),
                           "jurisdiction": ent.jurisdiction, "zone": ent.zone}
    loc = {k: _num(v) for k, v in (("lon", ent.lon), ("lat", ent.lat)) if v is not None}
    out["location"] = loc or None
    out["standardisation"] = None if ent.standardisation is None else grade_zh(ent.standardisation)
    out["ruleset"] = ent.ruleset
    if ent.diagnosis_ruleset is not None:
        out["diagnosis"] = {"ruleset": ent.diagnosis_ruleset, "facts": _plain(dict(ent.diagnosis_facts or {}))}
    if ent.site_boundary is not None:
        out["site"] = {"boundary": _positions(ent.site_boundary)}
    out["emergency_contacts"] = [_drop_empty(attrs.asdict(c)) for c in ent.emergency_contacts]
    out["units"] = [_drop_empty({"id": u.id, "name": u.name,
                                 "major_hazard_grade": None if u.major_hazard_grade is None
                                 else grade_zh(u.major_hazard_grade),
                                 "location": None if u.location is None
                                 else {k: _num(v) for k, v in u.location.items()},
                                 "area": None if u.area is None else _positions(u.area)}) for u in ent.units]
    out["risk_points"] = [point_data(p) for p in ent.risk_points]
    out["hazards"] = [_drop_empty({"id": h.id, "risk_point": h.risk_point, "name": h.name, "category": h.category,
                                   "ruleset": h.ruleset}) | ({} if h.facts is None else {"facts": _plain(dict(h.facts))})
                      for h in ent.hazards]
    out["hidden_dangers"] = [_drop_empty({"id": d.id, "target": d.target, "grade": d.grade,
                                          "found": d.found.isoformat(),
                                          "deadline": d.deadline and d.deadline.isoformat(), "status": d.status,
                                          "closed": d.closed and d.closed.isoformat(), "description": d.description,
                                          "basis": d.basis}) for d in ent.hidden_dangers]
    out["monitoring_points"] = [_drop_empty({"id": m.id, "risk_point": m.risk_point, "name": m.name,
                                             "quantity": m.quantity, "unit": m.unit,
                                             **{k: None if getattr(m, k) is None else _num(getattr(m, k))
                                                for k in ("low_low", "low", "high", "high_high")}})
                                for m in ent.monitoring_points]
    out["accidents"] = [_drop_empty({"id": a.id, "date": a.date.isoformat(), "severity": a.severity,
                                     "deaths": a.deaths, "injuries": a.injuries, "description": a.description})
                        for a in ent.accidents]
    out["dependencies"] = [_drop_empty({"from": d.source, "to": d.target, "reason": d.reason})
                           for d in ent.dependencies]
    out.update(_plain(dict(ent.extensions)))
    return _drop_empty(out)
