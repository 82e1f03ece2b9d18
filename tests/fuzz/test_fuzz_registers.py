"""Register mutation: ``load_enterprise`` on mutated example registers, as mappings and as JSON text,
gives a ``RiskgradeError`` or an enterprise whose assessment re-runs to the same bytes."""

from __future__ import annotations

import datetime
import json
import pathlib
from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

import riskgrade

from . import mutate, shipped
from ._harness import SEED, Budget, case, settings, size

REGISTERS = shipped.registers()
AS_OF = datetime.date(2024, 6, 30)


def _assessed(ent: riskgrade.Enterprise) -> str:
    return riskgrade.assess(None, ent, as_of=AS_OF).to_json()


@pytest.mark.parametrize("rel", REGISTERS)
def test_mutated_register(rel: str, tmp_path: pathlib.Path) -> None:
    base = shipped.document(rel)
    pool: list[Any] = mutate.HOSTILE + mutate.scalars(base)
    budget = Budget("registers", left=len(REGISTERS) - REGISTERS.index(rel))
    counter = iter(range(10**9))

    @settings(size("registers") // len(REGISTERS))
    @hypothesis.seed(SEED)
    @given(mutate.ops(), mutate.text_edits(), st.booleans())
    def run(ops: list[mutate.Op], edits: list[tuple[int, int, int]], as_text: bool) -> None:
        if budget.over():
            return
        doc = mutate.apply(base, ops, pool)
        source: Any = doc
        if as_text:
            text = mutate.text_ops(json.dumps(doc, ensure_ascii=False, default=str, indent=1), edits)
            path = tmp_path / f"register{next(counter)}.json"
            path.write_text(text, encoding="utf-8")
            source = str(path)

        def go() -> tuple[str, Any]:
            ent = riskgrade.load_enterprise(source)
            return _assessed(ent), lambda: _assessed(riskgrade.load_enterprise(source))

        case("registers", f"{rel} text={as_text} ops={ops} edits={edits}", go)

    run()
