"""Monitoring events: the input of the real-time layer.

An event is one JSON object. Every event has a ``type`` and a ``time``; the other
fields depend on the type:

============================  ==========================================================
``type``                      fields
============================  ==========================================================
``reading``                   ``point``, ``value`` (number), optional ``unit``
``alarm``                     ``point``, ``alarm`` (高报/高高报/低报/低低报 or H/HH/L/LL),
                              optional ``state`` (``raised``, the default, or ``cleared``)
``hidden_danger_reported``    ``hidden_danger``, ``risk_point``, ``deadline``, optional
                              ``major`` (bool), ``description``
``hidden_danger_rectified``   ``hidden_danger``
``hidden_danger_verified``    ``hidden_danger``, optional ``passed`` (bool, default true)
``rectification_overdue``     ``hidden_danger`` (the deadline passed, as reported upstream)
``inspection_done``           ``risk_point``, optional ``inspector``, ``result``
============================  ==========================================================

Common optional fields: ``id`` (the sender's event id), ``enterprise``.

``time`` and ``deadline`` are ISO 8601 with an offset (``2024-05-01T08:00:00+08:00``,
``...Z``) or seconds since the Unix epoch. A time without an offset is an error: the
same log must mean the same instants on every machine. Times must lie in
[1970-01-01T00:00:00Z, 3000-01-01T00:00:00Z) (``out-of-range`` otherwise).

Limits (each a typed :class:`EventError` naming the line): a line of at most
:data:`MAX_LINE` characters (``too-large``), JSON nested at most :data:`MAX_DEPTH` deep
(``too-deep``), UTF-8 text (``not-utf8``; a byte-order mark before the first line is
skipped), no key twice in one object (``duplicate-key``).

>>> ev = parse_event({"type": "reading", "time": "2024-05-01T08:00:00+08:00",
...                   "point": "TI-101", "value": 86.5, "unit": "°C"})
>>> ev.type, ev.point, ev.value, ev.time
('reading', 'TI-101', 86.5, 1714521600.0)
>>> format_time(ev.time)
'2024-05-01T08:00:00+08:00'
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from riskgrade.exceptions import EventError

__all__ = [
    "ALARM_KINDS",
    "EVENT_TYPES",
    "MAX_DEPTH",
    "MAX_LINE",
    "MAX_TIME",
    "MIN_TIME",
    "Event",
    "EventError",
    "format_time",
    "parse_event",
    "parse_time",
    "read_events",
]

#: alarm kinds, canonical Chinese name -> code
ALARM_KINDS: dict[str, str] = {"高高报": "HH", "高报": "H", "低报": "L", "低低报": "LL"}
_ALARM_SPELLINGS: dict[str, str] = {}
for _zh, _code in ALARM_KINDS.items():
    for _s in (_zh, _code, _code.lower()):
        _ALARM_SPELLINGS[_s] = _zh
_ALARM_SPELLINGS.update({"high": "高报", "high_high": "高高报", "low": "低报", "low_low": "低低报"})

#: event type -> (required fields, optional fields)
EVENT_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reading": (("point", "value"), ("unit",)),
    "alarm": (("point", "alarm"), ("state",)),
    "hidden_danger_reported": (("hidden_danger", "risk_point", "deadline"), ("major", "description")),
    "hidden_danger_rectified": (("hidden_danger",), ()),
    "hidden_danger_verified": (("hidden_danger",), ("passed",)),
    "rectification_overdue": (("hidden_danger",), ()),
    "inspection_done": (("risk_point",), ("inspector", "result")),
}
_COMMON = ("type", "time", "id", "enterprise")

#: the range of event times (seconds since the epoch): 1970-01-01T00:00:00Z <= t < 3000-01-01T00:00:00Z
MIN_TIME = 0.0
MAX_TIME = 32503680000.0
#: the longest line of an event log, in characters
MAX_LINE = 1 << 20
#: the deepest nesting of arrays and objects in one line
MAX_DEPTH = 64

#: the events :func:`parse_event` made that are still alive, by ``id`` (identity: an equal event may hold an
#: ``int`` where these hold a ``float``): ``Monitor.feed`` checks an ``Event`` made by hand, and not these
PARSED: weakref.WeakValueDictionary[int, Event] = weakref.WeakValueDictionary()

#: China Standard Time, used to print times (input may use any offset)
CST = _dt.timezone(_dt.timedelta(hours=8))


@attrs.frozen
class Event:
    """One validated monitoring event. ``time`` is seconds since the epoch (event time)."""

    type: str
    time: float
    id: str | None = None
    enterprise: str | None = None
    point: str | None = None
    value: float | None = None
    unit: str | None = None
    alarm: str | None = None  # canonical Chinese name: 高报 / 高高报 / 低报 / 低低报
    state: str = "raised"
    hidden_danger: str | None = None
    risk_point: str | None = None
    deadline: float | None = None
    major: bool = False
    passed: bool = True
    description: str | None = None
    inspector: str | None = None
    result: str | None = None
    line: int | None = None  # where it came from (1-based line of a JSONL stream)

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data (times in ISO 8601, +08:00), without empty fields."""
        out: dict[str, Any] = {"type": self.type, "time": format_time(self.time)}
        if self.id is not None:
            out["id"] = self.id
        if self.enterprise is not None:
            out["enterprise"] = self.enterprise
        req, opt = EVENT_TYPES[self.type]
        for name in (*req, *opt):
            value = getattr(self, name)
            if name == "deadline" and value is not None:
                value = format_time(value)
            if value is not None:
                out[name] = value
        return out


