"""``riskgrade serve``: time limit (408), API keys (401), the access log, what-if, and hot reload of a
served ruleset file -- each on a real server on 127.0.0.1."""

from __future__ import annotations

import json
import pathlib
import time

import jsonschema
import pytest

pytest.importorskip("fastapi")
import httpx

import riskgrade
from riskgrade._cli.doc import schema_for
from riskgrade._serve import ServeOptions, create_app, read_api_keys
from riskgrade._validate import jsonschema as _js

from ._serving import running
from .conftest import MINIMAL

JOB = {"id": "JOB-1", "L": 3, "E": 6, "C": 15}
RECORD = jsonschema.Draft202012Validator(schema_for("record"))
WHATIF = jsonschema.Draft202012Validator(_js.whatif_schema())


def test_a_request_over_the_time_limit_is_408_and_the_server_keeps_serving() -> None:
    riskgrade.load("lec-generic")  # compiled before: the limit is for the request, not the first compile
    with running(create_app(ServeOptions(timeout=0.5, max_batch=100_000))) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        assert c.post("/v1/grade/lec-generic", json=JOB).status_code == 200  # a small one is in time
        started = time.monotonic()
        r = c.post("/v1/explain/lec-generic", json=[JOB] * 20_000)
        took = time.monotonic() - started
        assert (r.status_code, r.json()["error"], r.json()["status"]) == (408, "timeout", 408)
        assert took < 20, took  # answered at the limit, not after the whole batch
        assert c.get("/healthz").status_code == 200
        assert c.post("/v1/grade/lec-generic", json=JOB).json()["level"] == "ORANGE"


