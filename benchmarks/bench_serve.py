"""Load benchmark of ``riskgrade serve`` on localhost, against in-process grading in the same run.

Run:  nice python benchmarks/bench_serve.py [--seconds 5] [--clients 1,8,64] [--memory-records 1000000]
      [--memory-seconds 600]   (--memory-records 0: no memory run)

Starts ``riskgrade serve`` in a subprocess on a free 127.0.0.1 port and drives it with httpx's async
client (bounded: every scenario runs for ``--seconds``, after a short warm-up), for single-record and
1,000-record batch requests with 1, 8 and 64 concurrent clients, with ``receipt=false`` (the in-process
baselines make no receipt either) and once with receipts. Prints requests/s, records/s and p50/p99
latency per scenario, and the in-process baselines measured in the same run: ``grade_many`` (full
Assessments, not serialised) and ``grade_many`` + the canonical JSON of each result (what the server
must also do). The ratio the project tracks (issue 16): server records/s on 1,000-record batches /
in-process ``grade_many`` records/s, target >= 0.30.

The HTTP ceiling (``--no-ceiling`` to skip it): the same client, the same bodies and clients, against a
server that does no work -- uvicorn (the same HTTP parser and event loop) running a bare ASGI app that reads
the body and answers bytes as long as the real answer of the batch. What it reaches is what this client
and HTTP on this machine allow any server; its ratio to ``grade_many`` is printed next to the server's.

With ApacheBench installed (``ab``, Debian's apache2-utils; ``--no-ab`` to skip): the same batch posted
by a client in C, which takes a fraction of httpx's CPU, to ``riskgrade serve --workers 1`` and ``--workers
2`` -- what the server gives when the client leaves it more of the machine.

Memory: grades ``--memory-records`` records through the server in 1,000-record batches (8 clients) and
reads the server process's resident set size (VmRSS) after the warm-up, at every tenth of the run and at
the end; stops early at ``--memory-seconds`` and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

import riskgrade
from riskgrade._core.canonical import dumps

L_VALUES = (10, 6, 3, 1, 0.5, 0.2, 0.1)
E_VALUES = (10, 6, 3, 2, 1, 0.5)
C_VALUES = (100, 40, 15, 7, 3, 1)
RULESET = "lec-generic"


#: different batches the clients post in turn (every record of every batch has its own id)
BATCHES = 16


def records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` records with their own ids (``R-seed-i``) and facts drawn from the LEC scales (7 x 6 x 6 = 252
    combinations: a real register's facts recur as much, since each factor is read off a published scale)."""
    rnd = random.Random(seed)
    return [{"id": f"R-{seed}-{i}", "L": rnd.choice(L_VALUES), "E": rnd.choice(E_VALUES), "C": rnd.choice(C_VALUES)}
            for i in range(n)]


def repeats(batches: list[list[dict[str, Any]]]) -> tuple[float, float]:
    """The share of records whose facts (the id left out) an earlier record of the same batch had, and of
    the batches posted in turn (what a server that keeps answers by facts can reuse)."""
    def key(r: dict[str, Any]) -> Any:
        return tuple((k, type(v), v) for k, v in r.items() if k != "id")
    within = sum(len(b) - len({key(r) for r in b}) for b in batches) / sum(map(len, batches))
    seen: set[Any] = set()
    again = 0
    for b in batches:
        for r in b:
            again += key(r) in seen
            seen.add(key(r))
    return within, again / sum(map(len, batches))


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


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_process(n: int) -> dict[str, tuple[float, float]]:
    """(records per wall second, records per CPU second) of ``grade_many``, of ``grade_many`` + the
    canonical JSON of each result by ``dumps(to_dict())`` (the generic path) and by ``to_json()`` (the
    per-ruleset JSON plan, what the server's batch path writes), without receipts; best of three."""
    rs = riskgrade.load(RULESET)
    recs = [{k: v for k, v in r.items() if k != "id"} for r in records(n)]
    ways: dict[str, Any] = {
        "grade_many": lambda: [None for _a in rs.grade_many(recs)],
        "grade_many + dumps(to_dict())": lambda: [dumps(a.to_dict()) for a in rs.grade_many(recs)],  # type: ignore[union-attr]
        "grade_many + to_json()": lambda: [a.to_json() for a in rs.grade_many(recs)],  # type: ignore[union-attr]
    }
    best = dict.fromkeys(ways, (0.0, 0.0))
    for _ in range(3):
        for name, way in ways.items():
            gc.disable()
            t, c = time.perf_counter(), time.process_time()
            way()
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            gc.enable()
            best[name] = (max(best[name][0], n / wall), max(best[name][1], n / max(cpu, 1e-9)))
    return best


