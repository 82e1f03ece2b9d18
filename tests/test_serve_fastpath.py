"""The batch path of ``POST /v1/grade/{ruleset}`` (``riskgrade._serve.app._BatchGrade``) answers what the
FastAPI route answers: the same status, headers, body bytes and access-log lines, for every request --
those it answers itself and those it passes on (one record, a bad body, a body or batch too large, an
unknown ruleset, a parameter spelt another way, API keys). Two real servers, one with the path and one
without (``create_app(fast=False)``), get the same requests."""

from __future__ import annotations

import contextlib
import json
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskgrade._serve import ServeOptions, create_app
from riskgrade._serve import app as _app
from riskgrade._source.registry import find_shipped

from ._serving import running

RS = "lec-generic"


@contextlib.contextmanager
def pair(tmp: pathlib.Path, **opts: Any) -> Iterator[tuple[httpx.Client, httpx.Client, pathlib.Path, pathlib.Path]]:
    """A server with the batch path and one without, the same options, each with its own access log."""
    logs = tmp / "fast.log", tmp / "slow.log"
    for p in logs:
        p.write_text("")
    fast_app = create_app(ServeOptions(access_log=str(logs[0]), **opts))
    slow_app = create_app(ServeOptions(access_log=str(logs[1]), **opts), fast=False)
    with running(fast_app) as fast_url, running(slow_app) as slow_url, \
            httpx.Client(base_url=fast_url, timeout=60) as fast, httpx.Client(base_url=slow_url, timeout=60) as slow:
        yield fast, slow, logs[0], logs[1]


def log_lines(path: pathlib.Path, start: int) -> list[dict[str, Any]]:
    # split at "\n" only: an id may hold U+2028 or U+0085, which the log writes as they are
    out = [json.loads(ln) for ln in path.read_text(encoding="utf-8").split("\n")[start:] if ln]
    for d in out:
        assert d.pop("time")  # the one field that differs between the two servers
    return out


def headers_of(res: httpx.Response) -> list[tuple[str, str]]:
    """The response's headers but the date, a redirect's location without the server's own address."""
    base = str(res.request.url.copy_with(path="/", query=None))[:-1]
    return [(k, v.replace(base, "") if k == "location" else v) for k, v in res.headers.items() if k != "date"]


def same(fast: httpx.Client, slow: httpx.Client, logs: tuple[pathlib.Path, pathlib.Path], url: str,
         content: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """Post to both servers and check they answer alike; the fast server's response."""
    before = [p.read_text(encoding="utf-8").count("\n") for p in logs]
    a = fast.post(url, content=content, headers=headers or {})
    b = slow.post(url, content=content, headers=headers or {})
    assert (a.status_code, a.content) == (b.status_code, b.content), (url, content[:200])
    assert headers_of(a) == headers_of(b)
    assert log_lines(logs[0], before[0]) == log_lines(logs[1], before[1])
    return a


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, httpx.Client,
                                                                        tuple[pathlib.Path, pathlib.Path]]]:
    with pair(tmp_path_factory.mktemp("fastpath"), max_body=4096, max_batch=20) as (fast, slow, a, b):
        yield fast, slow, (a, b)


def batch(n: int, seed: int = 0) -> list[dict[str, Any]]:
    scale = (10, 6, 3, 1, 0.5)
    return [{"id": f"r{seed}-{i}", "L": scale[i % 5], "E": scale[(i + seed) % 5] if i % 3 else 6, "C": 15}
            for i in range(n)]


CASES = [
    ("", json.dumps(batch(5)).encode()),  # new facts: graded in the worker thread
    ("", json.dumps(batch(5)).encode()),  # the same facts again: answered on the event loop
    ("?receipt=false", json.dumps(batch(7, 1)).encode()),
    ("?receipt=0&id_field=code", json.dumps([{"code": "x", "L": 3, "E": 6, "C": 7}]).encode()),
    ("?receipt=1&lang=zh", json.dumps(batch(3, 2)).encode()),
    ("?receipt=yes", json.dumps(batch(3)).encode()),  # a spelling FastAPI reads and the batch path leaves to it
    ("?receipt=maybe", json.dumps(batch(3)).encode()),  # a 400 from FastAPI
    ("?receipt=true&receipt=false", json.dumps(batch(3)).encode()),  # given twice: FastAPI decides
    ("?jurisdiction=620000", json.dumps(batch(3)).encode()),
    ("?jurisdiction=", json.dumps(batch(3)).encode()),
    ("?unknown=1", json.dumps(batch(3)).encode()),
    ("", b"[]"),
    ("", json.dumps([{"id": "a", "L": 3}, "oops", None, [1], {"L": 3, "E": 6, "C": 7}]).encode()),  # errors inline
    ("", json.dumps({"id": "one", "L": 3, "E": 6, "C": 7}).encode()),  # one record: the route
    ("", json.dumps({"id": "one", "L": 3}).encode()),  # one wrong record: the route's 422
    ("", b'[{"L": 3, "L": 6}]'),  # a key twice: the route's 400
    ("", b"[{"),  # not JSON
    ("", b"\xff[]"),  # not UTF-8
    ("", json.dumps(batch(21)).encode()),  # more than max_batch: 413
    ("", json.dumps(batch(200)).encode()),  # more than max_body: 413
    ("", " ".join(["[]"] * 3000).encode()),  # more than max_body, not JSON either
]


