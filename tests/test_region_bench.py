"""The region benchmark compares like with like (issue 17 §4): its hand-written baselines give riskgrade's
level for every synthetic enterprise, and the validating one refuses exactly the broken registers riskgrade
refuses (real registers, real lec-generic grading, real JSON-lines files)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import riskgrade

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_region", ROOT / "benchmarks" / "bench_region.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_region", mod)
    spec.loader.exec_module(mod)
    return mod


BENCH = _bench()


@pytest.mark.parametrize("validate", [True, False])
def test_baselines_give_riskgrades_level_for_every_enterprise(tmp_path: Path, validate: bool) -> None:
    path = tmp_path / "region.jsonl"
    BENCH.write_jsonl(str(path), 300)
    result = riskgrade.assess_region([str(path)], as_of=BENCH.AS_OF)
    counts, levels = BENCH.hand_region(str(path), BENCH.AS_OF, validate=validate)
    ents = result.to_dict()["enterprises"]
    assert not result.errors and len(levels) == len(ents) == 300
    assert {k: riskgrade.Level[v["level"]].value for k, v in ents.items()} == levels
    # three levels occur (the population has no BLUE enterprise: floors and raises), so it is not trivial
    assert set(levels.values()) == {2, 3, 4}
    for code in ("620402", "620400", "620000"):
        assert result.region.counts(code) == dict(zip(
            ("RED", "ORANGE", "YELLOW", "BLUE"), reversed(counts[code][1:]), strict=True))


@pytest.mark.parametrize(("what", "line"), BENCH.broken_lines(), ids=[w for w, _ in BENCH.BROKEN])
def test_both_sides_refuse_each_broken_register(tmp_path: Path, what: str, line: str) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    result = riskgrade.assess_region([str(path)], as_of=BENCH.AS_OF)
    assert [e["line"] for e in result.errors] == [1], what
    assert BENCH.hand_region(str(path), BENCH.AS_OF)[1] == {}, what
    # the unbroken register is accepted by both (the refusal is for the change, not the shape)
    path.write_text(BENCH.json.dumps(BENCH.synthetic(0), ensure_ascii=False) + "\n", encoding="utf-8")
    assert not riskgrade.assess_region([str(path)], as_of=BENCH.AS_OF).errors
    assert list(BENCH.hand_region(str(path), BENCH.AS_OF)[1]) == ["E-0000000"]
