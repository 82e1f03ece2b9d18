"""The monitor on hostile and ordinary-but-awkward input (issue 10): numbers the engine accepts,
typed errors for odd events, streaming, checkpoint and resume -- including a real ``kill -9``."""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from click.testing import CliRunner

from riskgrade import Monitor, RiskGraph, load_enterprise
from riskgrade._cli import monitor as cli_monitor
from riskgrade._cli.monitor import monitor_cmd
from riskgrade._monitor.engine import encode
from riskgrade._monitor.events import Event, EventError, read_events
from riskgrade._monitor.monitor import StateError
from riskgrade._monitor.rules import load_monitor_ruleset, parse_monitor_ruleset
from riskgrade.exceptions import MonitorError

ROOT = Path(__file__).resolve().parent.parent
REGISTER = str(ROOT / "examples" / "enterprises" / "chem-plant.yaml")
RULES = str(ROOT / "rulesets" / "monitoring" / "chem-plant-monitor.yaml")
#: the command line of a real ``riskgrade`` process (what the console script runs)
RISKGRADE = [sys.executable, "-c", "import sys; from riskgrade._cli import main; sys.exit(main())"]
ARGS = ["--ruleset", "chem-plant-monitor", "--enterprise", REGISTER]
T0 = 1719792000  # 2024-07-01T08:00:00+08:00

TINY = """\
kind: monitor
id: tiny
warnings:
  - id: trace
    kind: threshold
    point: MP-NH3-GAS
    above: 0.00001
    level: YELLOW
    message: {zh: "{point} {value}", en: "{point} {value}"}
    cite: {source: "local", kind: local}
  - id: huge
    kind: threshold
    point: MP-NH3-LEVEL
    above: 1.0e+16
    level: RED
    message: {zh: "{point} {value}", en: "{point} {value}"}
    cite: {source: "local", kind: local}
"""


def _reading(t: float, value: Any, point: str = "MP-NH3-GAS") -> dict[str, Any]:
    return {"type": "reading", "time": t, "point": point, "value": value}


class TestNumbersTheEngineAccepts:
    def test_encode_puts_a_point_in_every_exponent(self) -> None:
        assert encode([2e-05, 1e16, 1e-300, 1.5e300, 0.5, 10**30, -3e-07]) == (
            "[2.0e-05,1.0e+16,1.0e-300,1.5e+300,0.5,1.0e+30,-3.0e-07]")

    @pytest.mark.parametrize("value", [0.00002, 2e-05, 1e16, 1e-7, 1.5e300, 10**20, -1e-300, 0])
    def test_any_float_reading_is_accepted_and_compared_exactly(self, value: Any) -> None:
        register = load_enterprise(REGISTER)
        with Monitor(parse_monitor_ruleset(TINY), register) as mon:
            result = mon.feed(_reading(T0, value))
            assert not result.errors
            assert [a.rule for a in result.raised] == (["trace"] if value > 0.00001 else [])
            result = mon.feed(_reading(T0 + 1, value, "MP-NH3-LEVEL"))
            assert [a.rule for a in result.raised] == (["huge"] if value > 1e16 else [])

    def test_limits_in_exponent_form_compile(self) -> None:
        with Monitor(parse_monitor_ruleset(TINY), load_enterprise(REGISTER)) as mon:
            assert not mon.feed(_reading(T0, 0.00001)).raised  # not above itself
            assert mon.feed(_reading(T0 + 1, 0.0000100001)).raised


