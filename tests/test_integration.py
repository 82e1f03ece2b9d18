"""Other platforms calling a real ``riskgrade serve`` (a subprocess on 127.0.0.1, configured through its
environment variables, with an API key and an access log):

- the examples of docs/integration.md run as written -- curl, Python, Node (when ``node`` is installed),
  Java (when ``java`` is) -- and print what the page says they print (the Python example is fenced
  ``py``, not ``python``, so that the docs test does not run it without a server);
- a foreign client that knows only ``/openapi.json`` builds its requests from the document's paths and
  schemas (facts generated from each ruleset's facts schema) and checks every answer against the
  schema the document declares for that status.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

pytest.importorskip("fastapi")
import httpx

from ._serving import free_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "integration.md").read_text(encoding="utf-8")
KEY = "k-integration-test"
REGISTER = {"id": "E-1", "name": "测试企业", "sectors": ["hazchem"], "jurisdiction": "620402", "ruleset": "lec-generic",
            "units": [{"id": "U-1", "name": "一车间"}],
            "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐区", "facts": {"L": 3, "E": 6, "C": 15}}]}


def fenced(tag: str) -> list[str]:
    return re.findall(rf"```{tag}\n(.*?)```", PAGE, flags=re.S)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, pathlib.Path]]:
    """``riskgrade serve`` in a subprocess; yields its URL and its access log."""
    tmp = tmp_path_factory.mktemp("serve")
    (tmp / "keys.txt").write_text(f"# test key\n{KEY}\n", encoding="utf-8")
    log = tmp / "access.jsonl"
    port = free_port()
    env = {**os.environ, "RISKGRADE_SERVE_API_KEY_FILE": str(tmp / "keys.txt"), "RISKGRADE_SERVE_ACCESS_LOG": str(log),
           "RISKGRADE_SERVE_MAX_BATCH": "50", "RISKGRADE_SERVE_TIMEOUT": "120", "LANG": "C.UTF-8"}
    cmd = [sys.executable, "-c", "from riskgrade._cli import main; main()", "serve", "--port", str(port)]
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):  # bounded: at most a minute
                if proc.poll() is not None:
                    break
                try:
                    if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "serve stopped"
            yield url, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(cmd: list[str], url: str, cwd: pathlib.Path) -> str:
    env = {**os.environ, "RISKGRADE_URL": url, "RISKGRADE_KEY": KEY, "LANG": "C.UTF-8"}
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=180, check=False)
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    return res.stdout.decode("utf-8")


class TestTheExamplesRun:
    def test_curl(self, served: tuple[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        start, curl = fenced("sh")
        assert "riskgrade serve" in start and "--api-key-file keys.txt" in start
        out = json.loads(run(["bash", "-c", curl], served[0], tmp_path))
        assert [(d["index"], d["id"], d.get("level") or d["error"]) for d in out] == [
            (0, "JOB-1", "ORANGE"), (1, "JOB-2", "missing-fact")]

    def test_python(self, served: tuple[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
        (tmp_path / "client.py").write_text(fenced("py")[0], encoding="utf-8")
        assert run([sys.executable, "client.py"], served[0], tmp_path) == fenced("text")[1]

    def test_node(self, served: tuple[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
        if shutil.which("node") is None:
            pytest.skip("node is not installed")
        (tmp_path / "client.mjs").write_text(fenced("js")[0], encoding="utf-8")
        assert run(["node", "client.mjs"], served[0], tmp_path) == fenced("text")[1]

    def test_java(self, served: tuple[str, pathlib.Path], tmp_path: pathlib.Path) -> None:
        if shutil.which("java") is None:
            pytest.skip("java is not installed")
        (tmp_path / "Client.java").write_text(fenced("java")[0], encoding="utf-8")
        assert run(["java", "Client.java"], served[0], tmp_path) == fenced("text")[2]

    def test_a_request_offering_http2_is_graded(self, served: tuple[str, pathlib.Path]) -> None:
        """Java's HttpClient (by default) and ``curl --http2`` offer an upgrade to h2c on plain HTTP; the
        server answers over HTTP/1.1 and reads the body (uvicorn on httptools drops it: a 400 for valid JSON)."""
        url, _ = served
        offer = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
                 "Authorization": f"Bearer {KEY}"}
        r = httpx.post(url + "/v1/grade/lec-generic?receipt=false", json={"L": 3, "E": 6, "C": 7}, headers=offer,
                       timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["level"] == "YELLOW"

    def test_keys_limits_and_the_access_log(self, served: tuple[str, pathlib.Path]) -> None:
        url, log = served
        auth = {"authorization": f"Bearer {KEY}"}
        assert httpx.post(url + "/v1/grade/lec-generic", json={"L": 1, "E": 1, "C": 1}).status_code == 401
        r = httpx.post(url + "/v1/grade/lec-generic", json=[{}] * 51, headers=auth, timeout=60)
        assert (r.status_code, r.json()["error"]) == (413, "too-many")  # RISKGRADE_SERVE_MAX_BATCH=50
        r = httpx.post(url + "/v1/grade/lec-generic", json={"id": "LOG-1", "L": 1, "E": 1, "C": 1}, headers=auth,
                       timeout=60)
        for _ in range(100):  # bounded: the line is written before the answer; give the file a moment
            lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
            if any(d["id"] == "LOG-1" for d in lines):
                break
            time.sleep(0.05)
        (mine,) = [d for d in lines if d["id"] == "LOG-1"]
        assert (mine["path"], mine["ruleset"], mine["level"], mine["receipt"]) == (
            "grade", "lec-generic", "BLUE", r.json()["receipt"]["id"])


# -- a client generated from the OpenAPI document ---------------------------------------------------
def example(schema: dict[str, Any]) -> Any:
    """A value that fits ``schema`` (the parts of JSON Schema a facts schema uses), as a generator would."""
    if "const" in schema:
        return schema["const"]
    if schema.get("default") is not None:
        return schema["default"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return example(next(b for b in schema[key] if b.get("type") != "null"))
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        value = low if "maximum" not in schema else min(low, schema["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "string":
        return "2024-06-30" if schema.get("format") == "date" else "x"
    if kind == "array":
        return [example(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example(props.get(k, {})) for k in schema.get("required", ())}
    return None


class ForeignClient:
    """Knows the server only through its OpenAPI document."""

    def __init__(self, client: httpx.Client) -> None:
        self.http = client
        self.doc: dict[str, Any] = client.get("/openapi.json").json()
        jsonschema.Draft202012Validator.check_schema(self.wrap({"$ref": "#/components/schemas/Record"}))

    def wrap(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "components": self.doc["components"]}

    def call(self, method: str, template: str, body: Any = None, **values: Any) -> tuple[int, Any]:
        """Fill ``template``'s path and query parameters as the document declares them, check the body
        against its request schema, send, and check the answer against the schema of its status."""
        op = self.doc["paths"][template][method]
        path, query = template, {}
        for p in op.get("parameters", ()):
            if p["name"] not in values:
                assert not p.get("required"), f"{template}: no value for the required {p['name']}"
                continue
            jsonschema.validate(values[p["name"]], self.wrap(p["schema"]))
            if p["in"] == "path":
                path = path.replace("{" + p["name"] + "}", str(values[p["name"]]))
            else:
                query[p["name"]] = values[p["name"]]
        headers = {"authorization": f"Bearer {KEY}"} if {"bearer": []} in op.get("security", ()) else {}
        if body is not None:
            jsonschema.validate(body, self.wrap(op["requestBody"]["content"]["application/json"]["schema"]))
        r = self.http.request(method.upper(), path, params=query, json=body, headers=headers)
        declared = op["responses"].get(str(r.status_code))
        assert declared is not None, f"{method} {path}: status {r.status_code} is not in the document: {r.text}"
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema:
            jsonschema.validate(r.json(), self.wrap(schema))
        return r.status_code, r.json()


def test_a_client_from_the_openapi_document_alone(served: tuple[str, pathlib.Path]) -> None:
    with httpx.Client(base_url=served[0], timeout=120) as http:
        c = ForeignClient(http)
        assert {"/v1/grade/{ruleset}", "/v1/explain/{ruleset}", "/v1/whatif/{ruleset}", "/v1/assess"} <= set(c.doc["paths"])
        _, listed = c.call("get", "/v1/rulesets")
        graded: dict[str, str] = {}
        for item in listed:
            status, meta = c.call("get", "/v1/rulesets/{ref}", ref=item["id"], lang="en")
            assert status == 200
            facts = example(meta["facts_schema"])
            jsonschema.validate(facts, meta["facts_schema"])  # what the generator made fits the ruleset
            status, one = c.call("post", "/v1/grade/{ruleset}", facts, ruleset=item["id"])
            graded[item["id"]] = one.get("level") or one["error"]
            status, batch = c.call("post", "/v1/explain/{ruleset}", [facts, {}], ruleset=item["id"], lang="zh")
            assert status == 200 and len(batch) == 2 and batch[0].get("level") == one.get("level")
        assert graded["lec-generic"] == "BLUE"  # the lowest allowed L, E, C
        levels = [v for v in graded.values() if v in ("RED", "ORANGE", "YELLOW", "BLUE")]
        # a record made from the schema alone grades, except where a ruleset requires one field among
        # several ("give S, or S_law ... not both"): that is checked by the ruleset, not expressible per field
        assert {v for v in graded.values() if v not in levels} <= {"requirement-failed"}, graded
        assert len(levels) > len(graded) / 2, graded
        status, options = c.call("post", "/v1/whatif/{ruleset}", {"L": 3, "E": 6, "C": 15}, ruleset="lec-generic",
                                 limit=3)
        assert status == 200 and options["target"] == "YELLOW" and options["options"]
        status, assessment = c.call("post", "/v1/assess", REGISTER, as_of="2024-06-30")
        assert (status, assessment["level"]) == (200, "ORANGE")
        status, problem = c.call("post", "/v1/grade/{ruleset}", {"L": 3}, ruleset="lec-generic")
        assert (status, problem["error"]) == (422, "missing-fact")
        status, problem = c.call("post", "/v1/grade/{ruleset}", {}, ruleset="no-such-ruleset")
        assert (status, problem["error"]) == (404, "unknown-ruleset")
