"""The cerberus schema of ruleset format v1, and the mapping of its errors to locations."""

from __future__ import annotations

import datetime
import math
import operator
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import cerberus

from riskgrade._core.i18n import did_you_mean, suggest
from riskgrade._source.yaml import Located
from riskgrade.exceptions import Problem

__all__ = ["ALLOW", "DECISIONS", "FORMAT_VERSION", "SCREENING_RULE", "SCREENING_TOP", "SECTORS", "certainly_valid", "check", "keys_at",
           "label_schema", "schema_problems"]

FORMAT_VERSION = 1

#: sector keys (the eleven sectors named by the source document, plus ``general``)
SECTORS = {
    "general": ("通用", "general"),
    "road-transport": ("道路交通", "road transport"),
    "coal": ("煤矿", "coal mines"),
    "hazchem": ("危险化学品", "hazardous chemicals"),
    "nonmetal-mine": ("非煤矿山(尾矿库)", "metal and non-metal mines incl. tailings ponds"),
    "fireworks": ("烟花爆竹", "fireworks"),
    "construction": ("建筑施工", "building construction"),
    "metallurgy": ("冶金有色", "metallurgy and non-ferrous"),
    "water": ("水利", "water conservancy"),
    "crowded-places": ("人员密集场所", "crowded places"),
    "power": ("电力", "electric power"),
    "industry-trade": ("工贸", "industry and trade"),
}

IDENT = r"^[A-Za-z][A-Za-z0-9_]*$"
RULE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
LEVEL_NAMES = ["RED", "ORANGE", "YELLOW", "BLUE"]

label_schema: dict[str, Any] = {
    "type": ["string", "dict"],
    "schema": {"zh": {"type": "string", "required": True}, "en": {"type": "string", "required": True}},
}

_text = {"type": ["string", "dict"],
         "schema": {"zh": {"type": "string"}, "en": {"type": "string"}}}

CITE: dict[str, Any] = {
    "type": "dict",
    "schema": {
        "source": {"type": "string", "required": True},
        "clause": {"type": ["string", "integer"]},
        "basis": {"type": "string", "allowed": ["clause", "derived", "local"], "default": "clause"},
        "note": _text,
    },
}

_number = {"type": "number", "finite": True}

#: ``allow: {<warning code>: <reason>}``: a deliberate exception to a warning, with the reason
ALLOW: dict[str, Any] = {"type": "dict", "keysrules": {"type": "string", "regex": r"^[a-z][a-z\-]*$"},
                         "valuesrules": {"type": ["string", "dict"], "schema": {"zh": {"type": "string"},
                                                                                "en": {"type": "string"}}}}

FIELD: dict[str, Any] = {
    "type": {"type": "string", "required": True,
             "allowed": ["number", "integer", "string", "bool", "enum", "date", "list"]},
    "label": label_schema,
    "unit": {"type": "string"},
    "min": _number,
    "max": _number,
    "values": {"type": ["list", "dict"]},
    "table": {"type": "string"},
    "required": {"type": "boolean"},
    "default": {"nullable": True},
    "note": _text,
    "unverified": {"type": ["boolean", "string"]},
    "min_items": {"type": "integer", "min": 0},
    "max_items": {"type": "integer", "min": 0},
    "items": {"type": "string", "allowed": ["number", "integer", "string", "bool", "date"]},
    "allow": ALLOW,
}
# list inputs hold records whose fields are scalar fields
FIELD["fields"] = {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
                   "valuesrules": {"type": "dict", "schema": {k: v for k, v in FIELD.items()}}}
# ... and may compute more fields per record, in the order written (names of the record's fields in scope)
FIELD["derive"] = {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
                   "valuesrules": {"type": ["string", "number"]}}

