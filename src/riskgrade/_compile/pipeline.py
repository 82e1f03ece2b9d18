"""The ruleset compiler: a named, ordered list of stages (:data:`STAGES`).

``load`` (bytes → located tree, :mod:`riskgrade._source.yaml`) happens before; then

1. **validate** -- the cerberus schema of the format (:mod:`riskgrade._validate.schema`);
1a. **include** -- tables, bands and matrices from scale libraries (:mod:`riskgrade._compile.library`);
1b. **link** -- other rulesets' results for the same subject (:mod:`riskgrade._compile.links`);
1c. **tables** -- the rows of tables kept in CSV, read into the document (so that layers reach them);
1d. **screening** -- ``kind: screening`` only: decisions as levels (:mod:`riskgrade._compile.screening`);
2. **layer** -- jurisdiction layers, stricter only (:mod:`riskgrade._compile.layers`);
3. **resolve** -- inputs, sources, tables (inline or CSV), bands (proven gap- and overlap-free);
4. **compile** -- expressions to Python (:mod:`riskgrade._compile.expr`), derive order, each rule
   through its declared method (:mod:`riskgrade._compile.extension`);
5. **check** -- citations resolve, a level for every input, optional sections, cases;
6. **generate** -- one grading function's source, each line mapped back to its YAML rule.

Each stage records located problems; :func:`run` stops after the stage that found any (or at
``until``) and raises one :class:`~riskgrade.exceptions.RulesetError` listing them, sorted by
location, at most ``Options.error_limit``. The result is an :class:`Artefact`, which
:mod:`riskgrade._grade.ruleset` turns into a ``Ruleset``. This module is pure: no plugin
discovery, no file other than the ruleset's own CSV tables.
"""

from __future__ import annotations

import ast
import csv
import graphlib
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from riskgrade._compile import values
from riskgrade._compile.expr import Compiler, ExprError, Function
from riskgrade._compile.extension import CompileContext, Method
from riskgrade._compile.layers import apply_layers
from riskgrade._compile.library import apply_includes
from riskgrade._compile.links import LinkLoader, apply_links
from riskgrade._compile.lint import Lint, lint
from riskgrade._compile.methods import builtin_methods, emit_banded
from riskgrade._compile.screening import is_screening, prepare
from riskgrade._compile.sections import SectionCompiler
from riskgrade._compile.tables import Bands, Matrix, Table
from riskgrade._core.canonical import fingerprint
from riskgrade._core.canonical import fmt_number as _n
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._core.limits import Limits, get_limits
from riskgrade._core.provenance import RulesetRef
from riskgrade._core.spellings import CONTROL_TIERS, tier_cascade
from riskgrade._source.yaml import Located
from riskgrade._validate import schema as _schema
from riskgrade.exceptions import FactError, FunctionError, Problem, RulesetError

__all__ = ["STAGES", "STAGE_NAMES", "Artefact", "Options", "Stage", "Unit", "run"]

_INF = math.inf
_NUM = (int, float)


def _label(v: Any, lang: str = "en") -> str:
    if isinstance(v, dict):
        return str(v.get(lang) or v.get("en") or v.get("zh") or "")
    return "" if v is None else str(v)


# ----------------------------------------------------------------------------------------------
# compiled pieces
# ----------------------------------------------------------------------------------------------
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
    "allow": _schema.ALLOW,
}


@attrs.frozen
class Options:
    """What a compilation may use besides the document: layers, plugin methods and functions,
    the optional sections' compilers, and the error limit."""

    layers: tuple[Any, ...] = ()
    methods: Mapping[str, Method] = attrs.field(factory=dict)
    functions: Mapping[str, Function] = attrs.field(factory=dict)
    sections: Mapping[str, SectionCompiler] = attrs.field(factory=dict)
    #: stop after the stage that brings the number of problems to this limit
    error_limit: int = RulesetError.LIMIT
    #: the work an expression may cause, and the size of a fact (baked into the generated code)
    limits: Limits = attrs.field(factory=get_limits)
    #: compiles a linked ruleset (``links:``), given its file and the chain of (file, id) under way
    link_loader: LinkLoader | None = None
    link_chain: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Artefact:
    """The compiler's output: the generated grading source, the constants it refers to and what
    the compiled :class:`~riskgrade.Ruleset` knows about itself (``meta``)."""

    meta: Mapping[str, Any]
    source: str
    namespace: Mapping[str, Any]
    #: rule id or derived value name → (file, line) of its YAML, for errors raised while grading
    locations: Mapping[str, tuple[str, int]]
    #: generated line number → (file, line) of the YAML it was generated from
    line_map: Mapping[int, tuple[str, int]]
    sections: Mapping[str, Any]
    value_names: tuple[str, ...]
    input_names: tuple[str, ...]
    citations: tuple[Citation, ...]
    methods: tuple[Method, ...]
    otherwise_citation: Citation | None
    case_lines: tuple[int, ...]


