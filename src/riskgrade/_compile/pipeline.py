"""Ruleset compiler and the compiled :class:`Ruleset`.

Stages, in order (each collects located problems; any problem stops the load with a
:class:`~riskgrade.exceptions.RulesetError` listing them all, sorted by location):

1. **load** -- safe YAML with locations (``_yamlsrc``);
2. **validate** -- the cerberus schema of format v1 (``_schema``), then rule methods' own schemas;
3. **layer** -- jurisdiction layers and plugins (``_layers``), stricter only;
4. **resolve** -- sources, tables (inline or CSV), bands (proven gap- and overlap-free);
5. **compile** -- expressions to Python (``_expr``), derive order, one generated grading function;
6. **check** -- every rule's citation resolves; a level is always produced.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from riskgrade._compile.expr import Compiled, Compiler, ExprError, Function
from riskgrade._compile.methods import Method, builtin_methods
from riskgrade._core.levels import Level
from riskgrade._grade.assessment import Assessment, Citation, Fired, RulesetRef, Step, dumps
from riskgrade._source.yaml import Located, load_yaml
from riskgrade._validate import schema as _schema
from riskgrade.exceptions import FactError, Problem, RulesetError

__all__ = ["CaseResult", "CompileContext", "Ruleset", "compile_located", "load_file"]

_INF = math.inf
_NUM = (int, float)
_META_KEYS = frozenset({"id", "name"})


def _label(v: Any, lang: str = "en") -> str:
    if isinstance(v, dict):
        return str(v.get(lang) or v.get("en") or v.get("zh") or "")
    return "" if v is None else str(v)


# ----------------------------------------------------------------------------------------------
# compiled pieces
# ----------------------------------------------------------------------------------------------
@attrs.frozen
class Table:
    name: str
    key: tuple[str, ...]
    columns: Mapping[str, str]
    rows: tuple[Mapping[str, Any], ...]
    index: Mapping[Any, Mapping[str, Any]]


@attrs.frozen
class Bands:
    name: str
    closed: str
    rows: tuple[Mapping[str, Any], ...]
    fn: Callable[[Any], int]

    def inline(self, x: str, d: str, r: str) -> list[str]:
        """Code that sets ``d`` (the row index) and ``r`` (the level int) for the value ``x``."""
        cmp = "<=" if self.closed == "upper" else "<"
        order = sorted(range(len(self.rows)),
                       key=lambda j: (-_INF if self.rows[j].get("from") is None else self.rows[j]["from"]))
        lines = []
        for n, j in enumerate(order):
            row = self.rows[j]
            lv = int(Level.parse(row["level"])) if "level" in row else 0
            if n == len(order) - 1:
                lines.append("else:" if n else "if True:")
                lines.append(f"    if {x} != {x} or {x} == _INF: raise FactError(f'{{{x}!r}} is not a finite number', "
                             "code='not-finite')")
            else:
                lines.append(f"{'if' if n == 0 else 'elif'} {x} {cmp} {row['to']!r}:")
            lines.append(f"    {d} = {j}; {r} = {lv}")
        return lines

    def row_text(self, i: int, var: str = "x") -> str:
        r = self.rows[i]
        lo, hi = r.get("from"), r.get("to")
        lt_lo = "<" if self.closed == "upper" else "≤"
        lt_hi = "≤" if self.closed == "upper" else "<"
        if lo is None and hi is None:
            return f"any {var}"
        if lo is None:
            return f"{var} {lt_hi} {_n(hi)}"
        if hi is None:
            return f"{var} {'>' if self.closed == 'upper' else '≥'} {_n(lo)}"
        return f"{_n(lo)} {lt_lo} {var} {lt_hi} {_n(hi)}"


def _n(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@attrs.frozen
class CaseResult:
    """The outcome of one ruleset case: ``ok`` and, when not, what differed."""

    ruleset: str
    index: int
    note: str
    ok: bool
    expected: Mapping[str, Any]
    actual: Mapping[str, Any]
    problems: tuple[str, ...] = ()


class CompileContext:
    """What a method or section compiler may use while a ruleset compiles."""

    def __init__(self, located: Located, doc: dict[str, Any], compiler: Compiler,
                 methods: Mapping[str, Method]) -> None:
        self.located = located
        self.doc = doc
        self.compiler = compiler
        self.methods = methods
        self.problems: list[Problem] = []
        self.bands: dict[str, Bands] = {}
        self.outputs: dict[str, tuple[Any, ...]] = {}
        self._rule_pos: dict[int, int] = {}
        self.broken_bands: set[str] = set()

    def problem(self, path: tuple[Any, ...], code: str, message: str, *, key: bool = False) -> None:
        self.problems.append(self.located.problem(path, code, message, key=key))

    def rule_pos(self, i: int) -> int:
        return self._rule_pos.get(i, i)

    def expr(self, text: Any, path: tuple[Any, ...], extra: Iterable[str] = ()) -> str:
        """Compile an expression found at ``path``; on error record a located problem."""
        try:
            c: Compiled = self.compiler.compile(text, extra_names=extra)
        except ExprError as e:
            line, col = self.located.where(path)
            # the expression's own offset, when it sits on the same line as the key
            self.problems.append(Problem(e.code, e.message, self.located.file, line,
                                         col + (e.col if e.line == 1 else 0)))
            return "None"
        return c.source

    def declare_output(self, name: str, path: tuple[Any, ...]) -> None:
        if name in self.outputs or name in self.doc.get("inputs", {}) or name in (self.doc.get("derive") or {}):
            self.problem(path, "duplicate-name", f"value {name!r} is already defined")
        self.outputs[name] = path
        self.compiler.names.add(name)

    def bands_for_levels(self, name: str, path: tuple[Any, ...]) -> Bands | None:
        b = self.bands.get(name)
        if b is None and name in self.broken_bands:
            return None  # already reported where the bands are defined
        if b is None:
            self.problem(path, "unknown-bands", f"no bands named {name!r}"
                         + (f"; defined: {', '.join(sorted(self.bands))}" if self.bands else ""))
            return None
        if any("level" not in r for r in b.rows):
            self.problem(path, "bands-without-levels", f"bands {name!r} must give a level in every row")
            return None
        return b


# ----------------------------------------------------------------------------------------------
# the compiled ruleset
# ----------------------------------------------------------------------------------------------
class Ruleset:
    """A compiled, immutable ruleset. Grading is a pure function of (ruleset, facts).

    >>> import riskgrade
    >>> rs = riskgrade.load("lec-generic")
    >>> rs.id, rs.grade({"L": 3, "E": 6, "C": 15}).level.zh
    ('lec-generic', '较大风险')
    """

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    id: str
    version: str
    edition: str
    sector: str
    jurisdiction: str
    title: Mapping[str, str]
    effective: datetime.date
    fingerprint: str
    file: str
    ref: RulesetRef
    sources: Mapping[str, Mapping[str, Any]]
    inputs: Mapping[str, Mapping[str, Any]]
    tables: Mapping[str, Table]
    bands: Mapping[str, Bands]
    rules: tuple[Mapping[str, Any], ...]
    cases: tuple[Mapping[str, Any], ...]
    control_tiers: Mapping[Level, str]
    doc: Mapping[str, Any]
    layers: tuple[Any, ...]
    _sections: Mapping[str, Any]
    _fn: Callable[[Mapping[str, Any]], Assessment]
    _value_names: tuple[str, ...]
    _input_names: tuple[str, ...]
    _citations: tuple[Citation, ...]
    _methods: tuple[Method, ...]
    _source_code: str
    _slices: tuple[slice, slice, slice, slice]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Ruleset is immutable")

    def __repr__(self) -> str:
        return f"<Ruleset {self.id} {self.version} ({self.edition}) {self.jurisdiction} {self.fingerprint[:12]}>"

    # -- grading --------------------------------------------------------------------------------
    def grade(self, facts: Mapping[str, Any]) -> Assessment:
        """Grade one set of facts. Raises :class:`FactError` naming the field on bad input.

        (Each compiled ruleset replaces this method by its generated grading function,
        so a call costs no wrapper; this definition documents it.)
        """
        return self._fn(facts)

    def grade_many(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Assessment | FactError]:
        """Grade each record; yields exactly one result per input, in order: an
        :class:`Assessment` or a :class:`FactError` whose ``record`` is the input's index."""
        fn = self._fn
        for i, facts in enumerate(records):
            try:
                yield fn(facts)
            except FactError as e:
                yield e.at(record=i)

    def section(self, name: str) -> Any:
        """The compiled optional section ``name`` (e.g. ``rollup``), or None."""
        return self._sections.get(name)

    def assess(self, enterprise: Any, *, as_of: datetime.date | None = None) -> Any:
        """Assess a whole enterprise (see :func:`riskgrade.load_enterprise`)."""
        from riskgrade._enterprise.graph import assess

        return assess(self, enterprise, as_of=as_of)

    # -- explanation ----------------------------------------------------------------------------
    def _fired(self, a: Assessment) -> tuple[Fired, ...]:
        out = []
        values = a.values
        levels, details = a[self._slices[2]], a[self._slices[3]]
        for i, rule in enumerate(self.rules):
            lv = levels[i]
            if not lv:
                continue
            detail = self._detail(i, details[i], values, a.inputs, "en")
            out.append(Fired(rule["id"], Level(lv), self._citations[i], _label(rule.get("label"), "en"), detail))
        return tuple(out)

    def _detail(self, i: int, detail: Any, values: Mapping[str, Any], inputs: Mapping[str, Any],
                lang: str) -> str:
        """The one-line explanation of rule ``i``'s outcome."""
        rule = self.rules[i]
        if self._methods[i].name in ("score", "lec", "ls"):
            return self._band_detail(rule, detail, values, inputs, lang)
        return self._methods[i].explain(rule, detail, values, lang)

    def _band_detail(self, rule: Mapping[str, Any], idx: Any, values: Mapping[str, Any],
                     inputs: Mapping[str, Any], lang: str) -> str:
        b = self.bands[rule["bands"]]
        out = rule.get("as", {"lec": "D", "ls": "R"}.get(rule["method"], "score"))
        val = values.get(out, "?")
        row = b.rows[idx]
        lab = _label(row.get("label"), lang)
        parts: list[str] = []
        if rule["method"] == "lec":
            parts = [str(rule.get(k, k)) for k in ("L", "E", "C")]
        elif rule["method"] == "ls":
            parts = [str(rule.get("L", "L")), str(rule.get("S", rule.get("S_as", "S")))]
        formula = ""
        if parts:
            known = {**inputs, **values}
            nums = [_n(known[p]) if p in known else p for p in parts]
            formula = f" = {' × '.join(parts)} = {' × '.join(nums)}"
        return f"{out}{formula} = {_n(val)}: {b.row_text(idx, out)}" + (f" ({lab})" if lab else "")

    def _trace(self, a: Assessment, lang: str) -> list[Step]:
        zh = lang == "zh"
        steps: list[Step] = []
        ins = a.inputs
        for name, spec in self.inputs.items():
            lab = _label(spec.get("label"), lang)
            v = ins[name]
            if v is None:
                continue
            shown = f"{len(v)} {'条记录' if zh else 'records'}" if isinstance(v, list) else _n(v)
            unit = f" {spec['unit']}" if spec.get("unit") and not isinstance(v, list) else ""
            meaning = ""
            if spec.get("table") and not isinstance(v, list):
                t = self.tables[spec["table"]]
                row = t.index.get(v)
                if row is not None:
                    meaning = next((str(row[c]) for c in (("zh",) if zh else ("en",)) + ("description_zh", "label")
                                    if row.get(c)), "")
            steps.append(Step("input", name, f"{'输入' if zh else 'input'} {name}"
                              f"{f' ({lab})' if lab else ''} = {shown}{unit}{f' — {meaning}' if meaning else ''}"))
        vals = a.values
        for name, spec in (self.doc.get("derive") or {}).items():
            text = " ".join(str(spec if not isinstance(spec, dict) else spec["expr"]).split())
            steps.append(Step("derive", name, f"{'计算' if zh else 'derive'} {name} = {text} = {_n(vals[name])}"))
        levels, details = a[self._slices[2]], a[self._slices[3]]
        for i, rule in enumerate(self.rules):
            lv = levels[i]
            detail = self._detail(i, details[i], vals, ins, lang)
            lab = _label(rule.get("label"), lang)
            cite = self._citations[i].text(lang)
            not_fired = "→ 未触发" if zh else "→ not fired"
            res = f"→ {Level(lv).name} {Level(lv).label(lang)}" if lv else not_fired
            steps.append(Step("rule", rule["id"], f"{'规则' if zh else 'rule'} {rule['id']}"
                              f"{f' ({lab})' if lab else ''}: {detail} {res}; {'依据' if zh else 'cite'}: {cite}"))
        if any(levels):
            how = "取已触发规则的最高等级" if zh else "the highest level among fired rules"
        else:
            oth = self.doc.get("otherwise") or {}
            cite = self._otherwise_citation.text(lang) if self._otherwise_citation else ""
            how = (f"无规则触发, 采用默认等级; 依据: {cite}" if zh
                   else f"no rule fired, the default level applies; cite: {cite}")
            _ = oth
        steps.append(Step("decision", "level", f"{'结论' if zh else 'result'}: {a.level.name} "
                          f"{a.level.label(lang)} ({how})"))
        for change in (self.doc.get("layers") or ()):
            for line in change.get("changes") or ():
                steps.append(Step("layer", str(change.get("layer", "")), f"{'辖区细化' if zh else 'layer'}: {line}"))
        return steps

    _otherwise_citation: Citation | None

    # -- cases ----------------------------------------------------------------------------------
    def run_cases(self) -> list[CaseResult]:
        """Run the ruleset's own ``cases``; each result says what was expected and what came out."""
        return [_run_case(self, i, c) for i, c in enumerate(self.cases)]

    def describe(self) -> dict[str, Any]:
        """Metadata for listings."""
        return {"id": self.id, "title": dict(self.title), "sector": self.sector, "jurisdiction": self.jurisdiction,
                "version": self.version, "edition": self.edition, "effective": self.effective.isoformat(),
                "fingerprint": self.fingerprint, "file": self.file}


