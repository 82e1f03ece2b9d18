"""Jurisdiction layers: a city or county refines a provincial ruleset — stricter, never looser.

A layer is a YAML file with ``kind: layer``. It names the ruleset it refines (id and
accepted versions) and its jurisdiction, and may only:

- ``sources``, ``inputs`` (each with a ``default``), ``tables``, ``derive``: add new ones;
- ``table_values``: change values in rows of a table, inline or CSV (direction-checked; a table may
  declare the direction of a column, ``stricter: {Q: lower}``, for where the analysis cannot tell);
- ``table_rows``: add rows to a table, inline or CSV (a new key only: it cannot shadow a row);
- ``thresholds``: move where a band starts (``{bands: {LEVEL: from}}``; checked exactly);
- ``levels``: raise the level of a ``direct`` or ``composite`` rule;
- ``rules``: add rules; ``criteria``: add criteria to a composite rule;
- ``cases``: add cases, run against the refined ruleset. A refined ruleset keeps the cases of
  its deepest jurisdiction only: a city's case may rightly grade higher under a stricter county.

Removing or weakening a base rule cannot be written. Every change is recorded with its
provenance (``threshold lec_D ORANGE 160 → 140 by 620421 靖远县, file:line``), in the
citation of each rule it affects and in ``Ruleset.doc["layers"]`` (see :func:`provenance`).

>>> import riskgrade
>>> rs = riskgrade.load("lec-generic", jurisdiction="620402")   # no layer for 白银区 beyond the city's
>>> rs.id
'lec-generic'
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from riskgrade._compile.expr import Compiler, ExprError, Function
from riskgrade._compile.extension import Method
from riskgrade._compile.methods import builtin_methods
from riskgrade._compile.refine import (
    MayFail,
    TotalityCheck,
    band_looser_at,
    band_matcher,
    bands_direction,
    lookup_matcher,
    probe,
    value_direction,
)
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._core.canonical import fmt_number as _n
from riskgrade._core.levels import Level
from riskgrade._source.yaml import Located, Routed, load_yaml, parse_yaml
from riskgrade._validate import schema as _schema
from riskgrade.exceptions import Problem, RefinementError, RulesetError

__all__ = ["Layer", "LocatedFile", "apply_layers", "read_layer", "version_ok"]

_VERSIONS = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*([0-9]+(?:\.[0-9]+)*)\s*$")

LAYER_SCHEMA: dict[str, Any] = {
    "riskgrade": {"type": "integer", "required": True, "allowed": [_schema.FORMAT_VERSION]},
    "kind": {"type": "string", "required": True, "allowed": ["layer"]},
    "id": {"type": "string", "required": True, "regex": r"^[a-z][a-z0-9\-]*$"},
    "title": _schema.label_schema,
    "jurisdiction": {"type": "string", "required": True},
    "refines": {"type": "dict", "required": True, "schema": {
        "ruleset": {"type": "string", "required": True},
        "versions": {"type": "string", "required": True}}},
    "version": {"type": "string"},
    #: ids of the layers (of jurisdictions above this one) this layer is written on top of
    "requires": {"type": "list", "schema": {"type": "string", "regex": r"^[a-z][a-z0-9\-]*$"}},
    "basis": {"type": "string", "allowed": ["clause", "derived", "local"]},
    "note": _schema._text,
    "sources": _schema.TOP["sources"] | {"required": False, "minlength": 0},
    "inputs": _schema.TOP["inputs"] | {"required": False},
    "tables": _schema.TOP["tables"],
    "derive": _schema.TOP["derive"],
    "table_values": {"type": "dict", "valuesrules": {"type": "list", "schema": {"type": "dict"}}},
    "table_rows": {"type": "dict", "valuesrules": {"type": "list", "schema": {"type": "dict"}}},
    "thresholds": {"type": "dict", "valuesrules": {
        "type": "dict", "keysrules": {"type": ["string", "integer"]}, "valuesrules": {"type": "number"}}},
    "levels": {"type": "dict", "valuesrules": {"type": "string", "allowed": _schema.LEVEL_NAMES}},
    "rules": {"type": "list", "schema": {"type": "dict"}},
    "criteria": {"type": "dict", "valuesrules": {"type": "list", "schema": {"type": "dict"}}},
    "cases": _schema.TOP["cases"],
}


class LocatedFile:
    """A schema-checked YAML file that refines something (a layer here, a supervision declaration or
    layer in :mod:`riskgrade._supervision.declaration`): its mapping, and ``file:line`` of a value in it
    for provenance. ``file`` is the path shown (not necessarily ``located.file``)."""

    __slots__ = ()
    located: Located
    file: str

    @property
    def data(self) -> dict[str, Any]:
        d = self.located.data
        assert isinstance(d, dict)
        return d

    def at(self, path: tuple[Any, ...]) -> str:
        """``file:line`` of the value at ``path`` in the file (display path)."""
        return f"{self.file}:{self.located.where(path)[0]}"


@attrs.frozen
class Layer(LocatedFile):
    """A parsed, schema-checked layer file (not yet applied to a ruleset).

    ``name`` is the jurisdiction's label (``620421 靖远县``), ``file`` the path shown in
    provenance (relative to the plugin package, so fingerprints do not depend on where it
    is installed), ``fingerprint`` the SHA-256 of the file.
    """

    id: str
    name: str
    jurisdiction: str
    ruleset: str
    versions: str
    file: str
    fingerprint: str
    basis: str
    plugin: str = ""
    located: Located = attrs.field(eq=False, repr=False, default=None)
    #: the file on disk the layer was read from ("" when it came from elsewhere)
    path: str = attrs.field(eq=False, repr=False, default="")
    #: ids of the layers above this one it builds on (``requires:``): loading without them is an error
    requires: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        """The files the layer was built from (for cache invalidation)."""
        return (self.path,) if self.path else ()


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------
def _display(path: str) -> str:
    """The path relative to the directory holding the top package it sits in (else as given)."""
    d = os.path.dirname(os.path.abspath(path))
    for _ in range(3):  # data files sit in a plain folder (layers/) inside the package
        if os.path.exists(os.path.join(d, "__init__.py")):
            break
        d = os.path.dirname(d)
    top = None
    while os.path.exists(os.path.join(d, "__init__.py")):
        top = d
        d = os.path.dirname(d)
    return os.path.relpath(os.path.abspath(path), os.path.dirname(top)).replace(os.sep, "/") if top else path


def read_layer(source: Any, plugin: str = "") -> Layer:
    """Read and schema-check one layer from a path or traversable; raises :class:`RulesetError`."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        mtime = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
        return _read_path(path, mtime, plugin)
    text = source.read_text(encoding="utf-8")
    layer = _parse(text, str(source), str(source), plugin)
    return attrs.evolve(layer, path=os.path.abspath(str(source))) if os.path.exists(str(source)) else layer


