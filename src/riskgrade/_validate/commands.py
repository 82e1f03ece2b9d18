"""The JSON Schemas (draft 2020-12) of what every command prints under ``--format json``
(``riskgrade schema KIND``; the table in docs/integration.md).

Each schema describes one JSON line of a command that prints JSON Lines (``validate``, ``test``,
``whatif``, ``monitor``) or the one document of a command that prints one (``list``, ``assess``,
``region``, ``plan``, ``screen``, ``diff``, ``check-refinement``, ``plugins``, and the commands that
write files -- ``map``, ``register``, ``card``, ``report``, ``adapt import``/``export`` (kinds
``adapt-import``, ``adapt-export``) -- whose document records what was written: path, format, bytes,
sha256). Every one of them also admits the command's load error -- the input named for use cannot be
used (a missing file, bad YAML, a broken ruleset or register) or the output cannot be written:
``{"error": code, "load": what, "message": ...}``, printed on stdout in the place of the output it
stops, with exit 2 -- and its failure: ``{"error": "function-error" | "plugin-error" |
"internal-error", "message": ...}``, code failed, exit 3. Results may gain keys within a schema
version, so the top level of a result allows other keys; error records do not.

>>> sorted(COMMAND_SCHEMAS)[:3]
['adapt-export', 'adapt-import', 'assess']
>>> command_schema("whatif")["title"]
'riskgrade whatif --format json (one line per record)'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from riskgrade._validate import jsonschema as _js

__all__ = ["COMMAND_SCHEMAS", "LOAD_WHAT", "command_schema", "load_error_schema"]

_TEXT: dict[str, Any] = {"type": "string"}
_OPT_TEXT: dict[str, Any] = {"type": ["string", "null"]}
_OPT_INT: dict[str, Any] = {"type": ["integer", "null"]}
_INT0: dict[str, Any] = {"type": "integer", "minimum": 0}
_LEVEL: dict[str, Any] = {"enum": list(_js._LEVELS)}
_BILINGUAL: dict[str, Any] = {"type": "object", "required": ["zh", "en"], "properties": {"zh": _TEXT, "en": _TEXT}}
_CODE: dict[str, Any] = {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}
_ID: dict[str, Any] = {"type": ["string", "integer"]}

#: what a load error names as the thing that could not be used (``load``)
LOAD_WHAT = ("enterprise", "events", "facts", "file", "layer", "monitor", "output", "project", "register",
             "results", "ruleset", "state", "supervision")

#: a problem as ``Problem.to_dict()`` writes it (validate) or as ``test`` and load errors shorten it
_PROBLEM: dict[str, Any] = {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": _TEXT, "message": _TEXT, "file": _OPT_TEXT, "line": _OPT_INT, "col": _OPT_INT,
                   "severity": {"enum": ["error", "warning"]}, "message_zh": _TEXT, "hint": _TEXT, "hint_zh": _TEXT},
    "additionalProperties": False}


def load_error_schema() -> dict[str, Any]:
    """A load error: what could not be used (``load``), the code (docs/errors.md) and the message, with
    the file (or the record and field) and, for a broken ruleset, every problem with file:line:col."""
    return {"title": "a load error: the input named for use cannot be used (exit 2)", "type": "object",
            "required": ["error", "load", "message"],
            "properties": {"error": _CODE, "load": {"enum": list(LOAD_WHAT)}, "message": _TEXT,
                           "file": _OPT_TEXT, "record": _OPT_TEXT, "field": _OPT_TEXT,
                           "problems": {"type": "array", "items": _PROBLEM},
                           "index": _INT0, "line": {"type": "integer", "minimum": 1}, "id": _ID},
            "additionalProperties": False}


def _doc(title: str, description: str, *variants: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": _js.DIALECT, "title": title, "description": description,
            "$defs": {"load_error": load_error_schema(), "failure": _js.failure_schema()},
            "oneOf": [*variants, {"$ref": "#/$defs/load_error"}, {"$ref": "#/$defs/failure"}]}


def _obj(required: list[str], properties: dict[str, Any], *, closed: bool = False,
         title: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if title:
        out["title"] = title
    if closed:
        out["additionalProperties"] = False
    return out


def validate_schema() -> dict[str, Any]:
    """One line of ``riskgrade validate --format json``: one file, valid or not, its errors and warnings."""
    problems = {"type": "array", "items": _PROBLEM}
    line = _obj(["file", "valid", "errors", "warnings", "more"],
                {"file": _TEXT, "valid": {"type": "boolean"}, "errors": problems, "warnings": problems,
                 "more": _INT0}, closed=True, title="one file checked (exit 1 when a file has errors)")
    return _doc("riskgrade validate --format json (one line per file)",
                "One line per ruleset-language file, in the order of the paths (directories walked sorted).", line)


def cases_schema() -> dict[str, Any]:
    """One line of ``riskgrade test --format json``: one file's cases and coverage, or why it did not load."""
    case = _obj(["index", "note", "ok", "file", "line", "want", "got", "problems"],
                {"index": _INT0, "note": _TEXT, "ok": {"type": "boolean"}, "file": _TEXT, "line": _OPT_INT,
                 "want": {"type": "object"}, "got": {"type": "object"},
                 "problems": {"type": "array", "items": _TEXT}}, closed=True)
    counts = {"type": "object", "additionalProperties": _INT0}
    cov = _obj(["rules", "uncovered", "percent", "cases"],
               {"rules": counts, "uncovered": {"type": "array", "items": _TEXT},
                "percent": {"type": "number", "minimum": 0, "maximum": 100},
                "bands": {"type": "object"}, "criteria": {"type": "object"},
                "uncovered_items": {"type": "array", "items": _TEXT}, "cases": _INT0})
    tested = _obj(["file", "ruleset", "version", "edition", "cases", "coverage", "problems"],
                  {"file": _TEXT, "ruleset": _TEXT, "version": _TEXT, "edition": _TEXT,
                   "cases": {"type": "array", "items": case}, "coverage": cov,
                   "problems": {"type": "array", "items": _PROBLEM}}, closed=True,
                  title="one file's cases (exit 1 when a case fails or coverage is short)")
    return _doc("riskgrade test --format json (one line per file)",
                "One line per ruleset or layer file, in the order of the paths; a file that does not load is a "
                "load error (load: ruleset, its problems listed).", tested)


