"""Event mutation: every line of a mutated event log gives exactly one ``Event`` or one ``EventError``
(``read_events``; a line holding a JSON array one per item, a blank line a ``blank-line`` error),
and ``parse_event`` on a mutated object gives an ``Event`` or an ``EventError``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from riskgrade._monitor.events import Event, parse_event, read_events
from riskgrade.exceptions import EventError

from . import mutate, shipped
from ._harness import SEED, Budget, case, note, settings, size

LINES = shipped.event_lines()
EVENTS = [json.loads(line) for line in LINES if line.strip()]
POOL: list[Any] = mutate.HOSTILE + mutate.scalars(EVENTS) + [
    1e20, -1.0, 253402300800, "9999-12-31T23:59:59+08:00", "2024-07-01T08:00:00", "2024-07-01T25:00:00+08:00",
    "reading", "alarm", "HH", "高高报", "cleared", 10**40]


def _line(k: int, ops: list[mutate.Op], edits: list[tuple[int, int, int]], raw: int) -> str | bytes:
    ev = EVENTS[k % len(EVENTS)]
    text = mutate.text_ops(json.dumps(mutate.apply(ev, ops, POOL), ensure_ascii=False, default=str), edits)
    text = text.replace("\n", " ")
    if raw % 7 == 1:
        return text.encode("utf-8")[: max(1, len(text) - 1)] + b"\xff"
    if raw % 7 == 2:
        return "\ufeff" + text
    if raw % 7 == 3:
        return "[" + text + ", " + text + "]"
    return text


def _line_of(o: Event | EventError) -> int:
    """The line an outcome answers (an array's items are ``"line[i]"``)."""
    where = o.line if isinstance(o, Event) else o.record
    return where if isinstance(where, int) else int(str(where).split("[")[0])


def _is_array(line: str | bytes) -> bool:
    try:
        return isinstance(json.loads(line), list)
    except (ValueError, RecursionError):
        return False


def _describe(o: Event | EventError) -> str:
    return repr(o) if isinstance(o, Event) else f"EventError({o.code}, {o.record}, {o.field}): {o}"


def test_mutated_event_logs() -> None:
    budget = Budget("events", left=2)
    line = st.tuples(st.integers(0, 10**6), mutate.ops(3), mutate.text_edits(1), st.integers(0, 10**6))

    @settings(size("events") // 10)
    @hypothesis.seed(SEED)
    @given(st.lists(line, min_size=1, max_size=20))
    def run(spec: list[tuple[int, list[mutate.Op], list[tuple[int, int, int]], int]]) -> None:
        if budget.over():
            return
        lines = [_line(*s) for s in spec]

        def go() -> tuple[str, Any]:
            out = list(read_events(lines))
            per_line = Counter(_line_of(o) for o in out)
            assert set(per_line) <= set(range(1, len(lines) + 1)), per_line
            for n, x in enumerate(lines, 1):  # N lines in, N outcomes out (a line holding an array: one per item)
                assert per_line[n] == 1 or _is_array(x), f"line {n} gave {per_line[n]} outcomes: {x!r:.200}"
            for o in out:
                assert isinstance(o, (Event, EventError)), o
                note("events", o)
            return "\n".join(map(_describe, out)), lambda: "\n".join(map(_describe, read_events(lines)))

        case("events", f"{lines!r:.300}", go, count=len(lines), tally=False)

    run()


def test_mutated_event_objects() -> None:
    budget = Budget("events", left=1)

    @settings(size("events") // 2)
    @hypothesis.seed(SEED)
    @given(st.integers(0, 10**6), mutate.ops(4))
    def run(k: int, ops: list[mutate.Op]) -> None:
        if budget.over():
            return
        data = mutate.apply(EVENTS[k % len(EVENTS)], ops, POOL)

        def go() -> tuple[str, Any]:
            return repr(parse_event(data, record=k)), lambda: repr(parse_event(data, record=k))

        case("events", f"{data!r:.300}", go)

    run()
