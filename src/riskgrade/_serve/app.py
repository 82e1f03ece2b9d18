"""The HTTP JSON service (``riskgrade serve``): FastAPI on uvicorn, the CLI's contracts over HTTP.

FastAPI (Starlette + pydantic) gives the OpenAPI document and request routing; the bodies are
parsed by riskgrade's own JSON reader (the same limits and duplicate-key rule as the CLI) and
answered with the same records as ``riskgrade grade --format json``. This module imports FastAPI
at the top, so only ``riskgrade serve`` (and tests) import it: ``import riskgrade`` stays light.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import IO, Any

import anyio
import anyio.to_thread
import attrs
from fastapi import FastAPI, Request
from fastapi.datastructures import Headers
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

from riskgrade._api import assess, facts_schema_of, list_rulesets, load
from riskgrade._core.canonical import dumps
from riskgrade._core.levels import Level
from riskgrade._core.limits import get_limits
from riskgrade._grade.receipt import riskgrade_version
from riskgrade._grade.reuse import error_answer
from riskgrade._serve.batch import TimeUp, answer_batch, grade_batch
from riskgrade._serve.body import read_body
from riskgrade._serve.malloc import keep_freed_memory
from riskgrade._source.facts import (
    DEFAULT_ID_FIELD,
    FactRecord,
    function_error_dict,
    position,
    record_id,
    strip_id,
)
from riskgrade._source.jsondoc import JSONDocError
from riskgrade._source.registry import head
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

__all__ = ["ServeOptions", "create_app", "read_api_keys"]


@attrs.frozen
class ServeOptions:
    """What the service serves besides the shipped rulesets, its limits, keys and access log.

    ``rulesets``: ruleset files served under their own ``id`` (compiled when the app is made, so a
    broken one stops the start, never a request); ``max_body``: the largest request body in bytes
    (413); ``max_batch``: the most records in one request (413); ``timeout``: the most seconds one
    request may take, body included (408); ``api_keys``: when not empty, every request but :data:`OPEN_PATHS` needs
    one of them (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; 401 without); ``access_log``:
    a file to append one JSON line per decision to (``-``: standard error; None: no log);
    ``reload_check``: how often, at most, a served ruleset's files are looked at for a change (seconds;
    0: before every request) -- a changed file is served from the first request after that.
    """

    rulesets: tuple[str, ...] = ()
    max_body: int = 8 * 1024 * 1024
    max_batch: int = 10_000
    timeout: float = 30.0
    api_keys: tuple[str, ...] = attrs.field(default=(), repr=False)
    #: SHA-256 (hex) of further keys, as ``riskgrade serve --workers N`` gives its workers the keys it read
    api_key_digests: tuple[str, ...] = attrs.field(default=(), repr=False)
    access_log: str | None = None
    reload_check: float = 1.0
    #: a ``--ruleset`` file that does not compile at the start is listed as stale instead of stopping it
    #: (the workers of ``--workers N``: the command itself compiled every file before starting them)
    start_stale: bool = False

    def key_digests(self) -> tuple[str, ...]:
        """The SHA-256 (hex) of every key, ``api_keys`` and ``api_key_digests`` together, sorted."""
        return tuple(sorted({*map(key_digest, self.api_keys), *self.api_key_digests}))


def read_api_keys(file: str | None = None, env: str | None = None) -> tuple[str, ...]:
    """The API keys in ``file`` (one a line; blank lines and ``#`` comments skipped) and in ``env`` (the
    value of an environment variable: keys separated by commas or white space)."""
    keys: list[str] = []
    if file is not None:
        with open(file, encoding="utf-8") as fh:
            keys += [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    if env:
        keys += env.replace(",", " ").split()
    return tuple(dict.fromkeys(keys))


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


def _internal_problem(exc: RiskgradeError) -> _JSON:
    return _problem(500, "internal-error", f"{type(exc).__name__}: {exc}")


def _timeout_problem(opts: ServeOptions) -> _JSON:
    return _problem(408, "timeout", f"the request took more than {opts.timeout:g} s (--timeout)")


def _rows_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The access-log fields of each answer dict."""
    return [{"index": d.get("index"), "id": d.get("id"), "level": d.get("level"), "error": d.get("error"),
             "receipt": (d.get("receipt") or {}).get("id")} for d in records]


