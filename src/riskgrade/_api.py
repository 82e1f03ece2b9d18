"""The front door: the one module that wires the stages together.

``load`` = registry (which file) → plugins (methods, functions, layers) → pipeline stages →
compiled :class:`~riskgrade.Ruleset`; ``assess`` = register → graph (with a resolver that loads
through ``load``, and the plugins' roll-up modifiers) → assessment; ``check_refinement`` =
static check (by loading) + the differential check (hypothesis, imported only when asked).
"""

from __future__ import annotations

import collections
import concurrent.futures
import copyreg
import datetime
import itertools
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from riskgrade._compile import pipeline
from riskgrade._compile.layers import Layer, read_layer
from riskgrade._compile.refine import DEFAULT_EXAMPLES, DifferentialResult, RefinementReport
from riskgrade._compile.sections import SectionCompiler
from riskgrade._compile.values import sort_key
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._core.limits import Limits, get_limits, set_limits
from riskgrade._enterprise import graph as _graph
from riskgrade._enterprise import rollup as _rollup
from riskgrade._enterprise.region import (
    EnterpriseSummary,
    RegionGraph,
    RegionResult,
    duplicate_record,
    error_record,
    region_chain,
)
from riskgrade._enterprise.register import Enterprise
from riskgrade._grade import diff as _diff
from riskgrade._grade import receipt as _receipt
from riskgrade._grade import ruleset as _ruleset
from riskgrade._grade.ruleset import Ruleset
from riskgrade._grade.screening import Screening, ScreeningRuleset
from riskgrade._monitor import monitor as _monitor
from riskgrade._monitor import rules as _rules
from riskgrade._plugins import Plugins, get_plugins
from riskgrade._source import registry
from riskgrade._source.facts import _jsonl_record, _lines, read_facts
from riskgrade._source.project import locate, read_project
from riskgrade._source.yaml import Located, load_yaml
from riskgrade._supervision import declaration as _declaration
from riskgrade._supervision import outputs as _outputs
from riskgrade._supervision import plan as _plan
from riskgrade._validate import jsonschema as _js
from riskgrade.exceptions import FactError, MonitorError, Problem, RiskgradeError, RulesetError

__all__ = ["REGISTER_SUFFIXES", "LayerFile", "Monitor", "RiskGraph", "assess", "assess_partition", "assess_region",
           "check_refinement", "compile_file", "diff", "facts_schema_of", "jurisdiction_chain", "layers_for",
           "list_rulesets", "load", "load_layer", "load_ref", "load_rules", "load_screening", "load_supervision",
           "plan", "region_sources", "screen", "supervise", "verify"]

#: the optional sections later stages own, handed to the compiler
SECTIONS: Mapping[str, SectionCompiler] = {s.name: s for s in (_rollup.SECTION, _rules.SECTION)}


def _options(plugins: Plugins | None, layers: Iterable[Layer] = (), limits: Limits | None = None,
             link_chain: tuple[tuple[str, str], ...] = ()) -> pipeline.Options:
    p = plugins or get_plugins()
    layers = tuple(layers)
    return pipeline.Options(layers, p.methods(), p.functions(), SECTIONS, limits=limits or get_limits(),
                            link_loader=_link_loader(layers[-1].jurisdiction if layers else None, limits),
                            link_chain=link_chain)


def _link_loader(jurisdiction: str | None, limits: Limits | None) -> Callable[[str, tuple[tuple[str, str], ...]], Ruleset]:
    """Loads a linked ruleset (``links:``) through the front door, with the layers of the linking
    ruleset's jurisdiction; ``chain`` (the rulesets being compiled) lets the compiler find cycles."""
    def load_linked(path: str, chain: tuple[tuple[str, str], ...]) -> Ruleset:
        return _load(path, jurisdiction=jurisdiction, limits=limits, link_chain=chain)

    return load_linked


def compile_located(located: Located, *, layers: Iterable[Layer] = (), plugins: Plugins | None = None,
                    until: str | None = None, limits: Limits | None = None,
                    link_chain: tuple[tuple[str, str], ...] = ()) -> Ruleset | None:
    """Run the compiler on a parsed document (up to the stage ``until``) with the plugins' methods and
    functions, the optional sections and a loader for linked rulesets; the compiled ruleset, or None
    when stopped early."""
    art = pipeline.run(located, _options(plugins, layers, limits, link_chain), until=until)
    return None if art is None else _ruleset.build(art)


def compile_file(path: str, *, layers: Iterable[Layer] = (), plugins: Plugins | None = None,
                 limits: Limits | None = None, link_chain: tuple[tuple[str, str], ...] = ()) -> Ruleset:
    """Load and compile the ruleset file at ``path`` (not cached; :func:`load` caches)."""
    rs = compile_located(load_yaml(path, limits), layers=layers, plugins=plugins, limits=limits,
                         link_chain=link_chain)
    assert rs is not None
    return rs


