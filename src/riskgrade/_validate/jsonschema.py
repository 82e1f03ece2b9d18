"""The format as JSON Schema (draft 2020-12), derived from the cerberus schemas of this package.

Editors that read JSON Schema (the YAML language server behind VS Code's YAML extension,
JetBrains IDEs) then complete keys and check a ruleset or layer while it is typed. The
schemas are *derived*, never written by hand: :func:`from_cerberus` translates the cerberus
schemas the compiler validates with, and the rule keys come from each grading method's own
``schema`` (built-in and plugin methods alike), so the two cannot drift apart. The compiler stays
the authority: it also checks what no schema can say (names, bands without gaps, expressions).

Also here: the schema of one ruleset's facts (:func:`facts_schema`, from its ``inputs``) and of the
Assessment JSON (:func:`result_schema`, ``Assessment.to_dict()``).

>>> s = from_cerberus({"x": {"type": "integer", "required": True, "min": 1}})
>>> s["properties"]["x"], s["required"]
({'type': 'integer', 'minimum': 1}, ['x'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from riskgrade._validate import schema as _schema

__all__ = ["DIALECT", "FAILURE_CODES", "enterprise_assessment_schema", "facts_schema", "failure_schema",
           "from_cerberus", "layer_schema", "receipt_schema", "record_schema", "register_schema", "result_schema",
           "ruleset_schema", "verification_schema", "whatif_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "dict": "object",
          "list": "array", "date": "string", "float": "number"}
#: the input types of the format → JSON types of a fact
_FACT_TYPES = {"number": "number", "integer": "integer", "string": "string", "bool": "boolean", "date": "string",
               "record": "object"}
_LEVELS = list(_schema.LEVEL_NAMES)


def _pattern(regex: str) -> str:
    # cerberus (as this package runs it) matches the whole value; say so in the pattern
    return regex if regex.startswith("^") and regex.endswith("$") else f"^(?:{regex})$"


def _one_type(t: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _TYPES.get(t, t)}
    if t == "date":
        out["format"] = "date"
    if t == "dict":
        if "schema" in rule:
            out.update(from_cerberus(rule["schema"]))
        if "keysrules" in rule:
            out["propertyNames"] = _field(rule["keysrules"], names=True)
        if "valuesrules" in rule:
            out["additionalProperties"] = _field(rule["valuesrules"])
        for k, j in (("minlength", "minProperties"), ("maxlength", "maxProperties")):
            if k in rule:
                out[j] = rule[k]
    elif t == "list":
        if "schema" in rule:
            out["items"] = _field(rule["schema"])
        for k, j in (("minlength", "minItems"), ("maxlength", "maxItems")):
            if k in rule:
                out[j] = rule[k]
    elif t == "string":
        if "regex" in rule:
            out["pattern"] = _pattern(rule["regex"])
        for k, j in (("minlength", "minLength"), ("maxlength", "maxLength")):
            if k in rule:
                out[j] = rule[k]
    elif t in ("integer", "number", "float"):
        for k, j in (("min", "minimum"), ("max", "maximum")):
            if k in rule:
                out[j] = rule[k]
    return out


def _field(rule: Mapping[str, Any], *, names: bool = False) -> dict[str, Any]:
    """One cerberus field rule as a JSON Schema."""
    t = rule.get("type")
    types = [t] if isinstance(t, str) else list(t or ())
    if "date" in types and "string" in types:  # a date is written as text in JSON (and YAML 1.2)
        types.remove("date")
    out: dict[str, Any]
    if not types:
        out = {}
    elif len(types) == 1:
        out = _one_type(types[0], rule)
    else:
        alts = [_one_type(x, rule) for x in types]
        simple = all(set(a) <= {"type"} for a in alts)
        out = {"type": sorted({a["type"] for a in alts})} if simple else {"anyOf": alts}
    if "allowed" in rule:
        out["enum"] = list(rule["allowed"])
    if names and "regex" in rule and "pattern" not in out:
        out["pattern"] = _pattern(rule["regex"])
    if rule.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]} if out else {}
    return out


def from_cerberus(schema: Mapping[str, Any], *, allow_unknown: bool = False) -> dict[str, Any]:
    """The JSON Schema of a mapping validated by the cerberus ``schema`` (unknown keys are errors
    unless ``allow_unknown``; ``excludes`` becomes ``dependentSchemas``)."""
    out: dict[str, Any] = {"type": "object", "properties": {k: _field(v) for k, v in schema.items()}}
    required = [k for k, v in schema.items() if v.get("required")]
    if required:
        out["required"] = required
    excl = {k: v["excludes"] for k, v in schema.items() if "excludes" in v}
    if excl:
        out["dependentSchemas"] = {k: {"not": {"required": [v] if isinstance(v, str) else list(v)}}
                                   for k, v in excl.items()}
    if not allow_unknown:
        out["additionalProperties"] = False
    return out


# -- rules -------------------------------------------------------------------------------------------
def _rule_schema(methods: Mapping[str, Mapping[str, Any]], common: Mapping[str, Any]) -> dict[str, Any]:
    """A rule: the common keys, ``method`` one of ``methods``, and that method's keys."""
    names = sorted(methods)
    branches = []
    for name in names:
        then = from_cerberus({**common, **methods[name]})
        then["properties"]["method"] = {"const": name}
        branches.append({"if": {"properties": {"method": {"const": name}}, "required": ["method"]}, "then": then})
    base = from_cerberus(common, allow_unknown=True)
    base["properties"]["method"] = {"enum": names}
    return {**base, "allOf": branches}