class _Held:
    """The access-log lines of one request, kept until its answer is given (:meth:`commit`): a request
    answered with a 408 logs no decision, though the worker thread it left behind may still finish and
    write here -- into lines nobody commits. The same methods as :class:`_AccessLog`."""

    def __init__(self, log: _AccessLog) -> None:
        self._log = log
        self._held: list[tuple[str, str, list[dict[str, Any]]]] = []

    @property
    def enabled(self) -> bool:
        return self._log.enabled

    def write(self, path: str, ruleset: str, records: list[dict[str, Any]]) -> None:
        if self._log.enabled:
            self._held.append((path, ruleset, _rows_of(records)))

    def write_rows(self, path: str, ruleset: str, rows: list[dict[str, Any]]) -> None:
        if self._log.enabled and rows:
            self._held.append((path, ruleset, rows))

    def commit(self) -> None:
        """Write the lines kept, once."""
        held, self._held = self._held, []
        for path, ruleset, rows in held:
            self._log.write_rows(path, ruleset, rows)


def key_digest(key: str) -> str:
    """The SHA-256 (hex) of an API key: what the service compares (and what workers are given)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_ok(given: str, digests: tuple[str, ...]) -> bool:
    """``given`` is one of the keys of ``digests`` (their SHA-256), compared in constant time (every digest
    is compared, match or not; the digests all have one length)."""
    mine = key_digest(given).encode("ascii")
    found = False
    for d in digests:
        found |= hmac.compare_digest(mine, d.encode("ascii"))
    return found


class _AccessLog:
    """One JSON line per decision (time, request path, ruleset, record position and id, level or error,
    receipt id), appended under a lock; a file, or standard error for ``-``. A file is opened for appending
    (``O_APPEND``) and each request's lines go out in one ``write`` call, so that the worker processes of
    ``riskgrade serve --workers N`` append to one file without cutting into each other's lines."""

    def __init__(self, target: str | None) -> None:
        self._lock = threading.Lock()
        self._out: IO[str] | None = None
        self._fd: int | None = None
        if target == "-":
            self._out = sys.stderr
        elif target is not None:
            self._fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # lives as long as the app

    @property
    def enabled(self) -> bool:
        return self._out is not None or self._fd is not None

    def write(self, path: str, ruleset: str, records: list[dict[str, Any]]) -> None:
        """A line per answer dict (its position, level or error and receipt id)."""
        if self.enabled:
            self.write_rows(path, ruleset, _rows_of(records))

    def write_rows(self, path: str, ruleset: str, rows: list[dict[str, Any]]) -> None:
        """A line per row (``index``, ``id``, ``level``, ``error``, ``receipt``: the receipt id)."""
        if not self.enabled or not rows:
            return
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        text = "".join(dumps({"time": now, "path": path, "ruleset": ruleset, **row}) + "\n" for row in rows)
        with self._lock:
            if self._fd is not None:
                data = memoryview(text.encode("utf-8"))
                while data:  # a regular file takes it in one call; the loop is for a short write
                    data = data[os.write(self._fd, data):]
                return
            assert self._out is not None
            self._out.write(text)
            self._out.flush()


async def _body(request: Request, opts: ServeOptions) -> Any:
    """The request's JSON (riskgrade's reader: duplicate keys and limits are errors), or a problem response;
    the one :class:`_BatchGrade` read already when it passed the request on (not read twice)."""
    given = request.scope.pop(_BODY, None)
    if given is not None:
        return given[0]
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > opts.max_body:
        return _problem(413, "too-large", f"the body is over {opts.max_body} bytes (--max-body)")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > opts.max_body:
            return _problem(413, "too-large", f"the body is over {opts.max_body} bytes (--max-body)")
    return _parsed(bytes(raw), opts)


def _parsed(raw: bytes, opts: ServeOptions) -> Any:
    """The JSON of a body read whole, or the problem response of its error."""
    try:
        return read_body(raw, attrs.evolve(get_limits(), max_bytes=max(opts.max_body, 1)))
    except UnicodeDecodeError as e:
        return _problem(400, "not-utf8", f"the body is not UTF-8: {e.reason}")
    except JSONDocError as e:
        return _problem(400, "bad-syntax" if e.code == "bad-json" else e.code, e.message, line=e.line, col=e.col)


