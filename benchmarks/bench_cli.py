"""The CLI on a large JSON Lines file: `riskgrade grade --format json` and `--format parquet`, records/s and
peak memory, against a hand-written JSON Lines pipeline in the same run.

Run:  python benchmarks/bench_cli.py [--lines 1000000]

The file holds synthetic LEC records (L, E, C drawn from the published scales, one in 97 off the scale,
each with an id), as bench_grade.py makes them. Contenders, each a fresh process writing to a file:

  hand-written   python: for each line json.loads, check the scales, D = L·E·C, band, json.dumps of
                 {id, level, D}, write — the floor of a JSON Lines pipeline in Python (no receipt, no
                 trace, no located errors)
  grade json     riskgrade grade -r lec-generic FILE --format json   (full results with receipts), with the
                 fast extra (orjson) and without it (the pure-Python path: orjson made unimportable); and
                 with --no-receipt (the results without their receipts: about half the bytes)
  grade parquet  riskgrade grade -r lec-generic FILE --format parquet --out OUT

`grade json` with ids on the whole file is run twice: writing to a file in the temporary directory, and
writing to a pipe that this process reads and hashes (what a platform that consumes the lines does). Its
output is ~1.8 kB a line (every result with its receipt) against the hand-written pipeline's 40 bytes, so
writing 1.8 GB into the page cache of a file weighs on it (kernel time, counted in its CPU) in a way it
does not on the hand-written pipeline; the pipe run shows the command without that.

Each process's own peak RSS is read from /proc/self/status (VmHWM) at its exit, by a wrapper, so a
parent's size never counts. `grade json` is also run on a tenth of the file, to show memory does not
grow with the input. Each contender's CPU time (user + system, from the child's own rusage) is reported
next to its wall time: on a shared machine CPU time is the steadier figure, and the ratios are what count.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_grade import records

HAND = r'''
import json, sys
L = {10, 6, 3, 1, 0.5, 0.2, 0.1}; E = {10, 6, 3, 2, 1, 0.5}; C = {100, 40, 15, 7, 3, 1}
out = open(sys.argv[2], "w", encoding="utf-8")
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        r = json.loads(line)
        l, e, c = r.get("L"), r.get("E"), r.get("C")
        if l not in L or e not in E or c not in C:
            out.write(json.dumps({"id": r.get("id"), "error": "not-allowed"}) + "\n")
            continue
        d = l * e * c
        lv = "RED" if d > 320 else "ORANGE" if d > 160 else "YELLOW" if d > 70 else "BLUE"
        out.write(json.dumps({"D": d, "id": r.get("id"), "level": lv}, sort_keys=True) + "\n")
out.close()
'''

#: runs argv[1:] as `python -m riskgrade._cli`/a script in this process, then prints its peak RSS (kB)
WRAP = r'''
import runpy, sys, atexit
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK " + line.split()[1] + "\n")
atexit.register(peak)
mode, *rest = sys.argv[1:]
if mode == "cli-pure":  # the pure-Python path: as if the fast extra were not installed
    sys.modules["orjson"] = None
if mode == "script":
    sys.argv = rest
    exec(compile(open(rest[0]).read(), rest[0], "exec"), {"__name__": "__main__"})
else:
    sys.argv = ["riskgrade", *rest]
    from riskgrade._cli.main import main
    main()
'''


def run(mode: str, args: list[str], stdout: str | None,
        pipe: Any = None) -> tuple[float, int, int, float]:
    """(seconds, peak RSS in kB, exit code, CPU seconds) of one wrapped process; with ``pipe`` (a hash
    object), its standard output is a pipe read here, in 1 MiB chunks, into ``pipe``."""
    t0 = time.perf_counter()
    with open(stdout or os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", WRAP, mode, *args],
                                stdout=subprocess.PIPE if pipe is not None else out, stderr=err)
        if pipe is not None:
            assert proc.stdout is not None
            for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
                pipe.update(chunk)
            proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        dt = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode()
    peak = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("PEAK ")), -1)
    return dt, peak, proc.returncode, usage.ru_utime + usage.ru_stime


def write_lines(path: str, n: int, *, ids: bool = True) -> None:
    """``n`` LEC records, one in 97 off the scale (C = 99), each with a distinct id (when ``ids``)."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, r in enumerate(records(n)):
            if i % 97 == 96:
                r = {**r, "C": 99}
            fh.write(json.dumps({"id": f"rp-{i}", **r} if ids else r, ensure_ascii=False) + "\n")


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args(list(argv) if argv is not None else None)
    n = args.lines
    with tempfile.TemporaryDirectory() as tmp:
        big, small, bare, one = (os.path.join(tmp, f) for f in ("ids.jsonl", "small.jsonl", "bare.jsonl", "one.jsonl"))
        write_lines(big, n)
        write_lines(small, max(n // 10, 1))
        write_lines(bare, n, ids=False)
        write_lines(one, 1)
        hand = os.path.join(tmp, "hand.py")
        with open(hand, "w", encoding="utf-8") as fh:
            fh.write(HAND)
        out = os.path.join(tmp, "out")
        grade = ["grade", "-r", "lec-generic"]
        # start-up (import riskgrade, load the ruleset, one record) is part of every riskgrade figure
        t_one, _, _, c_one = run("cli", [*grade, one, "--format", "json"], None)
        rows = []
        t_hand, m_hand, _, c_hand = run("script", [hand, big, out + ".hand"], None)
        rows.append(("hand-written pipeline", t_hand, m_hand, n, c_hand))
        digest = {}
        for mode, label, facts, k in (("cli", "grade json, ids", big, n), ("cli", "grade json, ids", small, n // 10),
                                      ("cli", "grade json, no ids", bare, n),
                                      ("cli-pure", "grade json, ids, no orjson", big, n)):
            # a new file each time (removed after): every contender pays for a fresh file alike (writing over
            # the previous run's file cost a third of the kernel time of writing a new one here)
            target = f"{out}.{len(rows)}.json"
            t, m, rc, c = run(mode, [*grade, facts, "--format", "json"], target)
            assert rc == 1, rc  # some records are off the scale: exit 1, every line answered
            h = hashlib.sha256()
            lines = 0
            with open(target, "rb") as fh:
                for line in fh:
                    h.update(line)
                    lines += 1
            os.remove(target)
            assert lines == k
            if facts is big:
                digest[mode] = h.hexdigest()
            rows.append((f"{label} ({k:,})", t, m, k, c))
        assert digest["cli"] == digest["cli-pure"], "orjson and the pure path wrote different bytes"
        target = f"{out}.noreceipt.json"
        t, m, rc, c = run("cli", [*grade, big, "--format", "json", "--no-receipt"], target)
        assert rc == 1, rc
        os.remove(target)
        rows.append((f"grade json, ids, --no-receipt ({n:,})", t, m, n, c))
        h = hashlib.sha256()
        t, m, rc, c = run("cli", [*grade, big, "--format", "json"], None, pipe=h)
        assert rc == 1 and h.hexdigest() == digest["cli"], "the pipe got other bytes than the file"
        rows.append((f"grade json, ids, to a pipe ({n:,})", t, m, n, c))
        # the columnar formats read the whole file (one table): a tenth of it
        t_pq, m_pq, rc, c_pq = run("cli", [*grade, small, "--format", "parquet", "--out", out + ".parquet"], None)
        assert rc == 1, rc
        rows.append((f"grade parquet, ids ({n // 10:,})", t_pq, m_pq, n // 10, c_pq))
    print(f"python {sys.version.split()[0]}; LEC JSON Lines, one in 97 off the scale; start-up (import, load, "
          f"one record) {t_one:.2f} s wall, {c_one:.2f} s CPU, included below; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  {'contender':<34} {'seconds':>8} {'records/s':>10} {'CPU s':>7} {'rec/CPU s':>10} {'peak RSS':>10}")
    for name, t, m, k, c in rows:
        print(f"  {name:<34} {t:>8.2f} {k / t:>10,.0f} {c:>7.2f} {k / c:>10,.0f} {m / 1024:>6.0f} MiB")
    (t_ids, c_ids), (t_bare, c_bare), (_, c_pure), (t_norec, c_norec), (t_pipe, c_pipe) = (
        (rows[i][1], rows[i][4]) for i in (1, 3, 4, 5, 6))
    print(f"grade json records/s: {n / t_ids:,.0f} with ids, {n / t_bare:,.0f} without (wall); {n / c_ids:,.0f} and "
          f"{n / c_bare:,.0f} per CPU second  (target >= 200,000)")
    print(f"grade json with ids, --no-receipt, to a file: {n / t_norec:,.0f} records/s (wall), "
          f"{n / c_norec:,.0f} per CPU second")
    print(f"grade json with ids to a pipe: {n / t_pipe:,.0f} records/s (wall), {n / c_pipe:,.0f} per CPU second; "
          f"/ hand-written {c_hand / c_pipe:.2f} (CPU)")
    print(f"grade json / hand-written: {t_hand / t_ids:.2f} with ids, {t_hand / t_bare:.2f} without (wall); "
          f"{c_hand / c_ids:.2f} and {c_hand / c_bare:.2f} (CPU); no orjson {c_hand / c_pure:.2f} (CPU)")
    print(f"at the hand-written floor of a quiet machine, R records/s, grade json would run R x "
          f"{c_hand / c_ids:.2f} with ids (same-run CPU ratio)")
    print(f"grade json peak RSS: {rows[2][2] / 1024:.0f} MiB at {n // 10:,} lines, {rows[1][2] / 1024:.0f} MiB "
          f"at {n:,} (constant memory)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
