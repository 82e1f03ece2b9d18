from __future__ import annotations

import pathlib

import pytest

from riskgrade._source.facts import read_facts
from riskgrade.exceptions import FactError


class TestReadFacts:
    def test_yaml_mapping(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "f.yaml"
        p.write_text("L: 3\nE: 6\nC: 15\n", encoding="utf-8")
        recs = list(read_facts(str(p)))
        assert [(r.index, r.where, r.facts) for r in recs] == [(0, str(p), {"L": 3, "E": 6, "C": 15})]

    def test_json_list_with_a_bad_record(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "f.json"
        p.write_text('[{"L": 3}, 7, {"L": 1}]', encoding="utf-8")
        recs = list(read_facts(str(p)))
        assert [r.where for r in recs] == [f"{p}[0]", f"{p}[1]", f"{p}[2]"]
        assert recs[1].error is not None and recs[1].error.code == "not-a-mapping"

    def test_jsonl_stream_goes_on(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "f.jsonl"
        p.write_text('{"L": 3}\n\n{oops\n[1]\n{"L": 1}\n', encoding="utf-8")
        recs = list(read_facts(str(p)))
        assert [(r.index, r.where.rsplit(":", 1)[1], r.error.code if r.error else None) for r in recs] == [
            (0, "1", None), (1, "2", "blank-line"), (2, "3", "bad-syntax"), (3, "4", "not-a-mapping"), (4, "5", None)]

    def test_whole_file_unreadable(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "f.yaml"
        p.write_text("a: [1\n", encoding="utf-8")
        with pytest.raises(FactError) as ei:
            list(read_facts(str(p)))
        assert ei.value.code == "bad-syntax"

    def test_records_key(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "f.yaml"
        p.write_text("records:\n  - {L: 3}\n  - {L: 1}\n", encoding="utf-8")
        assert [r.facts for r in read_facts(str(p))] == [{"L": 3}, {"L": 1}]