def _schemas() -> dict[str, Any]:
    """The result and record schemas as OpenAPI components (``#/$defs/result`` → a component ref)."""
    result = _component(_js.result_schema())
    string = {"type": "string"}
    record = {k: v for k, v in _js.record_schema().items() if k not in ("$schema", "$id", "$defs")}
    text = dumps(record).replace('"#/$defs/result"', '"#/components/schemas/Result"')
    return {"Result": result, "Record": json.loads(text),
            "Facts": {"type": "object", "description": "one record of facts (riskgrade schema facts REF)"},
            "WhatifRecord": {"oneOf": [_component(_js.whatif_schema()), _ref("Record")]},
            "Register": _component(_js.register_schema()),
            "RulesetSummary": {"type": "object", "required": ["id", "edition", "effective", "title", "sector", "version"],
                               "properties": {"id": string, "edition": string, "effective": string, "sector": string,
                                              "version": string, "title": {"type": ["object", "string"]},
                                              "completeness": {"type": ["object", "null"]},
                                              "announced": {"type": "array", "items": {"type": "object"}}}},
            "RulesetInfo": {"type": "object",
                            "required": ["id", "version", "edition", "jurisdiction", "fingerprint", "layers", "title",
                                         "inputs", "facts_schema"],
                            "properties": {**result["properties"]["ruleset"]["properties"],
                                           "title": {"type": ["object", "string"]}, "inputs": {"type": "object"},
                                           "facts_schema": {"type": "object",
                                                            "description": "JSON Schema of one record of facts"}}},
            "Health": {"type": "object", "required": ["status", "riskgrade"],
                       "properties": {"status": {"const": "ok"}, "riskgrade": string,
                                      "stale": {"type": "object", "additionalProperties": string,
                                                "description": "served files whose change does not compile"}}},
            "EnterpriseAssessment": _component(_js.enterprise_assessment_schema()),
            "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "error"],
                        "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                       "status": {"type": "integer"}, "detail": {"type": "string"},
                                       "error": {"type": "string"}}}}


def _component(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


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


_WHATIF_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_GRADE_RESPONSES,
    200: {"description": "one record → its options; a list → one answer per item, in order (error records inline)",
          "content": {"application/json": {"schema": {"oneOf": [
              _ref("WhatifRecord"), {"type": "array", "items": _ref("WhatifRecord")}]}}}},
    422: {"description": "one record that is wrong (its error record), an unknown --fix, or a broken ruleset",
          "content": {"application/json": {"schema": {"oneOf": [_ref("Record"), _ref("Problem")]}}}},
}
_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not JSON (or repeats a key), or a parameter is wrong",
          "content": {"application/json": {"schema": _ref("Problem")}}},
    401: {"description": "an API key is needed (Authorization: Bearer KEY, or X-API-Key)",
          "content": {"application/json": {"schema": _ref("Problem")}}},
    408: {"description": "the request took longer than the server's time limit",
          "content": {"application/json": {"schema": _ref("Problem")}}},
}


#: what stays open when API keys are set (relative to where the app is mounted); everything else needs a key
OPEN_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