def check_refinement_schema() -> dict[str, Any]:
    """``riskgrade check-refinement --format json``: the static and differential checks, step by step."""
    counterexample = {"oneOf": [{"type": "null"}, _obj(
        ["facts", "base_level", "refined_level", "refined_error", "found_by"],
        {"facts": {"type": "object"}, "base_level": _LEVEL, "refined_level": {"enum": [*_js._LEVELS, None]},
         "refined_error": _OPT_TEXT, "found_by": _TEXT})]}
    step = _obj(["from", "to", "ok", "cases", "examples", "counterexample"],
                {"from": _TEXT, "to": _TEXT, "ok": {"type": "boolean"}, "cases": _INT0, "examples": _INT0,
                 "counterexample": counterexample}, closed=True)
    report = _obj(["ruleset", "jurisdiction", "ok", "static", "differential"],
                  {"ruleset": _TEXT, "jurisdiction": {"type": "string", "pattern": "^[0-9]{6}$"},
                   "ok": {"type": "boolean"},
                   "static": _obj(["ok", "problems", "unproven"],
                                  {"ok": {"type": "boolean"}, "problems": {"type": "array", "items": _TEXT},
                                   "unproven": {"type": "array", "items": _TEXT}}, closed=True),
                   "differential": {"type": "array", "items": step},
                   "layers": {"type": "array", "items": _TEXT}}, closed=True,
                  title="the report (exit 1 when ok is false)")
    return _doc("riskgrade check-refinement --format json",
                "One document: the static check and each differential step from the province down.", report)


