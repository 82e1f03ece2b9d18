"""Monitor feeding through the Python API: mutated event objects go straight to ``Monitor.feed`` (what a
platform calls), as streams -- reordered, duplicated, with hidden dangers for targets the register does not
know, huge integers, floats in exponent form, times out of range and values of the wrong type in every
field, values that are no event at all, and ``Event`` objects made by hand with such fields. Each stream gives records (or a typed error), the same records again on a re-run, and the same
records when it is checkpointed at a point of the stream and finished by a restored monitor."""

from __future__ import annotations

import datetime as _dt
import functools
import json
from typing import Any

import attrs
import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from riskgrade import Event, Monitor, RiskGraph, load_enterprise
from riskgrade._monitor.monitor import dumps
from riskgrade._monitor.rules import load_monitor_ruleset

from . import mutate, shipped
from ._harness import SEED, Budget, case, note, settings, size

REGISTER = shipped.ROOT / "examples" / "enterprises" / "chem-plant.yaml"
RULES = shipped.ROOT / "rulesets" / "monitoring" / "chem-plant-monitor.yaml"
T0 = 1719792000  # 2024-07-01T08:00:00+08:00, the example log's first event

EVENTS = [json.loads(line) for line in shipped.event_lines() if line.strip()]
#: events that reach every detector and every hidden-danger path (and targets nobody knows)
EXTRA: list[dict[str, Any]] = [
    {"type": "alarm", "time": T0 + 400, "point": "MP-NH3-LEVEL", "alarm": "高高报"},
    {"type": "alarm", "time": T0 + 460, "point": "MP-NH3-LEVEL", "alarm": "HH", "state": "cleared"},
    {"type": "hidden_danger_reported", "time": T0 + 500, "hidden_danger": "HD-F-1", "risk_point": "P-NH3-TANK",
     "deadline": T0 + 3600, "major": True},
    {"type": "hidden_danger_reported", "time": T0 + 510, "hidden_danger": "HD-F-2", "risk_point": "P-NOWHERE",
     "deadline": T0 + 600},
    {"type": "hidden_danger_rectified", "time": T0 + 520, "hidden_danger": "HD-NOBODY"},
    {"type": "hidden_danger_verified", "time": T0 + 530, "hidden_danger": "HD-F-1", "passed": False},
    {"type": "rectification_overdue", "time": T0 + 540, "hidden_danger": "HD-F-9"},
    {"type": "inspection_done", "time": T0 + 550, "risk_point": "P-BOILER", "result": "ok"},
    {"type": "reading", "time": T0 + 560, "point": "MP-NOPE", "value": 2e-05},
    {"type": "reading", "time": T0 + 570, "point": "MP-NH3-GAS", "value": 1e16, "enterprise": "E-OTHER"},
]
BASE = EVENTS + EXTRA
EVENT_FIELDS = frozenset(attrs.fields_dict(Event)) - {"line"}
POOL: list[Any] = mutate.HOSTILE + mutate.scalars(BASE) + [
    10**40, -(10**40), 10**400, 2e-05, 1e16, 1e-300, 1.5e300, 1e20, -1.0, 253402300800, 32503680000,
    32503679999.999, "9999-12-31T23:59:59+08:00", "1970-01-01T00:00:00Z", "2024-07-01T08:00:00",
    "2024-07-01T25:00:00+08:00", "reading", "alarm", "HH", "高高报", "cleared", "P-NOWHERE", "HD-NOBODY",
    "MP-NOPE", "E-OTHER", T0, T0 + 86400 * 400]


@functools.cache
def _inputs() -> tuple[Any, Any]:
    return load_monitor_ruleset(str(RULES)), load_enterprise(str(REGISTER))


def _monitor(graph: bool) -> Monitor:
    """A new monitor: on a new enterprise graph (a monitor changes its graph), or on the plain register."""
    rules, register = _inputs()
    return Monitor(rules, RiskGraph.build(None, register, as_of=_dt.date(2024, 7, 1)) if graph else register)