def test_api_keys(tmp_path: pathlib.Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# platform keys\nk-one\n\nk-two\n", encoding="utf-8")
    assert read_api_keys(str(keys), "k-three, k-one") == ("k-one", "k-two", "k-three")
    with running(create_app(ServeOptions(api_keys=read_api_keys(str(keys))))) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/v1/grade/lec-generic", json=JOB)
        assert (r.status_code, r.json()["error"]) == (401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert c.post("/v1/grade/lec-generic", json=JOB, headers={"Authorization": "Bearer k-wrong"}).status_code == 401
        assert c.post("/v1/grade/lec-generic", json=JOB, headers={"Authorization": "Bearer k-two"}).status_code == 200
        assert c.get("/v1/rulesets", headers={"X-API-Key": "k-one"}).status_code == 200
        assert c.get("/healthz").status_code == 200  # liveness and the document stay open
        doc = c.get("/openapi.json").json()
        assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
        assert doc["paths"]["/v1/grade/{ruleset}"]["post"]["security"] == [{"bearer": []}, {"apiKey": []}]


def test_api_keys_guard_every_path_but_the_open_ones_also_when_mounted() -> None:
    """Under a prefix (the app mounted in a platform's own ASGI app) the guard still applies; anything not
    known to be open needs a key (an odd spelling of a path is refused, not let through); a key given only
    as its SHA-256 (how ``--workers`` passes keys) is accepted as the key itself is."""
    from fastapi import FastAPI
    from fastapi.routing import Mount

    from riskgrade._serve.app import key_digest

    outer = FastAPI(routes=[Mount("/rg", app=create_app(ServeOptions(api_key_digests=(key_digest("k-d"),))))])
    with running(outer) as url, httpx.Client(base_url=url, timeout=60) as c:
        for path in ("/rg/v1/rulesets", "/rg/v1/rulesets/lec-generic", "/rg//v1/rulesets", "/rg/V1/rulesets",
                     "/rg/v1/../v1/rulesets", "/rg/nowhere"):
            assert c.get(path).status_code == 401, path
        assert c.get("/rg/v1/rulesets", headers={"X-API-Key": "k-d"}).status_code == 200
        assert c.get("/rg/v1/rulesets", headers={"X-API-Key": key_digest("k-d")}).status_code == 401
        assert c.get("/rg/healthz").status_code == 200 and c.get("/rg/openapi.json").status_code == 200


def test_access_log_has_one_line_per_decision(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "access.jsonl"
    with running(create_app(ServeOptions(access_log=str(log)))) as url, httpx.Client(base_url=url, timeout=60) as c:
        batch = c.post("/v1/grade/lec-generic", json=[JOB, {"L": 3}, "x"]).json()
        c.post("/v1/grade/lec-generic?receipt=false", json={"L": 1, "E": 1, "C": 1})
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [(d["path"], d["ruleset"], d["index"], d["id"], d["level"], d["error"]) for d in lines] == [
        ("grade", "lec-generic", 0, "JOB-1", "ORANGE", None), ("grade", "lec-generic", 1, None, None, "missing-fact"),
        ("grade", "lec-generic", 2, None, None, "not-a-mapping"), ("grade", "lec-generic", 0, None, "BLUE", None)]
    assert lines[0]["receipt"] == batch[0]["receipt"]["id"] and lines[3]["receipt"] is None
    assert all(d["time"].endswith("+00:00") for d in lines)


def test_whatif() -> None:
    with running(create_app(ServeOptions())) as url, httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/v1/whatif/lec-generic?limit=2", json={"id": "a", "L": 3, "E": 3, "C": 40})
        assert r.status_code == 200, r.text
        d = r.json()
        WHATIF.validate(d)
        assert (d["level"], d["target"], d["id"], d["index"], d["more"]) == ("RED", "ORANGE", "a", 0, 1)
        assert [o["changes"] for o in d["options"]] == [{"L": [3, 1]}, {"E": [3, 2]}]
        r = c.post("/v1/whatif/lec-generic?target=BLUE&fix=L,E", json=[{"L": 3, "E": 3, "C": 40}, {"L": 3}])
        first, second = r.json()
        WHATIF.validate(first)
        assert first["target"] == "BLUE" and all(set(o["changes"]) == {"C"} for o in first["options"])
        RECORD.validate(second)
        assert second["error"] == "missing-fact"
        assert c.post("/v1/whatif/lec-generic?fix=Q", json={}).json()["error"] == "unknown-input"
        assert c.post("/v1/whatif/lec-generic?target=PURPLE", json={}).status_code == 422


def test_a_changed_file_is_served_and_a_broken_one_is_not_swapped_in(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    with running(create_app(ServeOptions((str(path),), reload_check=0))) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        assert c.post("/v1/grade/tiny", json={"x": 15}).json()["level"] == "YELLOW"
        time.sleep(0.01)
        path.write_text(MINIMAL.replace("to: 20", "to: 14").replace("from: 20", "from: 14"), encoding="utf-8")
        assert c.post("/v1/grade/tiny", json={"x": 15}).json()["level"] == "ORANGE"  # picked up, no restart
        changed = c.post("/v1/grade/tiny", json={"x": 15}).json()["receipt"]["ruleset"]["fingerprint"]
        time.sleep(0.01)
        path.write_text(MINIMAL.replace("cite: {source: s}", "cite: {source: nope}"), encoding="utf-8")
        r = c.post("/v1/grade/tiny", json={"x": 15})
        assert r.status_code == 200 and r.json()["level"] == "ORANGE"  # the last good one still serves
        assert r.json()["receipt"]["ruleset"]["fingerprint"] == changed
        stale = c.get("/healthz").json()["stale"]
        assert list(stale) == ["tiny"] and "nope" in stale["tiny"]
        time.sleep(0.01)
        path.write_text(MINIMAL, encoding="utf-8")
        assert c.post("/v1/grade/tiny", json={"x": 15}).json()["level"] == "YELLOW"
        assert "stale" not in c.get("/healthz").json()


def test_a_changed_file_is_looked_at_once_per_reload_check(tmp_path: pathlib.Path) -> None:
    """With ``reload_check`` seconds, a request within that time of the last look serves what was loaded
    then (no stat calls); the first request after it serves the changed file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    with running(create_app(ServeOptions((str(path),), reload_check=0.5))) as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        looked = time.monotonic()  # before the request: the server looked at the file no earlier than this
        assert c.post("/v1/grade/tiny", json={"x": 15}).json()["level"] == "YELLOW"
        path.write_text(MINIMAL.replace("to: 20", "to: 14").replace("from: 20", "from: 14"), encoding="utf-8")
        level = c.post("/v1/grade/tiny", json={"x": 15}).json()["level"]
        if time.monotonic() - looked < 0.5:  # (a machine slow enough to pass the interval proves nothing here)
            assert level == "YELLOW"
        time.sleep(0.6)
        assert c.post("/v1/grade/tiny", json={"x": 15}).json()["level"] == "ORANGE"
