"""``riskgrade schema``: the JSON Schemas (2020-12) of the ruleset and layer formats, of a ruleset's
facts and of a result accept every shipped document and reject wrong ones (checked with jsonschema)."""

from __future__ import annotations

import copy
import datetime
import glob
import json
import pathlib
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade._cli.doc import schema_for
from riskgrade._cli.main import main

jsonschema = pytest.importorskip("jsonschema")

ROOT = pathlib.Path(__file__).resolve().parent.parent
RULESET_FILES = [it["file"] for it in riskgrade.list_rulesets()]
LAYER_FILES = sorted(glob.glob(str(ROOT / "plugins" / "riskgrade-*" / "src" / "*" / "layers" / "*.yaml")))


def _jsonish(v: Any) -> Any:
    """A YAML document as JSON sees it (dates as ISO text)."""
    if isinstance(v, dict):
        return {str(k): _jsonish(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonish(x) for x in v]
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return v


def _yaml(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return _jsonish(yaml.safe_load(fh))


def _validator(schema: dict[str, Any]) -> Any:
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def ruleset_v() -> Any:
    return _validator(schema_for("ruleset"))


@pytest.fixture(scope="module")
def layer_v() -> Any:
    return _validator(schema_for("layer"))


def _errors(v: Any, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


@pytest.mark.parametrize("path", RULESET_FILES, ids=lambda p: pathlib.Path(p).name)
def test_every_shipped_ruleset_fits_the_ruleset_schema(ruleset_v: Any, path: str) -> None:
    assert _errors(ruleset_v, _yaml(path)) == []


def test_there_are_layers() -> None:
    assert len(LAYER_FILES) >= 2


@pytest.mark.parametrize("path", LAYER_FILES, ids=lambda p: pathlib.Path(p).name)
def test_every_shipped_layer_fits_the_layer_schema(layer_v: Any, path: str) -> None:
    assert _errors(layer_v, _yaml(path)) == []


@pytest.mark.parametrize("path", RULESET_FILES, ids=lambda p: pathlib.Path(p).name)
def test_cases_facts_and_results_fit(path: str) -> None:
    rs = riskgrade.load(path)
    facts_v = _validator(schema_for("facts", path))
    result_v = _validator(schema_for("result"))
    graded = 0
    for case in _yaml(path).get("cases") or ():
        if "want_error" in case:
            continue
        assert _errors(facts_v, case["facts"]) == [], case["note"]
        a = rs.grade(case["facts"])
        for d in (a.to_dict(), a.to_dict(trace=True, lang="zh"), json.loads(a.to_json())):
            assert _errors(result_v, d) == [], case["note"]
        graded += 1
    assert graded


# -- wrong documents fail -------------------------------------------------------------------------
def _lec() -> dict[str, Any]:
    return _yaml(str(ROOT / "tests" / "data" / "lec-flat.yaml"))  # tables and bands written out, to break them


@pytest.mark.parametrize("break_it", [
    lambda d: d.pop("inputs"),                                              # a required key
    lambda d: d.update(sectr="general"),                                    # an unknown (misspelt) key
    lambda d: d.update(sector="mining"),                                    # not an allowed value
    lambda d: d.update(jurisdiction="62000"),                               # pattern
    lambda d: d["rules"][0].update(method="nope"),                          # unknown method
    lambda d: d["rules"][0].update(when="L > 3"),                           # a key of another method
    lambda d: d["rules"][0].pop("cite"),                                    # every rule cites
    lambda d: d["bands"]["lec_D"].update(closed="both"),
    lambda d: d["bands"]["lec_D"]["rows"][0].update(to="70"),               # a threshold written as text
    lambda d: d["cases"][0].update(want_error={"code": "x"}),               # want and want_error
    lambda d: d["inputs"]["L"].update(type="float"),
])
def test_wrong_rulesets_fail(ruleset_v: Any, break_it: Any) -> None:
    d = _lec()
    assert _errors(ruleset_v, d) == []
    break_it(d)
    assert _errors(ruleset_v, d)


def test_a_composite_rule_is_checked(ruleset_v: Any) -> None:
    from .test_cli_test import COMPOSITE

    good = _jsonish(yaml.safe_load(COMPOSITE))
    assert _errors(ruleset_v, good) == []
    for break_it in (lambda r: r.update(at_least=0), lambda r: r["criteria"][0].pop("id"),
                     lambda r: r["criteria"][0].update(when=None), lambda r: r.pop("criteria"),
                     lambda r: r.update(level="red")):
        d = copy.deepcopy(good)
        break_it(d["rules"][1])
        assert _errors(ruleset_v, d), d["rules"][1]


def test_wrong_layers_fail(layer_v: Any) -> None:
    good = _yaml(LAYER_FILES[0])
    for break_it in (lambda d: d.pop("refines"), lambda d: d.update(kind="ruleset"),
                     lambda d: d.update(levels={"x": "PURPLE"}), lambda d: d.update(bands={})):
        d = copy.deepcopy(good)
        break_it(d)
        assert _errors(layer_v, d), d


def test_wrong_facts_and_results_fail() -> None:
    facts_v = _validator(schema_for("facts", "lec-generic"))
    assert _errors(facts_v, {"L": 3, "E": 6, "C": 15}) == []
    assert _errors(facts_v, {"L": 3, "E": 6, "C": 15, "id": "job-1", "_comment": "x"}) == []
    for bad in ({"L": 3, "E": 6}, {"L": 3, "E": 6, "C": 10}, {"L": "3", "E": 6, "C": 15},
                {"L": 3, "E": 6, "C": 15, "X": 1}):
        assert _errors(facts_v, bad), bad
    result_v = _validator(schema_for("result"))
    good = riskgrade.load("lec-generic").grade({"L": 3, "E": 6, "C": 15}).to_dict()
    for break_it in (lambda d: d.update(level="PURPLE"), lambda d: d.pop("ruleset"),
                     lambda d: d["fired"][0].pop("citation"), lambda d: d.update(schema=2)):
        d = copy.deepcopy(good)
        break_it(d)
        assert _errors(result_v, d)


def test_facts_schema_of_records_and_defaults() -> None:
    rs_path = next(p for p in RULESET_FILES if any(s.get("fields") for s in riskgrade.load(p).inputs.values()))
    schema = schema_for("facts", rs_path)
    rs = riskgrade.load(rs_path)
    name, spec = next((n, s) for n, s in rs.inputs.items() if s.get("fields"))
    prop = schema["properties"][name]
    items = (prop.get("items") or prop["anyOf"][0]["items"])
    assert set(items["properties"]) == set(spec["fields"])


# -- the command ----------------------------------------------------------------------------------
def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


@pytest.mark.parametrize("args", [("ruleset",), ("layer",), ("result",), ("facts", "lec-generic")])
def test_the_command_prints_a_2020_12_schema(args: tuple[str, ...]) -> None:
    code, out = invoke("schema", *args)
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_command_writes_a_file_and_knows_plugin_methods(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "s" / "ruleset.schema.json"
    assert invoke("schema", "ruleset", "--out", str(out)) == (0, "")
    schema = json.loads(out.read_text(encoding="utf-8"))
    methods = schema["properties"]["rules"]["items"]["properties"]["method"]["enum"]
    assert {"direct", "composite", "score", "lec", "ls"} <= set(methods)
    if "mes" in riskgrade._plugins.get_plugins().methods():  # the test plugin riskgrade-mes
        assert "mes" in methods


def test_the_command_usage_errors() -> None:
    assert invoke("schema", "facts")[0] == 2
    assert invoke("schema", "ruleset", "lec-generic")[0] == 2
    assert invoke("schema", "facts", "no-such-ruleset")[0] == 2
