"""Region roll-up: enterprises → county → city → province, counted by level and sector.

Enterprises hang under the county-level division of their GB/T 2260 code; counties under
their city (``xxxx00``), cities under their province (``xx0000``). An enterprise whose code
is a city code and that names a ``zone`` (e.g. the Baiyin high-tech zone, which has no code
of its own) hangs under a named sub-jurisdiction ``620400/<zone>`` of the city.

Each region node keeps counts, so replacing one enterprise's result updates exactly its
chain of regions (:meth:`RegionGraph.put` returns the region nodes whose counts changed).
The four-colour statistics (四色图 data) come out of :meth:`RegionGraph.to_dict`.

>>> g = RegionGraph()
>>> _ = g.put(EnterpriseSummary("E-1", "甲", "620402", None, ("hazchem",), Level.RED, Level.ORANGE))
>>> _ = g.put(EnterpriseSummary("E-2", "乙", "620421", None, ("coal",), Level.YELLOW, Level.YELLOW))
>>> d = g.to_dict()["regions"]
>>> d["620400"]["by_level"], d["620000"]["total"], d["620402"]["name"]
({'RED': 1, 'ORANGE': 0, 'YELLOW': 1, 'BLUE': 0}, 2, '白银区')
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Iterable
from typing import Any

import attrs

from riskgrade._core import jurisdictions
from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade.exceptions import FactError, FunctionError, GraphError, PluginError, RulesetError

__all__ = ["REGION_NAMES", "EnterpriseSummary", "RegionGraph", "RegionResult", "duplicate_record", "error_record",
           "region_chain", "region_kind"]

#: names of the divisions riskgrade knows (the one GB/T 2260 table, riskgrade._core.jurisdictions);
#: other codes show as the code
REGION_NAMES: dict[str, str] = {j.code: j.name for j in jurisdictions.known() if j.kind != "zone"}
_KIND_ZH = {"province": "省", "city": "市", "county": "县(区)", "zone": "园区"}
_ORDER = tuple(reversed(Level))  # RED first


def region_kind(code: str) -> str:
    """``province``, ``city``, ``county`` or ``zone`` (a ``code/name`` sub-jurisdiction)."""
    if "/" in code:
        return "zone"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def region_chain(jurisdiction: str, zone: str | None = None) -> list[str]:
    """The region nodes above an enterprise, lowest first.

    >>> region_chain("620403"), region_chain("620400", "白银高新技术产业开发区")
    (['620403', '620400', '620000'], ['620400/白银高新技术产业开发区', '620400', '620000'])
    """
    out: list[str] = []
    kind = region_kind(jurisdiction)
    if kind == "city" and zone:
        out.append(f"{jurisdiction}/{zone}")
    if kind == "county":
        out.append(jurisdiction)
    if kind in ("county", "city"):
        out.append(jurisdiction[:4] + "00")
    out.append(jurisdiction[:2] + "0000")
    return out


@attrs.frozen
class EnterpriseSummary:
    """What the region needs of an enterprise assessment."""

    id: str
    name: str
    jurisdiction: str
    zone: str | None
    sectors: tuple[str, ...]
    level: Level
    inherent_level: Level

    @classmethod
    def of(cls, assessment: Any) -> EnterpriseSummary:
        """From an :class:`~riskgrade._graph.EnterpriseAssessment`."""
        e = assessment.enterprise
        return cls(e.id, e.name, e.jurisdiction, e.zone, tuple(e.sectors), assessment.level,
                   assessment.inherent_level)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "jurisdiction": self.jurisdiction, "zone": self.zone,
                "sectors": list(self.sectors), "level": self.level.name, "inherent_level": self.inherent_level.name,
                "region": region_chain(self.jurisdiction, self.zone)[0]}


class _Counts:
    __slots__ = ("by_level", "by_sector", "inherent")

    def __init__(self) -> None:
        self.by_level = [0] * 5
        self.inherent = [0] * 5
        self.by_sector: dict[str, list[int]] = {}

    def add(self, s: EnterpriseSummary, sign: int) -> None:
        self.by_level[s.level] += sign
        self.inherent[s.inherent_level] += sign
        for sector in s.sectors:
            row = self.by_sector.setdefault(sector, [0] * 5)
            row[s.level] += sign
            if not any(row):
                del self.by_sector[sector]

    def snapshot(self) -> tuple[Any, ...]:
        return (tuple(self.by_level), tuple(self.inherent), tuple(sorted((k, tuple(v)) for k, v in self.by_sector.items())))


class RegionGraph:
    """Enterprises → county → city → province, with counts by level and sector per region."""

    def __init__(self, as_of: _dt.date | None = None) -> None:
        self.as_of = as_of
        self.evaluations = 0
        self._ent: dict[str, EnterpriseSummary] = {}
        self._counts: dict[str, _Counts] = {}
        #: region code -> the region above it (None for a province); the region tree is fixed by the
        #: codes (GB/T 2260), so it needs no graph library: 100,000 enterprises cost no graph nodes
        self._parent: dict[str, str | None] = {}

    @classmethod
    def of(cls, summaries: Iterable[EnterpriseSummary | Any], as_of: _dt.date | None = None) -> RegionGraph:
        """A region from enterprise summaries or assessments (full roll-up)."""
        g = cls(as_of)
        for s in summaries:
            s = s if isinstance(s, EnterpriseSummary) else EnterpriseSummary.of(s)
            g._link(s)
        g.recount()
        return g

    def add(self, summary: EnterpriseSummary) -> None:
        """Add one enterprise that is not in the region yet (streaming: no snapshot of the counts,
        nothing returned); a second result for the same id is a :class:`GraphError`.

        >>> g = RegionGraph()
        >>> g.add(EnterpriseSummary("E-1", "甲", "620402", None, ("hazchem",), Level.RED, Level.ORANGE))
        >>> g.counts("620000")["RED"]
        1
        """
        chain = self._link(summary)
        for code in chain:
            self.evaluations += 1
            self._counts[code].add(summary, 1)

    def merge(self, other: RegionGraph) -> RegionGraph:
        """A new region with the enterprises of both (the reduce step of a partitioned run); an
        enterprise in both is a :class:`GraphError`. Equal to adding every enterprise to one region,
        in any order.

        >>> a, b = RegionGraph(), RegionGraph()
        >>> a.add(EnterpriseSummary("E-1", "甲", "620402", None, ("hazchem",), Level.RED, Level.ORANGE))
        >>> b.add(EnterpriseSummary("E-2", "乙", "620421", None, ("coal",), Level.BLUE, Level.BLUE))
        >>> a.merge(b).counts("620000")
        {'RED': 1, 'ORANGE': 0, 'YELLOW': 0, 'BLUE': 1}
        """
        out = RegionGraph(self.as_of if self.as_of is not None else other.as_of)
        for s in itertools.chain(self._ent.values(), other._ent.values()):
            out.add(s)
        return out

    def __len__(self) -> int:
        return len(self._ent)

    def _link(self, s: EnterpriseSummary) -> list[str]:
        if s.id in self._ent:
            raise GraphError(f"enterprise {s.id!r} appears twice in the region", record=s.id, field="id")
        chain = region_chain(s.jurisdiction, s.zone)
        if s.id in self._counts or s.id in chain:
            raise GraphError(f"enterprise id {s.id!r} clashes with a region code", record=s.id, field="id")
        self._ent[s.id] = s
        for lo, hi in itertools.pairwise(chain):
            self._parent[lo] = hi
        self._parent.setdefault(chain[-1], None)
        for code in chain:
            if code not in self._counts:
                self._counts[code] = _Counts()
        return chain

    def recount(self) -> None:
        """Recount every region from scratch (the full roll-up)."""
        for code in self._counts:
            self._counts[code] = _Counts()
        for s in self._ent.values():
            for code in region_chain(s.jurisdiction, s.zone):
                self.evaluations += 1
                self._counts[code].add(s, 1)

    def _apply(self, s: EnterpriseSummary, sign: int, before: dict[str, tuple[Any, ...]]) -> None:
        for code in region_chain(s.jurisdiction, s.zone):
            c = self._counts[code]
            before.setdefault(code, c.snapshot())
            self.evaluations += 1
            c.add(s, sign)

    def put(self, summary: EnterpriseSummary | Any) -> list[str]:
        """Add or replace one enterprise's result; returns the region nodes whose counts changed."""
        s = summary if isinstance(summary, EnterpriseSummary) else EnterpriseSummary.of(summary)
        before: dict[str, tuple[Any, ...]] = {}
        old = self._ent.get(s.id)
        if old is not None:
            self._apply(old, -1, before)
            if region_chain(old.jurisdiction, old.zone) != region_chain(s.jurisdiction, s.zone):
                self._unlink(old)
            else:
                del self._ent[s.id]
        self._link(s)
        self._apply(s, 1, before)
        return sorted(code for code, snap in before.items() if self._counts[code].snapshot() != snap)

    def remove(self, enterprise_id: str) -> list[str]:
        """Remove an enterprise; returns the region nodes whose counts changed."""
        old = self._ent.get(enterprise_id)
        if old is None:
            raise GraphError(f"no enterprise {enterprise_id!r} in the region", record=enterprise_id)
        before: dict[str, tuple[Any, ...]] = {}
        self._apply(old, -1, before)
        self._unlink(old)
        return sorted(code for code, snap in before.items() if self._counts[code].snapshot() != snap)

    def _unlink(self, s: EnterpriseSummary) -> None:
        del self._ent[s.id]

    def enterprise_level(self, enterprise_id: str) -> Level:
        return self._ent[enterprise_id].level

    def counts(self, code: str) -> dict[str, int]:
        """Enterprises by level in region ``code`` (RED first)."""
        c = self._counts[code]
        return {lv.name: c.by_level[lv] for lv in _ORDER}

    def to_dict(self) -> dict[str, Any]:
        """The four-colour statistics: every region's counts by level and by sector, and the enterprises."""
        regions: dict[str, Any] = {}
        for code in sorted(self._counts):
            c = self._counts[code]
            kind = region_kind(code)
            parent = self._parent.get(code)
            total = sum(c.by_level)
            top = next((lv.name for lv in _ORDER if c.by_level[lv]), None)
            name = code.split("/", 1)[1] if kind == "zone" else REGION_NAMES.get(code, code)
            regions[code] = {
                "name": name, "kind": kind, "parent": parent, "total": total,
                "by_level": {lv.name: c.by_level[lv] for lv in _ORDER},
                "inherent_by_level": {lv.name: c.inherent[lv] for lv in _ORDER},
                "by_sector": {k: {lv.name: v[lv] for lv in _ORDER} for k, v in sorted(c.by_sector.items())},
                "highest": top,
            }
        return {
            "schema": "riskgrade.region/1",
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "legend": {lv.name: {"zh": lv.zh, "en": lv.en, "colour": lv.colour, "colour_zh": lv.colour_zh,
                                 "hex": lv.hex} for lv in _ORDER},
            "regions": regions,
            "enterprises": {k: self._ent[k].to_dict() for k in sorted(self._ent)},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return dumps(self.to_dict(), indent=indent)

    def table(self, lang: str = "en") -> str:
        """The regional table as text: one row per region (province, cities, counties/zones)."""
        zh = lang == "zh"
        d = self.to_dict()["regions"]
        head = (["代码", "名称", "合计"] if zh else ["code", "name", "total"]) + [
            (lv.colour_zh if zh else lv.name) for lv in _ORDER]
        rows = [head]

        def walk(code: str, depth: int) -> None:
            r = d[code]
            rows.append([code, "  " * depth + r["name"], str(r["total"]),
                         *[str(r["by_level"][lv.name]) for lv in _ORDER]])
            for child in sorted(k for k, v in d.items() if v["parent"] == code):
                walk(child, depth + 1)
        for root in sorted(k for k, v in d.items() if v["parent"] is None):
            walk(root, 0)
        widths = [max(_width(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(_pad(c, widths[i], right=i >= 2) for i, c in enumerate(r)).rstrip() for r in rows]
        sectors: dict[str, list[int]] = {}
        for r in d.values():
            if r["parent"] is None:
                for sec, counts in r["by_sector"].items():
                    row = sectors.setdefault(sec, [0] * 4)
                    for i, lv in enumerate(_ORDER):
                        row[i] += counts[lv.name]
        if sectors:
            lines.append("")
            lines.append("按行业" if zh else "by sector")
            for sec in sorted(sectors):
                lines.append(f"  {sec}: " + "  ".join(
                    f"{lv.colour_zh if zh else lv.name} {n}" for lv, n in zip(_ORDER, sectors[sec], strict=True)))
        return "\n".join(lines)


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill



@attrs.frozen
class RegionResult:
    """A region assessed from registers (:func:`riskgrade.assess_region`): the ``region``, every
    register that failed as an error record (in input order, nothing dropped), and how many ``files``
    and ``registers`` (a file, or a line of a JSON-lines file) were read."""

    region: RegionGraph
    errors: tuple[dict[str, Any], ...]
    files: int
    registers: int

    def to_dict(self) -> dict[str, Any]:
        """The region's statistics (:meth:`RegionGraph.to_dict`) with ``errors``, ``files`` and ``registers``."""
        out = self.region.to_dict()
        out["errors"] = list(self.errors)
        out["files"] = self.files
        out["registers"] = self.registers
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return dumps(self.to_dict(), indent=indent)

    def merge(self, other: RegionResult) -> RegionResult:
        """Both results in one (the reduce step of a partitioned run): ``self``'s errors, then
        ``other``'s, then a ``duplicate-enterprise`` error for each of ``other``'s enterprises that
        ``self`` already has (that one is not counted twice)."""
        region = RegionGraph(self.region.as_of if self.region.as_of is not None else other.region.as_of)
        for s in self.region._ent.values():
            region.add(s)
        dups: list[dict[str, Any]] = []
        for s in other.region._ent.values():
            if s.id in region._ent:
                dups.append(duplicate_record("", s.id, "another partition"))
                continue
            region.add(s)
        return RegionResult(region, (*self.errors, *other.errors, *dups), self.files + other.files,
                            self.registers + other.registers)


def error_record(file: str, exc: Exception) -> dict[str, Any]:
    """The error record of a register that failed: ``file`` (``path`` or ``path:line``), the error's
    type, ``code``, ``record``/``field`` when known, and its message."""
    rec: dict[str, Any] = {"file": file, "error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, FactError):
        rec.update(code=exc.code, record=exc.record, field=exc.field)
    elif isinstance(exc, GraphError):
        rec.update(code="cycle" if exc.cycle else "graph", record=exc.record, field=exc.field)
    elif isinstance(exc, RulesetError):
        rec.update(code=exc.codes[0] if exc.codes else "ruleset")
    elif isinstance(exc, FunctionError):  # code failed, not the register (exit 3)
        rec.update(code="function-error")
    elif isinstance(exc, PluginError):
        rec.update(code="plugin-error")
    return rec


def duplicate_record(file: str, enterprise_id: str, first: str) -> dict[str, Any]:
    """The error record of a register whose enterprise id was already seen (``duplicate-enterprise``):
    ``file`` is where the second one is, ``first`` where the first one was.

    >>> duplicate_record("b.yaml", "E-1", "a.yaml")["message"]
    "enterprise 'E-1' is already in a.yaml"
    """
    return {"file": file, "error": "GraphError", "code": "duplicate-enterprise", "record": enterprise_id,
            "field": "id", "message": f"enterprise {enterprise_id!r} is already in {first}"}
