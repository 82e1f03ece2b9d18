"""Compile time of every shipped ruleset (and the plugin layers), uncached and from the cross-process
cache, against a same-run baseline; and the start-up of a fresh `riskgrade grade` process.

Run:  nice -n 10 python benchmarks/bench_compile.py [--repeat 5] [--starts 5]

Figures are CPU time (``time.process_time``; for a child process its user + system time from
``RUSAGE_CHILDREN``), the median of ``--repeat`` runs, all in this one run (only the ratios carry to
another machine or load):

  baseline    ``yaml.load(text, Loader=yaml.CSafeLoader)`` of the same file: libyaml's C parser and
              PyYAML's constructor, no locations, no checks -- what reading the file costs at the least
  uncached    ``compile_file`` (bypasses the in-process cache of ``riskgrade.load``) with
              ``RISKGRADE_CACHE=0``: read + locate + validate + layer + compile + check + generate
  cached      the same with the cross-process cache filled (a fresh cache directory, filled once
              before timing): the parsed YAML comes from the cache, every later stage runs as before

Start-up, fresh processes (``--starts`` each): ``python -c pass``; ``python -c "import riskgrade"``;
``riskgrade grade -r lec-generic`` on a file of one record, with the cache off and with it filled;
the same for ``riskgrade.load("nonmetal-mine@2022")``, the largest shipped ruleset.

Target (issue 17 section 3): every shipped ruleset compiles in <= 0.15 s on this kind of machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

import yaml

import riskgrade
from riskgrade._api import compile_file, layers_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_grade import records

TARGET = 0.15
#: the plugin layers timed (installed by plugins/): ruleset id, jurisdiction
LAYERED = (("lec-generic", "620400"), ("lec-generic", "620421"))


def loadavg() -> list[str]:
    try:
        with open("/proc/loadavg") as fh:
            return fh.read().split()[:3]
    except OSError:
        return ["?"]


def cpu_median(n: int, fn: Callable[[], Any]) -> float:
    runs = []
    for _ in range(n):
        t0 = time.process_time()
        fn()
        runs.append(time.process_time() - t0)
    return statistics.median(runs)


def child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """User + system CPU seconds of one fresh process running ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def set_cache(on: bool, directory: str) -> None:
    os.environ["RISKGRADE_CACHE"] = "1" if on else "0"
    os.environ["RISKGRADE_CACHE_DIR"] = directory


def compile_rows(repeat: int, cache_dir: str) -> list[dict[str, Any]]:
    rows = []
    targets: list[tuple[str, str, str | None]] = [
        (d["id"], d["file"], None) for d in sorted(riskgrade.list_rulesets(), key=lambda d: d["file"])]
    ids = {d["id"]: d["file"] for d in riskgrade.list_rulesets()}
    targets += [(rid, ids[rid], j) for rid, j in LAYERED]
    for rid, path, juris in targets:
        layers = layers_for(rid, juris) if juris else []
        with open(path, encoding="utf-8") as fh:
            text = fh.read()

        def go(path: str = path, layers: list[Any] = layers) -> Any:
            return compile_file(path, layers=layers)

        base = cpu_median(repeat, lambda text=text: yaml.load(text, Loader=yaml.CSafeLoader))
        set_cache(False, cache_dir)
        go()  # warm: imports, plugin discovery, validators
        uncached = cpu_median(repeat, go)
        set_cache(True, cache_dir)
        go()  # fills the cache with this ruleset's files
        cached = cpu_median(repeat, go)
        name = os.path.relpath(path, os.path.dirname(os.path.dirname(riskgrade.list_rulesets()[0]["file"])))
        rows.append({"id": rid, "file": name + (f" + layers {juris}" if juris else ""), "baseline": base,
                     "uncached": uncached, "cached": cached})
    return rows