def list_schema() -> dict[str, Any]:
    """``riskgrade list --format json``: the shipped rulesets."""
    announced = _obj(["edition"], {"edition": _TEXT, "effective": _OPT_TEXT})
    item = _obj(["id", "edition", "effective", "sector", "title", "version", "completeness", "announced"],
                {"id": _TEXT, "edition": _TEXT, "effective": _OPT_TEXT, "sector": _TEXT,
                 "title": {"oneOf": [_BILINGUAL, _TEXT]}, "version": _TEXT,
                 "completeness": {"oneOf": [{"type": "null"}, _obj(["encoded"], {"encoded": _INT0,
                                                                                 "in_standard": _OPT_INT})]},
                 "announced": {"type": "array", "items": announced}})
    return _doc("riskgrade list --format json", "One array of the shipped rulesets, by sector then id.",
                {"type": "array", "items": item, "title": "the shipped rulesets"})


def whatif_schema() -> dict[str, Any]:
    """One line of ``riskgrade whatif --format json``: an answer, an error record, or a function error."""
    answer = _js.whatif_schema()
    answer = {k: v for k, v in answer.items() if k not in ("$schema", "$id", "title")}
    answer["required"] = [*answer["required"], "index", "record"]
    answer["properties"] = {**answer["properties"], "line": {"type": "integer", "minimum": 1}}
    answer["title"] = "the options of one record"
    record = _js.record_schema()
    bad, crash = record["oneOf"][1], record["oneOf"][2]
    return _doc("riskgrade whatif --format json (one line per record)",
                "N records in, N lines out, in input order; each carries index, record, line (files) and id.",
                answer, bad, crash)


def screen_schema() -> dict[str, Any]:
    """``riskgrade screen --format json``: the admission decision, its reasons and conditions."""
    citation = _js.result_schema()["properties"]["fired"]["items"]["properties"]["citation"]
    decision = {"enum": ["pass", "conditions", "reject"]}
    reason = _obj(["id", "rule", "item", "decision", "label", "detail", "citation"],
                  {"id": _TEXT, "rule": _TEXT, "item": _OPT_TEXT, "decision": decision, "label": _BILINGUAL,
                   "detail": _TEXT, "citation": citation}, closed=True)
    condition = _obj(["rule", "text", "citation", "reasons"],
                     {"rule": _TEXT, "text": _BILINGUAL, "citation": citation,
                      "reasons": {"type": "array", "items": _TEXT}}, closed=True)
    ref = _js.result_schema()["properties"]["ruleset"]
    out = _obj(["project", "decision", "decision_text", "reasons", "conditions", "default", "ruleset", "values"],
               {"project": _TEXT, "decision": decision, "decision_text": _TEXT,
                "reasons": {"type": "array", "items": reason}, "conditions": {"type": "array", "items": condition},
                "default": {"oneOf": [{"type": "null"}, citation]}, "ruleset": ref, "values": {"type": "object"}},
               title="the decision (exit 1 for conditions or reject)")
    return _doc("riskgrade screen --format json", "One document: the project's admission decision.", out)


