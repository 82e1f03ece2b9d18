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

Run: ``nice python benchmarks/bench_region.py [--sizes 1000,10000,100000] [--jobs-n 10000] [--repeat 3]``
(below 100,000 enterprises each contender runs ``--repeat`` times, alternating, and its least CPU counts).
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

    visiting: set[str] = set()

    def unit(uid: str) -> None:
        if uid in done_units:
            return
        if uid in visiting:
            raise Invalid("dependency cycle")
        visiting.add(uid)
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


# -- what the validating baseline checks (what riskgrade checks on these registers) ----------------
class Invalid(Exception):
    """A register the hand-written validation refuses (riskgrade gives an error record for it too)."""


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(items)
    if len(d) != len(items):
        raise Invalid("duplicate key")
    return d


TOP = frozenset({"id", "name", "uscc", "sectors", "jurisdiction", "zone", "location", "standardisation", "ruleset",
                 "diagnosis", "site", "units", "emergency_contacts", "risk_points", "hazards", "hidden_dangers",
                 "monitoring_points", "accidents", "dependencies", "note", "notes"})
NOTE = ("note", "notes")
KEYS = {  # the fields of each record kind this baseline reads (riskgrade knows more; these are a subset)
    "units": frozenset({"id", "name", "major_hazard_grade", *NOTE}),
    "risk_points": frozenset({"id", "unit", "name", "facts", "ruleset", *NOTE}),
    "hazards": frozenset({"id", "risk_point", "name", "category", "facts", "ruleset", *NOTE}),
    "hidden_dangers": frozenset({"id", "target", "grade", "found", "deadline", "status", "closed", "description",
                                 "basis", *NOTE}),
    "monitoring_points": frozenset({"id", "risk_point", "name", "quantity", "unit", "low_low", "low", "high",
                                    "high_high", *NOTE}),
    "accidents": frozenset({"id", "date", "severity", "deaths", "injuries", "description", *NOTE}),
    "dependencies": frozenset({"from", "to", "reason", *NOTE}),
}
REQUIRED = {"units": ("id", "name"), "risk_points": ("id", "unit", "name"), "hazards": ("id", "risk_point", "name"),
            "hidden_dangers": ("id", "target"), "monitoring_points": ("id", "risk_point", "name", "quantity"),
            "accidents": ("id",), "dependencies": ("from", "to")}
OPTIONAL_TEXT = {"units": (), "risk_points": ("ruleset",), "hazards": ("category", "ruleset"),
                 "hidden_dangers": ("description", "basis"), "monitoring_points": ("unit",),
                 "accidents": ("description",), "dependencies": ("reason",)}
ALLOWED = {"L": frozenset({0.1, 0.2, 0.5, 1, 3, 6, 10}), "E": frozenset({0.5, 1, 2, 3, 6, 10}),
           "C": frozenset({1, 3, 7, 15, 40, 100})}  # lec-generic's tables lec_L, lec_E, lec_C
HD_GRADES = frozenset({"general", "一般", "一般隐患", "一般事故隐患", "major", "重大", "重大隐患", "重大事故隐患"})
HD_STATUS = {"open": "open", "未整改": "open", "整改中": "open", "rectified": "rectified", "已整改": "rectified",
             "verified": "verified", "已验收": "verified", "closed": "verified"}
SEVERITIES = frozenset({"一般", "较大", "重大", "特别重大", "一般事故", "较大事故", "重大事故", "特别重大事故",
                        "general", "larger", "major", "extraordinary"})
GRADE_TEXT = frozenset({"一级", "二级", "三级", "四级", "1", "2", "3", "4"})


def _text(rec: dict[str, Any], key: str, required: bool) -> str:
    v = rec.get(key)
    if v is None:
        if required:
            raise Invalid(f"{key} is required")
        return ""
    if type(v) is not str:
        raise Invalid(f"{key}: expected text")
    s = v.strip()
    if required and not s:
        raise Invalid(f"{key} must not be empty")
    return s


def _iso(v: Any, key: str) -> dt.date:
    if type(v) is not str:
        raise Invalid(f"{key}: expected a date")
    try:
        return dt.date.fromisoformat(v.strip())
    except ValueError:
        raise Invalid(f"{key}: not a date") from None


def _check_facts(facts: Any) -> None:
    if type(facts) is not dict or facts.keys() != ALLOWED.keys():
        raise Invalid("facts: L, E and C, nothing else")
    for k, v in facts.items():
        if type(v) not in (int, float) or v not in ALLOWED[k]:
            raise Invalid(f"facts.{k}: not an allowed value")