TABLE: dict[str, Any] = {
    "label": label_schema,
    "source": {"type": "string"},
    "key": {"type": "string", "required": True},
    "columns": {"type": "dict", "required": True, "keysrules": {"type": "string", "regex": IDENT},
                "valuesrules": {"type": "string", "allowed": ["number", "integer", "string", "bool"]}},
    "rows": {"type": "list", "schema": {"type": "dict"}, "excludes": "csv"},
    "csv": {"type": "string", "excludes": "rows"},
    "aliases": {"type": "dict", "keysrules": {"type": "string"}, "valuesrules": {"type": "string"}},
    # which way each number column makes grading stricter ({Q: lower}), for the stricter-only check
    "stricter": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
                 "valuesrules": {"type": "string", "allowed": ["higher", "lower"]}},
    "note": _text,
    "unverified": {"type": ["boolean", "string"]},
    "allow": ALLOW,
}

BAND_ROW: dict[str, Any] = {
    "from": {"type": "number", "nullable": True, "finite": True},
    "to": {"type": "number", "nullable": True, "finite": True},
    "level": {"type": "string"},
    "value": {"type": ["number", "string", "integer"]},
    "label": label_schema,
    "note": _text,
    # a level that falls as the score rises, where the standard says so: the clause that does
    "exception": {"type": "dict", "schema": {"cite": {**CITE, "required": True}, "note": _text}},
}

BANDS: dict[str, Any] = {
    "label": label_schema,
    "source": {"type": "string"},
    "closed": {"type": "string", "allowed": ["upper", "lower"], "required": True},
    # a safety score (the higher, the safer): the levels fall as the score rises, by the clause cited
    "falling": {"type": "dict", "schema": {"cite": {**CITE, "required": True}, "note": _text}},
    "rows": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict", "schema": BAND_ROW}},
    "note": _text,
    "unverified": {"type": ["boolean", "string"]},
}

DERIVE: dict[str, Any] = {
    "expr": {"type": ["string", "number"], "required": True},
    "label": label_schema,
    "unit": {"type": "string"},
    "note": _text,
    "source": {"type": "string"},
}

CASE: dict[str, Any] = {
    "note": {"type": "string", "required": True},
    "facts": {"type": "dict", "required": True},
    "as_of": {"type": ["date", "string"]},
    "want": {
        "type": "dict",
        "excludes": "want_error",
        "schema": {
            "level": {"type": ["string", "integer"], "nullable": True},
            "values": {"type": "dict"},
            "fired": {"type": "list", "schema": {"type": "string"}},
            "not_fired": {"type": "list", "schema": {"type": "string"}},
            "score": {"type": "number", "nullable": True},
        },
    },
    "want_error": {
        "type": "dict",
        "excludes": "want",
        "schema": {"code": {"type": "string", "required": True}, "field": {"type": "string"}},
    },
}

SOURCE: dict[str, Any] = {
    "title": label_schema,
    "number": {"type": "string"},
    "clause": {"type": ["string", "integer"]},
    "issuer": {"type": "string"},
    "date": {"type": ["date", "string"]},
    # a source is verified only when its file says so: a status left out is not a claim
    "status": {"type": "string", "allowed": ["verified", "unverified", "partial", "superseded"],
               "default": "unverified"},
    "url": {"type": "string"},
    "note": _text,
}

_AXIS: dict[str, Any] = {"type": "dict", "required": True, "schema": {
    "name": {"type": "string", "required": True, "regex": IDENT},
    "label": label_schema,
    "values": {"type": "list", "required": True, "minlength": 1, "schema": {"type": ["integer", "float", "string"]}},
    "labels": {"type": "list", "schema": label_schema},
}}

MATRIX: dict[str, Any] = {
    "label": label_schema,
    "source": {"type": "string"},
    "note": _text,
    "rows": _AXIS,
    "columns": _AXIS,
    # one list per row value (in the order of rows.values), one level per column value
    "cells": {"type": "list", "required": True, "minlength": 1,
              "schema": {"type": "list", "minlength": 1, "schema": {"type": "string", "allowed": LEVEL_NAMES}}},
    # cells where a level may fall along an axis, each with the clause that says so
    "exceptions": {"type": "list", "schema": {"type": "dict", "schema": {
        "row": {"type": ["integer", "float", "string"], "required": True},
        "column": {"type": ["integer", "float", "string"], "required": True},
        "cite": {**CITE, "required": True},
    }}},
}

