"""``riskgrade._serve.body.read_body``: orjson's value only when it is parse_json's value; otherwise parse_json's answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

pytest.importorskip("orjson")

from riskgrade._core.limits import Limits
from riskgrade._serve.body import read_body
from riskgrade._source import jsondoc
from riskgrade._source.jsondoc import JSONDocError
from tests._typed import typed

#: small limits, so that generated documents reach every one of them
SMALL = Limits(max_bytes=2000, max_nodes=60, max_mapping_keys=4, max_depth=4, max_int_digits=6)
DEFAULT = Limits()


def outcome(read: Any, raw: bytes, lim: Limits) -> Any:
    try:
        return ("value", typed(read(raw, lim)))
    except UnicodeDecodeError as e:
        return ("not-utf8", e.reason)
    except JSONDocError as e:
        return ("error", e.code, e.message, e.line, e.col)


def checked(raw: bytes, lim: Limits) -> Any:
    """The checked reader alone (no orjson): decode, then parse_json with the fast path off."""
    text = raw.decode("utf-8")
    fast, jsondoc.FAST = jsondoc.FAST, False
    try:
        return jsondoc.parse_json(text, "<body>", lim)
    finally:
        jsondoc.FAST = fast


scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**25), max_value=10**25)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(alphabet=st.sampled_from('ab:{["\\é红\x01'),
                                                                          max_size=6))
keys = st.text(alphabet=st.sampled_from('ab:{"\\红'), max_size=3)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=6),
                      max_leaves=25)


def _pairs_text(v: Any) -> str:
    """JSON text of ``v`` in which a dict given as a list of pairs may repeat a key."""
    if isinstance(v, tuple):
        return "{" + ", ".join(f"{json.dumps(k)}: {_pairs_text(x)}" for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_pairs_text(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


pairs_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                            | st.lists(st.tuples(st.sampled_from(["a", "b", "a:b"]), inner), max_size=4).map(tuple),
                            max_leaves=20)


class TestSameAnswer:
    @settings(max_examples=400, deadline=None)
    @given(values, st.sampled_from([SMALL, DEFAULT]), st.booleans())
    def test_json_documents(self, v: Any, lim: Limits, ascii_only: bool) -> None:
        raw = json.dumps(v, ensure_ascii=ascii_only).encode("utf-8")
        assert outcome(read_body, raw, lim) == outcome(checked, raw, lim)

    @settings(max_examples=300, deadline=None)
    @given(pairs_values, st.sampled_from([SMALL, DEFAULT]))
    def test_repeated_keys(self, v: Any, lim: Limits) -> None:
        raw = _pairs_text(v).encode("utf-8")
        assert outcome(read_body, raw, lim) == outcome(checked, raw, lim)

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=40) | st.text(alphabet=st.sampled_from('[]{}:,"0123456789.eE-+ \\ufNaIty\ufeff'),
                                            max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")))
    @example(b"NaN")
    @example(b"[1e400]")
    @example(b"\xef\xbb\xbf[1]")
    @example(b'"\\ud800"')
    @example(b"[18446744073709551616]")
    @example(b"[-0]")
    @example(b'["\xed\xa0\x80"]')
    def test_any_bytes(self, raw: bytes) -> None:
        for lim in (SMALL, DEFAULT):
            assert outcome(read_body, raw, lim) == outcome(checked, raw, lim)

    @pytest.mark.parametrize("depth", [3, 4, 5, 99, 100, 101, 1100])
    def test_nesting(self, depth: int) -> None:
        raw = ("[" * depth + "]" * depth).encode()
        for lim in (SMALL, DEFAULT):
            assert outcome(read_body, raw, lim) == outcome(checked, raw, lim)


def fast(raw: bytes, lim: Limits) -> Any:
    """What the bytes read as with no text decoded (orjson), or ``_MISS`` where the checked reader decides."""
    try:
        return jsondoc._read(raw, lim)
    except JSONDocError:
        return jsondoc._MISS


class TestFastPathTaken:
    """The fast path is really taken for a usual batch, and really refused where a check could fail."""

    def test_a_batch_is_read_by_orjson(self) -> None:
        raw = json.dumps([{"id": f"R-{i}", "L": 3, "E": 6, "C": 15.5} for i in range(1000)]).encode()
        assert fast(raw, DEFAULT) == json.loads(raw)

    @pytest.mark.parametrize("raw", [b'{"a": 1, "a": 2}', b'[{"t": "08:30", "a": 1, "a": 2}]',
                                     b"[12345678901234567890]", b"[1, [2, [3, [4, [5]]]]]", b"NaN",
                                     b'{"a":1,"b":2,"c":3,"d":4,"e":5}'])
    def test_refused(self, raw: bytes) -> None:
        assert fast(raw, SMALL) is jsondoc._MISS or (
            outcome(read_body, raw, SMALL)[0] != "value")

    def test_colons_in_strings_do_not_refuse(self) -> None:
        raw = b'[{"t": "08:30:00", "a": 1}]'
        assert fast(raw, DEFAULT) == [{"t": "08:30:00", "a": 1}]