HOSTILE = [
    ('{"type": [], "time": 1719792000}', "type", "bad-type"),
    ('{"type": {"a": 1}, "time": 1719792000}', "type", "bad-type"),
    ('{"type": "reading", "time": 1e20, "point": "MP-NH3-GAS", "value": 1}', "time", "out-of-range"),
    ('{"type": "reading", "time": -5, "point": "MP-NH3-GAS", "value": 1}', "time", "out-of-range"),
    ('{"type": "reading", "time": "9999-12-31T23:59:59+08:00", "point": "MP-NH3-GAS", "value": 1}', "time",
     "out-of-range"),
    ('{"type": "reading", "time": "9999-12-31T23:59:59-12:00", "point": "MP-NH3-GAS", "value": 1}', "time",
     "out-of-range"),
    ('{"type": "reading", "time": "0001-01-01T00:00:00+14:00", "point": "MP-NH3-GAS", "value": 1}', "time",
     "out-of-range"),
    ('{"type": "reading", "time": ' + "9" * 400 + ', "point": "MP-NH3-GAS", "value": 1}', "time", "out-of-range"),
    ('{"type": "reading", "time": 1719792000, "point": "MP-NH3-GAS", "value": ' + "9" * 400 + "}", "value",
     "out-of-range"),
    ('{"type": "reading", "time": 1719792000, "point": "MP-NH3-GAS", "value": ' + "9" * 5000 + "}", None,
     "bad-syntax"),
    ('{"type": "reading", "time": 1719792000, "point": "MP-NH3-GAS", "value": NaN}', "value", "bad-type"),
    ('{"type": "reading", "time": 1719792000, "point": "MP-NH3-GAS", "value": 1e999}', "value", "bad-type"),
    ('{"type": "reading", "time": 1719792000, "point": ' + "1" * 80 + ', "value": 1}', "point", "bad-type"),
    ('{"type": "reading", "time": 1719792000, "time": 1719792001, "point": "MP-NH3-GAS", "value": 1}', "time",
     "duplicate-key"),
    ('{"type": "alarm", "time": 1719792000, "point": "MP-NH3-GAS", "alarm": "H", "state": []}', "state",
     "bad-value"),
    ('{"type": "hidden_danger_reported", "time": 1719792000, "hidden_danger": "H", "risk_point": "P-BOILER", '
     '"deadline": 1e300}', "deadline", "out-of-range"),
    ("[" * 100000 + "]" * 100000, None, "too-deep"),
    ('{"a": ' * 100000 + "1" + "}" * 100000, None, "too-deep"),
]