INCLUDE: dict[str, Any] = {
    "library": {"type": "string", "required": True},
    "tables": {"type": "list", "schema": {"type": "string", "regex": IDENT}},
    "bands": {"type": "list", "schema": {"type": "string", "regex": IDENT}},
    "matrices": {"type": "list", "schema": {"type": "string", "regex": IDENT}},
    # named roll-up fragments, whose modifiers come before the ruleset's own in its ``rollup:`` section
    "rollups": {"type": "list", "schema": {"type": "string", "regex": IDENT}},
    # rows that replace (same key) or extend a library table, with the citation for the change
    "override": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
                 "valuesrules": {"type": "dict", "schema": {
                     "rows": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict"}},
                     "cite": {**CITE, "required": True},
                 }}},
}

TOP: dict[str, Any] = {
    "riskgrade": {"type": "integer", "required": True, "allowed": [FORMAT_VERSION]},
    # ``screening``: an admission-screening ruleset (docs/screening.md): decisions, not levels
    "kind": {"type": "string", "allowed": ["ruleset", "screening"], "default": "ruleset"},
    "id": {"type": "string", "required": True, "regex": r"^[a-z][a-z0-9\-]*$"},
    "title": {**label_schema, "required": True},
    "sector": {"type": "string", "required": True, "allowed": sorted(SECTORS)},
    "jurisdiction": {"type": "string", "required": True, "regex": r"^[1-8][0-9]{5}$"},
    "version": {"type": "string", "required": True, "regex": r"^[0-9]+(\.[0-9]+)*([-+.][A-Za-z0-9.]+)?$"},
    "edition": {"type": "string", "required": True},
    "effective": {"type": "date", "required": True},
    "description": _text,
    # required unless the ruleset includes a library (whose tables bring their sources)
    "sources": {"type": "dict", "minlength": 1,
                "keysrules": {"type": "string", "regex": r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"},
                "valuesrules": {"type": "dict", "schema": SOURCE}},
    "inputs": {"type": "dict", "required": True, "keysrules": {"type": "string", "regex": IDENT},
               "valuesrules": {"type": "dict", "schema": FIELD}},
    "tables": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
               "valuesrules": {"type": "dict", "schema": TABLE}},
    "bands": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
              "valuesrules": {"type": "dict", "schema": BANDS}},
    "matrices": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
                 "valuesrules": {"type": "dict", "schema": MATRIX}},
    # scales, tables, bands and matrices taken from a shipped (or relative-path) scale library
    "include": {"type": "list", "schema": {"type": "dict", "schema": INCLUDE}},
    "derive": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
               "valuesrules": {"type": ["string", "number", "dict"]}},
    # the results of other rulesets for the same subject (riskgrade._compile.links)
    "links": {"type": "dict", "keysrules": {"type": "string", "regex": IDENT},
              "valuesrules": {"type": "dict", "schema": {
                  "ruleset": {"type": "string", "required": True},
                  "facts": {"type": "string", "required": True, "regex": IDENT},
                  "optional": {"type": "boolean", "default": False},
                  "values": {"type": "list", "schema": {"type": "string", "regex": IDENT}},
                  "label": label_schema,
                  "note": _text,
              }}},
    "rules": {"type": "list", "required": True, "minlength": 1, "schema": {"type": "dict"}},
    "otherwise": {"type": "dict", "schema": {"level": {"type": "string", "required": True,
                                                       "allowed": LEVEL_NAMES},
                                             "label": label_schema, "cite": {**CITE, "required": True}}},
    "score": {"type": "string", "regex": IDENT},
    "control_tiers": {"type": "dict"},
    "cases": {"type": "list", "schema": {"type": "dict", "schema": CASE}},
    "extra_facts": {"type": "string", "allowed": ["reject", "ignore"], "default": "reject"},
    # how much of the standard is encoded: items encoded / items in the standard (null when unknown)
    "completeness": {"type": "dict", "schema": {
        "encoded": {"type": "integer", "required": True, "min": 0},
        "in_standard": {"type": "integer", "nullable": True, "min": 1},
        "note": _text,
    }},
    # editions of the standard known to exist but not encoded here (so users learn they exist)
    "announced": {"type": "list", "schema": {"type": "dict", "schema": {
        "edition": {"type": "string", "required": True},
        "number": {"type": "string"},
        "effective": {"type": ["date", "string"]},
        "status": {"type": "string", "allowed": ["verified", "unverified", "partial"], "default": "unverified"},
        "note": _text,
    }}},
}


