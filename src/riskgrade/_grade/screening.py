"""Admission screening results (源头管控和安全准入): :class:`Screening` and its :class:`Reason` s.

A compiled ``kind: screening`` ruleset (:mod:`riskgrade._compile.screening`) grades a project's
facts like any ruleset; :class:`ScreeningRuleset` reads the decision back from the rules that
fired: ``reject`` when a reject rule fired, else ``conditions`` when a conditions rule fired (with
every condition), else ``pass`` (citing the ruleset's ``otherwise``). Each fired rule is one
reason citing its clause; a rule with ``items:`` gives one reason per listed item instead, citing
the item's own row (document, clause, verification status).

>>> import riskgrade
>>> srs = riskgrade.load_screening("hazchem-project-screening")
>>> s = srs.screen(srs.ruleset.cases[0]["facts"])          # the ruleset's own passing case
>>> s.decision, s.reasons, s.citation.clause
('pass', (), '1.2.1')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs

from riskgrade._core.canonical import dumps
from riskgrade._core.citation import Citation
from riskgrade._core.provenance import RulesetRef
from riskgrade._grade.assessment import Assessment
from riskgrade._grade.ruleset import CaseResult, Ruleset, error_problems, fired_problems, run_case_safely
from riskgrade.exceptions import FactError

__all__ = ["AdmissionCondition", "Reason", "Screening", "ScreeningRuleset"]

_WORDS = {
    "zh": {"pass": "准入", "conditions": "附条件准入", "reject": "不予准入", "decision": "结论",
           "reasons": "理由", "conditions_h": "准入条件", "cite": "依据", "none": "无规则触发",
           "ruleset": "规则集", "project": "项目", "default": "默认准入"},
    "en": {"pass": "pass", "conditions": "pass with conditions", "reject": "reject", "decision": "decision",
           "reasons": "reasons", "conditions_h": "conditions", "cite": "cite", "none": "no rule fired",
           "ruleset": "ruleset", "project": "project", "default": "admitted by default"},
}


def _text(v: Any, lang: str) -> str:
    if isinstance(v, Mapping):
        return str(v.get(lang) or v.get("en") or v.get("zh") or "")
    return "" if v is None else str(v)


def _both(v: Any) -> dict[str, str]:
    return {"zh": _text(v, "zh"), "en": _text(v, "en")}


@attrs.frozen
class Reason:
    """One reason for a decision: the rule (``rule``), the listed item it is about (``item``, or None),
    what it says (``label``, zh and en), the ``decision`` it asks for (``reject`` or ``conditions``),
    the ``citation`` (clause, document, kind and verification status) and the rule's ``detail``."""

    id: str
    rule: str
    decision: str
    label: Mapping[str, str]
    citation: Citation
    item: str | None = None
    detail: str = ""

    def text(self, lang: str = "en") -> str:
        """``[decision] label; cite: ...``."""
        w = _WORDS[lang]
        return f"[{w[self.decision]}] {_text(self.label, lang)}; {w['cite']}: {self.citation.text(lang)}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "item": self.item, "decision": self.decision,
                "label": dict(self.label), "detail": self.detail, "citation": self.citation.to_dict()}


@attrs.frozen
class AdmissionCondition:
    """A condition of admission: what the project must do (``text``, zh and en), the rule that sets it,
    its citation and the reasons (ids) that call for it."""

    rule: str
    text: Mapping[str, str]
    citation: Citation
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "text": dict(self.text), "citation": self.citation.to_dict(),
                "reasons": list(self.reasons)}


