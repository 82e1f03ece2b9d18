"""Scale libraries: tables, bands and matrices that rulesets share instead of copying.

A library is a YAML file with ``kind: library`` (shipped in ``rulesets/library/``: ``lec``,
``ls``, ``mes``, ``matrices``). A ruleset takes what it needs::

    include:
      - library: lec                      # a shipped library id, or a path relative to the ruleset
        tables: [lec_L, lec_E, lec_C]     # default: all its tables, bands and matrices
        bands: [lec_D]
        override:                         # optional: rows that replace (same key) or extend a table
          lec_C:
            rows: [{value: 15, zh: ..., en: ...}]
            cite: {source: local-doc, clause: "3.2"}

The included pieces (and the sources they cite) become part of the ruleset as if written in it,
with their locations in the library file, so a problem inside them names the library's
``file:line:col``; overrides are recorded (``Ruleset.doc["includes"]``) and shown in the trace.
The fingerprint covers every included file; a ruleset cannot define a name it also includes.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Mapping
from typing import Any

import attrs

from riskgrade._source import registry
from riskgrade._source.yaml import Located, Routed, load_yaml
from riskgrade._validate import schema as _schema
from riskgrade.exceptions import Problem, RulesetError

__all__ = ["LIBRARY_SCHEMA", "Library", "apply_includes", "read_library"]

LIBRARY_SCHEMA: dict[str, Any] = {
    "riskgrade": {"type": "integer", "required": True, "allowed": [_schema.FORMAT_VERSION]},
    "kind": {"type": "string", "required": True, "allowed": ["library"]},
    "id": {"type": "string", "required": True, "regex": r"^[a-z][a-z0-9\-]*$"},
    "title": {**_schema.label_schema, "required": True},
    "version": {"type": "string", "required": True},
    "description": _schema.TOP["description"],
    "sources": _schema.TOP["sources"],
    "tables": _schema.TOP["tables"],
    "bands": _schema.TOP["bands"],
    "matrices": _schema.TOP["matrices"],
    # named roll-up fragments: {name: {node kind: {modifiers: [...]}}} (riskgrade._enterprise.rollup)
    "rollups": {"type": "dict", "keysrules": {"type": "string", "regex": _schema.IDENT},
                "valuesrules": {"type": "dict", "keysrules": {"type": "string"},
                                "valuesrules": {"type": "dict", "schema": {
                                    "modifiers": {"type": "list", "required": True,
                                                  "schema": {"type": "dict"}}}}}},
}

_SECTIONS = ("tables", "bands", "matrices")


@attrs.frozen
class Library:
    """A parsed, schema-checked scale library."""

    id: str
    file: str
    fingerprint: str
    located: Located = attrs.field(eq=False, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        d = self.located.data
        assert isinstance(d, dict)
        return d


def read_library(path: str) -> Library:
    """Read and check the library file at ``path``; raises :class:`RulesetError` with located problems."""
    located = load_yaml(path)
    problems = _schema.check(located.data, LIBRARY_SCHEMA, located)
    if problems:
        raise RulesetError(problems)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return Library(str(located.data["id"]), os.path.abspath(path), "sha256:" + digest, located)


def _find(ref: str, base_dir: str) -> str | None:
    if ref.endswith((".yaml", ".yml")):
        if os.path.isabs(ref) or ".." in ref.replace("\\", "/").split("/"):
            return None
        return os.path.join(base_dir, ref)
    for path in registry.shipped_files():
        head = registry.head(path)
        if head is not None and head.get("kind") == "library" and head.get("id") == ref:
            return path
    return None


@attrs.frozen
class Included:
    """What :func:`apply_includes` produced: the merged document and locations, the library files
    (for the fingerprint and the load cache), each table's directory (CSV paths are relative to the
    file that declares the table) and the provenance lines."""

    located: Located
    doc: dict[str, Any]
    files: tuple[str, ...]
    fingerprints: tuple[str, ...]
    table_dirs: Mapping[str, str]


def apply_includes(located: Located, doc: dict[str, Any], base_dir: str) -> Included:
    """Merge the ``include:`` entries of ``doc`` into a copy of it; raises :class:`RulesetError`."""
    includes = doc.get("include") or ()
    if not includes:
        return Included(located, doc, (), (), {})
    out = copy.deepcopy(doc)
    problems: list[Problem] = []
    routes: list[tuple[tuple[Any, ...], Located, tuple[Any, ...]]] = []
    files: list[str] = []
    prints: list[str] = []
    dirs: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    #: roll-up modifiers taken from libraries, by node kind: (modifier, its file, its path there)
    taken_mods: dict[str, list[tuple[Any, Located, tuple[Any, ...]]]] = {}
    for i, inc in enumerate(includes):
        where = ("include", i)
        path = _find(inc["library"], base_dir)
        if path is None or not os.path.exists(path):
            problems.append(located.problem((*where, "library"), "unknown-library",
                                            f"no scale library {inc['library']!r} (shipped: "
                                            f"{', '.join(sorted(_shipped_ids()))}; or a path beside the ruleset)"))
            continue
        try:
            lib = read_library(path)
        except RulesetError as e:
            problems += list(e.problems)
            continue
        files.append(lib.file)
        prints.append(lib.fingerprint)
        data = lib.data
        wanted_sources: set[str] = set()
        taken: list[str] = []
        for sect in _SECTIONS:
            have = data.get(sect) or {}
            names = inc.get(sect)
            if names is None:
                names = list(have) if not any(inc.get(s) is not None for s in (*_SECTIONS, "rollups")) else []
            for j, name in enumerate(names):
                if name not in have:
                    problems.append(located.problem((*where, sect, j), "unknown-name",
                                                    f"library {lib.id!r} has no {sect[:-1]} {name!r}; it has: "
                                                    f"{', '.join(sorted(have)) or 'none'}"))
                    continue
                if name in (doc.get(sect) or {}):
                    problems.append(located.problem((sect, name), "duplicate-name",
                                                    f"{name!r} is defined here and included from library {lib.id!r}",
                                                    key=True))
                    continue
                out.setdefault(sect, {})[name] = copy.deepcopy(have[name])
                routes.append(((sect, name), lib.located, (sect, name)))
                taken.append(name)
                if sect == "tables":
                    dirs[name] = os.path.dirname(lib.file)
                src = have[name].get("source")
                if src:
                    wanted_sources.add(src)
        for sid in sorted(wanted_sources):
            mine = (doc.get("sources") or {}).get(sid)
            theirs = (data.get("sources") or {}).get(sid)
            if theirs is None:
                continue
            if mine is not None and mine != theirs:
                problems.append(located.problem(("sources", sid), "duplicate-name",
                                                f"source {sid!r} is defined here and, differently, in library "
                                                f"{lib.id!r}", key=True))
                continue
            if mine is None:
                out.setdefault("sources", {})[sid] = copy.deepcopy(theirs)
                routes.append((("sources", sid), lib.located, ("sources", sid)))
        for j, name in enumerate(inc.get("rollups") or ()):
            frag = (data.get("rollups") or {}).get(name)
            if frag is None:
                problems.append(located.problem((*where, "rollups", j), "unknown-name",
                                                f"library {lib.id!r} has no roll-up fragment {name!r}; it has: "
                                                f"{', '.join(sorted(data.get('rollups') or {})) or 'none'}"))
                continue
            for kind, spec in frag.items():
                for k, mod in enumerate(spec["modifiers"]):
                    taken_mods.setdefault(kind, []).append((copy.deepcopy(mod), lib.located,
                                                            ("rollups", name, kind, "modifiers", k)))
            taken.append(f"rollup {name}")
        changes: list[str] = []
        for tname, ov in (inc.get("override") or {}).items():
            table = (out.get("tables") or {}).get(tname)
            if tname not in taken or table is None:
                problems.append(located.problem((*where, "override", tname), "unknown-name",
                                                f"override of {tname!r}, which this include does not take", key=True))
                continue
            key = table["key"] if isinstance(table["key"], str) else table["key"][0]
            if "csv" in table:
                problems.append(located.problem((*where, "override", tname), "bad-value",
                                                f"table {tname!r} is kept in CSV; override it with a layer"))
                continue
            rows = table.setdefault("rows", [])
            for row in ov["rows"]:
                k = row.get(key)
                at = next((n for n, r in enumerate(rows) if r.get(key) == k), None)
                cite = ov["cite"]
                note = f"{tname} {key} {k!r}: {'replaced' if at is not None else 'added'} by {cite.get('source')}"
                if cite.get("clause"):
                    note += f" {cite['clause']}"
                if at is None:
                    rows.append(dict(row))
                else:
                    rows[at] = dict(row)
                changes.append(note)
            cited = (doc.get("sources") or {}).get(ov["cite"].get("source"))
            if cited is None:
                problems.append(located.problem((*where, "override", tname, "cite", "source"), "unknown-source",
                                                f"no source named {ov['cite'].get('source')!r} in this ruleset"))
        records.append({"library": lib.id, "file": os.path.basename(lib.file), "fingerprint": lib.fingerprint,
                        "took": taken, "changes": changes})
    if taken_mods:
        routes += _merge_rollup(out, located, taken_mods)
    if problems:
        raise RulesetError(problems)
    out["includes"] = records
    return Included(Routed(located.data, located.file, located.marks, tuple(routes)), out, tuple(files),
                    tuple(prints), dirs)


def _shipped_ids() -> set[str]:
    out = set()
    for path in registry.shipped_files():
        head = registry.head(path)
        if head is not None and head.get("kind") == "library":
            out.add(str(head.get("id")))
    return out


def _merge_rollup(out: dict[str, Any], located: Located,
                  taken: Mapping[str, list[tuple[Any, Located, tuple[Any, ...]]]]) -> list[Any]:
    """Put the included roll-up modifiers of each node kind before the ruleset's own (``rollup:``), and
    route every modifier's path to the file and place it was written in (its own ones move down)."""
    section = out.get("rollup")
    if not isinstance(section, dict):
        section = out["rollup"] = {}
    routes: list[Any] = []
    for kind, mods in taken.items():
        spec = section.get(kind)
        if spec is None:
            spec = section[kind] = {}
            routes.append((("rollup", kind), mods[0][1], mods[0][2][:3]))
        if not isinstance(spec, dict):
            continue  # the roll-up compiler reports the bad shape, located in the ruleset
        own = spec.get("modifiers") or []
        if not isinstance(own, list):
            continue
        spec["modifiers"] = [m for m, _, _ in mods] + list(own)
        routes += [(("rollup", kind, "modifiers", i), loc, path) for i, (_, loc, path) in enumerate(mods)]
        routes += [(("rollup", kind, "modifiers", len(mods) + i), located, ("rollup", kind, "modifiers", i))
                   for i in range(len(own))]
    return routes
