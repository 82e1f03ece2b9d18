"""Benchmark: events/s through Monitor vs raw durable-rules, and peak memory over a long replay.

The baseline posts the same events to a hand-written durable-rules ruleset with the same
matching (the threshold's over/back predicates and the alarm count predicate), asserting and
retracting each event as a fact in one session -- what Monitor does underneath -- with
trivial actions. The ratio is Monitor time / baseline time (target <= 1.5).

    PYTHONPATH=src python benchmarks/bench_monitor.py [N_RATIO_EVENTS] [N_MEMORY_EVENTS]
"""

from __future__ import annotations

import contextlib
import datetime as dt
import resource
import sys
import time
from typing import Any

from durable import engine

from riskgrade import Monitor, RiskGraph, load_enterprise
from riskgrade._monitor.events import Event
from riskgrade._monitor.rules import load_monitor_ruleset

T0 = 1719792000.0  # 2024-07-01T08:00:00+08:00


def events(n: int) -> list[Event]:
    out = []
    for i in range(n):
        t = T0 + i
        if i % 10 == 9:
            out.append(Event(type="alarm", time=t, point="MP-NH3-LEVEL", alarm="高报"))
        else:
            out.append(Event(type="reading", time=t, point="MP-NH3-GAS", value=float(10 + (i * 7) % 30), unit="ppm"))
    return out


class _Quiet(engine.Host):  # type: ignore[misc]
    def _run(self) -> None:
        return None


def baseline(evs: list[Event]) -> float:
    hits: list[Any] = []

    def act(c: Any) -> None:
        hits.append(c._m)

    def m(*conds: dict[str, Any]) -> dict[str, Any]:
        return {"all": [{"m": {"$and": [{"t": "ev"}, *conds]}}], "run": act}

    host = _Quiet()
    host.register_rulesets({"baseline": {
        "over": m({"type": "reading"}, {"point": "MP-NH3-GAS"}, {"$gt": {"value": 25.0}}),
        "back": m({"type": "reading"}, {"point": "MP-NH3-GAS"}, {"$lte": {"value": 22.0}}),
        "hh": m({"type": "reading"}, {"point": "MP-NH3-GAS"}, {"$gt": {"value": 50.0}}),
        "hhback": m({"type": "reading"}, {"point": "MP-NH3-GAS"}, {"$lte": {"value": 50.0}}),
        "alarm": m({"type": "alarm"}, {"point": "MP-NH3-LEVEL"}, {"state": "raised"},
                   {"$or": [{"alarm": "高报"}, {"alarm": "高高报"}]}),
    }})
    start = time.perf_counter()
    for i, ev in enumerate(evs):
        fact = {"sid": "E", "id": f"ev:{i}", "t": "ev", "type": ev.type, "time": ev.time, "point": ev.point,
                "value": ev.value, "alarm": ev.alarm, "state": ev.state}
        fact = {k: v for k, v in fact.items() if v is not None}
        with contextlib.suppress(engine.MessageNotHandledException):
            host.assert_fact("baseline", fact)
        with contextlib.suppress(engine.MessageNotHandledException):
            host.retract_fact("baseline", fact)
        hits.clear()
    return time.perf_counter() - start


def monitor(evs: list[Event]) -> tuple[float, int]:
    graph = RiskGraph.build(None, load_enterprise("examples/enterprises/chem-plant.yaml"), as_of=dt.date(2024, 7, 1))
    mon = Monitor(load_monitor_ruleset("rulesets/monitoring/chem-plant-monitor.yaml"), graph, tolerance=0)
    records = 0
    start = time.perf_counter()
    for ev in evs:
        records += len(mon.feed(ev).records)
    return time.perf_counter() - start, records


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    evs = events(n)
    base = min(baseline(evs) for _ in range(3))
    mon, records = min(monitor(evs) for _ in range(3))
    print(f"events: {n}; output records: {records}")
    print(f"raw durable-rules: {n / base:,.0f} events/s")
    print(f"Monitor:           {n / mon:,.0f} events/s")
    print(f"overhead ratio:    {mon / base:.2f}x (target <= 1.5x)")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    graph = RiskGraph.build(None, load_enterprise("examples/enterprises/chem-plant.yaml"), as_of=dt.date(2024, 7, 1))
    mon_big = Monitor(load_monitor_ruleset("rulesets/monitoring/chem-plant-monitor.yaml"), graph, tolerance=60)
    start = time.perf_counter()
    for i in range(big):  # generated on the fly so the input list does not count
        t = T0 + i
        if i % 10 == 9:
            ev = Event(type="alarm", time=t, point="MP-NH3-LEVEL", alarm="高报")
        else:
            ev = Event(type="reading", time=t, point="MP-NH3-GAS", value=float(10 + (i * 7) % 30))
        mon_big.feed(ev)
    mon_big.flush()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"replay of {big:,} events: {time.perf_counter() - start:.1f}s, peak RSS {after / 1024:.0f} MiB "
          f"(+{(after - before) / 1024:.1f} MiB over the replay)")


if __name__ == "__main__":
    main()
