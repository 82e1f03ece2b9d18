"""Issue 10: every input gets a typed answer, work is bounded, rulesets and errors pickle.

Each case asserts the typed error (a ``RiskgradeError`` subclass with a stable code). Time checks are
guards against a hang coming back (generous, never performance assertions, on CPU time); ``_guard`` arms
a CPU-time timer (ITIMER_PROF) so that a regression fails instead of hanging the run, whatever else the machine runs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import json
import multiprocessing
import pathlib
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade import FactError, Limits, RulesetError
from riskgrade._api import compile_located
from riskgrade._cli.main import main
from riskgrade._core.canonical import dumps, fmt_number
from riskgrade._source.facts import read_facts
from riskgrade._source.jsondoc import JSONDocError, parse_json
from riskgrade._source.yaml import Located, load_yaml, parse_yaml
from riskgrade.exceptions import (
    EventError,
    FunctionError,
    GraphError,
    MonitorError,
    PluginError,
    Problem,
    RefinementError,
)

from .conftest import MINIMAL

ROOT = pathlib.Path(__file__).resolve().parent.parent
LEC = {"L": 3, "E": 6, "C": 15}


@contextlib.contextmanager
def _guard(seconds: float = 5.0) -> Iterator[None]:
    """Fail (not hang) if the block uses more than ``seconds`` of this process's CPU time (a guard, not a
    benchmark). CPU time, not wall time: a hang in Python burns CPU, while other processes on a busy
    machine do not count against the block (ITIMER_PROF counts user + system time of this process)."""

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds} s of CPU time")

    old = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def _ruleset(tmp_path: pathlib.Path, inputs: str, expr: str = "x", derive: str = "", extra: str = "") -> str:
    text = MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n", inputs).replace("    expr: x\n",
                                                                                      f"    expr: {json.dumps(expr)}\n")
    if derive:
        text = text.replace("bands:\n", f"derive:\n{derive}bands:\n", 1)
    p = tmp_path / f"rs{abs(hash((inputs, expr, derive, extra)))}.yaml"
    p.write_text(text + extra, encoding="utf-8")
    return str(p)


def _laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for i in range(levels - 1):
        name = f"b{i}"
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
        prev = name
    return "\n".join(lines) + "\n"


# -- 1. every input gets a typed answer ---------------------------------------------------------
class TestFactValuesOfAnyType:
    @pytest.mark.parametrize("value", [{"v": 3}, [3], [[3]], {}, [], None, "3", True, {"a": [1, {"b": 2}]}])
    def test_any_json_value_where_a_number_belongs(self, value: Any) -> None:
        rs = riskgrade.load("lec-generic")
        with pytest.raises(FactError) as ei:
            rs.grade({**LEC, "L": value})
        assert ei.value.code == "wrong-type" and ei.value.field == "L"

    @pytest.mark.parametrize("ref", ["ls-matrix", "hazchem-risk-point-lec", "nonmetal-mine@2017", "coal-risk-point"])
    def test_dicts_and_lists_in_every_field_of_shipped_rulesets(self, ref: str) -> None:
        rs = riskgrade.load(ref)
        for name in rs.inputs:
            for bad in ({"v": 3}, [[1], {"x": 1}], {1: 2}):
                out = list(rs.grade_many([{name: bad}]))
                assert len(out) == 1 and isinstance(out[0], FactError), (name, out)

    def test_grade_many_keeps_n_in_n_out(self) -> None:
        rs = riskgrade.load("lec-generic")
        recs = [LEC, {**LEC, "L": {"v": 3}}, {**LEC, "E": [6]}, LEC]
        out = list(rs.grade_many(recs))
        assert [type(o).__name__ for o in out] == ["Assessment", "FactError", "FactError", "Assessment"]
        assert [o.code for o in out if isinstance(o, FactError)] == ["wrong-type", "wrong-type"]

    def test_cli_batch_goes_on_past_a_dict_value(self, tmp_path: pathlib.Path) -> None:
        lines = [json.dumps({**LEC, "L": {"v": 3}} if i == 3 else LEC) for i in range(50)]
        f = tmp_path / "facts.jsonl"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        res = CliRunner().invoke(main, ["grade", "-r", "lec-generic", str(f), "--format", "json"],
                                 catch_exceptions=False)
        out = [json.loads(x) for x in res.output.splitlines() if x.strip()]
        assert len(out) == 50 and out[3]["error"] == "wrong-type"

    def test_cases_with_dict_values(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number, min: 0, max: 100}\n", extra=(
            "cases:\n  - note: a dict\n    facts: {x: {v: 3}}\n    want_error: {code: wrong-type, field: x}\n"
            "  - note: a list of lists\n    facts: {x: [[1]]}\n    want_error: {code: wrong-type}\n"))
        results = riskgrade.load(path).run_cases()
        assert [r.ok for r in results] == [True, True], [r.problems for r in results]

    @pytest.mark.parametrize("facts", [{"t": {"a": 1}}, {"t": [1, 2]}, {"t": {"a"}}])
    def test_unhashable_values_for_text_and_enum(self, tmp_path: pathlib.Path, facts: dict[str, Any]) -> None:
        path = _ruleset(tmp_path, "  t: {type: enum, values: [a, b]}\n", expr="1 if t == 'a' else 25")
        with pytest.raises(FactError) as ei:
            riskgrade.load(path).grade(facts)
        assert ei.value.code == "wrong-type"

    def test_error_messages_do_not_format_a_huge_value(self) -> None:
        rs = riskgrade.load("lec-generic")
        for value in ("x" * 10**7, list(range(10**6)), _nested(10**4)):
            with pytest.raises(FactError) as ei:
                rs.grade({**LEC, "L": value})
            assert len(str(ei.value)) < 300


def _nested(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


class TestArithmeticStaysRealAndFinite:
    def test_negative_to_a_fractional_power(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number, min: -100, max: 100}\n", expr="y",
                        derive="  y: x ** 0.5\n")
        rs = riskgrade.load(path)
        assert rs.grade({"x": 16}).score == 4.0
        with pytest.raises(FactError) as ei:
            rs.grade({"x": -4})
        assert ei.value.code == "not-real" and ei.value.field == "y"

    @pytest.mark.parametrize("expr,code", [("x * 1e308 * 10", "not-finite"), ("x / 0", "eval-error"),
                                           ("(x * 1e300) ** 8", "not-finite")])
    def test_overflow_and_nan(self, tmp_path: pathlib.Path, expr: str, code: str) -> None:
        path = _ruleset(tmp_path, "  x: {type: number}\n", expr="y", derive=f"  y: {json.dumps(expr)}\n")
        with pytest.raises(FactError) as ei:
            riskgrade.load(path).grade({"x": 10.0})
        assert ei.value.code == code and ei.value.field == "y"

    def test_a_1000_digit_score_formats_and_serialises(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number}\n", expr="x")
        big = 10**999 + 7
        a = riskgrade.load(path).grade({"x": big})
        assert a.score == big
        text = a.to_json(trace=True)
        assert json.loads(text)["score"] == big
        assert fmt_number(big) == "1e+999" and fmt_number(-(10**5000)) == "-1e+5000"
        assert "1e+999" in a.explain()

    def test_a_derived_list_with_an_infinity(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number}\n", expr="len(y)", derive="  y: '[x, x * 1e308 * 10]'\n")
        with pytest.raises(FactError) as ei:
            riskgrade.load(path).grade({"x": 10.0})
        assert ei.value.code == "not-finite" and ei.value.field == "y"
        assert riskgrade.load(path).grade({"x": 1e-10}).to_json()

    def test_integers_beyond_the_digit_limit(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number}\n", expr="x")
        with pytest.raises(FactError) as ei:
            riskgrade.load(path).grade({"x": 10**1000})
        assert ei.value.code == "too-large" and ei.value.field == "x"
        assert len(str(ei.value)) < 200

    def test_to_json_of_generated_values(self, tmp_path: pathlib.Path) -> None:
        # a derived float that is not finite never reaches to_json
        path = _ruleset(tmp_path, "  x: {type: number}\n", expr="x", derive="  y: x * x * x * x\n")
        with pytest.raises(FactError) as ei:
            riskgrade.load(path).grade({"x": 1e300})
        assert ei.value.code == "not-finite"


class TestDocuments:
    @pytest.mark.parametrize("text", ["a: !!timestamp 'x'\n", "a: !!timestamp 1\n", "? !!timestamp 2001-13-45\n: 1\n",
                                      "a: 2002-12-14 99:99:99\n", "a: [!!timestamp '2001-12-14t21:59:43.10-99:99']\n"])
    def test_odd_timestamps(self, text: str) -> None:
        with pytest.raises(RulesetError) as ei:
            parse_yaml(text, "t.yaml")
        assert ei.value.codes and set(ei.value.codes) <= {"yaml-value", "yaml-syntax"}

    @pytest.mark.parametrize("key", [float("nan"), datetime.date(2020, 1, 1), None, float("inf")])
    def test_odd_keys_in_a_ruleset(self, key: Any) -> None:
        loc = load_yaml(str(ROOT / "tests" / "data" / "lec-flat.yaml"))
        data = dict(loc.data)
        data["title"] = {**data["title"], key: "x"}
        data["sources"] = {**data["sources"], key: {"title": "t"}}
        with pytest.raises(RulesetError):
            compile_located(Located(data, loc.file, loc.marks))

    @pytest.mark.parametrize("method", [["lec"], {"a": 1}, 3, None])
    def test_mutated_method(self, method: Any) -> None:
        loc = load_yaml(str(ROOT / "rulesets" / "lec-generic.yaml"))
        data = dict(loc.data)
        data["rules"] = [{**data["rules"][0], "method": method}]
        with pytest.raises(RulesetError):
            compile_located(Located(data, loc.file, loc.marks))

    def test_deep_yaml(self, tmp_path: pathlib.Path) -> None:
        for text in ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "".join(" " * i + "a:\n" for i in range(2000))):
            with _guard(), pytest.raises(RulesetError) as ei:
                parse_yaml(text, "deep.yaml")
            assert ei.value.codes == ["too-deep"]

    @pytest.mark.parametrize("name", ["f.json", "f.jsonl", "f.yaml"])
    def test_deep_facts(self, tmp_path: pathlib.Path, name: str) -> None:
        f = tmp_path / name
        if name.endswith(".yaml"):
            f.write_text("L: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
        else:
            f.write_text('{"L": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
        with _guard():
            try:
                recs = list(read_facts(str(f)))
            except FactError as e:
                assert e.code == "too-deep"
            else:
                assert len(recs) == 1 and recs[0].error is not None and recs[0].error.code == "too-deep"

    def test_deep_json_register(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "ent.json"
        f.write_text('{"id": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
        with _guard(), pytest.raises(FactError) as ei:
            riskgrade.load_enterprise(str(f))
        assert ei.value.code == "too-deep"
        with _guard(), pytest.raises(FactError):
            riskgrade.assess(None, str(f))

    def test_moderately_deep_json_is_refused_by_the_limit_not_by_recursion(self) -> None:
        with pytest.raises(JSONDocError) as ei:
            parse_json("[" * 500 + "]" * 500, "x.json")
        assert ei.value.code == "too-deep"
        assert parse_json("[" * 50 + "]" * 50, "x.json") is not None

    @pytest.mark.parametrize("name,text", [
        ("f.yaml", "L: 3\nE: 6\nL: 10\nC: 15\n"),
        ("f.json", '{"L": 3, "E": 6, "L": 10, "C": 15}'),
        ("f.json", '[{"L": 3, "E": 6, "C": 15, "C": 1}]'),
    ])
    def test_duplicate_keys_in_facts(self, tmp_path: pathlib.Path, name: str, text: str) -> None:
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        with pytest.raises(FactError) as ei:
            list(read_facts(str(f)))
        assert ei.value.code == "duplicate-key"

    def test_duplicate_keys_in_jsonl_are_one_bad_record(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.jsonl"
        f.write_text(json.dumps(LEC) + '\n{"L": 3, "E": 6, "C": 15, "L": 1}\n' + json.dumps(LEC) + "\n",
                     encoding="utf-8")
        recs = list(read_facts(str(f)))
        assert [r.error.code if r.error else None for r in recs] == [None, "duplicate-key", None]
        assert recs[1].where.endswith(":2")

    def test_duplicate_keys_in_a_json_register(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "ent.json"
        f.write_text('{"id": "E1", "name": "n", "id": "E2"}', encoding="utf-8")
        with pytest.raises(FactError) as ei:
            riskgrade.load_enterprise(str(f))
        assert ei.value.code == "duplicate-key"

    def test_a_bom_costs_nothing(self, tmp_path: pathlib.Path) -> None:
        jsonl = tmp_path / "f.jsonl"
        jsonl.write_bytes(b"\xef\xbb\xbf" + (json.dumps(LEC) + "\n").encode() * 2)
        assert [r.error for r in read_facts(str(jsonl))] == [None, None]
        for name, text in (("f.json", json.dumps(LEC)), ("f.yaml", "L: 3\nE: 6\nC: 15\n")):
            f = tmp_path / name
            f.write_bytes(b"\xef\xbb\xbf" + text.encode())
            assert [r.facts for r in read_facts(str(f))] == [LEC]
        yaml_rs = tmp_path / "rs.yaml"
        yaml_rs.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
        assert riskgrade.load(str(yaml_rs)).id == "tiny"

    def test_a_bom_in_a_json_register(self, tmp_path: pathlib.Path) -> None:
        src = ROOT / "examples" / "enterprises" / "chem-plant.yaml"
        data = load_yaml(str(src)).data
        f = tmp_path / "ent.json"
        f.write_bytes(b"\xef\xbb\xbf" + json.dumps(data, default=str, ensure_ascii=False).encode())
        assert riskgrade.load_enterprise(str(f)).id == riskgrade.load_enterprise(str(src)).id


# -- 2. bounded work -----------------------------------------------------------------------------
class TestLimits:
    def test_billion_laughs(self, tmp_path: pathlib.Path) -> None:
        import tracemalloc

        tracemalloc.start()
        t0 = time.process_time()  # CPU time of this process: a busy machine does not count
        try:
            with _guard(), pytest.raises(RulesetError) as ei:
                parse_yaml(_laughs(), "lol.yaml")
            elapsed = time.process_time() - t0
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert ei.value.codes == ["too-large"]
        assert elapsed < 0.5 and peak < 100 * 2**20  # the bound, as a guard

    def test_an_alias_bomb_in_a_facts_file(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "facts.yaml"
        f.write_text("L: 3\nE: 6\nC: 15\nnote:\n  " + _laughs().replace("\n", "\n  "), encoding="utf-8")
        assert f.stat().st_size < 600
        with _guard(1.0), pytest.raises(FactError) as ei:
            list(read_facts(str(f)))
        assert ei.value.code == "too-large" and len(str(ei.value)) < 400

    def test_a_mapping_with_200000_keys(self, tmp_path: pathlib.Path) -> None:
        text = "".join(f"k{i}: {i}\n" for i in range(200_000))
        with _guard(2.0), pytest.raises(RulesetError) as ei:
            parse_yaml(text, "big.yaml")
        assert ei.value.codes == ["too-large"]
        with _guard(2.0), pytest.raises(JSONDocError) as ej:
            parse_json(json.dumps({f"k{i}": i for i in range(200_000)}), "big.json")
        assert ej.value.code == "too-large"

    def test_node_count(self) -> None:
        with _guard(2.0), pytest.raises(RulesetError) as ei:
            parse_yaml("- 1\n" * 2_000_000, "many.yaml")
        assert ei.value.codes == ["too-large"]
        with _guard(2.0), pytest.raises(JSONDocError) as ej:
            parse_json("[" + "[]," * 2_000_000 + "[]]", "many.json")
        assert ej.value.code == "too-large"

    def test_limits_are_configurable(self) -> None:
        small = Limits(max_bytes=100, max_nodes=10, max_mapping_keys=2, max_depth=2)
        for text, code in (("a: " + "x" * 200, "too-large"), ("[" + "1, " * 20 + "1]", "too-large"),
                           ("{a: 1, b: 2, c: 3}", "too-large"), ("[[[1]]]", "too-deep")):
            with pytest.raises(RulesetError) as ei:
                parse_yaml(text, "t.yaml", small)
            assert ei.value.codes == [code], text
        assert parse_yaml("{a: [1]}", "t.yaml", small).data == {"a": [1]}
        with pytest.raises(ValueError):
            Limits(max_depth=0)

    def test_set_limits_is_process_wide(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.json"
        f.write_text(json.dumps([LEC] * 5), encoding="utf-8")
        old = riskgrade.set_limits(Limits(max_nodes=10))
        try:
            with pytest.raises(FactError) as ei:
                list(read_facts(str(f)))
            assert ei.value.code == "too-large"
        finally:
            riskgrade.set_limits(old)
        assert len(list(read_facts(str(f)))) == 5

    def test_load_with_limits(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(RulesetError) as ei:
            riskgrade.load("lec-generic", limits=Limits(max_bytes=100))
        assert ei.value.codes == ["too-large"]
        path = _ruleset(tmp_path, "  t: {type: string}\n", expr="len(t * 3)")
        assert riskgrade.load(path).grade({"t": "ab"}).score == 6
        with pytest.raises(FactError) as ej:
            riskgrade.load(path, limits=Limits(max_length=5)).grade({"t": "ab"})
        assert ej.value.code == "too-large"

    @pytest.mark.parametrize("inputs,expr,facts", [
        ("  t: {type: string}\n", "len(t * 10**8)", {"t": "abc"}),
        ("  t: {type: string}\n", "len(t + t + t)", {"t": "x" * 60_000}),
        ("  tags: {type: list, items: string}\n", "len(tags * 10**8 * 10**8)", {"tags": ["a", "b"]}),
        ("  tags: {type: list, items: string}\n", "len(10**8 * tags)", {"tags": ["a", "b"]}),
        ("  x: {type: number}\n", "round(1, -10**8)", {"x": 1}),
        ("  x: {type: number}\n", "round(x, 10**8)", {"x": 1}),
        ("  x: {type: number}\n", "x * x * x * x * x * x * x * x", {"x": 10**300}),
        ("  x: {type: number}\n", "x ** 8", {"x": 10**300}),
    ])
    def test_expression_sizes(self, tmp_path: pathlib.Path, inputs: str, expr: str, facts: dict[str, Any]) -> None:
        path = _ruleset(tmp_path, inputs, expr=expr)
        rs = riskgrade.load(path)
        with _guard(), pytest.raises(FactError) as ei:
            rs.grade(facts)
        assert ei.value.code == "too-large"

    def test_text_formatting_with_percent_is_refused(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  t: {type: string}\n", expr="len(t % 5)")
        with _guard(), pytest.raises(FactError) as ei:
            riskgrade.load(path).grade({"t": "%0100000000d"})
        assert ei.value.code == "wrong-type"

    def test_expression_size(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number}\n", expr=" + ".join(["x"] * 1500))
        with pytest.raises(RulesetError) as ei:
            riskgrade.load(path)
        assert ei.value.codes == ["expr-too-long"]

    def test_docs_limits_md_states_the_defaults(self) -> None:
        import re

        import attrs

        text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
        rows = dict(re.findall(r"^\| `(\w+)` \| (\d+) \|", text, flags=re.M))
        assert {k: int(v) for k, v in rows.items()} == attrs.asdict(Limits())

    def test_the_numeric_fast_path_stays_plain(self) -> None:
        src = riskgrade.load("lec-generic")._source_code
        assert "_mul(" not in src and ".__class__ not in _NUM or" in src


# -- 4. pickling ---------------------------------------------------------------------------------
def _grade_chunk(chunk: list[dict[str, Any]]) -> list[str]:
    rs = riskgrade.load("lec-generic", jurisdiction="620421")
    return [a.to_json() if not isinstance(a, FactError) else dumps(a.to_dict()) for a in rs.grade_many(chunk)]


def _grade_with(args: tuple[Any, dict[str, Any]]) -> str:
    rs, facts = args
    return str(rs.grade(facts).to_json())


def _raise_ruleset_error(i: int) -> int:
    if i == 2:
        raise RulesetError([Problem("bad-band", "bands leave a gap", "r.yaml", 3, 5)])
    return i


def _records(n: int) -> list[dict[str, Any]]:
    ls, es, cs = (10, 6, 3, 1, 0.5, 0.2, 0.1), (10, 6, 3, 2, 1, 0.5), (100, 40, 15, 7, 3, 1)
    return [{"L": ls[i % 7], "E": es[(i // 7) % 6], "C": cs[(i // 42) % 6]} if i % 97 else {"L": {"v": i}}
            for i in range(n)]


class TestPickling:
    @pytest.mark.parametrize("ref,jurisdiction", [("lec-generic", None), ("lec-generic", "620421"),
                                                  (str(ROOT / "rulesets" / "ls-matrix.yaml"), None)])
    def test_rulesets(self, ref: str, jurisdiction: str | None) -> None:
        rs = riskgrade.load(ref, jurisdiction=jurisdiction)
        back = pickle.loads(pickle.dumps(rs))
        assert back.fingerprint == rs.fingerprint and back.provenance() == rs.provenance()
        facts = {"L": 3, "E": 6, "C": 15} if "lec" in ref else {"L": 3, "S": 4}
        assert back.grade(facts).to_json(trace=True) == rs.grade(facts).to_json(trace=True)

    def test_a_ruleset_from_a_file_in_a_fresh_process(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number, min: 0, max: 100}\n")
        rs = riskgrade.load(path)
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as ex:
            got = ex.submit(_grade_with, (rs, {"x": 25})).result(timeout=120)
        assert got == rs.grade({"x": 25}).to_json()

    def test_a_changed_file_is_a_fingerprint_mismatch(self, tmp_path: pathlib.Path) -> None:
        path = _ruleset(tmp_path, "  x: {type: number, min: 0, max: 100}\n")
        blob = pickle.dumps(riskgrade.load(path))
        pathlib.Path(path).write_text(pathlib.Path(path).read_text(encoding="utf-8").replace("to: 10,", "to: 11,")
                                      .replace("from: 10,", "from: 11,"), encoding="utf-8")
        with pytest.raises(RulesetError) as ei:
            pickle.loads(blob)
        assert ei.value.codes == ["fingerprint-mismatch"]

    def test_assessments(self) -> None:
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        a = rs.grade(LEC)
        back = pickle.loads(pickle.dumps(a))
        assert isinstance(back, riskgrade.Assessment) and back == a
        assert back.to_json(trace=True) == a.to_json(trace=True) and back.explain("zh") == a.explain("zh")

    @pytest.mark.parametrize("err", [
        RulesetError([Problem("bad-band", "bands leave a gap", "r.yaml", 3, 5)]),
        RefinementError([Problem("looser", "lowers a level", "l.yaml", 1, 2)]),
        PluginError("boom", plugin="p", hook="riskgrade_methods"),
        FactError("bad", field="L", record=3, code="wrong-type", value={"v": 3}),
        FunctionError("boom", function="f", plugin="p", rule="r", file="x.yaml", line=3),
        GraphError("cycle", cycle=["a", "b", "a"], record=1, field="depends_on"),
        MonitorError("engine failed"),
        EventError("bad time", field="time", record=4, code="bad-value"),
    ])
    def test_every_exception(self, err: Exception) -> None:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err) and back.args == err.args
        assert back.__dict__ == err.__dict__

    def test_a_process_pool_gives_the_same_bytes(self) -> None:
        recs = _records(2000)
        chunks = [recs[i:i + 250] for i in range(0, len(recs), 250)]
        here = [line for c in chunks for line in _grade_chunk(c)]
        with concurrent.futures.ProcessPoolExecutor(2) as ex:
            there = [line for lines in ex.map(_grade_chunk, chunks, timeout=120) for line in lines]
        assert there == here
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        with concurrent.futures.ProcessPoolExecutor(2) as ex:
            shipped = list(ex.map(_grade_with, [(rs, r) for r in recs[:20] if "v" not in str(r)], timeout=120))
        assert shipped == [rs.grade(r).to_json() for r in recs[:20] if "v" not in str(r)]

    def test_a_pool_task_raising_ruleset_error_returns_it(self) -> None:
        with multiprocessing.Pool(2) as pool:
            res = pool.map_async(_raise_ruleset_error, range(4))
            with pytest.raises(RulesetError) as ei:
                res.get(timeout=60)
        assert ei.value.codes == ["bad-band"] and ei.value.problems[0].line == 3


# -- 7. determinism under threads ----------------------------------------------------------------
def test_eight_threads_agree_with_one() -> None:
    rs = riskgrade.load("lec-generic")
    recs = _records(10_000)

    def run(records: list[dict[str, Any]]) -> list[str]:
        return [o.to_json() if not isinstance(o, FactError) else dumps(o.to_dict()) for o in rs.grade_many(records)]

    want = run(recs)
    results: list[list[str] | None] = [None] * 8
    barrier = threading.Barrier(8)

    def worker(k: int, fn: Callable[[list[dict[str, Any]]], list[str]] = run) -> None:
        barrier.wait()
        results[k] = fn(recs)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(r == want for r in results)
