"""The enterprise graph: hazards → risk points → units → enterprise, graded and rolled up.

A :class:`RiskGraph` holds a networkx ``DiGraph`` whose edges run from dependency to
dependent (hazard → risk point → unit → enterprise, plus declared extra dependencies such
as a tank farm that endangers a neighbouring unit). Risk points (and hazards with facts)
are graded by their sector ruleset; every node's *inherent* and *dynamic* level then
follows from the roll-up (:mod:`riskgrade._enterprise.rollup`). Levels are judged *as of* a date.

Incremental re-grade. Each node keeps the count of its children at each level, so a
change re-evaluates only the changed node and those of its ancestors whose inputs changed,
in topological order (by rank). Every mutating method returns the nodes whose level
changed, as ``{node_id: LevelChange}`` sorted by id:

- :meth:`RiskGraph.update` ``(record_id, changes)`` -- a unit, risk point, hazard, hidden
  danger or the enterprise; ``facts`` are merged (a ``None`` value removes a fact), other
  fields replaced and validated like the register;
- :meth:`RiskGraph.add` / :meth:`RiskGraph.remove` -- units, risk points, hazards, hidden dangers;
- :meth:`RiskGraph.add_dependency` / :meth:`RiskGraph.remove_dependency`;
- :meth:`RiskGraph.set_as_of` -- re-judge deadlines and accident windows at another date.

Queries: :meth:`RiskGraph.level`, :meth:`RiskGraph.inherent_level`, :meth:`RiskGraph.kind`,
:meth:`RiskGraph.hidden_danger`, :meth:`RiskGraph.children`, :meth:`RiskGraph.parents`.

API for the monitoring layer (stable). Active warnings act on the graph as *external
modifiers*, applied to the dynamic level after the roll-up's own raises::

    changes = graph.set_modifier(node_id, key, steps, reason, floor=None, cite="", kind="local")
    changes = graph.clear_modifier(node_id, key)          # no-op ({}) when not set
    graph.modifiers(node_id)                              # {key: External}

``key`` identifies the warning (setting it again replaces it); ``steps`` ≥ 0 raises the
node's dynamic level (clamped at RED); ``floor`` (a :class:`Level`) makes it at least that,
a lock that holds at every ancestor like a roll-up floor. Both return level changes.

``evaluations`` counts roll-up evaluations and ``gradings`` ruleset gradings since the
graph was built (tests use them to prove that re-grading is incremental).

>>> import riskgrade, datetime
>>> from riskgrade._enterprise.register import load_enterprise
>>> ent = load_enterprise({"id": "E-1", "name": "示例", "sectors": ["hazchem"], "jurisdiction": "620402",
...     "ruleset": "lec-generic", "units": [{"id": "U-1", "name": "罐区"}],
...     "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 7}},
...                     {"id": "P-2", "unit": "U-1", "name": "装卸", "facts": {"L": 1, "E": 6, "C": 7}}]})
>>> g = RiskGraph.build(riskgrade.load("lec-generic"), ent, as_of=datetime.date(2024, 6, 30))
>>> g.level("E-1").name, g.evaluations
('YELLOW', 4)
>>> sorted(g.set_modifier("P-2", "gas-alarm", 2, "可燃气体报警")), g.level("E-1").name, g.evaluations
(['E-1', 'P-2', 'U-1'], 'ORANGE', 7)
"""

from __future__ import annotations

import datetime as _dt
import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import networkx as nx

from riskgrade._core.canonical import dumps
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._core.spellings import CONTROL_TIERS, accident_rank, tier_cascade
from riskgrade._enterprise.register import (
    Accident,
    Dependency,
    Enterprise,
    Hazard,
    HiddenDanger,
    RiskPoint,
    _Fields,
    check_references,
    grade_zh,
    load_enterprise,
    parse_record,
)
from riskgrade._enterprise.rollup import (
    DEFAULT_ROLLUP,
    KIND_LABELS,
    Applied,
    External,
    Outcome,
    Rollup,
    basis,
    evaluate,
    kind_plan,
    months_before,
)
from riskgrade._source import registry
from riskgrade.exceptions import FactError, GraphError

__all__ = [
    "FACTORS",
    "TIER_LABELS",
    "ChainStep",
    "Decision",
    "EnterpriseAssessment",
    "LevelChange",
    "NodeResult",
    "RiskGraph",
    "assess",
]

#: control tier names (管控层级), by key, highest first
TIER_LABELS: dict[str, tuple[str, str]] = CONTROL_TIERS
_DEFAULT_TIERS = {Level.RED: "company", Level.ORANGE: "company", Level.YELLOW: "department", Level.BLUE: "team"}
#: why a risk controlled from one tier is controlled from every tier below it too
TIER_BASIS = Citation(
    "风险分级管控原则：风险越大，管控层级越高；上级负责管控的风险，下级必须同时负责管控，并逐级落实具体措施",
    basis="derived", status="unverified",
    note="the principle circulates in provincial dual-prevention guides (wording read in public re-posts, "
         "not in a gazette); which tier is the highest for each level is the ruleset's control_tiers")

#: the factors that can decide an enterprise's level (``Decision.factor``): key → (zh, en)
FACTORS: dict[str, tuple[str, str]] = {
    "risk_points": ("风险点等级", "risk points"),
    "sector_model": ("行业企业整体评估模型", "sector model"),
    "direct_rule": ("直接判定规则", "direct rule"),
    "hidden_danger": ("事故隐患", "hidden danger"),
    "accident": ("事故记录", "accident record"),
    "standardisation": ("安全生产标准化", "standardisation"),
    "monitoring": ("监测预警", "monitoring"),
    "default": ("默认（无已评定的风险点）", "default (nothing graded)"),
}
#: the factor a roll-up modifier stands for, by its condition
_FACTOR_OF = {"hidden_danger": "hidden_danger", "accident": "accident", "standardisation": "standardisation",
              "major_hazard_grade": "direct_rule", "plugin": "direct_rule", "children_at_least": "risk_points",
              "risk_points_at_least": "risk_points", "level_at_least": "risk_points"}
_NOTHING_GRADED = Citation("riskgrade 默认汇总规则 (docs/enterprise.md §3)", basis="local",
                           note="a node with nothing graded below it is low risk (BLUE)")
SCHEMA = "riskgrade.enterprise-assessment/1"

Resolver = Callable[[str], Any]


@attrs.frozen
class LevelChange:
    """A node whose level changed: ``before``/``after`` are ``None`` for an added/removed node."""

    node: str
    kind: str
    inherent_before: Level | None
    inherent_after: Level | None
    before: Level | None
    after: Level | None

    def to_dict(self) -> dict[str, Any]:
        def n(x: Level | None) -> str | None:
            return x.name if x is not None else None
        return {"node": self.node, "kind": self.kind, "inherent_before": n(self.inherent_before),
                "inherent_after": n(self.inherent_after), "before": n(self.before), "after": n(self.after)}


class _Node:
    __slots__ = ("c_dyn", "c_inh", "c_lock_dyn", "c_lock_inh", "dyn", "externals", "grading", "hds", "id",
                 "inh", "kind", "own", "rank", "record", "ruleset_id")

    def __init__(self, node_id: str, kind: str, record: Any) -> None:
        self.id = node_id
        self.kind = kind
        self.record = record
        self.ruleset_id: str | None = None
        self.own: Level | None = None
        self.grading: Any = None
        self.inh: Outcome | None = None
        self.dyn: Outcome | None = None
        self.c_inh = [0] * 5
        self.c_dyn = [0] * 5
        self.c_lock_inh = [0] * 5
        self.c_lock_dyn = [0] * 5
        self.hds: dict[str, HiddenDanger] = {}
        self.externals: dict[str, External] = {}
        self.rank = 0

    def contribution(self) -> tuple[int, int, int, int] | None:
        if self.inh is None or self.dyn is None or not self.dyn.graded:
            return None
        return (int(self.inh.level), int(self.dyn.level), self.inh.lock, self.dyn.lock)

    def adjust(self, contrib: tuple[int, int, int, int] | None, sign: int) -> None:
        if contrib is None:
            return
        self.c_inh[contrib[0]] += sign
        self.c_dyn[contrib[1]] += sign
        self.c_lock_inh[contrib[2]] += sign
        self.c_lock_dyn[contrib[3]] += sign