class TestOddEvents:
    @pytest.mark.parametrize(("line", "field", "code"), HOSTILE, ids=[f"{c}-{i}" for i, (_, _, c) in
                                                                       enumerate(HOSTILE)])
    def test_a_typed_error_naming_line_and_field(self, line: str, field: str | None, code: str) -> None:
        items = list(read_events(["", line], start=7))
        assert len(items) == 2 and all(isinstance(i, EventError) for i in items), items
        blank, err = items  # the blank line is an error record too, in its place: 2 lines in, 2 out
        assert (blank.record, blank.field, blank.code) == (7, None, "blank-line"), blank
        assert (err.record, err.field, err.code) == (8, field, code), err

    def test_non_utf8_bytes_and_a_bom(self) -> None:
        good = b'{"type": "reading", "time": 1719792000, "point": "MP-NH3-GAS", "value": 1}\n'
        items = list(read_events([b"\xef\xbb\xbf" + good, b'{"type": "read\xffing"}\n', good]))
        assert isinstance(items[0], Event) and items[0].line == 1
        assert isinstance(items[1], EventError) and (items[1].record, items[1].code) == (2, "not-utf8")
        assert isinstance(items[2], Event) and items[2].line == 3

    def test_the_cli_gives_records_never_a_traceback(self, tmp_path: Path) -> None:
        log = tmp_path / "hostile.jsonl"
        good = json.dumps(_reading(T0, 0.00002)).encode()
        lines = [line.encode() for line, _, _ in HOSTILE] + [b"\xff\xfe not utf-8", b"x" * (5 << 20), good]
        log.write_bytes(b"\n".join(lines) + b"\n")
        result = CliRunner().invoke(monitor_cmd, [*ARGS, str(log)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 1
        records = [json.loads(x) for x in result.stdout.splitlines()]
        errors = [r for r in records if r["kind"] == "error"]
        assert [r["line"] for r in errors] == list(range(1, len(HOSTILE) + 3))
        assert [r["error"] for r in errors][-2:] == ["not-utf8", "too-large"]
        assert "Traceback" not in result.output


class TestEventsFedThroughTheAPI:
    """Found by tests/fuzz/test_fuzz_monitor.py: ``riskgrade.Event`` is public, and an ``Event`` made by hand
    reached the engine unchecked -- a time of 1e20 raised ``OverflowError`` from ``feed`` and broke every
    later feed; a ``Mapping`` that is not a ``dict`` was refused as "not a JSON object"."""

    @pytest.mark.parametrize(("fields", "field", "code"), [
        ({"time": 1e20}, "time", "out-of-range"), ({"time": -5.0}, "time", "out-of-range"),
        ({"time": float("nan")}, "time", "bad-time"), ({"value": 10**400}, "value", "out-of-range"),
        ({"value": float("inf")}, "value", "bad-type"), ({"value": "x"}, "value", "bad-type"),
        ({"point": None}, "point", "missing-field"), ({"type": []}, "type", "bad-type"),
        ({"hidden_danger": "HD-1"}, "hidden_danger", "unknown-field"), ({"type": "nope"}, "type", "unknown-type"),
    ])
    def test_a_hand_made_event_is_checked_like_a_mapping(self, fields: dict[str, Any], field: str,
                                                         code: str) -> None:
        with Monitor(parse_monitor_ruleset(TINY), load_enterprise(REGISTER)) as mon:
            bad = Event(**{"type": "reading", "time": float(T0), "point": "MP-NH3-GAS", "value": 1.0, **fields})
            result = mon.feed(bad, record=4)
            assert [(e.record, e.field, e.code) for e in result.errors] == [(4, field, code)]
            assert result.records[0]["kind"] == "error"
            # the monitor goes on
            assert [a.rule for a in mon.feed(Event(type="reading", time=float(T0 + 1), point="MP-NH3-GAS",
                                                   value=1.0)).raised] == ["trace"]

    def test_a_valid_hand_made_event_and_a_read_one_give_the_same_records(self) -> None:
        lines = long_log(200, seed=4)
        register = load_enterprise(REGISTER)
        rules = load_monitor_ruleset(RULES)
        with Monitor(rules, register) as a, Monitor(rules, register) as b:
            for item in read_events(lines):
                if isinstance(item, Event):
                    copy = Event(**{f: getattr(item, f) for f in ("type", "time", "id", "point", "value", "unit",
                                                                  "alarm", "state", "hidden_danger", "risk_point",
                                                                  "deadline", "major", "passed", "line")})
                    assert a.feed(item).records == b.feed(copy).records

    def test_a_hand_made_event_with_int_times_checkpoints_exactly(self) -> None:
        """An ``Event`` holding ``int`` times (equal to a parsed one, but not the same) is stored as the parsed
        one would be: restored, the checkpoint is the same bytes (it held an int ``released`` before)."""
        rules, register = parse_monitor_ruleset(TINY), load_enterprise(REGISTER)
        with Monitor(rules, register, tolerance=0) as mon:
            for k in range(3):
                mon.feed(Event(type="reading", time=T0 + 60 * k, point="MP-NH3-GAS", value=k))  # type: ignore[arg-type]
            state = mon.checkpoint()
        with Monitor(rules, register, tolerance=0) as again:
            again.restore(state)
            assert again.checkpoint() == state

    def test_any_mapping_is_an_event(self) -> None:
        with Monitor(parse_monitor_ruleset(TINY), load_enterprise(REGISTER)) as mon:
            result = mon.feed(MappingProxyType(_reading(T0, 0.5)))
            assert not result.errors and [a.rule for a in result.raised] == ["trace"]


class TestStreaming:
    def test_a_record_comes_out_before_stdin_closes(self) -> None:
        """A real subprocess: write one event at a time and read its warning while stdin stays open."""
        proc = subprocess.Popen([*RISKGRADE, "monitor", *ARGS, "--tolerance", "0", "-"], cwd=ROOT,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            def send(event: dict[str, Any]) -> None:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(event).encode() + b"\n")
                proc.stdin.flush()

            def read_record(timeout: float = 90.0) -> dict[str, Any]:  # generous: CI machines may be loaded
                assert proc.stdout is not None
                ready, _, _ = select.select([proc.stdout], [], [], timeout)
                assert ready, "no record within the timeout: the monitor is not streaming"
                return dict(json.loads(proc.stdout.readline()))

            send(_reading(T0, 3))  # the register's overdue hidden danger is warned about at the first event
            assert read_record()["warning"]["key"] == "HD-2024-003"
            send(_reading(T0 + 60, 30))
            send(_reading(T0 + 120, 31))  # over the limit for the rule's delay of 1 min: raised
            record = read_record()
            assert (record["kind"], record["warning"]["rule"]) == ("warning_raised", "nh3-gas-high")
            assert proc.poll() is None  # still running, stdin still open
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
            proc.stdout.close()
            assert proc.stderr is not None
            proc.stderr.close()


# --------------------------------------------------------------------------- checkpoint and resume

def long_log(n: int, seed: int = 10) -> list[str]:
    """``n`` events over several days that raise and clear warnings, with out-of-order jitter (< 60 s),
    bad events, duplicate ids and hidden dangers reported and verified."""
    rnd = random.Random(seed)
    out: list[tuple[float, dict[str, Any]]] = []
    t = float(T0)
    hd = 0
    opened: list[str] = []
    for i in range(n):
        t += rnd.choice((7, 30, 60, 95, 300, 1800))
        r = rnd.random()
        ev: dict[str, Any]
        if r < 0.55:
            ev = _reading(t, round(10 + 30 * abs(((i // 7) % 10) - 5) / 5 + rnd.random(), 3))
            ev["unit"] = "ppm"
        elif r < 0.8:
            ev = {"type": "alarm", "time": t, "point": rnd.choice(("MP-NH3-LEVEL", "MP-NH3-GAS")),
                  "alarm": rnd.choice(("高报", "H", "高高报")), "state": rnd.choice(("raised", "raised", "cleared"))}
        elif r < 0.83:
            hd += 1
            opened.append(f"HD-L-{hd}")
            ev = {"type": "hidden_danger_reported", "time": t, "hidden_danger": opened[-1],
                  "risk_point": rnd.choice(("P-BOILER", "P-NH3-TANK")), "deadline": t + rnd.choice((600, 7200, 86400)),
                  "major": rnd.random() < 0.15}
        elif r < 0.88:
            name = opened.pop(rnd.randrange(len(opened))) if opened and rnd.random() < 0.9 else f"HD-L-{hd}"
            # closed by verification: a major one only marked rectified keeps its veto (issue 14)
            ev = {"type": "hidden_danger_verified", "time": t, "hidden_danger": name}
        elif r < 0.96:
            ev = _reading(t, rnd.choice((1e-05, 2e-07, 1e16)))
        else:
            ev = {"type": "reading", "time": t, "point": "MP-NOPE", "value": 1}
        ev["id"] = f"ev-{i}" if rnd.random() > 0.01 else "ev-dup"
        out.append((t + rnd.uniform(-50, 0), ev))
    out.sort(key=lambda p: p[0])  # arrival order: event times jitter by up to 50 s
    return [json.dumps(ev, ensure_ascii=False) for _, ev in out]


def _cmd(*extra: str) -> list[str]:
    return [*RISKGRADE, "monitor", *ARGS, *extra]


class TestCheckpointAPI:
    def _monitor(self) -> Monitor:
        graph = RiskGraph.build(None, load_enterprise(REGISTER), as_of=None)
        return Monitor(load_monitor_ruleset(RULES), graph)

    def test_restore_continues_exactly(self) -> None:
        lines = long_log(600, seed=3)
        with self._monitor() as whole:
            expected = list(whole.replay(lines))
        with self._monitor() as first:
            got = [r for item in read_events(lines[:250]) for r in
                   (first.feed(item).records if isinstance(item, Event) else (item.to_dict(),))]
            state = first.checkpoint({"lines": 250})
        with self._monitor() as second:
            assert second.restore(state) == {"lines": 250}
            assert second.fed == sum(isinstance(i, Event) for i in read_events(lines[:250]))
            got += [r for item in read_events(lines[250:], start=251) for r in
                    (second.feed(item).records if isinstance(item, Event) else (item.to_dict(),))]
            got += list(second.flush().records)
        assert len(expected) > 100 and got == expected

    def test_corrupt_and_foreign_checkpoints_are_refused(self) -> None:
        with self._monitor() as mon:
            mon.feed(_reading(T0, 30))
            state = mon.checkpoint()
        flipped = state.replace(b'"arrivals":1', b'"arrivals":2')
        assert flipped != state
        for bad, code in ((b"", "bad-state"), (b"\xff", "bad-state"), (b"[]", "bad-state"),
                          (state[:-5], "bad-state"), (flipped, "bad-state"),
                          (state.replace(b'"version":1', b'"version":9'), "bad-state")):
            with self._monitor() as mon, pytest.raises(StateError) as info:
                mon.restore(bad)
            assert info.value.code == code, bad[:80]
            assert isinstance(info.value, MonitorError)
        other = load_monitor_ruleset(RULES)
        import attrs

        with Monitor(attrs.evolve(other, fingerprint="sha256:other"), load_enterprise(REGISTER)) as mon:
            with pytest.raises(StateError, match="monitoring ruleset") as info:
                mon.restore(state)
            assert info.value.code == "state-mismatch"
        with self._monitor() as mon:
            mon.tolerance = 5.0
            with pytest.raises(StateError, match="tolerance"):
                mon.restore(state)
        with self._monitor() as mon:
            mon.feed(_reading(T0, 3))
            with pytest.raises(MonitorError, match="new monitor"):
                mon.restore(state)


#: how the killed run checkpoints: by line count, or by time alone (the line count too large to matter)
MODES = {"every-97-lines": ["--checkpoint-every", "97"],
         "every-0.2-s": ["--checkpoint-every", "1000000", "--checkpoint-seconds", "0.2"]}


class TestKillAndResume:
    @pytest.mark.parametrize("mode", list(MODES))
    def test_kill_9_mid_stream_and_resume_gives_the_uninterrupted_output(self, tmp_path: Path, mode: str) -> None:
        lines = long_log(4000)
        log = tmp_path / "events.jsonl"
        log.write_text("\n".join(lines) + "\n", encoding="utf-8")
        whole = tmp_path / "whole.jsonl"
        subprocess.run(_cmd("--output", str(whole), str(log)), cwd=ROOT, timeout=120, check=False)
        expected = whole.read_bytes()
        kinds = [json.loads(x)["kind"] for x in expected.splitlines()]
        assert kinds.count("warning_raised") > 100 and kinds.count("warning_cleared") > 100
        assert kinds.count("level_changed") > 30 and kinds.count("error") > 20 and kinds.count("hidden_danger") > 100

        state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
        # the killed run reads the log from a pipe, which the test fills as fast as it can
        proc = subprocess.Popen(_cmd("--state", str(state), *MODES[mode], "--output", str(out), "-"),
                                cwd=ROOT, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        deadline = time.monotonic() + 60
        try:
            sent = 0
            while sent < 3000:  # the last 1,000 lines never reach it
                proc.stdin.write(("\n".join(lines[sent:sent + 50]) + "\n").encode())
                proc.stdin.flush()
                sent += 50
                if sent >= 1500 and state.exists():
                    break
            while not state.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert state.exists(), "no checkpoint was written"
            time.sleep(random.Random().uniform(0, 0.05))
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
            proc.stdin.close()
            assert proc.stderr is not None
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        position = json.loads(state.read_bytes())["position"]
        assert 0 < position["lines"] < len(lines)
        # restart: the same state file and the whole log again
        second = subprocess.run(_cmd("--state", str(state), *MODES[mode], "--output", str(out), str(log)), cwd=ROOT,
                                timeout=120, capture_output=True, check=False)
        assert second.returncode == 1, second.stderr  # the log holds bad events on purpose
        assert out.read_bytes() == expected
        # and once more: everything was consumed, nothing is added
        third = subprocess.run(_cmd("--state", str(state), "--output", str(out), str(log)), cwd=ROOT, timeout=120,
                               capture_output=True, check=False)
        assert third.returncode == 0, third.stderr
        assert out.read_bytes() == expected

    def test_an_idle_pipe_is_checkpointed_after_the_seconds_without_n_lines(self, tmp_path: Path) -> None:
        """``tail -f log | riskgrade monitor --checkpoint-seconds T``: a real subprocess fed a few lines at a
        time through a pipe that stays open gets a checkpoint of exactly those lines, T seconds on."""
        lines = long_log(40, seed=5)
        log = tmp_path / "events.jsonl"
        log.write_text("\n".join(lines) + "\n", encoding="utf-8")
        whole = tmp_path / "whole.jsonl"
        subprocess.run(_cmd("--output", str(whole), str(log)), cwd=ROOT, timeout=120, check=False)
        state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
        proc = subprocess.Popen(_cmd("--state", str(state), "--checkpoint-seconds", "0.3", "--output", str(out),
                                     "-"), cwd=ROOT, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None

        def position(lines_: int, timeout: float = 90.0) -> dict[str, Any]:  # generous: CI may be loaded
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                with contextlib.suppress(FileNotFoundError):
                    where = dict(json.loads(state.read_bytes())["position"])
                    if where["lines"] == lines_:
                        return where
                time.sleep(0.05)
            raise AssertionError(f"no checkpoint of {lines_} lines within {timeout} s")

        try:
            for upto in (5, 12):  # far fewer than --checkpoint-every's default 1,000 lines
                done = 0 if upto == 5 else 5
                proc.stdin.write(("\n".join(lines[done:upto]) + "\n").encode())
                proc.stdin.flush()
                where = position(upto)
                assert proc.poll() is None  # the pipe is open: the checkpoint came while waiting for input
            assert where["output_bytes"] == out.stat().st_size
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
            proc.stdin.close()
            assert proc.stderr is not None
            proc.stderr.close()
        resumed = subprocess.run(_cmd("--state", str(state), "--checkpoint-seconds", "0.3", "--output", str(out),
                                      str(log)), cwd=ROOT, timeout=120, capture_output=True, check=False)
        assert resumed.returncode in (0, 1), resumed.stderr
        assert out.read_bytes() == whole.read_bytes()

    def test_checkpoint_seconds_needs_state(self) -> None:
        result = CliRunner().invoke(monitor_cmd, [*ARGS, "--checkpoint-seconds", "5", "-"], input="")
        assert result.exit_code == 2 and "--state" in result.output

    @pytest.mark.parametrize("data", [b"", b"a", b"a\n", b"a\nb", b"\n\n", b"x" * 40 + b"\nshort\n",
                                      b"x" * 39 + b"\n" + b"y" * 40, b"x" * 41 + b"\n" + b"z" * 38 + b"\n",
                                      b"x" * 100 + b"\n\nq\n" + b"w" * 39])
    def test_the_timed_reader_gives_the_buffered_readers_lines(self, data: bytes, monkeypatch: Any,
                                                               tmp_path: Path) -> None:
        """Both line readers (one with an idle timeout, one without) cut a stream the same way, long lines
        included: a checkpoint made by one is resumed by the other."""
        monkeypatch.setattr(cli_monitor, "_MAX_LINE_BYTES", 40)
        monkeypatch.setattr(cli_monitor, "_CHUNK", 7)
        path = tmp_path / "data"
        path.write_bytes(data)
        with open(path, "rb") as f:
            buffered = list(cli_monitor._lines(f))
        with open(path, "rb") as f:
            timed = [x for x in cli_monitor._lines(f, 0.5) if not isinstance(x, cli_monitor._Idle)]
        assert timed == buffered
        assert b"".join(x for x in buffered if x is not None) == b"".join(
            x for x in data.splitlines(keepends=True) if len(x.rstrip(b"\n")) < 40)

    def test_a_corrupt_or_foreign_state_file_is_an_error(self, tmp_path: Path) -> None:
        log = tmp_path / "events.jsonl"
        log.write_text("\n".join(long_log(50)) + "\n", encoding="utf-8")
        state = tmp_path / "state.json"
        runner = CliRunner()
        assert runner.invoke(monitor_cmd, [*ARGS, "--state", str(state), str(log)]).exit_code == 1
        other = tmp_path / "other.jsonl"
        other.write_text("\n".join(long_log(50, seed=99)) + "\n", encoding="utf-8")
        result = runner.invoke(monitor_cmd, [*ARGS, "--state", str(state), str(other)])
        assert result.exit_code == 2 and "state-mismatch" in result.stderr and "another log" in result.stderr
        state.write_bytes(state.read_bytes()[:-10])
        result = runner.invoke(monitor_cmd, [*ARGS, "--state", str(state), str(log)])
        assert result.exit_code == 2 and "bad-state" in result.stderr