#: the decisions of an admission screening (``kind: screening``), from the most lenient
DECISIONS = ("pass", "conditions", "reject")

#: the keys a rule of a screening ruleset has besides a rule's own (``method`` defaults to
#: ``direct``, or ``composite`` with ``criteria``; the level is set from the decision)
SCREENING_RULE: dict[str, Any] = {
    "decision": {"type": "string", "required": True, "allowed": ["reject", "conditions"]},
    # what the project must do to be admitted (required with decision: conditions)
    "condition": label_schema,
    # one reason per listed item: ``keys`` names a derived list of keys of ``table``, whose rows cite
    # their own source and clause (``source``, ``clause``, optional ``status`` columns)
    "items": {"type": "dict", "schema": {"table": {"type": "string", "required": True, "regex": IDENT},
                                         "keys": {"type": "string", "required": True, "regex": IDENT}}},
    "method": {"type": "string", "allowed": ["direct", "composite"]},
}

_SCREENING_CASE = {**CASE, "want": {**CASE["want"], "schema": {
    "decision": {"type": "string", "allowed": list(DECISIONS)},
    "reasons": {"type": "list", "schema": {"type": "string"}},
    "values": {"type": "dict"},
    "fired": {"type": "list", "schema": {"type": "string"}},
    "not_fired": {"type": "list", "schema": {"type": "string"}},
}}}

#: the top level of a screening ruleset: a ruleset whose default is ``pass`` and whose cases want decisions
SCREENING_TOP: dict[str, Any] = {
    **TOP,
    "otherwise": {"type": "dict", "required": True, "schema": {
        "decision": {"type": "string", "required": True, "allowed": ["pass"]},
        "label": label_schema, "cite": {**CITE, "required": True}}},
    "cases": {"type": "list", "schema": {"type": "dict", "schema": _SCREENING_CASE}},
}


class _Validator(cerberus.Validator):  # type: ignore[misc]
    types_mapping = cerberus.Validator.types_mapping.copy()
    types_mapping["date"] = cerberus.TypeDefinition("date", (datetime.date,), ())
    # cerberus counts True and False as integers (bool is an int in Python); YAML's true is not a count
    types_mapping["integer"] = cerberus.TypeDefinition("integer", (int,), (bool,))

    def _validate_regex(self, pattern: str, field: str, value: Any) -> None:
        """{'type': 'string'}"""
        # the whole value must match: cerberus' own check lets "name\n" through ($ matches before \n),
        # and names end up in generated code
        if isinstance(value, str) and re.fullmatch(pattern, value) is None:
            self._error(field, cerberus.errors.REGEX_MISMATCH)

    def _validate_finite(self, finite: bool, field: str, value: Any) -> None:
        """{'type': 'boolean'}"""
        if finite and isinstance(value, float) and not math.isfinite(value):
            self._error(field, "must be a finite number")


def check(doc: Any, schema: Mapping[str, Any], located: Located, base: tuple[Any, ...] = (),
          allow_unknown: bool = False) -> list[Problem]:
    """Validate ``doc`` (found at ``base`` in ``located``) and return located problems."""
    if not isinstance(doc, dict):
        return [located.problem(base, "wrong-type", f"expected a mapping, got {_tname(doc)}")]
    if certainly_valid(doc, schema, allow_unknown):
        return []
    v = _validator(schema, allow_unknown)
    try:
        v.validate(doc, normalize=False)
    except (TypeError, RuntimeError):
        # cerberus sorts its errors by path and fails on keys that do not compare (a date next to
        # text, NaN): those keys are the problem
        odd = _odd_keys(doc, base, located)
        if not odd:
            raise
        return odd
    return schema_problems(v._errors, located, base, schema)