@attrs.frozen
class Stage:
    """One named step of the compiler: ``run(unit)`` adds to the unit and records problems."""

    name: str
    run: Callable[[Unit], None]
    doc: str


def _reserved_keys(u: Unit) -> list[Problem]:
    """The keys only the layer stage writes (a layer's provenance): a ruleset file setting them would
    fake a jurisdiction layer, so they are an error (``reserved-key``) before layering runs."""
    doc = u.doc
    out: list[Problem] = []
    if not isinstance(doc, dict):
        return out
    if "layers" in doc:
        out.append(u.loc.problem(("layers",), "reserved-key", "'layers' records the jurisdiction layers applied; "
                                 "it is written when a ruleset is loaded for a jurisdiction, not in the file",
                                 key=True))
    for i, rule in enumerate(doc.get("rules") or () if isinstance(doc.get("rules"), list) else ()):
        cite = rule.get("cite") if isinstance(rule, dict) else None
        if isinstance(cite, dict) and "layer" in cite:
            out.append(u.loc.problem(("rules", i, "cite", "layer"), "reserved-key",
                                     "cite 'layer' names the jurisdiction layer that changed the rule; it is "
                                     "written by the layer, not in the ruleset", key=True))
    return out


def _top_schema(screening: bool, sections: tuple[str, ...]) -> dict[str, Any]:
    """The top-level schema with the optional sections: one dict per combination, so that the schema's
    validator is built once (:func:`riskgrade._validate.schema.check` keys its validators on the dict)."""
    key = (screening, sections)
    top = _TOPS.get(key)
    if top is None:
        base = _schema.SCREENING_TOP if screening else _schema.TOP
        top = _TOPS[key] = base | {k: {"nullable": True} for k in sections}
    return top


def _rule_schema(m: Method, screening: bool) -> dict[str, Any]:
    """The keys of a rule of method ``m``: one dict per method schema (held, so that its id stays its own)."""
    key = (id(m.schema), screening)
    hit = _RULE_SCHEMAS.get(key)
    if hit is None or hit[0] is not m.schema:
        if len(_RULE_SCHEMAS) >= 256:
            _RULE_SCHEMAS.clear()
        hit = _RULE_SCHEMAS[key] = (m.schema, {**_COMMON_RULE_KEYS, **m.schema,
                                               **(_schema.SCREENING_RULE if screening else {})})
    return hit[1]


_TOPS: dict[tuple[bool, tuple[str, ...]], dict[str, Any]] = {}
_RULE_SCHEMAS: dict[tuple[int, bool], tuple[Mapping[str, Any], dict[str, Any]]] = {}


def _stage_validate(u: Unit) -> None:
    top = _top_schema(is_screening(u.doc), tuple(sorted(u.options.sections)))
    reserved = _reserved_keys(u)
    doc = {k: v for k, v in u.doc.items() if k != "layers"} if reserved and isinstance(u.doc, dict) else u.doc
    u.problems += reserved + _schema.check(doc, top, u.loc)
    if not isinstance(u.doc, dict):
        u.stop = True
    elif u.problems:
        # later stages still run (so that their problems are reported together) when every schema
        # problem leaves the document's shape intact; otherwise they would only repeat them
        u.stop = u.options.layers != () or any(pr.code not in _SHAPE_KEEPING for pr in u.problems)


def _stage_include(u: Unit) -> None:
    if u.doc.get("include"):
        inc = apply_includes(u.loc, u.doc, u.base_dir)
        u.loc, u.doc = inc.located, inc.doc
        u.files += [f for f in inc.files if f not in u.files]
        u.table_dirs.update(inc.table_dirs)


def _stage_link(u: Unit) -> None:
    if u.doc.get("links"):
        lk = apply_links(u.loc, u.doc, u.base_dir, u.options.link_loader, u.options.link_chain)
        u.problems += lk.problems
        u.stop = u.stop or bool(lk.problems)
        u.loc, u.doc = lk.located, lk.doc
        u.files += [f for f in lk.files if f not in u.files]
        u.functions.update(lk.functions)
