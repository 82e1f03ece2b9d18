"""Real-time monitoring (实时监测预警) on the durable-rules engine, feeding dynamic re-grading.

:class:`Monitor` turns monitoring events into warnings (:class:`Alert`) and, through the
enterprise graph's incremental re-grade, into changes of dynamic risk levels.

How the work is split (the measurements behind it are in ``docs/monitoring.md``):

* **durable-rules matches.** Every warning rule compiles to durable-rules rules over
  *facts*: each event is asserted as a transient fact (so that every rule it matches
  fires, which an event would not: a durable-rules event is consumed by one rule) and
  retracted at once; open hidden dangers and active alarms are long-lived facts, so
  "overdue" (``event.time > hidden_danger.deadline``) and "two points alarming together"
  are Rete joins.
* **Event time, not wall-clock time.** durable-rules timers run on the wall clock, so
  none are used. Delays, durations and windows are measured between event times by
  small per-rule state machines that the engine's matches drive.
* **One monitor, one engine.** Each monitor owns a durable-rules host without the
  background dispatcher threads, one ruleset with a process-unique name, and one
  session id (``sid``) -- the enterprise id. Every action runs inside the call that
  asserted the fact, so results are complete and in order when ``feed`` returns.
* **Errors surface.** durable-rules swallows an exception raised in an action (it is
  stored as text in the session state, and stays there); our actions catch their own
  errors and :meth:`Monitor.feed` raises :class:`~riskgrade.exceptions.MonitorError`.

* **The graph's records follow the events.** With a graph that keeps records
  (:class:`GraphRecords`, i.e. :class:`~riskgrade._graph.RiskGraph`), a hidden danger
  reported, rectified or verified is added to or updated in the graph, so the roll-up's veto
  (open major hidden danger -> RED) and overdue raise apply; bad ones (unknown risk point or
  hidden danger, duplicate id, impossible transition) are error records. The graph's
  ``as_of`` follows the date of event time, day by day (``set_as_of`` at each midnight, level
  changes reported at that midnight), and never moves back -- except that a graph built
  without an explicit date is first set to the date of the first event.

Out-of-order events: the monitor holds events in a reorder buffer for ``tolerance``
seconds of event time and processes them in time order (ties in arrival order). An
event older than the last processed one is reported as a ``late-event`` error, never
dropped silently. With ``tolerance=0`` (the default) every event in order is processed
as soon as it is fed. :meth:`Monitor.flush` processes what is still buffered.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import json
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from riskgrade._core.canonical import dumps as canonical_dumps
from riskgrade._core.canonical import fingerprint
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._enterprise.register import HiddenDanger, parse_record
from riskgrade._monitor.events import (
    CST,
    EVENT_TYPES,
    PARSED,
    Event,
    EventError,
    format_time,
    parse_event,
    read_events,
)
from riskgrade._monitor.rules import WarningRule, WarningRules
from riskgrade.exceptions import FactError, GraphError, MonitorError

__all__ = ["STATE_FORMAT", "STATE_VERSION", "Alert", "DynamicLevelChange", "FeedResult", "GraphEffects",
           "GraphRecords", "Monitor", "StateError", "engine_rules"]

#: what a checkpoint says it is (:meth:`Monitor.checkpoint`)
STATE_FORMAT = "riskgrade-monitor-state"
#: the version of the checkpoint format; a checkpoint of another version is refused (``bad-state``)
STATE_VERSION = 1


class StateError(MonitorError):
    """A checkpoint that cannot be restored. ``code``: ``bad-state`` (corrupt, not a checkpoint, another
    format version) or ``state-mismatch`` (another ruleset, enterprise, tolerance or event log)."""

    def __init__(self, message: str, code: str = "bad-state") -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- results

@attrs.frozen
class Alert:
    """A warning (预警) raised by a warning rule about one subject (a point, a pair, a hidden danger)."""

    rule: str
    key: str
    kind: str
    level: Level
    message_zh: str
    message_en: str
    cite: Citation
    nodes: tuple[str, ...]
    steps: int
    raised_at: float
    cleared_at: float | None = None
    values: tuple[tuple[str, Any], ...] = ()

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        return self.message_zh if lang == "zh" else self.message_en

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule, "key": self.key, "kind": self.kind, "level": self.level.name,
            "message": {"zh": self.message_zh, "en": self.message_en}, "cite": self.cite.to_dict(),
            "effect": {"nodes": list(self.nodes), "raise": self.steps},
            "raised_at": format_time(self.raised_at),
        }
        if self.cleared_at is not None:
            out["cleared_at"] = format_time(self.cleared_at)
        out["values"] = {k: v for k, v in self.values}
        return out

    def _state(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "kind": self.kind, "level": self.level.name,
                "zh": self.message_zh, "en": self.message_en, "cite": self.cite.to_dict(), "nodes": list(self.nodes),
                "steps": self.steps, "raised_at": self.raised_at, "values": [[k, v] for k, v in self.values]}

    @classmethod
    def _from_state(cls, d: Mapping[str, Any]) -> Alert:
        return cls(rule=d["rule"], key=d["key"], kind=d["kind"], level=Level.parse(d["level"]), message_zh=d["zh"],
                   message_en=d["en"], cite=Citation(**d["cite"]), nodes=tuple(d["nodes"]), steps=int(d["steps"]),
                   raised_at=float(d["raised_at"]), values=tuple((k, _jsonable(v)) for k, v in d["values"]))


@attrs.frozen
class DynamicLevelChange:
    """A node's dynamic level changed because a warning was raised or cleared."""

    node: str
    before: Level
    after: Level
    time: float
    cause: str  # "rule/key" of the warning

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "from": self.before.name, "to": self.after.name,
                "time": format_time(self.time), "cause": self.cause}


@attrs.frozen
class FeedResult:
    """What one :meth:`Monitor.feed` (or :meth:`Monitor.flush`) produced, in order.

    ``records`` is the ordered, JSON-ready log: ``warning_raised``, ``warning_cleared``,
    ``hidden_danger``, ``level_changed`` and ``error`` records. ``hidden_dangers`` holds the
    hidden dangers reported, rectified, verified or reopened, as they stand after the event.
    """

    raised: tuple[Alert, ...] = ()
    cleared: tuple[Alert, ...] = ()
    changes: tuple[DynamicLevelChange, ...] = ()
    errors: tuple[EventError, ...] = ()
    records: tuple[dict[str, Any], ...] = ()
    processed: int = 0
    hidden_dangers: tuple[HiddenDanger, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.records)


# --------------------------------------------------------------------------- graph protocol

@runtime_checkable
class GraphEffects(Protocol):
    """What the monitor needs from the enterprise graph: external modifiers on dynamic levels.

    Both methods return the level changes they caused: ``{node: change}`` or a sequence,
    each change an object with ``node``, ``before`` and ``after`` (or a ``(node, before,
    after)`` tuple). :class:`riskgrade._graph.RiskGraph` is the implementation.
    """

    def set_modifier(self, node_id: str, key: str, steps: int, reason: str, *, floor: Level | None = None,
                     cite: str = "", kind: str = "local") -> Any: ...

    def clear_modifier(self, node_id: str, key: str) -> Any: ...


