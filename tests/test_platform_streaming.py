"""``-`` is stdin, streamed, for the events of ``riskgrade monitor`` too: a real subprocess fed through a
pipe answers a line before its standard input is closed; a load error under jsonl is JSON on stdout."""

from __future__ import annotations

import json
import os
import pathlib
import select
import subprocess
import sys

from click.testing import CliRunner

from riskgrade._cli import main

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENT = {"id": "ev-1", "type": "reading", "time": "2024-07-01T08:00:00+08:00", "point": "MP-NH3-GAS", "value": 3.0}


def read_line(stream: object, timeout: float = 120) -> bytes:
    """One line of the child's output, or fail after ``timeout`` seconds (never hang the suite)."""
    fd = stream.fileno()  # type: ignore[attr-defined]
    ready, _, _ = select.select([fd], [], [], timeout)
    assert ready, f"no output within {timeout} s: the command does not stream"
    return stream.readline()  # type: ignore[attr-defined,no-any-return]


def test_monitor_answers_while_stdin_is_still_open() -> None:
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "monitor", "--ruleset",
           "chem-plant-monitor", "--enterprise", "examples/enterprises/chem-plant.yaml", "-"]
    with subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          env={**os.environ, "LANG": "C.UTF-8"}) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(EVENT).encode() + b"\n")
            proc.stdin.write(b"{oops\n")  # a bad line: its error record comes out at once
            proc.stdin.flush()
            first = json.loads(read_line(proc.stdout))
            assert (first["kind"], first["line"], first["error"]) == ("error", 2, "bad-syntax")
            proc.stdin.write(b"{nope\n")  # and the next one, still before the input ends
            proc.stdin.flush()
            second = json.loads(read_line(proc.stdout))
            assert (second["kind"], second["line"]) == ("error", 3)
            proc.stdin.close()
            rest = proc.stdout.read()
            assert all(json.loads(x)["kind"] != "error" for x in rest.splitlines())
            assert proc.wait(timeout=120) == 1  # error records: a finding
        finally:
            if proc.poll() is None:
                proc.kill()


def test_monitor_load_error_is_json_on_stdout(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: monitor\nwarnings:\n  - id: x\n    kind: thresold\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["monitor", "--ruleset", str(bad), "--enterprise",
                                    "examples/enterprises/chem-plant.yaml", "-"], input="")
    assert res.exit_code == 2
    (rec,) = [json.loads(x) for x in res.stdout.splitlines()]
    assert (rec["kind"], rec["load"], rec["error"]) == ("error", "monitor", "unknown-kind")
    assert f"{bad}:4:11" in rec["message"]