@functools.lru_cache(maxsize=256)
def _read_path(path: str, mtime: int, plugin: str) -> Layer:
    located = load_yaml(path)
    with open(path, "rb") as fh:
        blob = fh.read()
    return attrs.evolve(_from_located(located, _display(path), hashlib.sha256(blob).hexdigest(), plugin),
                        path=os.path.abspath(path))


def _parse(text: str, path: str, display: str, plugin: str) -> Layer:
    return _from_located(parse_yaml(text, path), _display(display) if os.path.exists(display) else display,
                         hashlib.sha256(text.encode("utf-8")).hexdigest(), plugin)


def _from_located(located: Located, display: str, digest: str, plugin: str) -> Layer:
    data = located.data
    problems = _schema.check(data, LAYER_SCHEMA, located)
    if problems:
        raise RulesetError(problems)
    assert isinstance(data, dict)
    try:
        j = _jurisdictions.get(data["jurisdiction"])
    except RulesetError as e:
        raise RulesetError([located.problem(("jurisdiction",), "unknown-jurisdiction",
                                            e.problems[0].message)]) from None
    bad = [s for s in data["refines"]["versions"].split(",") if not _VERSIONS.match(s)]
    if bad:
        raise RulesetError([located.problem(("refines", "versions"), "bad-value",
                                            f"version range {data['refines']['versions']!r}: write e.g. '>=1.0, <2'")])
    return Layer(data["id"], j.label, j.code, data["refines"]["ruleset"], data["refines"]["versions"], display,
                 "sha256:" + digest, data.get("basis", "local"), plugin, located,
                 requires=tuple(data.get("requires") or ()))


def _vtuple(v: str) -> tuple[int, ...]:
    m = re.match(r"[0-9]+(\.[0-9]+)*", v)
    return tuple(int(x) for x in m.group(0).split(".")) if m else ()


