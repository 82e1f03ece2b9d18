"""riskgrade._source.jsondoc: the orjson path (the ``fast`` extra) gives exactly what the checked reader gives —
the same values of the same types, or the same error (code, message, line, column) — on generated documents,
on hostile ones (duplicate keys, ``:`` inside text, long integers, NaN, lone surrogates, deep nesting, tight
limits) and on every shipped ruleset's case facts; :func:`exact_key` is one-to-one on what the reader returns."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskgrade
from riskgrade._core.limits import Limits
from riskgrade._source import jsondoc
from riskgrade._source.jsondoc import JSONDocError, exact_key, parse_json
from tests._facts import case_facts, shipped_ids
from tests._typed import typed

needs_fast = pytest.mark.skipif(not jsondoc.FAST, reason="the fast extra (orjson) is not installed")
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def outcome(text: str, fast: bool, limits: Limits | None = None) -> Any:
    old = jsondoc.FAST
    jsondoc.FAST = fast and old
    try:
        return "value", typed(parse_json(text, "x.json", limits))
    except JSONDocError as e:
        return "error", e.code, e.message, e.line, e.col
    finally:
        jsondoc.FAST = old


def same_both_ways(text: str, limits: Limits | None = None) -> None:
    assert outcome(text, True, limits) == outcome(text, False, limits)


scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e16, 5e-324, 2.0**63])
           | st.text(max_size=8) | st.sampled_from(["a:b", "12:00", '"', "\\", "\ud800", "\u2028", "红"]))
keys = st.sampled_from(["a", "b", "a:", ":", "\u0061", "红", ""]) | st.text(max_size=4)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=4),
                      max_leaves=12)


@st.composite
def documents(draw: Any) -> str:
    """The JSON text of a value, written in one of several ways, and now and then broken or with a key twice."""
    v = draw(values)
    text = json.dumps(v, ensure_ascii=draw(st.booleans()), separators=draw(st.sampled_from([(",", ":"), (", ", ": "),
                                                                                         (" ,", " : ")])))
    edit = draw(st.integers(0, 7))
    if edit == 0 and text.startswith("{") and len(text) > 2:  # a key written twice
        first = text[1:].split(",")[0]
        text = "{" + first + "," + text[1:]
    elif edit == 1:  # an escaped spelling of a key already there
        text = text.replace('"a"', '"\\u0061"', 1)
    elif edit == 2 and text:  # cut short, or an odd character
        text = text[: draw(st.integers(0, len(text) - 1))] + draw(st.sampled_from(["", "NaN", "Infinity", "1e400",
                                                                                 "\x00", " ", "\ufeff", "\t\n"]))
    elif edit == 3:
        text = draw(st.sampled_from([" ", "\n", "\ufeff", "\t"])) + text + draw(st.sampled_from(["", " \n", "\r\n"]))
    return text


@given(documents())
@SETTINGS
def test_generated_documents_read_the_same_both_ways(text: str) -> None:
    same_both_ways(text)


@given(st.text(alphabet=st.sampled_from(list('{}[]:,"\\0123456789.-+eE aun\u0061\ud800truefalsenull')), max_size=40))
@SETTINGS
def test_json_like_text_reads_the_same_both_ways(text: str) -> None:
    same_both_ways(text)


@given(documents(), st.sampled_from([Limits(max_mapping_keys=2), Limits(max_depth=2), Limits(max_int_digits=5),
                                     Limits(max_int_digits=18), Limits(max_int_digits=19), Limits(max_nodes=6)]))
@SETTINGS
def test_tight_limits_read_the_same_both_ways(text: str, limits: Limits) -> None:
    same_both_ways(text, limits)


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}', '{"a": 1, "\\u0061": 2}', '{"a": {"b": 1, "b": 1}}', '[{"a": 1}, {"a": 1, "a": 1}]',
    '{"t": "12:00", "a": 1, "a": 2}', '{"t": "12:00"}', '{"a": 18446744073709551615}', '{"a": 18446744073709551616}',
    '{"a": -9223372036854775809}', '{"a": 1234567890123456789}', '{"a": 1e400}', '{"a": NaN}', '{"a": -Infinity}',
    '{"a": "\\ud800"}', "[" * 99 + "]" * 99, "[" * 101 + "]" * 101, "[" * 2000 + "]" * 2000, '{"a": {}, "b": []}',
    '{"a": {}}', "{}", "[]", "1", '"x"', "", " ", '{"a": 1}{"b": 2}', '{"a": 1,}', "\ufeff{}", '{"a":"\x01"}'])
def test_hostile_documents_read_the_same_both_ways(text: str) -> None:
    same_both_ways(text)


def fast(doc: str | bytes, max_keys: int) -> Any:
    return jsondoc._fast(doc, jsondoc._Counts.of(jsondoc._utf8(doc)), max_keys)


@needs_fast
def test_the_fast_path_is_taken_for_a_plain_record() -> None:
    # a guard against a fast path that silently always falls back (orjson's answer is kept)
    assert fast('{"id": "rp-1", "L": 3, "E": 6, "C": 15}', 100) == ({"id": "rp-1", "L": 3, "E": 6, "C": 15}, None)
    assert fast('{"a": 1, "a": 2}', 100)[0] is jsondoc._MISS
    assert jsondoc._Counts.of(b'{"a": 12345678901234567890}').digit_run
    assert not jsondoc._Counts.of(b'{"a": 123456789012345678, "b": 1}').digit_run


@needs_fast
def test_a_batch_of_flat_records_is_counted_without_a_walk() -> None:
    batch = [{"id": f"R-{i}", "L": 3, "E": 6.0, "C": None, "t": "08:00"[: i % 6]} for i in range(200)]
    for doc in (json.dumps(batch), json.dumps(batch).encode()):
        assert fast(doc, 100) == (batch, 2)
    # a repeated key, a ':' or '{' in a string, a nested list: the counts do not add up, the walk decides
    assert fast('[{"a": 1}, {"a": 1, "a": 2}]', 100)[0] is jsondoc._MISS
    assert fast('[{"a": "{"}, {"b": 1}]', 100) == ([{"a": "{"}, {"b": 1}], None)
    assert fast('[{"a": ":"}, {"b": 1}]', 100) == ([{"a": ":"}, {"b": 1}], 2)
    assert fast('[{"a": [1]}]', 100) == ([{"a": [1]}], None)
    assert fast('[{"a": 1, "b": 2}]', 1)[0] is jsondoc._MISS
    # two levels deeper than a limit of one: the same error as the walk gives
    with pytest.raises(JSONDocError, match="too-deep"):
        parse_json('[{"a": 1}]', "x.json", Limits(max_depth=1))


@needs_fast
def test_a_nested_document_without_backslashes_is_checked_by_writing_it_again() -> None:
    # a register-like document (objects in lists in objects, ':' in strings): orjson's answer is kept, no walk
    doc = {"id": "E-1", "units": [{"id": "U-1", "at": "08:30", "points": [{"id": "P-1", "L": 3}, {"id": "P-2"}]}],
           "hd": [{"t": "12:00:00"}]}
    for text in (json.dumps(doc), json.dumps(doc).encode(), json.dumps(doc, ensure_ascii=False, indent=1)):
        assert fast(text, 100) == (doc, None)
    # a key twice, nested, whichever value orjson keeps and however many ':' it holds: the counts differ
    for text in ('{"a": {"b": "1:2", "b": "3"}}', '{"a": {"b": "3", "b": "1:2"}}', '{"x": [{"b": 1, "b": 1}], "y": 2}'):
        assert fast(text, 100)[0] is jsondoc._MISS, text
    # an escape anywhere: the walk decides ("\u003a" is a ':' the text does not show)
    assert fast('{"a": {"\u003a": 1}, "b": [1]}', 100) == ({"a": {":": 1}, "b": [1]}, None)
    with pytest.raises(JSONDocError, match="duplicate-key"):
        parse_json('{"a": {"b": "\u003a", "b": "x"}, "c": [1]}', "x.json")
    # more ':' in the text than an object may have keys: the walk decides, object by object
    assert fast('{"a": {"b": 1, "c": 2}, "d": [1]}', 2) == ({"a": {"b": 1, "c": 2}, "d": [1]}, None)
    assert fast('{"a": {"b": 1, "c": 2}, "d": [1]}', 1)[0] is jsondoc._MISS


@needs_fast
@SETTINGS
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", ":", "{"]), st.integers(-3, 3) | st.text(":{[", max_size=2)
                                | st.lists(st.integers(), max_size=1), max_size=3), max_size=4),
       st.sampled_from([1, 2, 3, 100]), st.sampled_from([1, 2, 100]))
def test_batches_read_the_same_both_ways(batch: list[dict[str, Any]], depth: int, keys: int) -> None:
    text = json.dumps(batch)
    lim = Limits(max_depth=depth, max_mapping_keys=keys)
    same_both_ways(text, lim)
    same_both_ways(text.replace('"b"', '"a"'), lim)  # a key twice, now and then


@pytest.mark.parametrize("rid", shipped_ids())
def test_every_case_reads_the_same_both_ways(rid: str) -> None:
    facts = case_facts(riskgrade.load(rid))
    assert facts
    for f in facts:
        for text in (json.dumps(f, ensure_ascii=False), json.dumps(f), json.dumps(f, indent=1)):
            same_both_ways(text)
            assert outcome(text, True) == ("value", typed(f))


@needs_fast
@given(values, values)
@SETTINGS
def test_exact_key_is_one_to_one(a: Any, b: Any) -> None:
    ka, kb = exact_key(a), exact_key(b)
    if ka is not None and ka == kb:
        assert typed(a) == typed(b)
    assert exact_key(a) == ka  # the same value, the same key


@needs_fast
def test_exact_key_refuses_what_orjson_writes_as_null() -> None:
    assert [exact_key(v) for v in ({"a": math.nan}, {"a": math.inf}, {"a": None}, {"a": 2**64}, [1, [float("-inf")]])] \
        == [None] * 5
    assert exact_key({"a": 0.0}) != exact_key({"a": -0.0})
    assert exact_key({"a": 1}) != exact_key({"a": 1.0}) != exact_key({"a": True})


objects = st.lists(st.dictionaries(keys, values, max_size=4)
                   | st.sampled_from([{}, {"a": "},{"}, {"a": [{"x": 1}, {"y": 2}]}, {"a": {"b": {}}}, {"a": None}]),
                   max_size=6)


@needs_fast
@given(objects)
@SETTINGS
def test_exact_keys_are_each_exact_key_or_none(batch: list[dict[str, Any]]) -> None:
    got = jsondoc.exact_keys(batch)
    one = [exact_key(v) for v in batch]
    if got is not None:  # when given, each is the object's own key without its braces
        assert got == [k[1:-1] for k in one if k is not None] and len(got) == len(batch)
    elif batch and None not in one:  # refused only where splitting the one text would be ambiguous
        assert any(b"},{" in k for k in one)


@needs_fast
def test_exact_keys_are_refused_where_a_split_would_be_wrong() -> None:
    assert jsondoc.exact_keys([{"a": 1}, {}, {"b": "x"}]) == [b'"a":1', b"", b'"b":"x"']
    assert jsondoc.exact_keys([{"a": "},{"}, {"b": 1}]) is None  # the text holds the separator
    assert jsondoc.exact_keys([{"a": [{"x": 1}, {"y": 2}]}]) is None  # nested objects side by side
    assert jsondoc.exact_keys([{"a": 1}, {"a": None}]) is None  # null: never a key
    assert jsondoc.exact_keys([{"a": 2**64}]) is None and jsondoc.exact_keys([]) is None


def line_outcome(raw: bytes, limits: Limits) -> Any:
    got = jsondoc.read_object_line(raw, limits)
    return None if got is None else ("value", typed(got))


@needs_fast
@given(documents(), st.sampled_from([Limits(), Limits(max_mapping_keys=2), Limits(max_depth=1), Limits(max_nodes=6),
                                     Limits(max_bytes=30), Limits(max_int_digits=5)]))
@SETTINGS
def test_a_line_read_at_once_is_what_the_checked_reader_reads(text: str, limits: Limits) -> None:
    raw = (text + "\n").encode("utf-8", "surrogatepass")
    got = line_outcome(raw, limits)
    if got is not None:  # None: the checked reader decides (value or error)
        assert got == outcome(raw.decode("utf-8"), False, limits)


@needs_fast
def test_a_plain_line_is_read_at_once() -> None:
    assert jsondoc.read_object_line(b'{"id": "rp-1", "L": 3, "E": 6, "C": 15}\n', Limits()) == {
        "id": "rp-1", "L": 3, "E": 6, "C": 15}
    assert jsondoc.read_object_line(b'{"t": "12:00"}\n', Limits()) == {"t": "12:00"}
    for raw in (b'{"a": 1, "a": 2}\n', b'{"n": 1234567890123456789}\n', b"[1]\n", b"\n",
                b'{"a": "\xed\xa0\x80"}\n', b'\xef\xbb\xbf{"a": 1}\n', b'{"a": NaN}\n'):
        assert jsondoc.read_object_line(raw, Limits()) is None


class TestLoneSurrogates:
    """A ``\\ud800`` escape that is not half of a pair decodes to text UTF-8 cannot hold: refused, located."""

    def test_a_lone_surrogate_is_not_utf8(self) -> None:
        with pytest.raises(JSONDocError) as err:
            parse_json('{"id": "\\ud800", "L": 3}', "x.json")
        assert (err.value.code, err.value.line, err.value.col) == ("not-utf8", 1, 9)

    def test_a_lone_low_surrogate_in_a_key_on_line_2(self) -> None:
        with pytest.raises(JSONDocError) as err:
            parse_json('{"a": 1,\n "\\udc00x": 2}', "x.json")
        assert (err.value.code, err.value.line) == ("not-utf8", 2)

    def test_a_pair_and_an_escaped_backslash_are_text(self) -> None:
        assert parse_json('["\\ud83d\\ude00", "\\\\ud800"]', "x.json") == ["\U0001f600", "\\ud800"]