# -- a fast path for documents without a problem ---------------------------------------------------
# cerberus spends ~1 ms on a rule of a ruleset (child validators, error trees); most documents have no
# problem at all. certainly_valid answers True only where cerberus would find no error, by the same
# rules (nullable, type by cerberus' own type table, regex as _Validator has it, allowed, min, max,
# minlength, finite, excludes, required, unknown keys, schema, valuesrules, keysrules); anything else,
# or any doubt, is False, and cerberus checks the document and words the problems as before.
_FAST_RULES = frozenset({"type", "required", "schema", "regex", "allowed", "valuesrules", "keysrules", "min",
                         "max", "default", "minlength", "finite", "nullable", "excludes"})


def certainly_valid(doc: Any, fields: Mapping[str, Any], allow_unknown: bool = False) -> bool:
    """True when cerberus would find no error validating the mapping ``doc`` against ``fields`` (False:
    it might, or the schema uses a rule this check does not know).

    >>> certainly_valid({"a": 1}, {"a": {"type": "integer", "min": 0}}), certainly_valid({"a": -1}, {"a": {"min": 0}})
    (True, False)
    """
    return _fast_fields(doc, fields, allow_unknown, _Validator.types_mapping)


def _fast_fields(doc: Any, fields: Any, allow_unknown: bool, types: Mapping[str, Any]) -> bool:
    if not isinstance(doc, Mapping) or not isinstance(fields, Mapping):
        return False
    for name, rules in fields.items():
        if name not in doc and (not isinstance(rules, dict) or rules.get("required", False) is not False):
            return False
    for k, v in doc.items():
        rules = fields.get(k)
        if rules is None:
            if not allow_unknown:
                return False
        elif not _fast_value(v, rules, doc, allow_unknown, types):
            return False
    return True


def _fast_value(v: Any, rules: Any, doc: Any, allow_unknown: bool, types: Mapping[str, Any]) -> bool:
    if not isinstance(rules, dict) or not rules.keys() <= _FAST_RULES:
        return False
    if "excludes" in rules:
        ex = rules["excludes"]
        if doc is None or not isinstance(ex, (str, list)) or any(x in doc for x in ([ex] if isinstance(ex, str) else ex)):
            return False
    if v is None:
        return rules.get("nullable", False) is True
    t = rules.get("type")
    if t:
        for name in (t,) if isinstance(t, str) else t:
            td = types.get(name)
            if td is None:
                return False
            if isinstance(v, td.included_types) and not isinstance(v, td.excluded_types):
                break
        else:
            return False
    try:
        if "regex" in rules and isinstance(v, str) and re.fullmatch(rules["regex"], v) is None:
            return False
        if "allowed" in rules:
            allowed = rules["allowed"]
            if isinstance(v, Iterable) and not isinstance(v, str):
                if any(x not in allowed for x in v):
                    return False
            elif v not in allowed:
                return False
        for bound, outside in (("min", operator.lt), ("max", operator.gt)):
            if bound in rules:
                try:
                    if outside(v, rules[bound]):
                        return False
                except TypeError:  # cerberus lets a value pass that does not compare
                    pass
        if "minlength" in rules and isinstance(v, Iterable) and len(v) < rules["minlength"]:  # type: ignore[arg-type]
            return False
    except Exception:  # a comparison that fails otherwise: let cerberus say what it says
        return False
    if rules.get("finite") and isinstance(v, float) and not math.isfinite(v):
        return False
    sub = rules.get("schema")
    if sub is not None:
        if isinstance(v, Sequence) and not isinstance(v, str):
            if not all(_fast_value(x, sub, None, allow_unknown, types) for x in v):
                return False
        elif isinstance(v, Mapping) and not _fast_fields(v, sub, allow_unknown, types):
            return False
    vr = rules.get("valuesrules")
    if vr is not None and isinstance(v, Mapping) and not all(_fast_value(x, vr, v, allow_unknown, types)
                                                             for x in v.values()):
        return False
    kr = rules.get("keysrules")
    return kr is None or not isinstance(v, Mapping) or all(_fast_value(k, kr, None, allow_unknown, types) for k in v)


