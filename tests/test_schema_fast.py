"""schema.certainly_valid, the fast path of schema.check: it may say True only where cerberus finds no
error. Compared with cerberus itself on every YAML document of the repository (each against the
top-level schema, each rule against its method's schema) and on many damaged copies of them."""

from __future__ import annotations

import copy
import datetime
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from riskgrade._compile import pipeline
from riskgrade._compile.methods import builtin_methods
from riskgrade._core.limits import Limits
from riskgrade._source.yaml import load_yaml
from riskgrade._validate import schema as S
from riskgrade.exceptions import RulesetError

ROOT = pathlib.Path(__file__).parents[1]
FILES = sorted(p for d in ("rulesets", "plugins", "tests", "examples") for p in (ROOT / d).rglob("*.yaml"))
METHODS = builtin_methods()
ODD = [None, 0, -1, 1.5, float("nan"), float("inf"), True, "", "x y", "RED", [], [1], {}, {"a": 1},
       datetime.date(2020, 1, 1)]


def _cerberus_ok(doc: Any, schema: Any) -> bool:
    v = S._Validator(dict(schema))
    try:
        return bool(v.validate(doc, normalize=False))
    except (TypeError, RuntimeError):
        return False


def _docs() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(label, document, schema): each file's top level, and each rule with its method's keys."""
    for f in FILES:
        try:
            data = load_yaml(str(f), Limits()).data
        except RulesetError:
            continue
        if not isinstance(data, dict):
            continue
        screening = data.get("kind") == "screening"
        yield f"{f.name}", data, pipeline._top_schema(screening, ())
        for i, rule in enumerate(data.get("rules") or () if isinstance(data.get("rules"), list) else ()):
            m = METHODS.get(rule.get("method")) if isinstance(rule, dict) else None
            if m is not None:
                yield f"{f.name} rule {i}", rule, pipeline._rule_schema(m, screening)


def _damaged(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Copies of ``doc`` with one value replaced, one key removed or one key added, one level down too."""
    for k in list(doc):
        d = dict(doc)
        del d[k]
        yield d
        for odd in ODD:
            yield {**doc, k: odd}
        sub = doc[k]
        if isinstance(sub, dict):
            for k2 in list(sub)[:6]:
                for odd in ODD[:8]:
                    yield {**doc, k: {**sub, k2: odd}}
        elif isinstance(sub, list) and sub:
            for odd in ODD[:8]:
                yield {**doc, k: [odd, *sub[1:]]}
    yield {**doc, "unknown_key": 1}


DOCS = list(_docs())


def test_the_repository_has_documents_to_compare() -> None:
    assert len(DOCS) > 500


@pytest.mark.parametrize("label,doc,schema", DOCS[::7], ids=[d[0] for d in DOCS[::7]])
def test_never_valid_where_cerberus_finds_a_problem(label: str, doc: dict[str, Any], schema: Any) -> None:
    for d in [doc, *_damaged(doc)]:
        if S.certainly_valid(d, schema):
            assert _cerberus_ok(copy.deepcopy(d), schema), (label, d)


def test_every_document_without_a_problem_takes_the_fast_path_mostly() -> None:
    """Most valid documents are recognised (else the fast path would not pay): every shipped rule."""
    valid = [(label, d, s) for label, d, s in DOCS if _cerberus_ok(d, s)]
    fast = [label for label, d, s in valid if S.certainly_valid(d, s)]
    assert len(fast) >= 0.95 * len(valid), sorted({lab for lab, _, _ in valid} - set(fast))[:10]


def test_the_problems_are_cerberus_words_as_before(tmp_path: pathlib.Path) -> None:
    """A damaged rule still gets cerberus' located problem through check()."""
    f = ROOT / "rulesets" / "lec-generic.yaml"
    loc = load_yaml(str(f), Limits())
    rule = dict(loc.data["rules"][0])
    rule["label"] = 5
    m = METHODS[rule["method"]]
    problems = S.check(rule, pipeline._rule_schema(m, False), loc, ("rules", 0))
    assert [p.code for p in problems] and all(p.file == str(f) and p.line > 1 for p in problems)
    assert S.check(loc.data["rules"][0], pipeline._rule_schema(m, False), loc, ("rules", 0)) == []
