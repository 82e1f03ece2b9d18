"""Grade lec-generic over synthetic records; compare with a hand-written function and durable-rules.

Run:  python benchmarks/bench_grade.py [--records 100000] [--dr-records 20000]

Prints records/s for each contender and the ratios the project tracks:
  grade_many / hand-written   (target >= 0.25, full Assessments, traces built lazily)
  grade / durable-rules       (target >= 50)
Timings (CPU time of the process, best of --repeat) are taken in the same run on the same machine;
only ratios are meaningful.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import riskgrade
from riskgrade import Level
from riskgrade._core.canonical import dumps, fmt_number
from riskgrade._grade import assessment

L_VALUES = (10, 6, 3, 1, 0.5, 0.2, 0.1)
E_VALUES = (10, 6, 3, 2, 1, 0.5)
C_VALUES = (100, 40, 15, 7, 3, 1)


def records(n: int, seed: int = 7) -> list[dict[str, float]]:
    rnd = random.Random(seed)
    return [{"L": rnd.choice(L_VALUES), "E": rnd.choice(E_VALUES), "C": rnd.choice(C_VALUES)} for _ in range(n)]


def hand_written() -> Callable[[dict[str, float]], tuple[Level, float]]:
    """The same logic a programmer would write by hand: validate, multiply, band."""
    ls, es, cs = frozenset(L_VALUES), frozenset(E_VALUES), frozenset(C_VALUES)
    red, orange, yellow, blue = Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE

    def grade(f: dict[str, float]) -> tuple[Level, float]:
        L, E, C = f["L"], f["E"], f["C"]
        if L not in ls or E not in es or C not in cs:
            raise ValueError("value off the scale")
        d = L * E * C
        if d <= 70:
            return blue, d
        if d <= 160:
            return yellow, d
        if d <= 320:
            return orange, d
        return red, d

    return grade


class HandSerialiser:
    """What a programmer would write by hand for lec-generic's result, with the same bytes as riskgrade's:
    the constant parts (the ruleset reference, the rule's citation, id and label, the band texts, the inputs'
    labels and table meanings) taken from the ruleset once, the per-record parts in f-strings; the dict fresh
    per call (as ``to_dict`` gives), the JSON by ``json.dumps`` with the canonical options, floats rounded
    to 12 digits as the canonical dumper does."""

    def __init__(self, rs: riskgrade.Ruleset) -> None:
        a = rs.grade({"L": 3, "E": 6, "C": 15})
        d = a.to_dict()
        self.ruleset, self.citation = d["ruleset"], d["fired"][0]["citation"]
        self.rule_id, self.label = d["fired"][0]["id"], d["fired"][0]["label"]
        rule = rs.rules[0]
        bands = rs.bands[rule["bands"]]
        self.rows = [(row.get("to"), Level[row["level"]], bands.row_text(i, "D"), row["label"])
                     for i, row in enumerate(bands.rows)]
        self.ins = {lang: [(n, spec["label"][lang], {k: r[lang] for k, r in rs.tables[spec["table"]].index.items()})
                           for n, spec in rs.inputs.items()] for lang in ("zh", "en")}
        self.rule_label = rule["label"]
        self.cite = {lang: rs._citations[0].text(lang) for lang in ("zh", "en")}

    def grade(self, f: dict[str, float]) -> tuple[float, Level, int]:
        L, E, C = f["L"], f["E"], f["C"]
        d = L * E * C
        for i, (to, level, _, _) in enumerate(self.rows):
            if to is None or d <= to:
                return d, level, i
        raise AssertionError("unreachable")

    def to_dict(self, f: dict[str, float]) -> dict[str, Any]:
        d, level, i = self.grade(f)
        L, E, C = f["L"], f["E"], f["C"]
        n = fmt_number
        detail = f"D = L × E × C = {n(L)} × {n(E)} × {n(C)} = {n(d)}: {self.rows[i][2]} ({self.rows[i][3]['en']})"
        return {"schema": 1, "level": level.name, "level_zh": level.zh, "score": d, "values": {"D": d},
                "inputs": {"L": L, "E": E, "C": C},
                "fired": [{"id": self.rule_id, "level": level.name, "label": self.label, "detail": detail,
                           "citation": dict(self.citation)}],
                "ruleset": {**self.ruleset, "layers": []}}

    def to_json(self, f: dict[str, float]) -> str:
        out = self.to_dict(f)
        for k in ("score",):
            v = out[k]
            if v.__class__ is float and not v.is_integer():
                out[k] = float(f"{v:.12g}")
        out["values"]["D"] = out["score"]
        out["inputs"] = {k: (float(f"{v:.12g}") if v.__class__ is float and not v.is_integer() else v)
                         for k, v in out["inputs"].items()}
        return json.dumps(out, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def explain(self, f: dict[str, float], lang: str = "zh") -> str:
        d, level, i = self.grade(f)
        zh = lang == "zh"
        n = fmt_number
        lines = [f"{'输入' if zh else 'input'} {name} ({label}) = {n(f[name])} — {meaning[f[name]]}"
                 for name, label, meaning in self.ins[lang]]
        lines.append(f"{'规则' if zh else 'rule'} {self.rule_id} ({self.rule_label[lang]}): D = L × E × C = "
                     f"{n(f['L'])} × {n(f['E'])} × {n(f['C'])} = {n(d)}: {self.rows[i][2]} ({self.rows[i][3][lang]}) "
                     f"→ {level.name} {level.label(lang)}; {'依据' if zh else 'cite'}: {self.cite[lang]}")
        how = "取已触发规则的最高等级" if zh else "the highest level among fired rules"
        lines.append(f"{'结论' if zh else 'result'}: {level.name} {level.label(lang)} ({how})")
        return "\n".join(lines)


def reference_dict(a: riskgrade.Assessment) -> dict[str, Any]:
    """The result schema built from the public properties, as ``to_dict`` built it before issue 17."""
    return {"schema": assessment.SCHEMA_VERSION, "level": a.level.name, "level_zh": a.level.zh, "score": a.score,
            "values": a.values, "inputs": a.inputs, "fired": [f.to_dict() for f in a.fired],
            "ruleset": a.ruleset.to_dict()}


def _cold_json(a: riskgrade.Assessment) -> str:
    # the fast path with its per-ruleset text cache emptied first: what a record no other resembles costs
    plan = assessment._plan(a[0])
    plan.json_cache.clear()
    plan.fired_cache.clear()
    return a.to_json()


def _cold_explain(a: riskgrade.Assessment) -> str:
    # the same for explanations: the trace and text caches emptied first (the per-ruleset words stay)
    plan = assessment._plan(a[0])
    plan.steps_cache.clear()
    plan.explain_cache.clear()
    return a.explain("zh")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    # like timeit: the cyclic garbage collector is paused while a contender runs, for every contender;
    # CPU time of this process (every contender runs on this one thread), so other work on the machine
    # weighs less than in wall time
    gc.collect()
    gc.disable()
    try:
        t0 = time.process_time()
        out = fn()
        return time.process_time() - t0, out
    finally:
        gc.enable()


def best_of_each(n: int, fns: dict[str, Callable[[], Any]],
                 timer: Callable[[Callable[[], Any]], tuple[float, Any]] | None = None) -> dict[str, float]:
    """The least time of ``n`` runs of each of ``fns`` (by ``timer``, default :func:`timed`: CPU time), run in
    rounds (one of each per round), so that a slow moment of a shared machine falls on every contender
    alike, not on whichever ran then."""
    clock = timer or timed
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(n):
        for name, fn in fns.items():
            best[name] = min(best[name], clock(fn)[0])
    return best


def bench_durable_rules(recs: list[dict[str, float]]) -> tuple[float, list[str]]:
    """Post the same records to an equivalent durable-rules ruleset (the real engine).

    durable-rules conditions cannot multiply three event fields (arithmetic is allowed
    only on the right-hand side of a comparison), so the event carries D = L·E·C computed
    beforehand, outside the timed loop. That favours durable-rules: the ratio is conservative.
    """
    from durable.lang import m, post, ruleset, when_all

    name = f"bench_lec_{time.time_ns()}"
    out: list[str] = []
    with ruleset(name):
        @when_all(m.D > 320)
        def red(c: Any) -> None:
            out.append("RED")

        @when_all((m.D > 160) & (m.D <= 320))
        def orange(c: Any) -> None:
            out.append("ORANGE")

        @when_all((m.D > 70) & (m.D <= 160))
        def yellow(c: Any) -> None:
            out.append("YELLOW")

        @when_all(m.D <= 70)
        def blue(c: Any) -> None:
            out.append("BLUE")

    events = [{"id": i, "D": r["L"] * r["E"] * r["C"], **r} for i, r in enumerate(recs)]

    def run() -> None:
        for ev in events:
            post(name, ev)

    t, _ = timed(run)
    return t, out


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--dr-records", type=int, default=20_000, help="records posted to durable-rules (slow)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(list(argv) if argv is not None else None)

    rs = riskgrade.load("lec-generic")
    recs = records(args.records)
    hand = hand_written()

    # correctness first: the contenders must agree
    for r in recs[:5000]:
        assert rs.grade(r).level is hand(r)[0]

    out = list(rs.grade_many(recs))
    assert len(out) == len(recs) and all(isinstance(a, riskgrade.Assessment) for a in out)
    grade = rs.grade
    # materialising everything an Assessment offers (values, fired, JSON) costs more; measured against
    # the same result schema built by hand from the public properties and dumped by the canonical dumper
    sample = recs[:20_000]
    # the same, every record distinct (no text is reused from an earlier record)
    distinct = [{"L": r["L"], "E": r["E"], "C": r["C"], "id": i} for i, r in enumerate(sample)]
    # hand-written equivalents (same bytes, checked first), and explanations
    hs = HandSerialiser(rs)
    for r in sample:
        a = grade(r)
        assert hs.to_dict(r) == a.to_dict() and hs.to_json(r) == a.to_json(), r
        assert hs.explain(r, "zh") == a.explain("zh") and hs.explain(r, "en") == a.explain("en"), r
    t = best_of_each(args.repeat, {
        "hand": lambda: [hand(r) for r in recs],
        "many": lambda: list(rs.grade_many(recs)),
        "one": lambda: [grade(r) for r in recs],
        "full": lambda: [grade(r).to_json() for r in sample],
        "dict": lambda: [grade(r).to_dict() for r in sample],
        "ref_json": lambda: [dumps(reference_dict(grade(r))) for r in sample],
        "ref_dict": lambda: [reference_dict(grade(r)) for r in sample],
        "cold": lambda: [_cold_json(grade(r)) for r in distinct],
        "hand_json": lambda: [hs.to_json(r) for r in sample],
        "hand_dict": lambda: [hs.to_dict(r) for r in sample],
        "hand_expl": lambda: [hs.explain(r) for r in sample],
        "expl": lambda: [grade(r).explain("zh") for r in sample],
        "expl_cold": lambda: [_cold_explain(grade(r)) for r in sample],
    })
    t_hand, t_many, t_one, t_full, t_dict = t["hand"], t["many"], t["one"], t["full"], t["dict"]
    t_ref_json, t_ref_dict, t_cold = t["ref_json"], t["ref_dict"], t["cold"]
    t_hand_json, t_hand_dict, t_hand_expl = t["hand_json"], t["hand_dict"], t["hand_expl"]
    t_expl, t_expl_cold = t["expl"], t["expl_cold"]

    dr_recs = recs[: args.dr_records]
    t_dr, dr_out = bench_durable_rules(dr_recs)
    agree = sum(1 for a, b in zip(dr_out, (hand(r)[0].name for r in dr_recs), strict=False) if a == b)

    n = len(recs)
    rate = {
        "hand-written": n / t_hand,
        "grade_many": n / t_many,
        "grade": n / t_one,
        "grade+to_json": len(sample) / t_full,
        "grade+to_dict": len(sample) / t_dict,
        "grade+to_json, no reuse": len(sample) / t_cold,
        "grade+reference json": len(sample) / t_ref_json,
        "grade+reference dict": len(sample) / t_ref_dict,
        "grade+explain('zh')": len(sample) / t_expl,
        "grade+explain, no reuse": len(sample) / t_expl_cold,
        "hand-written json": len(sample) / t_hand_json,
        "hand-written dict": len(sample) / t_hand_dict,
        "hand-written explain": len(sample) / t_hand_expl,
        "durable-rules": len(dr_recs) / t_dr,
    }
    print(f"python {sys.version.split()[0]}, {n} records (durable-rules: {len(dr_recs)}, "
          f"{agree}/{len(dr_recs)} agree, {len(dr_out)} fired)")
    for k, v in rate.items():
        print(f"  {k:<24} {v:>14,.0f} records/s")
    r1 = rate["grade_many"] / rate["hand-written"]
    r2 = rate["grade"] / rate["durable-rules"]
    print(f"ratio grade_many / hand-written = {r1:.3f}  (target >= 0.25)")
    print(f"ratio grade / durable-rules     = {r2:.1f}  (target >= 50)")
    print(f"ratio to_json / reference json  = {t_ref_json / t_full:.1f}  (same bytes; no reuse: "
          f"{t_ref_json / t_cold:.1f})")
    print(f"ratio to_dict / reference dict  = {t_ref_dict / t_dict:.1f}")
    print(f"ratio grade+to_json / grade     = {t_one / len(recs) / (t_full / len(sample)):.3f}")
    print(f"ratio grade+to_json / hand-written json       = {t_hand_json / t_full:.2f}  (target >= 0.5; no reuse: "
          f"{t_hand_json / t_cold:.2f})")
    print(f"ratio grade+to_dict / hand-written dict       = {t_hand_dict / t_dict:.2f}  (target >= 0.5)")
    print(f"ratio grade+explain / hand-written explain    = {t_hand_expl / t_expl:.2f}  (target >= 0.5; no reuse: "
          f"{t_hand_expl / t_expl_cold:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
