"""The ministry adapter: a register in the field set of the dual-prevention data exchange of the
Ministry of Emergency Management's hazardous-chemicals programme (危险化学品企业双重预防机制数字化), and back.

The exchange is a set of tables, each a list of records with camel-case field names
(docs/adapters.md has the mapping and which names are verified):

=====================================  ==================  ===========================================
table                                  zh                  riskgrade
=====================================  ==================  ===========================================
``sec_security_risk_unit``             安全风险分析单元    a risk point; ``hazardCode`` (风险分析对象) is its unit
``sec_security_risk_events``           安全风险事件        a hazard
``sec_security_risk_control_measures`` 安全风险管控措施    a control measure of a risk point
``sec_hidden_check_mission``           隐患排查任务        kept as given (``x-ministry``)
``sec_hidden_check_record``            隐患排查记录        kept as given (``x-ministry``)
``sec_hidden_danger_info``             隐患信息            a hidden danger
=====================================  ==================  ===========================================

What the tables have no field for (grading facts, rulesets, locations, the enterprise's own data,
monitoring points, accidents ...) travels in the document's ``x-riskgrade`` block; what riskgrade has
no field for (the registrant, the source of a hidden danger, inspection tasks ...) is kept in the
register's ``x-ministry`` block, so that nothing is dropped either way:

>>> ent = load_enterprise({
...     "id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
...     "units": [{"id": "U-1", "name": "罐区"}],
...     "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15},
...                      "controls": {"engineering": ["紧急切断阀"]}}],
... })
>>> out = export_ministry(ent)
>>> out.data["sec_security_risk_unit"][0]["riskUnitName"], out.data["sec_security_risk_control_measures"][0]["classify1"]
('储罐', '1')
>>> register_data(import_ministry(out.data)) == register_data(ent)
True
>>> import_ministry({"sec_security_risk_unit": [{"id": "P-1", "riskUnitNam": "x"}]})
Traceback (most recent call last):
...
riskgrade.exceptions.FactError: record P-1, field 'riskUnitNam': unknown-field: sec_security_risk_unit[0]: \
the ministry field set has no field 'riskUnitNam' (fields: companyCode, createBy, createDate, deleted, hazardCode, \
hazardDep, hazardLiablePerson, id, riskUnitName, updateBy, updateDate)
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from riskgrade._core.canonical import dumps
from riskgrade._enterprise.register import (
    CONTROL_CATEGORIES,
    Enterprise,
    load_enterprise,
    point_data,
    read_json,
    register_data,
)
from riskgrade.exceptions import FactError

__all__ = ["FIELDS", "TABLES", "MinistryExport", "MinistryGap", "export_ministry", "import_ministry"]

T_UNIT, T_EVENT, T_MEASURE = "sec_security_risk_unit", "sec_security_risk_events", "sec_security_risk_control_measures"
T_TASK, T_CHECK, T_DANGER = "sec_hidden_check_mission", "sec_hidden_check_record", "sec_hidden_danger_info"
#: the tables in exchange order: (name, zh)
TABLES: tuple[tuple[str, str], ...] = (
    (T_UNIT, "安全风险分析单元"), (T_EVENT, "安全风险事件"), (T_MEASURE, "安全风险管控措施"),
    (T_TASK, "隐患排查任务"), (T_CHECK, "隐患排查记录"), (T_DANGER, "隐患信息"),
)
_BOOK = ("deleted", "createDate", "createBy", "updateDate", "updateBy")
#: the fields of each table: name → required (the key must be present; its value may be null unless riskgrade
#: needs it -- see _NEEDED)
FIELDS: Mapping[str, Mapping[str, bool]] = {
    T_UNIT: {"id": True, "companyCode": True, "hazardCode": True, "hazardDep": True, "hazardLiablePerson": True,
             "riskUnitName": True, "deleted": True, **{k: False for k in _BOOK[1:]}},
    T_EVENT: {"id": True, "companyCode": True, "riskUnitId": True, "riskEventName": True, "deleted": True,
              **{k: False for k in _BOOK[1:]}},
    T_MEASURE: {"id": True, "companyCode": True, "riskEventId": True, "dataSrc": False, "riskMeasureDesc": True,
                "classify1": True, "classify2": False, "classify3": False, "troubleshootContent": False,
                "deleted": True, **{k: False for k in _BOOK[1:]}},
    T_TASK: {"id": True, "companyCode": True, **{k: False for k in (
        "riskMeasureId", "troubleshootContent", "checkCycle", "checkCycleUnit", "taskStartTime", "workStartTime",
        "workEndTime", "workDayType", "workType", "taskNum", *_BOOK)}},
    T_CHECK: {"id": True, "companyCode": True, **{k: False for k in (
        "checkTaskId", "checkTime", "mobileMe", "isDefend", "checkStatus", "createByMobile", "updateByMobile",
        *_BOOK)}},
    # 必须 / 非必须 as the interface description of 隐患信息 marks them
    T_DANGER: {**{k: True for k in (
        "id", "companyCode", "hazardCode", "riskMeasureId", "checkRecordId", "dangerName", "dangerLevel", "registTime",
        "registrant", "dangerSrc", "dangerManageType", "hazardDangerType", "dangerDesc", "hazardCategory",
        "liablePerson", "dangerManageDeadline", "dangerState", *_BOOK)},
               **{k: False for k in (
        "enforcementId", "dangerReason", "controlMeasures", "cost", "checkAcceptPerson", "checkAcceptTime",
        "checkAcceptComment", "dangerImg", "dangerAcceptImg", "managementClassification", "occurrenceLink",
        "attachments1", "attachments2", "attachments3", "attachmentsType")}},
}
#: fields riskgrade cannot do without (a null is an error on import)
_NEEDED: Mapping[str, tuple[str, ...]] = {
    T_UNIT: ("id", "companyCode", "hazardCode", "riskUnitName"), T_EVENT: ("id", "companyCode", "riskUnitId",
                                                                           "riskEventName"),
    T_MEASURE: ("id", "companyCode", "riskEventId", "riskMeasureDesc"), T_TASK: ("id", "companyCode"),
    T_CHECK: ("id", "companyCode"), T_DANGER: ("id", "companyCode", "dangerLevel", "registTime", "dangerState"),
}
#: fields filled by the uploading platform (record bookkeeping): a null there is not a gap
_PLATFORM = set(_BOOK) - {"deleted"}
#: enumerations: field → allowed codes
_CLASSIFY2 = ("1-1", "1-2", "1-3", "1-4", "1-5", "2-1", "2-2", "2-3", "3-1", "3-2", "3-3", "3-4", "4-1", "4-2",
              "4-3", "4-4", "4-5")
_ENUMS: Mapping[str, tuple[str, ...]] = {
    "deleted": ("0", "1"), "dangerLevel": ("0", "1"), "dangerState": ("0", "1", "9"),
    "classify1": ("1", "2", "3", "4"), "classify2": _CLASSIFY2, "dataSrc": ("1", "2"),
    "dangerSrc": tuple(str(i) for i in range(1, 11)), "dangerManageType": ("0", "1"),
    "hazardDangerType": tuple(str(i) for i in range(1, 9)), "hazardCategory": ("0", "1", "2", "3"),
}
#: the ministry fields a riskgrade field maps to (a kept value for one of them is applied only while it
#: still agrees with the register; docs/adapters.md)
_MAPPED: Mapping[str, frozenset[str]] = {
    T_UNIT: frozenset({"id", "companyCode", "hazardCode", "riskUnitName", "hazardDep", "hazardLiablePerson"}),
    T_EVENT: frozenset({"id", "companyCode", "riskUnitId", "riskEventName"}),
    T_MEASURE: frozenset({"companyCode", "riskMeasureDesc"}),
    T_DANGER: frozenset({"id", "companyCode", "hazardCode", "dangerLevel", "registTime", "dangerDesc",
                         "dangerManageDeadline", "dangerState", "checkAcceptTime"}),
}
_DATE_FIELDS = frozenset({"registTime", "dangerManageDeadline", "checkAcceptTime"})
#: riskgrade control category → (classify1, classify2) of the ministry's measure classification
#: (1 工程技术, 2 维护保养, 3 操作行为, 4 应急措施; 1-5, 3-4 and 4-5 are each class's 其它)
_CATEGORY_CLASS: Mapping[str, tuple[str, str]] = {
    "engineering": ("1", "1-5"), "management": ("3", "3-4"), "training": ("3", "3-1"), "ppe": ("4", "4-2"),
    "emergency": ("4", "4-5"),
}
_CATEGORY_ZH = {k: zh for k, zh, _ in CONTROL_CATEGORIES}
_ZH_CATEGORY = {zh: k for k, zh, _ in CONTROL_CATEGORIES}
_GRADE = {"general": "0", "major": "1"}
_STATUS = {"open": "0", "rectified": "1", "verified": "9"}
_EXT_KEYS = ("enterprise", "units", "risk_points", "hazards", "hidden_dangers", "control_events")


def _category(c1: Any, c2: Any, c3: Any) -> str:
    """The riskgrade category of a measure classified ``(classify1, classify2, classify3)``."""
    if isinstance(c3, str) and c3 in _ZH_CATEGORY:
        return _ZH_CATEGORY[c3]
    c1, c2 = str(c1), None if c2 is None else str(c2)
    if c1 == "1":
        return "engineering"
    if c1 == "3" and c2 == "3-1":
        return "training"
    if c1 == "4":
        return "ppe" if c2 == "4-2" else "emergency"
    return "management"  # 2 维护保养, 3 操作行为


@attrs.frozen
class MinistryGap:
    """A field the ministry field set requires that the register has no value for (written as null)."""

    table: str
    record: str
    field: str


@attrs.frozen
class MinistryExport:
    """A register in the ministry field set: ``data`` (the tables and the ``x-riskgrade`` block) and the
    ``gaps`` -- required fields written as null because the register does not hold them."""

    data: Mapping[str, Any]
    gaps: tuple[MinistryGap, ...] = ()

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, UTF-8, two-space indent), the same bytes for the same register."""
        return dumps(self.data, indent=2) + "\n"