def _run_case(rs: Ruleset, i: int, case: Mapping[str, Any]) -> CaseResult:
    try:
        return _run_case_checked(rs, i, case)
    except Exception as e:  # a broken case is a failing case, reported with the others
        return CaseResult(rs.id, i, str(case.get("note", "")), False, dict(case.get("want") or {}),
                          {"exception": f"{type(e).__name__}: {e}"}, (f"case crashed: {type(e).__name__}: {e}",))


def _run_case_checked(rs: Ruleset, i: int, case: Mapping[str, Any]) -> CaseResult:
    note = case["note"]
    want = case.get("want")
    want_err = case.get("want_error")
    problems: list[str] = []
    try:
        a = rs.grade(case["facts"])
    except FactError as e:
        actual: dict[str, Any] = {"error": e.code, "field": e.field}
        if want_err is None:
            problems.append(f"unexpected error: {e}")
        else:
            if e.code != want_err["code"]:
                problems.append(f"error code: want {want_err['code']}, got {e.code}")
            if "field" in want_err and e.field != want_err["field"]:
                problems.append(f"error field: want {want_err['field']}, got {e.field}")
        return CaseResult(rs.id, i, note, not problems, dict(want_err or want or {}), actual, tuple(problems))
    fired = [f.id for f in a.fired]
    actual = {"level": a.level.name, "score": a.score, "values": a.values, "fired": fired}
    if want_err is not None:
        problems.append(f"want error {want_err['code']}, got level {a.level.name}")
    elif want is not None:
        if want.get("level") is not None and Level.parse(want["level"]) is not a.level:
            problems.append(f"level: want {Level.parse(want['level']).name}, got {a.level.name}")
        if "score" in want and not _close(want["score"], a.score):
            problems.append(f"score: want {want['score']}, got {a.score}")
        for k, v in (want.get("values") or {}).items():
            if k not in a.values:
                problems.append(f"value {k}: no such value")
            elif not _close(v, a.values[k]):
                problems.append(f"value {k}: want {v!r}, got {a.values[k]!r}")
        if "fired" in want and sorted(want["fired"]) != sorted(fired):
            problems.append(f"fired: want {sorted(want['fired'])}, got {sorted(fired)}")
        for rid in want.get("not_fired") or ():
            if rid in fired:
                problems.append(f"rule {rid} fired but should not")
    return CaseResult(rs.id, i, note, not problems, dict(want or {}), actual, tuple(problems))