def diff_schema() -> dict[str, Any]:
    """``riskgrade diff --format json``: what changed from OLD to NEW, and over a population."""
    side = _obj(["id", "version", "fingerprint", "jurisdiction", "layers"],
                {"id": _TEXT, "version": _TEXT, "fingerprint": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                 "jurisdiction": _TEXT, "layers": {"type": "array", "items": _TEXT}})
    change = _obj(["kind", "op", "name"], {"kind": _TEXT, "op": {"enum": ["added", "removed", "changed"]},
                                           "name": _TEXT, "field": _TEXT, "old": {}, "new": {}}, closed=True)
    # a record that one side cannot grade (a missing or disallowed fact there) has the level "error"
    graded = {"enum": [*_js._LEVELS, "error"]}
    example = _obj(["facts", "old", "new"], {"facts": {"type": "object"}, "old": graded, "new": graded,
                                             "old_error": _TEXT, "new_error": _TEXT})
    population = _obj(["records", "changed", "transitions", "unchanged", "examples", "source"],
                      {"records": _INT0, "changed": _INT0,
                       "transitions": {"type": "object",
                                       "propertyNames": {"pattern": "^(RED|ORANGE|YELLOW|BLUE|error)->"
                                                                    "(RED|ORANGE|YELLOW|BLUE|error)$"},
                                       "additionalProperties": _INT0},
                       "unchanged": {"type": "object", "propertyNames": graded, "additionalProperties": _INT0},
                       "examples": {"type": "array", "items": example},
                       "source": {"enum": ["given", "all combinations", "seeded sample"]},
                       "errors": {"type": "array", "items": _js.record_schema()["oneOf"][1],
                                  "description": "--facts: every record that could not be read (blank, not "
                                                 "JSON, not an object), with its position; records + errors "
                                                 "= the records given"}})
    out = _obj(["old", "new", "changes"], {"old": side, "new": side, "changes": {"type": "array", "items": change},
                                           "population": population}, title="the differences")
    return _doc("riskgrade diff --format json", "One document: the item changes and the population's transitions.",
                out)


def _register_error() -> dict[str, Any]:
    """A register that could not be assessed (``region``, ``plan``, ``assess``): its file and why."""
    return _obj(["file", "error", "message"],
                {"file": _TEXT, "error": {"type": "string", "pattern": "^[A-Za-z]+$"}, "message": _TEXT,
                 "code": _TEXT, "record": {"type": ["string", "integer", "null"]}, "field": _OPT_TEXT},
                closed=True, title="a register that could not be assessed")


def assess_schema() -> dict[str, Any]:
    """``riskgrade assess --format json``: the enterprise assessment with its supervision, or its errors."""
    ent = _js.enterprise_assessment_schema()
    ent = {k: v for k, v in ent.items() if k not in ("$schema", "$id")}
    ent["required"] = [*ent["required"], "supervision"]
    ent["properties"] = {**ent["properties"], "supervision": {"type": "object"}}
    errors = _obj(["errors"], {"errors": {"type": "array", "minItems": 1, "items": _register_error()}}, closed=True,
                  title="the register could not be assessed (exit 2)")
    return _doc("riskgrade assess --format json", "One document: the assessment, or the register's errors.",
                ent, errors)


def region_schema() -> dict[str, Any]:
    """``riskgrade region --format json``: counts per county, city and province, and every error record."""
    counts = {"type": "object", "propertyNames": _LEVEL, "additionalProperties": _INT0}
    region = _obj(["by_level"], {"by_level": counts, "by_sector": {"type": "object", "additionalProperties": counts}})
    ent = _obj(["level", "inherent_level", "jurisdiction", "name"],
               {"level": _LEVEL, "inherent_level": _LEVEL, "jurisdiction": _TEXT, "name": _TEXT,
                "sectors": {"type": "array", "items": _TEXT}})
    out = _obj(["schema", "as_of", "files", "registers", "enterprises", "regions", "errors", "legend"],
               {"schema": {"const": "riskgrade.region/1"}, "as_of": {"type": "string", "format": "date"},
                "files": _INT0, "registers": _INT0, "enterprises": {"type": "object", "additionalProperties": ent},
                "regions": {"type": "object", "additionalProperties": region},
                "errors": {"type": "array", "items": _register_error()}, "legend": {"type": "object"}},
               title="the regional table (exit 2 when a file failed: its error record is listed)")
    return _doc("riskgrade region --format json", "One document (riskgrade.region/1).", out)