def _dt_text(d: _dt.date | None) -> str | None:
    return None if d is None else f"{d.isoformat()} 00:00:00"


def _parse_dt(v: Any, fail: Callable[[str], FactError]) -> _dt.date:
    """``yyyy-MM-dd HH:mm:ss``, ``yyyy-MM-dd`` or ``yyyyMMddHHmmss`` → the date."""
    if isinstance(v, str):
        t = v.strip()
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"):
            try:
                return _dt.datetime.strptime(t, fmt).date()
            except ValueError:
                continue
    raise fail(f"{v!r} is not a date-time (yyyy-MM-dd HH:mm:ss)")


def _norm(field: str, v: Any) -> Any:
    """A value as riskgrade reads it (to tell a kept value that still agrees with the register)."""
    if v is None:
        return None
    if field in _DATE_FIELDS:
        try:
            return _parse_dt(v, lambda m: FactError(m)).isoformat()
        except FactError:
            return v
    return str(v).strip()


# --------------------------------------------------------------------------- export

def export_ministry(enterprise: Enterprise | str | os.PathLike[str] | Mapping[str, Any]) -> MinistryExport:
    """The register ``enterprise`` (an :class:`Enterprise`, a register file or mapping) in the ministry field set.

    Every record lists each required field of its table (null where the register has no value; those
    left null are the returned ``gaps``, except the bookkeeping the uploading platform fills) and the
    optional fields that have a value. Values kept from an import (the register's ``x-ministry``) are
    written back.
    """
    ent = enterprise if isinstance(enterprise, Enterprise) else load_enterprise(enterprise)
    data = register_data(ent)
    tables = _derive(ent, data)
    kept = ent.extensions.get("x-ministry") or {}
    _apply_kept(tables, kept, ent)
    for table, recs in (kept.get("tables") or {}).items():
        tables.setdefault(table, []).extend(dict(r) for r in recs)
    for table, recs in (kept.get("deleted") or {}).items():
        tables.setdefault(table, []).extend(dict(r) for r in recs)
    gaps = [MinistryGap(t, str(r.get("id")), f) for t, _ in TABLES for r in tables.get(t, ())
            for f, req in FIELDS[t].items() if req and r.get(f) is None and f not in _PLATFORM]
    doc: dict[str, Any] = {t: tables.get(t, []) for t, _ in TABLES}
    doc["x-riskgrade"] = _extension(ent, data)
    return MinistryExport(doc, tuple(gaps))