def _close(want: Any, got: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return bool(want == got)
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(want, str) and isinstance(got, Level):
        return Level.parse(want) is got
    return bool(want == got)


# ----------------------------------------------------------------------------------------------
# compilation
# ----------------------------------------------------------------------------------------------
_COMMON_RULE_KEYS: dict[str, Any] = {
    "id": {"type": "string", "required": True, "regex": _schema.RULE_ID},
    "method": {"type": "string", "required": True},
    "label": _schema.label_schema,
    # ``layer`` is written by _layers: the provenance of a jurisdiction layer's changes to this rule
    "cite": {**_schema.CITE, "required": True, "schema": {**_schema.CITE["schema"], "layer": {"type": "string"}}},
    "note": {"type": ["string", "dict"]},
    "unverified": {"type": ["boolean", "string"]},
}


def load_file(path: str, *, layers: Iterable[Any] = (), methods: Mapping[str, Method] | None = None,
              functions: Mapping[str, Function] | None = None) -> Ruleset:
    """Load and compile the ruleset file at ``path``."""
    return compile_located(load_yaml(path), layers=layers, methods=methods, functions=functions)


def compile_located(located: Located, *, layers: Iterable[Any] = (),
                    methods: Mapping[str, Method] | None = None,
                    functions: Mapping[str, Function] | None = None) -> Ruleset:
    """Compile a parsed ruleset document (stages 2-6)."""
    doc = located.data
    problems = _schema.check(doc, _schema.TOP | {k: {"nullable": True} for k in _extra_sections()}, located)
    if problems:
        # report the later stages' problems too, as far as the document's shape lets them run
        if isinstance(doc, dict) and not layers:
            try:
                _Builder(located, doc, {**builtin_methods(), **(methods or {})}, functions or {}, ()).build()
            except RulesetError as e:
                problems += list(e.problems)
            except Exception:  # too broken for the later stages; the schema problems stand
                pass
        raise RulesetError(problems)
    assert isinstance(doc, dict)
    layers = tuple(layers)
    if layers:
        from riskgrade._compile.layers import apply_layers

        located, doc = apply_layers(located, doc, layers)
    all_methods = dict(builtin_methods())
    if methods:
        all_methods.update(methods)
    return _Builder(located, doc, all_methods, functions or {}, layers).build()


def _extra_sections() -> list[str]:
    from riskgrade._compile.sections import registered

    return sorted(registered())


class _Builder:
    def __init__(self, located: Located, doc: dict[str, Any], methods: Mapping[str, Method],
                 functions: Mapping[str, Function], layers: tuple[Any, ...]) -> None:
        self.loc = located
        self.doc = doc
        self.methods = methods
        self.functions = dict(functions)
        self.layers = layers
        self.problems: list[Problem] = []
        self.tables: dict[str, Table] = {}
        self._record_derivers: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {}
        self.base_dir = os.path.dirname(os.path.abspath(located.file)) if located.file else os.getcwd()

    def p(self, path: tuple[Any, ...], code: str, msg: str, *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, code, msg, key=key))

    def build(self) -> Ruleset:
        doc = self.doc
        sources = doc["sources"]
        inputs = doc["inputs"]
        self._check_inputs(inputs)
        for name, spec in (doc.get("tables") or {}).items():
            t = self._table(name, spec)
            if t is not None:
                self.tables[name] = t
        for name, spec in inputs.items():
            if spec.get("table") and spec["table"] not in self.tables:
                self.p(("inputs", name, "table"), "unknown-table", f"no table named {spec['table']!r}")
            elif spec.get("table"):
                t = self.tables[spec["table"]]
                key_types = {t.columns[k] for k in t.key}
                want = {"number": {"number", "integer"}, "integer": {"integer", "number"},
                        "string": {"string"}, "enum": {"string", "number", "integer"}}.get(spec["type"], set())
                if not key_types & want:
                    self.p(("inputs", name, "table"), "type-mismatch",
                           f"input {name!r} is {spec['type']} but table {spec['table']!r} is keyed by "
                           f"{'/'.join(sorted(key_types))}")
        self._check_source_refs(sources)
        functions = dict(self.functions)
        functions.update(self._table_functions())
        records = {n: set((s.get("fields") or {}).keys()) | set((s.get("derive") or {}).keys())
                   for n, s in inputs.items() if s["type"] == "list"}
        self._record_derivers = {n: self._record_deriver(n, s, functions) for n, s in inputs.items()
                                 if s["type"] == "list" and s.get("derive")}
        derive = doc.get("derive") or {}
        for name in derive:
            if name in inputs:
                self.p(("derive", name), "duplicate-name", f"{name!r} is both an input and a derived value",
                       key=True)
        comp = Compiler(names=set(inputs) | set(derive), records=records, functions=functions,
                        tables={n: t.columns.keys() for n, t in self.tables.items()})
        self._compiler = comp
        ctx = CompileContext(self.loc, doc, comp, self.methods)
        for name, spec in (doc.get("bands") or {}).items():
            b = self._bands(name, spec)
            if b is not None:
                ctx.bands[name] = b
            else:
                ctx.broken_bands.add(name)
        comp.functions.update(self._band_functions(ctx.bands))
        # derive, in dependency order
        derive_src: dict[str, tuple[str, frozenset[str]]] = {}
        path: tuple[Any, ...]
        for name, spec in derive.items():
            if isinstance(spec, dict):
                self._check_keys(spec, _schema.DERIVE, ("derive", name))
                text, path = spec.get("expr"), ("derive", name, "expr")
            else:
                text, path = spec, ("derive", name)
            if text is None:
                continue
            try:
                c = comp.compile(text)
            except ExprError as e:
                line, col = self.loc.where(path)
                self.problems.append(Problem(e.code, e.message, self.loc.file, line, col + (e.col if e.line == 1 else 0)))
                continue
            derive_src[name] = (c.source, c.names)
        order = self._derive_order(derive_src)
        # rules
        rules = doc["rules"]
        rule_lines: list[list[str]] = []
        rule_methods: list[Method] = []
        citations: list[Citation] = []
        seen: dict[str, int] = {}
        total = False
        emitted_all = True
        for i, rule in enumerate(rules):
            path = ("rules", i)
            if not isinstance(rule, dict):
                self.p(path, "wrong-type", "a rule must be a mapping")
                continue
            m = self.methods.get(rule.get("method", ""))
            if m is None:
                self.p((*path, "method"), "unknown-method", f"unknown method {rule.get('method')!r}; known: "
                       f"{', '.join(sorted(self.methods))}")
                rule_methods.append(self.methods["direct"])
                citations.append(Citation(source="?"))
                rule_lines.append([f"r_{i} = 0", f"d_{i} = None"])
                emitted_all = False
                continue
            rule_problems = _schema.check(rule, {**_COMMON_RULE_KEYS, **m.schema}, self.loc, path)
            self.problems += rule_problems
            rid = rule.get("id")
            if isinstance(rid, str):
                if rid in seen:
                    self.p((*path, "id"), "duplicate-id", f"rule id {rid!r} is used twice")
                seen[rid] = i
            total = total or m.total
            if rule_problems:
                rule_methods.append(m)
                citations.append(Citation(source="?"))
                rule_lines.append([])
                emitted_all = False
                continue
            cite = self._citation(rule["cite"], (*path, "cite"))
            if rule.get("unverified") and cite.status == "verified":
                # a rule that rests on an unverified fact says so wherever it is cited
                cite = attrs.evolve(cite, status="unverified")
            citations.append(cite)
            ctx._rule_pos[i] = i
            lines, _outs = m.emit(rule, i, ctx)
            rule_methods.append(m)
            if not any(ln.lstrip().startswith(f"d_{i} =") for ln in lines):
                lines = [*lines, f"d_{i} = None"]
            rule_lines.append(lines)
            total = total or m.total
            for crit_i, crit in enumerate(rule.get("criteria") or ()):
                if "cite" in crit:
                    self._citation(crit["cite"], (*path, "criteria", crit_i, "cite"))
        self.problems += ctx.problems
        otherwise = doc.get("otherwise")
        oth_cite = None
        if otherwise is not None:
            oth_cite = self._citation(otherwise["cite"], ("otherwise", "cite"))
        elif not total and emitted_all:
            self.p(("rules",), "no-default-level",
                   "no rule gives a level for every input (lec, ls, score); add 'otherwise:' with a level "
                   "and a citation so that no input falls through silently")
        score_name = doc.get("score")
        outputs = list(ctx.outputs)
        value_names = [n for n in order] + outputs
        if score_name is not None and score_name not in value_names and emitted_all:
            self.p(("score",), "unknown-name", f"score {score_name!r} is not a derived value or method output")
        if score_name is None:
            for i, rule in enumerate(rules):
                if isinstance(rule, dict) and i < len(rule_methods) and rule_methods[i].total:
                    score_name = rule.get("as", {"lec": "D", "ls": "R"}.get(rule.get("method", "")))
                    break
        tiers = self._control_tiers(doc.get("control_tiers"))
        sections: dict[str, Any] = {}
        from riskgrade._compile.sections import compile_section, registered

        for sec in registered():
            if doc.get(sec) is not None:
                compiled, probs = compile_section(sec, doc[sec], self.loc, (sec,), ctx)
                self.problems += probs
                sections[sec] = compiled
        self._check_cases(doc.get("cases") or [], inputs)
        if self.problems:
            raise RulesetError(self.problems)
        # generate the grading function
        src, ns = self._generate(inputs, order, derive_src, rule_lines, len(rules), value_names,
                                 score_name, otherwise, comp)
        code = compile(src, f"<riskgrade ruleset {doc['id']}>", "exec")
        exec(code, ns)
        fingerprint = self._fingerprint()
        layer_names = tuple(getattr(layer, "name", str(layer)) for layer in self.layers)
        juris = doc["jurisdiction"]
        ref = RulesetRef(doc["id"], doc["version"], doc["edition"], juris, fingerprint, layer_names)
        title = doc["title"] if isinstance(doc["title"], dict) else {"zh": doc["title"], "en": doc["title"]}
        kw = dict(
            id=doc["id"], version=doc["version"], edition=doc["edition"], sector=doc["sector"],
            jurisdiction=juris, title=title, effective=doc["effective"], fingerprint=fingerprint,
            file=self.loc.file, ref=ref, sources=sources, inputs=inputs, tables=self.tables, bands=ctx.bands,
            rules=tuple(rules), cases=tuple(doc.get("cases") or ()), control_tiers=tiers, doc=doc,
            layers=self.layers, _sections=sections, _fn=ns["grade"], _value_names=tuple(value_names),
            _input_names=tuple(inputs), _citations=tuple(citations), _methods=tuple(rule_methods),
            _source_code=src, _otherwise_citation=oth_cite,
            _slices=_slices(len(value_names), len(inputs), len(rules)),
        )
        # the generated function is the grading entry point itself: no wrapper call per grade
        kw["grade"] = ns["grade"]
        ruleset = Ruleset(**kw)
        ns["_RS"] = ruleset  # the generated function builds Assessments that point back at their ruleset
        return ruleset

    # -- pieces ---------------------------------------------------------------------------------
    def _check_keys(self, spec: Mapping[str, Any], schema: Mapping[str, Any], path: tuple[Any, ...]) -> None:
        self.problems += _schema.check(dict(spec), schema, self.loc, path)

    def _check_inputs(self, inputs: Mapping[str, Any]) -> None:
        for name, spec in inputs.items():
            self._check_field(spec, ("inputs", name), top=True)

    def _check_field(self, spec: Mapping[str, Any], path: tuple[Any, ...], top: bool) -> None:
        t = spec["type"]
        if t == "list":
            if not top and "fields" in spec:
                self.p((*path, "type"), "bad-value", "a record field cannot itself be a list of records")
            if "fields" not in spec and "items" not in spec:
                self.p(path, "missing-key", "a list input needs 'fields' (its records' fields)")
            for fname, fspec in (spec.get("fields") or {}).items():
                self._check_field(fspec, (*path, "fields", fname), top=False)
        elif "fields" in spec:
            self.p((*path, "fields"), "unknown-key", "'fields' is only for inputs of type list", key=True)
        if "derive" in spec and not (t == "list" and "fields" in spec):
            self.p((*path, "derive"), "unknown-key", "'derive' is only for list inputs with fields", key=True)
        if t == "enum" and not spec.get("values"):
            self.p(path, "missing-key", "an enum input needs 'values'")
        vals = spec.get("values")
        if vals is not None:
            items = list(vals.keys() if isinstance(vals, dict) else vals)
            bad = [v for v in items
                   if not isinstance(v, (str, int, float)) or (isinstance(v, float) and not math.isfinite(v))]
            if bad:
                self.p((*path, "values"), "bad-value", f"allowed values must be numbers or text, not {bad[0]!r}")
            elif len({type(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else float for v in items}) > 1:
                self.p((*path, "values"), "bad-value", "allowed values must all be numbers or all be text")
        if "default" in spec and spec.get("required") is True:
            self.p((*path, "default"), "conflicting-keys", "an input with a default cannot be required", key=True)
        if "default" in spec:
            try:
                _check_value(spec, spec["default"], "default", self._allowed(spec))
            except FactError as e:
                self.p((*path, "default"), "bad-default", e.message)
        lo, hi = spec.get("min"), spec.get("max")
        if lo is not None and hi is not None and lo > hi:
            self.p((*path, "min"), "bad-range", f"min {lo} is above max {hi}")

    def _record_deriver(self, name: str, spec: Mapping[str, Any],
                        functions: Mapping[str, Function]) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
        """Compile the per-record ``derive`` of list input ``name`` into one function over the records."""
        fields = list((spec.get("fields") or {}).keys())
        comp = Compiler(names=set(fields), functions=functions,
                        tables={n: t.columns.keys() for n, t in self.tables.items()})
        lines = ["def derive_records(records):", "    for i_, rec in enumerate(records):", "        at_ = None",
                 "        try:"]
        lines += [f"            v_{f} = rec[{f!r}]" for f in fields]
        for dname, text in spec["derive"].items():
            path = ("inputs", name, "derive", dname)
            if dname in fields:
                self.p(path, "duplicate-name", f"{dname!r} is already a field of {name!r}", key=True)
                continue
            try:
                c = comp.compile(text)
            except ExprError as e:
                line, col = self.loc.where(path)
                self.problems.append(Problem(e.code, e.message, self.loc.file, line,
                                             col + (e.col if e.line == 1 else 0)))
                continue
            comp.names.add(dname)
            lines += [f"            at_ = {dname!r}", f"            v_{dname} = {c.source}",
                      f"            rec[{dname!r}] = v_{dname}"]
        lines += [
            "        except _FE as e:",
            f"            raise _FE(e.message, field=f'{name}[{{i_}}].{{at_}}', code=e.code, value=e.value) from None",
            "        except Exception as e:",
            f"            raise _fail(f'{name}[{{i_}}].{{at_}}', e) from None",
            "    return records",
        ]
        ns = comp.namespace()
        ns.update({"_FE": FactError, "_fail": _fail})
        exec("\n".join(lines), ns)  # generated from checked expression trees only
        fn: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = ns["derive_records"]
        return fn

    def _allowed(self, spec: Mapping[str, Any]) -> frozenset[Any] | None:
        vals = spec.get("values")
        if vals is not None:
            return frozenset(vals.keys() if isinstance(vals, dict) else vals)
        if spec.get("table") and spec["table"] in self.tables:
            return frozenset(self.tables[spec["table"]].index)
        return None

    def _check_source_refs(self, sources: Mapping[str, Any]) -> None:
        doc = self.doc
        for sect in ("tables", "bands"):
            for name, spec in (doc.get(sect) or {}).items():
                s = spec.get("source")
                if s is not None and s not in sources:
                    self.p((sect, name, "source"), "unknown-source", f"no source named {s!r}")

    def _citation(self, cite: Mapping[str, Any], path: tuple[Any, ...]) -> Citation:
        sid = cite.get("source")
        src = self.doc["sources"].get(sid)
        if src is None:
            self.p((*path, "source"), "unknown-source", f"no source named {sid!r}; defined: "
                   f"{', '.join(sorted(self.doc['sources']))}")
            return Citation(source=str(sid))
        title = src.get("title")
        return Citation(source=str(sid), title=_label(title, "zh") if isinstance(title, dict) else str(title or ""),
                        number=str(src.get("number", "")), clause=str(cite.get("clause", src.get("clause", ""))),
                        basis=cite.get("basis", "clause"), status=src.get("status", "verified"),
                        layer=str(cite.get("layer", "")))

    def _table(self, name: str, spec: Mapping[str, Any]) -> Table | None:
        path = ("tables", name)
        cols = spec["columns"]
        keys = spec["key"] if isinstance(spec["key"], list) else [spec["key"]]
        for k in keys:
            if k not in cols:
                self.p((*path, "key"), "unknown-column", f"key column {k!r} is not among the columns")
                return None
        rows: list[dict[str, Any]] = []
        if "csv" in spec:
            fpath = os.path.join(self.base_dir, spec["csv"])
            if os.path.isabs(spec["csv"]) or ".." in spec["csv"].replace("\\", "/").split("/"):
                self.p((*path, "csv"), "bad-path", "a table CSV must sit beside the ruleset (no absolute or .. paths)")
                return None
            try:
                with open(fpath, encoding="utf-8", newline="") as fh:
                    reader = csv.DictReader(fh)
                    header = reader.fieldnames or []
                    missing = [c for c in cols if c not in header]
                    if missing:
                        self.p((*path, "csv"), "csv-columns", f"{spec['csv']}: missing columns {missing}")
                        return None
                    for lineno, row in enumerate(reader, start=2):
                        conv = self._convert_row(row, cols, f"{spec['csv']}:{lineno}", (*path, "csv"))
                        if conv is not None:
                            rows.append(conv)
            except OSError as e:
                self.p((*path, "csv"), "csv-missing", f"cannot read {spec['csv']}: {e.strerror}")
                return None
            except (UnicodeDecodeError, csv.Error) as e:
                self.p((*path, "csv"), "csv-invalid", f"{spec['csv']}: {e}")
                return None
        else:
            for j, row in enumerate(spec.get("rows") or []):
                extra = [c for c in row if c not in cols]
                if extra:
                    self.p((*path, "rows", j, extra[0]), "unknown-column", f"column {extra[0]!r} is not declared",
                           key=True)
                conv = self._convert_row(row, cols, None, (*path, "rows", j))
                if conv is not None:
                    rows.append(conv)
        index: dict[Any, Mapping[str, Any]] = {}
        alias_col = spec.get("aliases", {}).get("column") if isinstance(spec.get("aliases"), dict) else None
        for r in rows:
            for k in keys:
                kv = r.get(k)
                if kv in (None, ""):
                    continue
                if kv in index and index[kv] is not r:
                    self.p((*path, "key"), "duplicate-key", f"key {kv!r} appears in two rows of table {name!r}")
                index[kv] = r
        if alias_col:
            if alias_col not in cols:
                self.p((*path, "aliases"), "unknown-column", f"alias column {alias_col!r} is not declared")
            for r in rows:
                for a in str(r.get(alias_col) or "").split(";"):
                    a = a.strip()
                    if a and a not in index:
                        index[a] = r
        return Table(name, tuple(keys), dict(cols), tuple(rows), index)

    def _convert_row(self, row: Mapping[str, Any], cols: Mapping[str, str], where: str | None,
                     path: tuple[Any, ...]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for c, typ in cols.items():
            v = row.get(c)
            if isinstance(v, str) and where is not None:
                v = v.strip()
                if v == "":
                    v = None
                elif typ in ("number", "integer"):
                    try:
                        f = float(v)
                        v = int(f) if (typ == "integer" or (f.is_integer() and "." not in v)) else f
                    except ValueError:
                        self.p(path, "csv-value", f"{where}: column {c!r} must be a number, got {v!r}")
                        return None
                elif typ == "bool":
                    v = v.lower() in ("1", "true", "yes", "是")
            elif v is not None:
                ok = {"number": _NUM, "integer": (int,), "string": (str,), "bool": (bool,)}[typ]
                if (isinstance(v, bool) and typ != "bool") or not isinstance(v, ok):
                    self.p(path, "wrong-type", f"column {c!r} must be {typ}, got {v!r}")
                    return None
            out[c] = v
        return out

    def _table_functions(self) -> dict[str, Function]:
        tables = self.tables

        def lookup(table: str, key: Any, column: str, *default: Any) -> Any:
            row = tables[table].index.get(key)
            if row is None:
                if default:
                    return default[0]
                raise FactError(f"{key!r} is not in table {table!r}", code="not-in-table", value=key)
            return row[column]

        def has(table: str, key: Any) -> bool:
            return key in tables[table].index

        def static(args: list[Any], comp: Compiler) -> str | None:
            import ast

            a0 = args[0] if args else None
            if not (isinstance(a0, ast.Constant) and isinstance(a0.value, str)):
                return "the table name must be a literal, e.g. lookup('lec_L', L, 'zh')"
            if a0.value not in tables:
                return f"no table named {a0.value!r}"
            if len(args) >= 3:
                a2 = args[2]
                if not (isinstance(a2, ast.Constant) and isinstance(a2.value, str)):
                    return "the column name must be a literal"
                if a2.value not in tables[a0.value].columns:
                    return f"table {a0.value!r} has no column {a2.value!r}"
            return None

        return {
            "lookup": Function("lookup", lookup, (3, 4), "lookup(table, key, column[, default])", static),
            "has": Function("has", has, (2, 2), "has(table, key): the key is in the table", static),
        }

    def _bands(self, name: str, spec: Mapping[str, Any]) -> Bands | None:
        path = ("bands", name)
        rows = spec["rows"]
        ok = True
        for j, r in enumerate(rows):
            if ("level" in r) == ("value" in r):
                self.p((*path, "rows", j), "band-output", "a band row needs exactly one of 'level' or 'value'")
                ok = False
            if "level" in r:
                try:
                    Level.parse(r["level"])
                except ValueError as e:
                    self.p((*path, "rows", j, "level"), "bad-level", str(e))
                    ok = False
            lo, hi = r.get("from"), r.get("to")
            if lo is not None and hi is not None and lo >= hi:
                self.p((*path, "rows", j), "empty-band", f"band from {lo} to {hi} is empty")
                ok = False
        if not ok:
            return None
        # completeness: sort by lower bound; the first starts at -inf, each starts where the last ended
        order = sorted(range(len(rows)), key=lambda j: (-_INF if rows[j].get("from") is None else rows[j]["from"]))
        prev_hi: float | None = None
        for n, j in enumerate(order):
            r = rows[j]
            lo = r.get("from")
            if n == 0:
                if lo is not None:
                    self.p((*path, "rows", j, "from"), "band-gap",
                           f"values up to {lo} fall in no band (the lowest band must have no 'from')")
                    ok = False
            else:
                if prev_hi is None:
                    self.p((*path, "rows", j), "band-overlap", "this band overlaps an unbounded band before it")
                    ok = False
                elif lo is None or lo < prev_hi:
                    self.p((*path, "rows", j, "from"), "band-overlap",
                           f"band starts at {lo if lo is not None else '-inf'} but the previous band runs to {prev_hi}")
                    ok = False
                elif lo > prev_hi:
                    self.p((*path, "rows", j, "from"), "band-gap",
                           f"values between {prev_hi} and {lo} fall in no band")
                    ok = False
            prev_hi = r.get("to")
            if prev_hi is None and n != len(order) - 1:
                pass  # reported as overlap on the next band
        last = rows[order[-1]]
        if last.get("to") is not None:
            self.p((*path, "rows", order[-1], "to"), "band-gap",
                   f"values above {last['to']} fall in no band (the highest band must have no 'to')")
            ok = False
        if not ok:
            return None
        bands = Bands(name, spec["closed"], tuple(rows), lambda x: 0)
        # band('name', x) in expressions runs the same comparisons as the inlined grading code
        lines = ["def band_fn(x):", *("    " + ln for ln in bands.inline("x", "d", "r")), "    return d"]
        ns: dict[str, Any] = {"FactError": FactError, "_INF": _INF}
        exec("\n".join(lines), ns)
        return attrs.evolve(bands, fn=ns["band_fn"])

    def _band_functions(self, bands: Mapping[str, Bands]) -> dict[str, Function]:
        def band(name: str, x: Any) -> Any:
            b = bands[name]
            r = b.rows[b.fn(x)]
            return Level.parse(r["level"]) if "level" in r else r["value"]

        def static(args: list[Any], comp: Compiler) -> str | None:
            import ast

            a0 = args[0]
            if not (isinstance(a0, ast.Constant) and isinstance(a0.value, str)):
                return "the bands name must be a literal, e.g. band('lec_D', D)"
            if a0.value not in bands:
                return f"no bands named {a0.value!r}"
            return None

        return {"band": Function("band", band, (2, 2), "band(bands, x): the level or value of x's band", static)}

    def _derive_order(self, derive_src: Mapping[str, tuple[str, frozenset[str]]]) -> list[str]:
        import graphlib

        graph = {n: {d for d in deps if d in derive_src} for n, (_, deps) in derive_src.items()}
        try:
            return list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as e:
            cyc = list(e.args[1])
            self.p(("derive", cyc[0]), "derive-cycle", "derived values depend on each other: " + " -> ".join(cyc),
                   key=True)
            return list(derive_src)

    def _control_tiers(self, spec: Any) -> dict[Level, str]:
        default = {Level.RED: "company", Level.ORANGE: "company", Level.YELLOW: "department", Level.BLUE: "team"}
        if spec is None:
            return default
        out = dict(default)
        allowed = ("company", "department", "team", "post")
        for k, v in spec.items():
            try:
                lv = Level.parse(k)
            except ValueError as e:
                self.p(("control_tiers", k), "bad-level", str(e), key=True)
                continue
            if v not in allowed:
                self.p(("control_tiers", k), "bad-value", f"control tier {v!r}; allowed: {', '.join(allowed)}")
                continue
            out[lv] = v
        return out

    def _check_cases(self, cases: list[Any], inputs: Mapping[str, Any]) -> None:
        for i, c in enumerate(cases):
            want = c.get("want") or {}
            if "level" in want and want["level"] is not None:
                try:
                    Level.parse(want["level"])
                except ValueError as e:
                    self.p(("cases", i, "want", "level"), "bad-level", str(e))
            if "want" not in c and "want_error" not in c:
                self.p(("cases", i), "missing-key", "a case needs 'want' or 'want_error'")

    def _generate(self, inputs: Mapping[str, Any], order: list[str],
                  derive_src: Mapping[str, tuple[str, frozenset[str]]], rule_lines: list[list[str]], nrules: int,
                  value_names: list[str], score_name: str | None, otherwise: Mapping[str, Any] | None,
                  comp: Compiler) -> tuple[str, dict[str, Any]]:
        ns: dict[str, Any] = {}
        ns.update({"FactError": FactError, "_LEVELS": (None, *Level), "_NUM": _NUM, "_INF": _INF,
                   "_bad": _bad, "_missing": _missing, "_extra": _extra, "_fail": _fail, "_FE": FactError,
                   "_new": tuple.__new__, "_A": Assessment, "_not_mapping": _not_mapping,
                   "_nonfinite": _nonfinite})
        L: list[str] = ["def grade(facts):"]
        required = [n for n, s in inputs.items() if "default" not in s and s.get("required", True)]
        optional = [n for n in inputs if n not in required]
        if required:
            L.append("    try:")
            for n in required:
                L.append(f"        v_{n} = facts[{n!r}]")
            L.append("    except KeyError as e:")
            L.append("        raise _missing(e.args[0]) from None")
            L.append("    except TypeError:")
            L.append("        raise _not_mapping(facts) from None")
        else:
            L.append("    if not hasattr(facts, 'keys'): raise _not_mapping(facts)")
        L.append(f"    n_ = {len(required)}")
        for n in optional:
            spec = inputs[n]
            dflt = spec.get("default")
            L.append(f"    if {n!r} in facts:")
            L.append(f"        v_{n} = facts[{n!r}]; n_ += 1")
            L.append("    else:")
            if "default" in spec:
                L.append(f"        v_{n} = {comp.const(_freeze(dflt))}")
            else:
                L.append(f"        v_{n} = None")
        extra_policy = self.doc.get("extra_facts", "reject")
        if extra_policy == "reject":
            L.append("    if len(facts) != n_:")
            L.append(f"        _extra(facts, {comp.const(frozenset(inputs))})")
        for n, spec in inputs.items():
            L += ["    " + ln for ln in self._emit_check(n, spec, comp, optional=n in optional and "default" not in spec)]
            deriver = self._record_derivers.get(n)
            if deriver is not None:
                L.append(f"    if v_{n} is not None: v_{n} = {comp.const(deriver)}(v_{n})")
        L.append("    at_ = None")
        L.append("    try:")
        for n in order:
            L.append(f"        at_ = {n!r}")
            L.append(f"        v_{n} = {derive_src[n][0]}")
            L.append(f"        if v_{n}.__class__ is float and not (-_INF < v_{n} < _INF): _nonfinite(v_{n})")
        for i, rule in enumerate(self.doc["rules"]):
            L.append(f"        at_ = {rule['id']!r}")
            L += ["        " + ln for ln in rule_lines[i]]
        L.append("    except _FE as e:")
        L.append("        raise _FE(e.message, field=e.field or at_, code=e.code, value=e.value) from None")
        L.append("    except Exception as e:  # any other failure of a formula is reported, never leaked")
        L.append("        raise _fail(at_, e) from None")
        rs = ", ".join(f"r_{i}" for i in range(nrules))
        ds = ", ".join(f"d_{i}" for i in range(nrules))
        L.append(f"    lv_ = {'r_0' if nrules == 1 else f'max(({rs},))'}")
        if otherwise is not None:
            L.append(f"    if not lv_: lv_ = {int(Level[otherwise['level']])}")
        vals = "".join(f"v_{n}, " for n in value_names)
        ins = "".join(f"v_{n}, " for n in inputs)
        score = f"v_{score_name}" if score_name else "None"
        # one flat tuple: (ruleset, level, score, *values, *inputs, *rule levels, *rule details)
        L.append(f"    return _new(_A, (_RS, _LEVELS[lv_], {score}, {vals}{ins}{rs}, {ds},))")
        ns.update(comp.namespace())
        return "\n".join(L) + "\n", ns

    def _emit_check(self, n: str, spec: Mapping[str, Any], comp: Compiler, optional: bool) -> list[str]:
        t = spec["type"]
        v = f"v_{n}"
        out: list[str] = []
        guard = f"if {v} is not None and " if optional else "if "
        allowed = self._allowed(spec)
        slow = comp.const(_slow_check(n, spec, allowed))
        if t in ("number", "integer") and allowed is not None and not any(isinstance(a, bool) for a in allowed):
            # fast path: membership in the published scale; anything else (wrong type, bool, off-scale)
            # goes through the full check, which raises the precise error
            cls = "_NUM" if t == "number" else comp.const((int,))
            out.append(f"{guard}({v} not in {comp.const(allowed)} or {v}.__class__ not in {cls}):")
            out.append(f"    {v} = {slow}({v})")
        elif t in ("number", "integer"):
            cls = "_NUM" if t == "number" else comp.const((int,))
            lo = spec.get("min", -_INF)
            hi = spec.get("max", _INF)
            lo_s = comp.const(float(lo)) if lo == -_INF else repr(lo)
            hi_s = comp.const(float(hi)) if hi == _INF else repr(hi)
            out.append(f"{guard}({v}.__class__ not in {cls} or not ({lo_s} <= {v} <= {hi_s}) "
                       f"or {v} in (_INF, -_INF)):")
            out.append(f"    {v} = {slow}({v})")
        else:
            out.append(f"{guard}True:")
            out.append(f"    {v} = {slow}({v})")
        return out

    def _fingerprint(self) -> str:
        data = {k: v for k, v in self.doc.items() if k != "cases"}
        data["__tables__"] = {n: [dict(r) for r in t.rows] for n, t in sorted(self.tables.items())}
        data["__layers__"] = [getattr(layer, "fingerprint", str(layer)) for layer in self.layers]
        blob = json.dumps(_canon(data), sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def _canon(v: Any) -> Any:
    """Data with text keys only (so mixed or date keys can be sorted), for fingerprints."""
    if isinstance(v, dict):
        return {f"{type(k).__name__}:{k}": _canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


# -- runtime helpers used by generated code -----------------------------------------------------
def _missing(name: str) -> FactError:
    return FactError("required fact is missing (and has no default)", field=name, code="missing-fact")


def _slices(nv: int, ni: int, nr: int) -> tuple[slice, slice, slice, slice]:
    a = 3
    return (slice(a, a + nv), slice(a + nv, a + nv + ni), slice(a + nv + ni, a + nv + ni + nr),
            slice(a + nv + ni + nr, a + nv + ni + 2 * nr))


def _sort_key(a: Any) -> tuple[int, Any]:
    """Numbers in numeric order, then text (a mixed set must not make sorting fail)."""
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return (0, a)
    return (1, str(a))


def _nonfinite(value: float) -> None:
    raise FactError(f"the result {value!r} is not a finite number (overflow?)", code="not-finite", value=value)


def _not_mapping(facts: Any) -> FactError:
    if isinstance(facts, Mapping):  # a mapping whose lookup raised TypeError: unhashable key, etc.
        return FactError("facts mapping cannot be read", code="not-a-mapping")
    return FactError(f"facts must be a mapping, not {type(facts).__name__}", code="not-a-mapping")


def _extra(facts: Mapping[str, Any], known: frozenset[str]) -> None:
    extra = sorted(str(k) for k in facts if k not in known and k not in _META_KEYS and not str(k).startswith("_"))
    if extra:
        raise FactError(f"unknown fact {extra[0]!r} (not an input of this ruleset)", field=extra[0],
                        code="unknown-fact")


def _bad(name: str, value: Any, allowed: list[Any] | None, lo: Any = None, hi: Any = None) -> None:
    if allowed is not None:
        shown = ", ".join(_n(a) for a in sorted(allowed, key=_sort_key))
        raise FactError(f"{value!r} is not an allowed value; allowed: {shown}",
                        field=name, code="not-allowed", value=value)
    if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
        raise FactError(f"{value!r} is not a finite number", field=name, code="not-finite", value=value)
    raise FactError(f"{value!r} is out of range [{_n(lo)}, {_n(hi)}]", field=name, code="out-of-range", value=value)


def _fail(at: str | None, e: Exception) -> FactError:
    return FactError(f"cannot compute: {type(e).__name__}: {e}", field=at, code="eval-error")


def _slow_check(name: str, spec: Mapping[str, Any], allowed: frozenset[Any] | None) -> Callable[[Any], Any]:
    """A checker for one input value (types other than the fast numeric path)."""

    def check(value: Any) -> Any:
        return _check_value(spec, value, name, allowed)

    return check


def _check_value(spec: Mapping[str, Any], value: Any, name: str, allowed: frozenset[Any] | None = None) -> Any:
    t = spec["type"]
    if value is None:
        raise FactError("value is null", field=name, code="wrong-type")
    if t in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int if t == "integer" else _NUM):
            raise FactError(f"must be {'an integer' if t == 'integer' else 'a number'}, got {value!r}",
                            field=name, code="wrong-type", value=value)
        if isinstance(value, float) and not math.isfinite(value):
            raise FactError(f"{value!r} is not a finite number", field=name, code="not-finite", value=value)
        if allowed is not None and value not in allowed:
            _bad(name, value, sorted(allowed))
        lo, hi = spec.get("min"), spec.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            _bad(name, value, None, lo if lo is not None else -_INF, hi if hi is not None else _INF)
        return value
    if t == "bool":
        if not isinstance(value, bool):
            raise FactError(f"must be true or false, got {value!r}", field=name, code="wrong-type", value=value)
        return value
    if t in ("string", "enum"):
        if t == "string" and not isinstance(value, str):
            raise FactError(f"must be text, got {value!r}", field=name, code="wrong-type", value=value)
        if isinstance(value, (list, dict, bool)):
            raise FactError(f"must be a single number or text, got {value!r}", field=name, code="wrong-type",
                            value=value)
        if allowed is not None and value not in allowed:
            _bad(name, value, sorted(allowed, key=str))
        return value
    if t == "date":
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        raise FactError(f"must be a date YYYY-MM-DD, got {value!r}", field=name, code="wrong-type", value=value)
    if t == "list":
        if not isinstance(value, (list, tuple)):
            raise FactError(f"must be a list, got {type(value).__name__}", field=name, code="wrong-type")
        if "min_items" in spec and len(value) < spec["min_items"]:
            raise FactError(f"needs at least {spec['min_items']} items", field=name, code="too-few")
        if "max_items" in spec and len(value) > spec["max_items"]:
            raise FactError(f"takes at most {spec['max_items']} items", field=name, code="too-many")
        fields = spec.get("fields")
        if fields is None:
            item_spec = {"type": spec.get("items", "string")}
            return [_check_value(item_spec, x, f"{name}[{i}]") for i, x in enumerate(value)]
        out = []
        for i, rec in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(rec, Mapping):
                raise FactError(f"must be a record (mapping), got {type(rec).__name__}", field=where,
                                code="wrong-type")
            unknown = [k for k in rec if k not in fields and not str(k).startswith("_")]
            if unknown:
                raise FactError(f"unknown field {unknown[0]!r}", field=f"{where}.{unknown[0]}", code="unknown-fact")
            r: dict[str, Any] = {}
            for fname, fspec in fields.items():
                fwhere = f"{where}.{fname}"
                if fname in rec and rec[fname] is not None:
                    fa = fspec.get("values")
                    fallowed = frozenset(fa.keys() if isinstance(fa, dict) else fa) if fa is not None else None
                    r[fname] = _check_value(fspec, rec[fname], fwhere, fallowed)
                elif "default" in fspec:
                    r[fname] = fspec["default"]
                elif fspec.get("required", True):
                    raise FactError("required field is missing", field=fwhere, code="missing-fact")
                else:
                    r[fname] = None
            out.append(r)
        return out
    raise FactError(f"unsupported input type {t}", field=name, code="wrong-type")


def canonical(a: Assessment) -> str:
    """Canonical JSON of an assessment (used by tests and the CLI)."""
    return dumps(a.to_dict())
