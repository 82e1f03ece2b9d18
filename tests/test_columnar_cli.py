"""``riskgrade grade --format parquet|arrow|csv --out FILE``: N records in, N rows out, the same levels,
scores, values and error codes as ``--format json`` line for line, from JSON Lines, CSV, Parquet and Arrow
IPC facts; exit 1 when a row is in error, 2 on usage errors."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from click.testing import CliRunner

import riskgrade
from riskgrade._cli import stream
from riskgrade._cli.main import _graded_records, main
from riskgrade._core.canonical import dumps
from riskgrade._source.facts import function_error_dict, position, record_error_dict
from riskgrade.exceptions import FactError, FunctionError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")

LINES = [
    '{"id": "a", "L": 3, "E": 6, "C": 15}',
    "",  # a blank line: an error row, never skipped
    '{"id": "b", "L": 10, "E": 10, "C": 100}',
    "{bad",
    '{"id": "c", "L": 3, "E": 6, "C": 99}',
    '{"id": "d", "L": 3.0, "E": 6, "C": 15}',  # a float L among integers: graded as it is
    '{"id": "e", "E": 6, "C": 15, "colour": "red"}',
]


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


def json_results(facts: pathlib.Path) -> list[dict[str, Any]]:
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "json", "--no-receipt")
    assert code == 1
    return [json.loads(line) for line in out.splitlines()]


def read(path: pathlib.Path, fmt: str) -> Any:
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "arrow":
        with pa.memory_map(str(path)) as src:
            return pa.ipc.open_file(src).read_all()
    return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))


def agree(rows: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(rows) == len(want)
    for row, w in zip(rows, want, strict=True):
        assert row["id"] == w.get("id")
        if "error" in w:
            assert (row["error_code"], row["error_field"], row["level"]) == (w["error"], w["field"], None)
        else:
            assert (row["error_code"], row["level"], row["score"], row["D"]) == (None, w["level"], w["score"],
                                                                                w["values"]["D"])


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "csv"])
def test_jsonl_to_a_table_line_for_line(tmp_path: pathlib.Path, fmt: str) -> None:
    facts = tmp_path / "f.jsonl"
    facts.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / f"out.{fmt}"
    code, _ = invoke("grade", "-r", "lec-generic", str(facts), "--format", fmt, "--out", str(out))
    assert code == 1
    tbl = read(out, fmt)
    assert tbl.column_names == ["id", "level", "score", "D", "fired", "error_code", "error_field"]
    rows = tbl.to_pylist()
    agree(rows, json_results(facts))
    assert rows[5]["score"] == 270.0 and rows[0]["fired"] == (["lec"] if fmt != "csv" else '["lec"]')
    assert [r["error_code"] for r in rows] == [None, "blank-line", None, "bad-syntax", "not-allowed", None,
                                               "missing-fact"]


def test_typed_jsonl_goes_through_grade_table(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "f.jsonl"
    facts.write_text("".join(json.dumps({"id": i, "L": [3, 6, 1][i % 3], "E": 6, "C": 15}) + "\n"
                             for i in range(300)), encoding="utf-8")
    out = tmp_path / "out.parquet"
    assert invoke("grade", "-r", "lec-generic", str(facts), "--format", "parquet", "--out", str(out))[0] == 0
    rows = pq.read_table(out).to_pylist()
    assert [r["id"] for r in rows] == list(range(300))
    assert [r["D"] for r in rows[:3]] == [270, 540, 90] and {type(r["D"]) for r in rows} == {int}


@pytest.mark.parametrize("suffix", ["parquet", "arrow", "csv"])
def test_table_facts_in(tmp_path: pathlib.Path, suffix: str) -> None:
    facts_tbl = pa.table({"id": ["a", "b", "c"], "L": [3, 10, None], "E": [6.0, 10.0, 6.0], "C": [15, 100, 15]})
    facts = tmp_path / f"f.{suffix}"
    if suffix == "parquet":
        pq.write_table(facts_tbl, facts)
    elif suffix == "arrow":
        with pa.OSFile(str(facts), "wb") as sink, pa.ipc.new_file(sink, facts_tbl.schema) as w:
            w.write_table(facts_tbl)
    else:
        pcsv.write_csv(facts_tbl, facts)
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "csv")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == '"id","level","score","D","fired","error_code","error_field"'
    assert lines[1:] == ['"a","ORANGE",270,270,"[""lec""]",,', '"b","RED",10000,10000,"[""lec""]",,',
                         '"c",,,,,"missing-fact","L"']


def test_usage_errors(tmp_path: pathlib.Path) -> None:
    facts = tmp_path / "f.jsonl"
    facts.write_text(LINES[0] + "\n", encoding="utf-8")
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "parquet")
    assert code == 2 and "--out" in out
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "json", "--out", "x.parquet")
    assert code == 2 and "--out" in out
    code, _ = invoke("grade", "-r", "lec-generic", str(facts), "--format", "parquet", "--out",
                     str(tmp_path / "no" / "such" / "dir.parquet"))
    assert code == 2
    bad = tmp_path / "f.parquet"
    bad.write_bytes(b"not parquet")
    assert invoke("grade", "-r", "lec-generic", str(bad), "--format", "csv")[0] == 2


# -- grade --format json on JSON Lines (riskgrade._cli.stream): byte for byte the generic path -------------
# (the progress bar on a terminal, and none when piped: tests/test_stream.py)
def generic_json_lines(path: pathlib.Path, id_field: str = "id") -> str:
    """What the generic loop of ``riskgrade grade --format json`` writes (riskgrade._cli.main._run_records)."""
    rs = riskgrade.load("lec-generic")
    out = []
    for rec, given, rid, res in _graded_records(rs, str(path), id_field):
        if isinstance(res, FunctionError):
            out.append(dumps({**function_error_dict(res), **position(rec, rid)}))
        elif isinstance(res, FactError):
            out.append(dumps({**record_error_dict(rec, res), **position(rec, rid)}))
        else:
            out.append(dumps({**res.to_dict(lang="en", receipt=True, facts=given), **position(rec, rid)}))
    return "".join(line + "\n" for line in out)


def test_json_lines_byte_for_byte(tmp_path: pathlib.Path) -> None:
    lines = [*LINES, *LINES, '{"id": "50%", "L": 3, "E": 6, "C": 15}', '{"id": "50%", "L": 3, "E": 6, "C": 15}',
             '{"L": 3, "E": 6, "C": 15}', '{"L": 3, "E": 6, "C": 15}', '{"L": 3, "L": 6, "E": 6, "C": 15}',
             '{"L": 3, "L": 6, "E": 6, "C": 15}', '"just text"', '"just text"', "{bad", ""]
    facts = tmp_path / "事实 %d.jsonl"  # a name with text JSON escapes and a % sign
    facts.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8") + b'\n{"L": 3, "E": 6, "C": 15}')
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "json", "--lang", "en")
    assert code == 1
    want = generic_json_lines(facts)
    assert out == want and len(out.splitlines()) == len(lines) + 1


def test_json_lines_cache_is_bounded(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "CACHE_LIMIT", 4)
    facts = tmp_path / "f.jsonl"
    facts.write_text("".join(json.dumps({"id": i % 7, "L": [3, 6, 1, 10, 0.5][i % 5], "E": 6, "C": 15}) + "\n"
                             for i in range(200)), encoding="utf-8")
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "json", "--lang", "en")
    assert (code, out) == (0, generic_json_lines(facts))


@pytest.mark.parametrize("id_field", ["id", "L", "name"])
def test_json_lines_with_ids_reuse_by_facts(tmp_path: pathlib.Path, id_field: str) -> None:
    # records that differ only by their id share a template; an id that is an input (L) is a fact
    facts = tmp_path / "f.jsonl"
    rows = [{"id": [f"rp-{i}", i, None, 2.5][i % 4], "name": "点" if i % 3 else 7, "L": [3, 6, 1, 3.0, -0.0][i % 5],
             "E": 6, "C": [15, 99][i % 11 == 0]} for i in range(120)]
    facts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    code, out = invoke("grade", "-r", "lec-generic", str(facts), "--format", "json", "--lang", "en",
                       "--id-field", id_field)
    assert code == 1
    assert out == generic_json_lines(facts, id_field)


class TestBatches:
    """Records are graded and written ``batch`` at a time (bounded memory); the file is the one table the
    whole input gives, also when the batches' schemas differ (then the file is graded again as a whole)."""

    @staticmethod
    def _read(fmt: str, path: pathlib.Path) -> Any:
        if fmt == "parquet":
            return pq.read_table(path)
        if fmt == "arrow":
            with pa.memory_map(str(path)) as src:
                return pa.ipc.open_file(src).read_all()
        return path.read_bytes()

    def _both(self, tmp_path: pathlib.Path, lines: list[str], fmt: str) -> tuple[Any, Any, Any, Any]:
        from riskgrade._columnar.files import grade_file

        facts = tmp_path / "facts.jsonl"
        facts.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rs = riskgrade.load("lec-generic")
        whole, small = tmp_path / f"whole.{fmt}", tmp_path / f"small.{fmt}"
        w1 = grade_file(rs, str(facts), fmt, str(whole), batch=10**9)
        w2 = grade_file(rs, str(facts), fmt, str(small), batch=3)
        return w1, w2, self._read(fmt, whole), self._read(fmt, small)

    @pytest.mark.parametrize("fmt", ["parquet", "arrow", "csv"])
    def test_batches_of_one_schema_give_the_whole_table(self, tmp_path: pathlib.Path, fmt: str) -> None:
        lines = [json.dumps({"id": f"r{i}", "L": [1, 3, 6, 10][i % 4], "E": 6, "C": 15}) for i in range(20)]
        lines[4] = '{"id": "r4", "L": 3, "E": 6, "C": 99}'  # off the scale: an error row in batch 2
        lines[10] = "{bad"  # a line that is not JSON: batch 4 is graded record by record, same schema
        w1, w2, whole, small = self._both(tmp_path, lines, fmt)
        assert (w1.rows, w1.errors) == (w2.rows, w2.errors) == (20, 2)
        assert whole == small if fmt == "csv" else whole.equals(small)
        if fmt == "parquet":  # written batch by batch: several row groups
            assert pq.ParquetFile(tmp_path / "small.parquet").metadata.num_row_groups == 7

    @pytest.mark.parametrize("fmt", ["parquet", "arrow", "csv"])
    def test_batches_of_other_schemas_fall_back_to_one_table(self, tmp_path: pathlib.Path, fmt: str) -> None:
        # ids in the first batch only, a float L in the last, a bad line in the middle: batch schemas differ
        lines = ['{"id": "a", "L": 3, "E": 6, "C": 15}', '{"id": "b", "L": 1, "E": 6, "C": 15}',
                 '{"L": 6, "E": 6, "C": 15}', "{bad", "", '{"L": 3.0, "E": 6, "C": 15}']
        w1, w2, whole, small = self._both(tmp_path, lines, fmt)
        assert (w1.rows, w1.errors) == (w2.rows, w2.errors) == (6, 2)
        assert whole == small if fmt == "csv" else whole.equals(small)
        if fmt != "csv":
            assert whole.column("id").to_pylist() == ["a", "b", None, None, None, None]
