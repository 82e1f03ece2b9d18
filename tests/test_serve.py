"""``riskgrade serve``: a real uvicorn server on 127.0.0.1 (a free port, in a thread), called with httpx."""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import riskgrade

pytest.importorskip("fastapi")
import httpx

from riskgrade._cli import main
from riskgrade._cli.doc import schema_for
from riskgrade._core.canonical import dumps
from riskgrade._serve import ServeOptions, create_app

from ._serving import running

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
DATA = pathlib.Path(__file__).resolve().parent / "data"
RECORD = jsonschema.Draft202012Validator(schema_for("record"))
JOBS = [{"id": "JOB-1", "L": 3, "E": 6, "C": 15}, {"id": "JOB-2", "L": 3, "E": 6, "C": 10}, "oops",
        {"id": 4, "L": 1, "E": 0.5, "C": 40}]


def _has_mes() -> bool:
    return any(ep.name == "mes" for ep in importlib.metadata.entry_points(group="riskgrade"))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    mes = DATA / "mes-test.yaml"
    served = (str(mes),) if os.environ.get("RISKGRADE_REQUIRE_PLUGINS") or _has_mes() else ()
    with running(create_app(ServeOptions(served, max_body=64 * 1024, max_batch=100))) as url:
        yield url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def test_healthz(client: httpx.Client) -> None:
    r = client.get("/healthz")
    assert (r.status_code, r.json()["status"]) == (200, "ok")


def test_grade_one(client: httpx.Client) -> None:
    r = client.post("/v1/grade/lec-generic", json={"id": "a", "L": 3, "E": 6, "C": 15})
    assert r.status_code == 200
    d = r.json()
    RECORD.validate(d)
    assert (d["level"], d["score"], d["id"], d["index"]) == ("ORANGE", 270, "a", 0)
    assert d["receipt"]["ruleset"]["id"] == "lec-generic"


def test_grade_batch_in_order_with_error_records(client: httpx.Client) -> None:
    r = client.post("/v1/grade/lec-generic", json=JOBS)
    assert r.status_code == 200
    out = r.json()
    for d in out:
        RECORD.validate(d)
    assert [(d["index"], d.get("id"), d.get("level") or d["error"]) for d in out] == [
        (0, "JOB-1", "ORANGE"), (1, "JOB-2", "not-allowed"), (2, None, "not-a-mapping"), (3, 4, "BLUE")]


def test_the_same_record_as_the_cli(client: httpx.Client) -> None:
    res = CliRunner().invoke(main, ["grade", "-r", "lec-generic", str(EXAMPLES / "lec-job.yaml"), "--format", "json"])
    cli = json.loads(res.output)
    facts = {"L": 3, "E": 6, "C": 15}
    http = client.post("/v1/grade/lec-generic", json=facts).json()
    drop = ("index", "record", "line")
    assert {k: v for k, v in http.items() if k not in drop} == {k: v for k, v in cli.items() if k not in drop}


def test_one_bad_record_is_422_with_its_error_record(client: httpx.Client) -> None:
    r = client.post("/v1/grade/lec-generic", json={"L": 3})
    assert r.status_code == 422
    RECORD.validate(r.json())
    assert (r.json()["error"], r.json()["field"]) == ("missing-fact", "E")


def test_explain_has_trace(client: httpx.Client) -> None:
    r = client.post("/v1/explain/lec-generic?lang=zh&receipt=false", json={"L": 3, "E": 6, "C": 15})
    assert r.status_code == 200 and "receipt" not in r.json()
    assert [s["kind"] for s in r.json()["trace"]] == ["input", "input", "input", "rule", "decision"]


def test_unknown_ruleset_is_404(client: httpx.Client) -> None:
    r = client.post("/v1/grade/nope", json={})
    assert (r.status_code, r.json()["error"], r.json()["load"]) == (404, "unknown-ruleset", "ruleset")