#: one validator per (schema, allow_unknown) and thread: cerberus checks a schema when a validator is
#: built (two thirds of the time of a check); a validator is reused, not shared between threads
_LOCAL = threading.local()
_VALIDATORS_MAX = 256


def _validator(schema: Mapping[str, Any], allow_unknown: bool) -> Any:
    """The validator of ``schema``, built once. Keyed on the schema object itself (held here, so that its
    id is not reused): the schemas are module constants and the pipeline's per-method merges, never
    changed after they are made."""
    cache: dict[tuple[int, bool], tuple[Mapping[str, Any], Any]] | None = getattr(_LOCAL, "validators", None)
    if cache is None:
        cache = _LOCAL.validators = {}
    key = (id(schema), allow_unknown)
    hit = cache.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    v = _Validator(dict(schema), allow_unknown=allow_unknown)
    if len(cache) >= _VALIDATORS_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = (schema, v)
    return v


def _odd_keys(doc: Any, base: tuple[Any, ...], located: Located) -> list[Problem]:
    """Every mapping key that is neither text nor a finite integer or number, located."""
    out: list[Problem] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, base)]
    while stack:
        v, path = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                ok = isinstance(k, str) or (isinstance(k, (int, float)) and not isinstance(k, bool)
                                            and math.isfinite(k))
                if not ok:
                    out.append(located.problem((*path, k), "bad-key", f"a key must be text or a number, not "
                                               f"{_tname(k)} ({k!r})", key=True))
                stack.append((x, (*path, k)))
        elif isinstance(v, list):
            stack.extend((x, (*path, i)) for i, x in enumerate(v))
    return out


def schema_problems(errors: Any, located: Located, base: tuple[Any, ...],
                    schema: Mapping[str, Any] | None = None) -> list[Problem]:
    out: list[Problem] = []
    for err in _leaves(errors):
        path = (*base, *err.document_path)
        out.append(_to_problem(err, path, located, schema, tuple(err.document_path)))
    return out