def _records(mon: Monitor, events: list[Any], start: int, tally: bool = False) -> list[str]:
    """The records of feeding ``events`` (``tally``: count each event's outcome, an error record by code)."""
    out: list[str] = []
    for i, ev in enumerate(events, start):
        result = mon.feed(ev, record=i)
        if tally:
            note("feed", result.errors[0] if result.errors else result)
        out.extend(map(dumps, result.records))
    return out


def _whole(events: list[Any], graph: bool, tally: bool = False) -> str:
    with _monitor(graph) as mon:
        return "\n".join(_records(mon, events, 1, tally) + list(map(dumps, mon.flush().records)))


def _resumed(events: list[Any], graph: bool, cut: int) -> tuple[str, bytes, bytes]:
    """Fed up to ``cut``, checkpointed, restored into a new monitor that finishes the stream; and the
    checkpoint, with the restored monitor's own checkpoint before it is fed."""
    with _monitor(graph) as first:
        out = _records(first, events[:cut], 1)
        state = first.checkpoint({"at": cut})
    with _monitor(graph) as second:
        assert second.restore(state) == {"at": cut}
        again = second.checkpoint({"at": cut})
        out += _records(second, events[cut:], cut + 1)
        out += map(dumps, second.flush().records)
    return "\n".join(out), state, again


#: stream operations: (operation, place, variant)
StreamOp = tuple[int, int, int]


def _stream(picks: list[tuple[int, list[mutate.Op]]], stream_ops: list[StreamOp]) -> list[Any]:
    events = [mutate.apply(BASE[k % len(BASE)], ops, POOL) if ops else dict(BASE[k % len(BASE)])
              for k, ops in picks]
    for kind, where, k in stream_ops:
        i = where % len(events)
        if kind == 0:  # out of order: swap two events
            j = k % len(events)
            events[i], events[j] = events[j], events[i]
        elif kind == 1:  # the same event twice (duplicate ids when it has one)
            events.insert(k % (len(events) + 1), events[i])
        elif kind == 2 and isinstance(events[i], dict):  # pushed back in time, past the tolerance or not
            t = events[i].get("time")
            if isinstance(t, (int, float)) and not isinstance(t, bool):
                events[i] = {**events[i], "time": t - [1, 30, 61, 3600, 10**6][k % 5]}
        elif kind == 3:  # a hidden danger for a target nobody knows
            events.insert(i, {"type": "hidden_danger_reported", "time": T0 + k % 5000,
                              "hidden_danger": f"HD-X-{k % 7}", "risk_point": ["P-NOWHERE", "", "P-BOILER"][k % 3],
                              "deadline": T0 + 7200, "major": bool(k % 2)})
        elif kind == 4:  # not an event object at all: any value of any type
            events[i] = POOL[k % len(POOL)]
        elif kind == 5 and isinstance(events[i], dict) and {"type", "time"} <= set(events[i]):
            # an Event made by hand (riskgrade.Event is public): no parse_event has checked its fields
            events[i] = Event(**{f: v for f, v in events[i].items() if f in EVENT_FIELDS})
    return events


def test_mutated_streams_fed_to_the_monitor() -> None:
    budget = Budget("feed", left=1)
    pick = st.tuples(st.integers(0, 10**6), st.one_of(st.just([]), mutate.ops(3)))
    stream_op = st.tuples(st.integers(0, 5), st.integers(0, 10**6), st.integers(0, 10**6))

    @settings(size("feed"))
    @hypothesis.seed(SEED)
    @given(st.lists(pick, min_size=1, max_size=30), st.lists(stream_op, max_size=6), st.booleans(),
           st.integers(0, 10**6))
    def run(picks: list[tuple[int, list[mutate.Op]]], stream_ops: list[StreamOp], graph: bool, cut: int) -> None:
        if budget.over():
            return
        events = _stream(picks, stream_ops)
        at = cut % (len(events) + 1)

        def go() -> tuple[str, Any]:
            whole = _whole(events, graph, tally=True)
            resumed, state, again = _resumed(events, graph, at)
            assert resumed == whole, f"checkpointed at event {at} and restored, the records differ"
            assert again == state, "a restored monitor's checkpoint differs from the one it was restored from"
            return whole, lambda: _whole(events, graph)

        case("feed", f"graph={graph} cut={at} {events!r:.300}", go, count=len(events), tally=False)

    run()