class _Adjacency:
    """The graph's edges (dependency -> dependent) as plain dicts, in the order networkx would keep them:
    nodes by insertion, each node's successors and predecessors by the insertion of their edge. Building
    an enterprise needs only these; :meth:`nx` materialises the ``networkx.DiGraph`` (with the same node
    and edge order, so its searches find the same paths) only where a path or a cycle is searched for."""

    __slots__ = ("edges", "pred", "succ")

    def __init__(self) -> None:
        self.succ: dict[str, dict[str, None]] = {}
        self.pred: dict[str, dict[str, None]] = {}
        #: every edge, in the order it was added (what :meth:`nx` replays)
        self.edges: dict[tuple[str, str], None] = {}

    def add_node(self, node: str) -> None:
        if node not in self.succ:
            self.succ[node] = {}
            self.pred[node] = {}

    def add_edge(self, u: str, v: str) -> None:
        if u not in self.succ:
            self.add_node(u)
        if v not in self.succ:
            self.add_node(v)
        self.succ[u][v] = None
        self.pred[v][u] = None
        self.edges[(u, v)] = None

    def has_edge(self, u: str, v: str) -> bool:
        return (u, v) in self.edges

    def remove_edge(self, u: str, v: str) -> None:
        del self.edges[(u, v)]
        del self.succ[u][v]
        del self.pred[v][u]

    def remove_node(self, node: str) -> None:
        for v in list(self.succ[node]):
            self.remove_edge(node, v)
        for u in list(self.pred[node]):
            self.remove_edge(u, node)
        del self.succ[node]
        del self.pred[node]

    def nx(self) -> Any:
        g = nx.DiGraph()
        g.add_nodes_from(self.pred)
        g.add_edges_from(self.edges)
        return g


def _make_resolver(ruleset_or_resolver: Any, enterprise: Enterprise,
                   loader: Callable[[str], Any] | None) -> tuple[Resolver, Any]:
    """(cached resolver by ruleset id, default ruleset or None). ``loader`` loads a ruleset name
    (the front door injects :func:`riskgrade.load`)."""
    cache: dict[str, Any] = {}
    default: Any = None

    def base(ref: str) -> Any:
        if loader is None:
            raise GraphError(f"cannot load ruleset {ref!r}: no loader (use riskgrade.RiskGraph or riskgrade.assess)",
                             record=enterprise.id, field="ruleset")
        return loader(ref)

    if ruleset_or_resolver is None or isinstance(ruleset_or_resolver, str):
        if isinstance(ruleset_or_resolver, str):
            default = base(ruleset_or_resolver)
            cache[ruleset_or_resolver] = default
    elif hasattr(ruleset_or_resolver, "grade"):
        default = ruleset_or_resolver
        cache[default.id] = default
    elif callable(ruleset_or_resolver):
        base = ruleset_or_resolver
    else:
        raise TypeError("expected a Ruleset, a ruleset name, a resolver callable or None")

    def resolve(ref: str) -> Any:
        rs = cache.get(ref)
        if rs is None:
            rs = cache[ref] = base(ref)
        return rs
    if default is None and enterprise.ruleset:
        default = resolve(enterprise.ruleset)
    return resolve, default


def declared_rollup(default: Any, enterprise: Enterprise, resolve: Resolver,
                    can_load: bool = True) -> tuple[Rollup, Any]:
    """The roll-up that grades ``enterprise`` overall, and the ruleset that declares it (None for the
    default): its default ruleset's ``rollup:`` section; else the declaration of its first sector that
    has one (the shipped ruleset of that sector with a ``rollup:`` section, loaded through ``resolve``
    when it can load); else :data:`DEFAULT_ROLLUP`."""
    section = default.section("rollup") if default is not None and hasattr(default, "section") else None
    if isinstance(section, Rollup):
        return section, default
    if can_load:
        for sector in enterprise.sectors:
            ref = registry.sector_rollup(sector)
            if ref is not None:
                declaring = resolve(ref)
                section = declaring.section("rollup")
                if isinstance(section, Rollup):
                    return section, declaring
    return DEFAULT_ROLLUP, None