def _stage_tables(u: Unit) -> None:
    # CSV rows become rows of the document here, so that jurisdiction layers can tighten and extend
    # them (``table_values``, ``table_rows``); the CSV stays a source file of the ruleset and table
    for name, spec in (u.doc.get("tables") or {}).items():
        if isinstance(spec, dict) and "csv" in spec and "rows" not in spec:
            rows = u.read_csv(name, spec)
            if rows is not None:
                spec["rows"] = rows


def _stage_screening(u: Unit) -> None:
    found = prepare(u.loc, u.doc)
    u.problems += found
    u.stop = u.stop or bool(found)


def _stage_layer(u: Unit) -> None:
    if u.options.layers:
        u.loc, u.doc = apply_layers(u.loc, u.doc, u.options.layers, u.methods, u.functions)


#: schema problem codes after which the document still has the shape later stages rely on
_SHAPE_KEEPING = frozenset({"unknown-key", "reserved-key"})

#: the compiler, in order. ``load`` (bytes → located tree) is :func:`riskgrade._source.yaml.load_yaml`.
STAGES: tuple[Stage, ...] = (
    Stage("validate", _stage_validate, "the format's schema (cerberus), every problem located"),
    Stage("include", _stage_include, "tables, bands and matrices from scale libraries, located in their files"),
    Stage("link", _stage_link, "other rulesets' results for the same subject (links:), cycle-checked"),
    Stage("tables", _stage_tables, "the rows of tables kept in CSV, read into the document (layers may reach them)"),
    Stage("screening", _stage_screening, "kind: screening: decisions (reject, conditions, pass) as levels, "
          "per-item reasons checked"),
    Stage("layer", _stage_layer, "jurisdiction layers, stricter only (province → city → county)"),
    Stage("resolve", lambda u: u.resolve(), "inputs, sources, tables (inline or CSV), bands (gap- and overlap-free)"),
    Stage("compile", lambda u: u.compile(), "expressions to Python, derive order, each rule through its method"),
    Stage("check", lambda u: u.check(), "citations resolve, a level for every input, sections, cases"),
    Stage("generate", lambda u: u.generate(), "one grading function's source, mapped back to the YAML"),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


def run(located: Located, options: Options | None = None, *, until: str | None = None) -> Artefact | None:
    """Run the stages on ``located`` (up to and including ``until``).

    Raises :class:`RulesetError` with every problem found (sorted by location, at most
    ``options.error_limit``); returns the :class:`Artefact`, or None when stopped early by ``until``.
    """
    if until is not None and until not in STAGE_NAMES:
        raise ValueError(f"unknown stage {until!r}; stages: {', '.join(STAGE_NAMES)}")
    u = Unit(located, options or Options())
    for stage in STAGES:
        stage.run(u)
        if u.stop or len(u.problems) >= u.options.error_limit or stage.name == until:
            break
    if u.problems:
        raise RulesetError(u.problems[: u.options.error_limit], warnings=u.warnings)
    return u.artefact if until is None or until == "generate" else None


class Unit:
    """The compilation unit the stages work on: the document, what was built from it, the problems."""

    def __init__(self, located: Located, options: Options) -> None:
        self.loc = located
        self.doc: Any = located.data
        self.options = options
        self.methods = {**builtin_methods(), **options.methods}
        self.functions = dict(options.functions)
        self.layers = tuple(options.layers)
        self.problems: list[Problem] = []
        #: problems that do not stop a load (severity ``warning``): Ruleset.warnings
        self.warnings: list[Problem] = []
        self.stop = False
        self.tables: dict[str, Table] = {}
        self._record_derivers: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {}
        self.base_dir = os.path.dirname(os.path.abspath(located.file)) if located.file else os.getcwd()
        self.files: list[str] = [os.path.abspath(located.file)] if located.file else []
        #: the directory each included table's CSV path is relative to (default: the ruleset's)
        self.table_dirs: dict[str, str] = {}
        self.artefact: Artefact | None = None

    def p(self, path: tuple[Any, ...], code: str, msg: str, *, key: bool = False) -> None:
        self.problems.append(self.loc.problem(path, code, msg, key=key))

    def resolve(self) -> None:
        doc = self.doc
        sources = doc.setdefault("sources", {})
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
                        tables={n: t.columns.keys() for n, t in self.tables.items()},
                        bounds=self._bounds(inputs), limits=self.options.limits)
        self._compiler = comp
        ctx = CompileContext(self.loc, doc, comp, self.methods)
        for name, spec in (doc.get("bands") or {}).items():
            b = self._bands(name, spec)
            if b is not None:
                ctx.bands[name] = b
            else:
                ctx.broken_bands.add(name)
        comp.functions.update(self._band_functions(ctx.bands))
        for name, spec in (doc.get("matrices") or {}).items():
            mx = self._matrix(name, spec)
            if mx is not None:
                ctx.matrices[name] = mx
            else:
                ctx.broken_bands.add(name)
        self.ctx = ctx

    def compile(self) -> None:
        doc, comp, ctx = self.doc, self._compiler, self.ctx
        derive = doc.get("derive") or {}
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
            meth = rule.get("method", "")
            m = self.methods.get(meth) if isinstance(meth, str) else None
            if m is None:
                self.p((*path, "method"), "unknown-method", f"unknown method {rule.get('method')!r}; known: "
                       f"{', '.join(sorted(self.methods))}")
                rule_methods.append(self.methods["direct"])
                citations.append(Citation(source="?"))
                rule_lines.append([f"r_{i} = 0", f"d_{i} = None"])
                emitted_all = False
                continue
            keys = _rule_schema(m, is_screening(doc))
            rule_problems = _schema.check(rule, keys, self.loc, path)
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
            lines = m.emit(rule, i, ctx)[0] if m.emit is not None else self._emit_declared(m, rule, i)
            rule_methods.append(m)
            if not any(ln.lstrip().startswith(f"d_{i} =") for ln in lines):
                lines = [*lines, f"d_{i} = None"]
            rule_lines.append(lines)
            total = total or m.total
            for crit_i, crit in enumerate(rule.get("criteria") or ()):
                if "cite" in crit:
                    self._citation(crit["cite"], (*path, "criteria", crit_i, "cite"))
        self.problems += ctx.problems
        self.derive_src, self.order, self.rule_lines = derive_src, order, rule_lines
        self.rule_methods, self.citations, self.total, self.emitted_all = rule_methods, citations, total, emitted_all

    def check(self) -> None:
        doc, ctx, inputs = self.doc, self.ctx, self.doc["inputs"]
        rules, rule_methods, total, emitted_all = doc["rules"], self.rule_methods, self.total, self.emitted_all
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
        value_names = list(self.order) + outputs
        if score_name is not None and score_name not in value_names and emitted_all:
            self.p(("score",), "unknown-name", f"score {score_name!r} is not a derived value or method output")
        if score_name is None:
            for i, rule in enumerate(rules):
                if isinstance(rule, dict) and i < len(rule_methods) and rule_methods[i].total:
                    score_name = rule_methods[i].score_name(rule)
                    break
        tiers = self._control_tiers(doc.get("control_tiers"))
        sections: dict[str, Any] = {}
        for sec, section in sorted(self.options.sections.items()):
            if doc.get(sec) is not None:
                compiled, probs = section.compile(doc[sec], self.loc, (sec,), ctx)
                self.problems += probs
                sections[sec] = compiled
        self._check_cases(doc.get("cases") or [], inputs)
        self._lint(value_names)
        comp = doc.get("completeness")
        if comp and comp.get("in_standard") is not None and comp["encoded"] > comp["in_standard"]:
            self.p(("completeness", "encoded"), "bad-value",
                   f"{comp['encoded']} items encoded but the standard has {comp['in_standard']}")
        self.otherwise, self.oth_cite, self.score_name, self.value_names = otherwise, oth_cite, score_name, value_names
        self.tiers, self.sections = tiers, sections

    def _lint(self, value_names: list[str]) -> None:
        """The static proofs (:mod:`riskgrade._compile.lint`): monotone bands, types, cases; warnings."""
        for name, spec in (self.doc.get("bands") or {}).items():
            if isinstance(spec, dict) and isinstance(spec.get("falling"), dict) and isinstance(
                    spec["falling"].get("cite"), dict):
                self._citation(spec["falling"]["cite"], ("bands", name, "falling", "cite"))
            for j, row in enumerate(spec.get("rows") or () if isinstance(spec, dict) else ()):
                exc = row.get("exception") if isinstance(row, dict) else None
                if isinstance(exc, dict) and isinstance(exc.get("cite"), dict):
                    self._citation(exc["cite"], ("bands", name, "rows", j, "exception", "cite"))
        found = lint(Lint(self.loc, self.doc, self.ctx.bands, self.ctx.matrices, self.rule_methods, self._compiler,
                          self._allowed, value_names))
        self.problems += found.errors
        self.warnings += found.warnings

    def generate(self) -> None:
        if self.problems:
            return
        doc = self.doc
        inputs = doc["inputs"]
        rules = doc["rules"]
        src, ns, line_map, locations = self._generate(inputs, self.order, self.derive_src, self.rule_lines, len(rules),
                                                      self.value_names, self.score_name, self.otherwise,
                                                      self._compiler)
        for layer in self.layers:
            self.files += [f for f in getattr(layer, "files", ()) if f not in self.files]
        self.files += [f for t in self.tables.values() for f in t.files if f not in self.files]
        fingerprint = self._fingerprint()
        layer_names = tuple(getattr(layer, "name", str(layer)) for layer in self.layers)
        juris = doc["jurisdiction"]
        ref = RulesetRef(doc["id"], doc["version"], doc["edition"], juris, fingerprint, layer_names)
        title = doc["title"] if isinstance(doc["title"], dict) else {"zh": doc["title"], "en": doc["title"]}
        meta = dict(
            id=doc["id"], version=doc["version"], edition=doc["edition"], sector=doc["sector"],
            jurisdiction=juris, title=title, effective=doc["effective"], fingerprint=fingerprint,
            file=self.loc.file, ref=ref, sources=doc["sources"], inputs=inputs, tables=self.tables,
            bands=self.ctx.bands, matrices=self.ctx.matrices, rules=tuple(rules), cases=tuple(doc.get("cases") or ()),
            control_tiers=self.tiers, doc=doc, layers=self.layers, files=tuple(self.files),
            warnings=tuple(sorted(set(self.warnings), key=Problem.sort_key)),
        )
        case_lines = tuple(self.loc.where(("cases", i))[0] for i in range(len(doc.get("cases") or ())))
        self.artefact = Artefact(meta, src, ns, locations, line_map, self.sections, tuple(self.value_names),
                                 tuple(inputs), tuple(self.citations), tuple(self.rule_methods), self.oth_cite,
                                 case_lines)

    def _emit_declared(self, m: Method, rule: Mapping[str, Any], i: int) -> list[str]:
        """The code of a rule whose method is declared (a plugin's): its expressions compiled,
        its ``compute`` called with them, the score graded by the rule's bands."""
        ctx = self.ctx
        pos = ctx.rule_pos(i)
        args = [f"{k}={ctx.expr(text, ('rules', pos, k))}" for k, text, _ in m.expression_keys(rule)]
        for k in m.list_expressions:
            items = [ctx.expr(x, ("rules", pos, k, j)) for j, x in enumerate(rule.get(k) or ())]
            args.append(f"{k}=({''.join(s + ', ' for s in items)})")
        call = f"{ctx.compiler.const(m.compute)}({', '.join(args)})"
        if m.banded:
            outs = ctx.declare_outputs(m, rule, i)
            return emit_banded(i, ctx, rule["bands"], call, ("rules", pos, "bands"), outs[-1])
        if rule.get("level") not in Level.__members__:
            self.p(("rules", pos), "missing-key", f"method {m.name!r} without bands needs 'level:'")
            return [f"r_{i} = 0"]
        return [f"r_{i} = {int(Level[rule['level']])} if {call} else 0"]

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
                values.check_value(spec, spec["default"], "default", self._allowed(spec))
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
                        tables={n: t.columns.keys() for n, t in self.tables.items()},
                        bounds=self._bounds(spec.get("fields") or {}), limits=self.options.limits)
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
            "        except _FnE:",
            "            raise",
            "        except Exception as e:",
            f"            raise _fail(f'{name}[{{i_}}].{{at_}}', e) from None",
            "    return records",
        ]
        ns = comp.namespace()
        ns.update({"_FE": FactError, "_FnE": FunctionError, "_fail": values.fail})
        exec("\n".join(lines), ns)  # generated from checked expression trees only
        fn: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] = ns["derive_records"]
        return fn

    def _bounds(self, inputs: Mapping[str, Any]) -> dict[str, float]:
        """What the compiler may assume about each numeric input's size: the largest magnitude on its
        scale or in its range (inf when unbounded). Non-numeric inputs are absent (see expr.Compiler)."""
        out: dict[str, float] = {}
        for name, spec in inputs.items():
            if not isinstance(spec, Mapping):
                continue
            t = spec.get("type")
            if t == "bool":
                out[name] = 1.0
            elif t in ("number", "integer"):
                try:
                    allowed = self._allowed(spec)
                except TypeError:  # unhashable values: reported by the schema
                    allowed = None
                lo, hi = spec.get("min"), spec.get("max")
                if allowed and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in allowed):
                    out[name] = _magnitude(max(abs(v) for v in allowed))
                elif (isinstance(lo, (int, float)) and not isinstance(lo, bool)
                      and isinstance(hi, (int, float)) and not isinstance(hi, bool)):
                    out[name] = _magnitude(max(abs(lo), abs(hi)))
                else:
                    out[name] = _INF
                if not out[name] < 1e300:
                    out[name] = _INF
        return out

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
                        basis=cite.get("basis", "clause"), status=src.get("status", "unverified"),
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
        if "csv" in spec and "rows" not in spec:
            return None  # the tables stage could not read it, and said why
        if "csv" in spec:
            fpath = os.path.join(self.table_dirs.get(name, self.base_dir), spec["csv"])
            rows = list(spec["rows"])  # read and typed by the tables stage (layers may have changed them)
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
        files = (os.path.abspath(fpath),) if "csv" in spec else ()
        return Table(name, tuple(keys), dict(cols), tuple(rows), index, files)

    def read_csv(self, name: str, spec: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        """The typed rows of table ``name``'s CSV file (None, with a located problem, when unreadable)."""
        path = ("tables", name)
        cols = spec.get("columns") or {}
        rows: list[dict[str, Any]] = []
        fpath = os.path.join(self.table_dirs.get(name, self.base_dir), spec["csv"])
        if os.path.isabs(spec["csv"]) or ".." in spec["csv"].replace("\\", "/").split("/"):
            self.p((*path, "csv"), "bad-path", "a table CSV must sit beside the ruleset (no absolute or .. paths)")
            return None
        try:
            # utf-8-sig: the byte order mark Excel and WPS write at the start of a "CSV UTF-8" file is not a header
            with open(fpath, encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                header = reader.fieldnames or []
                missing = [c for c in cols if c not in header]
                if missing:
                    self.p((*path, "csv"), "csv-columns", f"{spec['csv']}: missing columns {missing}")
                    return None
                for row in reader:
                    lineno = reader.line_num  # where the row ends: a quoted cell may hold line breaks
                    if None in row or None in row.values():  # more cells than the header has, or fewer
                        more = len(row.get(None) or ())
                        self.p((*path, "csv"), "csv-value", f"{spec['csv']}:{lineno}: the row has "
                               + (f"{more} cell{'s' if more > 1 else ''} more than the header's {len(header)} columns"
                                  if more else f"fewer cells than the header's {len(header)} columns"))
                        return None
                    conv = self._convert_row(row, cols, f"{spec['csv']}:{lineno}", (*path, "csv"))
                    if conv is not None:
                        rows.append(conv)
        except OSError as e:
            self.p((*path, "csv"), "csv-missing", f"cannot read {spec['csv']}: {e.strerror}")
            return None
        except (UnicodeDecodeError, csv.Error) as e:
            self.p((*path, "csv"), "csv-invalid", f"{spec['csv']}: {e}")
            return None
        return rows

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
                        if not math.isfinite(f):
                            raise ValueError(v)
                        v = int(f) if (typ == "integer" or (f.is_integer() and "." not in v)) else f
                    except ValueError:
                        self.p(path, "csv-value", f"{where}: column {c!r} must be a finite number, got {v!r}")
                        return None
                elif typ == "bool":
                    v = v.lower() in ("1", "true", "yes", "是")
            elif v is not None:
                ok = {"number": _NUM, "integer": (int,), "string": (str,), "bool": (bool,)}[typ]
                if (isinstance(v, bool) and typ != "bool") or not isinstance(v, ok):
                    self.p(path, "wrong-type", f"column {c!r} must be {typ}, got {v!r}")
                    return None
                if isinstance(v, float) and not math.isfinite(v):
                    self.p(path, "bad-value", f"column {c!r} must be a finite number, got {v!r}")
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

    def _matrix(self, name: str, spec: Mapping[str, Any]) -> Matrix | None:
        """A matrix, checked: one row of cells per row value, one cell per column value, distinct axis
        values, and levels that never fall along either axis except where a cited exception says so."""
        path = ("matrices", name)
        rows, cols = spec["rows"], spec["columns"]
        ok = True
        for axis in ("rows", "columns"):
            vals = spec[axis]["values"]
            if len(set(map(repr, vals))) != len(vals):
                self.p((*path, axis, "values"), "duplicate-key", f"matrix {name!r}: the {axis} values repeat")
                ok = False
            labels = spec[axis].get("labels")
            if labels is not None and len(labels) != len(vals):
                self.p((*path, axis, "labels"), "matrix-shape",
                       f"{len(labels)} labels for {len(vals)} {axis} values")
                ok = False
        cells = spec["cells"]
        if len(cells) != len(rows["values"]):
            self.p((*path, "cells"), "matrix-shape",
                   f"{len(cells)} rows of cells for {len(rows['values'])} row values ({rows['name']})")
            return None
        for i, line in enumerate(cells):
            if len(line) != len(cols["values"]):
                self.p((*path, "cells", i), "matrix-shape",
                       f"row {i + 1} has {len(line)} cells for {len(cols['values'])} column values ({cols['name']})")
                ok = False
        if not ok:
            return None
        grid = {(r, c): int(Level[cells[i][j]]) for i, r in enumerate(rows["values"])
                for j, c in enumerate(cols["values"])}
        excepted = {(e["row"], e["column"]) for e in spec.get("exceptions") or ()}
        for e in spec.get("exceptions") or ():
            if (e["row"], e["column"]) not in grid:
                self.p((*path, "exceptions"), "unknown-name", f"no cell ({e['row']}, {e['column']}) in matrix {name!r}")
            self._citation(e["cite"], (*path, "exceptions"))
        rv, cv = rows["values"], cols["values"]
        for i, r in enumerate(rv):
            for j, c in enumerate(cv):
                if (r, c) in excepted:
                    continue
                if j and grid[(r, c)] < grid[(r, cv[j - 1])]:
                    self.p((*path, "cells", i, j), "matrix-not-monotone",
                           f"matrix {name!r}: the level falls from {Level(grid[(r, cv[j - 1])]).name} to "
                           f"{Level(grid[(r, c)]).name} as {cols['name']} rises to {_n(c)} ({rows['name']} = {_n(r)}); "
                           "cite the exception under 'exceptions:' if the standard says so")
                if i and grid[(r, c)] < grid[(rv[i - 1], c)]:
                    self.p((*path, "cells", i, j), "matrix-not-monotone",
                           f"matrix {name!r}: the level falls from {Level(grid[(rv[i - 1], c)]).name} to "
                           f"{Level(grid[(r, c)]).name} as {rows['name']} rises to {_n(r)} ({cols['name']} = {_n(c)}); "
                           "cite the exception under 'exceptions:' if the standard says so")
        return Matrix(name, rows["name"], cols["name"], tuple(rv), tuple(cv), grid,
                      dict(zip(rv, rows.get("labels") or (), strict=False)),
                      dict(zip(cv, cols.get("labels") or (), strict=False)))

    def _band_functions(self, bands: Mapping[str, Bands]) -> dict[str, Function]:
        def band(name: str, x: Any) -> Any:
            b = bands[name]
            r = b.rows[b.fn(x)]
            return Level.parse(r["level"]) if "level" in r else r["value"]

        def static(args: list[Any], comp: Compiler) -> str | None:
            a0 = args[0]
            if not (isinstance(a0, ast.Constant) and isinstance(a0.value, str)):
                return "the bands name must be a literal, e.g. band('lec_D', D)"
            if a0.value not in bands:
                return f"no bands named {a0.value!r}"
            return None

        return {"band": Function("band", band, (2, 2), "band(bands, x): the level or value of x's band", static)}

    def _derive_order(self, derive_src: Mapping[str, tuple[str, frozenset[str]]]) -> list[str]:
        graph = {n: {d for d in deps if d in derive_src} for n, (_, deps) in derive_src.items()}
        try:
            return list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as e:
            cyc = list(e.args[1])
            self.p(("derive", cyc[0]), "derive-cycle", "derived values depend on each other: " + " -> ".join(cyc),
                   key=True)
            return list(derive_src)

    def _control_tiers(self, spec: Any) -> dict[Level, str]:
        """``control_tiers:`` → the highest control tier per level. A level names its highest tier
        (``RED: company``) or the whole cascade (``RED: [company, department, team, post]``); either
        way the tiers below the highest control it too (上级负责管控的风险，下级必须同时负责管控), so
        a cascade is written top-down, without gaps, down to ``post``; a higher level is never
        controlled from a lower tier than a lower level."""
        out = {Level.RED: "company", Level.ORANGE: "company", Level.YELLOW: "department", Level.BLUE: "team"}
        if spec is None:
            return out
        allowed = tuple(CONTROL_TIERS)
        keys: dict[Level, Any] = {}
        for k, v in spec.items():
            try:
                lv = Level.parse(k)
            except ValueError as e:
                self.p(("control_tiers", k), "bad-level", str(e), key=True)
                continue
            keys[lv] = k
            top = v[0] if isinstance(v, list) and v else v
            if not isinstance(top, str) or top not in allowed:
                self.p(("control_tiers", k), "bad-value", f"control tier {v!r}; allowed: {', '.join(allowed)} "
                       "(the highest tier, or the cascade as a list)")
                continue
            if isinstance(v, list) and tuple(v) != tier_cascade(top):
                self.p(("control_tiers", k), "bad-value",
                       f"cascade {v!r}: write it top-down, without gaps, down to post "
                       f"({', '.join(tier_cascade(top))}): a tier below the highest controls the risk too")
                continue
            out[lv] = top
        for lv in (Level.ORANGE, Level.YELLOW, Level.BLUE):
            higher = Level(int(lv) + 1)
            if allowed.index(out[higher]) > allowed.index(out[lv]):
                self.p(("control_tiers", keys[higher]) if higher in keys else ("control_tiers",), "bad-value",
                       f"{higher.name} is controlled from {out[higher]}, below {lv.name} ({out[lv]}): "
                       "the higher the risk, the higher its control tier")
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
            elif c.get("want") == {}:  # passes whatever the grade is: not a test, nor coverage
                self.problems.append(self.loc.problem(
                    ("cases", i, "want"), "missing-key", "this case's 'want' is empty and checks nothing: give the "
                    "level, score, values or rules (fired, not_fired) it wants",
                    message_zh="该用例的 want 为空，什么也不检查：请给出期望的等级、分值、取值或规则（fired、not_fired）"))

    def _generate(self, inputs: Mapping[str, Any], order: list[str],
                  derive_src: Mapping[str, tuple[str, frozenset[str]]], rule_lines: list[list[str]], nrules: int,
                  value_names: list[str], score_name: str | None, otherwise: Mapping[str, Any] | None,
                  comp: Compiler) -> tuple[str, dict[str, Any], dict[int, tuple[str, int]],
                                          dict[str, tuple[str, int]]]:
        """The grading function's source; the names it needs besides the runtime's
        (:mod:`riskgrade._grade.runtime`); generated line → YAML line; rule/derive name → YAML line."""
        ns: dict[str, Any] = {}
        line_map: dict[int, tuple[str, int]] = {}
        locations: dict[str, tuple[str, int]] = {}
        file = self.loc.file
        L: list[str] = ["def grade(facts):"]

        def mapped(lines: list[str], path: tuple[Any, ...], name: str) -> None:
            line = self.loc.where(path)[0]
            locations[name] = (file, line)
            for ln in lines:
                L.append(ln)
                line_map[len(L)] = (file, line)
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
            mapped([f"        at_ = {n!r}", f"        v_{n} = {derive_src[n][0]}",
                    f"        if v_{n}.__class__ is float and not (-_INF < v_{n} < _INF): _nonfinite(v_{n})",
                    f"        elif v_{n}.__class__ is tuple or v_{n}.__class__ is list: _finite_items(v_{n})"],
                   ("derive", n), n)
        for i, rule in enumerate(self.doc["rules"]):
            mapped([f"        at_ = {rule['id']!r}", *("        " + ln for ln in rule_lines[i])], ("rules", i), rule["id"])
        L.append("    except _FE as e:")
        L.append("        raise _FE(e.message, field=e.field or at_, code=e.code, value=e.value) from None")
        L.append("    except _FnE as e:  # a function or plugin failed: not bad input; say where, keep the cause")
        L.append("        _locate(e, at_)")
        L.append("        raise")
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
        return "\n".join(L) + "\n", ns, line_map, locations

    def _emit_check(self, n: str, spec: Mapping[str, Any], comp: Compiler, optional: bool) -> list[str]:
        t = spec["type"]
        v = f"v_{n}"
        out: list[str] = []
        guard = f"if {v} is not None and " if optional else "if "
        allowed = self._allowed(spec)
        slow = comp.const(values.slow_check(n, spec, allowed, self.options.limits))
        if t in ("number", "integer") and allowed is not None and not any(isinstance(a, bool) for a in allowed):
            # fast path: membership in the published scale; anything else (wrong type, bool, off-scale)
            # goes through the full check, which raises the precise error. The class is tested first:
            # a dict or list must never reach ``in`` (unhashable)
            cls = "_NUM" if t == "number" else comp.const((int,))
            out.append(f"{guard}({v}.__class__ not in {cls} or {v} not in {comp.const(allowed)}):")
            out.append(f"    {v} = {slow}({v})")
        elif t in ("number", "integer"):
            cls = "_NUM" if t == "number" else comp.const((int,))
            # an unbounded input is still bounded by Limits.max_int_digits (an integer beyond it is refused)
            big = self.options.limits.max_int
            lo = spec.get("min", -_INF)
            hi = spec.get("max", _INF)
            lo_s = comp.const(-big) if lo == -_INF else repr(lo)
            hi_s = comp.const(big) if hi == _INF else repr(hi)
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
        return fingerprint(data)


def _magnitude(x: float) -> float:
    return float(x) if x < 1e300 else _INF


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


# -- runtime helpers used by generated code -----------------------------------------------------
