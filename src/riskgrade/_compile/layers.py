"""Jurisdiction layers: a city or county refines a provincial ruleset — stricter, never looser.

A layer is a YAML file with ``kind: layer``. It names the ruleset it refines (id and
accepted versions) and its jurisdiction, and may only:

- ``sources``, ``inputs`` (each with a ``default``), ``tables``, ``derive``: add new ones;
- ``table_values``: change values in rows of a table (direction-checked);
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
from riskgrade._compile.refine import (
    band_looser_at,
    band_matcher,
    bands_direction,
    lookup_matcher,
    value_direction,
)
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._core.canonical import fmt_number as _n
from riskgrade._core.levels import Level
from riskgrade._source.yaml import Located, Routed, load_yaml, parse_yaml
from riskgrade._validate import schema as _schema
from riskgrade.exceptions import Problem, RefinementError, RulesetError

__all__ = ["Layer", "apply_layers", "read_layer", "version_ok"]

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
    "thresholds": {"type": "dict", "valuesrules": {
        "type": "dict", "keysrules": {"type": ["string", "integer"]}, "valuesrules": {"type": "number"}}},
    "levels": {"type": "dict", "valuesrules": {"type": "string", "allowed": _schema.LEVEL_NAMES}},
    "rules": {"type": "list", "schema": {"type": "dict"}},
    "criteria": {"type": "dict", "valuesrules": {"type": "list", "schema": {"type": "dict"}}},
    "cases": _schema.TOP["cases"],
}


@attrs.frozen
class Layer:
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

    @property
    def data(self) -> dict[str, Any]:
        d = self.located.data
        assert isinstance(d, dict)
        return d

    def at(self, path: tuple[Any, ...]) -> str:
        """``file:line`` of the value at ``path`` in the layer file (display path)."""
        return f"{self.file}:{self.located.where(path)[0]}"


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
    def __init__(self, located: Located, doc: dict[str, Any], methods: Mapping[str, Method]) -> None:
        self.methods = methods
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

    def p(self, layer: Layer, path: tuple[Any, ...], code: str, msg: str, *, key: bool = False) -> None:
        self.problems.append(layer.located.problem(path, code, msg, key=key))

    def loose(self, layer: Layer, path: tuple[Any, ...], msg: str) -> None:
        self.loosening.append(layer.located.problem(path, "refine-looser", f"{msg} (layer {layer.name})"))

    def apply(self, layer: Layer) -> None:
        d, doc = layer.data, self.doc
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
                       f"table {tname!r} is read from a CSV file; its values cannot be changed by a layer yet",
                       key=True)
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
        """Compile the expressions a layer added, so that their mistakes point into the layer file."""
        doc = self.doc
        names = set(doc.get("inputs") or {}) | set(doc.get("derive") or {}) | _outputs(doc["rules"], self.methods)
        records = {n: set(s.get("fields") or {}) for n, s in (doc.get("inputs") or {}).items()
                   if isinstance(s, Mapping) and s.get("type") == "list"}
        exprs: list[tuple[tuple[Any, ...], Any]] = []
        for prefix, _loc, _target in self.routes:
            node: Any = doc
            try:
                for k in prefix:
                    node = node[k]
            except (KeyError, IndexError, TypeError):
                continue
            if prefix[0] == "derive":
                exprs.append(((*prefix, "expr") if isinstance(node, Mapping) else prefix,
                              node.get("expr") if isinstance(node, Mapping) else node))
            elif prefix[0] == "rules" and isinstance(node, Mapping):
                for k in ("when", "expr", "L", "E", "C", "S"):
                    if k in node:
                        exprs.append(((*prefix, k), node[k]))
                for j, c in enumerate(node.get("criteria") or () if len(prefix) == 2 else ()):
                    if isinstance(c, Mapping) and "when" in c:
                        exprs.append(((*prefix, "criteria", j, "when"), c["when"]))
                if len(prefix) == 4 and "when" in node:
                    exprs.append(((*prefix, "when"), node["when"]))
        merged = self.merged()
        for path, text in exprs:
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




def apply_layers(located: Located, doc: dict[str, Any], layers: Iterable[Any],
                 methods: Mapping[str, Method]) -> tuple[Located, dict[str, Any]]:
    """Apply ``layers`` in order to a validated ruleset document; returns the merged locations and document.

    Raises :class:`RefinementError` (a change would make grading looser) or
    :class:`RulesetError` (a change is malformed), naming the layer file and line.
    The base document is not modified.
    """
    work = _Apply(located, doc, methods)
    for layer in layers:
        work.apply(layer)
    work.precheck()
    if work.loosening:
        raise RefinementError(work.loosening + work.problems)
    if work.problems:
        raise RulesetError(work.problems)
    work.finish()
    return work.merged(), work.doc
