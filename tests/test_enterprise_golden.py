"""Every example register's assessment pinned byte for byte (issue 17 §4: the region fast paths must
not change a result). For each ``.yaml``/``.json`` file under ``examples/``, at two dates: the
assessment's ``to_json()`` and its explanations in zh and en, or -- for a file that is not a valid
register -- the error's type, code, record, field and message. Plus broken variants of the chem-plant
register (a field removed, a wrong type, an unknown key, a dangling reference ...), so the register's
checks keep their exact messages, and the region of every example register at once.

The goldens in ``tests/data/assess_golden/`` were written by the code before the fast paths
(``RISKGRADE_REGEN_GOLDEN=1 pytest tests/test_enterprise_golden.py`` rewrites them; do that only for an
intended change of results, and say so in the commit).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

import riskgrade
from riskgrade._core.canonical import dumps
from riskgrade._source.yaml import load_yaml

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "assess_golden"
DATES = (dt.date(2024, 6, 30), dt.date(2027, 1, 1))
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".yaml", ".json"))
REGEN = os.environ.get("RISKGRADE_REGEN_GOLDEN") == "1"


def outcome(register: Any, as_of: dt.date) -> str:
    """The pinned text of one assessment: its JSON and explanations, or its error."""
    try:
        a = riskgrade.assess(None, register, as_of=as_of)
    except riskgrade.RiskgradeError as exc:
        return dumps({"error": type(exc).__name__, "code": getattr(exc, "code", None),
                      "record": getattr(exc, "record", None), "field": getattr(exc, "field", None),
                      "message": str(exc)}, indent=2) + "\n"
    return a.to_json() + "\n-- zh --\n" + a.explain("zh") + "\n-- en --\n" + a.explain("en") + "\n"


def check(name: str, text: str) -> None:
    # error messages name the file by its absolute path: pinned relative to the checkout, wherever it is
    text = text.replace(str(ROOT), "<root>")
    path = GOLDEN / name
    if REGEN:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


def _chem() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(load_yaml(str(ROOT / "examples/enterprises/chem-plant.yaml")).data,
                                                 default=str))
    return data


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(d: dict[str, Any]) -> None:
        for k in path[:-1]:
            d = d[k]
        if value is _DROP:
            del d[path[-1]]
        else:
            d[path[-1]] = value
    return edit


_DROP = object()
#: broken variants of the chem-plant register: name -> edit
VARIANTS = {
    "no-id": _set(("id",), _DROP), "id-int": _set(("id",), 7), "no-name": _set(("name",), _DROP),
    "name-blank": _set(("name",), "  "), "bad-jurisdiction": _set(("jurisdiction",), "99"),
    "unknown-top": _set(("colour",), "red"), "sectors-str": _set(("sectors",), "hazchem"),
    "units-dict": _set(("units",), {"id": "U"}), "unit-no-id": _set(("units", 0, "id"), _DROP),
    "unit-unknown": _set(("units", 0, "size"), 3), "unit-mhg": _set(("units", 0, "major_hazard_grade"), "五级"),
    "point-unit-dangling": _set(("risk_points", 0, "unit"), "U-NOPE"),
    "point-facts-list": _set(("risk_points", 0, "facts"), [1, 2]),
    "point-fact-missing": _set(("risk_points", 0, "facts"), {"L": 3, "E": 6}),
    "point-fact-bad": _set(("risk_points", 0, "facts", "L"), 4),
    "point-fact-str": _set(("risk_points", 0, "facts", "L"), "3"),
    "hazard-dangling": _set(("hazards", 0, "risk_point"), "P-NOPE"),
    "hd-date": _set(("hidden_dangers", 0, "found"), "2024-13-01"),
    "hd-grade": _set(("hidden_dangers", 0, "grade"), "huge"),
    "hd-status": _set(("hidden_dangers", 0, "status"), "gone"),
    "hd-target": _set(("hidden_dangers", 0, "target"), "X"),
    "accident-date": _set(("accidents", 0, "date"), 20231118),
    "dep-cycle": lambda d: d["dependencies"].append({"from": d["dependencies"][0]["to"],
                                                     "to": d["dependencies"][0]["from"]}),
    "dup-point": lambda d: d["risk_points"].append(copy.deepcopy(d["risk_points"][0])),
    "standardisation": _set(("standardisation",), "四级"),
}


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT / "examples")) for p in EXAMPLES])
@pytest.mark.parametrize("as_of", DATES, ids=[d.isoformat() for d in DATES])
def test_example_register(path: Path, as_of: dt.date) -> None:
    name = str(path.relative_to(ROOT / "examples")).replace("/", "__") + f"@{as_of.isoformat()}.txt"
    check(name, outcome(str(path), as_of))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_broken_variant(variant: str) -> None:
    data = _chem()
    VARIANTS[variant](data)
    check(f"variant__{variant}.txt", outcome(data, DATES[0]))


def test_region_of_examples() -> None:
    r = riskgrade.assess_region([str(ROOT / "examples" / "enterprises"), str(ROOT / "examples" / "region")],
                                as_of=DATES[0])
    text = r.to_json().replace(str(ROOT), "<root>") + "\n"
    check("region__examples.json", text)
