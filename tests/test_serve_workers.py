"""``riskgrade serve --workers 2``: a real command in a subprocess, two worker processes on one port, one
access log both append to (each request's lines in one ``write``: none cut into another's)."""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import MINIMAL

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

KEY = "k-workers-0123456789"


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a supervisor stops the command; killed (and the test failed) if it is not gone in 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workers_of(pid: int) -> list[int]:
    """The worker processes that ``pid`` spawned (Linux /proc: its children running multiprocessing's
    ``spawn_main``; multiprocessing's resource tracker is a child too, and not a worker)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) != pid:
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if b"spawn_main" in fh.read():
                        out.append(int(entry))
            except OSError:
                continue
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts worker processes in /proc")
def test_two_workers_serve_one_port_and_share_the_access_log(tmp_path: pathlib.Path) -> None:
    (tmp_path / "keys.txt").write_text(f"{KEY}\n", encoding="utf-8")
    (tmp_path / "tiny.yaml").write_text(MINIMAL, encoding="utf-8")
    log = tmp_path / "access.jsonl"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port),
           "--workers", "2", "--access-log", "access.jsonl", "--api-key-file", "keys.txt", "--ruleset", "tiny.yaml"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGRADE_SERVE_")}
    with subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        try:
            deadline = time.monotonic() + 90  # bounded start: two spawned interpreters compile the rulesets
            workers: list[int] = []
            while time.monotonic() < deadline and proc.poll() is None:
                workers = workers_of(proc.pid)
                try:
                    if len(workers) == 2 and httpx.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "serve stopped"
            assert len(workers) == 2, workers

            assert httpx.post(url + "/v1/grade/lec-generic", json={"L": 3}, timeout=30).status_code == 401

            def post(batch: int) -> list[dict[str, object]]:
                body = [{"id": f"B{batch}-{i}", "L": 3, "E": 6, "C": 15 if i % 2 else 7} for i in range(10)]
                r = httpx.post(url + "/v1/grade/lec-generic?receipt=false", json=body, timeout=60,
                               headers={"Authorization": f"Bearer {KEY}"})
                assert r.status_code == 200, r.text
                return list(r.json())

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(post, range(40)))
            for b, answer in enumerate(answers):
                assert [(a["id"], a["level"]) for a in answer] == [
                    (f"B{b}-{i}", "ORANGE" if i % 2 else "YELLOW") for i in range(10)]

            # the key file emptied and a served file broken, then a worker dies: its replacement starts (no
            # restart loop on the broken file) and still checks the keys the command read (given as digests)
            (tmp_path / "keys.txt").write_text("", encoding="utf-8")
            (tmp_path / "tiny.yaml").write_text(MINIMAL.replace("cite: {source: s}", "cite: {source: nope}"),
                                                encoding="utf-8")
            os.kill(workers[0], signal.SIGKILL)
            deadline = time.monotonic() + 90
            now: list[int] = []
            while time.monotonic() < deadline:
                now = workers_of(proc.pid)
                if len(now) == 2 and workers[0] not in now:
                    break
                time.sleep(0.2)
            assert len(now) == 2 and workers[0] not in now, now
            replacement = next(p for p in now if p not in workers)
            time.sleep(3)  # its start-up (a restart loop would have replaced it again by now)
            assert replacement in workers_of(proc.pid), "the replacement worker did not stay up"
            for _ in range(12):  # both workers answer in turn: every request without a key is refused
                assert httpx.get(url + "/v1/rulesets", timeout=30).status_code == 401
                assert httpx.get(url + "/v1/rulesets", timeout=30, headers={"X-API-Key": KEY}).status_code == 200
            workers = now
        finally:
            stop(proc)
    assert proc.returncode == 0
    assert not [p for p in workers if os.path.exists(f"/proc/{p}")], "a worker outlived the command"
    lines = log.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]  # every line whole: no line cut into another
    assert sorted(r["id"] for r in rows if r["ruleset"] == "lec-generic") == sorted(
        f"B{b}-{i}" for b in range(40) for i in range(10))
    assert {r["path"] for r in rows} == {"grade"}


@pytest.mark.parametrize(("level", "lines"), [("info", True), ("warning", False)])
def test_the_log_level_decides_uvicorns_request_lines(tmp_path: pathlib.Path, level: str, lines: bool) -> None:
    """``--log-level``: uvicorn's line per request (on standard output) at info, none from warning up; its
    other lines go to standard error."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port),
           "--log-level", level]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGRADE_SERVE_")}
    with subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            deadline = time.monotonic() + 60  # bounded start
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            res = httpx.post(url + "/v1/grade/lec-generic", json=[{"L": 3, "E": 6, "C": 7}], timeout=30)
            assert res.status_code == 200 and res.json()[0]["level"]
        finally:
            stop(proc)
        out = proc.stdout.read().decode() if proc.stdout else ""
        err = proc.stderr.read().decode() if proc.stderr else ""
    assert ('"POST /v1/grade/lec-generic HTTP/1.1" 200' in out) is lines, out
    assert ("Uvicorn running" in err) is lines  # an info line too
