"""The HTTP JSON service (``riskgrade serve``): FastAPI on uvicorn, the CLI's contracts over HTTP.

FastAPI (Starlette + pydantic) gives the OpenAPI document and request routing; the bodies are
parsed by riskgrade's own JSON reader (the same limits and duplicate-key rule as the CLI) and
answered with the same records as ``riskgrade grade --format json``. This module imports FastAPI
at the top, so only ``riskgrade serve`` (and tests) import it: ``import riskgrade`` stays light.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import attrs
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

from riskgrade._api import assess, list_rulesets, load
from riskgrade._core.canonical import dumps
from riskgrade._core.limits import get_limits
from riskgrade._grade.receipt import riskgrade_version
from riskgrade._source.facts import (
    DEFAULT_ID_FIELD,
    FactRecord,
    function_error_dict,
    position,
    record_error_dict,
    record_id,
    strip_id,
)
from riskgrade._source.jsondoc import JSONDocError, parse_json
from riskgrade._validate import jsonschema as _js
from riskgrade.exceptions import (
    FactError,
    FunctionError,
    GraphError,
    PluginError,
    Problem,
    RiskgradeError,
    RulesetError,
)

__all__ = ["ServeOptions", "create_app"]


@attrs.frozen
class ServeOptions:
    """What the service serves besides the shipped rulesets, and its limits.

    ``rulesets``: ruleset files served under their own ``id`` (compiled when the app is made, so a
    broken one stops the start, never a request); ``max_body``: the largest request body in bytes;
    ``max_batch``: the most records in one grade request.
    """

    rulesets: tuple[str, ...] = ()
    max_body: int = 8 * 1024 * 1024
    max_batch: int = 10_000


class _JSON(Response):
    """Canonical JSON (riskgrade's one dumper: sorted keys, UTF-8), the same bytes as the CLI's."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def _problem(status: int, code: str, message: str, **extra: Any) -> _JSON:
    """A problem document (RFC 9457 keys ``type``/``title``/``status``/``detail``) with riskgrade's ``error`` code."""
    return _JSON({"type": f"https://riskgrade.invalid/errors/{code}", "title": code, "status": status,
                  "detail": message, "error": code, **extra}, status_code=status)


def _load_error(e: RulesetError) -> _JSON:
    unknown = e.codes == ["unknown-ruleset"]
    return _problem(404 if unknown else 422, e.codes[0] if e.codes else "ruleset", str(e), load="ruleset",
                    problems=[{"code": p.code, "message": p.message, "file": p.file, "line": p.line, "col": p.col}
                              for p in e.problems])


async def _body(request: Request, opts: ServeOptions) -> Any:
    """The request's JSON (riskgrade's reader: duplicate keys and limits are errors), or a problem response."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > opts.max_body:
        return _problem(413, "too-large", f"the body is over {opts.max_body} bytes (--max-body)")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > opts.max_body:
            return _problem(413, "too-large", f"the body is over {opts.max_body} bytes (--max-body)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return _problem(400, "not-utf8", f"the body is not UTF-8: {e.reason}")
    try:
        return parse_json(text, "<body>", attrs.evolve(get_limits(), max_bytes=max(opts.max_body, 1)))
    except JSONDocError as e:
        return _problem(400, "bad-syntax" if e.code == "bad-json" else e.code, e.message, line=e.line, col=e.col)


def _schemas() -> dict[str, Any]:
    """The result and record schemas as OpenAPI components (``#/$defs/result`` → a component ref)."""
    result = {k: v for k, v in _js.result_schema().items() if k not in ("$schema", "$id")}
    record = {k: v for k, v in _js.record_schema().items() if k not in ("$schema", "$id", "$defs")}
    text = dumps(record).replace('"#/$defs/result"', '"#/components/schemas/Result"')
    return {"Result": result, "Record": json.loads(text),
            "Facts": {"type": "object", "description": "one record of facts (riskgrade schema facts REF)"},
            "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "error"],
                        "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                       "status": {"type": "integer"}, "detail": {"type": "string"},
                                       "error": {"type": "string"}}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_GRADE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [_ref("Facts"), {"type": "array", "items": _ref("Facts")}]}}}}