def plan_schema() -> dict[str, Any]:
    """``riskgrade plan --format json``: the year's enforcement plan, per enterprise and per department."""
    department = _obj(["zh", "en"], {"zh": _TEXT, "en": _TEXT, "role": _TEXT})
    ent = _obj(["id", "name", "sector", "level", "inspections", "months", "departments", "items"],
               {"id": _TEXT, "name": _TEXT, "sector": _TEXT, "level": _LEVEL, "inspections": _INT0,
                "months": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 12}},
                "departments": {"type": "array", "items": department}, "items": {"type": "array", "items": _TEXT}})
    finding = _obj(["code", "message"], {"code": _TEXT, "message": _TEXT}, title="a finding about an enterprise")
    out = _obj(["schema", "year", "jurisdiction", "enterprises", "totals", "inspections", "errors", "outside"],
               {"schema": {"const": "riskgrade.enforcement-plan/1"}, "year": {"type": "integer"},
                "jurisdiction": _OPT_TEXT, "enterprises": {"type": "array", "items": ent},
                "totals": {"type": "object", "additionalProperties": _obj(["enterprises", "inspections"],
                                                                          {"enterprises": _INT0, "inspections": _INT0,
                                                                           "en": _TEXT})},
                "inspections": _INT0, "errors": {"type": "array", "items": {"anyOf": [_register_error(), finding]}},
                "outside": {"type": "array", "items": _TEXT}},
               title="the plan (exit 1 for a finding, 2 when a register failed)")
    return _doc("riskgrade plan --format json", "One document (riskgrade.enforcement-plan/1).", out)


def plugins_schema() -> dict[str, Any]:
    """``riskgrade plugins --format json``: the installed plugins and what each contributes."""
    names = {"type": "array", "items": _TEXT}
    layer = {"oneOf": [_obj(["id", "jurisdiction", "refines", "versions", "file"],
                            {"id": _TEXT, "jurisdiction": _TEXT, "refines": _TEXT, "versions": _TEXT, "file": _TEXT}),
                       _obj(["error"], {"error": _TEXT}, closed=True)]}
    item = _obj(["name", "distribution", "version", "module", "hooks", "layers", "functions", "methods",
                 "rollup_modifiers"],
                {"name": _TEXT, "distribution": _TEXT, "version": _TEXT, "module": _TEXT, "hooks": names,
                 "layers": {"type": "array", "items": layer}, "functions": names, "methods": names,
                 "rollup_modifiers": names}, closed=True)
    return _doc("riskgrade plugins --format json", "One array of the installed plugins.",
                {"type": "array", "items": item, "title": "the installed plugins"})


