"""What every fuzz case checks, and the figures each harness reports.

A case is a callable returning the bytes of its result (``to_json()`` and the like) and a callable that
produces them again. :func:`case` runs it and accepts exactly two outcomes: a result (whose re-run gives
the same bytes) or a typed error (a :class:`riskgrade.RiskgradeError` subclass, or the error type a
lower-level harness names). Anything else is a crash: it is counted, and re-raised so that hypothesis
shrinks it to a small reproducer. Time of each case is measured twice: the process's CPU time
(``time.process_time``, the bound: a hang in Python burns CPU, and a loaded machine does not inflate it)
and wall time (``time.perf_counter``, a generous bound that catches a case blocked without burning CPU);
and memory:
the ``tracemalloc`` peak of every ``TRACE_EVERY``-th case (tracing is slow) and the growth of the
process's peak RSS for every case; only a case above the generous bounds fails (a guard against hangs and
blow-ups, never a performance assertion).

Sizes: the short run (the default, part of ``tox -e py311``) runs a few hundred cases in about a minute;
``RISKGRADE_FUZZ_EXAMPLES=long`` (``tox -e fuzz``) runs the long sizes, and an integer ``k`` multiplies
the short sizes by ``k``. ``RISKGRADE_FUZZ_SECONDS`` bounds each harness in time (each test stops
generating once its share is spent), ``RISKGRADE_FUZZ_SEED`` changes the seed, ``RISKGRADE_FUZZ_REPORT``
names a JSON file the figures are written to.
"""

from __future__ import annotations

import os
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import attrs
import hypothesis
from hypothesis import HealthCheck

import riskgrade

#: a case that uses more CPU time than this fails (the target is < 1 s; CPU time is what a hang burns, and
#: what a machine loaded by other processes does not inflate)
MAX_SECONDS = 5.0
#: a case that takes longer than this many times its CPU bound in wall time fails: blocked (a read that
#: never returns, a lock) rather than busy; generous, as a machine with a load of 10 on 2 cores stretches
#: wall time 5-10 times
WALL_FACTOR = 12.0
#: a case whose traced peak exceeds this fails
MAX_BYTES = 200 * 2**20

SHORT = {"rulesets": 60, "expressions": 400, "records": 20, "registers": 60, "events": 300, "feed": 40,
         "corpus": 1}
#: a little above the round targets (>= 10,000 cases): examples are split over 30 rulesets with integer
#: division, and hypothesis runs a repeated example only once
LONG = {"rulesets": 10_300, "expressions": 10_300, "records": 2_000, "registers": 2_000, "events": 10_300,
        "feed": 2_000, "corpus": 1}
SHORT_SECONDS = {"rulesets": 25.0, "expressions": 8.0, "records": 15.0, "registers": 8.0, "events": 4.0,
                 "feed": 10.0, "corpus": 60.0}

#: tracemalloc slows a case down 4-7 times: trace every n-th case of a harness (and its first); every case
#: is also checked by the growth of the process's peak RSS
TRACE_EVERY = int(os.environ.get("RISKGRADE_FUZZ_TRACE_EVERY", "7"))
#: a traced case's time bounds are this many times the untraced ones
TRACE_SLOWDOWN = 8.0

SEED = int(os.environ.get("RISKGRADE_FUZZ_SEED", "20240701"))


def _mode() -> str:
    return os.environ.get("RISKGRADE_FUZZ_EXAMPLES", "").strip()


def long_run() -> bool:
    """Whether this is a longer run than the default short one."""
    return bool(_mode())


def size(harness: str) -> int:
    """How many cases ``harness`` runs in this mode."""
    mode = _mode()
    if mode == "long":
        return LONG[harness]
    if mode.isdigit():
        return SHORT[harness] * int(mode)
    return SHORT[harness]


def seconds(harness: str) -> float:
    """The time budget of ``harness`` (all its tests together)."""
    env = os.environ.get("RISKGRADE_FUZZ_SECONDS")
    if env:
        return float(env)
    return 36_000.0 if _mode() else SHORT_SECONDS[harness]


def settings(examples: int) -> hypothesis.settings:
    """Seeded, no deadline (time is measured per case instead), no example database."""
    return hypothesis.settings(max_examples=max(1, examples), deadline=None, database=None, derandomize=False,
                               suppress_health_check=list(HealthCheck), print_blob=True)


_ENDS: dict[str, float] = {}


class Budget:
    """A share of a harness's time: ``over()`` once it is spent, so a test stops by itself.

    The harness's clock starts with its first test; a test that is one of ``left`` still to run gets
    an equal share of what remains (time a quick test leaves goes to the later ones)."""

    def __init__(self, harness: str, left: int = 1) -> None:
        now = time.monotonic()
        end = _ENDS.setdefault(harness, now + seconds(harness))
        self.end = now + max(0.0, end - now) / max(1, left)

    def over(self) -> bool:
        return time.monotonic() > self.end


