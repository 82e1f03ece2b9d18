"""What changed between two compiled rulesets, and what it does to a population of records.

:func:`diff` compares two :class:`~riskgrade.Ruleset` objects (two editions, two files, or a
ruleset with and without a jurisdiction's layers) item by item:

- **inputs** by name: added, removed, or changed ``type``, allowed values, ``min``, ``max``, ``default``;
- **tables** by name, their rows by key: added, removed, or changed cells;
- **bands** by name, row by row (in threshold order): ``from``, ``to``, level;
- **rules**, matched on the *inputs* they read (not on their ids: ids follow each edition's
  numbering), then, for the rules left over, on their id: added, removed, or changed id, method,
  level, bands, expressions (``when``, ``expr``, ``L`` ...), criteria, and citation (source, clause,
  status, basis);
- **sources** by name (added, removed, changed status or number) and **cases** by note.

Over a population of facts it grades every record with both rulesets and counts the records whose
level changes, by transition (``"RED->ORANGE"``; a record invalid under one side is ``"error"``
there), with a few examples. Each side is given the facts it has inputs for: a fact that is an input
of the other side only is left out (so one population fits both), any other fact is passed on (so a
typo is still an error). Without facts, :func:`generate` builds a population from the inputs.
"""

from __future__ import annotations

import ast
import itertools
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from riskgrade._core.canonical import fmt_number
from riskgrade._core.levels import Level
from riskgrade._grade import whatif
from riskgrade._grade.ruleset import Ruleset
from riskgrade.exceptions import FactError

__all__ = ["GENERATE_DEFAULT", "PopulationDiff", "RulesetChange", "RulesetDiff", "diff", "generate"]

#: the bound of a generated population when none is given
GENERATE_DEFAULT = 10000
_EXAMPLES = 5


@attrs.frozen
class RulesetChange:
    """One difference: ``kind`` (``ruleset``, ``input``, ``table``, ``bands``, ``rule``, ``source``,
    ``case``), ``op`` (``added``, ``removed``, ``changed``), the item's ``name``, the ``field`` that
    changed (empty for added/removed) and the ``old`` and ``new`` values."""

    kind: str
    op: str
    name: str
    field: str = ""
    old: Any = None
    new: Any = None

    def text(self, lang: str = "en") -> str:
        zh = lang == "zh"
        kinds = {"ruleset": "规则集", "input": "输入", "table": "表", "bands": "分级区间", "rule": "规则",
                 "source": "依据", "case": "用例"} if zh else {}
        ops = {"added": "新增", "removed": "删除", "changed": "修改"} if zh else {}
        what = f"{kinds.get(self.kind, self.kind)} {self.name}"
        if self.op == "added":
            return f"+ {what}" + (f" ({ops['added']})" if zh else " (added)") + _tail(self.new)
        if self.op == "removed":
            return f"- {what}" + (f" ({ops['removed']})" if zh else " (removed)") + _tail(self.old)
        return f"~ {what}: {self.field} {_show(self.old)} → {_show(self.new)}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "op": self.op, "name": self.name}
        if self.field:
            out["field"] = self.field
        if self.old is not None or self.op != "added":
            out["old"] = _plain(self.old)
        if self.new is not None or self.op != "removed":
            out["new"] = _plain(self.new)
        return out


@attrs.frozen
class PopulationDiff:
    """How the records of a population grade under both rulesets: ``records``, how many ``changed``
    level, the ``transitions`` (``"RED->ORANGE": n``, changed records only), the ``unchanged`` counts
    per level, a few ``examples`` (the facts and both levels) and how the population was made
    (``source``: ``given``, ``all combinations`` or ``seeded sample``)."""

    records: int
    changed: int
    transitions: Mapping[str, int]
    unchanged: Mapping[str, int]
    examples: tuple[Mapping[str, Any], ...]
    source: str = "given"

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "changed": self.changed, "transitions": dict(self.transitions),
                "unchanged": dict(self.unchanged), "examples": [dict(e) for e in self.examples],
                "source": self.source}