_GRADE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "one record → its result; a list → one record per item, in order (error records inline)",
          "content": {"application/json": {"schema": {"oneOf": [_ref("Record"),
                                                                {"type": "array", "items": _ref("Record")}]}}}},
    404: {"description": "no such ruleset", "content": {"application/json": {"schema": _ref("Problem")}}},
    413: {"description": "body or batch too large", "content": {"application/json": {"schema": _ref("Problem")}}},
    422: {"description": "one record that is wrong (its error record), or a broken ruleset",
          "content": {"application/json": {"schema": _ref("Record")}}},
    500: {"description": "a function or plugin failed (a bug, not bad input)",
          "content": {"application/json": {"schema": _ref("Problem")}}},
}


def create_app(options: ServeOptions | None = None) -> FastAPI:
    """The FastAPI application of ``riskgrade serve`` (docs/platform.md)."""
    opts = options or ServeOptions()
    files = {load(path).id: path for path in opts.rulesets}  # compiled now: a broken file fails the start

    def _load(ref: str, jurisdiction: str | None) -> Any:
        # a served file by its id; otherwise a shipped id (id@edition), never a path from the request
        if ref in files:
            return load(files[ref], jurisdiction=jurisdiction)
        if "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml")):
            raise RulesetError([Problem("unknown-ruleset", f"no ruleset {ref!r} is served", ref)])
        return load(ref, jurisdiction=jurisdiction)
    app = FastAPI(title="riskgrade", version=riskgrade_version(),
                  description="Grade safety risk under the dual prevention mechanism (双重预防机制): the "
                              "contracts of riskgrade grade/explain/assess --format json, over HTTP.")

    def _grade(ref: str, body: Any, *, jurisdiction: str | None, lang: str, trace: bool, receipt: bool,
               id_field: str) -> Response:
        try:
            rs = _load(ref, jurisdiction)
        except RulesetError as e:
            return _load_error(e)
        single = not isinstance(body, list)
        items = [body] if single else body
        if len(items) > opts.max_batch:
            return _problem(413, "too-many", f"{len(items)} records; the most in one request is {opts.max_batch}")
        out = []
        for i, facts in enumerate(items):
            rec = FactRecord(i, f"<body>[{i}]", facts)
            rid = record_id(facts, id_field)
            if not isinstance(facts, dict):
                err = FactError("record must be a JSON object", record=rec.where, code="not-a-mapping")
                out.append({**record_error_dict(rec, err), **position(rec, rid)})
                continue
            given = strip_id(rs, facts, id_field)
            try:
                a = rs.grade(given)
            except FactError as e:
                out.append({**record_error_dict(rec, e.at(record=rec.where)), **position(rec, rid)})
            except FunctionError as e:
                if single:
                    return _problem(500, "function-error", str(e), **{k: v for k, v in function_error_dict(e).items()
                                                                       if k not in ("error", "message")})
                out.append({**function_error_dict(e), **position(rec, rid)})
            else:
                out.append({**a.to_dict(trace=trace, lang=lang, receipt=receipt, facts=given), **position(rec, rid)})
        if single:
            return _JSON(out[0], status_code=422 if "error" in out[0] else 200)
        return _JSON(out)

    common = {"openapi_extra": {"requestBody": _GRADE_BODY}, "responses": _GRADE_RESPONSES,
              "response_class": _JSON}

    @app.post("/v1/grade/{ruleset}", summary="Grade one record or a batch", **common)  # type: ignore[arg-type]
    async def grade(ruleset: str, request: Request, jurisdiction: str | None = None, lang: str = "en",
                    receipt: bool = True, id_field: str = DEFAULT_ID_FIELD) -> Response:
        """One record of facts → its result (422 with the error record when it is wrong); a list → one
        record per item, in order, error records inline (``riskgrade schema record``)."""
        body = await _body(request, opts)
        if isinstance(body, Response):
            return body
        return _grade(ruleset, body, jurisdiction=jurisdiction, lang=lang, trace=False, receipt=receipt,
                      id_field=id_field)

    @app.post("/v1/explain/{ruleset}", summary="Grade and explain step by step", **common)  # type: ignore[arg-type]
    async def explain(ruleset: str, request: Request, jurisdiction: str | None = None, lang: str = "en",
                      receipt: bool = True, id_field: str = DEFAULT_ID_FIELD) -> Response:
        """As ``/v1/grade``, each result with its ``trace`` in ``lang``."""
        body = await _body(request, opts)
        if isinstance(body, Response):
            return body
        return _grade(ruleset, body, jurisdiction=jurisdiction, lang=lang, trace=True, receipt=receipt,
                      id_field=id_field)

    @app.post("/v1/assess", summary="Assess an enterprise register", response_class=_JSON,
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "description": "an enterprise register (docs/enterprise.md)"}}}}},
              responses={422: {"description": "the register is wrong",
                               "content": {"application/json": {"schema": _ref("Problem")}}}})
    async def assess_register(request: Request, as_of: datetime.date | None = None) -> Response:
        """The enterprise's assessment (``riskgrade assess --format json``); ``as_of`` defaults to today."""
        body = await _body(request, opts)
        if isinstance(body, Response):
            return body
        if not isinstance(body, Mapping):
            return _problem(422, "not-a-mapping", "the register must be a JSON object")
        try:
            return _JSON(assess(None, body, as_of=as_of).to_dict())
        except RulesetError as e:
            return _load_error(e)
        except FactError as e:
            return _problem(422, e.code, e.message, record=e.record, field=e.field)
        except GraphError as e:
            return _problem(422, "cycle" if e.cycle else "graph", str(e), record=e.record, field=e.field)
        except (FunctionError, PluginError) as e:
            return _problem(500, "function-error", str(e))

    @app.get("/v1/rulesets", summary="The shipped rulesets", response_class=_JSON)
    def rulesets() -> Response:
        """Every shipped ruleset: id, edition, effective, title, sector, version, completeness."""
        return _JSON([{k: v for k, v in it.items() if k != "file"} for it in list_rulesets()])

    @app.get("/v1/rulesets/{ref}", summary="One ruleset: metadata and the schema of its facts",
             response_class=_JSON,
             responses={404: {"description": "no such ruleset",
                              "content": {"application/json": {"schema": _ref("Problem")}}}})
    def ruleset(ref: str, jurisdiction: str | None = None, lang: str = "zh") -> Response:
        """The ruleset's reference (id, version, edition, fingerprint, layers), title, inputs and the
        JSON Schema of one record of its facts."""
        try:
            rs = _load(ref, jurisdiction)
        except RulesetError as e:
            return _load_error(e)
        return _JSON({**rs.ref.to_dict(), "title": rs.title, "inputs": rs.inputs,
                      "facts_schema": _js.facts_schema(rs.inputs, extra_facts=str(rs.doc.get("extra_facts", "reject")),
                                                       table_keys={}, title=f"riskgrade facts for {rs.id}", lang=lang)})

    @app.get("/healthz", summary="Liveness", response_class=_JSON)
    def healthz() -> Response:
        """``{"status": "ok", "riskgrade": VERSION}``."""
        return _JSON({"status": "ok", "riskgrade": riskgrade_version()})

    @app.exception_handler(RiskgradeError)
    async def _riskgrade_error(request: Request, exc: RiskgradeError) -> Response:
        return _problem(500, "internal-error", f"{type(exc).__name__}: {exc}")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {}).update(_schemas())
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