def hand_validate(e: Any) -> None:
    """Refuse what riskgrade refuses in a register of this shape: the type of every field, required fields,
    unknown fields (``x-`` allowed at the top), allowed values (grades, statuses, severities, L/E/C), dates
    and their order, limits ordered, counts whole and >= 0, ids unique, every reference resolved, no cycle."""
    if type(e) is not dict:
        raise Invalid("not an object")
    if not e.keys() <= TOP and any(not k.startswith("x-") for k in e.keys() - TOP):
        raise Invalid("unknown field")
    ident = _text(e, "id", True)
    _text(e, "name", True)
    j = _text(e, "jurisdiction", True)
    if len(j) != 6 or not j.isascii() or not j.isdigit() or j.startswith("00"):
        raise Invalid("jurisdiction")
    sectors = e.get("sectors")
    if type(sectors) is not list or not sectors or not all(type(x) is str and x for x in sectors):
        raise Invalid("sectors")
    std = e.get("standardisation")
    if std is not None and (type(std) is not str or std.strip() not in GRADE_TEXT):
        raise Invalid("standardisation")
    _text(e, "ruleset", False)
    _text(e, "zone", False)
    seen = {ident}
    for field, keys in KEYS.items():
        items = e.get(field) or []
        if type(items) is not list:
            raise Invalid(f"{field}: expected a list")
        for r in items:
            if type(r) is not dict or not r.keys() <= keys:
                raise Invalid(f"{field}: unknown field")
            for k in REQUIRED[field]:
                _text(r, k, True)
            for k in OPTIONAL_TEXT[field]:
                _text(r, k, False)
            if field != "dependencies":
                if r["id"] in seen:
                    raise Invalid(f"duplicate id {r['id']}")
                seen.add(r["id"])
    for u in e.get("units") or ():
        g = u.get("major_hazard_grade")
        if g is not None and g not in ("none", "无", "") and (type(g) is not str or g.strip() not in GRADE_TEXT):
            raise Invalid("major_hazard_grade")
    for p in e.get("risk_points") or ():
        _check_facts(p.get("facts"))
    for h in e.get("hazards") or ():
        if h.get("facts") is not None:
            _check_facts(h["facts"])
    for hd in e.get("hidden_dangers") or ():
        if type(hd.get("grade")) is not str or hd["grade"].strip() not in HD_GRADES:
            raise Invalid("grade")
        st = hd.get("status", "open")
        if type(st) is not str or st.strip() not in HD_STATUS:
            raise Invalid("status")
        found = _iso(hd.get("found"), "found")
        if hd.get("deadline") is not None and _iso(hd["deadline"], "deadline") < found:
            raise Invalid("deadline before found")
        if hd.get("closed") is not None and (_iso(hd["closed"], "closed") < found or HD_STATUS[st.strip()] == "open"):
            raise Invalid("closed")
    for mp in e.get("monitoring_points") or ():
        given = [mp[k] for k in ("low_low", "low", "high", "high_high") if mp.get(k) is not None]
        if any(type(v) not in (int, float) for v in given) or given != sorted(given):
            raise Invalid("limits")
    for a in e.get("accidents") or ():
        _iso(a.get("date"), "date")
        if type(a.get("severity")) is not str or a["severity"].strip() not in SEVERITIES:
            raise Invalid("severity")
        for k in ("deaths", "injuries"):
            v = a.get(k)
            if v is not None and (type(v) is not int or v < 0):
                raise Invalid(k)
    units = {u["id"] for u in e.get("units") or ()}
    points = {p["id"] for p in e.get("risk_points") or ()}
    hazards = {h["id"] for h in e.get("hazards") or ()}
    if any(p["unit"] not in units for p in e.get("risk_points") or ()):
        raise Invalid("unknown unit")
    if any(r["risk_point"] not in points for f in ("hazards", "monitoring_points") for r in e.get(f) or ()):
        raise Invalid("unknown risk point")
    if any(hd["target"] not in points and hd["target"] not in units and hd["target"] != ident
           for hd in e.get("hidden_dangers") or ()):
        raise Invalid("unknown target")
    nodes = units | points | hazards | {ident}
    if any(d["from"] not in nodes or d["to"] not in nodes for d in e.get("dependencies") or ()):
        raise Invalid("unknown dependency")


