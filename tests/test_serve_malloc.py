"""``riskgrade serve --keep-freed-memory`` (the default): glibc keeps the memory one request freed for the
next, so 1,000-record batch answers do not fault their pages in anew. Counted, not timed: the server
process's minor page faults (``/proc/PID/stat``) over the same requests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest

from riskgrade._serve.app import OPTIONS_ENV, ServeOptions, worker_options
from riskgrade._serve.malloc import keep_freed_memory

from .test_serve_workers import free_port, stop

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

LINUX = sys.platform.startswith("linux")
SCALE = (10, 6, 3, 1, 0.5)
BODY = json.dumps([{"id": f"R-{i}", "L": SCALE[i % 5], "E": SCALE[i // 5 % 5], "C": 15} for i in range(1000)])


def faults(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[7])  # minflt, the 10th field


async def load(port: int, n: int) -> None:
    """``n`` posts of the batch, 8 at a time, each on a new connection (a raw HTTP client: little CPU,
    so that the server is kept busy)."""
    head = (f"POST /v1/grade/lec-generic?receipt=false HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(BODY.encode())}\r\n\r\n").encode()
    todo = iter(range(n))

    async def client() -> None:
        for _ in todo:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head + BODY.encode())
            answer = await asyncio.wait_for(reader.read(-1), 60)  # to the end: the server closes
            writer.close()
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b'"index":') == 1000, answer[:200]

    await asyncio.gather(*(client() for _ in range(8)))


def faults_per_request(*flags: str) -> float:
    """Minor page faults of a real ``riskgrade serve`` per 1,000-record batch (after a warm-up)."""
    port = free_port()
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port), *flags]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGRADE_SERVE_")}
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            deadline = time.monotonic() + 60  # bounded start
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(load(port, 20))  # warm-up: templates kept, the heap at its size
            before = faults(proc.pid)
            asyncio.run(load(port, 200))
            return (faults(proc.pid) - before) / 200
        finally:
            stop(proc)


@pytest.mark.skipif(not LINUX, reason="glibc's mallopt and /proc")
def test_kept_memory_is_reused_by_the_next_request() -> None:
    kept = faults_per_request()
    given_back = faults_per_request("--return-freed-memory")
    # an 835 kB answer is ~200 pages. Given back, whether each request faults them in again depends on
    # the heap's state after the first requests: ApacheBench's posts found 343 faults per request in three
    # starts out of three, this client's mostly a few (docs/benchmarks.md) -- so only the kept side is held
    # to a number here: with the thresholds fixed, no start lands in that state
    print(f"minor page faults per request: kept {kept}, given back {given_back}")
    assert kept < 25, (kept, given_back)


@pytest.mark.skipif(not LINUX, reason="glibc")
def test_keep_freed_memory_takes_on_glibc_and_reaches_the_workers() -> None:
    assert keep_freed_memory() is True  # the tests' own process: what the command does at its start
    assert json.loads(worker_options(ServeOptions(), keep_freed_memory=True))["keep_freed_memory"] is True
    assert json.loads(worker_options(ServeOptions()))["keep_freed_memory"] is False
    assert OPTIONS_ENV == "RISKGRADE_SERVE_WORKER_OPTIONS"