def version_ok(version: str, spec: str) -> bool:
    """Whether ``version`` is in the range ``spec`` (``'>=1.0, <2'``).

    >>> version_ok("1.0.0", ">=1.0, <2"), version_ok("2.1", ">=1.0, <2")
    (True, False)
    """
    v = _vtuple(version)
    for part in spec.split(","):
        m = _VERSIONS.match(part)
        if not m:
            return False
        op, w = m.group(1) or "==", _vtuple(m.group(2))
        n = max(len(v), len(w))
        a, b = v + (0,) * (n - len(v)), w + (0,) * (n - len(w))
        if not {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]:
            return False
    return True


# ----------------------------------------------------------------------------------------------
# applying
# ----------------------------------------------------------------------------------------------
def _outputs(rules: Iterable[Any], methods: Mapping[str, Method]) -> set[str]:
    """The value names the rules output, as their methods declare them."""
    out: set[str] = set()
    for r in rules:
        m = methods.get(r.get("method", "")) if isinstance(r, Mapping) else None
        if m is not None:
            out.update(m.output_names(r))
    return out


class _Apply:
    def __init__(self, located: Located, doc: dict[str, Any], methods: Mapping[str, Method],
                 functions: Mapping[str, Function] | None = None) -> None:
        self.methods = methods
        self.functions = functions or {}
        self.loc = located
        self.doc = copy.deepcopy(doc)
        self.base_rules = len(doc.get("rules") or ())
        self.problems: list[Problem] = []
        self.loosening: list[Problem] = []
        self.routes: list[tuple[tuple[Any, ...], Located, tuple[Any, ...]]] = []
        self.cases: list[Any] = []
        self.cases_at = ""
        self.record: list[dict[str, Any]] = []
        self.rule_notes: dict[str, list[str]] = {}
        self.applied: list[Layer] = []

    def p(self, layer: Layer, path: tuple[Any, ...], code: str, msg: str, *, key: bool = False) -> None:
        self.problems.append(layer.located.problem(path, code, msg, key=key))

    def loose(self, layer: Layer, path: tuple[Any, ...], msg: str) -> None:
        self.loosening.append(layer.located.problem(path, "refine-looser", f"{msg} (layer {layer.name})"))

    def apply(self, layer: Layer) -> None:
        d, doc = layer.data, self.doc
        self.applied.append(layer)
        changes: list[str] = []
        unproven: list[str] = []
        by = f"by {layer.name}"
        if layer.ruleset != doc["id"]:
            self.p(layer, ("refines", "ruleset"), "layer-wrong-ruleset",
                   f"this layer refines {layer.ruleset!r}, not {doc['id']!r}")
            return
        if not version_ok(str(doc["version"]), layer.versions):
            self.p(layer, ("refines", "versions"), "layer-version",
                   f"{doc['id']} {doc['version']} is outside the versions this layer accepts ({layer.versions}); "
                   "review the layer against the new version")
            return
        # additions that must be new names
        for sect in ("sources", "inputs", "tables", "derive"):
            for name, spec in (d.get(sect) or {}).items():
                taken = name in (doc.get(sect) or {}) or (sect in ("inputs", "derive") and (
                    name in (doc.get("inputs") or {}) or name in (doc.get("derive") or {})
                    or name in _outputs(doc["rules"], self.methods)))
                if taken:
                    self.p(layer, (sect, name), "layer-conflict",
                           f"{sect[:-1] if sect != 'derive' else 'derived value'} {name!r} already exists; "
                           "a layer can add new names only", key=True)
                    continue
                if sect == "inputs" and "default" not in spec:
                    self.p(layer, (sect, name), "layer-no-default",
                           f"input {name!r} needs a default, so that facts valid for the base stay valid", key=True)
                    continue
                if sect == "tables" and "csv" in spec:
                    self.p(layer, (sect, name, "csv"), "layer-csv", "a layer's tables are written inline (rows:)")
                    continue
                doc.setdefault(sect, {})[name] = copy.deepcopy(spec)
                self.routes.append(((sect, name), layer.located, (sect, name)))
                if sect != "sources":
                    changes.append(f"{sect[:-1] if sect != 'derive' else 'derived value'} {name} added {by}, "
                                   f"{layer.at((sect, name))}")
        self._table_values(layer, changes, unproven)
        self._table_rows(layer, changes, unproven)
        self._thresholds(layer, changes, unproven)
        self._levels(layer, changes)
        self._rules(layer, changes)
        self._criteria(layer, changes)
        if self.cases_at != layer.jurisdiction:  # only the cases of the deepest jurisdiction stay
            self.cases, self.cases_at = [], layer.jurisdiction
            self.routes = [r for r in self.routes if r[0][0] != "cases"]
        for j, case in enumerate(d.get("cases") or ()):
            c = dict(case)
            c["note"] = f"[{layer.name}] {c.get('note', '')}"
            self.routes.append((("cases", len(self.cases)), layer.located, ("cases", j)))
            self.cases.append(c)
        self.record.append({"layer": layer.name, "id": layer.id, "file": layer.file, "plugin": layer.plugin,
                            "fingerprint": layer.fingerprint, "changes": changes, "unproven": unproven})
        doc["jurisdiction"] = layer.jurisdiction

    def _note_rules(self, pred: Any, text: str) -> None:
        for r in self.doc["rules"]:
            if isinstance(r, Mapping) and pred(r):
                self.rule_notes.setdefault(str(r.get("id")), []).append(text)

    def _table_values(self, layer: Layer, changes: list[str], unproven: list[str]) -> None:
        by = f"by {layer.name}"
        for tname, rows in (layer.data.get("table_values") or {}).items():
            spec = (self.doc.get("tables") or {}).get(tname)
            if spec is None:
                self.p(layer, ("table_values", tname), "unknown-table", f"no table named {tname!r}", key=True)
                continue
            if "rows" not in spec:
                self.p(layer, ("table_values", tname), "layer-csv",
                       f"the rows of table {tname!r} (CSV) were not read before the layers", key=True)
                continue
            key = spec["key"]
            for j, change in enumerate(rows):
                path = ("table_values", tname, j)
                if key not in change:
                    self.p(layer, path, "missing-key", f"name the row by its key column {key!r}")
                    continue
                row = next((r for r in spec["rows"] if r.get(key) == change[key]), None)
                if row is None:
                    self.p(layer, (*path, key), "unknown-row", f"table {tname!r} has no row {key} = {change[key]!r}")
                    continue
                for col, new in change.items():
                    if col == key:
                        continue
                    cpath = (*path, col)
                    if col not in spec["columns"]:
                        self.p(layer, cpath, "unknown-column", f"table {tname!r} has no column {col!r}", key=True)
                        continue
                    old = row.get(col)
                    direction, proven = value_direction(self.doc, lookup_matcher(tname, col), methods=self.methods)
                    declared = (spec.get("stricter") or {}).get(col)
                    if not proven and declared in ("higher", "lower"):
                        direction, proven = (1 if declared == "higher" else -1), True
                    if not _typed(new, spec["columns"][col]):
                        self.p(layer, cpath, "wrong-type", f"column {col!r} of table {tname!r} is "
                               f"{spec['columns'][col]}, not {new!r}")
                        continue
                    if direction and isinstance(old, (int, float)) and isinstance(new, (int, float)):
                        if (new - old) * direction < 0:
                            self.loose(layer, cpath, f"{tname}[{change[key]}].{col} {old} → {new} makes grading "
                                       f"looser: this value may only {'rise' if direction > 0 else 'fall'}")
                            continue
                    elif direction and old != new:
                        self.loose(layer, cpath, f"{tname}[{change[key]}].{col} is used in grading and is not a "
                                   "number; a layer cannot change it")
                        continue
                    row[col] = new
                    text = f"{tname}[{change[key]}].{col} {old} → {new} {by}, {layer.at(cpath)}"
                    changes.append(text)
                    if not proven:
                        unproven.append(text + " (direction not provable statically: checked by the "
                                        "differential check)")
                    self._note_rules(lambda r, t=tname: t in repr(r), text)

    def _table_rows(self, layer: Layer, changes: list[str], unproven: list[str]) -> None:
        """New rows (a local substance): a new key only, every column declared and typed. A row turns
        ``lookup`` errors for its key into values; where the table is also read by ``has()`` or a
        ``lookup`` with a default, a record that took another branch may now take the row's values,
        so the addition is marked unproven (for the differential check)."""
        for tname, rows in (layer.data.get("table_rows") or {}).items():
            spec = (self.doc.get("tables") or {}).get(tname)
            if spec is None:
                self.p(layer, ("table_rows", tname), "unknown-table", f"no table named {tname!r}", key=True)
                continue
            if "rows" not in spec:
                self.p(layer, ("table_rows", tname), "layer-csv",
                       f"the rows of table {tname!r} (CSV) were not read before the layers", key=True)
                continue
            keys = spec["key"] if isinstance(spec["key"], list) else [spec["key"]]
            alias = (spec.get("aliases") or {}).get("column")
            taken = {r.get(k) for r in spec["rows"] for k in keys if r.get(k) not in (None, "")}
            if alias:
                taken |= {a.strip() for r in spec["rows"] for a in str(r.get(alias) or "").split(";") if a.strip()}
            branching = _branches_on(self.doc, tname)
            for j, row in enumerate(rows):
                path = ("table_rows", tname, j)
                bad = [c for c in row if c not in spec["columns"]]
                if bad:
                    self.p(layer, (*path, bad[0]), "unknown-column", f"table {tname!r} has no column {bad[0]!r}",
                           key=True)
                    continue
                wrong = [c for c, v in row.items() if not _typed(v, spec["columns"][c])]
                if wrong:
                    self.p(layer, (*path, wrong[0]), "wrong-type", f"column {wrong[0]!r} of table {tname!r} is "
                           f"{spec['columns'][wrong[0]]}, not {row[wrong[0]]!r}")
                    continue
                if not any(row.get(k) not in (None, "") for k in keys):
                    self.p(layer, path, "missing-key", f"a new row of {tname!r} needs its key column {keys[0]!r}")
                    continue
                clash = [row[k] for k in keys if row.get(k) in taken]
                if clash:
                    self.p(layer, (*path, keys[0]), "layer-conflict", f"table {tname!r} already has a row for "
                           f"{clash[0]!r}; change its values with table_values (a new row cannot shadow one)")
                    continue
                new = {c: row.get(c) for c in spec["columns"]}
                self.routes.append((("tables", tname, "rows", len(spec["rows"])), layer.located, path))
                spec["rows"].append(new)
                taken |= {row[k] for k in keys if row.get(k) not in (None, "")}
                label = row.get(keys[0])
                text = f"{tname}[{label}] row added by {layer.name}, {layer.at(path)}"
                changes.append(text)
                if branching:
                    unproven.append(text + f" (table {tname!r} is read with has() or a lookup default: a record "
                                    "that took another branch may now use this row; checked by the differential "
                                    "check)")
                self._note_rules(lambda r, t=tname: t in repr(r), text)

    def _thresholds(self, layer: Layer, changes: list[str], unproven: list[str]) -> None:
        by = f"by {layer.name}"
        for bname, moves in (layer.data.get("thresholds") or {}).items():
            spec = (self.doc.get("bands") or {}).get(bname)
            if spec is None:
                self.p(layer, ("thresholds", bname), "unknown-bands", f"no bands named {bname!r}", key=True)
                continue
            for which, new in moves.items():
                path = ("thresholds", bname, which)
                rows = spec["rows"]
                if isinstance(which, int):
                    idx = [which] if 0 <= which < len(rows) else []
                else:
                    idx = [i for i, r in enumerate(rows) if str(r.get("level", "")).upper() == str(which).upper()]
                if len(idx) != 1:
                    self.p(layer, path, "unknown-row", f"bands {bname!r} have {'no' if not idx else 'several'} "
                           f"rows for {which!r}", key=True)
                    continue
                row = rows[idx[0]]
                old = row.get("from")
                if old is None:
                    self.p(layer, path, "bad-value", f"the {which} band of {bname!r} starts at -inf; "
                           "move the threshold of the band above it", key=True)
                    continue
                below = [r for r in rows if r.get("to") == old]
                hi = row.get("to")
                lo_lim = below[0].get("from") if below else None
                if (hi is not None and new >= hi) or (lo_lim is not None and new <= lo_lim):
                    self.p(layer, path, "layer-band-order",
                           f"{new} would leave the {which} band empty or overlapping its neighbours")
                    continue
                new_rows = [dict(r) for r in rows]
                new_rows[idx[0]]["from"] = new
                for r in new_rows:
                    if below and r.get("to") == old and r is not new_rows[idx[0]]:
                        r["to"] = new
                direction = 1
                if any("value" in r for r in rows):
                    direction, proven = value_direction(self.doc, band_matcher(bname), methods=self.methods)
                    if not proven:
                        unproven.append(f"bands {bname} threshold {which} {old} → {new} {by}, {layer.at(path)}")
                worse = band_looser_at(rows, new_rows, spec["closed"], direction or 1)
                if worse is not None:
                    x, was, now = worse
                    self.loose(layer, path, f"threshold {bname} {which} {_n(old)} → {_n(new)} makes grading "
                               f"looser: a score of {_n(x)} would give {now} instead of {was}")
                    continue
                spec["rows"] = new_rows
                text = f"threshold {bname} {which} {_n(old)} → {_n(new)} {by}, {layer.at(path)}"
                changes.append(text)
                self._note_rules(lambda r, b=bname: r.get("bands") == b or f"'{b}'" in repr(r), text)
        _ = bands_direction

    def _levels(self, layer: Layer, changes: list[str]) -> None:
        for rid, lv in (layer.data.get("levels") or {}).items():
            path = ("levels", rid)
            rule = next((r for r in self.doc["rules"] if isinstance(r, dict) and r.get("id") == rid), None)
            if rule is None or "level" not in rule:
                self.p(layer, path, "unknown-rule", f"no direct or composite rule {rid!r}", key=True)
                continue
            old = rule["level"]
            if Level[lv] < Level[old]:
                self.loose(layer, path, f"rule {rid} level {old} → {lv} lowers the level; a level may only rise")
                continue
            rule["level"] = lv
            text = f"rule {rid} level {old} → {lv} by {layer.name}, {layer.at(path)}"
            changes.append(text)
            self.rule_notes.setdefault(rid, []).append(text)

    def _rules(self, layer: Layer, changes: list[str]) -> None:
        ids = {r.get("id") for r in self.doc["rules"] if isinstance(r, Mapping)}
        for j, rule in enumerate(layer.data.get("rules") or ()):
            path = ("rules", j)
            if rule.get("id") in ids:
                self.p(layer, (*path, "id"), "layer-conflict",
                       f"rule {rule.get('id')!r} already exists; a layer can add new rules only")
                continue
            r = copy.deepcopy(rule)
            if isinstance(r.get("cite"), dict):
                r["cite"].setdefault("basis", layer.basis)
            self.routes.append((("rules", len(self.doc["rules"])), layer.located, path))
            self.doc["rules"].append(r)
            ids.add(r.get("id"))
            text = f"rule {r.get('id')} added by {layer.name}, {layer.at(path)}"
            changes.append(text)
            self.rule_notes.setdefault(str(r.get("id")), []).append(text)

    def _criteria(self, layer: Layer, changes: list[str]) -> None:
        for rid, crits in (layer.data.get("criteria") or {}).items():
            pos = next((i for i, r in enumerate(self.doc["rules"]) if isinstance(r, Mapping)
                        and r.get("id") == rid), None)
            if pos is None or self.doc["rules"][pos].get("method") != "composite":
                self.p(layer, ("criteria", rid), "unknown-rule", f"no composite rule {rid!r}", key=True)
                continue
            target = self.doc["rules"][pos].setdefault("criteria", [])
            for j, c in enumerate(crits):
                self.routes.append((("rules", pos, "criteria", len(target)), layer.located, ("criteria", rid, j)))
                target.append(copy.deepcopy(c))
                text = f"criterion {c.get('id')} added to rule {rid} by {layer.name}, {layer.at(('criteria', rid, j))}"
                changes.append(text)
                self.rule_notes.setdefault(rid, []).append(text)

    def precheck(self) -> None:
        """Compile the expressions a layer added, so that their mistakes point into the layer file; then
        prove that none of them can fail (:meth:`totality`)."""
        doc = self.doc
        names = set(doc.get("inputs") or {}) | set(doc.get("derive") or {}) | _outputs(doc["rules"], self.methods)
        records = {n: set(s.get("fields") or {}) for n, s in (doc.get("inputs") or {}).items()
                   if isinstance(s, Mapping) and s.get("type") == "list"}
        exprs = self._added_expressions()
        merged = self.merged()
        for path, text, _rule in exprs:
            if not isinstance(text, (str, int, float)) or isinstance(text, bool):
                continue
            called: set[str] = set()
            try:
                tree = ast.parse("(" + str(text).strip() + "\n)", mode="eval")
                called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)
                          and isinstance(n.func, ast.Name)}
            except (SyntaxError, ValueError, RecursionError):
                pass
            comp = Compiler(names=names, records=records)
            for f in called - set(comp.functions):
                comp.functions[f] = Function(f, _nothing, (0, None))
            try:
                comp.compile(text)
            except ExprError as e:
                line, col = merged.where(path)
                r = merged._route(path)
                file = r[0].file if r else merged.file
                self.problems.append(Problem(e.code, e.message, file, line, col + (e.col if e.line == 1 else 0)))
                continue
        if not self.problems:
            self.totality(exprs)

    def _added_expressions(self) -> list[tuple[tuple[Any, ...], Any, Mapping[str, Any] | None]]:
        """``(path in the merged document, expression, the rule it belongs to)`` for every expression a
        layer added: derived values, the expressions of added rules (as their methods declare them)
        and added criteria."""
        doc = self.doc
        exprs: list[tuple[tuple[Any, ...], Any, Mapping[str, Any] | None]] = []
        for prefix, _loc, _target in self.routes:
            node: Any = doc
            try:
                for k in prefix:
                    node = node[k]
            except (KeyError, IndexError, TypeError):
                continue
            if prefix[0] == "derive":
                exprs.append(((*prefix, "expr") if isinstance(node, Mapping) else prefix,
                              node.get("expr") if isinstance(node, Mapping) else node, None))
            elif prefix[0] == "rules" and len(prefix) == 2 and isinstance(node, Mapping):
                m = self.methods.get(str(node.get("method")))
                keys = [(p, t) for p, t, _ in m.all_expressions(node)] if m is not None else [
                    ((k,), node[k]) for k in ("when", "expr", "L", "E", "C", "S") if k in node]
                for sub, text in keys:
                    exprs.append(((*prefix, *sub), text, node))
                for j, c in enumerate(node.get("criteria") or ()):
                    if isinstance(c, Mapping) and "when" in c:
                        exprs.append(((*prefix, "criteria", j, "when"), c["when"], None))
            elif prefix[0] == "rules" and len(prefix) == 4 and isinstance(node, Mapping) and "when" in node:
                exprs.append(((*prefix, "when"), node["when"], None))
        return exprs

    def totality(self, exprs: list[tuple[tuple[Any, ...], Any, Mapping[str, Any] | None]]) -> None:
        """Whatever a layer adds only raises levels, unless it fails: a record the base grades would
        become an error. So every added expression must be proven total (:class:`TotalityCheck`), a
        plugin method a layer uses must be declared (never emit code) and its ``compute`` proven on
        every combination of its expressions' values; ``refine-may-fail`` otherwise."""
        merged = self.merged()
        chk = TotalityCheck(self.doc, self.methods, self.functions)
        builtin = builtin_methods()
        by_rule: dict[tuple[Any, ...], dict[Any, Any]] = {}

        def fail(path: tuple[Any, ...], why: MayFail) -> None:
            line, col = merged.where(path)
            r = merged._route(path)
            file = r[0].file if r else merged.file
            layer = next((lay for lay in self.applied if r and lay.located is r[0]), None)
            hint = f"; {why.hint}" if why.hint else ""
            self.loosening.append(Problem(
                "refine-may-fail", f"{why.message}: a record the base grades would become an error{hint}"
                + (f" (layer {layer.name})" if layer else ""), file, line, col))

        failed: set[tuple[Any, ...]] = set()
        for path, text, rule in exprs:
            try:
                v = chk.value(text)
            except MayFail as e:
                fail(path, e)
                failed.add(path[:2])
                continue
            if rule is not None and len(path) == 3:
                by_rule.setdefault(path[:2], {})[path[2]] = v
        for prefix, _loc, _target in self.routes:
            if prefix[0] != "rules" or len(prefix) != 2 or prefix in failed:
                continue
            rule = self.doc["rules"][prefix[1]]
            name = str(rule.get("method"))
            m = self.methods.get(name)
            if m is None:
                continue
            try:
                self._check_method(name, m, builtin.get(name), rule, by_rule.get(prefix, {}))
            except MayFail as e:
                fail((*prefix, "method"), e)

    def _check_method(self, name: str, m: Method, builtin: Method | None, rule: Mapping[str, Any],
                      vals: Mapping[Any, Any]) -> None:
        if builtin is None and m.emit is not None:
            raise MayFail(f"method {name!r} emits its own code, which could read or overwrite the base "
                          "ruleset's values", "a plugin method must be declared: expressions + compute")
        if m.banded or name in ("lec", "ls", "mes"):
            for k, v in vals.items():
                if v.none or v.kind not in ("num", "bool"):
                    raise MayFail(f"{k} of method {name!r} may not be a number ({'missing' if v.none else v.kind})")
        if name == "matrix":
            mx = (self.doc.get("matrices") or {}).get(rule.get("matrix")) or {}
            for k, axis in (("row", "rows"), ("column", "columns")):
                v = vals.get(k)
                allowed = set((mx.get(axis) or {}).get("values") or ())
                if v is None:  # the default expression: the axis name (an input)
                    continue
                if v.domain is None or not set(v.domain) <= allowed:
                    raise MayFail(f"the {k} of matrix {rule.get('matrix')!r} may take a value off its axis")
        if builtin is None and m.compute is not None:
            keys = [k for k, _t, _s in m.expression_keys(rule)]
            if m.list_expressions:
                raise MayFail(f"method {name!r} takes lists of expressions: its compute cannot be proven")
            doms = [vals[k].domain if k in vals else None for k in keys]
            results = probe(m.compute, doms, f"method {name!r}", keywords=keys)
            if m.banded and any(isinstance(r, bool) or not isinstance(r, (int, float)) for r in results):
                raise MayFail(f"method {name!r} may give a score that is not a number")

    def merged(self) -> Routed:
        return Routed(self.loc.data, self.loc.file, self.loc.marks, tuple(self.routes))

    def finish(self) -> None:
        for r in self.doc["rules"]:
            if isinstance(r, dict) and str(r.get("id")) in self.rule_notes and isinstance(r.get("cite"), dict):
                r["cite"]["layer"] = "; ".join(self.rule_notes[str(r["id"])])
        self.doc["cases"] = self.cases
        self.doc["layers"] = self.record


