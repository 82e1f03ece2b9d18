"""riskgrade.dask on a real dask.distributed LocalCluster with two worker processes: the same
results as the in-process paths (grade_table / grade_many record for record, assess_region's counts)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import riskgrade
from riskgrade.exceptions import FactError

dd = pytest.importorskip("dask.dataframe")
db = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import riskgrade.dask as rdask  # noqa: E402
from tests.test_region_scale import chem_plant  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2024, 6, 30)
LS, ES, CS = (0.5, 1, 3, 6, 10), (1, 2, 3, 6, 10), (1, 3, 7, 15, 40, 100)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def facts(n: int) -> Any:
    rows = [{"L": LS[i % 5], "E": ES[(i // 5) % 5], "C": CS[(i // 25) % 6]} for i in range(n)]
    rows[3]["L"] = 4  # not an allowed value: an error row, the same in every path
    rows[5]["C"] = None  # a missing fact
    return pd.DataFrame(rows)


def test_import_riskgrade_does_not_import_dask() -> None:
    code = "import riskgrade, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


class TestGradeDataframe:
    def test_equals_grade_table_and_grade_many_on_two_workers(self, client: Any) -> None:
        rs = riskgrade.load("lec-generic")
        pdf = facts(400)
        got = rdask.grade_dataframe(rs, dd.from_pandas(pdf, npartitions=7)).compute()
        assert client.scheduler_info()["workers"] and len(client.scheduler_info()["workers"]) == 2
        want = rs.grade_table(pdf)
        assert list(got.index) == list(range(400))
        assert got.astype(str).to_dict("records") == want.astype(str).to_dict("records")
        records = [{k: v for k, v in r.items() if v == v and v is not None} for r in pdf.to_dict("records")]
        many = [a.code if isinstance(a, FactError) else a.level.name for a in rs.grade_many(records)]
        assert many == [e if isinstance(e, str) else lv for lv, e in zip(got["level"], got["error_code"], strict=True)]
        assert {"not-allowed", "missing-fact"} <= set(many)

    def test_a_ref_with_a_jurisdiction_loads_the_layers_on_the_workers(self, client: Any) -> None:
        pdf = facts(100)
        got = rdask.grade_dataframe("lec-generic", dd.from_pandas(pdf, npartitions=3), jurisdiction="620421").compute()
        want = riskgrade.load("lec-generic", jurisdiction="620421").grade_table(pdf)
        assert list(got["level"].astype(str)) == list(want["level"].astype(str))


class TestAssessBag:
    def test_region_counts_equal_assess_region(self, client: Any, tmp_path: Path) -> None:
        regs = [chem_plant(i) for i in range(30)]
        regs[4]["risk_points"][0]["facts"] = {"L": 3}  # a bad register: an error, the rest go on
        regs.append(chem_plant(2))  # a duplicate, in another partition
        path = tmp_path / "r.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in regs), encoding="utf-8")
        want = riskgrade.assess_region([path], as_of=AS_OF)
        got = rdask.assess_bag(db.from_sequence(regs, npartitions=4), as_of=AS_OF)
        assert got.region.to_dict() == want.region.to_dict()
        assert (got.registers, len(got.region)) == (31, 29)
        assert sorted((e["code"], e.get("record")) for e in got.errors) == sorted(
            (e["code"], e.get("record")) for e in want.errors) == [("duplicate-enterprise", "E-000002"),
                                                                    ("missing-fact", "P-NH3-TANK")]
        assert got.errors[0]["file"] == "partition 0[4]"

    def test_files_read_on_the_workers(self, client: Any) -> None:
        files = [str(p) for p in sorted((ROOT / "examples" / "region").glob("*.yaml"))]
        got = rdask.assess_bag(db.from_sequence(files, npartitions=3), as_of=AS_OF)
        want = riskgrade.assess_region(files, as_of=AS_OF)
        assert (got.to_json(), got.files) == (want.to_json(), len(files))
