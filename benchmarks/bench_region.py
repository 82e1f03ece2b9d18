"""Region scale: load + assess + roll up N synthetic enterprises, against a hand-written equivalent
measured in the same run (no assertions on time; prints ratios next to their targets, issue 17 §4).

Each synthetic enterprise has the shape of ``examples/enterprises/chem-plant.yaml`` (4 units, 7
risk points graded by lec-generic, 4 hazards of which one graded, 3 hidden dangers, 2 monitoring
points, 1 accident, 1 dependency), without its ``diagnosis:`` section (the 2018 enterprise model
is not re-implemented by the hand-written baseline); facts, hidden dangers, accidents, major
hazard grades, standardisation and counties vary deterministically with the enterprise's number.
The registers are written as one JSON-lines file per N. The hand-written baseline reads the same
file (``json.loads`` per line), grades the points (D = L·E·C, the lec-generic bands) and applies
the default roll-up by hand; the run checks that both give the same level for every enterprise.

Figures: enterprises/s for N = 1k, 10k, 100k (linearity: per-enterprise time at each N over the
1k one), memory per enterprise measured in a fresh child process with tracemalloc (peak and
retained Python allocations, and the child's own VmHWM), ``--jobs 2`` against ``--jobs 1``, and a
cProfile summary of the per-enterprise path.

Run: ``nice python benchmarks/bench_region.py [--sizes 1000,10000,100000] [--jobs-n 10000]``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any

import riskgrade

AS_OF = dt.date(2024, 6, 30)
COUNTIES = ("620402", "620403", "620421", "620422", "620423")
LS, ES, CS = (0.5, 1, 3, 6, 10), (1, 2, 3, 6, 10), (1, 3, 7, 15, 40)
MHG = (None, "一级", "二级", "三级", "四级", None, None)
STD = ("一级", "二级", "三级")
GRADE_NUM = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
BANDS = ((320, 4), (160, 3), (70, 2))  # lec-generic lec_D: (from, to] -> RED 4, ORANGE 3, YELLOW 2, else BLUE 1


def synthetic(i: int) -> dict[str, Any]:
    """Enterprise ``i``: the chem-plant shape with facts and events chosen by ``i`` (deterministic)."""
    def lec(k: int) -> dict[str, float]:
        h = (i * 7919 + k * 104729) % 125
        return {"L": LS[h % 5], "E": ES[(h // 5) % 5], "C": CS[(h // 25) % 5]}

    grade = MHG[i % len(MHG)]
    points = [("P-NH3-TANK", "U-TANK"), ("P-NH3-LOAD", "U-TANK"), ("P-SYN-REACTOR", "U-SYN"),
              ("P-SYN-PUMP", "U-SYN"), ("P-CONFINED", "U-SYN"), ("P-BOILER", "U-UTIL"), ("P-WAREHOUSE", "U-STORE")]
    major_open = i % 9 == 0
    return {
        "id": f"E-{i:07d}", "name": f"合成化工{i}", "sectors": ["hazchem"], "jurisdiction": COUNTIES[i % 5],
        "standardisation": STD[i % 3], "ruleset": "lec-generic",
        "units": [{"id": "U-TANK", "name": "液氨罐区", **({"major_hazard_grade": grade} if grade else {})},
                  {"id": "U-SYN", "name": "合成车间"}, {"id": "U-UTIL", "name": "公用工程区"},
                  {"id": "U-STORE", "name": "甲类仓库区"}],
        "risk_points": [{"id": p, "unit": u, "name": p, "facts": lec(k)} for k, (p, u) in enumerate(points)],
        "hazards": [{"id": "H-NH3-LEAK", "risk_point": "P-NH3-TANK", "name": "液氨泄漏中毒", "category": "中毒和窒息"},
                    {"id": "H-NH3-EXPLODE", "risk_point": "P-NH3-TANK", "name": "储罐超压爆炸", "category": "容器爆炸"},
                    {"id": "H-OIL-FIRE", "risk_point": "P-BOILER", "name": "导热油泄漏着火", "category": "火灾",
                     "facts": lec(9)},
                    {"id": "H-REACTOR-RUNAWAY", "risk_point": "P-SYN-REACTOR", "name": "反应失控", "category": "火灾爆炸"}],
        "hidden_dangers": [
            {"id": "HD-1", "target": "P-SYN-REACTOR", "grade": "major", "found": "2024-06-10", "deadline": "2024-07-10",
             "status": "open" if major_open else "verified", **({} if major_open else {"closed": "2024-06-20"})},
            {"id": "HD-2", "target": "P-NH3-LOAD", "grade": "general", "found": "2024-04-01",
             "deadline": "2024-05-01" if i % 4 == 0 else "2024-07-01", "status": "open"},
            {"id": "HD-3", "target": "P-BOILER", "grade": "general", "found": "2024-02-15", "deadline": "2024-03-15",
             "status": "verified", "closed": "2024-03-12"}],
        "monitoring_points": [
            {"id": "MP-NH3-GAS", "risk_point": "P-NH3-TANK", "name": "罐区氨气浓度", "quantity": "NH3 concentration",
             "unit": "ppm", "high": 25, "high_high": 50},
            {"id": "MP-NH3-LEVEL", "risk_point": "P-NH3-TANK", "name": "1号储罐液位", "quantity": "level", "unit": "%",
             "low": 10, "high": 85, "high_high": 90}],
        "accidents": [{"id": "A-1", "date": "2023-11-18" if i % 5 == 0 else "2021-05-18", "severity": "一般",
                       "injuries": 1, "description": "检修作业烫伤"}],
        "dependencies": [{"from": "U-TANK", "to": "U-SYN", "reason": "液氨罐区泄漏可波及相邻合成车间"}],
    }


def write_jsonl(path: str, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(synthetic(i), ensure_ascii=False, separators=(",", ":")) + "\n")


# -- the hand-written equivalent ------------------------------------------------------------------
def _band(f: dict[str, float]) -> int:
    d = f["L"] * f["E"] * f["C"]
    for lo, lv in BANDS:
        if d > lo:
            return lv
    return 1


def _date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def _node(levels: list[int], locks: list[int], *, own: int = 0, raises: int = 0, lock: int = 0,
          cluster: bool = False, reported: bool = False, lower: bool = False) -> tuple[int, int]:
    """One node of the default roll-up: (level, lock) from children's (levels, locks) and the modifiers."""
    level = max(own, max(levels, default=0), 1)
    if cluster and sum(1 for lv in levels if lv >= 3) >= 3:
        level += 1
    level = min(level + raises, 4)
    if reported and level >= 4:
        lock = 4
    lock = max(lock, max(locks, default=0))
    if lower:
        level = max(level - 1, lock or 1, own or 1)
    return max(level, lock), lock


