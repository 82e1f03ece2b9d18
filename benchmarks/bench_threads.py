"""Determinism under load, full size: 8 threads × N records on one shared ruleset, and 2 processes.

Run:  python benchmarks/bench_threads.py [--records 100000] [--threads 8] [--processes 2]

Grades N records (lec-generic with the province, city and county layers of 靖远县 620421; every LEC
combination, some with the county's input, one in 97 a wrong-type fact, one in 89 a value off the scale)
and serialises each result (``to_json(trace=True)``, or the error record) in:

  single    one thread, the reference bytes
  threads   T threads at once, each grading all N records with the same ruleset object
  processes P spawned worker processes (own hash seeds), each receiving the ruleset pickled

Every run must give the reference bytes (checked by SHA-256 over the lines; exit 1 otherwise). Prints
records/s and the ratios to the single thread: threads share the GIL, so their aggregate rate is about
the single rate (ratio ~1), and processes scale with the free cores. Only ratios are meaningful.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import multiprocessing
import sys
import threading
import time
from typing import Any

import riskgrade
from riskgrade._core.canonical import dumps

LS, ES, CS = (10, 6, 3, 1, 0.5, 0.2, 0.1), (10, 6, 3, 2, 1, 0.5), (100, 40, 15, 7, 3, 1)


def records(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        rec: dict[str, Any] = {"L": LS[i % 7], "E": ES[(i // 7) % 6], "C": CS[(i // 42) % 6]}
        if i % 5 == 0:
            rec["near_yellow_river"] = bool(i % 2)
        if i % 97 == 0:
            rec["L"] = {"v": i}
        elif i % 89 == 0:
            rec["C"] = 10
        out.append(rec)
    return out


def digest(rs: riskgrade.Ruleset, recs: list[dict[str, Any]]) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    for o in rs.grade_many(recs):
        line = o.to_json(trace=True) if isinstance(o, riskgrade.Assessment) else dumps(o.to_dict())
        h.update(line.encode("utf-8") + b"\n")
        n += 1
    return n, h.hexdigest()


def _worker(args: tuple[riskgrade.Ruleset, int]) -> tuple[tuple[int, str], float]:
    rs, n = args
    recs = records(n)
    t0 = time.perf_counter()
    d = digest(rs, recs)
    return d, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--processes", type=int, default=2)
    a = ap.parse_args(argv)
    rs = riskgrade.load("lec-generic", jurisdiction="620421")
    recs = records(a.records)

    t0 = time.perf_counter()
    want = digest(rs, recs)
    single = time.perf_counter() - t0

    got: list[tuple[int, str] | None] = [None] * a.threads
    barrier = threading.Barrier(a.threads)

    def run(k: int) -> None:
        barrier.wait()
        got[k] = digest(rs, recs)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(a.threads)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    threaded = time.perf_counter() - t0

    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(a.processes, mp_context=ctx) as ex:
        ex.submit(int).result()  # the workers are up before the clock starts (they import riskgrade)
        t0 = time.perf_counter()
        results = list(ex.map(_worker, [(rs, a.records)] * a.processes))
        procs = time.perf_counter() - t0

    ok = all(g == want for g in got) and all(r[0] == want for r in results)
    rate = a.records / single
    print(f"records per run: {a.records:,}; reference sha256 {want[1][:16]}… over {want[0]:,} lines")
    print(f"single thread : {rate:12,.0f} records/s  ({single:.1f} s)")
    t_rate = a.threads * a.records / threaded
    print(f"{a.threads} threads     : {t_rate:12,.0f} records/s aggregate  ({threaded:.1f} s)  "
          f"ratio {t_rate / rate:.2f}x  identical: {all(g == want for g in got)}")
    p_rate = a.processes * a.records / procs
    print(f"{a.processes} processes   : {p_rate:12,.0f} records/s aggregate  ({procs:.1f} s, "
          f"in-worker {max(r[1] for r in results):.1f} s)  ratio {p_rate / rate:.2f}x  "
          f"identical: {all(r[0] == want for r in results)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