def start_rows(starts: int, cache_dir: str) -> list[tuple[str, float]]:
    # an installed package has its bytecode (pip compiles it); PYTHONDONTWRITEBYTECODE=1 (set in some
    # containers) would make every fresh process compile riskgrade from source, doubling the import: the
    # children may write it, and the first of each figure's runs (not timed) does
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    facts = os.path.join(cache_dir, "..", "one.json")
    with open(facts, "w", encoding="utf-8") as fh:
        json.dump(records(1)[0], fh)
    exe = sys.executable
    cli = [exe, "-c", "import sys; from riskgrade._cli import main; sys.exit(main())"]
    grade = [*cli, "grade", "-r", "lec-generic", facts, "--format", "json"]
    big = [exe, "-c", "import riskgrade; riskgrade.load('nonmetal-mine@2022')"]
    out = []

    def timed(label: str, argv: list[str], cache: bool | None) -> None:
        e = dict(env)
        if cache is not None:
            e["RISKGRADE_CACHE"] = "1" if cache else "0"
            e["RISKGRADE_CACHE_DIR"] = cache_dir
        child_cpu(argv, e)  # not timed: writes the bytecode, fills the cache when it is on
        out.append((label, statistics.median(child_cpu(argv, e) for _ in range(starts))))

    timed("python -c pass", [exe, "-c", "pass"], None)
    timed("python -c 'import riskgrade'", [exe, "-c", "import riskgrade"], None)
    timed("riskgrade grade -r lec-generic (1 record), cache off", grade, False)
    timed("riskgrade grade -r lec-generic (1 record), cache filled", grade, True)
    timed("load('nonmetal-mine@2022') in a fresh process, cache off", big, False)
    timed("load('nonmetal-mine@2022') in a fresh process, cache filled", big, True)
    return out


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs per ruleset and contender (median)")
    ap.add_argument("--starts", type=int, default=5, help="fresh processes per start-up figure (median)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = ap.parse_args(list(argv) if argv is not None else None)
    load0 = loadavg()
    with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
        cache_dir = os.path.join(tmp, "cache")
        rows = compile_rows(args.repeat, cache_dir)
        starts = start_rows(args.starts, cache_dir)
    load1 = loadavg()
    print(f"python {sys.version.split()[0]}, PyYAML {yaml.__version__} (libyaml {hasattr(yaml, 'CSafeLoader')}); "
          f"CPU s, median of {args.repeat}; load average {' '.join(load0)} -> {' '.join(load1)}")
    if args.markdown:
        print("\n| ruleset (file) | baseline safe_load (ms) | uncached (ms) | ÷ baseline | cached (ms) | ÷ baseline "
              "| ≤ 0.15 s |")
        print("|---|---:|---:|---:|---:|---:|:-:|")
    for r in rows:
        ok = "yes" if r["uncached"] <= TARGET else "**no**"
        if args.markdown:
            print(f"| {r['file']} | {r['baseline'] * 1e3:.1f} | {r['uncached'] * 1e3:.1f} | "
                  f"{r['uncached'] / r['baseline']:.1f} | {r['cached'] * 1e3:.1f} | {r['cached'] / r['baseline']:.1f} | "
                  f"{ok} |")
        else:
            print(f"  {r['file']:<66} base {r['baseline'] * 1e3:6.1f} ms  uncached {r['uncached'] * 1e3:6.1f} ms "
                  f"({r['uncached'] / r['baseline']:4.1f}x)  cached {r['cached'] * 1e3:6.1f} ms "
                  f"({r['cached'] / r['baseline']:4.1f}x){'' if r['uncached'] <= TARGET else '  over'}")
    within = sum(r["uncached"] <= TARGET for r in rows)
    worst = max(rows, key=lambda r: r["uncached"])
    print(f"{within} of {len(rows)} compile uncached within {TARGET} s (target: all); slowest {worst['file']} "
          f"{worst['uncached']:.3f} s uncached, {worst['cached']:.3f} s cached; "
          f"sum over all: uncached {sum(r['uncached'] for r in rows):.2f} s, cached {sum(r['cached'] for r in rows):.2f} s, "
          f"baseline {sum(r['baseline'] for r in rows):.2f} s")
    print("start-up (fresh processes, CPU s, median of", args.starts, "):")
    for label, t in starts:
        print(f"  {label:<62} {t:6.3f} s  ({t / starts[0][1]:4.1f}x python -c pass)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
