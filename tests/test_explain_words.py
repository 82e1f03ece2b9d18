"""Explanations from the per-ruleset words (``Ruleset._words``, band rows' text cached) and from the trace cache
give, step for step, what the explanation code gave before they existed (kept here as the reference), on
every shipped ruleset's cases and on generated facts, in both languages, the first time and from the caches."""

from __future__ import annotations

import decimal
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._core.canonical import fmt_number as _n
from riskgrade._core.levels import Level
from riskgrade._grade import assessment
from riskgrade._grade.assessment import Step
from riskgrade._grade.ruleset import _label
from tests._facts import case_facts, facts_for, shipped_ids


def reference_detail(rs: riskgrade.Ruleset, i: int, detail: Any, values: Mapping[str, Any],
                     inputs: Mapping[str, Any], lang: str) -> str:
    rule, m = rs.rules[i], rs._methods[i]
    if m.explain is not None:
        return m.explain(rule, detail, values, lang)  # type: ignore[no-any-return]
    if not m.banded:
        return f"{m.name}: {'成立' if lang == 'zh' else 'holds'}" if detail else m.name
    b = rs.bands[rule["bands"]]
    out = m.score_name(rule) or "score"
    val = values.get(out, "?")
    row = b.rows[detail]
    lab = _label(row.get("label"), lang)
    formula = ""
    if m.operator:
        parts = [str(text if k in rule else rule.get(f"{k}_as", text)) for k, text, _ in m.expression_keys(rule)]
        known = {**inputs, **values}
        nums = [_n(known[p]) if p in known else p for p in parts]
        op = f" {m.operator} "
        formula = f" = {op.join(parts)} = {op.join(nums)}"
    return f"{out}{formula} = {_n(val)}: {b.row_text(detail, out)}" + (f" ({lab})" if lab else "")


def reference_trace(self: riskgrade.Ruleset, a: riskgrade.Assessment, lang: str) -> list[Step]:
    zh = lang == "zh"
    steps: list[Step] = []
    ins = a.inputs
    for name, spec in self.inputs.items():
        lab = _label(spec.get("label"), lang)
        v = ins[name]
        if v is None or spec.get("type") == "record":  # a linked ruleset's facts: see its link step
            continue
        shown = f"{len(v)} {'条记录' if zh else 'records'}" if isinstance(v, list) else _n(v)
        unit = f" {spec['unit']}" if spec.get("unit") and not isinstance(v, list) else ""
        meaning = ""
        if spec.get("table") and not isinstance(v, list):
            t = self.tables[spec["table"]]
            row = t.index.get(v)
            if row is not None:
                meaning = next((str(row[c]) for c in (("zh",) if zh else ("en",)) + ("description_zh", "label")
                                if row.get(c)), "")
        steps.append(Step("input", name, f"{'输入' if zh else 'input'} {name}"
                          f"{f' ({lab})' if lab else ''} = {shown}{unit}{f' — {meaning}' if meaning else ''}"))
    vals = a.values
    steps += self._link_steps(vals, lang)  # unchanged by the words cache
    made_by_links = {n for rec in (self.doc.get("linked") or {}).values() for n in rec["names"]}
    for name, spec in (self.doc.get("derive") or {}).items():
        if name in made_by_links:
            continue
        text = " ".join(str(spec if not isinstance(spec, dict) else spec["expr"]).split())
        steps.append(Step("derive", name, f"{'计算' if zh else 'derive'} {name} = {text} = {_n(vals[name])}"))
    levels, details = a[self._slices[2]], a[self._slices[3]]
    for i, rule in enumerate(self.rules):
        lv = levels[i]
        detail = reference_detail(self, i, details[i], vals, ins, lang)
        lab = _label(rule.get("label"), lang)
        cite = self._citations[i].text(lang)
        not_fired = "→ 未触发" if zh else "→ not fired"
        res = f"→ {Level(lv).name} {Level(lv).label(lang)}" if lv else not_fired
        steps.append(Step("rule", rule["id"], f"{'规则' if zh else 'rule'} {rule['id']}"
                          f"{f' ({lab})' if lab else ''}: {detail} {res}; {'依据' if zh else 'cite'}: {cite}"))
    if any(levels):
        how = "取已触发规则的最高等级" if zh else "the highest level among fired rules"
    else:
        oth = self.doc.get("otherwise") or {}
        cite = self._otherwise_citation.text(lang) if self._otherwise_citation else ""
        how = (f"无规则触发, 采用默认等级; 依据: {cite}" if zh
               else f"no rule fired, the default level applies; cite: {cite}")
        _ = oth
    steps.append(Step("decision", "level", f"{'结论' if zh else 'result'}: {a.level.name} "
                      f"{a.level.label(lang)} ({how})"))
    for change in (self.doc.get("layers") or ()):
        for line in change.get("changes") or ():
            steps.append(Step("layer", str(change.get("layer", "")), f"{'辖区细化' if zh else 'layer'}: {line}"))
    return steps