class RiskGraph:
    """The graded graph of one enterprise; build with :meth:`RiskGraph.build`."""

    def __init__(self, enterprise: Enterprise, resolve: Resolver, default_ruleset: Any, rollup: Rollup,
                 as_of: _dt.date, as_of_defaulted: bool = False) -> None:
        self.enterprise = enterprise
        self.rollup = rollup
        self.as_of = as_of
        self.as_of_defaulted = as_of_defaulted
        self.evaluations = 0
        self.gradings = 0
        self._resolve = resolve
        self._default = default_ruleset
        self._g = _Adjacency()
        self._nodes: dict[str, _Node] = {}
        self._hds: dict[str, HiddenDanger] = {}
        self._deps: dict[tuple[str, str], Dependency] = {}
        self._structural: set[tuple[str, str]] = set()
        self._heap: list[tuple[int, str]] = []
        self._queued: set[str] = set()
        self._before: dict[str, tuple[Level | None, Level | None]] = {}
        #: plugin roll-up modifiers by name (``when: {plugin: NAME}`` in a ``rollup:`` section)
        self._modifier_fns: dict[str, Callable[..., Any]] = {}
        #: the ruleset whose ``rollup:`` section grades the enterprise overall (None: given or default)
        self._declaring: Any = None
        #: the plugins' fact enrichers, applied to each risk point's facts before grading
        self._enrich: Callable[[str, Mapping[str, Any]], Mapping[str, Any]] | None = None
        #: each kind's roll-up rule and plan (:meth:`_plan`)
        self._plans: dict[str, tuple[Any, Any]] = {}

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, ruleset_or_resolver: Any, enterprise: Enterprise | Mapping[str, Any] | str,
              *, as_of: _dt.date | None = None, rollup: Rollup | None = None,
              loader: Callable[[str], Any] | None = None, modifiers: Mapping[str, Callable[..., Any]] | None = None,
              enrich: Callable[[str, Mapping[str, Any]], Mapping[str, Any]] | None = None) -> RiskGraph:
        """Build and fully grade the graph of ``enterprise``.

        ``ruleset_or_resolver`` is the enterprise's default :class:`Ruleset` (its ``rollup:``
        section, when present, governs the roll-up), a ruleset name, a callable resolving ruleset
        names, or ``None`` (resolve the names in the register with ``riskgrade.load``).
        Raises :class:`GraphError` on a dependency cycle, :class:`FactError` on bad facts.
        """
        ent = enterprise if isinstance(enterprise, Enterprise) else load_enterprise(enterprise)
        resolve, default = _make_resolver(ruleset_or_resolver, ent, loader)
        declaring = None
        if rollup is None:
            can_load = loader is not None or (callable(ruleset_or_resolver)
                                              and not hasattr(ruleset_or_resolver, "grade"))
            rollup, declaring = declared_rollup(default, ent, resolve, can_load)
        defaulted = as_of is None
        graph = cls(ent, resolve, default, rollup, as_of or _dt.date.today(), defaulted)
        graph._declaring = declaring
        graph._modifier_fns = dict(modifiers or {})
        graph._enrich = enrich
        graph._build()
        return graph

    def _build(self) -> None:
        ent = self.enterprise
        nodes, succ, pred, edges, structural = self._nodes, self._g.succ, self._g.pred, self._g.edges, self._structural
        for nid, kind, rec in ((ent.id, "enterprise", ent), *((u.id, "unit", u) for u in ent.units),
                               *((p.id, "risk_point", p) for p in ent.risk_points),
                               *((h.id, "hazard", h) for h in ent.hazards)):
            nodes[nid] = _Node(nid, kind, rec)
            succ[nid] = {}
            pred[nid] = {}
        # the structural edges (ids are unique and every reference resolved: the register checked them)
        for child, parent in ((*((u.id, ent.id) for u in ent.units), *((p.id, p.unit) for p in ent.risk_points),
                               *((h.id, h.risk_point) for h in ent.hazards))):
            succ[child][parent] = None
            pred[parent][child] = None
            edges[(child, parent)] = None
            structural.add((child, parent))
        for d in ent.dependencies:
            self._g.add_edge(d.source, d.target)
            self._deps[(d.source, d.target)] = d
        for hd in ent.hidden_dangers:
            self._hds[hd.id] = hd
            nodes[hd.target].hds[hd.id] = hd
        order = self._topological()
        for nid, _, _ in order:  # in this order, so that the first bad facts are the ones reported
            node = nodes[nid]
            if getattr(node.record, "facts", None) is not None:  # the others have no own level (None)
                self._grade_own(node)
        self._full_rollup(order, fresh=True)

    def _add_node(self, node_id: str, kind: str, record: Any) -> _Node:
        node = _Node(node_id, kind, record)
        self._nodes[node_id] = node
        self._g.add_node(node_id)
        return node

    def _topological(self) -> list[tuple[str, int, list[str]]]:
        """The nodes in the order of ``nx.lexicographical_topological_sort`` (Kahn's algorithm, the
        smallest ready id first; ids are unique strings, so the order is the same), each with its
        rank (1 + the highest rank of its children, 0 for a leaf) and the nodes it rolls up into;
        a cycle raises :meth:`_cycle_error` as before."""
        succ = self._g.succ
        indegree = {v: len(p) for v, p in self._g.pred.items()}
        rank = dict.fromkeys(indegree, 0)
        ready = [v for v, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        order: list[tuple[str, int, list[str]]] = []
        while ready:
            nid = heapq.heappop(ready)
            up = list(succ[nid])
            r = rank[nid]
            order.append((nid, r, up))
            for parent in up:
                if rank[parent] <= r:
                    rank[parent] = r + 1
                indegree[parent] -= 1
                if not indegree[parent]:
                    heapq.heappush(ready, parent)
        if len(order) != len(indegree):
            raise self._cycle_error()
        return order

    def _cycle_error(self, extra: tuple[str, str] | None = None) -> GraphError:
        if extra is not None:
            try:
                path = nx.shortest_path(self._g.nx(), extra[1], extra[0])
            except nx.NetworkXException:  # pragma: no cover - caller checked has_path
                path = [extra[1], extra[0]]
            cycle = [extra[0], *path]
        else:
            try:
                edges = nx.find_cycle(self._g.nx())
            except nx.NetworkXNoCycle:  # pragma: no cover - only called when a cycle exists
                return GraphError("dependency cycle")
            cycle = [e[0] for e in edges] + [edges[0][0]]
        text = " -> ".join(cycle)
        return GraphError(f"dependency cycle: {text}", cycle=cycle, record=self.enterprise.id,
                          field="dependencies")

    def _grade_own(self, node: _Node) -> None:
        rec = node.record
        facts = getattr(rec, "facts", None)
        if node.kind == "enterprise" and facts is not None:
            self._grade_diagnosis(node, rec, facts)
            return
        if node.kind not in ("risk_point", "hazard") or facts is None:
            node.own, node.grading, node.ruleset_id = None, None, None
            return
        ref = rec.ruleset or self.enterprise.ruleset
        if ref is None and self._default is not None:
            ref = self._default.id
        if ref is None:
            raise FactError("no ruleset: name one here or as the enterprise's default ruleset", record=node.id,
                            field="ruleset", code="missing-ruleset")
        ruleset = self._resolve(ref)
        self.gradings += 1
        if self._enrich is not None:
            facts = self._enrich(ruleset.id, facts)
        try:
            result = ruleset.grade(facts)
        except FactError as exc:
            raise exc.at(record=node.id, prefix="facts") from None
        node.own, node.grading, node.ruleset_id = result.level, result, ref

    def _grade_diagnosis(self, node: _Node, ent: Enterprise, facts: Mapping[str, Any]) -> None:
        """The enterprise node graded by its sector's enterprise-level model (``diagnosis:`` in the
        register), from its facts; the register's standardisation grade, the highest major hazard
        installation grade of its units and the counts of its recorded accidents as of ``as_of``
        (:func:`_accident_counts`) fill the model's inputs of those names when not given."""
        ref = ent.diagnosis_ruleset
        assert ref is not None
        ruleset = self._resolve(ref)
        names = set(getattr(ruleset, "inputs", {}) or {})
        full = dict(facts)
        if "standardisation" in names and "standardisation" not in full:
            full["standardisation"] = grade_zh(ent.standardisation) if ent.standardisation else "none"
        grades = [u.major_hazard_grade for u in self._units() if u.major_hazard_grade]
        if "highest_major_hazard_grade" in names and "highest_major_hazard_grade" not in full and grades:
            full["highest_major_hazard_grade"] = min(grades)
        for name, count in _accident_counts(ent.accidents, self.as_of).items():
            if name in names and name not in full:
                full[name] = count
        self.gradings += 1
        try:
            result = ruleset.grade(full)
        except FactError as exc:
            raise exc.at(record=node.id, prefix="diagnosis.facts") from None
        node.own, node.grading, node.ruleset_id = result.level, result, ref

    def _units(self) -> list[Any]:
        return [n.record for n in self._nodes.values() if n.kind == "unit"]

    def _plugin_condition(self, node: _Node) -> Callable[[str], bool]:
        """``when: {plugin: NAME}``: asks the plugin modifier ``NAME`` about this node."""
        fns = self._modifier_fns

        def holds(name: str) -> bool:
            fn = fns.get(name)
            if fn is None:
                raise GraphError(f"roll-up modifier {name!r} is not installed (riskgrade plugins lists them)",
                                 record=node.id, field="rollup")
            return bool(fn(kind=node.kind, node=node.id, record=node.record, own=node.own, as_of=self.as_of))

        return holds

    def _plan(self, kind: str) -> tuple[Any, Any]:
        """(the kind's roll-up rule, its plan), looked up once per graph and kind."""
        got = self._plans.get(kind)
        if got is None:
            rule = self.rollup.for_kind(kind)
            got = self._plans[kind] = (rule, kind_plan(rule))
        return got

    def _evaluate(self, node: _Node) -> None:
        self.evaluations += 1
        kind = node.kind
        rule, plan = self._plan(kind)
        rec = node.record
        # the closure asking plugins is only needed when the kind has a ``when: {plugin: ...}`` modifier
        plugin = self._plugin_condition(node) if plan.uses_plugin else None
        mhg = std = None
        accidents: tuple[Accident, ...] = ()
        if kind == "unit":
            mhg = rec.major_hazard_grade
        elif kind == "enterprise":
            std = rec.standardisation
            accidents = rec.accidents
        hds = tuple(node.hds.values()) if node.hds else ()
        counted = kind == "enterprise" and self._counts_points
        node.inh = evaluate(rule, dynamic=False, own=node.own, child_levels=node.c_inh, child_locks=node.c_lock_inh,
                            as_of=self.as_of, major_hazard_grade=mhg, standardisation=std, hidden_dangers=hds,
                            accidents=accidents, plugin=plugin,
                            point_levels=self._point_levels(False) if counted else ())
        if (plan.views_agree and not hds and not accidents and not node.externals and not counted
                and node.c_dyn == node.c_inh and node.c_lock_dyn == node.c_lock_inh):
            node.dyn = node.inh  # nothing but events could tell the views apart, and there are none
            return
        exts = tuple(node.externals[k] for k in sorted(node.externals)) if node.externals else ()
        node.dyn = evaluate(rule, dynamic=True, own=node.own, child_levels=node.c_dyn, child_locks=node.c_lock_dyn,
                            as_of=self.as_of, major_hazard_grade=mhg, standardisation=std, hidden_dangers=hds,
                            accidents=accidents, externals=exts, plugin=plugin,
                            point_levels=self._point_levels(True) if counted else ())

    @property
    def _counts_points(self) -> bool:
        """Whether the enterprise's roll-up escalates by counts of risk points (``risk_points_at_least``)."""
        return bool(self._plan("enterprise")[1].counts_points)

    def _point_levels(self, dynamic: bool) -> list[int]:
        counts = [0] * 5
        for n in self._nodes.values():
            out = n.dyn if dynamic else n.inh
            if n.kind == "risk_point" and out is not None and out.graded:
                counts[int(out.level)] += 1
        return counts

    def _full_rollup(self, order: list[tuple[str, int, list[str]]], fresh: bool = False) -> None:
        """Evaluate every node in ``order``, children first; ``fresh``: the nodes were just made, so their
        counts of children are still zero (a re-grade starts them again)."""
        nodes = self._nodes
        if not fresh:
            for n in nodes.values():
                n.c_inh, n.c_dyn, n.c_lock_inh, n.c_lock_dyn = [0] * 5, [0] * 5, [0] * 5, [0] * 5
        for nid, rank, up in order:
            node = nodes[nid]
            node.rank = rank
            self._evaluate(node)
            inh, dyn = node.inh, node.dyn
            assert inh is not None and dyn is not None
            if up and dyn.graded:  # node.contribution(), added to each parent's counts (inlined)
                i, d, li, ld = int(inh.level), int(dyn.level), inh.lock, dyn.lock
                for s in up:
                    parent = nodes[s]
                    parent.c_inh[i] += 1
                    parent.c_dyn[d] += 1
                    parent.c_lock_inh[li] += 1
                    parent.c_lock_dyn[ld] += 1

    # ------------------------------------------------------------------ incremental machinery
    def _touch(self, node: _Node) -> None:
        if node.id not in self._before:
            self._before[node.id] = (node.inh.level if node.inh else None, node.dyn.level if node.dyn else None)

    def _push(self, node_id: str) -> None:
        if node_id not in self._queued:
            self._queued.add(node_id)
            heapq.heappush(self._heap, (self._nodes[node_id].rank, node_id))

    def _run(self) -> dict[str, LevelChange]:
        heap, nodes, succ = self._heap, self._nodes, self._g.succ
        while heap:
            _, nid = heapq.heappop(heap)
            self._queued.discard(nid)
            node = nodes[nid]
            self._touch(node)
            old = node.contribution()
            self._evaluate(node)
            new = node.contribution()
            if new != old:
                for s in succ[nid]:
                    target = nodes[s]
                    target.adjust(old, -1)
                    target.adjust(new, 1)
                    self._push(s)
                if node.kind == "risk_point" and self._counts_points:
                    self._push(self.enterprise.id)
        return self._changes()

    def _changes(self) -> dict[str, LevelChange]:
        out: dict[str, LevelChange] = {}
        for nid in sorted(self._before):
            ib, db = self._before[nid]
            node = self._nodes.get(nid)
            ia = node.inh.level if node is not None and node.inh else None
            da = node.dyn.level if node is not None and node.dyn else None
            if (ib, db) != (ia, da):
                kind = node.kind if node is not None else "removed"
                out[nid] = LevelChange(nid, kind, ib, ia, db, da)
        self._before = {}
        return out

    def _fix_rank(self, start: str) -> None:
        stack = [start]
        while stack:
            nid = stack.pop()
            node = self._nodes[nid]
            want = 1 + max((self._nodes[p].rank for p in self._g.pred[nid]), default=-1)
            if want > node.rank:
                node.rank = want
                stack.extend(self._g.succ[nid])

    def _attach(self, child: str, parent: str, structural: bool) -> None:
        if self._g.has_edge(child, parent):
            if structural:
                self._structural.add((child, parent))
            return
        if child == parent or self._reaches(parent, child):
            raise self._cycle_error((child, parent))
        self._g.add_edge(child, parent)
        if structural:
            self._structural.add((child, parent))
        self._fix_rank(parent)
        target = self._nodes[parent]
        self._touch(target)
        target.adjust(self._nodes[child].contribution(), 1)
        self._push(parent)

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether a path of edges leads from ``start`` to ``goal``."""
        succ, seen, stack = self._g.succ, {start}, [start]
        while stack:
            for nxt in succ[stack.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def _detach(self, child: str, parent: str) -> None:
        self._structural.discard((child, parent))
        if (child, parent) in self._deps or not self._g.has_edge(child, parent):
            return
        self._g.remove_edge(child, parent)
        target = self._nodes[parent]
        self._touch(target)
        target.adjust(self._nodes[child].contribution(), -1)
        self._push(parent)

    def _node(self, node_id: str) -> _Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"no node {node_id!r} in enterprise {self.enterprise.id}", record=node_id) from None

    # ------------------------------------------------------------------ queries
    def level(self, node_id: str) -> Level:
        """The dynamic level of ``node_id``."""
        dyn = self._node(node_id).dyn
        assert dyn is not None
        return dyn.level

    def inherent_level(self, node_id: str) -> Level:
        """The inherent level of ``node_id``."""
        inh = self._node(node_id).inh
        assert inh is not None
        return inh.level

    def kind(self, node_id: str) -> str | None:
        """The kind of node ``node_id`` (``enterprise``, ``unit``, ``risk_point``, ``hazard``), None if none."""
        node = self._nodes.get(node_id)
        return node.kind if node is not None else None

    def hidden_danger(self, hd_id: str) -> HiddenDanger | None:
        """The hidden danger ``hd_id`` as it stands now (after updates), None if there is none."""
        return self._hds.get(hd_id)

    def node_ids(self) -> list[str]:
        """Every node id, sorted."""
        return sorted(self._nodes)

    def children(self, node_id: str) -> list[str]:
        """The nodes ``node_id`` depends on (its predecessors), sorted."""
        self._node(node_id)
        return sorted(self._g.pred[node_id])

    def parents(self, node_id: str) -> list[str]:
        """The nodes that depend on ``node_id`` (its successors), sorted."""
        self._node(node_id)
        return sorted(self._g.succ[node_id])

    def modifiers(self, node_id: str) -> dict[str, External]:
        """The external modifiers set on ``node_id``, by key."""
        return dict(sorted(self._node(node_id).externals.items()))

    # ------------------------------------------------------------------ mutations
    def regrade(self) -> dict[str, LevelChange]:
        """Re-grade every node from scratch (the baseline incremental re-grading is measured against)."""
        for node in self._nodes.values():
            self._touch(node)
        order = self._topological()
        for nid, _, _ in order:
            self._grade_own(self._nodes[nid])
        self._full_rollup(order)
        return self._changes()

    def set_as_of(self, as_of: _dt.date) -> dict[str, LevelChange]:
        """Judge deadlines and accident windows as of another date; re-evaluates only dated nodes."""
        self.as_of, self.as_of_defaulted = as_of, False
        top = self._nodes[self.enterprise.id]
        if self.enterprise.facts is not None:  # the diagnosis counts accidents as of the date
            self._touch(top)
            self._grade_own(top)
        for node in self._nodes.values():
            if node.hds or node.kind == "enterprise":
                self._push(node.id)
        return self._run()

    def set_modifier(self, node_id: str, key: str, steps: int, reason: str, *, floor: Level | None = None,
                     cite: str = "", kind: str = "local") -> dict[str, LevelChange]:
        """Set (or replace) the external modifier ``key`` on ``node_id`` (see the module docstring)."""
        node = self._node(node_id)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise GraphError(f"modifier {key!r}: steps must be a whole number ≥ 0, got {steps!r}", record=node_id)
        if kind not in ("clause", "derived", "local"):
            raise GraphError(f"modifier {key!r}: basis kind must be clause, derived or local", record=node_id)
        node.externals[key] = External(key, steps, reason, Level.parse(floor) if floor is not None else None,
                                       basis(kind, cite or "monitoring"))  # type: ignore[arg-type]
        self._push(node_id)
        return self._run()

    def clear_modifier(self, node_id: str, key: str) -> dict[str, LevelChange]:
        """Remove the external modifier ``key`` from ``node_id`` ({} when it was not set)."""
        node = self._node(node_id)
        if node.externals.pop(key, None) is None:
            return {}
        self._push(node_id)
        return self._run()

    def update(self, record_id: str, changes: Mapping[str, Any]) -> dict[str, LevelChange]:
        """Change fields of a record (unit, risk point, hazard, hidden danger or the enterprise).

        ``facts`` are merged into the current facts (``None`` removes a fact); other fields
        replace the current value and are validated as in the register. Raises
        :class:`FactError` (bad value) or :class:`GraphError` (unknown record, cycle).
        """
        if record_id in self._hds:
            return self._update_hd(record_id, changes)
        node = self._node(record_id)
        if node.kind == "enterprise":
            return self._update_enterprise(node, changes)
        data = attrs.asdict(node.record, recurse=False)
        data.pop("kind")
        for k, v in changes.items():
            if k == "facts" and isinstance(v, Mapping) and data.get("facts") is not None:
                merged = dict(data["facts"])
                for fk, fv in v.items():
                    if fv is None:
                        merged.pop(fk, None)
                    else:
                        merged[fk] = fv
                data["facts"] = merged
            else:
                data[k] = v
        new = parse_record(node.kind, data, record_id)
        if new.id != record_id:
            raise FactError("a record's id cannot change", record=record_id, field="id", code="bad-value")
        old_parent, new_parent = _parent_of(node.record), _parent_of(new)
        if new_parent != old_parent:
            want = {"risk_point": "unit", "hazard": "risk_point"}[node.kind]
            if new_parent not in self._nodes or self._nodes[new_parent].kind != want:
                raise FactError(f"no {want.replace('_', ' ')} with id {new_parent!r}", record=record_id,
                                field=want, code="unknown-reference", value=new_parent)
        self._touch(node)
        node.record = new
        if new_parent != old_parent:
            assert old_parent is not None and new_parent is not None
            self._detach(record_id, old_parent)
            self._attach(record_id, new_parent, structural=True)
        if getattr(new, "facts", None) is not None or node.own is not None:
            self._grade_own(node)
        self._push(record_id)
        top = self._nodes[self.enterprise.id]
        if node.kind == "unit" and self.enterprise.facts is not None:  # the diagnosis reads unit grades
            self._touch(top)
            self._grade_own(top)
            self._push(top.id)
        return self._run()

    def _update_enterprise(self, node: _Node, changes: Mapping[str, Any]) -> dict[str, LevelChange]:
        ent = node.record
        f = _Fields(dict(changes), ent.id, lambda field: "")
        kw: dict[str, Any] = {}
        if "name" in changes:
            kw["name"] = f.text("name", required=True)
        if "standardisation" in changes:
            kw["standardisation"] = f.grade("standardisation")
        if "zone" in changes:
            kw["zone"] = f.opt_text("zone")
        if "accidents" in changes:
            items = f.get("accidents") or []
            if not isinstance(items, list):
                raise f.fail("accidents", "bad-type", "expected a list")
            kw["accidents"] = tuple(a if isinstance(a, Accident) else parse_record("accident", a, f"accidents[{i}]")
                                    for i, a in enumerate(items))
        f.done()
        new = attrs.evolve(ent, **kw)
        self._check_ids(new.accidents)
        self._touch(node)
        self.enterprise = node.record = new
        if new.facts is not None:
            self._grade_own(node)
        self._push(node.id)
        return self._run()

    def _check_ids(self, records: Iterable[Any]) -> None:
        for rec in records:
            if rec.id in self._nodes or rec.id in self._hds:
                raise FactError(f"id {rec.id!r} is already used", record=rec.id, field="id", code="duplicate-id")

    def _update_hd(self, hd_id: str, changes: Mapping[str, Any]) -> dict[str, LevelChange]:
        old = self._hds[hd_id]
        data = attrs.asdict(old, recurse=False)
        data.pop("kind")
        data.update(changes)
        new = parse_record("hidden_danger", data, hd_id)
        assert isinstance(new, HiddenDanger)
        if new.id != hd_id:
            raise FactError("a record's id cannot change", record=hd_id, field="id", code="bad-value")
        self._check_target(new)
        self._remove_hd(hd_id)
        self._add_hd(new)
        return self._run()

    def _check_target(self, hd: HiddenDanger) -> None:
        target = self._nodes.get(hd.target)
        if target is None or target.kind == "hazard":
            raise FactError(f"no risk point, unit or enterprise with id {hd.target!r}", record=hd.id,
                            field="target", code="unknown-reference", value=hd.target)

    def _add_hd(self, hd: HiddenDanger) -> None:
        self._hds[hd.id] = hd
        target = self._nodes[hd.target]
        target.hds[hd.id] = hd
        self._push(target.id)

    def _remove_hd(self, hd_id: str) -> None:
        hd = self._hds.pop(hd_id)
        target = self._nodes[hd.target]
        del target.hds[hd_id]
        self._push(target.id)

    def add(self, kind: str, data: Mapping[str, Any] | Any) -> dict[str, LevelChange]:
        """Add a ``unit``, ``risk_point``, ``hazard`` or ``hidden_danger`` (a mapping or a record)."""
        if kind not in ("unit", "risk_point", "hazard", "hidden_danger"):
            raise GraphError(f"cannot add a {kind!r} (use unit, risk_point, hazard or hidden_danger)")
        rec: Any = data if attrs.has(type(data)) else parse_record(kind, data, f"new {kind}")
        if rec.kind != kind:
            raise GraphError(f"expected a {kind}, got a {rec.kind}", record=rec.id)
        self._check_ids([rec])
        if isinstance(rec, HiddenDanger):
            self._check_target(rec)
            self._add_hd(rec)
            return self._run()
        parent = _parent_of(rec) or self.enterprise.id
        want = {"unit": "enterprise", "risk_point": "unit", "hazard": "risk_point"}[kind]
        if parent not in self._nodes or self._nodes[parent].kind != want:
            field = {"risk_point": "unit", "hazard": "risk_point"}[kind]
            raise FactError(f"no {want.replace('_', ' ')} with id {parent!r}", record=rec.id, field=field,
                            code="unknown-reference", value=parent)
        node = self._add_node(rec.id, kind, rec)
        self._touch(node)
        self._grade_own(node)
        self._evaluate(node)
        self._attach(rec.id, parent, structural=True)
        return self._run()

    def remove(self, record_id: str) -> dict[str, LevelChange]:
        """Remove a hidden danger, or a unit, risk point or hazard that has no children left."""
        if record_id in self._hds:
            self._remove_hd(record_id)
            return self._run()
        node = self._node(record_id)
        if node.kind == "enterprise":
            raise GraphError("the enterprise node cannot be removed", record=record_id)
        kids = sorted(c for c in self._g.pred[record_id] if (c, record_id) in self._structural)
        if kids:
            raise GraphError(f"{record_id} still has {len(kids)} children ({', '.join(kids[:5])}); remove them first",
                             record=record_id)
        if node.hds:
            raise GraphError(f"{record_id} still has hidden dangers ({', '.join(sorted(node.hds))}); "
                             "remove them first", record=record_id)
        self._touch(node)
        contrib = node.contribution()
        for s in list(self._g.succ[record_id]):
            target = self._nodes[s]
            self._touch(target)
            target.adjust(contrib, -1)
            self._push(s)
        for p in list(self._g.pred[record_id]):
            self._deps.pop((p, record_id), None)
        for s in list(self._g.succ[record_id]):
            self._deps.pop((record_id, s), None)
            self._structural.discard((record_id, s))
        self._g.remove_node(record_id)
        del self._nodes[record_id]
        return self._run()

    def add_dependency(self, source: str, target: str, reason: str = "") -> dict[str, LevelChange]:
        """Declare that ``source`` endangers ``target``; a cycle raises :class:`GraphError` (``a -> b -> a``)."""
        self._node(source)
        self._node(target)
        if (source, target) in self._deps:
            return {}
        existed = self._g.has_edge(source, target)
        if not existed:
            self._attach(source, target, structural=False)
        self._deps[(source, target)] = Dependency(source, target, reason)
        return self._run()

    def remove_dependency(self, source: str, target: str) -> dict[str, LevelChange]:
        """Remove a declared extra dependency ({} when there is none)."""
        if self._deps.pop((source, target), None) is None:
            return {}
        if (source, target) not in self._structural:
            self._g.remove_edge(source, target)
            node = self._nodes[target]
            self._touch(node)
            node.adjust(self._nodes[source].contribution(), -1)
            self._push(target)
        return self._run()

    # ------------------------------------------------------------------ results
    def current_enterprise(self) -> Enterprise:
        """The register as it stands now (after updates), references re-checked."""
        by_kind: dict[str, list[Any]] = {"unit": [], "risk_point": [], "hazard": []}
        for nid in sorted(self._nodes):
            n = self._nodes[nid]
            if n.kind in by_kind:
                by_kind[n.kind].append(n.record)
        ent = attrs.evolve(self.enterprise, units=tuple(by_kind["unit"]), risk_points=tuple(by_kind["risk_point"]),
                           hazards=tuple(by_kind["hazard"]),
                           hidden_dangers=tuple(self._hds[k] for k in sorted(self._hds)),
                           dependencies=tuple(self._deps[k] for k in sorted(self._deps)))
        check_references(ent)
        return ent

    def assessment(self) -> EnterpriseAssessment:
        """The current result as an immutable :class:`EnterpriseAssessment`."""
        results: dict[str, NodeResult] = {}
        rulesets: dict[str, Any] = {}
        for nid in sorted(self._nodes):
            results[nid] = self._result(self._nodes[nid], rulesets)
        for rs in (self._default, self._declaring):  # the results record every ruleset they came from
            if rs is not None:
                rulesets.setdefault(rs.id, _ref_dict(rs))
        ent = self.enterprise
        chain = tuple(self._chain(ent.id))
        top = results[ent.id]
        return EnterpriseAssessment(
            enterprise=ent, as_of=self.as_of, as_of_defaulted=self.as_of_defaulted, level=top.level,
            inherent_level=top.inherent_level, nodes=results, chain=chain, rollup_source=self.rollup.source,
            rulesets=dict(sorted(rulesets.items())), decision=self._decision(chain))

    def _decision(self, chain: tuple[ChainStep, ...]) -> Decision:
        """The factor that decided the enterprise's level: the first modifier on the chain (the last of
        a node's run of raises/lowers, which set the level), else the grading at the chain's end."""
        for i, step in enumerate(chain):
            if step.by != "modifier":
                continue
            j = i
            while j + 1 < len(chain) and chain[j + 1].by == "modifier" and chain[j + 1].node == step.node:
                j += 1
            return self._modifier_decision(chain[j].node, chain[j].modifier, chain[j].level)
        last = chain[-1]
        if last.by == "graded":
            return self._graded_decision(last.node, last.level)
        return Decision("default", last.node, "", last.level, _NOTHING_GRADED)

    def _modifier_decision(self, nid: str, a: Applied | None, level: Level) -> Decision:
        assert a is not None
        if a.external:
            return Decision("monitoring", nid, a.id, level, a.basis, a.subjects)
        node = self._nodes[nid]
        mod = next((m for m in self.rollup.for_kind(node.kind).modifiers if m.id == a.id), None)
        cond = mod.when.name if mod is not None else "plugin"
        if cond == "level_at_least":
            # a floor that holds the level the node had already reached: what brought it there decided
            raises = [r for r in (node.dyn.applied if node.dyn else ()) if r.effect == "raise" and r.before != r.after]
            if raises:
                return self._modifier_decision(nid, raises[-1], level)
            if node.grading is not None and node.own == level:
                return self._graded_decision(nid, level)
        return Decision(_FACTOR_OF.get(cond, "direct_rule"), nid, a.id, level, a.basis, a.subjects)

    def _graded_decision(self, nid: str, level: Level) -> Decision:
        node = self._nodes[nid]
        fired = node.grading.fired if node.grading is not None else ()
        hit = next((f for f in fired if f.level == level), fired[0] if fired else None)
        factor = "sector_model" if node.kind == "enterprise" else "risk_points"
        if hit is None:
            return Decision(factor, nid, str(node.ruleset_id), level,
                            Citation(str(node.ruleset_id), basis="local", note="no rule fired"))
        return Decision(factor, nid, f"{node.ruleset_id}:{hit.id}", level, hit.citation)

    def _result(self, node: _Node, rulesets: dict[str, Any]) -> NodeResult:
        assert node.inh is not None and node.dyn is not None
        rec = node.record
        tier = None
        fired: tuple[dict[str, Any], ...] = ()
        score = None
        if node.grading is not None:
            rid = node.ruleset_id
            rs = self._resolve(rid) if rid else None
            if rs is not None and rid is not None and rid not in rulesets:
                rulesets[rid] = _ref_dict(rs)
            tiers = getattr(rs, "control_tiers", None) or _DEFAULT_TIERS
            if node.kind == "risk_point":
                tier = tiers.get(node.dyn.level, _DEFAULT_TIERS[node.dyn.level])
            score = _jsonable(node.grading.score)
            fired = tuple(_fired_dict(f) for f in node.grading.fired)
        open_hds = tuple(sorted(h.id for h in node.hds.values() if h.is_open(self.as_of)))
        return NodeResult(
            id=node.id, kind=node.kind, name=rec.name, inherent_level=node.inh.level, level=node.dyn.level,
            graded=node.dyn.graded, own_level=node.own, ruleset=node.ruleset_id, score=score, fired=fired,
            control_tier=tier, control_tiers=tier_cascade(tier) if tier else (), modifiers=node.dyn.applied, inherent_modifiers=node.inh.applied,
            children=tuple(sorted(self._g.pred[node.id])), parents=tuple(sorted(self._g.succ[node.id])),
            parent=self.enterprise.id if node.kind == "unit" else _parent_of(rec), open_hidden_dangers=open_hds)

    def _chain(self, start: str) -> list[ChainStep]:
        steps: list[ChainStep] = []
        nid: str | None = start
        seen: set[str] = set()
        while nid is not None and nid not in seen:
            seen.add(nid)
            node = self._nodes[nid]
            out = node.dyn
            assert out is not None
            lv = out.level
            nxt: str | None = None
            decisive = [a for a in out.applied if a.effect in ("veto", "floor") and a.after == lv
                        and _lock_level(a) == lv]
            if decisive:
                steps.append(ChainStep(nid, node.kind, node.record.name, lv, "modifier", modifier=decisive[0]))
                break
            if lv > out.pre_lock:
                nxt = self._child_with(nid, lambda n: n.dyn.lock if n.dyn else 0, int(lv))
                steps.append(ChainStep(nid, node.kind, node.record.name, lv, "lock", child=nxt))
                nid = nxt
                continue
            for a in out.applied:
                if a.effect in ("raise", "lower") and a.before != a.after:
                    steps.append(ChainStep(nid, node.kind, node.record.name, a.after, "modifier", modifier=a))
            if out.own_decides:
                fired = node.grading.fired if node.grading is not None else ()
                steps.append(ChainStep(nid, node.kind, node.record.name, out.base, "graded",
                                       ruleset=node.ruleset_id, score=_jsonable(node.grading.score),
                                       rule=fired[0].id if fired else "",
                                       citation=fired[0].citation.text("zh") if fired else "",
                                       citation_en=fired[0].citation.text("en") if fired else ""))
                break
            if not out.graded:
                steps.append(ChainStep(nid, node.kind, node.record.name, out.base, "empty"))
                break
            nxt = self._child_with(nid, lambda n: n.dyn.level if n.dyn else 0, int(out.base))
            steps.append(ChainStep(nid, node.kind, node.record.name, out.base, "max", child=nxt))
            nid = nxt
        return steps

    def _child_with(self, nid: str, key: Callable[[_Node], int], value: int) -> str | None:
        best: tuple[int, str] | None = None
        for c in sorted(self._g.pred[nid]):
            child = self._nodes[c]
            if child.dyn is None or not child.dyn.graded or key(child) != value:
                continue
            cand = (-child.dyn.lock, c)
            if best is None or cand < best:
                best = cand
        return best[1] if best else None


def _accident_counts(accidents: Iterable[Accident], as_of: _dt.date) -> dict[str, int]:
    """The register's accidents counted as the hazchem diagnosis (应急〔2018〕19号) asks, as of ``as_of``:
    in the last 36 months those with 1–2 deaths, 较大 ones and 重大-or-worse ones; in the last 12 months
    the fatal 一般 ones (windows ``(as_of − months, as_of]``).

    >>> acc = [Accident("A-1", _dt.date(2023, 1, 5), "larger", deaths=4), Accident("A-2", _dt.date(2024, 3, 1),
    ...        "general", deaths=1)]
    >>> _accident_counts(acc, _dt.date(2024, 6, 30))["larger_accidents_3y"], _accident_counts(acc, _dt.date(2024, 6, 30))
    (1, {'fatal_accidents_3y': 1, 'larger_accidents_3y': 1, 'major_accidents_3y': 0, 'fatal_accidents_1y': 1})
    """
    y3, y1 = months_before(as_of, 36), months_before(as_of, 12)
    in3 = [a for a in accidents if y3 < a.date <= as_of]
    return {"fatal_accidents_3y": sum(1 for a in in3 if 1 <= a.deaths <= 2),
            "larger_accidents_3y": sum(1 for a in in3 if a.severity == "larger"),
            "major_accidents_3y": sum(1 for a in in3 if accident_rank(a.severity) >= accident_rank("major")),
            "fatal_accidents_1y": sum(1 for a in in3 if a.date > y1 and a.severity == "general" and a.deaths >= 1)}


def _lock_level(a: Applied) -> Level:
    return a.after


def _parent_of(rec: Any) -> str | None:
    if isinstance(rec, RiskPoint):
        return rec.unit
    if isinstance(rec, Hazard):
        return rec.risk_point
    return None


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (int, float, str)) or v is None:
        return v
    return str(v)


def _fired_dict(f: Any) -> dict[str, Any]:
    return {"id": f.id, "level": f.level.name, "citation": f.citation.to_dict()}


def _ref_dict(rs: Any) -> dict[str, Any]:
    ref = getattr(rs, "ref", None)
    if ref is not None and hasattr(ref, "to_dict"):
        d: dict[str, Any] = ref.to_dict()
        return d
    return {"id": rs.id, "version": getattr(rs, "version", ""), "fingerprint": getattr(rs, "fingerprint", "")}


# ---------------------------------------------------------------------------------------------- results


@attrs.frozen
class ChainStep:
    """One link of an explanation chain: how ``node`` got ``level``.

    ``by`` is ``modifier`` (a roll-up or external modifier), ``lock`` (a floor or veto held
    by ``child``), ``max`` (the highest child), ``graded`` (its own facts, by ``ruleset``)
    or ``empty`` (nothing graded below it).
    """

    node: str
    kind: str
    name: str
    level: Level
    by: str
    child: str | None = None
    modifier: Applied | None = None
    ruleset: str | None = None
    score: Any = None
    rule: str = ""
    citation: str = ""
    citation_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"node": self.node, "kind": self.kind, "level": self.level.name, "by": self.by}
        if self.child is not None:
            d["child"] = self.child
        if self.modifier is not None:
            d["modifier"] = self.modifier.to_dict()
        if self.by == "graded":
            d.update(ruleset=self.ruleset, score=self.score, rule=self.rule)
        return d

    def text(self, lang: str, nodes: Mapping[str, NodeResult]) -> str:
        zh = lang == "zh"
        lv = self.level.zh if zh else self.level.name
        if self.by == "modifier":
            m = self.modifier
            assert m is not None
            label = m.label_zh if zh else m.label_en
            what = m.effect_zh if zh else m.effect_en
            subj = ""
            if m.subjects:
                subj = " " + ", ".join(m.subjects)
            at = f"（{_node_label(self.node, nodes, lang)}）" if zh else f" at {_node_label(self.node, nodes, lang)}"
            src = "[外部] " if m.external and zh else ("[external] " if m.external else "")
            return f"{lv} ← {what}{'：' if zh else ': '}{src}{label}{subj}{at}; {_CITE[zh]}: {m.basis.text(lang)}"
        if self.by in ("max", "lock"):
            child = _node_label(self.child, nodes, lang) if self.child else "?"
            if self.by == "max":
                return f"{lv} ← {'下级最高' if zh else 'highest child'}{'：' if zh else ': '}{child}"
            return f"{lv} ← {'下级锁定（否决/下限）' if zh else 'held by a veto/floor below'}{'：' if zh else ': '}{child}"
        if self.by == "graded":
            cite = self.citation if zh else self.citation_en
            own = _node_label(self.node, nodes, lang)
            if zh:
                return f"{lv} ← 按规则集 {self.ruleset} 评定{own}（得分 {self.score}，规则 {self.rule}；{cite}）"
            return f"{lv} ← {own} graded by {self.ruleset} (score {self.score}, rule {self.rule}; {cite})"
        return f"{lv} ← {'无已评定的下级，取低风险' if zh else 'nothing graded below; low risk'}"


#: the word before a citation in an explanation line, as the ruleset trace writes it
_CITE = {True: "依据", False: "cite"}


def _node_label(nid: str | None, nodes: Mapping[str, NodeResult], lang: str) -> str:
    if nid is None or nid not in nodes:
        return str(nid)
    r = nodes[nid]
    kz, ke = KIND_LABELS[r.kind]
    return f"{kz} {nid}（{r.name}）" if lang == "zh" else f"{ke} {nid} ({r.name})"


def tiers_text(tiers: Iterable[str], lang: str = "en") -> str:
    """A control-tier cascade as people read it: ``公司(厂)级→车间(部室)级→班组级→岗位级``.

    >>> tiers_text(("team", "post"), "zh"), tiers_text(("team", "post"))
    ('班组级→岗位级', 'team → post')
    """
    i = 0 if lang == "zh" else 1
    return ("→" if lang == "zh" else " → ").join(TIER_LABELS[t][i] for t in tiers)


@attrs.frozen
class Decision:
    """What decided the enterprise's level: ``factor`` (a key of :data:`FACTORS`), the ``node`` where it
    acts, the modifier or grading ``rule`` and its ``citation``, whose ``basis`` is the kind of the
    citation (``clause`` / ``derived`` / ``local``)."""

    factor: str
    node: str
    rule: str
    level: Level
    citation: Citation
    #: the hidden dangers or accidents the modifier counted, by id
    subjects: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The citation kind: ``clause`` (a clause says it), ``derived`` or ``local``."""
        return self.citation.basis

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "node": self.node, "rule": self.rule, "level": self.level.name,
                "kind": self.kind, "citation": self.citation.to_dict(), "subjects": list(self.subjects)}

    def text(self, lang: str, nodes: Mapping[str, NodeResult]) -> str:
        zh = lang == "zh"
        what = FACTORS[self.factor][0 if zh else 1]
        at = _node_label(self.node, nodes, lang)
        rule = " ".join((self.rule, *self.subjects))
        if zh:
            return f"决定因素：{what}（{at}，{rule}；依据 {self.citation.text(lang)}）"
        return f"deciding factor: {what} ({at}, {rule}; cite: {self.citation.text(lang)})"