@runtime_checkable
class GraphRecords(Protocol):
    """What the monitor needs to keep the graph's records in step with the events (optional).

    With it, hidden-danger events add and update :class:`~riskgrade._enterprise.HiddenDanger`
    records (so the roll-up's veto and overdue raise apply) and the graph's ``as_of`` follows
    event time. :class:`riskgrade._graph.RiskGraph` is the implementation.
    """

    as_of: _dt.date
    as_of_defaulted: bool

    def add(self, kind: str, data: Any) -> Any: ...

    def update(self, record_id: str, changes: Mapping[str, Any]) -> Any: ...

    def set_as_of(self, as_of: _dt.date) -> Any: ...

    def kind(self, node_id: str) -> str | None: ...

    def hidden_danger(self, hd_id: str) -> HiddenDanger | None: ...


def _change_parts(change: Any) -> tuple[str, Level, Level] | None:
    if isinstance(change, tuple):
        node, before, after = change
    else:
        node = getattr(change, "node", None) or getattr(change, "node_id", None)
        before = getattr(change, "before", None)
        after = getattr(change, "after", None)
    if before is None or after is None:  # a node added or removed: not a level change of a warning
        return None
    return str(node), Level.parse(before), Level.parse(after)


# --------------------------------------------------------------------------- compile to durable-rules

def _eq(field: str, value: Any) -> dict[str, Any]:
    return {field: value}


def _any_of(field: str, values: Sequence[str]) -> dict[str, Any]:
    if len(values) == 1:
        return {field: values[0]}
    return {"$or": [{field: v} for v in values]}


def engine_rules(rule: WarningRule, limit: float | None = None) -> dict[str, dict[str, Any]]:
    """The durable-rules definitions (JSON, no actions) a warning rule compiles to.

    Rule names are ``<rule id>#<signal>``; ``limit`` is the rule's limit resolved to a
    number (for ``threshold`` and ``sustained``).

    >>> from riskgrade._monitor.rules import parse_monitor_ruleset, EXAMPLE
    >>> rule = parse_monitor_ruleset(EXAMPLE).rules[0]
    >>> sorted(engine_rules(rule, 80.0))
    ['t#back', 't#over']
    >>> engine_rules(rule, 80.0)["t#over"]["all"][0]["m"]["$and"][-1]
    {'$gt': {'value': 80.0}}
    """
    ev = [_eq("t", "ev")]
    if rule.kind in ("threshold", "sustained"):
        assert limit is not None
        reading = [*ev, _eq("type", "reading"), _eq("point", rule.point)]
        if rule.above:
            over = {"$gt": {"value": limit}}
            back = {"$lte": {"value": limit - rule.deadband}}
        else:
            over = {"$lt": {"value": limit}}
            back = {"$gte": {"value": limit + rule.deadband}}
        return {f"{rule.id}#over": {"all": [{"m": {"$and": [*reading, over]}}]},
                f"{rule.id}#back": {"all": [{"m": {"$and": [*reading, back]}}]}}
    if rule.kind == "alarm_count":
        alarm = [*ev, _eq("type", "alarm"), _eq("point", rule.point), _eq("state", "raised"),
                 _any_of("alarm", rule.alarms)]
        return {f"{rule.id}#alarm": {"all": [{"m": {"$and": alarm}}]}}
    if rule.kind == "together":
        # one engine rule per pair of alarm kinds: measured, an ``$or`` next to a cross-fact comparison
        # in the same ``$and`` makes durable-rules 2.0.28 ignore the comparison (docs/monitoring.md)
        first, second = rule.points
        out: dict[str, dict[str, Any]] = {}
        for ka, kb in itertools.product(rule.alarms, rule.alarms):
            a = [_eq("t", "al"), _eq("point", first), _eq("alarm", ka)]
            b = [_eq("t", "al"), _eq("point", second), _eq("alarm", kb)]
            if rule.within is not None:
                b.append({"$lte": {"since": {"$add": {"$l": {"a": "since"}, "$r": rule.within}}}})
                b.append({"$gte": {"since": {"$sub": {"$l": {"a": "since"}, "$r": rule.within}}}})
            out[f"{rule.id}#pair:{ka}:{kb}"] = {"all": [{"a": {"$and": a}}, {"b": {"$and": b}}]}
        return out
    if rule.kind == "hidden_danger_overdue":
        hd: list[dict[str, Any]] = [_eq("t", "hd"), {"$nex": {"overdue": 1}}]
        if rule.major_only:
            hd.append(_eq("major", 1))
        late = [*ev, {"$gt": {"time": {"hd": "deadline"}}}]
        told = [*ev, _eq("type", "rectification_overdue"), {"hidden_danger": {"hd": "hd"}}]
        return {f"{rule.id}#late": {"all": [{"hd": {"$and": hd}}, {"ev": {"$and": late}}]},
                f"{rule.id}#told": {"all": [{"hd": {"$and": hd}}, {"ev": {"$and": told}}]}}
    raise ValueError(f"unknown warning kind {rule.kind!r}")


_NAMES = itertools.count(1)
_NAMES_LOCK = threading.Lock()


def _unique_name(enterprise: str) -> str:
    with _NAMES_LOCK:
        n = next(_NAMES)
    return f"riskgrade.monitor.{n}.{enterprise}"


# --------------------------------------------------------------------------- detectors

Hit = Mapping[str, Mapping[str, Any]]
Transition = tuple[str, str, dict[str, Any]]  # ("raise" | "clear", key, values)


class _Detector:
    #: the attributes that hold the detector's state between events (what a checkpoint saves)
    STATE: tuple[str, ...] = ()

    def __init__(self, rule: WarningRule) -> None:
        self.rule = rule

    def state(self) -> dict[str, Any]:
        return {name: (list(v) if isinstance(v, deque) else v) for name in self.STATE
                for v in (getattr(self, name),)}

    def load(self, state: Mapping[str, Any]) -> None:
        for name in self.STATE:
            current = getattr(self, name)
            value = state[name]
            if isinstance(current, deque):
                value = deque(float(x) for x in value)
            elif isinstance(current, float):
                value = float(value)
            elif type(current) is not type(value):
                raise TypeError(f"{name}: {type(value).__name__}")
            setattr(self, name, value)

    def step(self, ev: Event, hits: Mapping[str, list[Hit]], mon: Monitor) -> list[Transition]:
        raise NotImplementedError


