"""``riskgrade grade --format json`` on JSON Lines (riskgrade._cli.stream): with orjson (the ``fast`` extra) and
without, byte for byte what the generic path writes, on every shipped ruleset's cases and on generated facts;
one write per batch of lines, whatever the buffering of standard output; a progress bar on a terminal for a
long input, none for a short one and none when piped."""

from __future__ import annotations

import json
import os
import pathlib
import pty
import select
import subprocess
import sys
import tempfile
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._cli import stream
from riskgrade._cli.main import _graded_records, main
from riskgrade._core.canonical import dumps
from riskgrade._source import jsondoc
from riskgrade._source.facts import function_error_dict, position, record_error_dict
from riskgrade.exceptions import FactError, FunctionError
from tests._facts import case_facts, facts_for, shipped_ids

PATHS = [pytest.param(True, id="orjson", marks=pytest.mark.skipif(not jsondoc.FAST, reason="no orjson")),
         pytest.param(False, id="pure")]


def generic(rs: riskgrade.Ruleset, path: pathlib.Path, id_field: str = "id") -> str:
    """What the generic loop of ``riskgrade grade --format json`` writes (the checked reader only)."""
    out = []
    old, jsondoc.FAST = jsondoc.FAST, False
    try:
        for rec, given_, rid, res in _graded_records(rs, str(path), id_field):
            if isinstance(res, FunctionError):
                out.append(dumps({**function_error_dict(res), **position(rec, rid)}))
            elif isinstance(res, FactError):
                out.append(dumps({**record_error_dict(rec, res), **position(rec, rid)}))
            else:
                out.append(dumps({**res.to_dict(lang="en", receipt=True, facts=given_), **position(rec, rid)}))
    finally:
        jsondoc.FAST = old
    return "".join(line + "\n" for line in out)


def streamed(rs: riskgrade.Ruleset, path: pathlib.Path, fast: bool, id_field: str = "id") -> str:
    got: list[str] = []
    old, jsondoc.FAST = jsondoc.FAST, fast and jsondoc.FAST
    try:
        stream.grade_jsonl(rs, str(path), lang="en", receipt=True, id_field=id_field, write=got.append)
    finally:
        jsondoc.FAST = old
    return "".join(got)