def keys_at(schema: Mapping[str, Any], path: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows in the mapping at ``path`` (relative to ``schema``'s document)."""
    fields: Mapping[str, Any] | None = schema
    rule: Mapping[str, Any] | None = None
    for step in path:
        if fields is not None:
            rule, fields = fields.get(step) if isinstance(step, str) else None, None
            if rule is None:
                return []
            continue
        assert rule is not None
        if isinstance(rule.get("valuesrules"), dict):  # a mapping of names: one rule for every value
            rule = rule["valuesrules"]
        elif isinstance(step, int) and isinstance(rule.get("schema"), dict) and "type" in rule["schema"]:
            rule = rule["schema"]  # a list: its items' rule
        elif isinstance(rule.get("schema"), dict):
            sub = rule["schema"].get(step) if isinstance(step, str) else None
            if sub is None:
                return []
            rule = sub
        else:
            return []
    if fields is not None:
        return sorted(fields)
    sub = (rule or {}).get("schema")
    return sorted(sub) if isinstance(sub, dict) and not ("type" in sub and isinstance(sub.get("type"), str)
                                                          and sub.get("type") in _TYPE_NAMES) else []


_TYPE_NAMES = frozenset({"dict", "list", "string", "number", "integer", "float", "boolean", "date"})

def _leaves(errors: Any) -> list[Any]:
    out = []
    for e in errors:
        if e.is_group_error and e.child_errors:
            out.extend(_leaves(e.child_errors))
        else:
            out.append(e)
    return out


def _tname(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", int: "an integer", float: "a number",
            bool: "a boolean", type(None): "nothing (null)"}.get(type(v), type(v).__name__)


def _tname_zh(v: Any) -> str:
    return {dict: "映射", list: "列表", str: "文本", int: "整数", float: "数值", bool: "布尔值",
            type(None): "空值(null)"}.get(type(v), type(v).__name__)


_WANT_ZH = {"string": "文本", "dict": "映射(键: 值)", "list": "列表", "number": "数值", "integer": "整数",
            "float": "数值", "boolean": "true 或 false", "date": "日期(YYYY-MM-DD)"}
_WANT_EN = {"dict": "a mapping (key: value)", "list": "a list", "string": "text", "number": "a number",
            "integer": "an integer", "float": "a number", "boolean": "true or false", "date": "a date (YYYY-MM-DD)"}


def _number_text(v: Any) -> bool:
    """``v`` is text that reads as a number (``"70"``): a threshold or value written in quotes."""
    if not isinstance(v, str):
        return False
    try:
        float(v)
    except ValueError:
        return False
    return True


def _want_of(schema: Mapping[str, Any] | None, rel: tuple[Any, ...]) -> str:
    """What the rule of the field at ``rel`` takes, in words ('' when not found)."""
    fields: Any = schema
    rule: Any = None
    for step in rel:
        if not isinstance(fields, Mapping) or not isinstance(step, str) or not isinstance(fields.get(step), Mapping):
            return ""
        rule = fields[step]
        fields = rule.get("schema")
    t = rule.get("type") if isinstance(rule, Mapping) else None
    wants = [t] if isinstance(t, str) else list(t or ())
    return " or ".join(_WANT_EN.get(w, w) for w in wants)


def _to_problem(err: Any, path: tuple[Any, ...], located: Located, schema: Mapping[str, Any] | None = None,
                rel: tuple[Any, ...] = ()) -> Problem:
    rule = err.rule
    field = path[-1] if path else "<document>"
    c = cerberus.errors
    if err.code == c.UNKNOWN_FIELD.code:
        hint, hint_zh = did_you_mean(str(field), keys_at(schema, rel[:-1])) if schema is not None else ("", "")
        return located.problem(path, "unknown-key", f"unknown key {field!r}", key=True,
                               message_zh=f"未知的键 {field!r}(此处不允许)", hint=hint, hint_zh=hint_zh)
    if err.code == c.REQUIRED_FIELD.code:
        return located.problem(path[:-1], "missing-key", f"required key {field!r} is missing",
                               message_zh=f"缺少必需的键 {field!r}", hint=f"add '{field}:' here",
                               hint_zh=f"在此处加上 '{field}:'")
    if err.code == c.NOT_NULLABLE.code:  # `key:` with nothing after it, or `~`
        want = _want_of(schema, rel)
        return located.problem(path, "wrong-type", f"{field!r} has no value" + (f"; it takes {want}" if want else ""),
                               message_zh=f"{field!r} 没有值", hint=f"write its value after '{field}:'",
                               hint_zh=f"在 '{field}:' 后写上它的值")
    if err.code == c.BAD_TYPE.code:
        wants = [err.constraint] if isinstance(err.constraint, str) else list(err.constraint)
        want = " or ".join(wants)
        want_en = " or ".join(_WANT_EN.get(w, w) for w in wants)
        want_zh = "或".join(_WANT_ZH.get(w, w) for w in wants)
        hint = hint_zh = ""
        if _number_text(err.value) and any(w in ("number", "integer", "float") for w in wants):
            hint = f"write the number without quotes: {field}: {err.value}"
            hint_zh = f"数值不要加引号: {field}: {err.value}"
        elif isinstance(err.value, (int, float)) and not isinstance(err.value, bool) and "string" in wants:
            hint, hint_zh = f"put it in quotes: {field}: \"{err.value}\"", f"加引号写成文本: {field}: \"{err.value}\""
        elif "dict" in wants and isinstance(err.value, str):
            hint = f"write the keys of {field!r} on the lines below it, indented"
            hint_zh = f"把 {field!r} 的各个键写在下面几行, 并缩进"
        elif "list" in wants and not isinstance(err.value, list):
            hint, hint_zh = "write each item on its own line starting with '- '", "每一项单独一行, 以 '- ' 开头"
        return located.problem(path, "wrong-type", f"{field!r} must be {want}, got {_tname(err.value)}",
                               message_zh=f"{field!r} 应为{want_zh}, 实际是{_tname_zh(err.value)}",
                               hint=hint or f"{field!r} takes {want_en}", hint_zh=hint_zh or f"{field!r} 应写成{want_zh}")
    if err.code == c.UNALLOWED_VALUE.code:
        allowed = ", ".join(str(a) for a in err.constraint)
        close = suggest(str(err.value), [str(a) for a in err.constraint]) if isinstance(err.value, str) else []
        hint = f"did you mean {close[0]!r}?" if close else f"use one of: {allowed}"
        hint_zh = f"是否想写 {close[0]!r}?" if close else f"可选: {allowed}"
        return located.problem(path, "bad-value", f"{field!r} is {err.value!r}; allowed: {allowed}",
                               message_zh=f"{field!r} 的值 {err.value!r} 不允许; 可选: {allowed}",
                               hint=hint, hint_zh=hint_zh)
    if err.code == c.REGEX_MISMATCH.code:
        return located.problem(path, "bad-value", f"{err.value!r} does not match the pattern {err.constraint}",
                               message_zh=f"{err.value!r} 不符合格式 {err.constraint}",
                               hint=_PATTERN_HINTS.get(err.constraint, ("", ""))[0],
                               hint_zh=_PATTERN_HINTS.get(err.constraint, ("", ""))[1])
    if err.code == c.EXCLUDES_FIELD.code:
        return located.problem(path, "conflicting-keys", f"{field!r} cannot be used together with "
                               f"{err.constraint!r}", key=True,
                               message_zh=f"{field!r} 不能与 {err.constraint!r} 同时使用",
                               hint="keep only one of them", hint_zh="只保留其中一个")
    if err.code in (c.MIN_LENGTH.code, c.MAX_LENGTH.code):
        least = err.code == c.MIN_LENGTH.code
        return located.problem(path, "bad-length", f"{field!r} has {len(err.value)} items; "
                               f"{'at least' if least else 'at most'} {err.constraint}",
                               message_zh=f"{field!r} 有 {len(err.value)} 项; {'至少' if least else '至多'} "
                               f"{err.constraint} 项")
    if err.code in (c.MIN_VALUE.code, c.MAX_VALUE.code):
        return located.problem(path, "bad-value", f"{field!r} is out of range ({rule} {err.constraint})",
                               message_zh=f"{field!r} 超出范围({'最小' if rule == 'min' else '最大'} {err.constraint})")
    if rule == "finite" or (err.code == 0 and err.info == ("must be a finite number",)):
        return located.problem(path, "bad-value", f"{field!r} must be a finite number, got {err.value!r}",
                               message_zh=f"{field!r} 须为有限数值, 实际是 {err.value!r}")
    if err.code == c.KEYSRULES.code or rule == "keysrules":
        return located.problem(path, "bad-name", f"name {field!r} is not allowed here", key=True,
                               message_zh=f"此处不允许名称 {field!r}",
                               hint="a name starts with a letter and holds letters, digits and '_'",
                               hint_zh="名称以字母开头, 只含字母、数字和下划线")
    return located.problem(path, "schema", f"{field!r}: {rule} {err.constraint!r} failed",
                           message_zh=f"{field!r}: 不满足 {rule} {err.constraint!r}")


_PATTERN_HINTS: dict[str, tuple[str, str]] = {
    IDENT: ("a name starts with a letter and holds letters, digits and '_'", "名称以字母开头, 只含字母、数字和下划线"),
    RULE_ID: ("an id holds letters, digits and '_', '-', '.'", "编号只含字母、数字和 _ - ."),
    r"^[1-8][0-9]{5}$": ("a six-digit GB/T 2260 area code, e.g. 620400", "六位 GB/T 2260 行政区划代码, 如 620400"),
    r"^[a-z][a-z0-9\-]*$": ("lowercase letters, digits and '-', e.g. lec-generic", "小写字母、数字和 -, 如 lec-generic"),
}