def monitor_schema() -> dict[str, Any]:
    """One line of ``riskgrade monitor`` (``--format jsonl``): a warning raised or cleared, a level change,
    a hidden danger's new state, an error record (an event that could not be used), or the load error."""
    cite = _obj(["source", "clause"], {"source": _TEXT, "clause": _TEXT, "title": _TEXT, "number": _TEXT,
                                       "basis": _TEXT, "status": _TEXT, "layer": _TEXT})
    warning = _obj(["rule", "key", "kind", "level", "message", "cite", "effect", "raised_at", "values"],
                   {"rule": _TEXT, "key": _TEXT, "kind": _TEXT, "level": _LEVEL, "message": _BILINGUAL, "cite": cite,
                    "effect": _obj(["nodes", "raise"], {"nodes": {"type": "array", "items": _TEXT}, "raise": _INT0}),
                    "raised_at": _TEXT, "cleared_at": _TEXT, "values": {"type": "object"}}, closed=True)
    line = {"type": "integer", "minimum": 1}
    alert = _obj(["kind", "time", "warning"], {"kind": {"enum": ["warning_raised", "warning_cleared"]},
                                               "time": _TEXT, "line": line, "warning": warning}, closed=True,
                 title="a warning raised or cleared")
    change = _obj(["kind", "node", "from", "to", "time", "cause"],
                  {"kind": {"const": "level_changed"}, "node": _TEXT, "from": _LEVEL, "to": _LEVEL, "time": _TEXT,
                   "cause": _TEXT}, closed=True, title="a node's dynamic level changed")
    hd = _obj(["kind", "time", "hidden_danger", "event", "target", "grade", "status", "found", "deadline", "closed"],
              {"kind": {"const": "hidden_danger"}, "time": _TEXT, "line": line, "hidden_danger": _TEXT,
               "event": _TEXT, "target": _TEXT, "grade": {"enum": ["major", "general"]}, "status": _TEXT,
               "found": _TEXT, "deadline": _OPT_TEXT, "closed": _OPT_TEXT}, closed=True,
              title="a hidden danger reported, rectified or verified")
    error = _obj(["kind", "line", "field", "error", "message"],
                 {"kind": {"const": "error"}, "line": {"oneOf": [line, {"type": "string", "pattern": r"^[0-9]+\[[0-9]+\]$"},
                                                                 {"type": "null"}]},
                  "field": _OPT_TEXT, "error": _CODE, "message": _TEXT}, closed=True,
                 title="an event that could not be used (exit 1): its line (line[i] in an array) and field")
    load = _obj(["kind", "load", "error", "message"],
                {"kind": {"const": "error"}, "load": {"const": "monitor"}, "error": _TEXT, "message": _TEXT},
                closed=True, title="the ruleset, register, events file or state cannot be used (exit 2)")
    failure = _js.failure_schema()
    failure = {**failure, "required": ["kind", *failure["required"]],
               "properties": {"kind": {"const": "error"}, **failure["properties"]}}
    return {"$schema": _js.DIALECT, "title": "riskgrade monitor --format jsonl (one line per record)",
            "description": "Every line of input gives its records in order; an unusable line gives one error record.",
            "oneOf": [alert, change, hd, error, load, failure]}


# -- the commands that write files: a record of what was written -------------------------------------------
_COUNTS: dict[str, Any] = {"type": "object", "required": list(_js._LEVELS),
                           "properties": {lv: _INT0 for lv in _js._LEVELS}, "additionalProperties": False}


def _written() -> dict[str, Any]:
    """Every file a command wrote: its path, format (the suffix), size in bytes and SHA-256."""
    item = _obj(["path", "format", "bytes", "sha256"],
                {"path": _TEXT, "format": _TEXT, "bytes": _INT0,
                 "sha256": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}}, closed=True)
    return {"type": "array", "items": item, "minItems": 1}


def _writer_doc(command: str, description: str, *variants: dict[str, Any]) -> dict[str, Any]:
    return _doc(f"riskgrade {command} --format json", description
                + " An output that cannot be written is a load error (load: output, exit 2).", *variants)


def map_schema() -> dict[str, Any]:
    """``riskgrade map --format json``: the map written, its counties and enterprises by level (or, with
    ``--site``, the enterprise's site map and its risk points by level)."""
    errors = {"type": "array", "items": _register_error()}
    regional = _obj(["written", "counties", "enterprises", "levels", "points", "errors"],
                    {"written": _written(), "counties": _INT0, "enterprises": _INT0, "levels": _COUNTS,
                     "points": _INT0, "errors": errors}, closed=True,
                    title="the regional map (exit 2 when a register failed: its error record is listed)")
    site = _obj(["written", "enterprise", "units", "risk_points", "levels", "unlocated"],
                {"written": _written(), "enterprise": _TEXT, "units": _INT0, "risk_points": _INT0,
                 "levels": _COUNTS, "unlocated": {"type": "array", "items": _TEXT}}, closed=True,
                title="an enterprise's site map (--site)")
    return _writer_doc("map", "One document: the file written and what it shows.", regional, site)