def load(ref: str | os.PathLike[str], *, jurisdiction: str | None = None,
         as_of: datetime.date | None = None, limits: Limits | None = None) -> Ruleset:
    """Load a ruleset by shipped id (``"lec-generic"``, ``"nonmetal-mine@2017"``) or file path.

    With ``jurisdiction`` (a GB/T 2260 code), the layers of every jurisdiction from the
    province down to that code are applied, stricter only (see docs/plugins.md); an unknown
    code is a :class:`~riskgrade.RulesetError`. With ``as_of``, a bare shipped id means the
    edition in force on that date (otherwise the newest edition). ``limits`` (a :class:`~riskgrade.Limits`; default
    the process-wide one, see :func:`~riskgrade.set_limits`) bounds the file and every expression
    (docs/limits.md). Compiled rulesets are cached: loading the same ref twice returns the same
    object, until any file it was built from (its YAML, CSV tables, layer files) changes.

    A loaded ruleset pickles by reference (what was loaded, and its fingerprint): unpickling loads it
    again and checks the fingerprint (``fingerprint-mismatch`` when the files changed in between).

    >>> load("lec-generic").id
    'lec-generic'
    """
    return _load(ref, jurisdiction=jurisdiction, as_of=as_of, limits=limits)


def _load(ref: str | os.PathLike[str], *, jurisdiction: str | None = None, as_of: datetime.date | None = None,
          limits: Limits | None = None, link_chain: tuple[tuple[str, str], ...] = ()) -> Ruleset:
    spec = os.fspath(ref)
    lim = limits or get_limits()
    path = registry.find(spec, as_of)
    key = os.path.abspath(path) if os.path.exists(path) else path
    if jurisdiction is not None:
        _jurisdictions.get(jurisdiction)  # an unknown or malformed code is an error, not "no layers"
    cached = _CACHE.get((key, jurisdiction, lim))
    if cached is not None and _stamp(cached[1].files) == cached[0]:
        return cached[1]
    if jurisdiction is None:
        rs = compile_file(path, limits=lim, link_chain=link_chain)
    else:
        plugins = get_plugins()
        located = load_yaml(path, lim)
        data = located.data if isinstance(located.data, dict) else {}
        rs = compile_file(path, layers=layers_for(str(data.get("id")), jurisdiction, plugins), plugins=plugins,
                          limits=lim, link_chain=link_chain)
    # how to load it again in another process: a shipped id stays an id, a file becomes absolute
    object.__setattr__(rs, "_load_ref", (spec if not os.path.exists(spec) else os.path.abspath(spec), jurisdiction,
                                         None if lim == Limits() else lim))
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[(key, jurisdiction, lim)] = (_stamp(rs.files), rs)
    return rs


#: (path, jurisdiction, limits) → (the mtimes and sizes of every file the ruleset was built from, ruleset)
_CACHE: dict[tuple[str, str | None, Limits], tuple[tuple[tuple[str, int, int], ...], Ruleset]] = {}
_CACHE_SIZE = 512


# -- pickling: a Ruleset pickles by reference ---------------------------------------------------
# (registered here with copyreg, so that _grade never imports the front door: the layers stay one way)
def _reduce_ruleset(rs: Ruleset) -> tuple[Any, ...]:
    ref = getattr(rs, "_load_ref", None)
    if ref is None:
        raise pickle.PicklingError(f"{rs!r} was not made by riskgrade.load() and cannot be pickled by reference; "
                                   "pickle the path (and jurisdiction) and load it in the other process")
    return (_unpickle_ruleset, (*ref, rs.fingerprint))


def _unpickle_ruleset(ref: str, jurisdiction: str | None, limits: Limits | None, fingerprint: str) -> Ruleset:
    rs = load(ref, jurisdiction=jurisdiction, limits=limits)
    if rs.fingerprint != fingerprint:
        raise RulesetError([Problem("fingerprint-mismatch", f"the pickled ruleset had fingerprint {fingerprint}, "
                                    f"but {ref!r} now loads as {rs.fingerprint} (a file changed?)", rs.file)])
    return rs


copyreg.pickle(Ruleset, _reduce_ruleset)