@attrs.define
class Figures:
    """What one harness saw."""

    cases: int = 0
    results: int = 0
    typed: int = 0
    crashes: int = 0
    #: CPU seconds of the slowest untraced case
    slowest: float = 0.0
    slowest_case: str = ""
    #: wall seconds of the slowest case (traced ones included)
    slowest_wall: float = 0.0
    peak: int = 0
    peak_case: str = ""
    traced: int = 0
    rss_growth: int = 0
    #: typed error code -> count
    codes: dict[str, int] = attrs.field(factory=dict)


FIGURES: dict[str, Figures] = {}


class Crash(AssertionError):
    """A case raised something that is not a typed error."""


def _code(err: BaseException) -> str:
    code = getattr(err, "code", None)
    if code is None:
        codes = getattr(err, "codes", None)
        code = codes[0] if codes else None
    return str(code or type(err).__name__)


def case(harness: str, label: str, run: Callable[[], tuple[str, Callable[[], str] | None]],
         typed: tuple[type[BaseException], ...] = (riskgrade.RiskgradeError,), count: int = 1,
         tally: bool = True, max_seconds: float = MAX_SECONDS) -> str | None:
    """Run one case; return its output bytes (None for a typed error). ``count``: the inputs it covers;
    ``tally=False``: the case counts its results and typed errors itself (:func:`note`); ``max_seconds``: the
    bound for a case whose work is linear in its size by design (a stream of many records)."""
    fig = FIGURES.setdefault(harness, Figures())
    fig.cases += count
    trace = (fig.traced * TRACE_EVERY <= fig.cases - count) and not tracemalloc.is_tracing()
    if trace:
        fig.traced += 1
        tracemalloc.start()
    rss0 = _rss()
    t0, cpu0 = time.perf_counter(), time.process_time()
    out: str | None = None
    again: Callable[[], str] | None = None
    try:
        out, again = run()
    except typed as err:
        fig.typed += 1
        fig.codes[_code(err)] = fig.codes.get(_code(err), 0) + 1
    except Exception as err:  # a crash: anything else
        fig.crashes += 1
        raise Crash(f"{harness}: {label}: {type(err).__name__}: {str(err)[:300]}") from err
    finally:
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        peak = 0
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        grown = _rss() - rss0
        fig.rss_growth = max(fig.rss_growth, grown)
        if cpu > fig.slowest and not trace:  # a traced case runs 4-7 times slower
            fig.slowest, fig.slowest_case = cpu, label[:120]
        fig.slowest_wall = max(fig.slowest_wall, elapsed)
        if peak > fig.peak:
            fig.peak, fig.peak_case = peak, label[:120]
    bound = max_seconds * (TRACE_SLOWDOWN if trace else 1.0)
    assert cpu < bound, f"{harness}: {label}: took {cpu:.2f} s of CPU ({elapsed:.2f} s wall)"
    assert elapsed < bound * WALL_FACTOR, f"{harness}: {label}: blocked {elapsed:.2f} s ({cpu:.2f} s of CPU)"
    assert peak < MAX_BYTES, f"{harness}: {label}: traced peak {peak / 2**20:.0f} MB"
    assert grown < MAX_BYTES, f"{harness}: {label}: the process grew by {grown / 2**20:.0f} MB"
    if out is not None:
        fig.results += tally
        if again is not None:
            assert again() == out, f"{harness}: {label}: a re-run gave different bytes"
    return out


def note(harness: str, outcome: object) -> None:
    """Count one outcome of a case that holds many inputs: a result, or a typed error (by code)."""
    fig = FIGURES.setdefault(harness, Figures())
    if isinstance(outcome, BaseException):
        fig.typed += 1
        fig.codes[_code(outcome)] = fig.codes.get(_code(outcome), 0) + 1
    else:
        fig.results += 1


def _rss() -> int:
    """The process's peak resident set so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def report() -> list[str]:
    """The figures, one line per harness (printed at the end of a pytest run)."""
    lines = [f"{'harness':<12} {'cases':>8} {'results':>8} {'typed':>8} {'crashes':>8} {'CPU s':>7} {'wall s':>7} "
             f"{'traced':>7} {'peak MB':>8} {'RSS+ MB':>8}  slowest case / largest case"]
    for name in sorted(FIGURES):
        f = FIGURES[name]
        lines.append(f"{name:<12} {f.cases:>8} {f.results:>8} {f.typed:>8} {f.crashes:>8} {f.slowest:>7.3f} {f.slowest_wall:>7.2f} "
                     f"{f.traced:>7} {f.peak / 2**20:>8.1f} {f.rss_growth / 2**20:>8.1f}  {f.slowest_case} / {f.peak_case}")
    return lines


def as_dict() -> dict[str, Any]:
    return {name: attrs.asdict(f) for name, f in sorted(FIGURES.items())}
