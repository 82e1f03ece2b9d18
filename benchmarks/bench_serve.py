"""Load benchmark of ``riskgrade serve`` on localhost, against in-process grading in the same run.

Run:  nice python benchmarks/bench_serve.py [--seconds 5] [--memory-records 1000000] [--memory-seconds 600]

Starts ``riskgrade serve`` in a subprocess on a free 127.0.0.1 port and drives it with httpx's async
client (bounded: every scenario runs for ``--seconds``, after a short warm-up), for single-record and
1,000-record batch requests with 1, 8 and 64 concurrent clients, with ``receipt=false`` (the in-process
baselines make no receipt either) and once with receipts. Prints requests/s, records/s and p50/p99
latency per scenario, and the in-process baselines measured in the same run: ``grade_many`` (full
Assessments, not serialised) and ``grade_many`` + the canonical JSON of each result (what the server
must also do). The ratio the project tracks (issue 16): server records/s on 1,000-record batches /
in-process ``grade_many`` records/s, target >= 0.30.

Memory: grades ``--memory-records`` records through the server in 1,000-record batches (8 clients) and
reads the server process's resident set size (VmRSS) after the warm-up, at every tenth of the run and at
the end; stops early at ``--memory-seconds`` and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

import riskgrade
from riskgrade._core.canonical import dumps

L_VALUES = (10, 6, 3, 1, 0.5, 0.2, 0.1)
E_VALUES = (10, 6, 3, 2, 1, 0.5)
C_VALUES = (100, 40, 15, 7, 3, 1)
RULESET = "lec-generic"


def records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    return [{"id": f"R-{i}", "L": rnd.choice(L_VALUES), "E": rnd.choice(E_VALUES), "C": rnd.choice(C_VALUES)}
            for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def in_process(n: int) -> tuple[float, float]:
    """records/s of ``grade_many`` and of ``grade_many`` + canonical JSON of each result (as the server
    writes it, without a receipt), best of three."""
    rs = riskgrade.load(RULESET)
    recs = [{k: v for k, v in r.items() if k != "id"} for r in records(n)]
    best_grade = best_json = 0.0
    for _ in range(3):
        gc.disable()
        t = time.perf_counter()
        for _a in rs.grade_many(recs):
            pass
        best_grade = max(best_grade, n / (time.perf_counter() - t))
        t = time.perf_counter()
        for a in rs.grade_many(recs):
            dumps(a.to_dict())  # type: ignore[union-attr]
        best_json = max(best_json, n / (time.perf_counter() - t))
        gc.enable()
    return best_grade, best_json


async def drive(url: str, body: bytes, per_request: int, clients: int, seconds: float, query: str) -> dict[str, Any]:
    """``clients`` concurrent loops posting ``body`` for ``seconds``; latencies of every request."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        headers = {"content-type": "application/json"}
        path = f"/v1/grade/{RULESET}{query}"
        warm_until = time.monotonic() + min(1.0, seconds / 5)

        async def loop(stop: float, record: bool) -> None:
            nonlocal failures
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    r = await client.post(path, content=body, headers=headers)
                except httpx.TransportError:  # counted, not hidden: the server dropped the connection
                    failures += 1
                    continue
                took = time.perf_counter() - t
                if r.status_code != 200:
                    failures += 1
                elif record:
                    latencies.append(took)

        await asyncio.gather(*(loop(warm_until, False) for _ in range(clients)))
        started = time.monotonic()
        await asyncio.gather(*(loop(started + seconds, True) for _ in range(clients)))
        elapsed = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {"requests": len(latencies), "req_s": len(latencies) / elapsed, "rec_s": len(latencies) * per_request / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "failures": failures}


async def memory_run(url: str, pid: int, total: int, seconds: float) -> dict[str, Any]:
    batch = records(1000, seed=11)
    body = json.dumps(batch).encode()
    samples = [rss_kib(pid)]
    done = 0
    stop = time.monotonic() + seconds
    step = max(total // 10, 1000)
    next_sample = step
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=8)) as client:
        async def one() -> None:
            nonlocal done, next_sample
            while done < total and time.monotonic() < stop:
                r = await client.post(f"/v1/grade/{RULESET}?receipt=false", content=body,
                                      headers={"content-type": "application/json"})
                assert r.status_code == 200, r.text[:200]
                done += 1000
                if done >= next_sample:
                    samples.append(rss_kib(pid))
                    next_sample += step

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(8)))
        elapsed = time.monotonic() - started
    samples.append(rss_kib(pid))
    return {"records": done, "seconds": elapsed, "rss_kib": samples, "complete": done >= total}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--memory-records", type=int, default=1_000_000)
    ap.add_argument("--memory-seconds", type=float, default=600.0)
    ap.add_argument("--baseline-records", type=int, default=100_000)
    ap.add_argument("--server-log", default="bench_serve.log", help="where the server's own log goes")
    args = ap.parse_args()

    base_grade, base_json = in_process(args.baseline_records)
    print(f"in-process grade_many:            {base_grade:12,.0f} records/s")
    print(f"in-process grade_many + JSON:     {base_json:12,.0f} records/s")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port),
           "--max-batch", "1000", "--timeout", "120"]
    log = open(args.server_log, "w", encoding="utf-8")  # noqa: SIM115 - closed with the server
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    try:
        for _ in range(600):  # bounded start: a minute
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        one = json.dumps(records(1)[0]).encode()
        batch = json.dumps(records(1000)).encode()
        rows = []
        for label, body, n, query in (("1 record", one, 1, "?receipt=false"),
                                      ("1,000 records", batch, 1000, "?receipt=false"),
                                      ("1,000 records, receipts", batch, 1000, "")):
            for clients in (1, 8, 64):
                r = asyncio.run(drive(url, body, n, clients, args.seconds, query))
                rows.append((label, clients, r))
                print(f"{label:<24} {clients:>3} clients: {r['req_s']:9,.1f} req/s {r['rec_s']:11,.0f} records/s "
                      f"p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms  ({r['requests']} requests, "
                      f"{r['failures']} failed)")
        best_batch = max(r["rec_s"] for label, _, r in rows if label == "1,000 records")
        print(f"server / grade_many on 1,000-record batches (best of 1/8/64 clients): {best_batch / base_grade:.3f} "
              f"(target >= 0.30: {'met' if best_batch / base_grade >= 0.30 else 'NOT met'})")
        print(f"server / (grade_many + JSON) on 1,000-record batches: {best_batch / base_json:.3f}")
        mem = asyncio.run(memory_run(url, proc.pid, args.memory_records, args.memory_seconds))
        kib = mem["rss_kib"]
        print(f"memory: {mem['records']:,} records in {mem['seconds']:.0f} s"
              f"{'' if mem['complete'] else ' (stopped at --memory-seconds)'}; server RSS "
              f"{kib[0] / 1024:.1f} MiB at the start, {kib[-1] / 1024:.1f} MiB at the end, max {max(kib) / 1024:.1f} MiB "
              f"(samples: {', '.join(f'{k / 1024:.1f}' for k in kib)})")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
