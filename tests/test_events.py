"""Tests for riskgrade._monitor.events: parsing and validating monitoring events."""

from __future__ import annotations

import pytest

from riskgrade._monitor.events import Event, EventError, format_time, parse_event, parse_time, read_events

T0 = "2024-05-01T08:00:00+08:00"
T0_EPOCH = 1714521600.0


class TestParseTime:
    def test_offset_and_z_and_epoch_agree(self) -> None:
        assert parse_time(T0) == parse_time("2024-05-01T00:00:00Z") == parse_time(T0_EPOCH) == T0_EPOCH

    def test_naive_time_is_an_error(self) -> None:
        with pytest.raises(EventError) as info:
            parse_time("2024-05-01T08:00:00", record=4)
        assert (info.value.code, info.value.field, info.value.record) == ("naive-time", "time", 4)

    @pytest.mark.parametrize("bad", ["yesterday", True, None, float("nan")])
    def test_bad_times(self, bad: object) -> None:
        with pytest.raises(EventError) as info:
            parse_time(bad)
        assert info.value.code == "bad-time"

    def test_format_is_china_standard_time(self) -> None:
        assert format_time(T0_EPOCH) == T0
        assert format_time(T0_EPOCH + 0.25) == "2024-05-01T08:00:00.250+08:00"


class TestParseEvent:
    def test_reading(self) -> None:
        ev = parse_event({"type": "reading", "time": T0, "point": "TI-101", "value": 86, "unit": "°C"})
        assert ev == Event(type="reading", time=T0_EPOCH, point="TI-101", value=86.0, unit="°C")

    @pytest.mark.parametrize(("spelling", "canonical"), [("高报", "高报"), ("HH", "高高报"), ("ll", "低低报"),
                                                         ("low", "低报")])
    def test_alarm_spellings(self, spelling: str, canonical: str) -> None:
        ev = parse_event({"type": "alarm", "time": T0, "point": "P", "alarm": spelling})
        assert (ev.alarm, ev.state) == (canonical, "raised")

    def test_hidden_danger_reported(self) -> None:
        ev = parse_event({"type": "hidden_danger_reported", "time": T0, "hidden_danger": "HD-1",
                          "risk_point": "RP-1", "deadline": "2024-05-03T00:00:00+08:00", "major": True})
        assert (ev.hidden_danger, ev.risk_point, ev.deadline, ev.major) == ("HD-1", "RP-1", T0_EPOCH + 40 * 3600,
                                                                             True)

    @pytest.mark.parametrize(("data", "field", "code"), [
        ({"time": T0}, "type", "missing-field"),
        ({"type": "smoke", "time": T0}, "type", "unknown-type"),
        ({"type": "reading", "point": "P", "value": 1}, "time", "missing-field"),
        ({"type": "reading", "time": T0, "value": 1}, "point", "missing-field"),
        ({"type": "reading", "time": T0, "point": "P", "value": "hot"}, "value", "bad-type"),
        ({"type": "reading", "time": T0, "point": "P", "value": True}, "value", "bad-type"),
        ({"type": "reading", "time": T0, "point": "P", "value": 1, "colour": "red"}, "colour", "unknown-field"),
        ({"type": "alarm", "time": T0, "point": "P", "alarm": "loud"}, "alarm", "bad-value"),
        ({"type": "alarm", "time": T0, "point": "P", "alarm": "H", "state": "gone"}, "state", "bad-value"),
        ({"type": "hidden_danger_verified", "time": T0, "hidden_danger": "H", "passed": "yes"}, "passed", "bad-type"),
        ({"type": "hidden_danger_reported", "time": T0, "hidden_danger": "H", "risk_point": "R",
          "deadline": "2024-05-03"}, "deadline", "naive-time"),
    ])
    def test_errors_name_the_field(self, data: dict[str, object], field: str, code: str) -> None:
        with pytest.raises(EventError) as info:
            parse_event(data, record=7)
        assert (info.value.field, info.value.code, info.value.record) == (field, code, 7)

    def test_to_dict_round_trips(self) -> None:
        data = {"type": "hidden_danger_reported", "time": T0, "id": "e1", "hidden_danger": "HD-1",
                "risk_point": "RP-1", "deadline": "2024-05-03T08:00:00+08:00", "major": False}
        assert parse_event(parse_event(data).to_dict()) == parse_event(data)


class TestReadEvents:
    def test_stream_goes_on_after_bad_lines(self) -> None:
        lines = [
            '{"type": "reading", "time": 0, "point": "P", "value": 1}\n',
            "\n",
            "{not json\n",
            '{"type": "reading", "time": 1, "point": "P"}\n',
            '[{"type": "reading", "time": 2, "point": "P", "value": 2}, {"type": "nope", "time": 3}]\n',
        ]
        out = list(read_events(lines))
        # a blank line is an error record too (N lines in, N outcomes out)
        assert [type(x).__name__ for x in out] == ["Event", "EventError", "EventError", "EventError", "Event",
                                                   "EventError"]
        errors = [x for x in out if isinstance(x, EventError)]
        assert [(e.record, e.field, e.code) for e in errors] == [
            (2, None, "blank-line"), (3, None, "bad-syntax"), (4, "value", "missing-field"),
            ("5[1]", "type", "unknown-type")]
        assert [x.line for x in out if isinstance(x, Event)] == [1, 5]
        assert errors[2].to_dict() == {"kind": "error", "line": 4, "field": "value", "error": "missing-field",
                                       "message": "missing field 'value'"}