def _nothing(*args: Any) -> None:
    return None


def _typed(value: Any, column: Any) -> bool:
    """Whether ``value`` fits a table column declared ``column`` (None: an empty cell)."""
    t = column.get("type") if isinstance(column, Mapping) else column
    if value is None:
        return True
    if isinstance(value, bool):
        return t == "bool"
    return isinstance(value, {"number": (int, float), "integer": (int,), "string": (str,), "bool": (bool,)}.get(
        str(t), (object,)))


def _branches_on(doc: Mapping[str, Any], table: str) -> bool:
    """Whether any expression of ``doc`` reads ``table`` with ``has()`` or a ``lookup`` with a default."""
    found = False

    def visit(text: Any) -> None:
        nonlocal found
        try:
            tree = ast.parse("(" + str(text).strip() + "\n)", mode="eval")
        except (SyntaxError, ValueError, RecursionError):
            return
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.args and \
                    isinstance(n.args[0], ast.Constant) and n.args[0].value == table and \
                    (n.func.id == "has" or (n.func.id == "lookup" and len(n.args) == 4)):
                found = True

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if table in node:
                visit(node)
        elif isinstance(node, Mapping):
            for k, v in node.items():
                if k not in ("tables", "cases", "sources", "label", "note", "cite"):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    return found




def apply_layers(located: Located, doc: dict[str, Any], layers: Iterable[Any],
                 methods: Mapping[str, Method],
                 functions: Mapping[str, Function] | None = None) -> tuple[Located, dict[str, Any]]:
    """Apply ``layers`` in order to a validated ruleset document; returns the merged locations and document.

    Raises :class:`RefinementError` (a change would make grading looser, or an addition could fail:
    ``refine-may-fail``) or :class:`RulesetError` (a change is malformed), naming the layer file and
    line. ``functions`` are the plugins' expression functions, tried by the totality check. The base
    document is not modified.
    """
    work = _Apply(located, doc, methods, functions)
    for layer in layers:
        work.apply(layer)
    work.precheck()
    if work.loosening:
        raise RefinementError(work.loosening + work.problems)
    if work.problems:
        raise RulesetError(work.problems)
    work.finish()
    return work.merged(), work.doc
