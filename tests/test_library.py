"""Scale libraries (include:), risk matrices and the MES method, through the public API."""

from __future__ import annotations

import itertools
import os
import pathlib

import pytest
import yaml
from click.testing import CliRunner

import riskgrade
from riskgrade import Level
from riskgrade._cli import main

LIBRARY = pathlib.Path(__file__).resolve().parent.parent / "rulesets" / "library"

HEAD = """riskgrade: 1
id: {id}
title: {{zh: 测试, en: test}}
sector: general
jurisdiction: "620000"
version: "1.0.0"
edition: test
effective: 2020-01-01
"""


def write(tmp_path: pathlib.Path, body: str, name: str = "r.yaml", id: str = "inc-test") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(HEAD.format(id=id) + body, encoding="utf-8")
    return path


LEC_BODY = """sources:
  mine: {title: {zh: 本地规定, en: local rule}, status: unverified}
include:
  - library: lec
inputs:
  L: {type: number, table: lec_L}
  E: {type: number, table: lec_E}
  C: {type: number, table: lec_C}
rules:
  - {id: lec, method: lec, bands: lec_D, cite: {source: four-level-mapping, basis: derived}}
"""


class TestInclude:
    def test_grades_exactly_like_the_ruleset_that_copied_the_scales(self, tmp_path: pathlib.Path) -> None:
        inc = riskgrade.load(write(tmp_path, LEC_BODY))
        ref = riskgrade.load("lec-generic")
        scale = {k: sorted(t.index) for k, t in ref.tables.items()}
        n = 0
        for L, E, C in itertools.product(scale["lec_L"], scale["lec_E"], scale["lec_C"]):
            a, b = inc.grade({"L": L, "E": E, "C": C}), ref.grade({"L": L, "E": E, "C": C})
            assert (a.level, a.score) == (b.level, b.score)
            n += 1
        assert n == len(scale["lec_L"]) * len(scale["lec_E"]) * len(scale["lec_C"]) > 100

    def test_the_library_file_is_a_source_of_the_ruleset(self, tmp_path: pathlib.Path) -> None:
        rs = riskgrade.load(write(tmp_path, LEC_BODY))
        # the installed library (under riskgrade/rulesets/library/, wherever the package is installed)
        assert [f for f in rs.files if f.replace("\\", "/").endswith("rulesets/library/lec.yaml")]
        assert [i["library"] for i in rs.doc["includes"]] == ["lec"]

    def test_override_replaces_a_row_with_a_citation(self, tmp_path: pathlib.Path) -> None:
        body = LEC_BODY.replace("  - library: lec\n", """  - library: lec
    override:
      lec_C:
        rows: [{value: 100, zh: 大灾难，许多人死亡(本地表述), en: catastrophe (local wording)}]
        cite: {source: mine, clause: "3.1"}
""")
        rs = riskgrade.load(write(tmp_path, body))
        assert rs.tables["lec_C"].index[100]["zh"] == "大灾难，许多人死亡(本地表述)"
        assert rs.doc["includes"][0]["changes"] == ["lec_C value 100: replaced by mine 3.1"]
        plain = riskgrade.load(write(tmp_path, LEC_BODY, "plain.yaml"))
        assert rs.fingerprint != plain.fingerprint

    def test_a_name_defined_and_included_is_an_error(self, tmp_path: pathlib.Path) -> None:
        body = LEC_BODY.replace("rules:", "bands:\n  lec_D:\n    closed: upper\n    rows: [{level: BLUE}]\nrules:")
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(write(tmp_path, body))
        assert "duplicate-name" in e.value.codes

    def test_unknown_library_and_unknown_table(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(write(tmp_path, LEC_BODY.replace("library: lec", "library: lecc")))
        assert e.value.codes == ["unknown-library"] and "lec" in str(e.value)
        body = LEC_BODY.replace("  - library: lec\n", "  - library: lec\n    tables: [lec_X]\n")
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(write(tmp_path, body))
        assert "unknown-name" in e.value.codes

    def test_a_problem_inside_a_library_is_located_in_the_library(self, tmp_path: pathlib.Path) -> None:
        lib = (LIBRARY / "lec.yaml").read_text(encoding="utf-8").replace("id: lec\n", "id: mylec\n")
        lib = lib.replace("{from: 70, to: 160, level: YELLOW", "{from: 71, to: 160, level: YELLOW")
        (tmp_path / "mylec.yaml").write_text(lib, encoding="utf-8")
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(write(tmp_path, LEC_BODY.replace("library: lec", "library: mylec.yaml")))
        (p,) = [p for p in e.value.problems if p.code == "band-gap"]
        assert p.file.endswith("mylec.yaml") and p.line > 1

    def test_editing_the_library_recompiles(self, tmp_path: pathlib.Path) -> None:
        (tmp_path / "mylec.yaml").write_text((LIBRARY / "lec.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        path = write(tmp_path, LEC_BODY.replace("library: lec", "library: mylec.yaml"))
        before = riskgrade.load(path)
        lib = tmp_path / "mylec.yaml"
        text = lib.read_text(encoding="utf-8")
        assert "{from: 160, to: 320" in text and "{from: 70, to: 160," in text
        lib.write_text(text.replace("{from: 160, to: 320", "{from: 140, to: 320")
                       .replace("{from: 70, to: 160,", "{from: 70, to: 140,"), encoding="utf-8")
        st = os.stat(lib)
        os.utime(lib, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        after = riskgrade.load(path)
        assert after is not before and after.fingerprint != before.fingerprint
        facts = {"L": 1, "E": 10, "C": 15}  # D = 150
        assert (before.grade(facts).level, after.grade(facts).level) == (Level.YELLOW, Level.ORANGE)

    def test_validate_checks_library_files(self) -> None:
        res = CliRunner().invoke(main, ["validate", str(LIBRARY)])
        assert res.exit_code == 0, res.output
        assert res.output.count(": valid") == len(list(LIBRARY.glob("*.yaml"))) >= 3


MATRIX_BODY = """include:
  - library: ls
    tables: [ls_L, ls_S]
    matrices: [ls_5x5]
inputs:
  L: {type: integer, table: ls_L}
  S: {type: integer, table: ls_S}
rules:
  - {id: cell, method: matrix, matrix: ls_5x5, row: L, column: S, cite: {source: ls, basis: derived}}
"""


class TestMatrix:
    def test_the_shipped_matrix_agrees_with_the_bands_in_every_cell(self, tmp_path: pathlib.Path) -> None:
        mx = riskgrade.load(write(tmp_path, MATRIX_BODY))
        bands = riskgrade.load("ls-matrix")
        for L, S in itertools.product(range(1, 6), range(1, 6)):
            assert mx.grade({"L": L, "S": S}).level == bands.grade({"L": L, "S": S}).level, (L, S)

    def test_explanation_names_the_cell(self, tmp_path: pathlib.Path) -> None:
        a = riskgrade.load(write(tmp_path, MATRIX_BODY)).grade({"L": 4, "S": 5})
        assert a.level == Level.RED
        assert "matrix ls_5x5: L = 4, S = 5 → RED" in a.explain("en")
        assert "矩阵 ls_5x5: L = 4, S = 5 → RED" in a.explain("zh")

    def _matrix(self, cells: str, extra: str = "") -> str:
        return f"""sources:
  m: {{title: {{zh: 测试, en: test}}, status: unverified}}
inputs:
  a: {{type: integer, values: [1, 2]}}
  b: {{type: integer, values: [1, 2]}}
matrices:
  m2:
    rows: {{name: a, values: [1, 2]}}
    columns: {{name: b, values: [1, 2]}}
    cells: {cells}
{extra}rules:
  - {{id: cell, method: matrix, matrix: m2, cite: {{source: m, basis: local}}}}
"""

    def test_a_level_falling_along_an_axis_is_an_error(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(write(tmp_path, self._matrix("[[YELLOW, BLUE], [YELLOW, RED]]")))
        assert e.value.codes == ["matrix-not-monotone"]
        assert "as b rises to 2" in str(e.value)

    def test_a_cited_exception_allows_it(self, tmp_path: pathlib.Path) -> None:
        extra = "    exceptions: [{row: 1, column: 2, cite: {source: m, clause: '表2'}}]\n"
        body = self._matrix("[[YELLOW, BLUE], [YELLOW, RED]]").replace("    cells: [[YELLOW, BLUE], [YELLOW, RED]]\n",
                                                                        "    cells: [[YELLOW, BLUE], [YELLOW, RED]]\n"
                                                                        + extra)
        rs = riskgrade.load(write(tmp_path, body))
        assert rs.grade({"a": 1, "b": 2}).level == Level.BLUE

    def test_shape_is_checked(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(riskgrade.RulesetError) as e:
            riskgrade.load(write(tmp_path, self._matrix("[[BLUE, BLUE], [BLUE]]")))
        assert e.value.codes == ["matrix-shape"]


class TestMes:
    BODY = """include:
  - library: mes
    tables: [mes_M, mes_E, mes_S]
    bands: [mes_R]
inputs:
  M: {type: number, table: mes_M}
  E: {type: number, table: mes_E}
  S: {type: number, table: mes_S}
rules:
  - {id: mes, method: mes, bands: mes_R, cite: {source: mes-four-level, basis: local}}
"""

    def test_r_is_m_times_e_times_s(self, tmp_path: pathlib.Path) -> None:
        rs = riskgrade.load(write(tmp_path, self.BODY))
        a = rs.grade({"M": 3, "E": 6, "S": 4})
        assert (a.score, a.level) == (72, Level.YELLOW)
        assert "R = M × E × S = 3 × 6 × 4 = 72" in a.explain("en")
        assert rs.grade({"M": 5, "E": 6, "S": 8}).level == Level.RED  # 240 > 180
        assert rs.grade({"M": 3, "E": 10, "S": 4}).level == Level.ORANGE  # 120
        assert rs.grade({"M": 1, "E": 0.5, "S": 1}).level == Level.BLUE


def test_no_shipped_ruleset_copies_a_library_scale() -> None:
    lib = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in LIBRARY.glob("*.yaml")]
    shared = {(sect, repr(spec.get("rows"))) for d in lib for sect in ("tables", "bands")
              for spec in (d.get(sect) or {}).values()}
    copies = []
    for it in riskgrade.list_rulesets():
        doc = yaml.safe_load(pathlib.Path(it["file"]).read_text(encoding="utf-8"))
        for sect in ("tables", "bands"):
            for name, spec in (doc.get(sect) or {}).items():
                if (sect, repr(spec.get("rows"))) in shared:
                    copies.append((it["id"], sect, name))
    assert copies == []
    uses = {it["id"] for it in riskgrade.list_rulesets()
            if yaml.safe_load(pathlib.Path(it["file"]).read_text(encoding="utf-8")).get("include")}
    assert {"lec-generic", "ls-matrix", "hazchem-risk-point-lec", "hazchem-risk-point-ls", "coal-risk-point"} <= uses
