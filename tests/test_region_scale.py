"""Region assessment at scale: JSON-lines registers, located errors per line, ``--jobs N`` equal to
``--jobs 1`` byte for byte (real worker processes, real plugins, real lec-generic grading)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli.graph import region_cmd
from riskgrade._source.yaml import load_yaml

ROOT = Path(__file__).resolve().parents[1]
CHEM = ROOT / "examples" / "enterprises" / "chem-plant.yaml"
AS_OF = dt.date(2024, 6, 30)
COUNTIES = ("620402", "620403", "620421", "620422", "620423")
LEC = ((1, 3, 3), (1, 6, 15), (3, 6, 15), (10, 6, 40), (3, 3, 7))


def chem_plant(i: int) -> dict[str, Any]:
    """The chem-plant register with its own id, county and risk-point facts (deterministic in ``i``)."""
    data = json.loads(json.dumps(load_yaml(str(CHEM)).data, default=str))
    data["id"] = f"E-{i:06d}"
    data["jurisdiction"] = COUNTIES[i % len(COUNTIES)]
    data.pop("location", None)
    data.pop("uscc", None)
    for k, p in enumerate(data["risk_points"]):
        L, E, C = LEC[(i + k) % len(LEC)]
        p["facts"] = {"L": L, "E": E, "C": C}
    return data


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("province")
    lines = [json.dumps(chem_plant(i), ensure_ascii=False) for i in range(40)]
    lines[7] = "{not json"
    lines[12] = ""
    bad = chem_plant(12)
    bad["risk_points"][0]["facts"] = {"L": 3, "E": 6}  # C missing: a FactError naming the field
    lines[20] = json.dumps(bad, ensure_ascii=False)
    lines[30] = json.dumps(chem_plant(3), ensure_ascii=False)  # E-000003 twice
    return write_jsonl(d / "province.jsonl", lines)


class TestJsonLines:
    def test_every_line_is_one_register(self, province: Path) -> None:
        r = riskgrade.assess_region([province], as_of=AS_OF)
        assert (r.files, r.registers, len(r.region), len(r.errors)) == (1, 40, 36, 4)
        assert r.region.counts("620000") == r.region.to_dict()["regions"]["620000"]["by_level"]
        assert sum(r.region.counts("620000").values()) == 36

    def test_errors_are_located_per_line_in_input_order(self, province: Path) -> None:
        errs = riskgrade.assess_region([province], as_of=AS_OF).errors
        assert [(e["file"], e.get("line"), e["code"]) for e in errs] == [
            (f"{province}:8", 8, "bad-syntax"), (f"{province}:13", 13, "blank-line"),
            (f"{province}:21", 21, "missing-fact"), (f"{province}:31", None, "duplicate-enterprise")]
        assert (errs[2]["record"], errs[2]["field"]) == ("P-NH3-TANK", "facts.C")
        assert errs[3]["message"] == f"enterprise 'E-000003' is already in {province}:4"

    def test_same_as_one_file_per_register(self, province: Path, tmp_path: Path) -> None:
        for i in (0, 1, 2):
            (tmp_path / f"e{i}.json").write_text(json.dumps(chem_plant(i), ensure_ascii=False), encoding="utf-8")
        one = write_jsonl(tmp_path / "three.jsonl", [json.dumps(chem_plant(i), ensure_ascii=False) for i in (0, 1, 2)])
        files = riskgrade.assess_region([tmp_path / f"e{i}.json" for i in (0, 1, 2)], as_of=AS_OF).region
        assert files.to_dict() == riskgrade.assess_region([one], as_of=AS_OF).region.to_dict()

    def test_unreadable_file_is_an_error_not_a_crash(self, tmp_path: Path) -> None:
        r = riskgrade.assess_region([tmp_path / "missing.jsonl", CHEM], as_of=AS_OF)
        assert ([e["code"] for e in r.errors], len(r.region)) == (["unreadable"], 1)

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="jobs"):
            riskgrade.assess_region([CHEM], jobs=-1)


def test_summaries_equal_those_of_full_assessments() -> None:
    files = sorted((ROOT / "examples" / "enterprises").glob("*.yaml")) + sorted((ROOT / "examples" / "region").glob("*.yaml"))
    want = riskgrade.RegionGraph.of([riskgrade.assess(None, str(f), as_of=AS_OF) for f in files], AS_OF)
    got = riskgrade.assess_region(files, as_of=AS_OF)
    assert (got.errors, got.region.to_dict()) == ((), want.to_dict())


class TestJobs:
    def test_jobs_2_equals_jobs_1_byte_for_byte(self, province: Path) -> None:
        args = [str(province), str(ROOT / "examples" / "region"), "--format", "json", "--as-of", "2024-06-30"]
        one = CliRunner().invoke(region_cmd, [*args, "--jobs", "1"])
        two = CliRunner().invoke(region_cmd, [*args, "--jobs", "2"])
        assert (one.exit_code, two.exit_code) == (2, 2)  # the bad lines are reported: exit 2
        assert one.stdout == two.stdout
        d = json.loads(two.stdout)
        assert (d["files"], d["registers"], len(d["errors"])) == (11, 50, 4)

    def test_small_chunks_in_workers_keep_the_order(self, province: Path) -> None:
        one = riskgrade.assess_region([province], as_of=AS_OF)
        two = riskgrade.assess_region([province], as_of=AS_OF, jobs=2, chunk=3)
        assert one.to_json() == two.to_json()

    def test_text_table_with_jobs(self) -> None:
        r = CliRunner().invoke(region_cmd, [str(CHEM), "--as-of", "2024-06-30", "--lang", "en", "-j", "2"])
        assert r.exit_code == 0
        assert r.stdout.splitlines()[1].split() == ["620000", "甘肃省", "1", "1", "0", "0", "0"]