@pytest.mark.parametrize(("query", "body"), CASES)
def test_the_batch_path_answers_as_the_route(servers: Any, query: str, body: bytes) -> None:
    fast, slow, logs = servers
    same(fast, slow, logs, f"/v1/grade/{RS}{query}", body)


@pytest.mark.parametrize("ref", ["no-such-ruleset", "a.yaml", "lec-generic@1999"])
def test_a_ruleset_that_does_not_load_is_the_routes_error(servers: Any, ref: str) -> None:
    fast, slow, logs = servers
    res = same(fast, slow, logs, f"/v1/grade/{ref}", json.dumps(batch(2)).encode())
    assert res.status_code in (404, 422)


def test_other_paths_and_methods_pass_through(servers: Any) -> None:
    fast, slow, logs = servers
    same(fast, slow, logs, f"/v1/explain/{RS}", json.dumps(batch(2)).encode())
    same(fast, slow, logs, "/v1/grade/", json.dumps(batch(2)).encode())
    same(fast, slow, logs, f"/v1/grade/{RS}/", json.dumps(batch(2)).encode())
    assert fast.get(f"/v1/grade/{RS}").status_code == slow.get(f"/v1/grade/{RS}").status_code == 405


def test_known_batches_are_answered_on_the_loop_and_new_ones_in_a_thread(servers: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The path is taken (the comparisons above are not between two FastAPI routes): a batch of new facts goes
    to the worker thread, the same facts again are answered from the kept templates alone."""
    calls: list[str] = []
    real_answer, real_grade = _app.answer_batch, _app.grade_batch

    def answer(*a: Any, **k: Any) -> Any:
        got = real_answer(*a, **k)
        calls.append("loop" if got is not None else "loop-miss")
        return got

    def grade(*a: Any, **k: Any) -> Any:
        calls.append("thread")
        return real_grade(*a, **k)

    monkeypatch.setattr(_app, "answer_batch", answer)
    monkeypatch.setattr(_app, "grade_batch", grade)
    fast, _slow, _logs = servers
    body = json.dumps([{"id": f"n{i}", "L": 0.2, "E": 0.5, "C": 100 + i} for i in range(3)]).encode()
    assert fast.post(f"/v1/grade/{RS}", content=body).status_code == 200
    assert fast.post(f"/v1/grade/{RS}", content=body).status_code == 200
    # the first: the ruleset not yet looked at by this server for the request's jurisdiction, or new facts
    assert calls[-1] == "loop" and "thread" in calls[:-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.fixed_dictionaries({}, optional={
    "id": st.none() | st.text(max_size=3) | st.integers(-3, 3) | st.booleans(),
    "L": st.sampled_from([10, 6, 3, 1, 0.5, 3.0, True, "3", None]),
    "E": st.sampled_from([10, 6, 3, 2, 1, 0.5]), "C": st.sampled_from([100, 40, 15, 7, 3, 1, -1])})
    | st.sampled_from(["x", 1, None]), max_size=8),
    query=st.sampled_from(["", "?receipt=false", "?id_field=L", "?id_field=", "?receipt=0&id_field=E"]))
def test_any_batch_is_answered_as_by_the_route(servers: Any, items: list[Any], query: str) -> None:
    fast, slow, logs = servers
    same(fast, slow, logs, f"/v1/grade/{RS}{query}", json.dumps(items, ensure_ascii=False).encode())


def test_the_key_guard_is_before_the_batch_path(tmp_path: pathlib.Path) -> None:
    with pair(tmp_path, api_keys=("k-1",)) as (fast, slow, a, b):
        body = json.dumps(batch(3)).encode()
        no_key = same(fast, slow, (a, b), f"/v1/grade/{RS}", body)
        assert no_key.status_code == 401
        ok = same(fast, slow, (a, b), f"/v1/grade/{RS}", body, {"X-API-Key": "k-1"})
        assert ok.status_code == 200 and len(ok.json()) == 3
        again = same(fast, slow, (a, b), f"/v1/grade/{RS}", body, {"Authorization": "Bearer k-2"})
        assert again.status_code == 401


def test_a_batch_past_the_time_limit_is_a_408(tmp_path: pathlib.Path) -> None:
    """New facts go to the thread under the request's time limit (the kept ones take microseconds)."""
    with pair(tmp_path, timeout=0.05, max_batch=100_000, max_body=64 * 1024 * 1024) as (fast, slow, _a, _b):
        body = json.dumps([{"L": 3, "E": 6, "C": i} for i in range(25_000)]).encode()
        for client in (fast, slow):
            res = client.post(f"/v1/grade/{RS}", content=body)
            assert res.status_code == 408 and res.json()["error"] == "timeout"
        assert fast.post(f"/v1/grade/{RS}", json=batch(2)).status_code == 200  # and it goes on serving


def test_a_batch_answered_408_logs_no_decision(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the time limit the client gets a 408 while the worker thread may go on grading; what it
    finishes is not written to the access log on either path -- no decision was given. The thread is made
    to finish after the limit (the grading is the real one, then a pause), so that no timing decides."""
    real = _app.grade_batch
    finished: list[int] = []

    def late(*a: Any, **k: Any) -> Any:
        out = real(*a, **{**k, "deadline": float("inf")})
        time.sleep(0.6)  # past the 0.2 s limit: the client has its 408 by now
        finished.append(1)
        return out

    # a ruleset of its own: no answer kept by earlier tests (a batch answered wholly from kept answers never
    # reaches a worker thread)
    shipped = pathlib.Path(find_shipped(RS))
    own = tmp_path / "lec-408.yaml"
    own.write_text(shipped.read_text(encoding="utf-8").replace(f"id: {RS}\n", "id: lec-408\n", 1), encoding="utf-8")
    with pair(tmp_path, timeout=0.2, rulesets=(str(own),)) as (fast, slow, a, b):
        for client in (fast, slow):  # compiled before the clock runs (no time limit here)
            assert client.get("/v1/rulesets/lec-408").status_code == 200
        monkeypatch.setattr(_app, "grade_batch", late)
        for seed, client in enumerate((fast, slow)):
            res = client.post("/v1/grade/lec-408", content=json.dumps(batch(3, seed)).encode())
            assert (res.status_code, res.json()["error"]) == (408, "timeout")
        for _ in range(100):  # bounded: both abandoned threads finish and try to log
            if len(finished) == 2:
                break
            time.sleep(0.05)
        assert len(finished) == 2
        time.sleep(0.1)
        assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8") == ""
        monkeypatch.setattr(_app, "grade_batch", real)
        same(fast, slow, (a, b), "/v1/grade/lec-408", json.dumps(batch(2, 2)).encode())  # and they log what they answer
        assert a.read_text(encoding="utf-8").count("\n") == 2


def test_a_body_passed_on_to_the_route_is_read_once(servers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One record, a batch over --max-batch or an unknown ruleset: the batch path read the body and gives
    the route what it read (its time counted once, against one deadline), not the bytes to read again."""
    reads: list[int] = []
    real = _app.read_body

    def counted(*a: Any, **k: Any) -> Any:
        reads.append(1)
        return real(*a, **k)

    monkeypatch.setattr(_app, "read_body", counted)
    fast, _slow, _logs = servers
    for url, body in ((f"/v1/grade/{RS}", {"L": 3, "E": 6, "C": 7}), (f"/v1/grade/{RS}", batch(21)),
                      ("/v1/grade/no-such-ruleset", batch(2)), (f"/v1/grade/{RS}", [{"L": 3, "L2": 1}])):
        before = len(reads)
        assert fast.post(url, content=json.dumps(body).encode()).status_code in (200, 404, 413)
        assert len(reads) - before == 1, url
    before = len(reads)
    assert fast.post(f"/v1/grade/{RS}", content=b"[{").status_code == 400  # an error read once, too
    assert len(reads) - before == 1


def test_a_time_limit_already_past_is_a_408_on_both_paths(tmp_path: pathlib.Path) -> None:
    """The limit is looked at before any answer, also for a batch with nothing to grade (an empty one, or
    one whose every record was answered before), as the route's time limit is."""
    with pair(tmp_path, timeout=1e-6) as (fast, slow, a, b):
        for client in (fast, slow):  # compiled, so that nothing needs a worker thread
            assert client.get(f"/v1/rulesets/{RS}").status_code == 200
        for body in (b"[]", json.dumps(batch(3)).encode(), json.dumps(batch(3)).encode()):
            res = same(fast, slow, (a, b), f"/v1/grade/{RS}", body)
            assert res.status_code == 408