@attrs.frozen
class RulesetDiff:
    """The differences between ``old`` and ``new`` (described by :meth:`Ruleset.describe`, with the
    layers applied), item by item (``changes``), and over a ``population`` when one was given."""

    old: Mapping[str, Any]
    new: Mapping[str, Any]
    changes: tuple[RulesetChange, ...]
    population: PopulationDiff | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"old": dict(self.old), "new": dict(self.new),
                               "changes": [c.to_dict() for c in self.changes]}
        if self.population is not None:
            out["population"] = self.population.to_dict()
        return out

    def text(self, lang: str = "en") -> str:
        zh = lang == "zh"
        lines = [f"--- {_side(self.old)}", f"+++ {_side(self.new)}"]
        if not self.changes:
            lines.append("没有差异" if zh else "no differences")
        lines += [c.text(lang) for c in self.changes]
        p = self.population
        if p is not None:
            src = {"given": "给定", "all combinations": "全部组合", "seeded sample": "固定种子抽样"}.get(p.source, p.source) \
                if zh else p.source
            lines.append("")
            lines.append(f"{'记录' if zh else 'records'}: {p.records} ({src}); "
                         f"{'等级改变' if zh else 'level changed'}: {p.changed}")
            for k, n in p.transitions.items():
                lines.append(f"  {k}: {n}")
            if not p.transitions:
                lines.append(f"  {'没有记录改变等级' if zh else 'no record changes level'}")
            if p.unchanged:
                same = ", ".join(f"{k} {n}" for k, n in p.unchanged.items())
                lines.append(f"  {'未变' if zh else 'unchanged'}: {same}")
            for e in p.examples:
                facts = ", ".join(f"{k}={_show(v)}" for k, v in e["facts"].items())
                lines.append(f"  {'例' if zh else 'e.g.'} {{{facts}}}: {e['old']} -> {e['new']}")
        return "\n".join(lines)


def _side(d: Mapping[str, Any]) -> str:
    layers = f" + {', '.join(d['layers'])}" if d.get("layers") else ""
    return f"{d['id']} {d['version']} ({d['edition']}) {d['jurisdiction']}{layers} {d['file']}"


def _plain(v: Any) -> Any:
    if isinstance(v, (set, frozenset)):
        return sorted(v, key=_sort_key)
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, Level):
        return v.name
    return v


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, str(v))


def _show(v: Any) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return fmt_number(v)
    if isinstance(v, (set, frozenset, list, tuple)):
        return "[" + ", ".join(_show(x) for x in _plain(v)) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in v.items()) + "}"
    return str(v)


def _tail(v: Any) -> str:
    return f": {_show(v)}" if v not in (None, "", {}) else ""


# -- item by item ---------------------------------------------------------------------------------
def _text(v: Any) -> Any:
    return " ".join(str(v).split()) if isinstance(v, str) else v


