"""``riskgrade._serve.batch.grade_batch``: the batch text spliced from each result's JSON plan is, byte for
byte, ``dumps`` of the generic path's answers (``{**result.to_dict(...), **position}`` or the error record)."""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._core.canonical import dumps
from riskgrade._grade import receipt as _receipt
from riskgrade._grade import reuse as _reuse
from riskgrade._grade.reuse import error_answer
from riskgrade._serve import batch as _batch
from riskgrade._serve.batch import TimeUp, grade_batch
from riskgrade._source.facts import FactRecord, position, record_id, strip_id
from riskgrade.exceptions import FactError, FunctionError

DATA = pathlib.Path(__file__).resolve().parent / "data"
LEC = riskgrade.load("lec-generic")
LS = riskgrade.load("ls-matrix")
FAR = 10.0**12  # a deadline that never comes


def generic(rs: Any, items: list[Any], id_field: str, receipt: bool) -> str:
    """What the service answered for a batch before the batch path: one dict per item, the list dumped."""
    out = []
    for i, facts in enumerate(items):
        rec = FactRecord(i, f"<body>[{i}]", facts)
        rid = record_id(facts, id_field)
        if not isinstance(facts, dict):
            out.append(error_answer(rec, None, rid))
            continue
        given_facts = strip_id(rs, facts, id_field)
        try:
            a = rs.grade(given_facts)
            out.append({**a.to_dict(receipt=receipt, facts=given_facts), **position(rec, rid)})
        except (FactError, FunctionError) as e:
            out.append(error_answer(rec, e, rid))
    return dumps(out)


def spliced(rs: Any, items: list[Any], id_field: str, receipt: bool) -> str:
    return grade_batch(rs, items, id_field=id_field, receipt=receipt, deadline=FAR).decode()


number = st.sampled_from([10, 6, 3, 1, 0.5, 0.2, 0.1, 2, 40, 15, 7, 100, 0, -0.0, 3.0, 1e20, 11, True, "3", None])
ident = st.none() | st.text(max_size=4) | st.integers(-5, 10**20) | st.booleans() | st.floats(allow_nan=False)
record = st.fixed_dictionaries({}, optional={"L": number, "E": number, "C": number, "S": number, "id": ident,
                                             "name": st.text(max_size=3), "extra": st.just([1, {"a": "b"}])})
item = record | st.sampled_from(["oops", 3, None, [1]])


class TestSameBytes:
    @settings(max_examples=300, deadline=None)
    @given(st.lists(item, max_size=12), st.sampled_from([LEC, LS]), st.sampled_from(["id", "L", "name", ""]),
           st.booleans())
    def test_random_batches(self, items: list[Any], rs: Any, id_field: str, receipt: bool) -> None:
        assert spliced(rs, items, id_field, receipt) == generic(rs, items, id_field, receipt)

    def test_a_batch_of_results(self) -> None:
        items = [{"id": f"R-{i}", "L": 3, "E": 6, "C": 15 if i % 2 else 40} for i in range(50)]
        for receipt in (False, True):
            assert spliced(LEC, items, "id", receipt) == generic(LEC, items, "id", receipt)

    def test_the_splice_is_taken(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # the fast path, not the generic fallback, wrote these results
        calls = []
        monkeypatch.setattr(_batch, "_dump", lambda d, rows: calls.append(d) or dumps(d))
        assert len(json.loads(grade_batch(LEC, [{"L": 3, "E": 6, "C": 15}] * 3, id_field="id", receipt=True,
                                          deadline=FAR))) == 3
        assert calls == []

    def test_a_text_that_cannot_be_cut_goes_the_generic_way(self) -> None:
        a = LEC.grade({"L": 3, "E": 6, "C": 15})
        text = a.to_json()
        assert _reuse.cut(text, a.level) is not None
        twice = text.replace('"values":{', '"values":{"x":{"a":1,"ruleset":{}},')
        assert _reuse.cut(twice, a.level) is None
        assert _reuse.cut(text, riskgrade.Level.RED if a.level != riskgrade.Level.RED else riskgrade.Level.BLUE) is None

    @pytest.mark.skipif(not any(ep.name == "mes" for ep in importlib.metadata.entry_points(group="riskgrade")),
                        reason="the mes test plugin is not installed")
    def test_a_function_error_in_the_middle(self) -> None:
        rs = riskgrade.load(str(DATA / "mes-test.yaml"))
        ok = {"M": 5, "E": 6, "S": 8}
        items = [ok, {**ok, "probe": 0}, {**ok, "id": "x"}, {**ok, "probe": 0}, "oops", ok]
        for receipt in (False, True):
            assert spliced(rs, items, "id", receipt) == generic(rs, items, "id", receipt)


class TestRows:
    def test_access_log_fields(self) -> None:
        rows: list[dict[str, Any]] = []
        items = [{"id": "a", "L": 3, "E": 6, "C": 15}, "oops", {"L": 3, "E": 6, "C": 11}]
        grade_batch(LEC, items, id_field="id", receipt=True, deadline=FAR, rows=rows)
        want = LEC.grade({"L": 3, "E": 6, "C": 15}).receipt({"L": 3, "E": 6, "C": 15})["id"]
        assert [(r["index"], r["id"], r["level"], r["error"]) for r in rows] == [
            (0, "a", "ORANGE", None), (1, None, None, "not-a-mapping"), (2, None, None, "not-allowed")]
        assert rows[0]["receipt"] == want


class TestDeadline:
    def test_time_up_between_records(self) -> None:
        with pytest.raises(TimeUp):
            grade_batch(LEC, [{"L": 3, "E": 6, "C": 15}], id_field="id", receipt=False, deadline=0.0)


class TestReceiptJson:
    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from([10, 6, 3, 1, 0.5]), st.sampled_from([10, 6, 3, 2]), st.sampled_from([100, 40, 15, 1]),
           st.none() | st.dictionaries(st.text(max_size=3), st.integers() | st.text(max_size=3) | st.floats(
               allow_nan=False, allow_infinity=False), max_size=3))
    def test_same_as_the_receipt_dict(self, L: Any, E: Any, C: Any, extra: dict[str, Any] | None) -> None:
        facts = {"L": L, "E": E, "C": C}
        a = LEC.grade(facts)
        given_facts = None if extra is None else {**extra, **facts}
        assert _receipt.receipt_json(a, a.to_json(), dumps(a.inputs), given_facts) == dumps(
            _receipt.receipt(a, given_facts))

    @settings(max_examples=200, deadline=None)
    @given(st.dictionaries(st.text(max_size=4), st.none() | st.booleans() | st.integers() | st.text(max_size=4)
                           | st.floats(allow_nan=False, allow_infinity=False)
                           | st.lists(st.integers(), max_size=2), max_size=5))
    def test_facts_json(self, facts: dict[str, Any]) -> None:
        assert _receipt.facts_json(facts) == dumps(facts)