class _Threshold(_Detector):
    """threshold / sustained: over the limit (for ``delay``) raises; back past the deadband clears."""

    STATE = ("phase", "since")

    def __init__(self, rule: WarningRule, limit: float, unit: str) -> None:
        super().__init__(rule)
        self.limit = limit
        self.unit = unit
        self.phase = "idle"
        self.since = 0.0

    def step(self, ev: Event, hits: Mapping[str, list[Hit]], mon: Monitor) -> list[Transition]:
        if ev.type != "reading" or ev.point != self.rule.point:
            return []
        rid = self.rule.id
        values = {"point": ev.point, "value": ev.value, "unit": ev.unit or self.unit, "limit": self.limit}
        if hits.get(f"{rid}#over"):
            if self.phase == "idle":
                self.phase, self.since = "pending", ev.time
            if self.phase == "pending" and ev.time - self.since >= self.rule.delay:
                self.phase = "active"
                values.update(since=format_time(self.since), duration=_span(self.rule.delay))
                return [("raise", str(ev.point), values)]
        elif self.phase == "pending":
            self.phase = "idle"
        elif self.phase == "active" and hits.get(f"{rid}#back"):
            self.phase = "idle"
            return [("clear", str(ev.point), values)]
        return []


class _AlarmCount(_Detector):
    """≥ count alarms in the window (t - window, t]... inclusive: an alarm at a counts while t - a <= window."""

    STATE = ("times", "active")

    def __init__(self, rule: WarningRule) -> None:
        super().__init__(rule)
        self.times: deque[float] = deque()
        self.active = False

    def step(self, ev: Event, hits: Mapping[str, list[Hit]], mon: Monitor) -> list[Transition]:
        rule = self.rule
        if hits.get(f"{rule.id}#alarm"):
            self.times.append(ev.time)
        horizon = ev.time - rule.window
        while self.times and self.times[0] < horizon:
            self.times.popleft()
        values = {"point": rule.point, "count": len(self.times), "window": _span(rule.window),
                  "alarms": list(rule.alarms)}
        if not self.active and len(self.times) >= rule.count:
            self.active = True
            return [("raise", str(rule.point), values)]
        if self.active and len(self.times) < rule.count:
            self.active = False
            return [("clear", str(rule.point), values)]
        return []


class _Together(_Detector):
    """Two points alarming together: the engine joins the active-alarm facts; clears when one clears."""

    STATE = ("active",)

    def __init__(self, rule: WarningRule) -> None:
        super().__init__(rule)
        self.active = False

    def step(self, ev: Event, hits: Mapping[str, list[Hit]], mon: Monitor) -> list[Transition]:
        rule = self.rule
        key = "+".join(rule.points)
        values = {"points": list(rule.points), "alarms": list(rule.alarms),
                  "within": _span(rule.within) if rule.within is not None else ""}
        prefix = f"{rule.id}#pair:"
        if not self.active and any(name.startswith(prefix) for name in hits):
            self.active = True
            return [("raise", key, values)]
        if (self.active and ev.type == "alarm" and ev.point in rule.points and ev.state == "cleared"
                and not all(mon._alarming(p, rule.alarms) for p in rule.points)):
            self.active = False
            return [("clear", key, values)]
        return []


class _Overdue(_Detector):
    """A hidden danger open past its deadline (engine join ``ev.time > hd.deadline``) until it is closed
    (rectified, or verified while still open)."""

    STATE = ("active",)

    def __init__(self, rule: WarningRule) -> None:
        super().__init__(rule)
        self.active: dict[str, dict[str, Any]] = {}

    def step(self, ev: Event, hits: Mapping[str, list[Hit]], mon: Monitor) -> list[Transition]:
        out: list[Transition] = []
        rid = self.rule.id
        for hit in (*hits.get(f"{rid}#late", ()), *hits.get(f"{rid}#told", ())):
            hd = hit["hd"]
            name = str(hd["hd"])
            if name not in self.active:
                values = {"hidden_danger": name, "risk_point": hd["rp"], "deadline": format_time(hd["deadline"])}
                self.active[name] = values
                out.append(("raise", name, values))
        closing = mon._closing
        if closing is not None and closing in self.active:
            out.append(("clear", closing, self.active.pop(closing)))
        return out