def hand_region(path: str, as_of: dt.date, validate: bool = True) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Counts by level per region code (county, city, province) and every enterprise's level.

    ``validate``: read each line with ``json.loads`` refusing duplicate keys and check the register with
    :func:`hand_validate` (an invalid line is counted as an error and skipped, as riskgrade records it);
    without it, ``json.loads`` and no check at all (the baseline of the earlier figures)."""
    counts: dict[str, list[int]] = {}
    levels: dict[str, int] = {}
    errors = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                if validate:
                    e = json.loads(line, object_pairs_hook=_pairs)
                    hand_validate(e)
                else:
                    e = json.loads(line)
                lv, _inh = hand_assess(e, as_of)
            except (Invalid, ValueError):
                errors += 1
                continue
            if e["id"] in levels:
                errors += 1
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


#: registers both sides must refuse: (what is wrong, how enterprise 0 is changed); the JSON text is edited
#: for the duplicate key, every other change is made on the register's dict
BROKEN: tuple[tuple[str, Any], ...] = (
    ("unknown top-level field", lambda e: e.update(colour="red")),
    ("jurisdiction not six digits", lambda e: e.update(jurisdiction="62040")),
    ("sectors empty", lambda e: e.update(sectors=[])),
    ("unit name missing", lambda e: e["units"][1].pop("name")),
    ("unknown field in a risk point", lambda e: e["risk_points"][0].update(colour="red")),
    ("L not an allowed value", lambda e: e["risk_points"][2]["facts"].update(L=4)),
    ("C given as text", lambda e: e["risk_points"][2]["facts"].update(C="15")),
    ("unknown fact", lambda e: e["risk_points"][3]["facts"].update(X=1)),
    ("fact missing", lambda e: e["hazards"][2]["facts"].pop("E")),
    ("risk point of an unknown unit", lambda e: e["risk_points"][4].update(unit="U-NONE")),
    ("duplicate id", lambda e: e["hazards"][1].update(id="H-NH3-LEAK")),
    ("hidden danger of an unknown target", lambda e: e["hidden_dangers"][1].update(target="P-NONE")),
    ("hidden-danger grade not allowed", lambda e: e["hidden_dangers"][1].update(grade="minor")),
    ("deadline before found", lambda e: e["hidden_dangers"][1].update(deadline="2024-01-01")),
    ("closed but open", lambda e: e["hidden_dangers"][2].update(status="open")),
    ("date not a date", lambda e: e["accidents"][0].update(date="2023-13-01")),
    ("severity not allowed", lambda e: e["accidents"][0].update(severity="小")),
    ("injuries negative", lambda e: e["accidents"][0].update(injuries=-1)),
    ("monitoring limits out of order", lambda e: e["monitoring_points"][0].update(high=60)),
    ("major hazard grade not allowed", lambda e: e["units"][0].update(major_hazard_grade="五级")),
    ("dependency on an unknown unit", lambda e: e["dependencies"][0].update(to="U-NONE")),
    ("dependency cycle", lambda e: e["dependencies"].append({"from": "U-SYN", "to": "U-TANK"})),
    ("duplicate JSON key", None),
)


def broken_lines() -> list[tuple[str, str]]:
    """(what is wrong, JSON line) for every entry of :data:`BROKEN`."""
    out = []
    for what, change in BROKEN:
        e = synthetic(0)
        if change is None:
            line = json.dumps(e, ensure_ascii=False).replace('"name": ', '"name": "甲", "name": ', 1)
        else:
            change(e)
            line = json.dumps(e, ensure_ascii=False)
        out.append((what, line))
    return out


def check_validation(tmp: str) -> None:
    """Both sides refuse every register of :func:`broken_lines` (else the comparison is not of the same work)."""
    for what, line in broken_lines():
        path = os.path.join(tmp, "broken.jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(line + "\n")
        refused_rg = bool(riskgrade.assess_region([path], as_of=AS_OF).errors)
        refused_hand = not hand_region(path, AS_OF)[1]
        if not (refused_rg and refused_hand):
            raise SystemExit(f"{what}: refused by riskgrade {refused_rg}, by the hand-written baseline {refused_hand}")


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
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender below 100,000 (the least CPU counts)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    riskgrade.load("lec-generic")
    with tempfile.TemporaryDirectory() as tmp:
        check_validation(tmp)
        print(f"both sides refuse the same {len(BROKEN)} broken registers (check_validation)")
        print("CPU time of this process (process_time), so that neighbours on a shared machine do not count; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print("hand: validating baseline (json.loads refusing duplicate keys + hand_validate + roll-up); "
              "bare: json.loads + roll-up, nothing checked")
        print(f"{'N':>8} {'riskgrade/s':>12} {'hand/s':>10} {'ratio':>7} (target >= 0.5) {'bare/s':>10} "
              f"{'vs bare':>7}  {'us/ent':>8} {'vs first':>8}")
        first = None
        for n in sizes:
            path = os.path.join(tmp, f"region-{n}.jsonl")
            write_jsonl(path, n)
            # the least CPU of --repeat runs each (runs alternate between the contenders), below 100,000
            reps = args.repeat if n < 100_000 else 1
            t_bare = t_hand = t_rg = float("inf")
            for _ in range(reps):
                t, bare = timed(hand_region, path, AS_OF, validate=False)
                t_bare = min(t_bare, t)
                t, hand = timed(hand_region, path, AS_OF)
                t_hand = min(t_hand, t)
                t, res = timed(riskgrade.assess_region, [path], as_of=AS_OF)
                t_rg = min(t_rg, t)
            check_same(res, hand)
            check_same(res, bare)
            per = t_rg / n
            first = first or per
            print(f"{n:>8} {n / t_rg:>12.0f} {n / t_hand:>10.0f} {t_hand / t_rg:>7.3f}                 "
                  f"{n / t_bare:>10.0f} {t_bare / t_rg:>7.3f}  {per * 1e6:>8.0f} {per / first:>8.2f}  "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)
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