def _with_derive(top: dict[str, Any]) -> None:
    top["properties"]["derive"]["additionalProperties"] = {"anyOf": [
        {"type": ["string", "number"]}, from_cerberus(_schema.DERIVE)]}


def ruleset_schema(methods: Mapping[str, Mapping[str, Any]], common_rule_keys: Mapping[str, Any],
                   sections: Iterable[str] = (), *, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of a ruleset file: ``methods`` maps each method name to the cerberus schema of its
    rule keys, ``common_rule_keys`` the keys every rule has; ``sections`` are the optional top-level
    sections of later stages (``rollup``, ``warnings``), accepted as they are."""
    top = from_cerberus(_schema.TOP)
    top["properties"]["rules"]["items"] = _rule_schema(methods, common_rule_keys)
    _with_derive(top)
    for s in sorted(sections):
        top["properties"][s] = {}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade ruleset (format 1)",
            "description": "A riskgrade ruleset file (kind: ruleset); see docs/ruleset-format.md.", **top}


def layer_schema(layer: Mapping[str, Any], methods: Mapping[str, Mapping[str, Any]],
                 common_rule_keys: Mapping[str, Any], criterion: Mapping[str, Any] | None = None,
                 *, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of a jurisdiction layer file (``kind: layer``) from its cerberus schema ``layer``;
    added ``rules`` are checked like a ruleset's, added ``criteria`` like a composite rule's."""
    top = from_cerberus(layer)
    props = top["properties"]
    props["rules"]["items"] = _rule_schema(methods, common_rule_keys)
    if criterion is not None:
        props["criteria"]["additionalProperties"]["items"] = _field(criterion)
    _with_derive(top)
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade jurisdiction layer (format 1)",
            "description": "A riskgrade layer file (kind: layer): a city or county refines a ruleset; "
                           "see docs/jurisdictions.md.", **top}


# -- facts -------------------------------------------------------------------------------------------
def _value_schema(spec: Mapping[str, Any], table_keys: Mapping[str, list[Any]], lang: str = "zh") -> dict[str, Any]:
    t = spec.get("type")
    out: dict[str, Any]
    if t == "list":
        fields = spec.get("fields")
        if fields is None:
            items = {"type": _FACT_TYPES.get(str(spec.get("items", "string")), "string")}
            if spec.get("items") == "date":
                items["format"] = "date"
        else:
            items = _record_schema(fields, table_keys, lang)
        out = {"type": "array", "items": items}
        if "min_items" in spec:
            out["minItems"] = spec["min_items"]
        if "max_items" in spec:
            out["maxItems"] = spec["max_items"]
    elif t == "enum":
        out = {"type": ["string", "number"]}
    else:
        out = {"type": _FACT_TYPES.get(str(t), "string")}
        if t == "date":
            out["format"] = "date"
        if t in ("number", "integer"):
            if "min" in spec:
                out["minimum"] = spec["min"]
            if "max" in spec:
                out["maximum"] = spec["max"]
    vals = spec.get("values")
    if vals is not None and t != "list":
        out["enum"] = list(vals.keys() if isinstance(vals, Mapping) else vals)
    elif spec.get("table") in table_keys and t != "list":
        out["enum"] = list(table_keys[spec["table"]])
    label = spec.get("label")
    if isinstance(label, Mapping):
        other = "en" if lang == "zh" else "zh"
        out["title"] = str(label.get(lang) or label.get(other) or "")
        if label.get(lang) and label.get(other):
            out["description"] = str(label[other])
    elif label:
        out["title"] = str(label)
    if "default" in spec:
        out["default"] = spec["default"]
    if "default" in spec or spec.get("required") is False:
        out = {"anyOf": [out, {"type": "null"}], **{k: out[k] for k in ("title", "description", "default")
                                                    if k in out}}
    return out


