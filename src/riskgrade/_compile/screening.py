"""``kind: screening``: admission-screening rulesets (源头管控和安全准入), compiled by the same stages.

A screening ruleset is a ruleset whose rules give a *decision* instead of a level: ``reject`` or
``conditions`` (with the ``condition`` the project must meet); ``otherwise: {decision: pass}`` says
which clause admits a project that no rule stops. The stage :func:`prepare` (run after the CSV
tables are read, before layers) checks what only a screening ruleset has and writes each decision
as the level the generated grading function orders by (``reject`` → RED, ``conditions`` → YELLOW,
``pass`` → BLUE), so that one compiler, one code generator and one coverage count serve both
kinds. The decision is read back from the rules that fired (:mod:`riskgrade._grade.screening`);
the level is never shown for a screening.

A rule may list ``items: {table: T, keys: K}``: ``K`` is a derived list of keys of table ``T``
(e.g. the eliminated processes a project uses), and each key becomes its own reason, citing its
row's ``source`` (a source of the ruleset), ``clause`` and, when given, ``status``.

>>> from riskgrade._source.yaml import parse_yaml
>>> doc = parse_yaml('''
... kind: screening
... sources: {s: {title: 指南}}
... rules: [{id: r1, decision: conditions, when: x, condition: {zh: 补充论证, en: more study}}]
... otherwise: {decision: pass, cite: {source: s}}
... ''', "s.yaml")
>>> prepare(doc, doc.data)
[]
>>> doc.data["rules"][0]["level"], doc.data["rules"][0]["method"], doc.data["otherwise"]["level"]
('YELLOW', 'direct', 'BLUE')
"""

from __future__ import annotations

from typing import Any

from riskgrade._core.citation import STATUSES as _OTHER_STATUSES
from riskgrade._source.yaml import Located
from riskgrade.exceptions import Problem

__all__ = ["ITEM_COLUMNS", "LEVEL_OF", "STATUSES", "is_screening", "prepare"]

#: the level each decision is compiled to (the generated code takes the highest)
LEVEL_OF = {"reject": "RED", "conditions": "YELLOW", "pass": "BLUE"}
#: the columns a table named by ``items:`` must have (``status`` and ``name`` are optional)
ITEM_COLUMNS = ("source", "clause")


#: the verification statuses a listed item may have
STATUSES = ("verified", *_OTHER_STATUSES)


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def is_screening(doc: Any) -> bool:
    """Whether ``doc`` (a parsed document) is a screening ruleset."""
    return isinstance(doc, dict) and doc.get("kind") == "screening"


def prepare(located: Located, doc: dict[str, Any]) -> list[Problem]:
    """Check the screening keys of ``doc`` and write each decision as a level (in place); the problems."""
    out: list[Problem] = []
    if not is_screening(doc):
        return out
    rules = _list(doc.get("rules"))
    ids = {r.get("id") for r in rules if isinstance(r, dict)}
    for i, rule in enumerate(rules):
        if isinstance(rule, dict):
            out += _rule(located, doc, i, rule)
    oth = doc.get("otherwise")
    if isinstance(oth, dict):
        if "level" in oth:
            out.append(located.problem(("otherwise", "level"), "unknown-key",
                                       "a screening ruleset's default is 'decision: pass', not a level", key=True))
        if oth.get("decision") == "pass":
            oth["level"] = LEVEL_OF["pass"]
    for i, case in enumerate(_list(doc.get("cases"))):
        want = case.get("want") if isinstance(case, dict) else None
        for k, rid in enumerate(want.get("reasons") or () if isinstance(want, dict) else ()):
            if isinstance(rid, str) and rid.split("/", 1)[0] not in ids:
                out.append(located.problem(("cases", i, "want", "reasons", k), "unknown-rule",
                                           f"case {i + 1} names reason {rid!r}, but there is no rule "
                                           f"{rid.split('/', 1)[0]!r} (a reason is a rule id, or rule id/item key)"))
    return out


def _rule(located: Located, doc: dict[str, Any], i: int, rule: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    path = ("rules", i)
    if "level" in rule:
        out.append(located.problem((*path, "level"), "unknown-key",
                                   "a screening rule gives 'decision: reject' or 'decision: conditions', "
                                   "not a level", key=True))
    decision = rule.get("decision")
    if decision in ("reject", "conditions"):
        rule["level"] = LEVEL_OF[decision]
    # a missing or unknown decision is reported by the rule schema (compile stage)
    if decision == "conditions" and not rule.get("condition"):
        out.append(located.problem(path, "missing-key",
                                   "a rule with 'decision: conditions' needs 'condition:' (what the project "
                                   "must do to be admitted, in zh and en)"))
    if decision == "reject" and "condition" in rule:
        out.append(located.problem((*path, "condition"), "conflicting-keys",
                                   "a rejected project is not admitted on conditions; drop 'condition' or "
                                   "make the decision 'conditions'", key=True))
    rule.setdefault("method", "composite" if "criteria" in rule else "direct")
    items = rule.get("items")
    if isinstance(items, dict):
        out += _items(located, doc, path, items)
    return out


def _items(located: Located, doc: dict[str, Any], path: tuple[Any, ...], items: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    tables, derive = _dict(doc.get("tables")), _dict(doc.get("derive"))
    keys, tname = items.get("keys"), items.get("table")
    if isinstance(keys, str) and keys not in derive:
        out.append(located.problem((*path, "items", "keys"), "unknown-name",
                                   f"items: {keys!r} is not a derived value (it must list keys of table {tname!r})"))
    spec = tables.get(tname) if isinstance(tname, str) else None
    if isinstance(tname, str) and not isinstance(spec, dict):
        out.append(located.problem((*path, "items", "table"), "unknown-table", f"no table named {tname!r}"))
        return out
    if not isinstance(spec, dict):
        return out
    cols = _dict(spec.get("columns"))
    missing = [c for c in ITEM_COLUMNS if c not in cols]
    if missing:
        out.append(located.problem((*path, "items", "table"), "unknown-column",
                                   f"table {tname!r} lists items, so each row must cite its own source and clause: "
                                   f"it lacks the column(s) {', '.join(missing)}"))
        return out
    sources = _dict(doc.get("sources"))
    where = ("tables", tname, "csv" if "csv" in spec else "rows")
    for j, row in enumerate(_list(spec.get("rows"))):
        src = row.get("source") if isinstance(row, dict) else None
        status = row.get("status") if isinstance(row, dict) else None
        if status not in (None, "", *STATUSES):
            out.append(located.problem(where if "csv" in spec else (*where, j, "status"), "bad-value",
                                       f"table {tname!r}, row {j + 1}: status {status!r}; allowed: "
                                       f"{', '.join(STATUSES)}"))
        if src not in sources:
            key = spec.get("key")
            name = row.get(key) if isinstance(row, dict) and isinstance(key, str) else j + 1
            out.append(located.problem(where if "csv" in spec else (*where, j, "source"), "unknown-source",
                                       f"table {tname!r}, row {name!r}: no source named {src!r}; defined: "
                                       f"{', '.join(sorted(sources))}"))
    return out
