"""``riskgrade monitor``: stream warnings and level changes from a log of monitoring events.

Events are processed as they arrive (a line at a time; every output record is flushed), so
``tail -f log | riskgrade monitor ...`` prints a warning as soon as its event is read. With
``--state FILE`` the monitor's state is checkpointed atomically every ``--checkpoint-every``
lines, with ``--checkpoint-seconds T`` also once T seconds passed since the last checkpoint
(checked as lines arrive and, on input with a file descriptor, while it is idle: ``tail -f`` gets
a checkpoint at most ~1.25 T after its last line), and at the end; a restart with the same state
file and the *same log again* skips the lines already consumed (their count and SHA-256 are in
the state, and checked) and continues. With ``--output FILE`` the records go to that file, and a
restart first cuts it back to the length the checkpoint recorded: killed at any moment and
restarted, the file holds exactly the records of an uninterrupted run.

Exit codes: 0 every event processed; 1 some events were malformed, late, duplicate or
foreign (each one got an ``error`` record, the others were processed); 2 the command
line, the ruleset, the enterprise register or the state file is wrong; 3 the rules engine failed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import itertools
import os
import select
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

import click

from riskgrade._api import Monitor, RiskGraph, load_rules
from riskgrade._cli.contract import crash_dict
from riskgrade._cli.main import _lang, _lang_option
from riskgrade._core.levels import Level
from riskgrade._enterprise.register import load_enterprise
from riskgrade._monitor.events import CST, MAX_LINE, Event, EventError, read_events
from riskgrade._monitor.monitor import Monitor as _Monitor
from riskgrade._monitor.monitor import StateError, _load_state, dumps
from riskgrade.exceptions import FactError, GraphError, MonitorError, RiskgradeError, RulesetError

__all__ = ["monitor_cmd", "render_text"]


def render_text(record: dict[str, Any], lang: str) -> str:
    """One output record as a line of a readable log in ``lang``."""
    zh = lang == "zh"
    kind = record["kind"]
    if kind == "error":
        where = f"line {record['line']}" if record.get("line") is not None else "event"
        field = f", field {record['field']!r}" if record.get("field") else ""
        return f"{'错误' if zh else 'ERROR'} {where}{field}: {record['error']}: {record['message']}"
    if kind == "level_changed":
        before, after = Level.parse(record["from"]), Level.parse(record["to"])
        arrow = f"{before.label(lang)} → {after.label(lang)}" if zh else f"{before.en} -> {after.en}"
        return f"{record['time']} {'等级' if zh else 'LEVEL'} {record['node']}: {arrow} ({record['cause']})"
    if kind == "hidden_danger":
        return _render_hidden_danger(record, zh)
    warning = record["warning"]
    level = Level.parse(warning["level"])
    tag = level.colour_zh if zh else level.name
    verb = {("warning_raised", True): "预警", ("warning_raised", False): "RAISED",
            ("warning_cleared", True): "解除", ("warning_cleared", False): "CLEARED"}[(kind, zh)]
    cite = warning["cite"]
    return (f"{record['time']} {verb} [{tag}] {warning['rule']} {warning['key']}: {warning['message'][lang]}"
            f" [{cite['source']} {cite['clause']}]".rstrip())


_HD_VERBS = {  # (event, status) -> (zh, en)
    ("hidden_danger_reported", "open"): ("上报", "reported"),
    ("hidden_danger_rectified", "rectified"): ("整改完成", "rectified"),
    ("hidden_danger_verified", "verified"): ("验收通过", "verified"),
    ("hidden_danger_verified", "open"): ("验收未通过，重新打开", "failed verification, reopened"),
}


def _render_hidden_danger(record: dict[str, Any], zh: bool) -> str:
    verb_zh, verb_en = _HD_VERBS.get((record["event"], record["status"]), (record["status"], record["status"]))
    major = record["grade"] == "major"
    if zh:
        grade = "重大事故隐患" if major else "一般隐患"
        deadline = f"，整改期限 {record['deadline']}" if record.get("deadline") else ""
        return f"{record['time']} 隐患 {record['hidden_danger']} [{grade}] {record['target']}: {verb_zh}{deadline}"
    grade = "major" if major else "general"
    deadline = f" (deadline {record['deadline']})" if record.get("deadline") else ""
    return (f"{record['time']} HIDDEN DANGER {record['hidden_danger']} [{grade}] at {record['target']}: "
            f"{verb_en}{deadline}")


def _graph_for(enterprise: Any, as_of: _dt.date | None) -> Any:
    """The enterprise graph (graded with the register's own rulesets) that applies warning effects."""
    return RiskGraph.build(None, enterprise, as_of=as_of)


#: bytes read for one line at most (a longer line is an error record, and is skipped to its end)
_MAX_LINE_BYTES = 4 * MAX_LINE + 2


class _Idle:
    """What :func:`_lines` yields when no line arrived within its ``idle`` seconds."""


#: no line arrived within the idle timeout (the stream is still open)
IDLE = _Idle()

#: bytes asked of the operating system at a time, when reading with an idle timeout
_CHUNK = 1 << 16


def _lines(stream: BinaryIO, idle: float | None = None) -> Iterator[bytes | _Idle | None]:
    """The lines of ``stream`` as they arrive (``None`` for a line too long to hold).

    With ``idle`` seconds, and a stream with a file descriptor that ``select`` can wait on (a pipe, a
    terminal, a socket, a file), :data:`IDLE` is yielded whenever that long passes without a complete line,
    and the stream is read from its descriptor; both ways give the same lines."""
    fd: int | None = None
    if idle is not None:
        with contextlib.suppress(AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            fd = stream.fileno()
    if fd is None:
        yield from _buffered_lines(stream)
    else:
        yield from _timed_lines(fd, idle or 0.0)


def _buffered_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    while True:
        line = stream.readline(_MAX_LINE_BYTES)
        if not line:
            return
        if len(line) == _MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(_MAX_LINE_BYTES)
            yield None
            continue
        yield line


def _timed_lines(fd: int, idle: float) -> Iterator[bytes | _Idle | None]:
    """:func:`_buffered_lines` read from ``fd`` with ``select``: a line whose text (without its newline) is
    ``_MAX_LINE_BYTES`` or longer is ``None``, as there; at most that much plus a chunk is held."""
    buf = bytearray()
    pos = 0  # where the next line starts in buf
    too_long = False  # the line being read is too long: its bytes are dropped up to its newline
    eof = False
    while True:
        nl = buf.find(b"\n", pos)
        if nl >= 0:
            start, pos = pos, nl + 1
            yield None if too_long or nl - start >= _MAX_LINE_BYTES else bytes(buf[start:pos])
            too_long = False
            continue
        del buf[:pos]
        pos = 0
        if len(buf) >= _MAX_LINE_BYTES:
            too_long = True
            buf.clear()
        if eof:
            if buf or too_long:
                yield None if too_long else bytes(buf)
            return
        ready, _, _ = select.select([fd], [], [], idle)
        if not ready:
            yield IDLE
            continue
        chunk = os.read(fd, _CHUNK)
        eof = not chunk
        buf += chunk


def _arrived(lines: Iterator[bytes | _Idle | None]) -> Iterator[bytes | None]:
    """The lines only (without the idle marks)."""
    return (line for line in lines if not isinstance(line, _Idle))


def _items(number: int, line: bytes | None) -> list[Event | EventError]:
    if line is None:
        return [EventError(f"line longer than {MAX_LINE} characters", record=number, code="too-large")]
    return list(read_events([line], start=number))


def _first_date(items: list[Event | EventError]) -> _dt.date | None:
    """The date (China Standard Time) of the first valid event: the graph is judged as of it."""
    for item in items:
        if isinstance(item, Event):
            return _dt.datetime.fromtimestamp(item.time, tz=CST).date()
    return None


class _Sink:
    """Where records go: stdout, or ``--output FILE`` (cut back to a checkpoint's length on resume)."""

    def __init__(self, path: str | None, resume_at: int | None) -> None:
        self.path = path
        self.file: IO[bytes] = sys.stdout.buffer if path is None else self._open(path, resume_at)

    @staticmethod
    def _open(path: str, resume_at: int | None) -> IO[bytes]:
        if resume_at is None:
            return open(path, "wb")
        try:
            size = os.path.getsize(path)
        except OSError:
            size = -1
        if size < resume_at:
            raise StateError(f"--output {path} holds {max(size, 0)} bytes, fewer than the {resume_at} the "
                             "checkpoint recorded: it is not this run's output", code="state-mismatch")
        out = open(path, "r+b")  # noqa: SIM115
        out.truncate(resume_at)  # records written after the checkpoint are written again
        out.seek(resume_at)
        return out

    def write(self, text: str) -> None:
        self.file.write(text.encode("utf-8") + b"\n")
        self.file.flush()

    def sync(self) -> int:
        """Make what was written durable; the output's length (0 for stdout)."""
        self.file.flush()
        if self.path is None:
            return 0
        os.fsync(self.file.fileno())
        return self.file.tell()

    def close(self) -> None:
        if self.path is not None:
            self.file.close()


def _write_state(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, fsync, rename over, fsync the directory."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".riskgrade-state-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _read_state(path: str) -> tuple[bytes, dict[str, Any]] | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read the state file {path}: {exc.strerror}", code="bad-state") from None
    try:
        return data, _load_state(data)
    except StateError as exc:
        raise StateError(f"state file {path}: {exc}", code=exc.code) from None


@click.command("monitor")
@click.option("--ruleset", "ruleset_ref", required=True, metavar="REF",
              help="monitoring ruleset: a kind: monitor file or id, or a ruleset with a warnings section")
@click.option("--enterprise", "enterprise_file", required=True, type=click.Path(dir_okay=False),
              help="enterprise register (YAML or JSON)")
@click.argument("events", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True)
@_lang_option
@click.option("--tolerance", type=float, default=None,
              help="out-of-order tolerance in seconds (default: the ruleset's)")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), default=None,
              help="checkpoint file: restored if it exists (the same log is then skipped up to it), written "
                   "atomically every --checkpoint-every lines (or --checkpoint-seconds) and at the end")
@click.option("--checkpoint-every", "every", type=click.IntRange(min=1), default=1000, show_default=True,
              help="lines of input between checkpoints (with --state)")
@click.option("--checkpoint-seconds", "every_seconds", type=click.FloatRange(min=0.01, max=86400.0), default=None,
              help="also checkpoint once this many seconds passed since the last checkpoint, as lines arrive "
                   "and while the input is idle (with --state)")
@click.option("--output", "output_file", type=click.Path(dir_okay=False), default=None,
              help="write the records to this file (with --state: cut back to the checkpoint on resume)")
def monitor_cmd(ruleset_ref: str, enterprise_file: str, events: str, fmt: str, lang: str | None,
                tolerance: float | None, state_file: str | None, every: int, every_seconds: float | None,
                output_file: str | None) -> None:
    """Replay EVENTS.jsonl (or stdin) through the warning rules; stream warnings and level changes."""
    lang = _lang(lang)
    if every_seconds is not None and state_file is None:
        raise click.UsageError("--checkpoint-seconds needs --state")
    stream: BinaryIO | None = None
    sink: _Sink | None = None
    try:
        rules = load_rules(ruleset_ref)
        enterprise = load_enterprise(enterprise_file)
        found = _read_state(state_file) if state_file is not None else None
        saved = found[1] if found is not None else None
        position: dict[str, Any] = dict(saved["position"]) if saved is not None else {}
        try:
            stream = sys.stdin.buffer if events == "-" else open(events, "rb")  # noqa: SIM115
        except OSError as exc:
            raise MonitorError(f"cannot read {events}: {exc.strerror}") from None
        lines = _lines(stream, every_seconds / 4 if every_seconds is not None else None)
        digest = hashlib.sha256()
        number = 0
        if saved is not None:  # the same log again: skip (and check) what the checkpoint consumed
            skip = position.get("lines")
            if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
                raise StateError(f"state file {state_file}: no line count in its position", code="bad-state")
            for line in itertools.islice(_arrived(lines), skip):
                number += 1
                digest.update(line if line is not None else b"\0")
            if number < skip or digest.hexdigest() != position.get("sha256"):
                raise StateError(f"state file {state_file} was made from another log: give the whole log it "
                                 f"was made from (its first {skip} lines are skipped, and checked)",
                                 code="state-mismatch")
        pending: list[tuple[int, list[Event | EventError]]] = []
        if saved is not None:
            as_of = saved["monitor"]["as_of"]
            first = _dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None
        else:  # the graph is judged as of the first valid event: read up to it (it is processed next)
            first = None
            for line in _arrived(lines):
                number += 1
                digest.update(line if line is not None else b"\0")
                pending.append((number, _items(number, line)))
                first = _first_date(pending[-1][1])
                if first is not None:
                    break
        graph = _graph_for(enterprise, first)
        monitor = Monitor(rules, graph, tolerance=tolerance)
        if found is not None:
            monitor.restore(found[0])
        out_at = position.get("output_bytes") if saved is not None and output_file is not None else None
        if saved is not None and output_file is not None and not isinstance(out_at, int):
            raise StateError(f"state file {state_file} was written without --output", code="state-mismatch")
        sink = _Sink(output_file, out_at)
    except (RulesetError, FactError, GraphError, MonitorError) as exc:
        code = f"{exc.code}: " if isinstance(exc, StateError) else ""
        if fmt == "jsonl":  # a machine reads stdout: the load error is a JSON line there too (docs/platform.md)
            click.echo(dumps({"kind": "error", "load": "monitor", "error": _load_code(exc), "message": str(exc)}))
        click.echo(f"riskgrade monitor: {code}{exc}", err=True)
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()
        sys.exit(2)
    errors = 0
    assert sink is not None
    out = sink
    try:
        with monitor:
            def emit(records: Any) -> None:
                nonlocal errors
                for record in records:
                    errors += record["kind"] == "error"
                    out.write(dumps(record) if fmt == "jsonl" else render_text(record, lang))

            last = time.monotonic()  # of the last checkpoint
            since = 0  # lines since it

            def checkpoint() -> None:
                nonlocal last, since
                if state_file is not None:
                    size = out.sync()
                    where = {"lines": number, "sha256": digest.hexdigest()}
                    if output_file is not None:
                        where["output_bytes"] = size
                    _write_state(state_file, monitor.checkpoint(where))
                last, since = time.monotonic(), 0

            def due() -> bool:
                return since >= every or (every_seconds is not None and time.monotonic() - last >= every_seconds)

            def feed(items: list[Event | EventError]) -> None:
                for item in items:
                    emit(_feed(monitor, item))

            for _, items in pending:
                feed(items)
            since = len(pending)
            if due():
                checkpoint()
            for got in lines:
                if isinstance(got, _Idle):  # nothing new: a checkpoint if one is due by time
                    if since and due():
                        checkpoint()
                    continue
                number += 1
                digest.update(got if got is not None else b"\0")
                feed(_items(number, got))
                since += 1
                if due():
                    checkpoint()
            # the checkpoint keeps the reorder buffer: a later, longer log continues as if never stopped
            # (the records of the final flush come after it, and so are written again on resume)
            checkpoint()
            emit(monitor.flush().records)
            out.sync()
    except OSError as exc:
        click.echo(f"riskgrade monitor: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the engine, a plugin or riskgrade failed: code, not input (exit 3)
        if fmt == "jsonl":  # in the records' place, after the records already written
            out.write(dumps({"kind": "error", **crash_dict(exc)}))
            out.sync()
        click.echo(f"riskgrade monitor: {exc if isinstance(exc, RiskgradeError) else repr(exc)}", err=True)
        sys.exit(3)
    finally:
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()
        if sink is not None:
            sink.close()
    sys.exit(1 if errors else 0)


def _load_code(exc: Exception) -> str:
    """The code of an error that stops the monitor before the first event."""
    if isinstance(exc, RulesetError):
        return exc.codes[0] if exc.codes else "ruleset"
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__.removesuffix("Error").lower() or "error"


def _feed(monitor: _Monitor, item: Event | EventError) -> tuple[dict[str, Any], ...]:
    return monitor.feed(item).records if isinstance(item, Event) else (item.to_dict(),)