def jsonl(rows: list[Any]) -> str:
    # each record twice with an id and once without (templates by bytes and by facts), plus odd lines
    lines = ['{"first": "line"}']
    for i, r in enumerate(rows):
        if isinstance(r, dict):
            lines += [json.dumps({"id": f"rp-{i}", **r}, ensure_ascii=False), json.dumps(r), json.dumps(r),
                      json.dumps({**r, "id": i})]
        else:
            lines.append(json.dumps(r))
    lines += ["", "{bad", '{"a": 1, "a": 2}', '{"t": "12:00"}', '{"n": 123456789012345678901234}', "[1]"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fast", PATHS)
@pytest.mark.parametrize("rid", shipped_ids())
def test_every_case_byte_for_byte(tmp_path: pathlib.Path, rid: str, fast: bool) -> None:
    rs = riskgrade.load(rid)
    f = tmp_path / "cases.jsonl"
    f.write_text(jsonl(case_facts(rs)), encoding="utf-8")
    assert streamed(rs, f, fast) == generic(rs, f)


@pytest.mark.parametrize("fast", PATHS)
@pytest.mark.parametrize("rid", ["lec-generic", "ls-matrix", "hazchem-gb18218", "crowded-places-major-fire-hazards"])
def test_generated_facts_byte_for_byte(tmp_path: pathlib.Path, rid: str, fast: bool) -> None:
    rs = riskgrade.load(rid)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(facts_for(rs), facts_for(rs), facts_for(rs))
    def run(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> None:
        f = tmp_path / "gen.jsonl"
        f.write_text(jsonl([a, b, a, c, b]), encoding="utf-8")
        assert streamed(rs, f, fast) == generic(rs, f)

    run()


def test_both_paths_write_the_same_bytes_with_a_small_cache(tmp_path: pathlib.Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "CACHE_LIMIT", 3)
    rs = riskgrade.load("lec-generic")
    f = tmp_path / "f.jsonl"
    f.write_text("".join(json.dumps({"id": [f"x{i}", i, None][i % 3], "L": [3, 6, 1, 10, 0.5, -0.0][i % 6], "E": 6,
                                     "C": [15, 99, 7][i % 3]}) + "\n" for i in range(300)), encoding="utf-8")
    want = generic(rs, f)
    assert streamed(rs, f, True) == want == streamed(rs, f, False)


def _run_cli(args: list[str], stderr: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = os.path.join(os.path.dirname(sys.executable), "riskgrade")
    return subprocess.run([exe, *args], stdout=subprocess.PIPE, stderr=stderr, timeout=300, check=False,
                          env={**os.environ, **(env or {})})


def _on_a_terminal(args: list[str]) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    master, slave = pty.openpty()
    try:
        proc = _run_cli(args, slave)
        os.close(slave)
        seen = b""
        while select.select([master], [], [], 1)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    return proc, seen


def test_progress_bar_on_a_terminal_for_a_long_input_only(tmp_path: pathlib.Path) -> None:
    long, short = tmp_path / "long.jsonl", tmp_path / "short.jsonl"
    line = '{"id": "%d-%s", "L": 3, "E": 6, "C": 15}\n'
    n = stream.PROGRESS_BYTES // len(line % (0, "x" * 60)) + 10
    long.write_text("".join(line % (i, "x" * 60) for i in range(n)), encoding="utf-8")
    short.write_text("".join(line % (i, "x") for i in range(50)), encoding="utf-8")
    for facts, k in ((long, n), (short, 50)):
        args = ["grade", "-r", "lec-generic", str(facts), "--format", "json"]
        piped = _run_cli(args, subprocess.PIPE)
        assert (piped.returncode, piped.stderr, len(piped.stdout.splitlines())) == (0, b"", k)
        on_tty, seen = _on_a_terminal(args)
        assert on_tty.returncode == 0 and on_tty.stdout == piped.stdout
        if facts is long:
            assert f"[{'#' * 30}] 100.0% {n:,} records".encode() in seen
        else:
            assert seen == b""  # a short input finishes before a bar would help


def test_one_write_per_batch_even_unbuffered(tmp_path: pathlib.Path) -> None:
    # PYTHONUNBUFFERED makes every write of sys.stdout a system call: lines go out in batches all the same
    facts = tmp_path / "f.jsonl"
    facts.write_text("".join(json.dumps({"id": i, "L": 3, "E": 6, "C": 15}) + "\n" for i in range(3 * stream._BATCH)),
                     encoding="utf-8")
    args = ["grade", "-r", "lec-generic", str(facts), "--format", "json"]
    calls: list[str] = []
    stream.grade_jsonl(riskgrade.load("lec-generic"), str(facts), lang="zh", receipt=True, id_field="id",
                       write=calls.append)
    assert len(calls) == 3 and all(c.count("\n") == stream._BATCH for c in calls)
    unbuffered = _run_cli(args, subprocess.PIPE, {"PYTHONUNBUFFERED": "1"})
    assert unbuffered.stdout == "".join(calls).encode("utf-8")
    assert unbuffered.stdout == CliRunner().invoke(main, args).stdout_bytes


ID_TEXTS = ["rp-1", "rp-2", "点位-3", "a:b", "a,b", "}", "{", "[", "riskgrade:probe", "L", "3", "", " ", "x\u2028y",
            "\x7f"]


@st.composite
def id_lines(draw: Any) -> list[str]:
    """JSON Lines of a few facts, each written with many ids, plainly or escaped, the id in different
    places, now and then a duplicate id key, an id that is also another key or value, or a broken line."""
    facts = draw(st.lists(st.fixed_dictionaries({"L": st.sampled_from([3, 6, 3.0]), "E": st.sampled_from([6, 1]),
                                                 "C": st.sampled_from([15, 99])}), min_size=1, max_size=3))
    ids = st.sampled_from(ID_TEXTS[:3]) | st.sampled_from(ID_TEXTS) | st.text(max_size=4) | st.integers(-3, 3)
    out = []
    for _ in range(draw(st.integers(4, 24))):
        f = draw(st.sampled_from(facts))
        rid = draw(ids)
        enc = json.dumps(rid, ensure_ascii=draw(st.booleans()))
        body = ", ".join(f'"{k}": {json.dumps(v)}' for k, v in f.items())
        how = draw(st.integers(0, 9))
        if how == 0:
            line = f'{{{body}, "id": {enc}}}'
        elif how == 1:
            line = f'{{"id": {enc}, "id": {enc}, {body}}}'
        elif how == 2:
            line = f'{{"id": {enc}, {body}, "note_{rid}": 1}}'.replace('"note_', '"L_')
        elif how == 3:
            line = f'{{"id":{enc},{body.replace(", ", ",")}}}'
        elif how in (5, 6) and isinstance(rid, str):  # the id escaped, its plain text elsewhere in the line
            esc = "".join(f"\\u{ord(ch):04x}" for ch in rid)
            other = json.dumps(draw(st.sampled_from([rid, "rp-1", "rp-2"])))
            line = f'{{"id": "{esc}", {body}, "n": {other}}}' if how == 5 else f'{{"id": "{esc}", {other}: 1, {body}}}'
        elif how == 4:
            line = f'{{"id": "{rid}", {body}}}' if isinstance(rid, str) else f'{{"id": {enc}, {body}'
        else:
            line = f'{{"id": {enc}, {body}}}'
        out.append(line)
    return out


@pytest.mark.skipif(not jsondoc.FAST, reason="shapes are learnt from orjson keys")
@given(id_lines())
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_lines_that_differ_only_by_their_id_text(lines: list[str]) -> None:
    # the shape of a line (head + id + tail) is reused only where that is the same facts with another id
    rs = riskgrade.load("lec-generic")
    with tempfile.TemporaryDirectory() as tmp:
        f = pathlib.Path(tmp) / "ids.jsonl"
        f.write_bytes(("\n".join(['{"first": 1}', *lines]) + "\n").encode("utf-8", "surrogatepass"))
        assert streamed(rs, f, True) == generic(rs, f)


@pytest.mark.skipif(not jsondoc.FAST, reason="shapes are learnt from orjson keys")
def test_a_shape_is_learnt_and_used(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a guard against a shape cache that never hits: lines after the first two are not decoded at all
    f = tmp_path / "f.jsonl"
    f.write_text("".join(f'{{"id": "rp-{i}", "L": 3, "E": 6, "C": 15}}\n' for i in range(50)), encoding="utf-8")
    rs = riskgrade.load("lec-generic")
    want = generic(rs, f)
    calls = []
    real = stream._quick
    monkeypatch.setattr(stream, "_quick", lambda raw, lim: calls.append(raw) or real(raw, lim))
    assert streamed(rs, f, True) == want
    assert len(calls) == 2  # line 2 (line 1 goes the generic way) and the probe