def parse_time(value: Any, field: str = "time", record: Any = None) -> float:
    """Seconds since the epoch from an ISO 8601 string with offset, or a number.

    >>> parse_time("2024-05-01T00:00:00Z")
    1714521600.0
    """
    if isinstance(value, bool):
        raise EventError("a time must be ISO 8601 text or seconds since the epoch", field=field,
                         record=record, code="bad-time", value=value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise EventError("time is not a finite number", field=field, record=record, code="bad-time")
        return _in_range(value, value, field, record)
    if not isinstance(value, str):
        raise EventError("a time must be ISO 8601 text or seconds since the epoch", field=field,
                         record=record, code="bad-time", value=value)
    text = value.strip()
    if len(text) > 64:
        raise EventError("not an ISO 8601 time (too long)", field=field, record=record, code="bad-time")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise EventError(f"not an ISO 8601 time: {value!r}", field=field, record=record,
                         code="bad-time", value=value) from None
    if parsed.tzinfo is None:
        raise EventError(f"time {value!r} has no UTC offset (write e.g. +08:00)", field=field,
                         record=record, code="naive-time", value=value)
    try:
        seconds = parsed.timestamp()
    except (OverflowError, ValueError):
        seconds = MAX_TIME if parsed.year > 1970 else -1.0
    return _in_range(seconds, value, field, record)


def _in_range(seconds: float, value: Any, field: str, record: Any) -> float:
    # compared before any conversion: a huge integer never becomes a float or a date
    if not MIN_TIME <= seconds < MAX_TIME:
        shown = value if isinstance(value, str) else ("a huge number" if abs(seconds) > 1e30 else value)
        raise EventError(f"time {shown} is outside 1970-01-01T00:00:00Z .. 3000-01-01T00:00:00Z",
                         field=field, record=record, code="out-of-range")
    return float(seconds)


def format_time(t: float) -> str:
    """``t`` (seconds since the epoch) as ISO 8601 in China Standard Time (whole seconds if exact)."""
    moment = _dt.datetime.fromtimestamp(t, tz=CST)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=spec)


#: the largest reading (an integer beyond it is out-of-range; every finite float is accepted)
MAX_VALUE = 10**300


def _text(data: dict[str, Any], name: str, record: Any, required: bool) -> str | None:
    if name not in data or data[name] is None:
        if required:
            raise EventError(f"missing field {name!r}", field=name, record=record, code="missing-field")
        return None
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, int)
                                                                         and abs(value) >= 10**64):
        raise EventError(f"{name} must be text", field=name, record=record, code="bad-type")
    text = str(value).strip()
    if not text:
        raise EventError(f"{name} is empty", field=name, record=record, code="bad-value", value=value)
    return text