def _inputs(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    for name in _union(old.inputs, new.inputs):
        a, b = old.inputs.get(name), new.inputs.get(name)
        if a is None:
            assert b is not None
            yield RulesetChange("input", "added", name, new=_input_summary(new, b))
            continue
        if b is None:
            yield RulesetChange("input", "removed", name, old=_input_summary(old, a))
            continue
        for key in ("type", "min", "max", "default", "required", "unit"):
            if a.get(key) != b.get(key):
                yield RulesetChange("input", "changed", name, key, a.get(key), b.get(key))
        va, vb = whatif.allowed(old, a), whatif.allowed(new, b)
        if va is not None or vb is not None:
            sa, sb = set(va or ()), set(vb or ())
            if va is None or vb is None or sa != sb:
                yield RulesetChange("input", "changed", name, "allowed values",
                             frozenset(sa) if va is not None else None, frozenset(sb) if vb is not None else None)


def _input_summary(rs: Ruleset, spec: Mapping[str, Any]) -> str:
    parts = [str(spec["type"])]
    scale = whatif.allowed(rs, spec)
    if scale is not None:
        parts.append("{" + ", ".join(_show(v) for v in scale) + "}")
    if spec.get("min") is not None or spec.get("max") is not None:
        parts.append(f"[{_show(spec.get('min'))}, {_show(spec.get('max'))}]")
    if "default" in spec:
        parts.append(f"default {_show(spec['default'])}")
    return " ".join(parts)


def _tables(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    for name in _union(old.tables, new.tables):
        a, b = old.tables.get(name), new.tables.get(name)
        if a is None or b is None:
            t = a or b
            assert t is not None
            yield RulesetChange("table", "removed" if b is None else "added", name,
                         old=f"{len(t.rows)} rows" if b is None else None, new=f"{len(t.rows)} rows" if a is None else None)
            continue
        for key in _union(a.index, b.index):
            ra, rb = a.index.get(key), b.index.get(key)
            where = f"{name}[{_show(key)}]"
            if ra is None:
                yield RulesetChange("table", "added", where, new=dict(rb or {}))
            elif rb is None:
                yield RulesetChange("table", "removed", where, old=dict(ra))
            else:
                for col in _union(ra, rb):
                    if ra.get(col) != rb.get(col):
                        yield RulesetChange("table", "changed", where, col, ra.get(col), rb.get(col))


def _band_rows(rs: Ruleset, name: str) -> list[Mapping[str, Any]]:
    rows = list(rs.bands[name].rows)
    return sorted(rows, key=lambda r: -float("inf") if r.get("from") is None else float(r["from"]))


def _row_name(row: Mapping[str, Any], i: int) -> str:
    return str(row.get("level") or _show(row.get("value")) if ("level" in row or "value" in row) else i)


def _bands(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    for name in _union(old.bands, new.bands):
        if name not in old.bands or name not in new.bands:
            yield RulesetChange("bands", "removed" if name not in new.bands else "added", name)
            continue
        ra, rb = _band_rows(old, name), _band_rows(new, name)
        if old.bands[name].closed != new.bands[name].closed:
            yield RulesetChange("bands", "changed", name, "closed", old.bands[name].closed, new.bands[name].closed)
        for i in range(max(len(ra), len(rb))):
            a = ra[i] if i < len(ra) else None
            b = rb[i] if i < len(rb) else None
            if a is None or b is None:
                row = a or b
                assert row is not None
                yield RulesetChange("bands", "removed" if b is None else "added", f"{name}[{_row_name(row, i)}]",
                             old=_row_text(row) if b is None else None, new=_row_text(row) if a is None else None)
                continue
            label = _row_name(b, i) if _row_name(a, i) == _row_name(b, i) else f"{_row_name(a, i)}/{_row_name(b, i)}"
            for key in ("from", "to", "level", "value"):
                if a.get(key) != b.get(key):
                    yield RulesetChange("bands", "changed", f"{name}[{label}]", key, a.get(key), b.get(key))


def _row_text(row: Mapping[str, Any]) -> str:
    return f"({_show(row.get('from'))}, {_show(row.get('to'))}] → {row.get('level') or _show(row.get('value'))}"


def _reads(rs: Ruleset) -> list[frozenset[str]]:
    """For each rule, the inputs it reads (through derived values and other rules' outputs too)."""
    inputs = set(rs.inputs)
    direct: dict[str, set[str]] = {}
    for name, spec in (rs.doc.get("derive") or {}).items():
        direct[name] = _names(spec["expr"] if isinstance(spec, Mapping) else spec)
    per_rule: list[set[str]] = []
    for i, rule in enumerate(rs.rules):
        names: set[str] = set()
        for _, text in whatif.rule_expressions(rs, i):
            names |= _names(text)
        per_rule.append(names)
        for out in rs._methods[i].output_names(rule):
            direct.setdefault(out, set()).update(names)
    resolved: dict[str, set[str]] = {}

    def expand(name: str, seen: frozenset[str]) -> set[str]:
        if name in inputs:
            return {name}
        if name in resolved:
            return resolved[name]
        if name in seen or name not in direct:
            return set()
        out: set[str] = set()
        for n in direct[name]:
            out |= expand(n, seen | {name})
        resolved[name] = out
        return out

    return [frozenset().union(*(expand(n, frozenset()) for n in names)) if names else frozenset()
            for names in per_rule]


def _names(text: Any) -> set[str]:
    if not isinstance(text, str):
        return set()
    try:
        tree = ast.parse(" ".join(text.split()), mode="eval")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def match_rules(old: Ruleset, new: Ruleset) -> list[tuple[int | None, int | None]]:
    """Pairs ``(old index, new index)`` of the rules: matched on the inputs they read, then on their
    id; ``None`` on one side for a rule added or removed."""
    ra, rb = _reads(old), _reads(new)
    pairs: list[tuple[int | None, int | None]] = []
    free_b = list(range(len(new.rules)))
    left_a: list[int] = []
    for i in range(len(old.rules)):
        same = [j for j in free_b if rb[j] == ra[i] and ra[i]]
        # among several rules reading the same inputs, prefer the one with the same id
        same.sort(key=lambda j: new.rules[j]["id"] != old.rules[i]["id"])
        if same:
            pairs.append((i, same[0]))
            free_b.remove(same[0])
        else:
            left_a.append(i)
    for i in left_a:
        same = [j for j in free_b if new.rules[j]["id"] == old.rules[i]["id"]]
        if same:
            pairs.append((i, same[0]))
            free_b.remove(same[0])
        else:
            pairs.append((i, None))
    pairs += [(None, j) for j in free_b]
    order_b = {j: k for k, j in enumerate(j for _, j in pairs if j is not None)}
    pairs.sort(key=lambda p: (p[0] if p[0] is not None else len(old.rules), order_b.get(p[1], 0) if p[1] is not None else 0))
    return pairs


def _cite(rs: Ruleset, i: int) -> dict[str, Any]:
    c = rs._citations[i]
    return {"source": c.source, "clause": c.clause, "status": c.status, "basis": c.basis}


def _rules(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    for i, j in match_rules(old, new):
        if j is None:
            assert i is not None
            yield RulesetChange("rule", "removed", str(old.rules[i]["id"]), old=_rule_summary(old, i))
            continue
        if i is None:
            yield RulesetChange("rule", "added", str(new.rules[j]["id"]), new=_rule_summary(new, j))
            continue
        a, b = old.rules[i], new.rules[j]
        name = str(b["id"]) if a["id"] == b["id"] else f"{a['id']}/{b['id']}"
        if a["id"] != b["id"]:
            yield RulesetChange("rule", "changed", name, "id", a["id"], b["id"])
        for key in ("method", "level", "bands", "at_least"):
            if _text(a.get(key)) != _text(b.get(key)):
                yield RulesetChange("rule", "changed", name, key, a.get(key), b.get(key))
        ea, eb = dict(whatif.rule_expressions(old, i)), dict(whatif.rule_expressions(new, j))
        for key in _union(ea, eb):
            if key.startswith("criteria["):
                continue
            if _text(ea.get(key)) != _text(eb.get(key)):
                yield RulesetChange("rule", "changed", name, key, _text(ea.get(key)), _text(eb.get(key)))
        ca = {str(c.get("id")): c for c in a.get("criteria") or ()}
        cb = {str(c.get("id")): c for c in b.get("criteria") or ()}
        for cid in _union(ca, cb):
            if cid not in cb:
                yield RulesetChange("rule", "removed", f"{name}.{cid}", old=_text(ca[cid].get("when")))
            elif cid not in ca:
                yield RulesetChange("rule", "added", f"{name}.{cid}", new=_text(cb[cid].get("when")))
            elif _text(ca[cid].get("when")) != _text(cb[cid].get("when")):
                yield RulesetChange("rule", "changed", f"{name}.{cid}", "when", _text(ca[cid].get("when")),
                             _text(cb[cid].get("when")))
        cite_a, cite_b = _cite(old, i), _cite(new, j)
        for key in ("source", "clause", "status", "basis"):
            if cite_a[key] != cite_b[key]:
                yield RulesetChange("rule", "changed", name, f"cite.{key}", cite_a[key], cite_b[key])


def _rule_summary(rs: Ruleset, i: int) -> str:
    rule = rs.rules[i]
    parts = [str(rule["method"])]
    exprs = [f"{k}: {_text(t)}" for k, t in whatif.rule_expressions(rs, i) if not k.startswith("criteria[")]
    if rule.get("method") in ("direct", "composite") or (exprs and rule.get("method") not in ("lec", "ls")):
        parts += exprs
    if rule.get("level"):
        parts.append(f"→ {rule['level']}")
    if rule.get("bands"):
        parts.append(f"bands {rule['bands']}")
    c = rs._citations[i]
    parts.append(f"({c.source}{' ' + str(c.clause) if c.clause else ''})")
    return " ".join(parts)


def _sources(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    for name in _union(old.sources, new.sources):
        a, b = old.sources.get(name), new.sources.get(name)
        if a is None or b is None:
            src = a or b
            assert src is not None
            title = src.get("title")
            shown = title.get("en") if isinstance(title, Mapping) else title
            yield RulesetChange("source", "removed" if b is None else "added", name,
                         old=shown if b is None else None, new=shown if a is None else None)
            continue
        for key in ("status", "number"):
            if a.get(key) != b.get(key):
                yield RulesetChange("source", "changed", name, key, a.get(key), b.get(key))


def _cases(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    ca = {str(c.get("note")): c for c in old.cases}
    cb = {str(c.get("note")): c for c in new.cases}
    for note in _union(ca, cb):
        if note not in cb:
            yield RulesetChange("case", "removed", note)
        elif note not in ca:
            yield RulesetChange("case", "added", note)
        else:
            for key in ("facts", "want", "want_error"):
                if ca[note].get(key) != cb[note].get(key):
                    yield RulesetChange("case", "changed", note, key, ca[note].get(key), cb[note].get(key))


def _meta(old: Ruleset, new: Ruleset) -> Iterator[RulesetChange]:
    da, db = _describe(old), _describe(new)
    for key in ("id", "version", "edition", "effective", "jurisdiction", "layers"):
        if da[key] != db[key]:
            yield RulesetChange("ruleset", "changed", da["id"] if da["id"] == db["id"] else f"{da['id']}/{db['id']}",
                         key, da[key], db[key])


def _describe(rs: Ruleset) -> dict[str, Any]:
    d = rs.describe()
    d["layers"] = list(rs.ref.layers)
    return d


def _union(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
    out = list(a)
    seen = set(out)
    out += [x for x in b if x not in seen]
    return out


# -- over a population ----------------------------------------------------------------------------
def _for_side(facts: Mapping[str, Any], mine: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in facts.items() if k in mine or k not in other}


def _grade(rs: Ruleset, facts: Mapping[str, Any]) -> tuple[str, str]:
    try:
        return rs.grade(facts).level.name, ""
    except FactError as e:
        return "error", f"{e.code}: {e.field + ': ' if e.field else ''}{e.message}"


def population(old: Ruleset, new: Ruleset, records: Iterable[Mapping[str, Any]], *, source: str = "given",
               examples: int = _EXAMPLES) -> PopulationDiff:
    """Grade every record with both rulesets; count the changes (see the module docstring)."""
    n = changed = 0
    transitions: dict[str, int] = {}
    unchanged: dict[str, int] = {}
    shown: list[dict[str, Any]] = []
    for facts in records:
        n += 1
        la, ea = _grade(old, _for_side(facts, old.inputs, new.inputs))
        lb, eb = _grade(new, _for_side(facts, new.inputs, old.inputs))
        if la == lb:
            unchanged[la] = unchanged.get(la, 0) + 1
            continue
        changed += 1
        key = f"{la}->{lb}"
        transitions[key] = transitions.get(key, 0) + 1
        if len(shown) < examples * 4:  # candidates: the first of each transition is shown first
            ex: dict[str, Any] = {"facts": dict(facts), "old": la, "new": lb}
            if ea:
                ex["old_error"] = ea
            if eb:
                ex["new_error"] = eb
            shown.append(ex)
    order = {lv.name: -int(lv) for lv in Level} | {"error": 0}

    def by_level(k: str) -> tuple[int, ...]:
        return tuple(order.get(p, 1) for p in k.split("->"))

    firsts: dict[str, dict[str, Any]] = {}
    for ex in shown:
        firsts.setdefault(f"{ex['old']}->{ex['new']}", ex)
    picked = list(firsts.values())[:examples]
    picked += [ex for ex in shown if not any(ex is p for p in picked)][: examples - len(picked)]
    return PopulationDiff(n, changed, dict(sorted(transitions.items(), key=lambda kv: (by_level(kv[0]), kv[0]))),
                      dict(sorted(unchanged.items(), key=lambda kv: by_level(kv[0]))), tuple(picked), source)


def generate(old: Ruleset, new: Ruleset | None = None, n: int = GENERATE_DEFAULT, *,
             seed: int = 0) -> tuple[list[dict[str, Any]], str]:
    """A population over the inputs of ``old`` and ``new`` (their union) and how it was made.

    Each input takes the values the what-if search tries (:func:`riskgrade._grade.whatif.candidates`,
    with the band thresholds and expression numbers of both rulesets). When the number of
    combinations is at most ``n``: every combination (``all combinations``). Otherwise a seeded
    sample of ``n`` records (``seeded sample``): the record of every input at its default (or first
    value), every record that changes one input from it, then records that change 2 to 4 inputs at
    random (``random.Random(seed)``). An input that cannot be generated (free text, a date, a list)
    is left out when it is optional, and is an error (``cannot-generate``) when it is required.
    """
    sides = [rs for rs in (old, new) if rs is not None]
    extra = set().union(*(whatif.thresholds(rs) | whatif.expression_numbers(rs) for rs in sides))
    names = _union(old.inputs, new.inputs if new is not None else {})
    values: dict[str, list[Any]] = {}
    for name in names:
        owners = [rs for rs in sides if name in rs.inputs]
        vals: list[Any] = []
        for rs in owners:
            vals += [v for v in whatif.candidates(rs, name, extra=extra) if not any(_same(v, w) for w in vals)]
        if not vals:
            spec = owners[-1].inputs[name]
            if "default" not in spec and spec.get("required", True):
                raise FactError(f"cannot generate values of the required input {name!r} ({spec['type']}); "
                                "give a population with --facts", field=name, code="cannot-generate")
            continue
        values[name] = vals
    total = 1
    for vals in values.values():
        total *= len(vals)
        if total > n:
            break
    keys = list(values)
    defaults = {k: [rs.inputs[k]["default"] for rs in sides if k in rs.inputs and "default" in rs.inputs[k]]
                for k in keys}

    def compact(rec: Mapping[str, Any]) -> dict[str, Any]:
        """The record without the facts at the default of every side that has the input."""
        return {k: v for k, v in rec.items()
                if not (defaults[k] and len(defaults[k]) == sum(k in rs.inputs for rs in sides)
                        and all(_same(v, d) for d in defaults[k]))}

    if total <= n:
        return [compact(dict(zip(keys, combo, strict=True))) for combo in itertools.product(*values.values())], \
            "all combinations"
    base: dict[str, Any] = {}
    for k in keys:
        spec = (new.inputs.get(k) if new is not None else None) or old.inputs[k]
        d = spec.get("default")
        base[k] = d if d is not None and any(_same(d, v) for v in values[k]) else values[k][0]
    out = [dict(base)]
    for k in keys:
        for v in values[k]:
            if len(out) >= n:
                break
            if not _same(v, base[k]):
                out.append({**base, k: v})
    rnd = random.Random(seed)
    while len(out) < n:
        rec = dict(base)
        for k in rnd.sample(keys, min(len(keys), rnd.randint(2, 4))):
            rec[k] = rnd.choice(values[k])
        out.append(rec)
    return [compact(r) for r in out[:n]], "seeded sample"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else bool(a == b)


def diff(old: Ruleset, new: Ruleset, facts: Iterable[Mapping[str, Any]] | None = None, *,
         generate_n: int | None = None, seed: int = 0, examples: int = _EXAMPLES) -> RulesetDiff:
    """What changed from ``old`` to ``new``; over ``facts`` (or a generated population of at most
    ``generate_n`` records) how many records change level."""
    changes = tuple(itertools.chain(_meta(old, new), _inputs(old, new), _tables(old, new), _bands(old, new),
                                    _rules(old, new), _sources(old, new), _cases(old, new)))
    pop = None
    if facts is not None:
        pop = population(old, new, facts, examples=examples)
    elif generate_n is not None:
        records, how = generate(old, new, generate_n, seed=seed)
        pop = population(old, new, records, source=how, examples=examples)
    return RulesetDiff(_describe(old), _describe(new), changes, pop)