def hand_assess(e: dict[str, Any], as_of: dt.date) -> tuple[int, int]:
    """(dynamic level, inherent level) of one register dict."""
    hd_at: dict[str, list[tuple[bool, bool]]] = {}  # target -> [(major, overdue)] of the open ones
    for hd in e.get("hidden_dangers", ()):
        found, status = _date(hd["found"]), hd.get("status", "open")
        closed = hd.get("closed")
        major = hd["grade"] == "major"
        done = status == "verified" or (status == "rectified" and not major)
        is_open = found <= as_of and not (done and (closed is None or _date(closed) <= as_of))
        if is_open:
            overdue = "deadline" in hd and _date(hd["deadline"]) < as_of
            hd_at.setdefault(hd["target"], []).append((major, overdue))
    hz_by_point: dict[str, list[int]] = {}
    for h in e.get("hazards", ()):
        hz_by_point.setdefault(h["risk_point"], []).append(_band(h["facts"]) if "facts" in h else 1)
    res: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}  # id -> ((dyn, lock), (inh, lock))
    for p in e["risk_points"]:
        kids = hz_by_point.get(p["id"], [])
        own = _band(p["facts"])
        hds = hd_at.get(p["id"], [])
        veto = 4 if any(m for m, _ in hds) else 0
        over = 1 if any(o for _, o in hds) else 0
        res[p["id"]] = (_node(kids, [], own=own, raises=over, lock=veto, reported=True),
                        _node(kids, [], own=own, reported=True))
    deps: dict[str, list[str]] = {}
    for d in e.get("dependencies", ()):
        deps.setdefault(d["to"], []).append(d["from"])
    children: dict[str, list[str]] = {}
    for p in e["risk_points"]:
        children.setdefault(p["unit"], []).append(p["id"])
    units = {u["id"]: u for u in e["units"]}
    done_units: set[str] = set()

    def unit(uid: str) -> None:
        if uid in done_units:
            return
        for dep in deps.get(uid, ()):
            unit(dep)
        kids = [res[c] for c in children.get(uid, []) + deps.get(uid, [])]
        mhg = GRADE_NUM.get(units[uid].get("major_hazard_grade", ""), 0)
        floor = 5 - mhg if mhg else 0
        hds = hd_at.get(uid, [])
        veto = 4 if any(m for m, _ in hds) else 0
        res[uid] = (_node([k[0][0] for k in kids], [k[0][1] for k in kids], lock=max(floor, veto), cluster=True),
                    _node([k[1][0] for k in kids], [k[1][1] for k in kids], lock=floor, cluster=True))
        done_units.add(uid)

    for uid in units:
        unit(uid)
    kids = [res[u] for u in units]
    since = as_of.replace(year=as_of.year - 1)
    accident = any(since < _date(a["date"]) <= as_of for a in e.get("accidents", ()))
    veto = 4 if any(m for m, _ in hd_at.get(e["id"], [])) else 0
    dyn = _node([k[0][0] for k in kids], [k[0][1] for k in kids], raises=int(accident), lock=veto,
                lower=e.get("standardisation") == "一级")
    inh = _node([k[1][0] for k in kids], [k[1][1] for k in kids])
    return dyn[0], inh[0]


