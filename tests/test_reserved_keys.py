"""A base ruleset cannot fake layer provenance: the keys the layer stage writes are reserved."""

from __future__ import annotations

import pathlib

import pytest
import yaml

import riskgrade
from riskgrade._source import registry

from .test_layers import EXAMPLES, require


def _write(tmp_path: pathlib.Path, change: object) -> str:
    doc = yaml.safe_load(pathlib.Path(registry.find("lec-generic")).read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path = tmp_path / "faked.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def test_rule_cite_layer_is_reserved(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, lambda d: d["rules"][0]["cite"].__setitem__("layer", "620421 靖远县"))
    with pytest.raises(riskgrade.RulesetError) as e:
        riskgrade.load(path)
    (p,) = e.value.problems
    assert p.code == "reserved-key" and p.file == path and p.line is not None
    assert pathlib.Path(path).read_text(encoding="utf-8").splitlines()[p.line - 1].strip().startswith("layer:")


def test_top_level_layers_is_reserved(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, lambda d: d.__setitem__("layers", [{"layer": "620421 靖远县", "changes": ["x"]}]))
    with pytest.raises(riskgrade.RulesetError) as e:
        riskgrade.load(path)
    assert e.value.codes == ["reserved-key"]
    (p,) = e.value.problems
    assert pathlib.Path(path).read_text(encoding="utf-8").splitlines()[p.line - 1].startswith("layers:")


def test_layering_still_writes_them() -> None:
    require(*EXAMPLES)
    rs = riskgrade.load("lec-generic", jurisdiction="620421")
    assert [lay["layer"] for lay in rs.doc["layers"]] == ["620400 白银市", "620421 靖远县"]
    assert any(r.get("cite", {}).get("layer") for r in rs.doc["rules"])