#: ids as platforms send them: text with quotes, backslashes, control characters and Chinese, integers, and
#: values that are no id (a bool, a float, a list: not echoed, but still left out of the facts)
IDS = ["R-1", 'a"b', "c\\d", "\n\t", "红-7", "", "\u2028", 0, -12, 2**40, True, 1.5, [1], None]


class TestReusedAnswers:
    """Answers filled into templates kept by their facts: the same bytes as the generic path, every time."""

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from([0, 1, 2, 3, 4, 5])), min_size=1, max_size=40),
           st.booleans(), st.sampled_from(["id", "", "L"]))
    def test_recurring_facts_with_varied_ids(self, picks: list[tuple[Any, int]], receipt: bool, id_field: str) -> None:
        facts = [{"L": 3, "E": 6, "C": 15}, {"L": 3, "E": 6, "C": 15.0}, {"E": 6, "C": 15, "L": 3},
                 {"L": 3, "E": 6, "C": 11}, {"L": 3, "E": 6}, {"L": True, "E": 6, "C": 15}]
        items = [{**facts[k], "id": rid} if rid is not None else dict(facts[k]) for rid, k in picks]
        before = [dict(x) for x in items]
        for _ in range(2):  # the second pass fills templates kept by the first
            assert spliced(LEC, items, id_field, receipt) == generic(LEC, items, id_field, receipt)
        assert items == before  # the items are not changed

    def test_each_result_is_its_to_json_with_the_position(self) -> None:
        # realistic records: facts drawn from the LEC scales, every one with its own id
        rnd = random.Random(3)
        items = [{"id": f"JOB-{i}", "L": rnd.choice([10, 6, 3, 1, 0.5, 0.2, 0.1]), "E": rnd.choice([10, 6, 3, 2, 1]),
                  "C": rnd.choice([100, 40, 15, 7, 3, 1])} for i in range(300)]
        for receipt in (False, True):
            got = json.loads(spliced(LEC, items, "id", receipt))
            for i, (answer, facts) in enumerate(zip(got, items, strict=True)):
                given_facts = {k: v for k, v in facts.items() if k != "id"}
                a = LEC.grade(given_facts)
                want = json.loads(a.to_json(receipt=receipt, facts=given_facts))
                assert answer == {**want, "id": facts["id"], "index": i, "record": f"<body>[{i}]"}

    def test_a_recurring_record_is_not_graded_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        rs = LEC
        rs.__dict__.pop("_reused_answers", None)  # what earlier tests kept
        calls: list[int] = []
        real = _batch._answer
        monkeypatch.setattr(_batch, "_answer", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
        items = [{"id": f"R-{i}", "L": 3, "E": 6, "C": 15 if i % 3 else 40} for i in range(30)] + ["oops"]
        grade_batch(rs, items, id_field="id", receipt=True, deadline=FAR)
        assert calls == [0, 1, 30]  # each of the two facts once, and the item that is no object
        calls.clear()
        grade_batch(rs, items, id_field="id", receipt=True, deadline=FAR)
        assert calls == [30]

    def test_an_error_record_is_reused(self) -> None:
        items = [{"id": i, "L": 3, "E": 6, "C": 11} for i in range(5)]
        assert spliced(LEC, items, "id", False) == generic(LEC, items, "id", False)
        assert json.loads(spliced(LEC, items, "id", False))[4]["record"] == "<body>[4]"
