"""LEC records graded on a dask.distributed LocalCluster (two worker processes) against the
single-process columnar path, measured in the same run (no assertions on time; issue 17 §5).

Both paths generate the same partitions (``PART`` rows each, numpy with a seed per partition, the
lec-generic scales; one record in 1,000 with an L that is not allowed, an error row), grade them
with ``Ruleset.grade_table`` and count the levels and errors; only the counts come back (a
province wants the statistics, and 10 M graded rows are ~1.6 GB as pandas objects). The run
checks that both give the same counts. Cluster start-up is reported on its own, not in the ratio.

Run: ``nice python benchmarks/bench_dask.py [--n 10000000] [--part 500000]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import time
import tracemalloc
from typing import Any

import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd

import riskgrade
import riskgrade.dask

LS = np.array([0.1, 0.2, 0.5, 1, 3, 6, 10])
ES = np.array([0.5, 1, 2, 3, 6, 10])
CS = np.array([1, 3, 7, 15, 40, 100])


def make_partition(i: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1_000_003 * i + 17)
    L = rng.choice(LS, rows)
    L[::1000] = 4.0  # not an allowed value of L: an error row
    return pd.DataFrame({"L": L, "E": rng.choice(ES, rows), "C": rng.choice(CS, rows)})


def count(graded: pd.DataFrame) -> collections.Counter[str]:
    c: collections.Counter[str] = collections.Counter()
    for k, v in graded["level"].value_counts().items():
        c[str(k)] += int(v)
    for k, v in graded["error_code"].value_counts().items():
        c[f"error:{k}"] += int(v)
    return c


def _dask_counts(ddf: Any, rs: riskgrade.Ruleset) -> collections.Counter[str]:
    graded = riskgrade.dask.grade_dataframe(rs, ddf)
    levels, errors = dd.compute(graded["level"].value_counts(), graded["error_code"].value_counts())
    c: collections.Counter[str] = collections.Counter()
    for k, v in levels.items():
        c[str(k)] += int(v)
    for k, v in errors.items():
        c[f"error:{k}"] += int(v)
    return c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--part", type=int, default=500_000)
    args = ap.parse_args()
    parts = max(1, args.n // args.part)
    n = parts * args.part
    rs = riskgrade.load("lec-generic")

    t0 = time.perf_counter()
    gen = sum(len(make_partition(i, args.part)) for i in range(min(parts, 2)))
    t_gen = (time.perf_counter() - t0) / gen

    tracemalloc.start()  # memory of one partition, measured apart (tracemalloc slows what it traces)
    count(rs.grade_table(make_partition(0, args.part)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t0 = time.perf_counter()
    single: collections.Counter[str] = collections.Counter()
    for i in range(parts):
        single += count(rs.grade_table(make_partition(i, args.part)))
    t_single = time.perf_counter() - t0
    print(f"single process, grade_table by partition: {n / t_single / 1e6:.2f} M records/s "
          f"({t_single:.1f} s for {n:,}; generating alone {t_gen * n:.1f} s); "
          f"peak {peak / 2**20:.0f} MiB for a partition of {args.part:,} ({peak / args.part:.0f} B/row)", flush=True)

    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.run(riskgrade.load, "lec-generic")  # each worker compiles the ruleset once, before timing
        t_start = time.perf_counter() - t0
        ddf = dd.from_map(make_partition, range(parts), rows=args.part,
                          meta=make_partition(0, 1).iloc[:0], divisions=[None] * (parts + 1))
        t0 = time.perf_counter()
        on_cluster = _dask_counts(ddf, rs)
        t_dask = time.perf_counter() - t0
        mem = [w["metrics"]["memory"] for w in client.scheduler_info()["workers"].values()]
    same = on_cluster == single
    print(f"LocalCluster, 2 worker processes: {n / t_dask / 1e6:.2f} M records/s ({t_dask:.1f} s; start-up "
          f"{t_start:.1f} s not counted); worker RSS after {max(mem) / 2**20:.0f} MiB", flush=True)
    print(f"cluster / single process: {t_single / t_dask:.2f}x ({os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}); "
          f"same counts: {same}", flush=True)
    print("counts:", dict(sorted(single.items())))
    if not same:
        raise SystemExit(f"the cluster and the single process disagree: {on_cluster} != {single}")


if __name__ == "__main__":
    main()