@attrs.frozen
class Screening:
    """The admission decision for one project: ``decision`` (``pass``, ``conditions`` or ``reject``),
    its ``reasons`` (every rule that fired, per listed item where the rule lists items), the
    ``conditions`` of admission (when the decision is ``conditions``; also listed for a rejected project,
    so that every finding is shown), the ``citation`` of the default (``pass``) decision and the
    ``assessment`` it was read from."""

    decision: str
    reasons: tuple[Reason, ...]
    conditions: tuple[AdmissionCondition, ...]
    citation: Citation | None
    ruleset: RulesetRef
    assessment: Assessment
    project: str | None = None

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready mapping: ``{project, decision, decision_text, reasons, conditions, default, ruleset, values}``."""
        return {"project": self.project, "decision": self.decision, "decision_text": _WORDS[lang][self.decision],
                "reasons": [r.to_dict() for r in self.reasons], "conditions": [c.to_dict() for c in self.conditions],
                "default": self.citation.to_dict() if self.decision == "pass" and self.citation else None,
                "ruleset": self.ruleset.to_dict(), "values": self.assessment.values}

    def to_json(self, lang: str = "en", indent: int | None = None) -> str:
        """Canonical JSON of :meth:`to_dict`: same project, same bytes."""
        return dumps(self.to_dict(lang), indent=indent)

    def explain(self, lang: str = "en") -> list[str]:
        """The decision for people, one line each: the decision, every reason with its citation, every
        condition, and the ruleset it came from."""
        w = _WORDS[lang]
        head = f"{w['project']} {self.project}: " if self.project else ""
        out = [f"{head}{w['decision']}: {self.decision} {w[self.decision]}"]
        if self.decision == "pass" and self.citation is not None:
            out.append(f"  {w['none']}, {w['default']}; {w['cite']}: {self.citation.text(lang)}")
        if self.reasons:
            out.append(f"{w['reasons']}:")
            out += [f"  - {r.id}: {r.text(lang)}" for r in self.reasons]
        if self.conditions:
            out.append(f"{w['conditions_h']}:")
            out += [f"  - {c.rule}: {_text(c.text, lang)}" for c in self.conditions]
        ref = self.ruleset
        out.append(f"{w['ruleset']} {ref.id} {ref.version} ({ref.edition}) {ref.fingerprint[:19]}")
        return out


@attrs.frozen(eq=False)
class ScreeningRuleset:
    """A compiled ``kind: screening`` ruleset: :meth:`screen` decides one project; :meth:`run_cases` runs
    the ruleset's own cases (``want: {decision, reasons, fired, values}``). Load one with
    :func:`riskgrade.load_screening`."""

    ruleset: Ruleset

    @property
    def id(self) -> str:
        return self.ruleset.id

    def screen(self, project: Mapping[str, Any]) -> Screening:
        """Decide ``project`` (its facts). Raises :class:`~riskgrade.FactError` naming the field on bad input."""
        rs = self.ruleset
        a = rs.grade(project)
        by_id = {str(r["id"]): r for r in rs.rules}
        reasons: list[Reason] = []
        conditions: list[AdmissionCondition] = []
        for f in a.fired:
            rule = by_id[f.id]
            decision = str(rule["decision"])
            label = _both(rule.get("label") or f.id)
            mine = list(self._item_reasons(rule, f.id, decision, label, a, f.detail)) if rule.get("items") else []
            if not mine:
                mine = [Reason(f.id, f.id, decision, label, f.citation, None, f.detail)]
            reasons += mine
            if decision == "conditions":
                conditions.append(AdmissionCondition(f.id, _both(rule["condition"]), f.citation, tuple(r.id for r in mine)))
        decision = ("reject" if any(r.decision == "reject" for r in reasons)
                    else "conditions" if reasons else "pass")
        pid = project.get("id") if isinstance(project, Mapping) else None
        return Screening(decision, tuple(reasons), tuple(conditions), rs._otherwise_citation, rs.ref, a,
                         None if pid is None else str(pid))

    def _item_reasons(self, rule: Mapping[str, Any], rid: str, decision: str, label: Mapping[str, str],
                      a: Assessment, detail: str) -> list[Reason]:
        items = rule["items"]
        table = self.ruleset.tables[items["table"]]
        keys = a.values.get(items["keys"]) or ()
        out: list[Reason] = []
        for key in dict.fromkeys(keys):  # each item once, in the order listed
            row = table.index.get(key)
            if row is None:  # a key that is not in the table: the derived value is wrong, say so
                raise FactError(f"{key!r} is not in table {items['table']!r}", field=items["keys"],
                                code="not-in-table", value=key)
            src = self.ruleset.sources.get(str(row["source"])) or {}
            title = src.get("title")
            cite = Citation(source=str(row["source"]), title=_text(title, "zh"), number=str(src.get("number", "")),
                            clause=str(row.get("clause") or ""), basis=str(row.get("basis") or "clause"),
                            status=str(row.get("status") or src.get("status", "unverified")))
            name = row.get("name") or key
            name_en = row.get("name_en") or name
            note = f"（{row['note']}）" if row.get("note") else ""  # the list's own words (zh), e.g. a restriction's scope
            item_label = {"zh": f"{label['zh']}: {name}{note}", "en": f"{label['en']}: {name_en}"}
            out.append(Reason(f"{rid}/{key}", rid, decision, item_label, cite, str(key), detail))
        return out

    def run_cases(self) -> list[CaseResult]:
        """Run the ruleset's ``cases``: each compares the decision, the reasons (ids), the rules fired and
        values with ``want``, or the error with ``want_error``."""
        rs = self.ruleset
        lines = rs._case_lines
        return [attrs.evolve(run_case_safely(rs.id, i, c, functools.partial(self._run_case, i, c)), file=rs.file,
                             line=lines[i] if i < len(lines) else 0)
                for i, c in enumerate(rs.cases)]

    def _run_case(self, i: int, case: Mapping[str, Any]) -> CaseResult:
        rs = self.ruleset
        note = str(case.get("note", ""))
        want = case.get("want")
        want_err = case.get("want_error")
        problems: list[str] = []
        try:
            s = self.screen(case["facts"])
        except FactError as e:
            problems += error_problems(want_err, e)
            return CaseResult(rs.id, i, note, not problems, dict(want_err or want or {}),
                              {"error": e.code, "field": e.field}, tuple(problems))
        fired = [f.id for f in s.assessment.fired]
        actual = {"decision": s.decision, "reasons": [r.id for r in s.reasons], "fired": fired,
                  "values": s.assessment.values}
        if want_err is not None:
            problems.append(f"want error {want_err['code']}, got decision {s.decision}")
        elif want is not None:
            if "decision" in want and want["decision"] != s.decision:
                problems.append(f"decision: want {want['decision']}, got {s.decision}")
            if "reasons" in want and list(want["reasons"]) != actual["reasons"]:
                problems.append(f"reasons: want {list(want['reasons'])}, got {actual['reasons']}")
            problems += fired_problems(want, fired, s.assessment.values)
        return CaseResult(rs.id, i, note, not problems, dict(want_err if want_err is not None else want or {}),
                      actual, tuple(problems))