def _stamp(files: Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for f in files:
        try:
            st = os.stat(f)
            out.append((f, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((f, -1, -1))
    return tuple(out)


def facts_schema_of(rs: Ruleset, lang: str = "zh") -> dict[str, Any]:
    """The JSON Schema of one record of facts for ``rs`` (labels in ``lang``; an input looked up in a
    table may take the table's keys): ``riskgrade schema facts REF``, ``GET /v1/rulesets/{id}``."""
    keys = {name: sorted(t.index, key=sort_key) for name, t in rs.tables.items()}
    other = "en" if lang == "zh" else "zh"
    title = (rs.title.get(lang) or rs.title.get(other) or rs.id) if isinstance(rs.title, Mapping) else str(rs.title)
    return _js.facts_schema(rs.inputs, extra_facts=str(rs.doc.get("extra_facts", "reject")), table_keys=keys,
                            title=f"riskgrade facts for {rs.id} {rs.version} ({title})", lang=lang)


def list_rulesets() -> list[dict[str, Any]]:
    """Metadata of every shipped ruleset (id, edition, effective, title, sector, version, completeness,
    announced editions, file)."""
    return [{"id": s.id, "edition": s.edition, "effective": s.effective, "title": s.title, "sector": s.sector,
             "version": s.version, "completeness": s.completeness, "announced": list(s.announced), "file": s.path}
            for s in registry.shipped()]


def jurisdiction_chain(code: str) -> tuple[_jurisdictions.Jurisdiction, ...]:
    """The jurisdictions from the province down to ``code`` (GB/T 2260, or ``city/zone name``), province
    first: the order layers are applied in. A malformed or unknown code is a :class:`RulesetError`
    (``unknown-jurisdiction``).

    >>> [j.label for j in jurisdiction_chain("620421")]
    ['620000 甘肃省', '620400 白银市', '620421 靖远县']
    """
    return _jurisdictions.chain(code)


# -- layers ------------------------------------------------------------------------------------
def layers_for(ruleset_id: str, jurisdiction: str, plugins: Plugins | None = None, *,
               exclude_at: str | None = None) -> list[Layer]:
    """The installed layers refining ``ruleset_id`` along the chain province → ``jurisdiction``, in order.

    ``exclude_at`` leaves out the layers of that jurisdiction (used when a layer file is checked
    on its own).
    """
    plugins = plugins or get_plugins()
    order = {j.code: i for i, j in enumerate(_jurisdictions.chain(jurisdiction))}
    found = []
    for plugin, src in plugins.layers():
        layer = read_layer(src, plugin)
        if layer.ruleset == ruleset_id and layer.jurisdiction in order and layer.jurisdiction != exclude_at:
            found.append(layer)
    found.sort(key=lambda lay: (order[lay.jurisdiction], lay.id, lay.file))
    _check_requires(found)
    return found


def _check_requires(layers: list[Layer]) -> None:
    """A missing layer in the chain is an error: every ``requires:`` of a layer names a layer applied
    before it (a jurisdiction above), or the layer would refine something it was not written for."""
    problems = []
    for i, lay in enumerate(layers):
        before = {other.id for other in layers[:i] if other.jurisdiction != lay.jurisdiction}
        for k, need in enumerate(lay.requires):
            if need not in before:
                where = ("requires", k)
                msg = (f"layer {lay.id!r} ({lay.name}) builds on layer {need!r}, which is not installed "
                       f"for a jurisdiction above it")
                problems.append(lay.located.problem(where, "missing-layer", msg) if lay.located is not None
                                else Problem("missing-layer", msg, lay.file))
    if problems:
        raise RulesetError(problems)


@attrs.frozen
class LayerFile:
    """A layer file checked on its own: ``layer`` and the ``ruleset`` it yields (the base refined by
    the installed layers above the layer's jurisdiction, then by this layer)."""

    layer: Layer
    ruleset: Ruleset

    def run_cases(self) -> list[Any]:
        """Run the cases of the refined ruleset (the layers' cases)."""
        return list(self.ruleset.run_cases())


def load_layer(path: str, plugins: Plugins | None = None) -> LayerFile:
    """Check the layer file at ``path`` against the ruleset it refines; raises :class:`RulesetError`
    (or :class:`~riskgrade.RefinementError`) with located problems."""
    plugins = plugins or get_plugins()
    layer = read_layer(path)
    try:
        base_path = registry.find(layer.ruleset)
    except RulesetError:
        raise RulesetError([layer.located.problem(("refines", "ruleset"), "unknown-ruleset",
                                                  f"no shipped ruleset {layer.ruleset!r}")]) from None
    above = layers_for(layer.ruleset, layer.jurisdiction, plugins, exclude_at=layer.jurisdiction)
    _check_requires([*above, layer])
    return LayerFile(layer, compile_file(base_path, layers=[*above, layer], plugins=plugins))


def check_refinement(ref: str, jurisdiction: str, *, max_examples: int = DEFAULT_EXAMPLES) -> RefinementReport:
    """Run the static check (by loading) and the differential check step by step down the chain.

    >>> check_refinement("lec-generic", "620402", max_examples=20).ok
    True
    """
    from riskgrade._differential import differential  # hypothesis: heavy, loaded only for this check

    try:
        final = load(ref, jurisdiction=jurisdiction)
    except RulesetError as e:
        return RefinementReport(ref, jurisdiction, tuple(str(p) for p in e.problems))
    steps: list[tuple[str, str, DifferentialResult]] = []
    prev = load(ref)
    prev_label = f"{prev.jurisdiction} (base)"
    for j in _jurisdictions.chain(jurisdiction):
        cur = load(ref, jurisdiction=j.code)
        if cur.fingerprint == prev.fingerprint:
            continue
        steps.append((prev_label, j.label, differential(prev, cur, max_examples=max_examples)))
        prev, prev_label = cur, j.label
    unproven = tuple(ch for lay in final.doc.get("layers") or () for ch in lay.get("unproven") or ())
    return RefinementReport(ref, jurisdiction, (), unproven, tuple(steps))


# -- enterprise and monitoring ------------------------------------------------------------------
def _loader(as_of: datetime.date | None) -> Callable[[str], Ruleset]:
    """Loads the ruleset names of a register: the edition in force on the assessment date."""
    def load_ref(ref: str) -> Ruleset:
        return load(ref, as_of=as_of)

    return load_ref


class RiskGraph(_graph.RiskGraph):
    __doc__ = _graph.RiskGraph.__doc__

    @classmethod
    def build(cls, ruleset_or_resolver: Any, enterprise: Enterprise | Mapping[str, Any] | str,
              *, as_of: datetime.date | None = None, rollup: _rollup.Rollup | None = None,
              loader: Callable[[str], Any] | None = None, modifiers: Mapping[str, Callable[..., Any]] | None = None,
              enrich: Callable[[str, Mapping[str, Any]], Mapping[str, Any]] | None = None) -> RiskGraph:
        """Build and fully grade the graph of ``enterprise`` (see :meth:`riskgrade.assess`).

        Ruleset names in the register are loaded with :func:`riskgrade.load`; plugin roll-up
        modifiers (``riskgrade_rollup_modifiers``) are applied where a ``rollup:`` section names them.
        """
        graph = super().build(ruleset_or_resolver, enterprise, as_of=as_of, rollup=rollup,
                              loader=loader or _loader(as_of or datetime.date.today()),
                              modifiers=get_plugins().rollup_modifiers() if modifiers is None else modifiers,
                              enrich=enrich or get_plugins().enrich_facts)
        assert isinstance(graph, RiskGraph)
        return graph


def assess(ruleset_or_resolver: Any, enterprise: Enterprise | Mapping[str, Any] | str, *,
           as_of: datetime.date | None = None) -> _graph.EnterpriseAssessment:
    """Assess ``enterprise`` (an :class:`~riskgrade.Enterprise`, a register mapping or file path).

    ``ruleset_or_resolver``: the default ruleset, a ruleset name, a callable resolving ruleset
    names, or ``None`` to resolve the names in the register with :func:`riskgrade.load`. ``as_of``
    defaults to today and is recorded.

    >>> import riskgrade, datetime
    >>> a = riskgrade.assess(None, "examples/enterprises/chem-plant.yaml", as_of=datetime.date(2024, 6, 30))
    >>> a.level.name, a.inherent_level.name
    ('RED', 'ORANGE')
    """
    return RiskGraph.build(ruleset_or_resolver, enterprise, as_of=as_of).assessment()


def load_rules(ref: str) -> _rules.WarningRules:
    """The warning rules of ``ref``: a ``kind: monitor`` file, a shipped monitoring ruleset id,
    or any ruleset :func:`load` accepts that has a ``warnings`` section."""
    found = _rules.find_monitor_ruleset(ref)
    if found is not None:
        return found
    section = load(ref).section("warnings")
    if not isinstance(section, _rules.WarningRules):
        raise MonitorError(f"ruleset {ref!r} has no 'warnings' section")
    return section


class Monitor(_monitor.Monitor):
    __doc__ = _monitor.Monitor.__doc__

    def __init__(self, ruleset: Any, enterprise: Any, **kw: Any) -> None:
        super().__init__(load_rules(ruleset) if isinstance(ruleset, str) else ruleset, enterprise, **kw)



# -- the author's toolkit: diff --------------------------------------------------------------------
#: ``REF@jurisdiction=CODE``: a ruleset ref with the layers of a jurisdiction (see docs/authoring.md)
JURISDICTION_SUFFIX = "@jurisdiction="


def load_ref(ref: str | os.PathLike[str] | Ruleset, jurisdiction: str | None = None) -> Ruleset:
    """A ruleset from a ref as :func:`load` takes it, optionally ending in ``@jurisdiction=CODE``
    (``lec-generic@jurisdiction=620421``, ``nonmetal-mine@2022@jurisdiction=620421``); a
    ``jurisdiction`` given here wins. A :class:`Ruleset` is returned as it is."""
    if isinstance(ref, Ruleset):
        return ref
    text = os.fspath(ref)
    base, sep, code = text.rpartition(JURISDICTION_SUFFIX)
    if sep:
        text = base
    return load(text, jurisdiction=jurisdiction or (code if sep else None))


def diff(old: str | os.PathLike[str] | Ruleset, new: str | os.PathLike[str] | Ruleset,
         facts: Iterable[Mapping[str, Any]] | str | os.PathLike[str] | None = None, *,
         generate: int | None = None, seed: int = 0) -> _diff.RulesetDiff:
    """What changed between two rulesets (refs as :func:`load_ref` takes them, or compiled rulesets):
    inputs, table rows, band thresholds, rules (matched on the inputs they read), citations, cases;
    and over ``facts`` (records, or a facts file) -- or, with ``generate=N``, a population of at most
    ``N`` generated records -- how many records change level. See docs/authoring.md.

    >>> d = diff("lec-generic@jurisdiction=620400", "lec-generic@jurisdiction=620421", generate=10000)
    >>> d.population.records, d.population.transitions
    (7056, {'YELLOW->ORANGE': 170})
    >>> [c.text() for c in d.changes if c.kind == "bands"]
    ['~ bands lec_D[YELLOW]: to 160 → 140', '~ bands lec_D[ORANGE]: from 160 → 140']
    """
    records = _fact_records(os.fspath(facts)) if isinstance(facts, (str, os.PathLike)) else facts
    return _diff.diff(load_ref(old), load_ref(new), records, generate_n=generate, seed=seed)


def _fact_records(path: str) -> Iterable[Mapping[str, Any]]:
    """The records of a facts file; an unreadable record is an error (it cannot be graded by either side)."""
    for rec in read_facts(path):
        if rec.error is not None:
            raise rec.error
        yield rec.facts


# -- differentiated supervision (docs/supervision.md) ---------------------------------------------
#: (jurisdiction, extra layer files) → (stamps of every supervision file, the merged declaration)
_SUP_CACHE: dict[tuple[str, tuple[str, ...]], tuple[tuple[tuple[str, int, int], ...], _declaration.Supervision]] = {}


def load_supervision(jurisdiction: str = "620000", *,
                     layers: Iterable[str | os.PathLike[str]] = ()) -> _declaration.Supervision:
    """The supervision declared for ``jurisdiction`` (GB/T 2260, or ``city/zone``): the shipped province
    default (``rulesets/supervision/``) refined by the shipped layers of every jurisdiction down to it and
    by the layer files ``layers``, stricter only. A layer that would inspect less often, lengthen a cycle
    or lower an insurance loading is a :class:`~riskgrade.RefinementError` naming its ``file:line``.

    >>> s = load_supervision("620421")
    >>> s.layers
    ('620000 甘肃省', '620400 白银市', '620421 靖远县')
    """
    code = _jurisdictions.get(jurisdiction).code
    extra = tuple(os.path.abspath(os.fspath(p)) for p in layers)
    files = (*_declaration.shipped_files(), *extra)
    hit = _SUP_CACHE.get((code, extra))
    if hit is not None and hit[0] == _stamp(files):
        return hit[1]
    sup = _declaration.load_chain(code, extra)
    _SUP_CACHE[(code, extra)] = (_stamp(files), sup)
    return sup


def supervise(assessment: _graph.EnterpriseAssessment, *, jurisdiction: str | None = None,
              layers: Iterable[str | os.PathLike[str]] = ()) -> _outputs.SupervisionResult:
    """The differentiated supervision of an assessed enterprise: inspections a year and their content,
    re-assessment cycles, grid owners, the insurance rate factor and the control tiers (see
    docs/supervision.md). ``jurisdiction`` defaults to the enterprise's own (its county, or its zone).

    >>> import riskgrade, datetime
    >>> a = riskgrade.assess(None, "examples/region/jingyuan-fireworks.yaml", as_of=datetime.date(2027, 1, 1))
    >>> s = supervise(a)
    >>> s.level.name, s.inspections, s.factor
    ('ORANGE', 10, 1.0)
    """
    code = jurisdiction or _outputs.grid_code(assessment)
    return _outputs.supervise(assessment, load_supervision(code, layers=layers))


# -- region: many registers, in this process or in worker processes --------------------------------
#: the register files :func:`assess_region` reads from a directory (``.jsonl``: one register a line)
REGISTER_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")

#: one register to assess: (path or name, line number of a JSON-lines file or 0, the raw line / the
#: register mapping itself / None for a whole file)
_Item = tuple[str, int, bytes | Mapping[str, Any] | None]
#: what became of it: (where, the enterprise's summary or None, the error record or None)
_Outcome = tuple[str, EnterpriseSummary | None, dict[str, Any] | None]


def region_sources(paths: Iterable[str | os.PathLike[str]], suffixes: tuple[str, ...] = REGISTER_SUFFIXES) -> list[str]:
    """The register files under ``paths``: a file as it is, a directory walked in sorted order for
    files ending in ``suffixes``."""
    out: list[str] = []
    for p in (os.fspath(x) for x in paths):
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(suffixes))
        else:
            out.append(p)
    return out


def plan(registers: Iterable[str | os.PathLike[str] | _graph.EnterpriseAssessment], year: int, *,
         jurisdiction: str | None = None, as_of: datetime.date | None = None,
         layers: Iterable[str | os.PathLike[str]] = ()) -> _plan.EnforcementPlan:
    """The differentiated enforcement plan of ``year`` for the enterprises in ``registers`` (register files,
    directories of them, or assessments): each enterprise assessed as of ``as_of`` (default 1 January of
    ``year``) and supervised under its own jurisdiction's declaration. With ``jurisdiction``, enterprises
    outside it are listed in ``outside``, not planned. A register that cannot be assessed is an error
    record; nothing is dropped.

    >>> p = plan(["examples/region"], 2027)
    >>> len(p.enterprises), sum(e["inspections"] for e in p.enterprises), p.errors
    (10, 42, ())
    """
    date = as_of or datetime.date(year, 1, 1)
    extra = tuple(layers)
    scope = _jurisdictions.get(jurisdiction).code if jurisdiction else None
    results: list[tuple[_outputs.SupervisionResult, str]] = []
    errors: list[dict[str, Any]] = []
    outside: list[str] = []
    seen: dict[str, str] = {}
    items: list[tuple[str, _graph.EnterpriseAssessment | None]] = []
    for r in registers:
        if isinstance(r, _graph.EnterpriseAssessment):
            items.append((r.enterprise.source or r.enterprise.id, r))
        else:
            items.extend((f, None) for f in region_sources([r], (".yaml", ".yml", ".json")))
    for file, given in items:
        try:
            a = given if given is not None else assess(None, file, as_of=date)
            eid = a.enterprise.id
            if eid in seen:
                errors.append(duplicate_record(file, eid, seen[eid]))
                continue
            seen[eid] = file
            if scope is not None and scope not in region_chain(a.enterprise.jurisdiction, a.enterprise.zone):
                outside.append(eid)
                continue
            sup = load_supervision(_outputs.grid_code(a), layers=extra)
            results.append((_outputs.supervise(a, sup), a.enterprise.name))
        except RiskgradeError as exc:
            errors.append(error_record(file, exc))
    return _plan.build_plan(year, results, jurisdiction=scope, errors=errors, outside=outside)

# -- admission screening (kind: screening, docs/screening.md) -------------------------------------
def load_screening(ref: str | os.PathLike[str]) -> ScreeningRuleset:
    """Load an admission-screening ruleset (``kind: screening``) by shipped id or file path.

    A ruleset of another kind is ``not-screening``; an unknown id is ``unknown-ruleset``
    (:class:`~riskgrade.RulesetError`). Compiled like any ruleset, and cached the same way.

    >>> load_screening("hazchem-project-screening").id
    'hazchem-project-screening'
    """
    spec = os.fspath(ref)
    path = spec if os.path.exists(spec) else _shipped_screening(spec)
    rs = _load(path)
    if rs.doc.get("kind") != "screening":
        raise RulesetError([Problem("not-screening", f"{spec!r} is a ruleset of kind {rs.doc.get('kind', 'ruleset')!r}, "
                                    "not an admission-screening ruleset (kind: screening)", rs.file, 1, 1)])
    return ScreeningRuleset(rs)


def _shipped_screening(ref: str) -> str:
    for path in registry.shipped_files():
        h = registry.head(path)
        if h is not None and h.get("kind") == "screening" and h.get("id") == ref:
            return path
    if any(r.id == ref.split("@", 1)[0] for r in registry.shipped()):
        raise RulesetError([Problem("not-screening", f"{ref!r} is a grading ruleset, not an admission-screening "
                                    "ruleset (kind: screening)", ref)])
    known = sorted(str(h.get("id")) for p in registry.shipped_files()
                   if (h := registry.head(p)) is not None and h.get("kind") == "screening")
    raise RulesetError([Problem("unknown-ruleset", f"no admission-screening ruleset {ref!r} is shipped; "
                                f"shipped: {', '.join(known)} (or give a file path)", ref)])


def screen(ruleset: ScreeningRuleset | str | os.PathLike[str],
           project: Mapping[str, Any] | str | os.PathLike[str]) -> Screening:
    """Decide the admission of a new project (源头管控和安全准入): ``pass``, ``conditions`` or ``reject``,
    each reason cited (docs/screening.md).

    ``ruleset`` is a :class:`ScreeningRuleset` or what :func:`load_screening` takes; ``project`` its facts,
    or the path of a project file (YAML or JSON), whose bad facts are then a :class:`~riskgrade.FactError`
    whose ``record`` is ``file:line:col`` of the value.

    >>> srs = load_screening("hazchem-project-screening")
    >>> s = screen(srs, srs.ruleset.cases[3]["facts"])       # a new project outside any chemical park
    >>> s.decision, s.reasons[0].id, s.reasons[0].citation.clause
    ('reject', 'outside-park', '第十八条')
    """
    srs = ruleset if isinstance(ruleset, ScreeningRuleset) else load_screening(ruleset)
    if isinstance(project, Mapping):
        return srs.screen(project)
    path = os.fspath(project)
    facts, located = read_project(path)
    try:
        return srs.screen(facts)
    except FactError as e:
        raise locate(e, path, located) from None


def _items(files: Iterable[str], lim: Limits) -> Iterator[_Item]:
    """The registers of ``files``, lazily: a JSON-lines file line by line (never held whole)."""
    for f in files:
        if not f.endswith(".jsonl"):
            yield (f, 0, None)
            continue
        try:
            fh = open(f, "rb")  # noqa: SIM115 - closed below, streamed line by line
        except OSError:
            yield (f, 0, None)  # the worker reports it unreadable, in its place
            continue
        with fh:
            for lineno, raw in enumerate(_lines(fh, lim.max_bytes), 1):
                yield (f, lineno, raw if raw is not None else b"")  # b"": longer than Limits.max_bytes


def _assess_chunk(items: list[_Item], as_of: datetime.date, ruleset: str | None) -> list[_Outcome]:
    """Assess a chunk of registers (in this process, or in a worker: a top-level function, so it
    pickles by reference). Rulesets are loaded by reference here, once per chunk (and cached by
    :func:`load` per process), with the plugins installed where this runs."""
    loaded: dict[str, Ruleset] = {}

    def loader(ref: str) -> Ruleset:
        rs = loaded.get(ref)
        if rs is None:
            rs = loaded[ref] = load(ref, as_of=as_of)
        return rs

    plugins = get_plugins()
    modifiers, enrich = plugins.rollup_modifiers(), plugins.enrich_facts
    lim = get_limits()
    out: list[_Outcome] = []
    for path, lineno, raw in items:
        where = f"{path}:{lineno}" if lineno else path
        try:
            register: Any = path
            if isinstance(raw, Mapping):
                register = raw
            elif lineno:
                rec = _jsonl_record(raw or None, lineno - 1, lineno, where, lim)
                if rec.error is not None:
                    raise rec.error
                register = rec.facts
            elif path.endswith(".jsonl"):
                raise FactError(f"cannot read {path}", record=path, code="unreadable")
            graph = _graph.RiskGraph.build(ruleset, register, as_of=as_of, loader=loader, modifiers=modifiers,
                                           enrich=enrich)
            ent = graph.enterprise  # the levels, without building every node's explanation (assessment())
            out.append((where, EnterpriseSummary(ent.id, ent.name, ent.jurisdiction, ent.zone, tuple(ent.sectors),
                                                 graph.level(ent.id), graph.inherent_level(ent.id)), None))
        except RiskgradeError as exc:
            rec_ = error_record(where, exc)
            if lineno:
                rec_["line"] = lineno
            out.append((where, None, rec_))
    return out


def _init_worker(limits: Limits) -> None:
    set_limits(limits)


def _outcomes(items: Iterator[_Item], jobs: int, chunk: int, as_of: datetime.date,
              ruleset: str | None) -> Iterator[_Outcome]:
    """The outcomes in input order; with ``jobs > 1`` chunks go to worker processes (spawned, so the
    same on every platform), at most ``4 * jobs`` chunks in flight: memory stays bounded."""
    chunks = iter(lambda: list(itertools.islice(items, chunk)), [])
    if jobs == 1:
        for c in chunks:
            yield from _assess_chunk(c, as_of, ruleset)
        return
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                                initargs=(get_limits(),)) as pool:
        window: collections.deque[concurrent.futures.Future[list[_Outcome]]] = collections.deque()
        for c in chunks:
            window.append(pool.submit(_assess_chunk, c, as_of, ruleset))
            if len(window) >= 4 * jobs:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()


def assess_region(paths: Iterable[str | os.PathLike[str]], *, as_of: datetime.date | None = None,
                  ruleset: str | None = None, jobs: int = 1, chunk: int = 64) -> RegionResult:
    """Assess every register under ``paths`` and roll them up into a region (四色图 statistics).

    ``paths``: register files (``.yaml``/``.yml``/``.json``), JSON-lines files (``.jsonl``, one
    register a line) and directories of them. ``as_of`` (default today) is the one date of every
    assessment; ``ruleset`` a default ruleset name for every register. ``jobs`` worker processes
    (``0``: one per CPU) assess ``chunk`` registers at a time; the result is the same as with
    ``jobs=1``, in the same order. A register that fails is an error record naming its file (and
    line), never dropped, and the rest go on; a second register with the same enterprise id is a
    ``duplicate-enterprise`` error. Only each enterprise's summary is kept, never its assessment.

    >>> import riskgrade, datetime
    >>> r = riskgrade.assess_region(["examples/enterprises/chem-plant.yaml"], as_of=datetime.date(2024, 6, 30))
    >>> r.region.counts("620000"), r.errors
    ({'RED': 1, 'ORANGE': 0, 'YELLOW': 0, 'BLUE': 0}, ())
    """
    if jobs < 0 or chunk < 1:
        raise ValueError("jobs must be >= 0 (0: one per CPU) and chunk >= 1")
    jobs = jobs or os.cpu_count() or 1
    date = as_of or datetime.date.today()
    files = region_sources(paths)
    return _collect(_outcomes(_items(files, get_limits()), jobs, chunk, date, ruleset), date, len(files))


def assess_partition(registers: Iterable[Mapping[str, Any] | str], index: int, *, as_of: datetime.date,
                     ruleset: str | None = None) -> RegionResult:
    """The region of one partition of registers (mappings or file paths), assessed here: what
    ``riskgrade.dask`` runs on a worker. A mapping's errors are named ``partition INDEX[k]``."""
    items: list[_Item] = [(r, 0, None) if isinstance(r, str) else (f"partition {index}[{k}]", 0, r)
                          for k, r in enumerate(registers)]
    return _collect(_assess_chunk(items, as_of, ruleset), as_of, sum(isinstance(r, str) for r in registers))


def _collect(outcomes: Iterable[_Outcome], date: datetime.date, files: int) -> RegionResult:
    """Roll the outcomes up in order: errors kept in place, a repeated enterprise id an error."""
    region = RegionGraph(date)
    errors: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    registers = 0
    for where, summary, err in outcomes:
        registers += 1
        if summary is None:
            assert err is not None
            errors.append(err)
            continue
        if summary.id in seen:
            errors.append(duplicate_record(where, summary.id, seen[summary.id]))
            continue
        try:
            region.add(summary)
        except RiskgradeError as exc:
            errors.append(error_record(where, exc))
            continue
        seen[summary.id] = where
    return RegionResult(region, tuple(errors), files, registers)


# -- the regulator's check: replay a stored decision ------------------------------------------------
def verify(stored: Mapping[str, Any], *, rulesets: Iterable[str | os.PathLike[str]] = ()) -> _receipt.Verification:
    """Replay one stored result line (``riskgrade grade --format json``, with its receipt) and say whether
    the same code and ruleset give the same bytes (docs/platform.md, "How a regulator verifies").

    The ruleset is loaded by the receipt's ``id@edition``, with the receipt's jurisdiction when layers
    were applied; ``rulesets`` are ruleset files to find a non-shipped id in (by their ``id``). A
    ruleset that is not here is ``cannot-replay`` (``unknown-ruleset``); see
    :func:`riskgrade._grade.receipt.replay` for the rest.

    >>> import riskgrade
    >>> stored = riskgrade.load("lec-generic", jurisdiction="620421").grade({"L": 3, "E": 6, "C": 15})
    >>> verify(stored.to_dict(receipt=True)).status
    'identical'
    """
    early = _receipt.precheck(stored)
    if early is not None:
        return early
    r = stored["receipt"]
    ref = r["ruleset"]
    rid = r.get("id") if isinstance(r.get("id"), str) else None
    jurisdiction = str(ref.get("jurisdiction")) if ref.get("layers") else None
    files: dict[str, str] = {}
    for path in rulesets:
        files.setdefault(load(path).id, os.fspath(path))
    name = str(ref.get("id"))
    try:
        rs = load(files[name] if name in files else f"{name}@{ref.get('edition')}", jurisdiction=jurisdiction)
    except RulesetError as e:
        return _receipt.Verification("cannot-replay", e.codes[0] if e.codes else "unknown-ruleset",
                                     f"ruleset {name!r} (edition {ref.get('edition')!r}) cannot be loaded here: "
                                     f"{e.problems[0].message if e.problems else e}", rid)
    return _receipt.replay(rs, stored)
