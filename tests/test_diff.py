"""``riskgrade.diff`` and ``riskgrade diff``: what changed between two rulesets, and over a population;
and the commands of docs/authoring-diff.md run as written."""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import re
import shlex

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli.main import main

from .test_plugin_guide import needs_plugins

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "authoring-diff.md"


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def _lec_population(path: pathlib.Path) -> pathlib.Path:
    """Every combination of the published L, E, C scales, as a JSONL population."""
    scales = {"L": [10, 6, 3, 1, 0.5, 0.2, 0.1], "E": [10, 6, 3, 2, 1, 0.5], "C": [100, 40, 15, 7, 3, 1]}
    with path.open("w", encoding="utf-8") as fh:
        for combo in itertools.product(*scales.values()):
            fh.write(json.dumps(dict(zip(scales, combo, strict=True))) + "\n")
    return path


class TestEditions:
    def test_nonmetal_editions_over_a_generated_population(self) -> None:
        code, out = invoke("diff", "nonmetal-mine@2017", "nonmetal-mine@2022", "--generate", "2000", "--lang", "en")
        assert code == 0, out
        # 2022 encodes 矿安〔2022〕88号 itself: items split into sub-conditions, renamed, dropped and added
        assert "~ rule ug-01: method direct → composite" in out
        line = next(ln for ln in out.splitlines() if ln.startswith("records: 2000 (seeded sample); level changed: "))
        assert int(line.rsplit(" ", 1)[1]) > 0
        assert "  RED->BLUE: " in out and "  BLUE->RED: " in out and "unchanged: RED" in out

    def test_nonmetal_json(self) -> None:
        code, out = invoke("diff", "nonmetal-mine@2017", "nonmetal-mine@2022", "--generate", "500", "--format", "json")
        assert code == 0
        d = json.loads(out)
        pop = d["population"]
        assert pop["records"] == 500 and pop["changed"] == sum(pop["transitions"].values()) > 0
        assert set(pop["transitions"]) == {"RED->BLUE", "BLUE->RED"}
        assert sum(pop["unchanged"].values()) + pop["changed"] == 500
        rules = [c for c in d["changes"] if c["kind"] == "rule"]
        assert {c["op"] for c in rules} >= {"changed", "added"}
        sources = {(c["op"], c["name"]) for c in d["changes"] if c["kind"] == "source"}
        assert {("removed", "nmm-2017"), ("added", "nmm-2022"), ("added", "nmm-2024")} <= sources

    def test_construction_editions_match_on_inputs_not_ids(self) -> None:
        old, new = riskgrade.load("construction-major-hidden-dangers@2022"), riskgrade.load("construction-major-hidden-dangers@2024")
        d = riskgrade.diff(old, new)
        by = {(c.name, c.field): c for c in d.changes if c.kind == "rule"}
        # the same finding under another number: matched on its input, the id change is shown
        assert by[("art07-4/art07-3", "id")].new == "art07-3"
        # a dropped item of 2022 is removed, not paired with the 2024 item that took its number
        assert any(c.op == "removed" and c.name == "art07-3" for c in d.changes)
        assert not [c for c in d.changes if c.kind == "rule" and c.name == "art07-3" and c.op == "changed"]
        old_only = {c.name for c in d.changes if c.kind == "input" and c.op == "removed"}
        assert "climbing_scaffold_not_accepted" in old_only

    def test_records_invalid_under_one_side_count_separately(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "projects.jsonl"
        f.write_text('{"has_excavation": false, "pit_edge_overloaded": true}\n'
                     '{"special_workers_uncertified": true}\n{}\n', encoding="utf-8")
        d = riskgrade.diff("construction-major-hidden-dangers@2022", "construction-major-hidden-dangers@2024", str(f))
        assert d.population is not None
        assert d.population.transitions == {"BLUE->error": 1}
        assert d.population.unchanged == {"RED": 1, "BLUE": 1}
        (ex,) = d.population.examples
        assert ex["old"] == "BLUE" and ex["new"] == "error" and ex["new_error"].startswith("requirement-failed")


@needs_plugins
class TestLayers:
    def test_base_against_the_county_shows_the_threshold_changes(self, tmp_path: pathlib.Path) -> None:
        pop = _lec_population(tmp_path / "lec.jsonl")
        code, out = invoke("diff", "lec-generic", "lec-generic@jurisdiction=620421", "--facts", str(pop),
                           "--format", "json")
        assert code == 0, out
        d = json.loads(out)
        bands = {(c["name"], c["field"]): (c["old"], c["new"]) for c in d["changes"] if c["kind"] == "bands"}
        assert bands[("lec_D[ORANGE]", "from")] == (160, 140)  # the county (jingyuan)
        assert bands[("lec_D[RED]", "from")] == (320, 280)  # the city (baiyin), below which the county sits
        # with nobody counted and away from the river, only the moved thresholds change levels
        expected = {"YELLOW->ORANGE": 0, "ORANGE->RED": 0}
        for line in pop.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            D = r["L"] * r["E"] * r["C"]
            if 140 < D <= 160:
                expected["YELLOW->ORANGE"] += 1
            if 280 < D <= 320:
                expected["ORANGE->RED"] += 1
        assert d["population"]["transitions"] == {k: v for k, v in expected.items() if v}
        assert d["population"]["records"] == 252
        assert d["population"]["changed"] == sum(expected.values())

    def test_city_against_county_moves_yellow_to_orange_only(self) -> None:
        code, out = invoke("diff", "lec-generic", "lec-generic", "--old-jurisdiction", "620400",
                           "--new-jurisdiction", "620421", "--generate", "10000", "--format", "json")
        assert code == 0, out
        d = json.loads(out)
        bands = [(c["name"], c["field"], c["old"], c["new"]) for c in d["changes"] if c["kind"] == "bands"]
        assert bands == [("lec_D[YELLOW]", "to", 160, 140), ("lec_D[ORANGE]", "from", 160, 140)]
        pop = d["population"]
        assert pop["source"] == "all combinations"
        assert set(pop["transitions"]) == {"YELLOW->ORANGE"} and pop["changed"] > 0
        for ex in pop["examples"]:
            assert (ex["old"], ex["new"]) == ("YELLOW", "ORANGE")
        added = {c["name"] for c in d["changes"] if c["op"] == "added" and c["kind"] in ("input", "rule")}
        assert added == {"near_yellow_river", "jingyuan-river"}

    def test_text(self) -> None:
        code, out = invoke("diff", "lec-generic@jurisdiction=620400", "lec-generic@jurisdiction=620421",
                           "--generate", "10000", "--lang", "zh")
        assert code == 0
        assert "~ 分级区间 lec_D[ORANGE]: from 160 → 140" in out
        assert "YELLOW->ORANGE: " in out and "全部组合" in out


class TestFiles:
    def test_two_files(self, tmp_path: pathlib.Path) -> None:
        src = (ROOT / "tests" / "data" / "lec-flat.yaml").read_text(encoding="utf-8")  # tables and bands written out
        stricter = src.replace("{from: 160, to: 320, level: ORANGE", "{from: 140, to: 320, level: ORANGE").replace(
            "{from: 70, to: 160, level: YELLOW", "{from: 70, to: 140, level: YELLOW").replace(
            "      - {value: 1,   zh: 引人注目，需要救护, en: \"noticeable, first aid\"}\n",
            "      - {value: 1,   zh: 引人注目，需要救护, en: \"noticeable, first aid\"}\n"
            "      - {value: 0.5, zh: 轻微, en: minor}\n")
        a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
        a.write_text(src, encoding="utf-8")
        b.write_text(stricter, encoding="utf-8")
        d = riskgrade.diff(str(a), str(b), [{"L": 10, "E": 1, "C": 15}, {"L": 3, "E": 6, "C": 15}])
        texts = [c.text() for c in d.changes]
        assert "~ bands lec_D[ORANGE]: from 160 → 140" in texts
        assert "~ bands lec_D[YELLOW]: to 160 → 140" in texts
        assert "+ table lec_C[0.5] (added): {value: 0.5, zh: 轻微, en: minor}" in texts
        assert "~ input C: allowed values [1, 3, 7, 15, 40, 100] → [0.5, 1, 3, 7, 15, 40, 100]" in texts
        assert d.population is not None and d.population.transitions == {"YELLOW->ORANGE": 1}
        assert d.population.examples[0]["facts"] == {"L": 10, "E": 1, "C": 15}

    def test_facts_and_generate_exclude_each_other(self, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "f.yaml"
        f.write_text("L: 3\nE: 6\nC: 15\n", encoding="utf-8")
        code, out = invoke("diff", "lec-generic", "lec-generic", "--facts", str(f), "--generate", "10")
        assert code == 2 and "not both" in out

    def test_same_ruleset_has_no_differences(self) -> None:
        code, out = invoke("diff", "lec-generic", "lec-generic", "--lang", "en")
        assert code == 0 and "no differences" in out

    def test_a_required_input_that_cannot_be_generated(self, tmp_path: pathlib.Path) -> None:
        src = (ROOT / "rulesets" / "lec-generic.yaml").read_text(encoding="utf-8")
        f = tmp_path / "t.yaml"
        f.write_text(src.replace("inputs:\n", "inputs:\n  who:\n    type: string\n", 1).replace(
            "facts: {L: 1, E: 0.5, C: 40}", "facts: {L: 1, E: 0.5, C: 40, who: a}"), encoding="utf-8")
        rs = riskgrade.load(str(f))
        with pytest.raises(riskgrade.FactError) as e:
            riskgrade.diff(rs, rs, generate=100)
        assert e.value.code == "cannot-generate"

    def test_the_bound_of_a_generated_population(self) -> None:
        d = riskgrade.diff("lec-generic", "lec-generic", generate=100, seed=1)
        assert d.population is not None
        assert d.population.records == 100 and d.population.source == "seeded sample"


# -- the guide ------------------------------------------------------------------------------------
def guide_commands() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        out += [ln.strip() for ln in block.splitlines() if ln.strip().startswith("riskgrade ")]
    return out


def test_the_guide_has_commands() -> None:
    cmds = guide_commands()
    assert any(c.startswith("riskgrade diff ") for c in cmds) and any(c.startswith("riskgrade whatif ") for c in cmds)


@needs_plugins
@pytest.mark.parametrize("command", guide_commands())
def test_guide_command_succeeds(command: str) -> None:
    args = shlex.split(command)[1:]
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        res = CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    assert res.exit_code == 0, res.output


@needs_plugins
def test_guide_outputs_are_what_the_commands_print() -> None:
    """Each ```text block right after a ```sh block of one command is that command's output (a prefix
    of it, when the block ends with '...')."""
    text = GUIDE.read_text(encoding="utf-8")
    pairs = re.findall(r"```sh\n(riskgrade [^\n]*)\n```\n+```text\n(.*?)```", text, flags=re.S)
    assert pairs
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        for cmd, shown in pairs:
            out = CliRunner().invoke(main, shlex.split(cmd)[1:], catch_exceptions=False).output
            want = shown.rstrip("\n")
            if want.endswith("..."):
                body = [ln for ln in want[:-3].rstrip("\n").splitlines()]
                for ln in body:
                    assert ln in out.splitlines(), (cmd, ln)
            else:
                assert out.rstrip("\n") == want, cmd
    finally:
        os.chdir(old)
