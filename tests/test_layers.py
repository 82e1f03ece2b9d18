"""Jurisdiction layers: applying, provenance, errors located in the layer file."""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import textwrap

import pytest

import riskgrade
from riskgrade._api import compile_file as _compile_file
from riskgrade._api import compile_located, load_layer
from riskgrade._compile.layers import apply_layers, read_layer, version_ok
from riskgrade._compile.methods import builtin_methods
from riskgrade._core import jurisdictions as _jurisdictions
from riskgrade._source import registry
from riskgrade._source.yaml import load_yaml
from riskgrade.exceptions import RefinementError, RulesetError

from .conftest import MINIMAL

EXAMPLES = ("riskgrade-baiyin", "riskgrade-jingyuan")


def require(*dists: str) -> None:
    """Skip when a plugin distribution is missing -- but fail under RISKGRADE_REQUIRE_PLUGINS=1 (tox)."""
    missing = []
    for d in dists:
        try:
            importlib.metadata.distribution(d)
        except importlib.metadata.PackageNotFoundError:
            missing.append(d)
    if missing:
        msg = f"plugin distributions not installed: {', '.join(missing)}"
        if os.environ.get("RISKGRADE_REQUIRE_PLUGINS") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


HEAD = """\
riskgrade: 1
kind: layer
id: t-layer
jurisdiction: "620421"
refines: {ruleset: tiny, versions: ">=0.1, <1"}
"""


@pytest.fixture
def base(tmp_path: pathlib.Path) -> str:
    p = tmp_path / "tiny.yaml"
    p.write_text(MINIMAL, encoding="utf-8")
    return str(p)


def layer_file(tmp_path: pathlib.Path, body: str, name: str = "layer.yaml") -> str:
    p = tmp_path / name
    p.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return str(p)


def refine(base: str, *layers: str) -> riskgrade.Ruleset:
    return compile_located(load_yaml(base), layers=[read_layer(p) for p in layers])


class TestJurisdictions:
    def test_county_chain(self) -> None:
        assert [j.label for j in _jurisdictions.chain("620421")] == ["620000 甘肃省", "620400 白银市", "620421 靖远县"]

    def test_hitech_zone_is_a_named_sub_jurisdiction_of_the_city(self) -> None:
        assert [j.code for j in _jurisdictions.chain("620400/高新区")] == [
            "620000", "620400", "620400/白银高新技术产业开发区"]
        assert _jurisdictions.get(_jurisdictions.HITECH_ZONE).kind == "zone"

    def test_other_codes_follow_the_code_structure(self) -> None:
        assert [j.code for j in _jurisdictions.chain("110105")] == ["110000", "110100", "110105"]

    @pytest.mark.parametrize("code", ["62042", "abc", "620421/x"])
    def test_malformed_code(self, code: str) -> None:
        with pytest.raises(RulesetError) as e:
            _jurisdictions.get(code)
        assert e.value.codes == ["unknown-jurisdiction"]


class TestVersionOk:
    @pytest.mark.parametrize(("version", "spec", "ok"), [
        ("1.0.0", ">=1.0, <2", True), ("2.0", ">=1.0, <2", False), ("0.9", ">=1.0", False),
        ("1.2", "==1.2.0", True), ("1.2", "!=1.2", False)])
    def test_ranges(self, version: str, spec: str, ok: bool) -> None:
        assert version_ok(version, spec) is ok