def _record_schema(fields: Mapping[str, Any], table_keys: Mapping[str, list[Any]], lang: str) -> dict[str, Any]:
    props = {name: _value_schema(f, table_keys, lang) for name, f in fields.items()}
    required = [n for n, f in fields.items() if "default" not in f and f.get("required", True)]
    out: dict[str, Any] = {"type": "object", "properties": props, "patternProperties": {"^_": {}},
                           "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def facts_schema(inputs: Mapping[str, Mapping[str, Any]], *, extra_facts: str = "reject",
                 table_keys: Mapping[str, list[Any]] | None = None, title: str = "",
                 id: str | None = None, lang: str = "zh") -> dict[str, Any]:
    """The JSON Schema of one record of facts for a ruleset with these ``inputs``: types, allowed
    values (``values``, or the keys of the input's table in ``table_keys``), min/max, required or
    default, list items and records. ``id`` and ``name`` (which name the record) and keys starting
    with ``_`` are always allowed; other keys only when ``extra_facts`` is ``ignore``. Each input's
    ``title`` is its label in ``lang`` (the ``description`` in the other language)."""
    tk = table_keys or {}
    props: dict[str, Any] = {"id": {}, "name": {}}
    props.update({name: _value_schema(spec, tk, lang) for name, spec in inputs.items()})
    required = [n for n, s in inputs.items() if "default" not in s and s.get("required", True)]
    out: dict[str, Any] = {"$schema": DIALECT, **({"$id": id} if id else {}),
                           "title": title or "riskgrade facts", "type": "object", "properties": props,
                           "patternProperties": {"^_": {}}, "additionalProperties": extra_facts == "ignore"}
    if required:
        out["required"] = required
    return out