class _KeyGuard:
    """API keys for every path but :data:`OPEN_PATHS` (``/healthz`` and the OpenAPI document and its pages):
    a request without one of the keys (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; ``digests``:
    their SHA-256) gets a 401 problem. The path is taken relative to the app's ``root_path`` (an app mounted
    under a prefix), and anything not known to be open is guarded, so an odd spelling of a path is refused
    rather than let through."""

    def __init__(self, app: Any, digests: tuple[str, ...]) -> None:
        self.app, self.digests = app, digests

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _route_path(scope) not in OPEN_PATHS:
            headers = Headers(scope=scope)
            auth = headers.get("authorization", "")
            given = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key", "")
            if not given or not _key_ok(given, self.digests):
                res = _problem(401, "unauthorized", "an API key is needed: Authorization: Bearer KEY, or X-API-Key")
                res.headers["WWW-Authenticate"] = 'Bearer realm="riskgrade"'
                await res(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_path(scope: Any) -> str:
    """The request's path below the app's mount point (``root_path``), as Starlette routes it."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path or "/"


#: the scope key of the time a request must be answered by (``time.monotonic``), set by :class:`_BatchGrade`
#: when it passes a request on after reading its body, so that the route's time limit counts from the start
_DEADLINE = "riskgrade.deadline"
#: the scope key of the body :class:`_BatchGrade` read (a 1-tuple: its JSON, or the problem of its error)
#: when it passes the request on, so that the route does not read it again
_BODY = "riskgrade.body"
#: the receipt values :class:`_BatchGrade` reads itself (any other spelling goes to FastAPI's parser)
#: the longest batch answered on the event loop when every record was answered before (~1.5 ms per
#: 1,000 records: at most ~15 ms of the loop's time); a longer one is answered in a worker thread
_ON_LOOP = 10_000
_RECEIPT = {"true": True, "false": False, "1": True, "0": False}


class _BatchGrade:
    """``POST /v1/grade/{ruleset}`` with a batch (a JSON list), answered without FastAPI's routing, parameter
    parsing and response classes, which took about a fifth of the service's time on 1,000-record batches
    (docs/benchmarks.md). ``answer(scope, receive)`` gives the answer's bytes, a response (a problem), or
    the ``receive`` to pass the request on with: everything it does not answer itself -- one record, a
    body that is not JSON or is too large, a ruleset that does not load, a query parameter spelt in a way
    it does not read -- goes to the FastAPI route, with the body it read given again, so that the route's
    answer (and error) is the one and only definition of the contract; tests/test_serve_batch.py checks
    both give the same bytes."""

    def __init__(self, app: Any, answer: Callable[[Any, Any], Any]) -> None:
        self.app, self.answer = app, answer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            got = await self.answer(scope, receive)
            if got.__class__ is bytes:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", b"%d" % len(got)), (b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": got})
                return
            if isinstance(got, Response):
                await got(scope, receive, send)
                return
            receive = got
        await self.app(scope, receive, send)


def _batch_query(scope: Any) -> tuple[str, str | None, bool, str] | None:
    """(ruleset, jurisdiction, receipt, id_field) of a ``POST /v1/grade/{ruleset}``, read as Starlette and
    FastAPI read them; None for another path, or for a query :class:`_BatchGrade` leaves to FastAPI (a
    parameter given twice, a receipt not spelt true/false/1/0)."""
    path = _route_path(scope)
    if not path.startswith("/v1/grade/"):
        return None
    ref = path[10:]
    if not ref or "/" in ref:
        return None
    jurisdiction, receipt, id_field = None, True, DEFAULT_ID_FIELD
    seen = set()
    for key, value in urllib.parse.parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if key in seen:
            return None
        seen.add(key)
        if key == "jurisdiction":
            jurisdiction = value
        elif key == "receipt":
            if value not in _RECEIPT:
                return None
            receipt = _RECEIPT[value]
        elif key == "id_field":
            id_field = value
    return ref, jurisdiction, receipt, id_field


def _again(messages: list[Any], receive: Any) -> Any:
    """A ``receive`` that gives ``messages`` first, then what ``receive`` gives."""
    queue = list(messages)

    async def again() -> Any:
        return queue.pop(0) if queue else await receive()
    return again


#: the environment variable that carries the options of ``riskgrade serve --workers N`` to its worker processes
OPTIONS_ENV = "RISKGRADE_SERVE_WORKER_OPTIONS"


def worker_options(options: ServeOptions, *, keep_freed_memory: bool = False) -> str:
    """What :func:`app_from_environment` reads from :data:`OPTIONS_ENV`: the options as JSON, paths made
    absolute, and the API keys the command read as their SHA-256 only (every worker, a restarted one too,
    checks the same keys, and no key is written into another process's environment); ``keep_freed_memory``:
    each worker calls :func:`riskgrade._serve.malloc.keep_freed_memory` (``--keep-freed-memory``)."""
    log = options.access_log
    return json.dumps({"keep_freed_memory": keep_freed_memory, "rulesets": [os.path.abspath(p) for p in options.rulesets], "max_body": options.max_body,
                       "max_batch": options.max_batch, "timeout": options.timeout,
                       "access_log": log if log is None or log == "-" else os.path.abspath(log),
                       "reload_check": options.reload_check,
                       "api_key_digests": list(options.key_digests())})


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``riskgrade serve --workers N`` (uvicorn's factory), made from the
    options the command put in :data:`OPTIONS_ENV` (:func:`worker_options`). A ``--ruleset`` file that does
    not compile when a worker starts (it broke after the command started) does not stop the worker: it is
    listed under ``stale`` in ``/healthz`` and requests for it get its load error until it compiles, so a
    worker that uvicorn restarts does not fail again and again."""
    spec = json.loads(os.environ[OPTIONS_ENV])
    if spec.pop("keep_freed_memory", False):
        keep_freed_memory()
    return create_app(ServeOptions(tuple(spec.pop("rulesets")), api_key_digests=tuple(spec.pop("api_key_digests")),
                                   start_stale=True, **spec))


def create_app(options: ServeOptions | None = None, *, fast: bool = True) -> FastAPI:
    """The FastAPI application of ``riskgrade serve`` (docs/platform.md). ``fast=False``: without the batch
    path of :class:`_BatchGrade` (every request through FastAPI's routes; what the tests compare it with)."""
    opts = options or ServeOptions()
    log = _AccessLog(opts.access_log)
    #: the last ruleset that compiled, per (ref, jurisdiction): served while a changed file does not compile
    good: dict[tuple[str, str | None], Any] = {}
    #: why a changed file was not swapped in (shown by /healthz until it compiles again)
    stale: dict[str, str] = {}
    files: dict[str, str] = {}
    for path in opts.rulesets:  # compiled now: a broken file fails the start (unless start_stale)
        try:
            files[load(path).id] = path
        except RulesetError as e:
            rid = (head(path) or {}).get("id") if opts.start_stale else None
            if rid is None:
                raise
            files[str(rid)] = path
            stale[str(rid)] = str(e)
    #: (ref, jurisdiction) -> (when its files were last looked at, the ruleset then served); the stat calls
    #: of every request made a worker thread give the GIL up and wait for it (a convoy with the event loop)
    checked: dict[tuple[str, str | None], tuple[float, Any]] = {}
    #: (ref, jurisdiction) -> (when, why) of a served file that has not compiled in this process yet
    broken: dict[tuple[str, str | None], tuple[float, RulesetError]] = {}

    def _load(ref: str, jurisdiction: str | None) -> Any:
        # a served file by its id; otherwise a shipped id (id@edition), never a path from the request
        if ref in files:
            target = files[ref]
        elif "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml")):
            raise RulesetError([Problem("unknown-ruleset", f"no ruleset {ref!r} is served", ref)])
        else:
            target = ref
        key = (ref, jurisdiction)
        now = time.monotonic()
        seen = checked.get(key)
        if seen is not None and now - seen[0] < opts.reload_check:
            return seen[1]  # looked at less than reload_check seconds ago: no stat calls per request
        failed = broken.get(key)
        if failed is not None and now - failed[0] < opts.reload_check:
            raise failed[1]  # a file that has never compiled here, tried less than reload_check seconds ago
        try:
            rs = load(target, jurisdiction=jurisdiction)  # recompiled when one of its files changed
        except RulesetError as e:
            if key not in good or e.codes == ["unknown-ruleset"]:
                if key not in good and ref in files:
                    broken[key] = (now, e)
                raise
            if ref not in stale:
                print(f"riskgrade serve: {ref}: the changed ruleset does not compile; still serving the last "
                      f"good one ({good[key].fingerprint}):\n{e}", file=sys.stderr)
            stale[ref] = str(e)
            checked[key] = (now, good[key])  # a broken file is compiled again after reload_check, not per request
            return good[key]
        good[key] = rs
        checked[key] = (now, rs)
        broken.pop(key, None)
        stale.pop(ref, None)
        return rs

    app = FastAPI(title="riskgrade", version=riskgrade_version(),
                  description="Grade safety risk under the dual prevention mechanism (双重预防机制): the "
                              "contracts of riskgrade grade/explain/assess/whatif --format json, over HTTP.")

    digests = opts.key_digests()

    async def _limited(request: Request, work: Callable[[Any, float, _Held], Response]) -> Response:
        """Read the body and run ``work(body, deadline, log)`` in a worker thread, all within ``opts.timeout``:
        past it the answer is a 408 at once (a record still being graded finishes in its thread; the
        batch stops at the next record, within 64 on the batch path), so the event loop never waits. The
        access-log lines ``work`` writes to ``log`` are written when its answer is given, not on a 408."""
        deadline = request.scope.get(_DEADLINE) or time.monotonic() + opts.timeout
        held = _Held(log)
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0.0)):
                body = await _body(request, opts)
                if isinstance(body, Response):
                    return body
                answer = await anyio.to_thread.run_sync(functools.partial(work, body, deadline, held),
                                                        abandon_on_cancel=True)
        except (TimeoutError, TimeUp):
            return _timeout_problem(opts)
        held.commit()
        return answer

    def _items(body: Any) -> tuple[bool, list[Any]] | Response:
        single = not isinstance(body, list)
        items = [body] if single else body
        if len(items) > opts.max_batch:
            return _problem(413, "too-many", f"{len(items)} records; the most in one request is {opts.max_batch}")
        return single, items

    def _each(path: str, ref: str, body: Any, deadline: float, id_field: str, log: _Held,
              answer: Callable[[FactRecord, dict[str, Any], Any], dict[str, Any]]) -> Response:
        """One answer per item of ``body`` (``answer(rec, facts without the id, id)``), in order; error
        records inline; a single record's error is its status (422, or 500 for a function error)."""
        got = _items(body)
        if isinstance(got, Response):
            return got
        single, items = got
        out = []
        for i, facts in enumerate(items):
            if time.monotonic() > deadline:
                raise TimeUp
            rec = FactRecord(i, f"<body>[{i}]", facts)
            rid = record_id(facts, id_field)
            if not isinstance(facts, dict):
                out.append(error_answer(rec, None, rid))
                continue
            try:
                out.append({**answer(rec, facts, rid), **position(rec, rid)})
            except FactError as e:
                out.append(error_answer(rec, e, rid))
            except FunctionError as e:
                if single:
                    log.write(path, ref, [{"error": "function-error", **position(rec, rid)}])
                    return _problem(500, "function-error", str(e), **{k: v for k, v in function_error_dict(e).items()
                                                                       if k not in ("error", "message")})
                out.append(error_answer(rec, e, rid))
        log.write(path, ref, out)
        if single:
            return _JSON(out[0], status_code=422 if "error" in out[0] else 200)
        return _JSON(out)

    def _grade(ref: str, body: Any, deadline: float, log: _Held, *, jurisdiction: str | None, lang: str,
               trace: bool, receipt: bool, id_field: str) -> Response:
        try:
            rs = _load(ref, jurisdiction)
        except RulesetError as e:
            return _load_error(e)
        if not trace and isinstance(body, list):
            # a batch: one grade_many pass, each answer written from its result's JSON plan (_serve/batch.py)
            got = _items(body)
            if isinstance(got, Response):
                return got
            rows: list[dict[str, Any]] | None = [] if log.enabled else None
            text = grade_batch(rs, body, id_field=id_field, receipt=receipt, deadline=deadline, rows=rows)
            if rows is not None:
                log.write_rows("grade", ref, rows)
            return Response(text, media_type="application/json")

        def answer(rec: FactRecord, facts: dict[str, Any], rid: Any) -> dict[str, Any]:
            given = strip_id(rs, facts, id_field)
            return rs.grade(given).to_dict(trace=trace, lang=lang, receipt=receipt, facts=given)  # type: ignore[no-any-return]

        return _each("explain" if trace else "grade", ref, body, deadline, id_field, log, answer)

    common = {"openapi_extra": {"requestBody": _GRADE_BODY}, "responses": {**_GRADE_RESPONSES, **_LIMIT_RESPONSES},
              "response_class": _JSON}

    @app.post("/v1/grade/{ruleset}", summary="Grade one record or a batch", **common)  # type: ignore[arg-type]
    async def grade(ruleset: str, request: Request, jurisdiction: str | None = None, lang: str = "en",
                    receipt: bool = True, id_field: str = DEFAULT_ID_FIELD) -> Response:
        """One record of facts → its result (422 with the error record when it is wrong); a list → one
        record per item, in order, error records inline (``riskgrade schema record``)."""
        return await _limited(request, lambda body, deadline, log: _grade(
            ruleset, body, deadline, log, jurisdiction=jurisdiction, lang=lang, trace=False, receipt=receipt,
            id_field=id_field))

    @app.post("/v1/explain/{ruleset}", summary="Grade and explain step by step", **common)  # type: ignore[arg-type]
    async def explain(ruleset: str, request: Request, jurisdiction: str | None = None, lang: str = "en",
                      receipt: bool = True, id_field: str = DEFAULT_ID_FIELD) -> Response:
        """As ``/v1/grade``, each result with its ``trace`` in ``lang``."""
        return await _limited(request, lambda body, deadline, log: _grade(
            ruleset, body, deadline, log, jurisdiction=jurisdiction, lang=lang, trace=True, receipt=receipt,
            id_field=id_field))

    @app.post("/v1/whatif/{ruleset}", summary="What would change the level of a record",
              openapi_extra={"requestBody": _GRADE_BODY}, responses={**_WHATIF_RESPONSES, **_LIMIT_RESPONSES},
              response_class=_JSON)
    async def whatif(ruleset: str, request: Request, jurisdiction: str | None = None, lang: str = "en",
                     target: str | None = None, fix: str | None = None, limit: int = 10,
                     id_field: str = DEFAULT_ID_FIELD) -> Response:
        """The smallest changes to each record's inputs that grade it at ``target`` (RED/ORANGE/YELLOW/BLUE,
        default one level below its own) or lower, fewest fields first (``riskgrade whatif --format json``);
        ``fix``: comma-separated inputs that must stay; ``limit``: options shown per record."""
        try:
            goal = Level.parse(target) if target is not None else None
        except ValueError as e:
            return _problem(422, "bad-target", str(e))
        fixed = tuple(f.strip() for f in (fix or "").split(",") if f.strip())
        shown = max(limit, 0)

        def work(body: Any, deadline: float, log: _Held) -> Response:
            try:
                rs = _load(ruleset, jurisdiction)
            except RulesetError as e:
                return _load_error(e)
            unknown = [f for f in fixed if f not in rs.inputs]
            if unknown:
                return _problem(422, "unknown-input", f"fix {unknown[0]!r} is not an input of {rs.id}; inputs: "
                                                      f"{', '.join(rs.inputs)}", field=unknown[0])

            def answer(rec: FactRecord, facts: dict[str, Any], rid: Any) -> dict[str, Any]:
                out: dict[str, Any] = rs.counterfactuals(strip_id(rs, facts, id_field), goal, fixed).to_dict(lang)
                out["more"] = max(0, len(out["options"]) - shown)
                out["options"] = out["options"][:shown]
                return out

            return _each("whatif", ruleset, body, deadline, id_field, log, answer)

        return await _limited(request, work)

    @app.post("/v1/assess", summary="Assess an enterprise register", response_class=_JSON,
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema":
                  _ref("Register")}}}},
              responses={200: {"description": "the enterprise's assessment",
                               "content": {"application/json": {"schema": _ref("EnterpriseAssessment")}}},
                         413: {"description": "body too large",
                               "content": {"application/json": {"schema": _ref("Problem")}}},
                         422: {"description": "the register is wrong",
                               "content": {"application/json": {"schema": _ref("Problem")}}},
                         500: {"description": "a function or plugin failed",
                               "content": {"application/json": {"schema": _ref("Problem")}}},
                         **_LIMIT_RESPONSES})
    async def assess_register(request: Request, as_of: datetime.date | None = None) -> Response:
        """The enterprise's assessment (``riskgrade assess --format json``); ``as_of`` defaults to today."""
        def work(body: Any, deadline: float, log: _Held) -> Response:
            if not isinstance(body, Mapping):
                return _problem(422, "not-a-mapping", "the register must be a JSON object")
            try:
                out = assess(None, body, as_of=as_of).to_dict()
            except RulesetError as e:
                return _load_error(e)
            except FactError as e:
                return _problem(422, e.code, e.message, record=e.record, field=e.field)
            except GraphError as e:
                return _problem(422, "cycle" if e.cycle else "graph", str(e), record=e.record, field=e.field)
            except (FunctionError, PluginError) as e:
                return _problem(500, "function-error", str(e))
            log.write("assess", "register", [{"id": out["enterprise"]["id"], "level": out["level"]}])
            return _JSON(out)

        return await _limited(request, work)

    @app.get("/v1/rulesets", summary="The shipped rulesets", response_class=_JSON,
             responses={200: {"description": "every shipped ruleset (and edition)", "content": {"application/json": {
                 "schema": {"type": "array", "items": _ref("RulesetSummary")}}}}, **_LIMIT_RESPONSES})
    def rulesets() -> Response:
        """Every shipped ruleset: id, edition, effective, title, sector, version, completeness."""
        return _JSON([{k: v for k, v in it.items() if k != "file"} for it in list_rulesets()])

    @app.get("/v1/rulesets/{ref}", summary="One ruleset: metadata and the schema of its facts",
             response_class=_JSON,
             responses={200: {"description": "the ruleset", "content": {"application/json": {
                                 "schema": _ref("RulesetInfo")}}},
                        404: {"description": "no such ruleset",
                              "content": {"application/json": {"schema": _ref("Problem")}}},
                        422: {"description": "a broken ruleset", "content": {"application/json": {
                            "schema": _ref("Problem")}}}, **_LIMIT_RESPONSES})
    def ruleset(ref: str, jurisdiction: str | None = None, lang: str = "zh") -> Response:
        """The ruleset's reference (id, version, edition, fingerprint, layers), title, inputs and the
        JSON Schema of one record of its facts."""
        try:
            rs = _load(ref, jurisdiction)
        except RulesetError as e:
            return _load_error(e)
        return _JSON({**rs.ref.to_dict(), "title": rs.title, "inputs": rs.inputs,
                      "facts_schema": facts_schema_of(rs, lang)})

    @app.get("/healthz", summary="Liveness", response_class=_JSON,
             responses={200: {"description": "serving", "content": {"application/json": {"schema": _ref("Health")}}}})
    def healthz() -> Response:
        """``{"status": "ok", "riskgrade": VERSION}``, and ``stale``: the served rulesets whose changed file
        does not compile (the last good one is still served)."""
        out: dict[str, Any] = {"status": "ok", "riskgrade": riskgrade_version()}
        if stale:
            out["stale"] = dict(stale)
        return _JSON(out)

    @app.exception_handler(RequestValidationError)
    async def _bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors())
        return _problem(400, "bad-parameter", f"a query or path parameter is wrong: {where}")

    @app.exception_handler(RiskgradeError)
    async def _riskgrade_error(request: Request, exc: RiskgradeError) -> Response:
        return _internal_problem(exc)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for item in doc["paths"].values():
                for op in item.values():
                    for res in op.get("responses", {}).values():
                        for media in res.get("content", {}).values():
                            # FastAPI merges its default schema for a custom response class (a string) into
                            # the declared one; the declared schema is the answer's
                            schema = media.get("schema", {})
                            if schema.get("type") == "string" and len(schema) > 1:
                                del schema["type"]
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(_schemas())
            if digests:
                components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"},
                                                 "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
                for path, item in doc["paths"].items():
                    if path.startswith("/v1/"):
                        for op in item.values():
                            op["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    def _served(ref: str, jurisdiction: str | None) -> Any:
        """The ruleset ``_load`` gives without looking at a file (looked at less than reload_check ago), or None."""
        seen = checked.get((ref, jurisdiction))
        return seen[1] if seen is not None and time.monotonic() - seen[0] < opts.reload_check else None

    def _in_thread(ref: str, jurisdiction: str | None, items: list[Any], receipt: bool, id_field: str,
                   deadline: float, rows: list[dict[str, Any]] | None) -> bytes | None:
        try:
            rs = _load(ref, jurisdiction)
        except RulesetError:
            return None  # the route answers with the load error
        return grade_batch(rs, items, id_field=id_field, receipt=receipt, deadline=deadline, rows=rows)

    async def _batch(scope: Any, receive: Any) -> Any:
        """What :class:`_BatchGrade` sends: the answer of a batch, a 408, or the ``receive`` to pass the
        request on with. A batch whose every record was answered before (by its facts) is answered on the
        event loop -- lookups only, at most ``_ON_LOOP`` records; any other goes to a worker thread, as on
        the route, where a record being graded cannot hold up the loop."""
        query = _batch_query(scope)
        if query is None:
            return receive
        ref, jurisdiction, receipt, id_field = query
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > opts.max_body:
            return receive  # the route's 413, before reading
        deadline = scope[_DEADLINE] = time.monotonic() + opts.timeout
        messages: list[Any] = []
        try:
            with anyio.fail_after(opts.timeout):
                size, more = 0, True
                while more:
                    message = await receive()
                    messages.append(message)
                    if message["type"] != "http.request":
                        return _again(messages, receive)
                    size += len(message.get("body", b""))
                    if size > opts.max_body:
                        return _again(messages, receive)
                    more = message.get("more_body", False)
                raw = b"".join(m.get("body", b"") for m in messages)
                whole = [{"type": "http.request", "body": raw, "more_body": False}]
                items = _parsed(raw, opts)
                if items.__class__ is not list or len(items) > opts.max_batch:
                    scope[_BODY] = (items,)  # a problem, one record or too many: the route's answer
                    return _again(whole, receive)
                rows: list[dict[str, Any]] | None = [] if log.enabled else None
                rs = _served(ref, jurisdiction)
                text = None
                if time.monotonic() > deadline:  # the route's time limit is checked before any answer
                    raise TimeUp
                if rs is not None and len(items) <= _ON_LOOP:
                    text = answer_batch(rs, items, id_field=id_field, receipt=receipt, deadline=deadline, rows=rows,
                                        known_only=True)
                if text is None:
                    rows = [] if log.enabled else None
                    text = await anyio.to_thread.run_sync(functools.partial(
                        _in_thread, ref, jurisdiction, items, receipt, id_field, deadline, rows), abandon_on_cancel=True)
                    if text is None:
                        scope[_BODY] = (items,)
                        return _again(whole, receive)
        except (TimeoutError, TimeUp):
            return _timeout_problem(opts)
        except RiskgradeError as e:
            return _internal_problem(e)
        if rows is not None:
            log.write_rows("grade", ref, rows)
        return text

    if fast:
        app.add_middleware(_BatchGrade, answer=_batch)
    if digests:  # added last, so outermost: before the batch path too
        # a pure ASGI middleware, not ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware passes
        # every response body through a memory stream (135 -> 150 requests/s of 1,000-record batches without it)
        app.add_middleware(_KeyGuard, digests=digests)
    return app
