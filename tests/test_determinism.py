"""Determinism under load (issue 10, item 7): eight threads sharing one compiled ruleset, and two worker
processes (spawned, so each has its own hash seed) that receive the ruleset pickled, give exactly the bytes
of a single thread. ``benchmarks/bench_threads.py`` runs the full size (8 × 100,000) and reports ratios."""

from __future__ import annotations

import concurrent.futures
import hashlib
import multiprocessing
import threading
from typing import Any

import riskgrade
from riskgrade._core.canonical import dumps

N = 10_000
LS, ES, CS = (10, 6, 3, 1, 0.5, 0.2, 0.1), (10, 6, 3, 2, 1, 0.5), (100, 40, 15, 7, 3, 1)


def records(n: int) -> list[dict[str, Any]]:
    """Every LEC combination in turn, the county's optional input on some, and a bad record now and then."""
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


def grade_all(rs: riskgrade.Ruleset, recs: list[dict[str, Any]]) -> list[str]:
    return [o.to_json(trace=True) if isinstance(o, riskgrade.Assessment) else dumps(o.to_dict())
            for o in rs.grade_many(recs)]


def digest(lines: list[str]) -> tuple[int, str]:
    return len(lines), hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _in_worker(args: tuple[riskgrade.Ruleset, list[dict[str, Any]]]) -> tuple[int, str]:
    rs, recs = args
    return digest(grade_all(rs, recs))


def _ruleset() -> riskgrade.Ruleset:
    return riskgrade.load("lec-generic", jurisdiction="620421")  # the province, the city and the county layers


class TestDeterminism:
    def test_eight_threads_give_the_single_thread_bytes(self) -> None:
        rs, recs = _ruleset(), records(N)
        want = grade_all(rs, recs)
        assert len(want) == N and sum('"error"' in w for w in want) >= 100
        got: list[list[str] | None] = [None] * 8
        barrier = threading.Barrier(8)

        def worker(k: int) -> None:
            barrier.wait()
            got[k] = grade_all(rs, recs)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert [g == want for g in got] == [True] * 8

    def test_two_processes_give_the_single_thread_bytes(self) -> None:
        rs, recs = _ruleset(), records(N)
        want = digest(grade_all(rs, recs))
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as ex:
            got = list(ex.map(_in_worker, [(rs, recs), (rs, recs)], timeout=600))
        assert got == [want, want]