async def drive(url: str, pid: int, bodies: list[bytes], per_request: int, clients: int, seconds: float,
                query: str) -> dict[str, Any]:
    """``clients`` concurrent loops posting the ``bodies`` in turn for ``seconds``; latencies of every request, and the CPU
    seconds the server and this client used in that time. The client reads each response's bytes (and
    checks the status) but decodes nothing."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        headers = {"content-type": "application/json"}
        path = f"/v1/grade/{RULESET}{query}"
        warm_until = time.monotonic() + min(1.0, seconds / 5)

        turn = 0

        async def loop(stop: float, record: bool) -> None:
            nonlocal failures, turn
            while time.monotonic() < stop:
                body = bodies[turn % len(bodies)]
                turn += 1
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
        cpu0, srv0 = time.process_time(), server_cpu(pid)
        await asyncio.gather(*(loop(started + seconds, True) for _ in range(clients)))
        elapsed = time.monotonic() - started
        client_cpu, srv_cpu = time.process_time() - cpu0, server_cpu(pid) - srv0
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    n = len(latencies)
    return {"requests": n, "req_s": n / elapsed, "rec_s": n * per_request / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "failures": failures, "seconds": elapsed,
            "server_cpu": srv_cpu, "client_cpu": client_cpu,
            "rec_per_server_cpu_s": n * per_request / srv_cpu if srv_cpu > 0 else float("nan")}


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


def _static_app(size: int) -> Any:
    """A bare ASGI app: reads the body, answers ``size`` bytes (the HTTP ceiling)."""
    answer = b"[" + b" " * max(size - 2, 0) + b"]"
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
    return app


def _serve_static(port: int, size: int) -> None:
    import uvicorn
    uvicorn.run(_static_app(size), host="127.0.0.1", port=port, log_level="warning", lifespan="off", http="h11")


def _http_stack() -> str:
    import importlib.util
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn with h11 (riskgrade serve's parser) and {loop}"


def light_client(body: bytes, seconds: float, log: Any) -> list[tuple[int, float]]:
    """Requests/s of 1,000-record batches that ApacheBench (``ab``, a client in C that takes far less CPU than
    httpx) gets from ``riskgrade serve --workers 1`` and ``--workers 2`` (8 keep-alive connections, one body
    posted again and again, for ``seconds``); printed, and returned as (workers, requests/s)."""
    out = []
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as fh:
        fh.write(body)
    try:
        for workers in (1, 2):
            port = free_port()
            cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port),
                   "--max-batch", "1000", "--timeout", "120", "--workers", str(workers)]
            srv = subprocess.Popen(cmd, stdout=log, stderr=log)
            try:
                _wait_up(f"http://127.0.0.1:{port}")
                time.sleep(2 * workers)  # every worker up (each compiles the rulesets)
                res = subprocess.run(["ab", "-q", "-k", "-c", "8", "-t", str(max(int(seconds), 1)), "-n", "10000000",
                                      "-p", fh.name, "-T", "application/json",
                                      f"http://127.0.0.1:{port}/v1/grade/{RULESET}?receipt=false"],
                                     capture_output=True, text=True, timeout=seconds + 120, check=True)
            finally:
                srv.terminate()
                srv.wait(timeout=30)
            rate = float(re.search(r"Requests per second:\s+([0-9.]+)", res.stdout).group(1))  # type: ignore[union-attr]
            failed = int(re.search(r"Failed requests:\s+(\d+)", res.stdout).group(1))  # type: ignore[union-attr]
            non2xx = re.search(r"Non-2xx responses:\s+(\d+)", res.stdout)
            print(f"ab (C client), 8 connections, --workers {workers}: {rate:9,.1f} req/s {rate * 1000:11,.0f} "
                  f"records/s ({failed} failed, {non2xx.group(1) if non2xx else 0} not 2xx)", flush=True)
            out.append((workers, rate))
    finally:
        os.unlink(fh.name)
    return out


def _wait_up(url: str) -> None:
    for _ in range(600):  # bounded start: a minute
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", default="1,8,64", help="comma-separated numbers of concurrent clients")
    ap.add_argument("--memory-records", type=int, default=1_000_000)
    ap.add_argument("--memory-seconds", type=float, default=600.0)
    ap.add_argument("--baseline-records", type=int, default=100_000)
    ap.add_argument("--server-log", default="bench_serve.log", help="where the server's own log goes")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the HTTP ceiling (a server that does no work)")
    ap.add_argument("--no-ab", action="store_true", help="skip the runs with ApacheBench (ab), when it is installed")
    ap.add_argument("--static-server", nargs=2, type=int, metavar=("PORT", "BYTES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.static_server:
        _serve_static(*args.static_server)
        return
    print(f"HTTP stack: {_http_stack()}")
    client_counts = [int(c) for c in args.clients.split(",")]

    # the baselines before and after the server's scenarios: the load on a shared machine drifts
    before = in_process(args.baseline_records)
    for name, (wall, cpu) in before.items():
        print(f"in-process {name:<30} {wall:12,.0f} records/s  {cpu:12,.0f} records/CPU-s")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port),
           "--max-batch", "1000", "--timeout", "120"]
    log = open(args.server_log, "w", encoding="utf-8")  # noqa: SIM115 - closed with the server
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    try:
        _wait_up(url)
        one = [json.dumps(r).encode() for r in records(BATCHES)]
        batches = [records(1000, seed=seed) for seed in range(BATCHES)]
        within, again = repeats(batches)
        print(f"{BATCHES} batches of 1,000 records posted in turn: {100 * within:.1f} % of records repeat facts "
              f"of an earlier record of their batch, {100 * again:.1f} % of an earlier record of any batch")
        batch = [json.dumps(b).encode() for b in batches]
        rows = []
        for label, body, n, query in (("1 record", one, 1, "?receipt=false"),
                                      ("1,000 records", batch, 1000, "?receipt=false"),
                                      ("1,000 records, receipts", batch, 1000, "")):
            for clients in client_counts:
                r = asyncio.run(drive(url, proc.pid, body, n, clients, args.seconds, query))
                rows.append((label, clients, r))
                print(f"{label:<24} {clients:>3} clients: {r['req_s']:9,.1f} req/s {r['rec_s']:11,.0f} records/s "
                      f"p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms  ({r['requests']} requests, "
                      f"{r['failures']} failed)  server CPU {r['server_cpu'] / r['seconds']:.2f} s/s "
                      f"({r['rec_per_server_cpu_s']:,.0f} records/CPU-s), client CPU "
                      f"{r['client_cpu'] / r['seconds']:.2f} s/s")
        ceiling = None
        if not args.no_ceiling:
            size = len(httpx.post(f"{url}/v1/grade/{RULESET}?receipt=false", content=batch[0],
                                  headers={"content-type": "application/json"}, timeout=120).content)
            sport = free_port()
            static = subprocess.Popen([sys.executable, __file__, "--static-server", str(sport), str(size)],
                                      stdout=log, stderr=log)
            try:
                _wait_up(f"http://127.0.0.1:{sport}")
                for clients in client_counts:
                    r = asyncio.run(drive(f"http://127.0.0.1:{sport}", static.pid, batch, 1000, clients,
                                          args.seconds, "?receipt=false"))
                    print(f"HTTP ceiling ({size:,}-byte answers, no work) {clients:>3} clients: {r['req_s']:9,.1f} "
                          f"req/s {r['rec_s']:11,.0f} records/s p50 {r['p50_ms']:8.1f} ms  server CPU "
                          f"{r['server_cpu'] / r['seconds']:.2f} s/s, client CPU {r['client_cpu'] / r['seconds']:.2f} s/s")
                    ceiling = r if ceiling is None or r["rec_s"] > ceiling["rec_s"] else ceiling
            finally:
                static.terminate()
                static.wait(timeout=30)
        light = [] if args.no_ab or shutil.which("ab") is None else light_client(batch[0], args.seconds, log)
        after = in_process(args.baseline_records)
        for name, (wall, cpu) in after.items():
            print(f"in-process {name:<30} {wall:12,.0f} records/s  {cpu:12,.0f} records/CPU-s  (after)")
        base = {k: ((before[k][0] + after[k][0]) / 2, (before[k][1] + after[k][1]) / 2) for k in before}
        batch_rows = [r for label, _, r in rows if label == "1,000 records"]
        best = max(batch_rows, key=lambda r: r["rec_s"])
        best_cpu = max(r["rec_per_server_cpu_s"] for r in batch_rows)
        ratio = best["rec_s"] / base["grade_many"][0]
        print(f"server / grade_many on 1,000-record batches (best of {args.clients} clients; baselines: the mean of "
              f"before and after): {ratio:.3f} (target >= 0.30: {'met' if ratio >= 0.30 else 'NOT met'})")
        if ceiling is not None:
            print(f"HTTP ceiling / grade_many (a server that does no work, best of {args.clients} clients): "
                  f"{ceiling['rec_s'] / base['grade_many'][0]:.3f}; server / HTTP ceiling: "
                  f"{best['rec_s'] / ceiling['rec_s']:.3f}")
        for workers, rate in light:
            print(f"with ab (a client in C, 8 connections) and --workers {workers}: server / grade_many "
                  f"{rate * 1000 / base['grade_many'][0]:.3f}")
        for name in ("grade_many + dumps(to_dict())", "grade_many + to_json()"):
            print(f"server / ({name}) on 1,000-record batches: {best['rec_s'] / base[name][0]:.3f}")
        print(f"per CPU second: server records/CPU-s / grade_many records/CPU-s: {best_cpu / base['grade_many'][1]:.3f}; "
              f"/ (grade_many + to_json()): {best_cpu / base['grade_many + to_json()'][1]:.3f}")
        if args.memory_records:
            mem = asyncio.run(memory_run(url, proc.pid, args.memory_records, args.memory_seconds))
            kib = mem["rss_kib"]
            print(f"memory: {mem['records']:,} records in {mem['seconds']:.0f} s"
                  f"{'' if mem['complete'] else ' (stopped at --memory-seconds)'}; server RSS "
                  f"{kib[0] / 1024:.1f} MiB at the start, {kib[-1] / 1024:.1f} MiB at the end, max "
                  f"{max(kib) / 1024:.1f} MiB (samples: {', '.join(f'{k / 1024:.1f}' for k in kib)})")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    main()