def hand_region(path: str, as_of: dt.date) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Counts by level per region code (county, city, province) and every enterprise's level."""
    counts: dict[str, list[int]] = {}
    levels: dict[str, int] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            e = json.loads(line)
            lv, _inh = hand_assess(e, as_of)
            if e["id"] in levels:
                continue
            levels[e["id"]] = lv
            code = e["jurisdiction"]
            for c in (code, code[:4] + "00", code[:2] + "0000"):
                counts.setdefault(c, [0] * 5)[lv] += 1
    return counts, levels


# -- measuring ------------------------------------------------------------------------------------
def timed(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    """CPU seconds of this process (the machine is shared: wall time counts the neighbours too)."""
    t0 = time.process_time()
    out = fn(*args, **kw)
    return time.process_time() - t0, out


def walled(fn: Any, *args: Any, **kw: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def check_same(result: riskgrade.RegionResult, hand: tuple[dict[str, list[int]], dict[str, int]]) -> None:
    ents = result.to_dict()["enterprises"]
    wrong = [k for k, v in ents.items() if riskgrade.Level[v["level"]] != hand[1][k]]
    if wrong or result.errors or len(ents) != len(hand[1]):
        raise SystemExit(f"riskgrade and the hand-written baseline disagree: {wrong[:5]} {result.errors[:2]}")


def child_memory(path: str) -> dict[str, float]:
    """Run in a fresh interpreter: tracemalloc peak/retained and VmHWM of one region assessment."""
    out = subprocess.run([sys.executable, __file__, "--child", path], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _child(path: str) -> None:
    riskgrade.load("lec-generic")  # compiled before measuring: the region's memory, not the compiler's
    riskgrade.assess_region([os.devnull], as_of=AS_OF)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    r = riskgrade.assess_region([path], as_of=AS_OF)
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with open("/proc/self/status", encoding="ascii") as fh:
        hwm = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), 0)
    print(json.dumps({"n": len(r.region), "peak": peak - base, "retained": cur - base, "vmhwm_kb": hwm}))


def profile(path: str) -> str:
    prof = cProfile.Profile()
    prof.enable()
    riskgrade.assess_region([path], as_of=AS_OF)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime").print_stats(14)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--jobs-n", type=int, default=10000, help="N for the --jobs 2 figure (0: none)")
    ap.add_argument("--no-extras", action="store_true", help="only the throughput table (no memory, profile)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    riskgrade.load("lec-generic")
    with tempfile.TemporaryDirectory() as tmp:
        print("CPU time of this process (process_time), so that neighbours on a shared machine do not count")
        print(f"{'N':>8} {'riskgrade/s':>12} {'hand/s':>10} {'ratio':>7} (target >= 0.5)  {'us/ent':>8} {'vs first':>8}")
        first = None
        for n in sizes:
            path = os.path.join(tmp, f"region-{n}.jsonl")
            write_jsonl(path, n)
            t_hand, hand = timed(hand_region, path, AS_OF)
            t_rg, res = timed(riskgrade.assess_region, [path], as_of=AS_OF)
            check_same(res, hand)
            per = t_rg / n
            first = first or per
            print(f"{n:>8} {n / t_rg:>12.0f} {n / t_hand:>10.0f} {t_hand / t_rg:>7.3f}                  "
                  f"{per * 1e6:>8.0f} {per / first:>8.2f}", flush=True)
        if args.no_extras:
            return
        for n in sizes:
            if n > 10000:
                continue
            m = child_memory(os.path.join(tmp, f"region-{n}.jsonl"))
            print(f"memory N={n}: tracemalloc peak {m['peak'] / n:.0f} B/enterprise, retained "
                  f"{m['retained'] / n:.0f} B/enterprise; child VmHWM {m['vmhwm_kb'] / 1024:.0f} MiB", flush=True)
        if args.jobs_n:
            path = os.path.join(tmp, f"region-jobs-{args.jobs_n}.jsonl")
            write_jsonl(path, args.jobs_n)
            t1, r1 = walled(riskgrade.assess_region, [path], as_of=AS_OF, jobs=1)
            t2, r2 = walled(riskgrade.assess_region, [path], as_of=AS_OF, jobs=2, chunk=128)
            same = r1.to_json() == r2.to_json()
            print(f"--jobs 2 vs --jobs 1 at N={args.jobs_n} (wall time): {t1 / t2:.2f}x ({t1:.1f} s / {t2:.1f} s; "
                  f"same output: {same}; workers spawned, start-up included; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
        print("profile of the per-enterprise path (N=1000, by own time):")
        p1k = os.path.join(tmp, "region-1000.jsonl")
        if not os.path.exists(p1k):
            write_jsonl(p1k, 1000)
        print(profile(p1k))


if __name__ == "__main__":
    main()