def _span(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


# --------------------------------------------------------------------------- the monitor

def _register_of(enterprise: Any) -> Any:
    reg = getattr(enterprise, "enterprise", None)
    return reg if reg is not None and hasattr(reg, "monitoring_points") else enterprise


def _rules_of(ruleset: Any) -> WarningRules:
    if isinstance(ruleset, WarningRules):
        return ruleset
    section = getattr(ruleset, "section", None)
    if callable(section):
        found = section("warnings")
        if isinstance(found, WarningRules):
            return found
        raise MonitorError("the ruleset has no 'warnings' section")
    if isinstance(ruleset, str):
        raise MonitorError(f"{ruleset!r}: load it first (riskgrade.Monitor loads a ruleset reference)")
    raise MonitorError(f"not a ruleset with warnings: {ruleset!r}")


class Monitor:
    """Real-time monitoring of one enterprise.

    ``ruleset`` is a compiled ruleset with a ``warnings`` section, a monitoring ruleset
    (:class:`~riskgrade._warnings.WarningRules`), or a reference to load. ``enterprise``
    is the enterprise graph (it applies the warnings' effects to dynamic levels) or a
    plain register, in which case ``graph`` may give the object that applies effects.

    Not thread-safe: feed one monitor from one thread. Many monitors may run in one process.
    """

    def __init__(self, ruleset: Any, enterprise: Any, *, graph: GraphEffects | None = None,
                 tolerance: float | None = None) -> None:
        self.rules = _rules_of(ruleset)
        self.register = _register_of(enterprise)
        if graph is None and isinstance(enterprise, GraphEffects):
            graph = enterprise
        self.graph = graph
        self._records: GraphRecords | None = graph if isinstance(graph, GraphRecords) else None
        # without a graph that keeps records: the register's records, kept up to date from the events
        self._book: dict[str, HiddenDanger] = {}
        self._kinds: dict[str, str] = {}
        if self._records is None:
            self._book = {hd.id: hd for hd in getattr(self.register, "hidden_dangers", ())}
            self._kinds = {getattr(self.register, "id", ""): "enterprise"}
            for group, kind in (("units", "unit"), ("risk_points", "risk_point"), ("hazards", "hazard")):
                self._kinds.update({rec.id: kind for rec in getattr(self.register, group, ())})
        self._next_midnight = float("-inf")  # event time at which the graph's as_of must advance
        self._closing: str | None = None  # the hidden danger the current event closes
        self.tolerance = self.rules.tolerance if tolerance is None else float(tolerance)
        if not 0 <= self.tolerance <= _MAX_TOLERANCE:  # also refuses NaN
            raise MonitorError(f"tolerance must be 0 to {_MAX_TOLERANCE:g} seconds, not {tolerance!r}")
        self.enterprise_id = str(getattr(self.register, "id", "enterprise"))
        self._points: dict[str, Any] = {p.id: p for p in getattr(self.register, "monitoring_points", ())}
        self._detectors: list[_Detector] = []
        definitions: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        for rule in self.rules.rules:
            limit: float | None = None
            unit = ""
            for pid in (rule.point, *rule.points):
                if pid is not None and pid not in self._points:
                    problems.append(f"warning {rule.id!r}: no monitoring point {pid!r} in enterprise "
                                    f"{self.enterprise_id!r}")
            if rule.kind in ("threshold", "sustained") and rule.point in self._points:
                point = self._points[rule.point]
                unit = point.unit
                if isinstance(rule.limit, str):
                    found = getattr(point, rule.limit, None)
                    if found is None:
                        problems.append(f"warning {rule.id!r}: monitoring point {rule.point!r} has no "
                                        f"{rule.limit} alarm limit")
                    else:
                        limit = float(found)
                else:
                    limit = rule.limit
            if problems:
                continue
            if rule.kind in ("threshold", "sustained"):
                assert limit is not None
                self._detectors.append(_Threshold(rule, limit, unit))
            elif rule.kind == "alarm_count":
                self._detectors.append(_AlarmCount(rule))
            elif rule.kind == "together":
                self._detectors.append(_Together(rule))
            else:
                self._detectors.append(_Overdue(rule))
            definitions.update(engine_rules(rule, limit))
        if problems:
            raise MonitorError("; ".join(problems))
        self._together_points = {p for r in self.rules.rules if r.kind == "together" for p in r.points}
        self._hits: list[tuple[str, dict[str, Any]]] = []
        self.name = _unique_name(self.enterprise_id)
        self._sid = self.enterprise_id
        self._engine: Any = None
        if definitions:
            # durable-rules loads a native extension: imported when a monitor needs it, not by `import riskgrade`
            from riskgrade._monitor.engine import Engine

            hits = self._hits
            self._engine = Engine(self.name, definitions, lambda rule, m: hits.append((rule, m)))
        self._closed = False
        self._broken: MonitorError | None = None
        self._seq = 0
        self._buffer: list[tuple[float, int, Event]] = []
        self._arrivals = 0
        self._max_seen = float("-inf")
        self._released = float("-inf")
        self._seen_ids: OrderedDict[str, None] = OrderedDict()
        self._alarm_facts: dict[tuple[str, str], dict[str, Any]] = {}
        self._hd_facts: dict[str, dict[str, Any]] = {}
        self._hd_info: dict[str, tuple[str, float, bool]] = {}
        self._active: dict[tuple[str, str], Alert] = {}
        self._fed = 0  # feed() calls, errors included: a caller resuming a stream skips this many events
        self._touched: dict[str, None] = {}  # hidden dangers the events added or changed, in order
        self._seed_hidden_dangers()

    # -- engine plumbing

    def _call(self, method: str, fact: dict[str, Any]) -> None:
        if self._engine is None:
            return
        try:
            self._engine.call(method, fact)
        except Exception as exc:  # the engine adapter's EngineFailure (its module is imported lazily)
            raise self._fail(str(exc)) from exc

    def _fail(self, message: str) -> MonitorError:
        self._broken = MonitorError(f"monitor {self.name}: {message}")
        return self._broken

    def _fact(self, ident: str, **fields: Any) -> dict[str, Any]:
        return {"sid": self._sid, "id": ident, **{k: v for k, v in fields.items() if v is not None}}

    def _seed_hidden_dangers(self) -> None:
        current = getattr(self._records, "current_enterprise", None)
        source = current() if callable(current) else self.register
        for hd in getattr(source, "hidden_dangers", ()):
            if getattr(hd, "status", "open") != "open" or getattr(hd, "deadline", None) is None:
                continue
            self._open_hd(hd.id, self._risk_point_of(hd.target), _midnight(hd.deadline + _DAY) - 1,
                          getattr(hd, "grade", "general") == "major")

    def _kind_of(self, node_id: str) -> str | None:
        if self._records is not None:
            return self._records.kind(node_id)
        return self._kinds.get(node_id)

    def _hidden_danger(self, hd_id: str) -> HiddenDanger | None:
        if self._records is not None:
            return self._records.hidden_danger(hd_id)
        return self._book.get(hd_id)

    def _risk_point_of(self, node: str) -> str:
        rec: Any = None
        try:
            rec = self.register.record(node)
        except (KeyError, AttributeError):
            return node
        return str(getattr(rec, "risk_point", None) or node)

    def _open_hd(self, hd: str, rp: str, deadline: float, major: bool) -> None:
        if hd in self._hd_facts:
            self._call("retract_fact", self._hd_facts.pop(hd))
        self._hd_info[hd] = (rp, deadline, major)
        fact = self._fact(f"hd:{hd}", t="hd", hd=hd, rp=rp, deadline=deadline, major=int(major))
        self._hd_facts[hd] = fact
        self._call("assert_fact", fact)

    def _alarming(self, point: str, alarms: Sequence[str]) -> bool:
        return any((point, a) in self._alarm_facts for a in alarms)

    # -- public API

    def feed(self, event: Event | Mapping[str, Any], record: Any = None) -> FeedResult:
        """Process one event; return what it raised, cleared and changed.

        A mapping is validated (:func:`~riskgrade._monitor.events.parse_event`), and so is an
        :class:`Event` made by hand; one that :func:`read_events` or ``parse_event`` made is not checked again.

        A malformed, duplicate, late or foreign event gives an ``error`` record and the
        monitor goes on. Raises :class:`MonitorError` if the rules engine failed.
        """
        if self._broken is not None:
            raise self._broken
        if self._closed:
            raise MonitorError(f"monitor {self.name} is closed")
        self._fed += 1
        out = _Collector()
        try:
            ev = _checked(event, record) if isinstance(event, Event) else parse_event(
                dict(event) if isinstance(event, Mapping) else event, record)
            self._admit(ev)
        except EventError as err:
            out.error(err)
            return out.result()
        heapq.heappush(self._buffer, (ev.time, self._arrivals, ev))
        self._arrivals += 1
        self._max_seen = max(self._max_seen, ev.time)
        while self._buffer and self._buffer[0][0] <= self._max_seen - self.tolerance:
            self._process(heapq.heappop(self._buffer)[2], out)
        return out.result()

    def flush(self) -> FeedResult:
        """Process every buffered event (call at the end of a stream)."""
        if self._broken is not None:
            raise self._broken
        out = _Collector()
        while self._buffer:
            self._process(heapq.heappop(self._buffer)[2], out)
        return out.result()

    def replay(self, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Feed a JSONL stream; yield the output records (JSON-ready), then flush."""
        for item in read_events(lines):
            result = self.feed(item) if isinstance(item, Event) else FeedResult(
                errors=(item,), records=(item.to_dict(),))
            yield from result.records
        yield from self.flush().records

    @property
    def active(self) -> tuple[Alert, ...]:
        """The warnings active now, by rule order then key."""
        order = {r.id: i for i, r in enumerate(self.rules.rules)}
        return tuple(self._active[k] for k in sorted(self._active, key=lambda k: (order[k[0]], k[1])))

    def close(self) -> None:
        """Free the engine's ruleset. The monitor cannot be fed afterwards."""
        if not self._closed and self._engine is not None:
            self._engine.close()
        self._closed = True

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- checkpoint and resume

    @property
    def fed(self) -> int:
        """How many events were fed (errors included): a stream resumed from a checkpoint skips this many."""
        return self._fed

    def checkpoint(self, position: Mapping[str, Any] | None = None) -> bytes:
        """The monitor's state as bytes (canonical JSON), to :meth:`restore` into a new monitor later.

        It holds everything the next event depends on: the reorder buffer, the detectors' windows and
        phases, the active warnings, the engine's long-lived facts (active alarms, watched hidden
        dangers), the duplicate-id memory, the hidden dangers the events changed and the graph's
        ``as_of``; and the format version, the monitoring ruleset's fingerprint, the enterprise id,
        the tolerance and a checksum. ``position`` is stored as it is (JSON data: where the caller's
        stream stood, e.g. ``{"lines": 1200}``) and returned by :meth:`restore`. Times are stored as
        exact decimal text, so a restored monitor continues bit for bit.

        >>> from riskgrade._monitor.rules import parse_monitor_ruleset, EXAMPLE
        >>> register = {"id": "E-1", "monitoring_points": []}
        >>> import types
        >>> reg = types.SimpleNamespace(id="E-1", monitoring_points=[types.SimpleNamespace(id="TI-101", unit="°C",
        ...     risk_point="P-1")], hidden_dangers=[], units=[], risk_points=[], hazards=[])
        >>> rules = parse_monitor_ruleset(EXAMPLE)
        >>> with Monitor(rules, reg) as mon:
        ...     raised = mon.feed({"type": "reading", "time": 1719792000, "point": "TI-101", "value": 90}).raised
        ...     state = mon.checkpoint({"lines": 1})
        >>> with Monitor(rules, reg) as again:
        ...     again.restore(state), [a.key for a in again.active]
        ...     [a.rule for a in again.feed({"type": "reading", "time": 1719792060, "point": "TI-101",
        ...                                  "value": 20}).cleared]
        ({'lines': 1}, ['TI-101'])
        ['t']
        """
        if self._broken is not None:
            raise self._broken
        records = self._records
        hds = []
        for hd_id in self._touched:
            hd = self._hidden_danger(hd_id)
            if hd is not None:
                hds.append({"id": hd.id, "target": hd.target, "grade": hd.grade, "found": hd.found.isoformat(),
                            "deadline": hd.deadline.isoformat() if hd.deadline else None, "status": hd.status,
                            "closed": hd.closed.isoformat() if hd.closed else None,
                            "description": hd.description, "basis": hd.basis})
        body: dict[str, Any] = {
            "format": STATE_FORMAT, "version": STATE_VERSION,
            "ruleset": {"id": self.rules.id, "version": self.rules.version, "fingerprint": self.rules.fingerprint},
            "enterprise": self.enterprise_id, "tolerance": _pack(self.tolerance),
            "position": dict(position or {}),
            "monitor": _pack({
                "fed": self._fed, "seq": self._seq, "arrivals": self._arrivals, "max_seen": self._max_seen,
                "released": self._released, "next_midnight": self._next_midnight,
                "buffer": [[t, n, _event_state(ev)] for t, n, ev in sorted(self._buffer)],
                "seen_ids": list(self._seen_ids),
                "alarm_facts": [dict(f) for f in self._alarm_facts.values()],
                "hd_facts": [dict(f) for f in self._hd_facts.values()],
                "hd_info": {k: list(v) for k, v in self._hd_info.items()},
                "active": [a._state() for a in self._active.values()],
                "detectors": {d.rule.id: d.state() for d in self._detectors},
                "hidden_dangers": hds,
                "as_of": records.as_of.isoformat() if records is not None else None,
            }),
        }
        body["checksum"] = fingerprint(body)
        return canonical_dumps(body).encode("utf-8")

    def restore(self, state: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
        """Continue from a :meth:`checkpoint`: load ``state`` into this new monitor (nothing fed yet).

        The monitor must be built like the one that made the checkpoint: the same monitoring ruleset
        (fingerprint), enterprise and tolerance, and a graph built from the same register; the graph
        is brought to the checkpoint (``as_of``, the hidden dangers the events changed, the
        modifiers of the active warnings) without reporting level changes. Returns the ``position``
        given to :meth:`checkpoint`. Raises :class:`StateError` (a :class:`MonitorError`) with
        ``code`` ``bad-state`` for a corrupt checkpoint or ``state-mismatch`` for another one's.
        """
        if self._broken is not None:
            raise self._broken
        if self._closed:
            raise MonitorError(f"monitor {self.name} is closed")
        if self._fed or self._arrivals or self._touched:
            raise MonitorError("restore a checkpoint into a new monitor, before feeding it")
        body = _load_state(state)
        mismatch = []
        if body["ruleset"].get("fingerprint") != self.rules.fingerprint:
            mismatch.append(f"monitoring ruleset {body['ruleset'].get('id')!r} {body['ruleset'].get('version')!r} "
                            f"({body['ruleset'].get('fingerprint')}), not {self.rules.id!r} {self.rules.version!r} "
                            f"({self.rules.fingerprint})")
        if body["enterprise"] != self.enterprise_id:
            mismatch.append(f"enterprise {body['enterprise']!r}, not {self.enterprise_id!r}")
        try:
            tolerance = _unpack(body["tolerance"])
        except (TypeError, ValueError):
            raise StateError("the checkpoint's tolerance is not a number", code="bad-state") from None
        if tolerance != self.tolerance:
            mismatch.append(f"tolerance {tolerance:g}s, not {self.tolerance:g}s")
        if mismatch:
            raise StateError("the checkpoint was made for " + "; ".join(mismatch), code="state-mismatch")
        try:
            self._load(_unpack(body["monitor"]))
        except StateError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            self._broken = StateError(f"the checkpoint's monitor state is malformed ({type(exc).__name__}: {exc}); "
                                      "this monitor cannot be used", code="bad-state")
            raise self._broken from None
        except (FactError, GraphError, EventError) as exc:
            self._broken = StateError(f"the checkpoint does not fit the enterprise's graph: {exc}",
                                      code="state-mismatch")
            raise self._broken from None
        return dict(body["position"])

    def _load(self, m: Mapping[str, Any]) -> None:
        dets = {d.rule.id: d for d in self._detectors}
        if set(m["detectors"]) != set(dets):
            raise StateError("the checkpoint's detectors are not this ruleset's", code="state-mismatch")
        for rid, det_state in m["detectors"].items():
            dets[rid].load(det_state)
        self._fed, self._seq, self._arrivals = int(m["fed"]), int(m["seq"]), int(m["arrivals"])
        self._max_seen, self._released = float(m["max_seen"]), float(m["released"])
        self._next_midnight = float(m["next_midnight"])
        self._buffer = [(float(t), int(n), _event_from_state(ev)) for t, n, ev in m["buffer"]]
        heapq.heapify(self._buffer)
        self._seen_ids = OrderedDict((str(i), None) for i in m["seen_ids"])
        # the engine's long-lived facts: the register's (asserted by __init__) give way to the checkpoint's
        for fact in (*self._alarm_facts.values(), *self._hd_facts.values()):
            self._call("retract_fact", fact)
        self._alarm_facts, self._hd_facts = {}, {}
        for fact in m["alarm_facts"]:
            fact = {**fact, "sid": self._sid}
            self._alarm_facts[(str(fact["point"]), str(fact["alarm"]))] = fact
            self._call("assert_fact", fact)
        for fact in m["hd_facts"]:
            fact = {**fact, "sid": self._sid}
            self._hd_facts[str(fact["hd"])] = fact
            self._call("assert_fact", fact)
        self._hd_info = {k: (str(rp), float(dl), bool(major)) for k, (rp, dl, major) in m["hd_info"].items()}
        # the graph (or the monitor's own records): as_of, then the hidden dangers, then the warnings' modifiers
        records = self._records
        if records is not None and m["as_of"] is not None:
            records.set_as_of(_dt.date.fromisoformat(m["as_of"]))
        for data in m["hidden_dangers"]:
            hd = {**data}
            for name in ("found", "deadline", "closed"):
                if hd.get(name) is not None:
                    hd[name] = _dt.date.fromisoformat(hd[name])
            hd_id = str(hd["id"])
            if records is not None:
                if records.hidden_danger(hd_id) is None:
                    records.add("hidden_danger", hd)
                else:
                    records.update(hd_id, {k: v for k, v in hd.items() if k != "id"})
            else:
                found = parse_record("hidden_danger", hd, hd_id)
                assert isinstance(found, HiddenDanger)
                self._book[hd_id] = found
            self._touched[hd_id] = None
        order = {r.id: r for r in self.rules.rules}
        self._active = {}
        for data in m["active"]:
            alert = Alert._from_state(data)
            if alert.rule not in order:
                raise StateError(f"the checkpoint's warning {alert.rule!r} is not in this ruleset",
                                 code="state-mismatch")
            self._active[(alert.rule, alert.key)] = alert
            self._set_modifiers(order[alert.rule], alert, lambda changes: None)

    # -- processing

    def _admit(self, ev: Event) -> None:
        rec = ev.line if ev.line is not None else ev.id
        if ev.enterprise is not None and ev.enterprise != self.enterprise_id:
            raise EventError(f"event for enterprise {ev.enterprise!r} fed to the monitor of "
                             f"{self.enterprise_id!r}", field="enterprise", record=rec, code="wrong-enterprise")
        if ev.point is not None and ev.point not in self._points:
            raise EventError(f"no monitoring point {ev.point!r} in enterprise {self.enterprise_id!r}",
                             field="point", record=rec, code="unknown-point")
        if ev.risk_point is not None and self._kind_of(ev.risk_point) != "risk_point":
            raise EventError(f"no risk point {ev.risk_point!r} in enterprise {self.enterprise_id!r}",
                             field="risk_point", record=rec, code="unknown-risk-point")
        if ev.time < self._released:
            raise EventError(f"event at {format_time(ev.time)} is older than the last processed event "
                             f"({format_time(self._released)}) by more than the tolerance of "
                             f"{_span(self.tolerance) or '0s'}", field="time", record=rec, code="late-event")
        if ev.id is not None:
            if ev.id in self._seen_ids:
                raise EventError(f"event id {ev.id!r} was already received", field="id", record=rec,
                                 code="duplicate-event")
            self._seen_ids[ev.id] = None
            if len(self._seen_ids) > _SEEN_IDS:
                self._seen_ids.popitem(last=False)

    def _process(self, ev: Event, out: _Collector) -> None:
        self._released = ev.time
        if ev.time >= self._next_midnight and self._records is not None:
            self._advance_as_of(ev.time, out)
        transition: str | None = None
        if ev.hidden_danger is not None:
            try:
                transition = self._hidden_danger_event(ev, out)
            except EventError as err:
                out.error(err)
                return
        self._closing = ev.hidden_danger if transition == "close" else None
        self._seq += 1
        out.processed += 1
        fact = self._fact(f"ev:{self._seq}", t="ev", type=ev.type, time=ev.time, point=ev.point,
                          value=ev.value, alarm=ev.alarm, state=ev.state if ev.type == "alarm" else None,
                          hidden_danger=ev.hidden_danger)
        self._call("assert_fact", fact)
        retract: list[dict[str, Any]] = []
        if ev.type == "alarm" and ev.point in self._together_points:
            pk = (str(ev.point), str(ev.alarm))
            if ev.state == "raised" and pk not in self._alarm_facts:
                alarm = self._fact(f"al:{pk[0]}:{pk[1]}", t="al", point=pk[0], alarm=pk[1], since=ev.time)
                self._alarm_facts[pk] = alarm
                self._call("assert_fact", alarm)
            elif ev.state == "cleared" and pk in self._alarm_facts:
                retract.append(self._alarm_facts.pop(pk))
        elif transition == "open":
            assert ev.hidden_danger is not None and ev.risk_point is not None and ev.deadline is not None
            self._open_hd(ev.hidden_danger, self._risk_point_of(ev.risk_point), ev.deadline, ev.major)
        elif transition == "close" and ev.hidden_danger in self._hd_facts:
            retract.append(self._hd_facts.pop(ev.hidden_danger))
        elif transition == "reopen":
            assert ev.hidden_danger is not None
            self._reopen_hd(ev.hidden_danger)
        self._call("retract_fact", fact)
        for old in retract:
            self._call("retract_fact", old)
        hits: dict[str, list[Hit]] = {}
        for name, bound in self._hits:
            hits.setdefault(name, []).append(bound)
        self._hits.clear()
        overdue: set[str] = set()
        for det in self._detectors:
            if det.rule.kind == "hidden_danger_overdue":
                for sig in ("late", "told"):
                    overdue.update(str(h["hd"]["hd"]) for h in hits.get(f"{det.rule.id}#{sig}", ()))
            for action, key, values in det.step(ev, hits, self):
                if action == "raise":
                    self._raise(det.rule, key, values, ev, out)
                else:
                    self._clear(det.rule, key, ev, out)
        for name in sorted(overdue):
            if name in self._hd_facts:  # mark it so the join does not fire on every later event
                old = self._hd_facts[name]
                self._call("retract_fact", old)
                marked = {**old, "overdue": 1}
                self._hd_facts[name] = marked
                self._call("assert_fact", marked)

    # -- the graph's records: hidden dangers and as_of

    def _advance_as_of(self, t: float, out: _Collector) -> None:
        """Judge the graph as of the date of event time ``t`` (China Standard Time), day by day.

        Each new day is a ``set_as_of`` whose level changes are reported at that midnight
        (cause ``as_of/<date>``). A graph built without an explicit ``as_of`` (today by the
        wall clock) is first set to the date of the first event, forwards or backwards.
        """
        records = self._records
        assert records is not None
        day = _day(t)
        current = records.as_of
        if records.as_of_defaulted or (day - current).days > _MAX_DAY_STEPS:
            steps = [day] if day != current or records.as_of_defaulted else []
        else:
            steps = [current + _dt.timedelta(days=i) for i in range(1, (day - current).days + 1)]
        for d in steps:
            out.changes(records.set_as_of(d), _midnight(d), f"as_of/{d.isoformat()}")
        self._next_midnight = _midnight(records.as_of + _DAY)

    def _hidden_danger_event(self, ev: Event, out: _Collector) -> str | None:
        """Check a hidden-danger event against the records and apply it to them.

        Returns the transition for the engine's facts: ``open``, ``close``, ``reopen`` or None.
        Raises :class:`EventError` (unknown or duplicate hidden danger, impossible transition).
        """
        hd_id = ev.hidden_danger
        assert hd_id is not None
        rec = ev.line if ev.line is not None else ev.id
        current = self._hidden_danger(hd_id)
        if ev.type == "hidden_danger_reported":
            if current is not None or self._kind_of(hd_id) is not None:
                raise EventError(f"hidden danger {hd_id!r} already exists in enterprise {self.enterprise_id!r}",
                                 field="hidden_danger", record=rec, code="duplicate-hidden-danger", value=hd_id)
            assert ev.deadline is not None
            data = {"id": hd_id, "target": ev.risk_point, "grade": "major" if ev.major else "general",
                    "found": _day(ev.time), "deadline": _day(ev.deadline), "status": "open",
                    "description": ev.description or ""}
            self._apply_hd(ev, None, data, out)
            return "open"
        if current is None:
            raise EventError(f"no hidden danger {hd_id!r} in enterprise {self.enterprise_id!r}",
                             field="hidden_danger", record=rec, code="unknown-hidden-danger", value=hd_id)
        status = current.status

        def refuse(why: str) -> EventError:
            return EventError(f"hidden danger {hd_id!r} is {status}: {why}", field="hidden_danger", record=rec,
                              code="bad-transition", value=hd_id)

        if ev.type == "rectification_overdue":
            if status != "open":
                raise refuse("it cannot be overdue")
            return None
        if ev.type == "hidden_danger_rectified":
            if status != "open":
                raise refuse("only an open hidden danger can be rectified")
            self._apply_hd(ev, current, {"status": "rectified", "closed": _day(ev.time)}, out)
            return "close"
        if ev.passed:
            if status == "verified":
                raise refuse("it was verified already")
            changes: dict[str, Any] = {"status": "verified"}
            if status == "open":
                changes["closed"] = _day(ev.time)
            self._apply_hd(ev, current, changes, out)
            return "close" if status == "open" else None
        if status == "open":
            raise refuse("a failed verification reopens a rectified hidden danger; this one is open")
        self._apply_hd(ev, current, {"status": "open", "closed": None}, out)
        return "reopen"

    def _apply_hd(self, ev: Event, current: HiddenDanger | None, data: dict[str, Any], out: _Collector) -> None:
        """Add (``current`` None) or update a hidden danger in the graph (or the monitor's own records)."""
        hd_id = str(ev.hidden_danger)
        changes: Any = {}
        try:
            if self._records is not None:
                if current is None:
                    changes = self._records.add("hidden_danger", data)
                else:
                    changes = self._records.update(hd_id, data)
                new = self._records.hidden_danger(hd_id)
                assert new is not None
            else:
                if current is not None:
                    fields = attrs.asdict(current, recurse=False)
                    fields.pop("kind")
                    data = {**fields, **data}
                found = parse_record("hidden_danger", data, hd_id)
                assert isinstance(found, HiddenDanger)
                new = self._book[hd_id] = found
        except (FactError, GraphError) as exc:
            field = _HD_FIELDS.get(str(exc.field), "hidden_danger")
            code = exc.code if isinstance(exc, FactError) else "bad-value"
            message = exc.message if isinstance(exc, FactError) else str(exc)
            raise EventError(message, field=field, record=ev.line if ev.line is not None else ev.id,
                             code=code) from None
        self._touched[hd_id] = None
        out.hidden_danger(new, ev)
        out.changes(changes, ev.time, f"{ev.type}/{hd_id}")

    def _reopen_hd(self, hd_id: str) -> None:
        if hd_id in self._hd_info:
            rp, deadline, major = self._hd_info[hd_id]
            self._open_hd(hd_id, rp, deadline, major)
            return
        hd = self._hidden_danger(hd_id)
        if hd is not None and hd.deadline is not None:
            self._open_hd(hd_id, self._risk_point_of(hd.target), _midnight(hd.deadline + _DAY) - 1,
                          hd.grade == "major")

    def _nodes(self, rule: WarningRule, key: str, values: Mapping[str, Any]) -> tuple[str, ...]:
        if rule.effect is None:
            return ()
        if rule.effect.node is not None:
            return (rule.effect.node,)
        if rule.kind == "hidden_danger_overdue":
            return (str(values["risk_point"]),)
        points = rule.points if rule.kind == "together" else (str(rule.point),)
        nodes: list[str] = []
        for p in points:
            rp = str(self._points[p].risk_point)
            if rp not in nodes:
                nodes.append(rp)
        return tuple(nodes)

    def _raise(self, rule: WarningRule, key: str, values: dict[str, Any], ev: Event, out: _Collector) -> None:
        nodes = self._nodes(rule, key, values)
        alert = Alert(rule=rule.id, key=key, kind=rule.kind, level=rule.level,
                      message_zh=rule.message.render("zh", values), message_en=rule.message.render("en", values),
                      cite=rule.cite, nodes=nodes, steps=rule.effect.steps if rule.effect else 0,
                      raised_at=ev.time, values=tuple(sorted((k, _jsonable(v)) for k, v in values.items())))
        self._active[(rule.id, key)] = alert
        out.alert("warning_raised", alert, ev)
        self._set_modifiers(rule, alert, lambda changes: out.changes(changes, ev.time, f"{rule.id}/{key}"))

    def _set_modifiers(self, rule: WarningRule, alert: Alert, report: Any) -> None:
        """Apply an active warning to the graph: the external modifier on each of its nodes."""
        if self.graph is None:
            return
        for node in alert.nodes:
            reason = f"{rule.id}: {alert.message_zh} / {alert.message_en}"
            cite = f"{rule.cite.source} {rule.cite.clause}".strip()
            report(self.graph.set_modifier(node, _modifier_key(rule.id, alert.key), alert.steps, reason,
                                           floor=rule.effect.floor if rule.effect else None, cite=cite,
                                           kind=rule.cite.basis))

    def _clear(self, rule: WarningRule, key: str, ev: Event, out: _Collector) -> None:
        alert = self._active.pop((rule.id, key), None)
        if alert is None:
            return
        done = attrs.evolve(alert, cleared_at=ev.time)
        out.alert("warning_cleared", done, ev)
        if self.graph is not None:
            for node in alert.nodes:
                changes = self.graph.clear_modifier(node, _modifier_key(rule.id, key))
                out.changes(changes, ev.time, f"{rule.id}/{key}")


_SEEN_IDS = 65536
#: the largest out-of-order tolerance, in seconds (a week)
_MAX_TOLERANCE = 7 * 86400.0
_DAY = _dt.timedelta(days=1)
#: longer gaps between events move the graph's as_of in one step (net changes at the last midnight)
_MAX_DAY_STEPS = 366
#: hidden-danger record field -> the event field it comes from
_HD_FIELDS = {"id": "hidden_danger", "target": "risk_point", "found": "time", "closed": "time",
              "deadline": "deadline", "grade": "major", "status": "type", "description": "description"}


#: the fields of an Event that parse_event does not take as input, and the defaults it gives the others
_NOT_INPUT = frozenset({"line"})
_DEFAULTS = {f.name: f.default for f in attrs.fields(Event) if f.default is not attrs.NOTHING}


def _checked(ev: Event, record: Any) -> Event:
    """An :class:`Event` made by the caller, validated as :func:`parse_event` validates a mapping (an
    ``Event`` is a plain class: a time of 1e20 or a value of 10**400 would otherwise reach the engine)."""
    if PARSED.get(id(ev)) is ev:  # made by parse_event (read_events)
        return ev
    data: dict[str, Any] = {}
    allowed = EVENT_TYPES.get(ev.type) if isinstance(ev.type, str) else None
    fields = set(allowed[0] + allowed[1]) if allowed is not None else set()
    for name in attrs.fields_dict(Event):
        value = getattr(ev, name)
        if name in _NOT_INPUT or (name not in fields and name not in ("type", "time")
                                  and value == _DEFAULTS.get(name) and type(value) is type(_DEFAULTS.get(name))):
            continue
        data[name] = value
    checked = attrs.evolve(parse_event(data, record if record is not None else ev.line), line=ev.line)
    PARSED[id(checked)] = checked
    return checked


def _day(t: float) -> _dt.date:
    """The date (China Standard Time) of event time ``t``."""
    return _dt.datetime.fromtimestamp(t, tz=CST).date()


def _midnight(d: _dt.date) -> float:
    """Event time of 00:00 China Standard Time on ``d``."""
    return _dt.datetime.combine(d, _dt.time(), tzinfo=CST).timestamp()


def _modifier_key(rule: str, key: str) -> str:
    return f"warning:{rule}:{key}"


def _pack(value: Any) -> Any:
    """JSON data with every float as exact text ``{"f": "1719792000.5"}`` (the canonical dumper rounds floats)."""
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, Mapping):
        return {str(k): _pack(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack(v) for v in value]
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "f" in value and isinstance(value["f"], str):
            return float(value["f"])
        return {k: _unpack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    return value


def _event_state(ev: Event) -> dict[str, Any]:
    return {k: v for k, v in attrs.asdict(ev).items() if v is not None}


def _event_from_state(data: Mapping[str, Any]) -> Event:
    fields = {f.name for f in attrs.fields(Event)}
    if not set(data) <= fields:
        raise ValueError(f"unknown event fields {sorted(set(data) - fields)}")
    return Event(**data)


def _load_state(state: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """The checked body of a checkpoint; :class:`StateError` ``bad-state`` if it is not one, intact."""
    if isinstance(state, Mapping):
        body: Any = dict(state)
    else:
        try:
            text = state.decode("utf-8") if isinstance(state, (bytes, bytearray)) else state
            body = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise StateError(f"not a monitor checkpoint: {type(exc).__name__}: {exc}", code="bad-state") from None
    if not isinstance(body, dict) or body.get("format") != STATE_FORMAT:
        raise StateError(f"not a monitor checkpoint (no \"format\": \"{STATE_FORMAT}\")", code="bad-state")
    if body.get("version") != STATE_VERSION:
        raise StateError(f"checkpoint format version {body.get('version')!r}; this riskgrade reads version "
                         f"{STATE_VERSION}", code="bad-state")
    checksum = body.pop("checksum", None)
    if checksum != fingerprint(body):
        raise StateError("the checkpoint is corrupt (its checksum does not match its content)", code="bad-state")
    for key, kind in (("ruleset", dict), ("enterprise", str), ("position", dict), ("monitor", dict)):
        if not isinstance(body.get(key), kind):
            raise StateError(f"the checkpoint has no valid {key!r}", code="bad-state")
    return body


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


class _Collector:
    def __init__(self) -> None:
        self.raised: list[Alert] = []
        self.cleared: list[Alert] = []
        self.level_changes: list[DynamicLevelChange] = []
        self.errors: list[EventError] = []
        self.records: list[dict[str, Any]] = []
        self.hidden_dangers: list[HiddenDanger] = []
        self.processed = 0

    def error(self, err: EventError) -> None:
        self.errors.append(err)
        self.records.append(err.to_dict())

    def hidden_danger(self, hd: HiddenDanger, ev: Event) -> None:
        self.hidden_dangers.append(hd)
        record: dict[str, Any] = {"kind": "hidden_danger", "time": format_time(ev.time)}
        if ev.line is not None:
            record["line"] = ev.line
        record.update({"hidden_danger": hd.id, "event": ev.type, "target": hd.target, "grade": hd.grade,
                       "status": hd.status, "found": hd.found.isoformat(),
                       "deadline": hd.deadline.isoformat() if hd.deadline else None,
                       "closed": hd.closed.isoformat() if hd.closed else None})
        self.records.append(record)

    def alert(self, kind: str, alert: Alert, ev: Event) -> None:
        (self.raised if kind == "warning_raised" else self.cleared).append(alert)
        record: dict[str, Any] = {"kind": kind, "time": format_time(ev.time)}
        if ev.line is not None:
            record["line"] = ev.line
        record["warning"] = alert.to_dict()
        self.records.append(record)

    def changes(self, changes: Iterable[Any], time: float, cause: str) -> None:
        items = changes.values() if isinstance(changes, Mapping) else (changes or ())
        for change in items:
            parts = _change_parts(change)
            if parts is None:
                continue
            node, before, after = parts
            if before == after:
                continue
            lc = DynamicLevelChange(node, before, after, time, cause)
            self.level_changes.append(lc)
            self.records.append({"kind": "level_changed", **lc.to_dict()})

    def result(self) -> FeedResult:
        return FeedResult(tuple(self.raised), tuple(self.cleared), tuple(self.level_changes), tuple(self.errors),
                          tuple(self.records), self.processed, tuple(self.hidden_dangers))


def dumps(record: Mapping[str, Any]) -> str:
    """One output record as a line of JSON: the canonical form (compact, sorted keys, no float noise)."""
    return canonical_dumps(record)