def _flag(data: dict[str, Any], name: str, record: Any, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise EventError(f"{name} must be true or false", field=name, record=record, code="bad-type",
                         value=value)
    return value


def parse_event(data: Any, record: Any = None) -> Event:
    """Validate one event (a decoded JSON object); raise :class:`EventError` naming the field."""
    if not isinstance(data, dict):
        raise EventError("an event must be a JSON object", record=record, code="not-an-object")
    etype = data.get("type")
    if etype is None:
        raise EventError("missing field 'type'", field="type", record=record, code="missing-field")
    if not isinstance(etype, str):
        raise EventError(f"type must be text (one of {', '.join(EVENT_TYPES)})", field="type", record=record,
                         code="bad-type")
    if etype not in EVENT_TYPES:
        raise EventError(f"unknown event type {etype!r} (known: {', '.join(EVENT_TYPES)})", field="type",
                         record=record, code="unknown-type", value=etype)
    required, optional = EVENT_TYPES[etype]
    allowed = set(_COMMON) | set(required) | set(optional)
    for key in sorted(map(str, data)):
        if key not in allowed:
            raise EventError(f"field {key!r} is not allowed in a {etype} event", field=key, record=record,
                             code="unknown-field")
    if "time" not in data:
        raise EventError("missing field 'time'", field="time", record=record, code="missing-field")
    fields: dict[str, Any] = {"type": etype, "time": parse_time(data["time"], "time", record), "line": None}
    fields["id"] = _text(data, "id", record, False)
    fields["enterprise"] = _text(data, "enterprise", record, False)
    for name in ("point", "hidden_danger", "risk_point", "unit", "description", "inspector", "result"):
        if name in required or name in optional:
            fields[name] = _text(data, name, record, name in required)
    if "value" in required:
        value = data.get("value")
        if value is None:
            raise EventError("missing field 'value'", field="value", record=record, code="missing-field")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EventError("value must be a finite number", field="value", record=record, code="bad-type",
                             value=value)
        if isinstance(value, int) and not -MAX_VALUE <= value <= MAX_VALUE:
            raise EventError(f"value is a number of {len(str(abs(value)))} digits, more than a reading can be",
                             field="value", record=record, code="out-of-range")
        if not math.isfinite(value):
            raise EventError("value must be a finite number", field="value", record=record, code="bad-type",
                             value=value)
        fields["value"] = float(value)
    if "alarm" in required:
        raw = _text(data, "alarm", record, True)
        canonical = _ALARM_SPELLINGS.get(raw or "")
        if canonical is None:
            raise EventError(f"unknown alarm {raw!r} (use 高高报/高报/低报/低低报 or HH/H/L/LL)", field="alarm",
                             record=record, code="bad-value", value=raw)
        fields["alarm"] = canonical
        state = data.get("state", "raised")
        if state not in ("raised", "cleared"):
            raise EventError("state must be 'raised' or 'cleared'", field="state", record=record,
                             code="bad-value", value=state)
        fields["state"] = state
    if "deadline" in required:
        fields["deadline"] = parse_time(data.get("deadline"), "deadline", record)
    if "major" in optional:
        fields["major"] = _flag(data, "major", record, False)
    if "passed" in optional:
        fields["passed"] = _flag(data, "passed", record, True)
    event = Event(**fields)
    PARSED[id(event)] = event
    return event


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _depth_ok(text: str) -> bool:
    """Whether ``text`` nests arrays and objects at most :data:`MAX_DEPTH` deep (brackets in strings count:
    an over-estimate that only matters for text no event has)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return True
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def decode_line(line: str | bytes, number: int) -> Any:
    """One line of an event log as JSON data; :class:`EventError` (naming the line) if it is not.

    >>> decode_line(b'{"type": "reading"}', 3)
    {'type': 'reading'}
    >>> decode_line('{"type": 1, "type": 2}', 4)
    Traceback (most recent call last):
    ...
    riskgrade.exceptions.EventError: record 4, field 'type': duplicate-key: key 'type' appears twice in the event
    """
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventError(f"not UTF-8 text (byte {exc.start + 1} of the line)", record=number,
                             code="not-utf8") from None
    if number == 1 and line.startswith("\ufeff"):
        line = line[1:]
    if len(line) > MAX_LINE:
        raise EventError(f"line longer than {MAX_LINE} characters", record=number, code="too-large")
    text = line.strip()
    if not _depth_ok(text):
        raise EventError(f"JSON nested more than {MAX_DEPTH} deep", record=number, code="too-deep")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise EventError(f"not JSON: {exc.msg} (column {exc.colno})", record=number, code="bad-syntax") from None
    except _DuplicateKey as exc:
        raise EventError(f"key {exc.key!r} appears twice in the event", field=exc.key, record=number,
                         code="duplicate-key") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise EventError(f"not JSON: {exc}", record=number, code="bad-syntax") from None


def read_events(lines: Iterable[str | bytes], start: int = 1) -> Iterator[Event | EventError]:
    """Parse a JSONL stream: one :class:`Event` or one :class:`EventError` per line (a line holding a
    JSON array: one per item), so that N lines in give at least N outcomes out.

    A malformed line does not stop the stream; its error names the 1-based line and the field. A blank
    line is an error (``blank-line``), a line that is not JSON ``bad-syntax`` -- the codes ``riskgrade
    grade`` gives for them. A line may also hold a JSON array of events (``record`` is then
    ``"line[index]"``; an empty array gives nothing). Lines may be text or UTF-8 bytes; ``start`` is the
    number of the first line.

    >>> [(type(x).__name__, x.code) for x in read_events(["", "{"])]
    [('EventError', 'blank-line'), ('EventError', 'bad-syntax')]
    """
    for number, line in enumerate(lines, start=start):
        if not line.strip():
            yield EventError("blank line (every line of an event log is one event)", record=number,
                             code="blank-line")
            continue
        try:
            data = decode_line(line, number)
        except EventError as err:
            yield err
            continue
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items):
            record: Any = number if not isinstance(data, list) else f"{number}[{index}]"
            try:
                event = attrs.evolve(parse_event(item, record), line=number)
                PARSED[id(event)] = event
                yield event
            except EventError as err:
                yield err