def register_schema() -> dict[str, Any]:
    """``riskgrade register --format json``: the register files written (one .xlsx, or two .csv)."""
    out = _obj(["written", "enterprises", "levels", "risk_points", "hidden_dangers", "errors"],
               {"written": _written(), "enterprises": _INT0, "levels": _COUNTS, "risk_points": _INT0,
                "hidden_dangers": _INT0, "errors": {"type": "array", "items": _register_error()}}, closed=True,
               title="the registers written (exit 2 when a register failed: its error record is listed)")
    return _writer_doc("register", "One document: the files written (.csv: the risk register, then the "
                                   "hidden-danger register beside it) and what they hold.", out)


def card_schema() -> dict[str, Any]:
    """``riskgrade card --format json``: the risk cards written, a PDF and an HTML page per risk point."""
    out = _obj(["written", "enterprise", "risk_points", "levels"],
               {"written": _written(), "enterprise": _TEXT, "risk_points": _INT0, "levels": _COUNTS}, closed=True,
               title="the cards written (levels: the risk points' dynamic levels)")
    return _writer_doc("card", "One document; a register that cannot be assessed is a load error "
                               "(load: register).", out)


def report_schema() -> dict[str, Any]:
    """``riskgrade report --format json``: every file of the static site written, its pages, the counts."""
    out = _obj(["index", "written", "pages", "enterprises", "levels", "errors"],
               {"index": _TEXT, "written": _written(), "pages": _INT0, "enterprises": _INT0, "levels": _COUNTS,
                "errors": {"type": "array", "items": _register_error()}}, closed=True,
               title="the report written (exit 2 when a register failed: its error record is listed)")
    return _writer_doc("report", "One document: every file under the report directory (sorted), the number "
                                 "of HTML pages, the enterprises by level.", out)


def adapt_import_schema() -> dict[str, Any]:
    """``riskgrade adapt import --format json``: the register written and what it holds."""
    kept = _obj(["values", "tables", "deleted"], {"values": _INT0, "tables": _INT0, "deleted": _INT0}, closed=True)
    out = _obj(["written", "from", "enterprise", "risk_points", "hazards", "hidden_dangers", "kept"],
               {"written": _written(), "from": {"enum": ["ministry"]}, "enterprise": _TEXT, "risk_points": _INT0,
                "hazards": _INT0, "hidden_dangers": _INT0, "kept": kept}, closed=True,
               title="the register written (kept: what x-ministry keeps that has no register field)")
    return _writer_doc("adapt import", "One document (needs -o FILE); a document that cannot be read is a "
                                       "load error (load: file).", out)


def adapt_export_schema() -> dict[str, Any]:
    """``riskgrade adapt export --format json``: the exchange document written, its tables and its gaps."""
    gap = _obj(["table", "field", "count"], {"table": _TEXT, "field": _TEXT, "count": {"type": "integer",
                                                                                       "minimum": 1}}, closed=True)
    out = _obj(["written", "to", "tables", "gaps"],
               {"written": _written(), "to": {"enum": ["ministry"]},
                "tables": {"type": "object", "additionalProperties": _INT0},
                "gaps": {"type": "array", "items": gap}}, closed=True,
               title="the document written (gaps: required fields without a value, written as null; "
                     "exit 1 with --strict)")
    return _writer_doc("adapt export", "One document (needs -o FILE); a register that cannot be read is a "
                                       "load error (load: register).", out)


#: ``riskgrade schema KIND`` for the commands' JSON output
COMMAND_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "adapt-export": adapt_export_schema, "adapt-import": adapt_import_schema,
    "assess": assess_schema, "card": card_schema, "check-refinement": check_refinement_schema, "diff": diff_schema,
    "list": list_schema, "map": map_schema, "monitor": monitor_schema, "plan": plan_schema, "plugins": plugins_schema,
    "region": region_schema, "register": register_schema, "report": report_schema, "screen": screen_schema,
    "test": cases_schema, "validate": validate_schema, "whatif": whatif_schema,
}


def command_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``riskgrade KIND --format json`` (KeyError for a command without one)."""
    return COMMAND_SCHEMAS[kind]()
