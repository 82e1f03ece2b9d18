"""The register's fast path (``_enterprise/register.py`` ``_FAST``) builds exactly what the field-by-field
reader builds, or declines: for any record of plain values, either the fast path returns None, or the
reader (forced by handing it a read-only mapping view) accepts the record and builds an equal one,
field for field (the fields outside equality -- facts, location -- included)."""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskgrade._enterprise.register import _FAST, parse_record
from riskgrade.exceptions import FactError

TEXT = st.sampled_from(["", " ", "P-1", " U-1 ", "名称", "一级", "三级", "none", "无", "major", "重大", "general",
                        "open", "verified", "rectified", "整改中", "一般", "较大", "2024-06-10", "2024-13-01",
                        " 2024-02-15 ", "20240301", "lec-generic"])
VALUE = st.one_of(TEXT, st.none(), st.booleans(), st.integers(-2, 5), st.floats(-10, 100, allow_nan=False),
                  st.just(float("nan")), st.dates(dt.date(2023, 1, 1), dt.date(2025, 1, 1)),
                  st.just(dt.datetime(2024, 5, 1, 8, 0)), st.lists(st.integers(0, 3), max_size=2),
                  st.dictionaries(st.sampled_from(["L", "E", "C", 1]), st.one_of(st.integers(0, 10), TEXT,
                                                                                st.lists(st.integers(), max_size=2)),
                                  max_size=3))


#: a plain record of every kind (the fast path's common case)
PLAIN: dict[str, dict[str, Any]] = {
    "unit": {"id": "U-1", "name": "罐区", "major_hazard_grade": "二级"},
    "risk_point": {"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 3, "E": 6, "C": 15}},
    "hazard": {"id": "H-1", "risk_point": "P-1", "name": "泄漏", "category": "中毒和窒息"},
    "hidden_danger": {"id": "HD-1", "target": "P-1", "grade": "major", "found": "2024-06-10",
                      "deadline": "2024-07-10", "status": "verified", "closed": "2024-06-20"},
    "monitoring_point": {"id": "MP-1", "risk_point": "P-1", "name": "液位", "quantity": "level", "unit": "%",
                         "low": 10, "high": 85, "high_high": 90},
    "accident": {"id": "A-1", "date": dt.date(2023, 11, 18), "severity": "一般", "injuries": 1},
}


@st.composite
def records(draw: Any) -> tuple[str, dict[Any, Any]]:
    """A plain record with up to three fields changed (to any value), removed or added."""
    kind = draw(st.sampled_from(sorted(_FAST)))
    keys = [*sorted(_FAST[kind][0]), "x-extra", "unknown"]
    data = dict(PLAIN[kind])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in data:
            del data[key]
        else:
            data[key] = draw(VALUE)
    return kind, data


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(records())
def test_fast_path_builds_what_the_reader_builds(case: tuple[str, dict[Any, Any]]) -> None:
    kind, data = case
    keys, fast = _FAST[kind]
    built = fast(data) if data.keys() <= keys else None
    try:
        slow = parse_record(kind, types.MappingProxyType(data))
    except FactError:
        assert built is None
        return
    if built is not None:
        assert (type(built), attrs.asdict(built)) == (type(slow), attrs.asdict(slow))


def test_fast_path_takes_the_common_records() -> None:
    """Not a vacuous property: plain records of every kind go the fast way."""
    assert sorted(PLAIN) == sorted(_FAST)
    for kind, data in PLAIN.items():
        built = _FAST[kind][1](data)
        assert built is not None and attrs.asdict(built) == attrs.asdict(parse_record(kind, types.MappingProxyType(data)))