def _blank(table: str, **values: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {f: None for f in FIELDS[table] if FIELDS[table][f]}
    rec.update({k: v for k, v in values.items() if v is not None or FIELDS[table][k]})  # optional: only with a value
    return rec


def _derive(ent: Enterprise, data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    code = ent.id
    units_of = {p.id: p.unit for p in ent.risk_points}
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t, _ in TABLES}
    first_event: dict[str, str] = {}
    for h in ent.hazards:
        first_event.setdefault(h.risk_point, h.id)
    for rp in ent.risk_points:
        dept = next((r for r in rp.responsible if r.tier == "department"), None)
        tables[T_UNIT].append(_blank(T_UNIT, id=rp.id, companyCode=code, hazardCode=rp.unit,
                                     hazardDep=(dept.department or None) if dept else None,
                                     hazardLiablePerson=dept.name if dept else None, riskUnitName=rp.name,
                                     deleted="0"))
    for h in ent.hazards:
        tables[T_EVENT].append(_blank(T_EVENT, id=h.id, companyCode=code, riskUnitId=h.risk_point,
                                      riskEventName=h.name, deleted="0"))
    for rp in ent.risk_points:
        if not rp.controls:
            continue
        event = first_event.get(rp.id)
        if event is None:  # measures hang on an event: a point without hazards gets one for its measures
            event = f"{rp.id}-E"
            tables[T_EVENT].append(_blank(T_EVENT, id=event, companyCode=code, riskUnitId=rp.id,
                                          riskEventName=rp.name, deleted="0"))
        for n, c in enumerate(rp.controls, start=1):
            c1, c2 = _CATEGORY_CLASS[c.category]
            tables[T_MEASURE].append(_blank(T_MEASURE, id=f"{rp.id}-C{n}", companyCode=code, riskEventId=event,
                                            riskMeasureDesc=c.measure, classify1=c1, classify2=c2,
                                            classify3=_CATEGORY_ZH[c.category], deleted="0"))
    unit_ids = {u.id for u in ent.units}
    for d in ent.hidden_dangers:
        unit = d.target if d.target in unit_ids else units_of.get(d.target)
        tables[T_DANGER].append(_blank(
            T_DANGER, id=d.id, companyCode=code, hazardCode=unit, dangerName=d.description or None,
            dangerLevel=_GRADE[d.grade], registTime=_dt_text(d.found), dangerDesc=d.description or None,
            hazardCategory=0, dangerManageDeadline=_dt_text(d.deadline), dangerState=_STATUS[d.status],
            checkAcceptTime=_dt_text(d.closed) if d.status == "verified" else None, deleted="0"))
    return tables


def _apply_kept(tables: dict[str, list[dict[str, Any]]], kept: Mapping[str, Any], ent: Enterprise) -> None:
    """Write back the values an import kept (``x-ministry.records``): fields riskgrade does not map always,
    mapped ones only while they still agree with the register."""
    records = kept.get("records") or {}
    category = {f"{p.id}-C{n}": c.category for p in ent.risk_points for n, c in enumerate(p.controls, start=1)}
    for table, recs in tables.items():
        over_t = records.get(table) or {}
        mapped = _MAPPED.get(table, frozenset())
        for rec in recs:
            key = str(rec.get("id"))
            over = over_t.get(key)
            if not over:
                continue
            for f, v in over.items():
                if f in mapped and rec.get(f) is not None and _norm(f, v) != _norm(f, rec.get(f)):
                    continue  # the register changed since the import: its value wins
                rec[f] = v
            cat = category.get(key) if table == T_MEASURE else None
            if cat is not None and _category(rec.get("classify1"), rec.get("classify2"), rec.get("classify3")) != cat:
                c1, c2 = _CATEGORY_CLASS[cat]  # the category changed since the import: classify it afresh
                rec.update(classify1=c1, classify2=c2, classify3=_CATEGORY_ZH[cat])


def _extension(ent: Enterprise, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``x-riskgrade`` block: every register field the tables have no field for."""
    top = {k: v for k, v in data.items() if k not in ("id", "units", "risk_points", "hazards", "hidden_dangers",
                                                      "x-ministry")}
    points: dict[str, Any] = {}
    for rp in ent.risk_points:
        rest = point_data(rp)
        for k in ("id", "unit", "name", "controls"):
            rest.pop(k, None)
        dept = (rest.get("responsible") or {}).get("department")
        if dept is not None:
            dept = {k: v for k, v in dept.items() if k not in ("name", "department")}
            if dept:
                rest["responsible"]["department"] = dept
            else:
                del rest["responsible"]["department"]
                if not rest["responsible"]:
                    del rest["responsible"]
        points[rp.id] = rest
    hazards = {h["id"]: {k: v for k, v in h.items() if k not in ("id", "risk_point", "name")}
               for h in data.get("hazards", [])}
    units = {u.id for u in ent.units}
    unit_of = {p.id: p.unit for p in ent.risk_points}
    dangers: dict[str, Any] = {}
    for d, dd in zip(ent.hidden_dangers, data.get("hidden_dangers", []), strict=True):
        rest = {k: v for k, v in dd.items() if k in ("basis",)}
        if d.status == "rectified" and d.closed is not None:
            rest["closed"] = d.closed.isoformat()
        derived = d.target if d.target in units else unit_of.get(d.target, ent.id)
        if derived != d.target:
            rest["target"] = d.target
        dangers[d.id] = rest
    with_hazards = {h.risk_point for h in ent.hazards}
    events = [f"{rp.id}-E" for rp in ent.risk_points if rp.controls and rp.id not in with_hazards]
    out = {"enterprise": top, "units": data.get("units", []), "risk_points": {k: v for k, v in points.items() if v},
           "hazards": {k: v for k, v in hazards.items() if v}, "hidden_dangers": {k: v for k, v in dangers.items() if v},
           "control_events": events}
    return out


# --------------------------------------------------------------------------- import

class _Reader:
    """Checks the records of one table, raising FactError that names the record and field."""

    def __init__(self, table: str, i: int, rec: Any) -> None:
        self.table, self.i = table, i
        self.record = str(rec["id"]) if isinstance(rec, Mapping) and isinstance(rec.get("id"), (str, int)) \
            else f"{table}[{i}]"
        if not isinstance(rec, Mapping):
            raise self.fail(None, "bad-type", f"expected a record (a mapping), got {type(rec).__name__}")
        self.rec = rec

    def fail(self, field: str | None, code: str, message: str, value: Any = None) -> FactError:
        return FactError(f"{self.table}[{self.i}]: {message}", record=self.record, field=field, code=code,
                         value=value)

    def check(self) -> None:
        known = FIELDS[self.table]
        for f in sorted(str(k) for k in self.rec):
            if f not in known:
                raise self.fail(f, "unknown-field", f"the ministry field set has no field {f!r} (fields: "
                                f"{', '.join(sorted(known))})")
        for f, req in known.items():
            if req and f not in self.rec:
                raise self.fail(f, "missing-field", f"the ministry field set requires {f!r} (null if unknown)")
        for f, v in self.rec.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, (str, int, float))):
                raise self.fail(f, "bad-type", f"expected text or a number, got {type(v).__name__}", v)
            if f in _NEEDED[self.table] and (v is None or str(v).strip() == ""):
                raise self.fail(f, "missing-field", f"{f!r} must have a value", v)
            if v is not None and f in _ENUMS and str(v) not in _ENUMS[f]:
                raise self.fail(f, "bad-value", f"{v!r} is not one of {', '.join(_ENUMS[f])}", v)

    def text(self, f: str) -> str | None:
        v = self.rec.get(f)
        return None if v is None or str(v).strip() == "" else str(v).strip()

    def date(self, f: str) -> str | None:
        v = self.rec.get(f)
        if v is None or v == "":
            return None
        return _parse_dt(v, lambda m: self.fail(f, "bad-date", m, v)).isoformat()


def import_ministry(source: Mapping[str, Any] | str | os.PathLike[str], *, name: str | None = None,
                    jurisdiction: str | None = None, sectors: tuple[str, ...] | None = None) -> Enterprise:
    """The register in a ministry document (a mapping or a ``.json`` file), checked as any register is.

    The enterprise's own fields come from the document's ``x-riskgrade`` block (written by
    :func:`export_ministry`); a document from elsewhere has none, so ``name``, ``jurisdiction`` and
    ``sectors`` must be given (the tables carry the enterprise code only). An unknown field, a required
    field missing, a wrong type or code is a :class:`FactError` naming the record and field; ministry
    values riskgrade has no field for are kept in the register's ``x-ministry`` block.
    """
    doc = read_json(os.fspath(source)) if not isinstance(source, Mapping) else source
    where = "" if isinstance(source, Mapping) else os.fspath(source)
    if not isinstance(doc, Mapping):
        raise FactError(f"expected a mapping of tables, got {type(doc).__name__}", record=where or "document",
                        code="bad-type")
    tables: dict[str, list[Mapping[str, Any]]] = {}
    for key, val in doc.items():
        if key == "x-riskgrade":
            continue
        if key not in FIELDS:
            raise FactError(f"unknown table {key!r} (tables: {', '.join(t for t, _ in TABLES)}; the riskgrade "
                            "extension is 'x-riskgrade')", record=where or "document", field=str(key),
                            code="unknown-field")
        if not isinstance(val, list):
            raise FactError(f"table {key!r} must be a list of records", record=where or "document",
                            field=str(key), code="bad-type")
        tables[key] = val
    ext = _check_ext(doc.get("x-riskgrade"), where)
    live: dict[str, list[_Reader]] = {t: [] for t, _ in TABLES}
    deleted: dict[str, list[dict[str, Any]]] = {}
    seen: dict[tuple[str, str], int] = {}
    company: str | None = None
    for table, _zh in TABLES:
        for i, rec in enumerate(tables.get(table, [])):
            r = _Reader(table, i, rec)
            r.check()
            code = str(rec["companyCode"]).strip()
            if company is None:
                company = code
            elif code != company:
                raise r.fail("companyCode", "ministry-conflict", f"company code {code!r} differs from {company!r} "
                             "(one document holds one enterprise)", code)
            if (table, r.record) in seen:
                raise r.fail("id", "ministry-conflict", f"id {r.record!r} repeats record {seen[table, r.record]}")
            seen[table, r.record] = i
            if str(rec.get("deleted")) == "1":
                deleted.setdefault(table, []).append(dict(rec))
            else:
                live[table].append(r)
    if company is None:
        company = str((ext.get("enterprise") or {}).get("id") or "")
    register = _assemble(company, live, ext, where, name, jurisdiction, sectors)
    ent = load_enterprise(register)
    kept = _kept(ent, live, deleted, tables)
    if kept:
        return attrs.evolve(ent, extensions={**ent.extensions, "x-ministry": kept})
    return ent


def _check_ext(ext: Any, where: str) -> dict[str, Any]:
    if ext is None:
        return {}
    rec = where or "document"
    if not isinstance(ext, Mapping):
        raise FactError("expected a mapping", record=rec, field="x-riskgrade", code="bad-type")
    for k in ext:
        if k not in _EXT_KEYS:
            raise FactError(f"unknown key {k!r} (keys: {', '.join(_EXT_KEYS)})", record=rec,
                            field=f"x-riskgrade.{k}", code="unknown-field")
    for k, typ in (("enterprise", Mapping), ("units", list), ("risk_points", Mapping), ("hazards", Mapping),
                   ("hidden_dangers", Mapping), ("control_events", list)):
        if k in ext and not isinstance(ext[k], typ):
            raise FactError(f"expected a {'list' if typ is list else 'mapping'}", record=rec,
                            field=f"x-riskgrade.{k}", code="bad-type")
    return dict(ext)


def _merge(base: dict[str, Any], rest: Any, record: str, what: str) -> dict[str, Any]:
    if rest is None:
        return base
    if not isinstance(rest, Mapping):
        raise FactError("expected a mapping", record=record, field=what, code="bad-type")
    for k, v in rest.items():
        if k in base:
            raise FactError(f"{what} repeats {k!r}, which the ministry tables carry", record=record,
                            field=f"{what}.{k}", code="ministry-conflict", value=v)
        base[k] = v
    return base


def _assemble(company: str, live: Mapping[str, list[_Reader]], ext: Mapping[str, Any], where: str,
              name: str | None, jurisdiction: str | None, sectors: tuple[str, ...] | None) -> dict[str, Any]:
    top = dict(ext.get("enterprise") or {})
    given = {"name": name, "jurisdiction": jurisdiction, "sectors": list(sectors) if sectors else None}
    for k, v in given.items():
        if v is not None:
            top[k] = v
        elif k not in top:
            raise FactError(f"the ministry tables do not hold the enterprise's {k}: pass it (riskgrade adapt import "
                            f"--{k.rstrip('s')}) or keep the document's x-riskgrade block", record=company or where,
                            field=k, code="missing-field")
    if "id" in top:
        raise FactError("the enterprise id is the tables' companyCode", record=company, field="x-riskgrade.enterprise.id",
                        code="ministry-conflict")
    ext_points = dict(ext.get("risk_points") or {})
    ext_hazards = dict(ext.get("hazards") or {})
    ext_dangers = dict(ext.get("hidden_dangers") or {})
    control_events = {str(e) for e in ext.get("control_events") or []}
    units: list[dict[str, Any]] = [dict(u) for u in ext.get("units") or []]
    unit_ids = {str(u.get("id")) for u in units}
    points: list[dict[str, Any]] = []
    for r in live[T_UNIT]:
        hc = r.text("hazardCode") or ""
        if hc not in unit_ids:  # the object's name is not in the exchange: its code stands for it
            units.append({"id": hc, "name": hc})
            unit_ids.add(hc)
        p = _merge({"id": r.record, "unit": hc, "name": r.text("riskUnitName")}, ext_points.pop(r.record, None),
                   r.record, "x-riskgrade.risk_points")
        p.setdefault("facts", {})
        person = r.text("hazardLiablePerson")
        if person is not None:
            resp = dict(p.get("responsible") or {})
            dept = dict(resp.get("department") or {})
            dept["name"] = person
            if r.text("hazardDep") is not None:
                dept["department"] = r.text("hazardDep")
            resp["department"] = dept
            p["responsible"] = resp
        points.append(p)
    point_ids = {p["id"] for p in points}
    event_point: dict[str, str] = {}
    hazards: list[dict[str, Any]] = []
    for r in live[T_EVENT]:
        rp = r.text("riskUnitId") or ""
        if rp not in point_ids:
            raise r.fail("riskUnitId", "unknown-reference", f"no {T_UNIT} record with id {rp!r}", rp)
        event_point[r.record] = rp
        if r.record in control_events:
            continue
        hazards.append(_merge({"id": r.record, "risk_point": rp, "name": r.text("riskEventName")},
                              ext_hazards.pop(r.record, None), r.record, "x-riskgrade.hazards"))
    controls: dict[str, dict[str, list[str]]] = {}
    for r in live[T_MEASURE]:
        ev = r.text("riskEventId") or ""
        if ev not in event_point:
            raise r.fail("riskEventId", "unknown-reference", f"no {T_EVENT} record with id {ev!r}", ev)
        cat = _category(r.rec.get("classify1"), r.rec.get("classify2"), r.rec.get("classify3"))
        controls.setdefault(event_point[ev], {}).setdefault(cat, []).append(r.text("riskMeasureDesc") or "")
    for p in points:
        if p["id"] in controls:
            if "controls" in p:
                raise FactError("x-riskgrade.risk_points repeats 'controls', which the measures table carries",
                                record=p["id"], field="x-riskgrade.risk_points.controls", code="ministry-conflict")
            p["controls"] = controls[p["id"]]
    dangers: list[dict[str, Any]] = []
    for r in live[T_DANGER]:
        rest = dict(ext_dangers.pop(r.record, None) or {})
        status = {"0": "open", "1": "rectified", "9": "verified"}[str(r.rec["dangerState"])]
        d: dict[str, Any] = {
            "id": r.record, "target": rest.pop("target", None) or r.text("hazardCode") or company,
            "grade": "major" if str(r.rec["dangerLevel"]) == "1" else "general", "found": r.date("registTime"),
            "deadline": r.date("dangerManageDeadline"), "status": status,
            "closed": r.date("checkAcceptTime") if status == "verified" else None,
            "description": r.text("dangerDesc") or "",
        }
        dangers.append(_merge({k: v for k, v in d.items() if v not in (None, "")}, rest, r.record,
                              "x-riskgrade.hidden_dangers"))
    for what, left in (("risk_points", ext_points), ("hazards", ext_hazards), ("hidden_dangers", ext_dangers)):
        if left:
            first = sorted(left)[0]
            raise FactError(f"x-riskgrade.{what} has a record {first!r} that no table holds", record=first,
                            field=f"x-riskgrade.{what}", code="unknown-reference")
    return {"id": company, **top, "units": units, "risk_points": points, "hazards": hazards,
            "hidden_dangers": dangers}


def _kept(ent: Enterprise, live: Mapping[str, list[_Reader]], deleted: Mapping[str, list[dict[str, Any]]],
          tables: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    """What the register cannot hold: every input value that exporting the imported register would not
    reproduce (by table and the id the export gives the record), the tables riskgrade does not read, and
    deleted records."""
    derived = _derive(ent, register_data(ent))
    records: dict[str, dict[str, dict[str, Any]]] = {}
    for table in (T_UNIT, T_EVENT, T_MEASURE, T_DANGER):
        if table == T_MEASURE:
            # measures have no ids in riskgrade: the export numbers them per risk point, in category order
            order: dict[tuple[str, str, str], list[str]] = {}
            for p in ent.risk_points:
                for n, c in enumerate(p.controls, start=1):
                    order.setdefault((p.id, c.category, c.measure), []).append(f"{p.id}-C{n}")
            event_point = {r.record: str(r.rec["riskUnitId"]).strip() for r in live[T_EVENT]}
            by_id = {r["id"]: r for r in derived[T_MEASURE]}
            pairs = []
            for r in live[T_MEASURE]:
                cat = _category(r.rec.get("classify1"), r.rec.get("classify2"), r.rec.get("classify3"))
                mid = order[(event_point[r.text("riskEventId") or ""], cat, r.text("riskMeasureDesc") or "")].pop(0)
                pairs.append((r, by_id[mid]))
        else:
            by_id = {str(r["id"]): r for r in derived[table]}
            pairs = [(r, by_id.get(r.record, {})) for r in live[table]]
        for r, out in pairs:
            # a null counts where the export would write a value (a measure without classify3)
            diff = {f: v for f, v in r.rec.items() if out.get(f) != v and (v is not None or out.get(f) is not None)}
            if diff:
                records.setdefault(table, {})[str(out.get("id", r.record))] = diff
    kept: dict[str, Any] = {}
    if records:
        kept["records"] = records
    passthrough = {t: [dict(r.rec) for r in live[t]] for t in (T_TASK, T_CHECK) if live[t]}
    if passthrough:
        kept["tables"] = passthrough
    if deleted:
        kept["deleted"] = {t: list(v) for t, v in deleted.items()}
    return kept