def test_bad_json_and_duplicate_keys_are_400(client: httpx.Client) -> None:
    r = client.post("/v1/grade/lec-generic", content=b"{oops", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (400, "bad-syntax")
    r = client.post("/v1/grade/lec-generic", content=b'{"L": 3, "L": 1}', headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (400, "duplicate-key")


def test_limits_are_413(client: httpx.Client) -> None:
    r = client.post("/v1/grade/lec-generic", json=[{"L": 3, "E": 6, "C": 15}] * 101)
    assert (r.status_code, r.json()["error"]) == (413, "too-many")
    r = client.post("/v1/grade/lec-generic", content=b" " * (64 * 1024 + 1), headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (413, "too-large")


def test_rulesets(client: httpx.Client) -> None:
    ids = [d["id"] for d in client.get("/v1/rulesets").json()]
    assert "lec-generic" in ids and "file" not in client.get("/v1/rulesets").json()[0]
    d = client.get("/v1/rulesets/lec-generic").json()
    assert d["fingerprint"].startswith("sha256:") and set(d["facts_schema"]["properties"]) >= {"L", "E", "C"}
    assert client.get("/v1/rulesets/nope").status_code == 404


def test_assess_a_register(client: httpx.Client) -> None:
    register = yaml.safe_load((EXAMPLES / "enterprises" / "chem-plant.yaml").read_text(encoding="utf-8"))
    r = client.post("/v1/assess?as_of=2024-06-30", content=json.dumps(register, default=str).encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["level"] == "RED"
    r = client.post("/v1/assess", json=[1])
    assert r.status_code == 422


def test_a_plugin_bug_is_500_and_the_server_keeps_serving(client: httpx.Client) -> None:
    if client.get("/v1/rulesets/mes-test").status_code != 200:
        pytest.skip("the mes test plugin is not installed")
    r = client.post("/v1/grade/mes-test", json={"M": 5, "E": 6, "S": 8, "probe": 0})
    assert (r.status_code, r.json()["error"], r.json()["function"], r.json()["plugin"]) == (
        500, "function-error", "mes_fail", "mes")
    batch = client.post("/v1/grade/mes-test", json=[{"M": 5, "E": 6, "S": 8}, {"M": 5, "E": 6, "S": 8, "probe": 0}])
    assert batch.status_code == 200
    assert [d.get("level") or d["error"] for d in batch.json()] == ["RED", "function-error"]
    assert client.get("/healthz").status_code == 200


def test_paths_are_not_served(client: httpx.Client) -> None:
    r = client.post("/v1/grade/x.yaml", json={})
    assert (r.status_code, r.json()["error"]) == (404, "unknown-ruleset")


def test_openapi_document(client: httpx.Client) -> None:
    doc: dict[str, Any] = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    assert {"/v1/grade/{ruleset}", "/v1/explain/{ruleset}", "/v1/assess", "/v1/rulesets", "/v1/rulesets/{ref}",
            "/healthz"} <= set(paths)
    schemas = doc["components"]["schemas"]
    assert {"Result", "Record", "Problem"} <= set(schemas)
    grade = paths["/v1/grade/{ruleset}"]["post"]
    assert {p["name"] for p in grade["parameters"]} >= {"ruleset", "jurisdiction", "lang", "receipt", "id_field"}
    assert "requestBody" in grade and {"200", "404", "413", "422", "500"} <= set(grade["responses"])
    # a client that knows only the document: every live answer fits its Record component
    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/Record",
                                                 "components": doc["components"]})
    for d in client.post("/v1/grade/lec-generic", json=JOBS).json():
        validator.validate(d)


@pytest.mark.parametrize("receipt", [True, False])
def test_a_batch_is_the_cli_json_lines(client: httpx.Client, tmp_path: pathlib.Path, receipt: bool) -> None:
    # the same records through `riskgrade grade --format json` (JSON Lines) and POST /v1/grade: the same
    # answer per record, byte for byte, but for where it came from (the CLI's file:line and line, the
    # service's <body>[index])
    recs: list[Any] = [{"id": f"R-{i}", "L": (10, 6, 3, 1, 0.5)[i % 5], "E": (10, 6, 3, 2)[i % 4],
                        "C": (100, 40, 15, 7, 3, 1)[i % 6]} for i in range(30)]
    recs += [{"id": "bad", "L": 4, "E": 6, "C": 15}, {"L": 3, "E": 6}, {"id": 7, "L": 3.0, "E": 6, "C": 15},
             {"id": "名", "L": 1, "E": 2, "C": 100, "note": "x"}, ["not", "a", "record"], {"id": None, "L": 1, "E": 1, "C": 1}]
    f = tmp_path / "batch.jsonl"
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    res = CliRunner().invoke(main, ["grade", "-r", "lec-generic", str(f), "--format", "json",
                                    *(() if receipt else ("--no-receipt",))], catch_exceptions=False)
    lines = res.output.splitlines()
    assert len(lines) == len(recs)
    want = [{**{k: v for k, v in json.loads(line).items() if k != "line"}, "record": f"<body>[{i}]"}
            for i, line in enumerate(lines)]
    http = client.post(f"/v1/grade/lec-generic?receipt={str(receipt).lower()}",
                       content=json.dumps(recs, ensure_ascii=False).encode("utf-8"),
                       headers={"content-type": "application/json"})
    assert http.status_code == 200
    assert http.content == dumps(want).encode("utf-8")
    assert sum("error" in d for d in want) == 4 and sum("receipt" in d for d in want) == (32 if receipt else 0)


def test_answers_reused_by_facts_are_each_records_to_json(client: httpx.Client) -> None:
    # records that repeat facts under varied ids (quotes, backslashes, Chinese, integers), posted twice: the
    # second answer comes from the templates the first one kept, and both are each record's to_json()
    # with its position (and receipt), error records inline
    rs = riskgrade.load("lec-generic")
    ids: list[Any] = ['q"1', "b\\2", "红-3", 4, "t\t5", "six"]
    facts = [{"L": 3, "E": 6, "C": 15}, {"L": 0.5, "E": 6, "C": 40}, {"L": 3, "E": 6, "C": 11}]
    recs = [{"id": ids[i % len(ids)], **facts[i % len(facts)]} for i in range(24)]
    for receipt in ("true", "false", "true"):
        http = client.post(f"/v1/grade/lec-generic?receipt={receipt}", json=recs)
        assert http.status_code == 200
        got = http.json()
        for i, (answer, rec) in enumerate(zip(got, recs, strict=True)):
            given = {k: v for k, v in rec.items() if k != "id"}
            where = {"id": rec["id"], "index": i, "record": f"<body>[{i}]"}
            if given["C"] == 11:  # not on the scale: the error record of the fact error
                with pytest.raises(riskgrade.FactError) as err:
                    rs.grade(given)
                assert answer == {"error": err.value.code, "message": err.value.message, "field": "C", **where}
                continue
            want = rs.grade(given).to_json(receipt=receipt == "true", facts=given)
            assert answer == {**json.loads(want), **where}
