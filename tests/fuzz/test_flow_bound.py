"""The JSON fast path of the YAML budget (``_flow_bound``) is sound: whatever it rejects as having more
values than ``max_nodes``, the YAML scan rejects too (``too-large``), or the text is not valid YAML."""

from __future__ import annotations

import json

import hypothesis
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from riskgrade._core.limits import Limits
from riskgrade._source.yaml import _flow_bound, _scan
from riskgrade.exceptions import RulesetError

from ._harness import SEED, settings

#: tokens of texts near JSON: its punctuation, strings holding commas and escaped quotes, a lone quote,
#: a colon after a plain scalar, white space YAML does not take for white space, a comment, a tag
ALPHABET = st.sampled_from(['[', ']', '{', '}', ',', ',', ',', ':', '"x,"', '""', '","', '"\\","', '1', 'a', ' ',
                            '\n', '1:', '"', "#", "'", "\u3000", "!!str ", "- "])
JSON = st.recursive(st.one_of(st.none(), st.integers(-5, 5), st.text("a,:\"[ ", max_size=3)),
                    lambda inner: st.one_of(st.lists(inner, max_size=5),
                                            st.dictionaries(st.text("ab,:", max_size=2), inner, max_size=4)),
                    max_leaves=30)


def _agrees(text: str, max_nodes: int) -> None:
    lim = Limits(max_nodes=max_nodes)
    try:
        _flow_bound(text, "x.json", lim)
    except RulesetError as err:
        assert err.problems[0].code == "too-large"
        try:
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return  # not YAML: rejected either way
        with pytest.raises(RulesetError) as scanned:
            _scan(text, "x.json", lim)
        assert scanned.value.problems[0].code == "too-large", text


@settings(3000)
@hypothesis.seed(SEED)
@given(st.lists(ALPHABET, max_size=40).map("".join), st.integers(1, 12))
def test_near_json_text(text: str, max_nodes: int) -> None:
    _agrees(text if text[:1] in "[{" else "[" + text, max_nodes)


@settings(1000)
@hypothesis.seed(SEED)
@given(JSON, st.integers(1, 30), st.booleans())
def test_json_documents(doc: object, max_nodes: int, compact: bool) -> None:
    _agrees(json.dumps([doc], separators=(",", ":") if compact else None), max_nodes)