class TestApplyLayers:
    def test_threshold_lowered_is_stricter_and_keeps_provenance(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, """\
            thresholds:
              b: {ORANGE: 15}
            """)
        rs = refine(base, lay)
        assert [rs.grade({"x": x}).level.name for x in (10, 12, 15, 16, 20, 25)] == [
            "BLUE", "YELLOW", "YELLOW", "ORANGE", "ORANGE", "ORANGE"]
        assert rs.provenance() == [f"threshold b ORANGE 20 → 15 by 620421 靖远县, {lay}:7"]
        assert rs.grade({"x": 16}).fired[0].citation.layer == f"threshold b ORANGE 20 → 15 by 620421 靖远县, {lay}:7"
        assert rs.ref.layers == ("620421 靖远县",)
        assert rs.jurisdiction == "620421"

    def test_base_is_not_modified(self, base: str, tmp_path: pathlib.Path) -> None:
        located = load_yaml(base)
        before = repr(located.data)
        apply_layers(located, located.data, [read_layer(layer_file(tmp_path, "thresholds: {b: {RED: 25}}\n"))],
                     builtin_methods())
        assert repr(located.data) == before

    def test_threshold_raised_is_rejected_with_file_and_line(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, """\
            thresholds:
              b:
                RED: 35
            """)
        with pytest.raises(RefinementError) as e:
            refine(base, lay)
        assert str(e.value) == (f"{lay}:8:10: refine-looser: threshold b RED 30 → 35 makes grading looser: "
                                "a score of 32.5 would give ORANGE instead of RED (layer 620421 靖远县)")

    def test_level_may_only_rise(self, write_ruleset: object, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "d.yaml"
        p.write_text(MINIMAL + "  - {id: d, method: direct, when: x > 90, level: ORANGE, cite: {source: s}}\n",
                     encoding="utf-8")
        up = layer_file(tmp_path, "levels: {d: RED}\n", "up.yaml")
        assert refine(str(p), up).grade({"x": 95}).level is riskgrade.Level.RED
        down = layer_file(tmp_path, "levels: {d: YELLOW}\n", "down.yaml")
        with pytest.raises(RefinementError) as e:
            refine(str(p), down)
        assert e.value.codes == ["refine-looser"]
        assert e.value.problems[0].line == 6

    def test_added_input_needs_a_default(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, """\
            inputs:
              y: {type: number}
            """)
        with pytest.raises(RulesetError) as e:
            refine(base, lay)
        assert [str(p) for p in e.value.problems] == [
            f"{lay}:7:3: layer-no-default: input 'y' needs a default, so that facts valid for the base stay valid"]

    def test_added_names_must_be_new(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, """\
            inputs:
              x: {type: number, default: 0}
            rules:
              - {id: r, method: direct, when: x > 5, level: RED, cite: {source: s}}
            """)
        with pytest.raises(RulesetError) as e:
            refine(base, lay)
        assert [(p.code, p.line) for p in e.value.problems] == [("layer-conflict", 7), ("layer-conflict", 9)]

    def test_added_rule_and_input_and_case(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, """\
            inputs:
              night: {type: bool, default: false}
            rules:
              - {id: night-work, method: direct, when: night and x > 5, level: ORANGE, cite: {source: s}}
            cases:
              - {note: night work, facts: {x: 6, night: true}, want: {level: ORANGE}}
            """)
        rs = refine(base, lay)
        assert rs.grade({"x": 6}).level is riskgrade.Level.BLUE
        assert rs.grade({"x": 6, "night": True}).level is riskgrade.Level.ORANGE
        assert [(c.note, c.ok) for c in rs.run_cases()] == [("[620421 靖远县] night work", True)]
        assert rs.rules[-1]["cite"] == {"source": "s", "basis": "local",
                                        "layer": f"rule night-work added by 620421 靖远县, {lay}:9"}

    def test_expression_error_points_into_the_layer(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, """\
            rules:
              - id: bad
                method: direct
                when: x > y
                level: RED
                cite: {source: s}
            """)
        with pytest.raises(RulesetError) as e:
            refine(base, lay)
        assert (e.value.problems[0].file, e.value.problems[0].line, e.value.problems[0].code) == (
            lay, 9, "unknown-name")

    def test_wrong_ruleset_and_version(self, base: str, tmp_path: pathlib.Path) -> None:
        lay = tmp_path / "v.yaml"
        lay.write_text(HEAD.replace(">=0.1, <1", ">=2"), encoding="utf-8")
        with pytest.raises(RulesetError) as e:
            refine(base, str(lay))
        assert e.value.codes == ["layer-version"]

    def test_schema_errors_are_located(self, tmp_path: pathlib.Path) -> None:
        lay = layer_file(tmp_path, "remove_rules: [r]\n")
        with pytest.raises(RulesetError) as e:
            read_layer(lay)
        assert [str(p) for p in e.value.problems] == [f"{lay}:6:1: unknown-key: unknown key 'remove_rules'"]

    def test_table_value_direction(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "q.yaml"
        tables = "tables:\n  q:\n    key: name\n    columns: {name: string, Q: number}\n    rows: [{name: a, Q: 10}]\n"
        p.write_text(MINIMAL.replace("    expr: x\n", "    expr: x * 10 / lookup('q', 'a', 'Q')\n") + tables,
                     encoding="utf-8")
        assert refine(str(p)).grade({"x": 12}).level is riskgrade.Level.YELLOW
        down = layer_file(tmp_path, "table_values:\n  q:\n    - {name: a, Q: 5}\n", "down.yaml")
        assert refine(str(p), down).grade({"x": 12}).level is riskgrade.Level.ORANGE
        up = layer_file(tmp_path, "table_values:\n  q:\n    - {name: a, Q: 20}\n", "up.yaml")
        with pytest.raises(RefinementError) as e:
            refine(str(p), up)
        assert e.value.problems[0].message == ("q[a].Q 10 → 20 makes grading looser: this value may only fall "
                                               "(layer 620421 靖远县)")


class TestExamplePlugins:
    def test_county_applies_province_then_city_then_county(self) -> None:
        require(*EXAMPLES)
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        assert rs.ref.layers == ("620400 白银市", "620421 靖远县")
        assert rs.jurisdiction == "620421"
        facts = {"L": 10, "E": 1, "C": 15}  # D = 150
        assert riskgrade.load("lec-generic").grade(facts).level is riskgrade.Level.YELLOW
        assert riskgrade.load("lec-generic", jurisdiction="620400").grade(facts).level is riskgrade.Level.YELLOW
        assert rs.grade(facts).level is riskgrade.Level.ORANGE
        assert all(c.ok for c in rs.run_cases())

    def test_explanation_shows_the_layer_changes(self) -> None:
        require(*EXAMPLES)
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        cite = rs.grade({"L": 10, "E": 1, "C": 15}).fired[0].citation
        assert cite.layer == (
            "threshold lec_D RED 320 → 280 by 620400 白银市, riskgrade_baiyin/layers/lec-generic.yaml:43; "
            "threshold lec_D ORANGE 160 → 140 by 620421 靖远县, riskgrade_jingyuan/layers/lec-generic.yaml:28")

    def test_base_facts_stay_valid_and_cached(self) -> None:
        require(*EXAMPLES)
        rs = riskgrade.load("lec-generic", jurisdiction="620421")
        assert rs is riskgrade.load("lec-generic", jurisdiction="620421")
        assert rs.grade({"L": 1, "E": 0.5, "C": 40}).level is riskgrade.Level.BLUE

    def test_plugin_function_in_a_layer(self) -> None:
        require("riskgrade-baiyin")
        rs = riskgrade.load("lec-generic", jurisdiction="620400")
        a = rs.grade({"L": 10, "E": 1, "C": 15, "exposed_persons": 20})
        assert (a.level, a.values["D_crowd"]) == (riskgrade.Level.RED, 300.0)

    def test_a_city_without_county_layer_gets_the_city(self) -> None:
        require(*EXAMPLES)
        assert riskgrade.load("lec-generic", jurisdiction="620402").ref.layers == ("620400 白银市",)
        assert riskgrade.load("lec-generic", jurisdiction="620400/高新区").ref.layers == ("620400 白银市",)

    def test_load_layer_file_on_its_own(self) -> None:
        require(*EXAMPLES)
        import riskgrade_jingyuan

        path = os.path.join(os.path.dirname(riskgrade_jingyuan.__file__), "layers", "lec-generic.yaml")
        lf = load_layer(path)
        assert lf.ruleset.ref.layers == ("620400 白银市", "620421 靖远县")
        assert [c.ok for c in lf.run_cases()] == [True, True, True]


class TestMissingLayerInTheChain:
    """A county layer that says it builds on the city layer (``requires:``) is an error without it."""

    def _plugins(self, *names: str) -> object:
        import importlib

        from riskgrade._plugins import Plugins

        mods = {"baiyin": "riskgrade_baiyin.plugin", "jingyuan": "riskgrade_jingyuan.plugin"}
        return Plugins([(n, importlib.import_module(mods[n])) for n in names], entry_points=False)

    def test_jingyuan_declares_it_builds_on_baiyin(self) -> None:
        require(*EXAMPLES)
        import riskgrade_jingyuan

        path = pathlib.Path(riskgrade_jingyuan.__file__).parent / "layers" / "lec-generic.yaml"
        assert read_layer(str(path)).requires == ("baiyin-lec",)

    def test_without_the_city_layer_loading_the_county_is_an_error(self) -> None:
        from riskgrade._api import compile_file, layers_for
        from riskgrade._source import registry

        require(*EXAMPLES)
        with pytest.raises(RulesetError) as e:
            layers_for("lec-generic", "620421", self._plugins("jingyuan"))  # type: ignore[arg-type]
        assert e.value.codes == ["missing-layer"]
        (p,) = e.value.problems
        assert "baiyin-lec" in p.message and p.file.endswith("lec-generic.yaml") and p.line
        with pytest.raises(RulesetError):
            compile_file(registry.find("lec-generic"),
                         layers=layers_for("lec-generic", "620421", self._plugins("jingyuan")),  # type: ignore[arg-type]
                         plugins=self._plugins("jingyuan"))  # type: ignore[arg-type]

    def test_with_the_city_layer_it_loads(self) -> None:
        from riskgrade._api import layers_for

        require(*EXAMPLES)
        found = layers_for("lec-generic", "620421", self._plugins("baiyin", "jingyuan"))  # type: ignore[arg-type]
        assert [lay.id for lay in found] == ["baiyin-lec", "jingyuan-lec"]
        # a county the layer does not cover needs nothing
        assert [lay.id for lay in layers_for("lec-generic", "620422", self._plugins("jingyuan"))] == []  # type: ignore[arg-type]


class TestTablesInCsv:
    """A layer reaches the rows of tables kept in CSV: hazchem-gb18218's Table 1 (gb18218-table1.csv)."""

    BASE = registry.find("hazchem-gb18218")
    HEAD = ('riskgrade: 1\nkind: layer\nid: t-q\njurisdiction: "620421"\n'
            'refines: {ruleset: hazchem-gb18218, versions: ">=1.0, <2"}\n')

    def layer(self, tmp_path: pathlib.Path, body: str, name: str = "q.yaml") -> str:
        p = tmp_path / name
        p.write_text(self.HEAD + textwrap.dedent(body), encoding="utf-8")
        return str(p)

    def test_a_lower_q_is_stricter_and_the_csv_stays_a_source_file(self, tmp_path: pathlib.Path) -> None:
        base = _compile_file(self.BASE)
        lay = self.layer(tmp_path, "table_values:\n  table1:\n    - {name: 氨, Q: 5}\n")
        rs = _compile_file(self.BASE, layers=[read_layer(lay)])
        facts = {"substances": [{"name": "氨", "quantity_t": 10}], "exposed_people": 120}
        assert (base.grade(facts).values["S"], rs.grade(facts).values["S"]) == (1, 2)
        assert rs.grade(facts).level >= base.grade(facts).level
        csv_file = str(pathlib.Path(self.BASE).parent / "gb18218-table1.csv")
        assert csv_file in rs.files and rs.tables["table1"].files == (csv_file,)
        assert rs.doc["layers"][0]["changes"] == [f"table1[氨].Q 10 → 5 by 620421 靖远县, {lay}:8"]

    def test_a_higher_q_is_rejected_with_file_and_line(self, tmp_path: pathlib.Path) -> None:
        lay = self.layer(tmp_path, "table_values:\n  table1:\n    - {name: 氨, Q: 20}\n")
        with pytest.raises(RefinementError) as e:
            _compile_file(self.BASE, layers=[read_layer(lay)])
        assert [str(p) for p in e.value.problems] == [
            f"{lay}:8:20: refine-looser: table1[氨].Q 10 → 20 makes grading looser: this value may only fall "
            "(layer 620421 靖远县)"]

    def test_a_local_substance_turns_an_error_into_a_level(self, tmp_path: pathlib.Path) -> None:
        lay = self.layer(tmp_path, """\
            table_rows:
              table1:
                - {item: 86, name: 本地溶剂, cas: 0000-00-1, Q: 2, lookup_keys: 本地溶剂}
              table3:
                - {name: 本地溶剂, cas: 0000-00-1, beta: 1.5, lookup_keys: 本地溶剂}
            """)
        rs = _compile_file(self.BASE, layers=[read_layer(lay)])
        facts = {"substances": [{"name": "本地溶剂", "quantity_t": 4}], "exposed_people": 0}
        with pytest.raises(riskgrade.FactError) as e:
            _compile_file(self.BASE).grade(facts)
        assert e.value.code == "not-in-table"
        assert rs.grade(facts).values["S"] == 2
        layers = rs.doc["layers"][0]
        assert layers["changes"] == [f"table1[本地溶剂] row added by 620421 靖远县, {lay}:8",
                                     f"table3[本地溶剂] row added by 620421 靖远县, {lay}:10"]
        assert layers["unproven"][0].startswith(layers["changes"][0] + " (table 'table1' is read with has()")

    @pytest.mark.parametrize(("row", "code"), [
        ("{item: 86, name: 液氨, Q: 1}", "layer-conflict"),  # 液氨 is an alias of 氨: it would shadow the row
        ("{item: 86, name: 氨, Q: 1}", "layer-conflict"),
        ("{item: 86, name: x, Q: many}", "wrong-type"),
        ("{item: 86, name: x, Qmax: 1}", "unknown-column"),
        ("{item: 86, Q: 1}", "missing-key"),
    ])
    def test_new_rows_are_checked(self, tmp_path: pathlib.Path, row: str, code: str) -> None:
        lay = self.layer(tmp_path, f"table_rows:\n  table1:\n    - {row}\n")
        with pytest.raises(RulesetError) as e:
            _compile_file(self.BASE, layers=[read_layer(lay)])
        assert [(p.code, p.file, p.line) for p in e.value.problems] == [(code, lay, 8)]

    def test_a_declared_column_direction_decides_where_the_analysis_cannot(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "eq.yaml"
        tables = ("tables:\n  q:\n    key: name\n    columns: {name: string, Q: number}\n"
                  "    rows: [{name: a, Q: 10}]\n")
        # through ==, the analysis cannot tell which way Q acts
        text = MINIMAL.replace("    expr: x\n", "    expr: \"x * (3 if lookup('q', 'a', 'Q') < 8 else 1)"
                               " + (1 if lookup('q', 'a', 'Q') == 10 else 0)\"\n") + tables
        p.write_text(text, encoding="utf-8")
        down = layer_file(tmp_path, "table_values:\n  q:\n    - {name: a, Q: 5}\n", "down.yaml")
        up = layer_file(tmp_path, "table_values:\n  q:\n    - {name: a, Q: 12}\n", "up.yaml")
        with pytest.raises(RefinementError):  # undecided: the value may only rise ...
            refine(str(p), down)
        assert refine(str(p), up).doc["layers"][0]["unproven"]  # ... and rising is left to the differential check
        p.write_text(text + "    stricter: {Q: lower}\n", encoding="utf-8")
        rs = refine(str(p), down)
        assert rs.doc["layers"][0]["unproven"] == [] and rs.grade({"x": 5}).level is riskgrade.Level.YELLOW  # base: BLUE
        with pytest.raises(RefinementError) as e:
            refine(str(p), up)
        assert e.value.codes == ["refine-looser"]