# -- results -----------------------------------------------------------------------------------------
def result_schema(*, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of ``Assessment.to_dict()`` / ``riskgrade grade --format json`` (result schema 1;
    fields may be added within a schema version, so other keys are allowed)."""
    text = {"type": "string"}
    citation = {"type": "object", "required": ["source", "title", "number", "clause", "basis", "status", "layer"],
                "properties": {"source": text, "title": text, "number": text, "clause": text,
                               "basis": {"enum": ["clause", "derived", "local"]},
                               "status": {"enum": ["verified", "unverified", "partial", "superseded"]},
                               "layer": text, "note": text}}
    fired = {"type": "object", "required": ["id", "level", "label", "detail", "citation"],
             "properties": {"id": {"type": "string", "pattern": _pattern(_schema.RULE_ID)},
                            "level": {"enum": _LEVELS}, "label": text, "detail": text, "citation": citation}}
    ref = {"type": "object", "required": ["id", "version", "edition", "jurisdiction", "fingerprint", "layers"],
           "properties": {"id": text, "version": text, "edition": text,
                          "jurisdiction": {"type": "string", "pattern": "^[0-9]{6}$"},
                          "fingerprint": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                          "layers": {"type": "array", "items": text}}}
    step = {"type": "object", "required": ["kind", "name", "text"],
            "properties": {"kind": {"enum": ["input", "derive", "rule", "decision", "layer", "link"]}, "name": text,
                           "text": text}}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade assessment (result schema 1)",
            "description": "Assessment.to_dict(); see docs/api.md.",
            "type": "object",
            "required": ["schema", "level", "level_zh", "score", "values", "inputs", "fired", "ruleset"],
            "properties": {
                "schema": {"const": 1},
                "level": {"enum": _LEVELS},
                "level_zh": {"enum": ["重大风险", "较大风险", "一般风险", "低风险"]},
                "score": {"type": ["number", "null"]},
                "values": {"type": "object", "propertyNames": {"pattern": _pattern(_schema.IDENT)}},
                "inputs": {"type": "object", "propertyNames": {"pattern": _pattern(_schema.IDENT)}},
                "fired": {"type": "array", "items": fired},
                "ruleset": ref,
                "trace": {"type": "array", "items": step},
                "receipt": receipt_schema(ref),
            }}


_SHA256 = {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}


def receipt_schema(ref: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``receipt`` of a result (``Assessment.receipt()``, docs/platform.md)."""
    text = {"type": "string"}
    plugin = {"type": "object", "required": ["name", "dist", "version"],
              "properties": {"name": text, "dist": text, "version": text}, "additionalProperties": False}
    return {"type": "object", "required": ["receipt", "id", "riskgrade", "plugins", "ruleset", "inputs_sha256"],
            "properties": {"receipt": {"const": 1}, "id": _SHA256, "riskgrade": text,
                           "plugins": {"type": "array", "items": plugin},
                           "ruleset": dict(ref) if ref is not None else {"type": "object"},
                           "inputs_sha256": _SHA256, "facts_sha256": _SHA256},
            "additionalProperties": False}


#: the codes of an exit-3 error record (code failed, not the input)
FAILURE_CODES = ("function-error", "plugin-error", "internal-error")


def failure_schema() -> dict[str, Any]:
    """An exit-3 error record that belongs to no one input record: a function, a plugin's hook or riskgrade
    itself failed (``function-error`` names the function, plugin, rule; ``plugin-error`` the plugin and
    hook; ``internal-error`` the exception's type)."""
    opt_text = {"type": ["string", "null"]}
    return {"title": "a function, plugin or riskgrade itself failed (exit 3)", "type": "object",
            "required": ["error", "message"],
            "properties": {"error": {"enum": list(FAILURE_CODES)}, "message": {"type": "string"},
                           "function": opt_text, "plugin": opt_text, "rule": opt_text, "rule_file": opt_text,
                           "rule_line": {"type": ["integer", "null"]}, "hook": {"type": "string"},
                           "exception": {"type": "string"}},
            "additionalProperties": False}


def record_schema(*, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one line of ``riskgrade grade|explain --format json`` (and of one item of
    ``POST /v1/grade``): a result with its position, an error record (bad record, or a function or plugin
    that failed on it), or a load error (the ruleset or the whole facts file could not be used: no
    position)."""
    text = {"type": "string"}
    opt_text = {"type": ["string", "null"]}
    position = {"index": {"type": "integer", "minimum": 0}, "line": {"type": "integer", "minimum": 1},
                "record": text, "id": {"type": ["string", "integer"]}}
    result = result_schema()
    ok = {"title": "a result", "allOf": [{"$ref": "#/$defs/result"}],
          "required": ["index", "record"],
          "properties": {**position, "facts": {"type": "object", "description": "the facts as given (--with-input)"}}}
    bad = {"title": "an error record (the record is wrong: exit 1)", "type": "object",
           "required": ["error", "message", "index", "record", "field"],
           "properties": {**position, "error": {"type": "string", "not": {"enum": ["function-error", "load"]}},
                          "message": text, "field": opt_text},
           "additionalProperties": False}
    crash = {"title": "a function or plugin failed on this record (exit 3)", "type": "object",
             "required": ["error", "message", "index", "record", "function", "plugin", "rule"],
             "properties": {**position, "error": {"const": "function-error"}, "message": text,
                            "function": opt_text, "plugin": opt_text, "rule": opt_text, "rule_file": opt_text,
                            "rule_line": {"type": ["integer", "null"]}},
             "additionalProperties": False}
    problem = {"type": "object", "required": ["code", "message"],
               "properties": {"code": text, "message": text, "file": opt_text, "line": {"type": ["integer", "null"]},
                              "col": {"type": ["integer", "null"]}}}
    load = {"title": "a load error: the ruleset or the whole facts file cannot be used (exit 2); no position",
            "type": "object", "required": ["error", "load", "message"],
            "properties": {"error": text, "load": {"enum": ["ruleset", "facts"]}, "message": text,
                           "record": opt_text, "field": opt_text, "problems": {"type": "array", "items": problem}},
            "additionalProperties": False}
    defs = {k: v for k, v in result.items() if k not in ("$schema", "$id")}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade record (one JSON line of grade/explain --format json)",
            "description": "N inputs give N records, in input order; see docs/platform.md.",
            "$defs": {"result": defs},
            "oneOf": [ok, bad, crash, load, failure_schema()]}


def verification_schema(*, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one line of ``riskgrade verify --format json``: a stored result line replayed
    (docs/platform.md), with the stored line's position, or a load error (the results file cannot be read)."""
    opt_text = {"type": ["string", "null"]}
    line = {"title": "one stored line, replayed", "type": "object",
            "required": ["status", "reason", "message", "receipt_id", "index", "record"],
            "properties": {"status": {"enum": ["identical", "differs", "cannot-replay", "no-decision"]},
                           "reason": opt_text, "message": {"type": "string"},
                           "receipt_id": {"oneOf": [_SHA256, {"type": "null"}]},
                           "index": {"type": "integer", "minimum": 0}, "line": {"type": "integer", "minimum": 1},
                           "record": {"type": "string"}, "id": {"type": ["string", "integer"]}},
            "additionalProperties": False}
    load = {"title": "a load error: the results file cannot be read (exit 2)", "type": "object",
            "required": ["error", "load", "message"],
            "properties": {"error": {"type": "string"}, "load": {"const": "results"}, "message": {"type": "string"},
                           "record": opt_text, "field": opt_text},
            "additionalProperties": False}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade verification (one JSON line of riskgrade verify --format json)",
            "description": "N stored lines give N lines, in order; see docs/platform.md.",
            "oneOf": [line, load, failure_schema()]}


def whatif_schema(*, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one answer of ``riskgrade whatif --format json`` (and of ``POST /v1/whatif``):
    the record's level, the target, the ranked options (each change as ``[from, to]``), how many records
    the search graded and whether it was complete; ``more`` options were left out (``--limit``)."""
    option = {"type": "object", "required": ["changes", "level", "distance", "explanation"],
              "properties": {"changes": {"type": "object",
                                         "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2}},
                             "level": {"enum": _LEVELS}, "distance": {"type": "number"},
                             "explanation": {"type": "array", "items": {"type": "string"}}}}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade what-if answer (one record)",
            "type": "object", "required": ["level", "target", "options", "evaluated", "complete", "more"],
            "properties": {"level": {"enum": _LEVELS}, "target": {"enum": _LEVELS},
                           "options": {"type": "array", "items": option},
                           "evaluated": {"type": "integer", "minimum": 0}, "complete": {"type": "boolean"},
                           "more": {"type": "integer", "minimum": 0}, "record": {"type": "string"},
                           "index": {"type": "integer", "minimum": 0}, "id": {"type": ["string", "integer"]}}}


def enterprise_assessment_schema(*, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of ``EnterpriseAssessment.to_dict()`` (``riskgrade assess --format json``,
    ``POST /v1/assess``; schema ``riskgrade.enterprise-assessment/1``, docs/enterprise.md)."""
    counts = {"type": "object", "properties": {lv: {"type": "integer", "minimum": 0} for lv in _LEVELS}}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade enterprise assessment (riskgrade.enterprise-assessment/1)",
            "type": "object",
            "required": ["schema", "as_of", "as_of_defaulted", "enterprise", "level", "inherent_level", "rollup",
                         "rulesets", "counts", "chain", "nodes"],
            "properties": {
                "schema": {"const": "riskgrade.enterprise-assessment/1"},
                "as_of": {"type": "string", "format": "date"}, "as_of_defaulted": {"type": "boolean"},
                "enterprise": {"type": "object", "required": ["id", "name", "jurisdiction"],
                               "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
                "level": {"enum": _LEVELS}, "inherent_level": {"enum": _LEVELS},
                "rulesets": {"type": "object"},
                "counts": {"type": "object", "required": ["level", "inherent"],
                           "properties": {"level": counts, "inherent": counts}},
                "chain": {"type": "array", "items": {"type": "object", "required": ["node", "kind", "level", "by"],
                                                     "properties": {"level": {"enum": _LEVELS}}}},
                "nodes": {"type": "object", "additionalProperties": {"type": "object"}},
            }}


def register_schema(*, id: str | None = None) -> dict[str, Any]:
    """The JSON Schema of an enterprise register as JSON (the body of ``POST /v1/assess``): its top-level
    keys (docs/enterprise.md); the register loader checks every record and field in full."""
    items = {"type": "array", "items": {"type": "object"}}
    return {"$schema": DIALECT, **({"$id": id} if id else {}),
            "title": "riskgrade enterprise register", "type": "object", "required": ["id", "name"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                           "jurisdiction": {"type": ["string", "integer"]}, "ruleset": {"type": "string"},
                           "sectors": {"type": "array", "items": {"type": "string"}},
                           **{k: items for k in ("units", "risk_points", "hazards", "hidden_dangers",
                                                 "monitoring_points", "accidents", "dependencies")}}}