@attrs.frozen
class NodeResult:
    """The graded state of one node of the enterprise graph."""

    id: str
    kind: str
    name: str
    inherent_level: Level
    level: Level
    graded: bool
    own_level: Level | None = None
    ruleset: str | None = None
    score: Any = None
    fired: tuple[dict[str, Any], ...] = ()
    #: the highest control tier (管控层级) of a graded risk point, and the cascade from it down to post
    control_tier: str | None = None
    control_tiers: tuple[str, ...] = ()
    modifiers: tuple[Applied, ...] = ()
    inherent_modifiers: tuple[Applied, ...] = ()
    children: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    parent: str | None = None
    open_hidden_dangers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind, "name": self.name, "level": self.level.name,
            "inherent_level": self.inherent_level.name, "graded": self.graded,
            "children": list(self.children), "parents": list(self.parents), "parent": self.parent,
            "modifiers": [a.to_dict() for a in self.modifiers],
        }
        if self.inherent_modifiers:
            d["inherent_modifiers"] = [a.to_dict() for a in self.inherent_modifiers]
        if self.own_level is not None:
            d.update(own_level=self.own_level.name, ruleset=self.ruleset, score=self.score, fired=list(self.fired))
        if self.control_tier is not None:
            d["control_tier"] = self.control_tier
            d["control_tiers"] = list(self.control_tiers)
        if self.open_hidden_dangers:
            d["open_hidden_dangers"] = list(self.open_hidden_dangers)
        return d