def check(rs: riskgrade.Ruleset, facts: dict[str, Any]) -> None:
    try:
        a = rs.grade(facts)
    except riskgrade.FactError:
        return
    plan = assessment._plan(rs)
    for lang in ("zh", "en"):
        want = reference_trace(rs, a, lang)
        text = "\n".join(s.text for s in want)
        # the text alone, built without steps and with nothing cached for this record
        plan.explain_cache.clear()
        plan.steps_cache.clear()
        assert a.explain(lang) == text
        for _ in range(2):  # the first time, then from the trace cache
            assert a.trace(lang) == want
            assert a.explain(lang) == text


@pytest.mark.parametrize("rid", shipped_ids())
def test_every_case_explains_as_before(rid: str) -> None:
    rs = riskgrade.load(rid)
    facts = case_facts(rs)
    assert facts
    for f in facts:
        check(rs, f)


@pytest.mark.parametrize("rid", shipped_ids())
def test_generated_facts_explain_as_before(rid: str) -> None:
    rs = riskgrade.load(rid)

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(facts_for(rs))
    def run(facts: dict[str, Any]) -> None:
        check(rs, facts)

    run()


def test_a_layered_ruleset_explains_as_before() -> None:
    rs = riskgrade.load("lec-generic", jurisdiction="620421")
    for f in case_facts(rs):
        check(rs, f)


LEC_FLAT = pathlib.Path(__file__).parent / "data" / "lec-flat.yaml"


@pytest.mark.parametrize(("rule_keys", "derive"), [
    ('    E: "E + 0"\n    as: R\n', ""),  # a term that is no name (shown as written), an output of another name
    ("    C: X\n    L: C\n", "derive:\n  X: C * 2\n"),  # terms that are a derived value and an input used twice
])
def test_formula_terms_of_every_kind_explain_as_before(tmp_path: pathlib.Path, rule_keys: str, derive: str) -> None:
    src = LEC_FLAT.read_text(encoding="utf-8").replace("    method: lec\n    bands: lec_D\n",
                                                       f"    method: lec\n    bands: lec_D\n{rule_keys}")
    src = src.replace("\nrules:\n", f"\n{derive}\nrules:\n")
    if "as: R" in rule_keys:
        src = src.replace("score: D", "score: R").replace("values: {D:", "values: {R:")
    path = tmp_path / "lec-variant.yaml"
    path.write_text(src, encoding="utf-8")
    rs = riskgrade.load(str(path))
    facts = [{"L": L, "E": E, "C": C} for L in (0.5, 3) for E in (0.5, 6) for C in (1, 15)]
    for f in facts + [{**f, "L": float(f["L"])} for f in facts]:
        check(rs, f)
    text = rs.grade({"L": 3, "E": 6, "C": 15}).explain("en")
    assert ("R = L × E + 0 × C = 3 × E + 0 × 15 = 270" in text if "as: R" in rule_keys
            else "D = C × E × X = 15 × 6 × 30 = 2700" in text)


def test_the_trace_is_a_fresh_list() -> None:
    a = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15})
    t = a.trace("zh")
    t.clear()
    assert len(a.trace("zh")) == 5 and assessment._plan(a[0]).steps_cache


def reference_fmt_number(v: Any) -> str:
    """canonical.fmt_number before its fast path for plain ints and integral floats."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        if abs(v) < 10**30:
            return str(v)
        mant, _, exp = format(decimal.Context(prec=12).create_decimal(v), ".12e").partition("e")
        return f"{mant.rstrip('0').rstrip('.')}e{exp}"
    if not math.isfinite(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    s = f"{v:.12g}"
    if "e" not in s and "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


@given(st.integers() | st.integers(-(10**31), 10**31) | st.floats() | st.sampled_from(
    [-0.0, 1e16, -1e16, 1e16 - 2, 10**30, -(10**30), 10**30 - 1, True, Level.RED, 2.5]))
@settings(max_examples=500, deadline=None, database=None)
def test_fmt_number_is_what_it_was(v: Any) -> None:
    assert _n(v) == reference_fmt_number(v)