@attrs.frozen
class EnterpriseAssessment:
    """The result of assessing an enterprise: its level, inherent level, every node, the explanation.

    ``to_dict()`` is the stable result (schema ``riskgrade.enterprise-assessment/1``, documented in
    ``docs/enterprise.md``); ``to_json()`` is byte-identical for the same input and ``as_of``.
    """

    enterprise: Enterprise
    as_of: _dt.date
    level: Level
    inherent_level: Level
    nodes: Mapping[str, NodeResult] = attrs.field(eq=False)
    chain: tuple[ChainStep, ...] = ()
    rollup_source: str = "default"
    rulesets: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    as_of_defaulted: bool = False
    #: what decided :attr:`level` (None only for an assessment built by hand)
    decision: Decision | None = None

    def __getitem__(self, node_id: str) -> NodeResult:
        return self.nodes[node_id]

    @property
    def risk_points(self) -> list[NodeResult]:
        """The risk point results, by id."""
        return [r for r in self.nodes.values() if r.kind == "risk_point"]

    def counts(self) -> dict[str, dict[str, int]]:
        """Risk points by dynamic and inherent level: ``{"level": {"RED": n, ...}, "inherent": {...}}``."""
        out = {"level": {lv.name: 0 for lv in reversed(Level)}, "inherent": {lv.name: 0 for lv in reversed(Level)}}
        for r in self.risk_points:
            out["level"][r.level.name] += 1
            out["inherent"][r.inherent_level.name] += 1
        return out

    def explain(self, lang: str = "en") -> str:
        """Why the enterprise has its level: the chain of nodes and modifiers that decided it.

        The first line names the enterprise, its level, inherent level and the ``as_of`` date.
        """
        ent = self.enterprise
        zh = lang == "zh"
        if zh:
            head = (f"企业 {ent.id}（{ent.name}）：{self.level.zh}（{self.level.colour_zh}），"
                    f"固有风险 {self.inherent_level.zh}，评估基准日 {self.as_of.isoformat()}")
        else:
            head = (f"enterprise {ent.id} ({ent.name}): {self.level.name} ({self.level.en}), "
                    f"inherent {self.inherent_level.name}, as of {self.as_of.isoformat()}")
        lines = [head]
        if self.decision is not None:
            lines.append("  " + self.decision.text(lang, self.nodes))
        lines += ["  " + s.text(lang, self.nodes) for s in self.chain]
        on_chain = [n for s in self.chain for n in (s.node, s.child) if n is not None]
        for nid in dict.fromkeys(on_chain):  # the control tiers of the risk points that decided the level
            tiers = self.nodes[nid].control_tiers if nid in self.nodes else ()
            if tiers:
                at = _node_label(nid, self.nodes, lang)
                lines.append(f"  管控层级（{at}）：{tiers_text(tiers, lang)}; 依据: {TIER_BASIS.text(lang)}" if zh
                             else f"  control tiers of {at}: {tiers_text(tiers, lang)}; cite: {TIER_BASIS.text(lang)}")
        top = self.nodes[ent.id]
        if top.own_level is not None and not any(s.by == "graded" and s.node == ent.id for s in self.chain):
            lv = top.own_level.zh if zh else top.own_level.name
            rule = next((f["id"] for f in top.fired if f["level"] == top.own_level.name), "")
            lines.append(f"  另: 企业整体评估 {top.ruleset} 评定为{lv}（得分 {top.score}，规则 {rule}），未决定等级" if zh
                         else f"  also: enterprise model {top.ruleset} grades it {lv} (score {top.score}, rule {rule}); "
                              "not the deciding factor")
        others = [a for a in self.nodes[ent.id].modifiers
                  if not any(s.modifier is a for s in self.chain)]
        for a in others:
            label = a.label_zh if zh else a.label_en
            what = a.effect_zh if zh else a.effect_en
            subj = "".join(" " + x for x in a.subjects)
            held = ""
            if a.before == a.after and a.effect in ("raise", "lower"):
                held = "（未生效：受否决/下限约束）" if zh else " (no effect: held by a veto/floor)"
            lines.append(f"  {'另' if zh else 'also'}: {what}: {label}{subj}{held}; {_CITE[zh]}: {a.basis.text(lang)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        ent = self.enterprise
        return {
            "schema": SCHEMA,
            "as_of": self.as_of.isoformat(),
            "as_of_defaulted": self.as_of_defaulted,
            "enterprise": {"id": ent.id, "name": ent.name, "jurisdiction": ent.jurisdiction, "zone": ent.zone,
                           "sectors": list(ent.sectors), "uscc": ent.uscc,
                           "standardisation": ent.standardisation},
            "level": self.level.name,
            "inherent_level": self.inherent_level.name,
            "rollup": self.rollup_source,
            "decided_by": self.decision.to_dict() if self.decision is not None else None,
            "rulesets": dict(self.rulesets),
            "counts": self.counts(),
            "chain": [s.to_dict() for s in self.chain],
            "nodes": {k: v.to_dict() for k, v in sorted(self.nodes.items())},
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as canonical JSON (sorted keys, UTF-8 text)."""
        return dumps(self.to_dict(), indent=indent)

    def tree(self, lang: str = "en", style: Callable[[str, Level], str] | None = None) -> str:
        """The register as a tree (enterprise → units → risk points → hazards) with levels.

        ``style(text, level)`` may colour each level label (the CLI passes ``click.style``).
        """
        paint = style or (lambda text, level: text)
        zh = lang == "zh"
        by_parent: dict[str, list[str]] = {}
        for r in self.nodes.values():
            if r.parent is not None:
                by_parent.setdefault(r.parent, []).append(r.id)

        def line(r: NodeResult) -> str:
            if not r.graded:
                return f"{r.id} {r.name}  {'未评定' if zh else 'not graded'}"
            lv = paint(f"{r.level.name:<6} {r.level.zh if zh else r.level.en}", r.level)
            extra = []
            if r.inherent_level != r.level:
                extra.append(f"{'固有' if zh else 'inherent'} {r.inherent_level.name}")
            if r.score is not None:
                extra.append(f"{'得分' if zh else 'score'} {r.score}")
            if r.control_tiers:
                extra.append(f"{'管控' if zh else 'tiers'} {tiers_text(r.control_tiers, lang)}")
            for a in r.modifiers:
                extra.append(f"{a.effect_zh if zh else a.effect_en}: {a.label_zh if zh else a.label_en}"
                             + (f" {','.join(a.subjects)}" if a.subjects else ""))
            tail = f"  ({'; '.join(extra)})" if extra else ""
            return f"{r.id} {r.name}  {lv}{tail}"

        out = [line(self.nodes[self.enterprise.id])]

        def walk(nid: str, prefix: str) -> None:
            kids = sorted(by_parent.get(nid, []))
            for i, k in enumerate(kids):
                last = i == len(kids) - 1
                out.append(prefix + ("└── " if last else "├── ") + line(self.nodes[k]))
                walk(k, prefix + ("    " if last else "│   "))
        walk(self.enterprise.id, "")
        return "\n".join(out)


def assess(ruleset_or_resolver: Any, enterprise: Enterprise | Mapping[str, Any] | str, *,
           as_of: _dt.date | None = None) -> EnterpriseAssessment:
    """Assess ``enterprise`` (an :class:`Enterprise`, a register mapping or file path).

    ``ruleset_or_resolver``: the default ruleset (``Ruleset.assess`` passes itself), a ruleset
    name, a callable resolving ruleset names, or ``None`` to resolve the names in the register
    with ``riskgrade.load`` (cached per call). ``as_of`` defaults to today and is recorded.

    >>> import riskgrade, datetime
    >>> a = assess(riskgrade.load, "examples/enterprises/chem-plant.yaml", as_of=datetime.date(2024, 6, 30))
    >>> a.level.name, a.inherent_level.name
    ('RED', 'ORANGE')
    >>> print(a.explain("en").splitlines()[4])  # doctest: +ELLIPSIS
      RED ← veto → RED: open major hidden danger HD-... at risk point ...
    >>> a.decision.factor, a.decision.kind, a.rollup_source
    ('hidden_danger', 'derived', 'ruleset:hazchem-enterprise-2018')
    """
    return RiskGraph.build(ruleset_or_resolver, enterprise, as_of=as_of).assessment()

