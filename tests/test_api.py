"""riskgrade.load caches honestly: a new ruleset when any file it was built from changes."""

from __future__ import annotations

import os
import pathlib
import shutil

from click.testing import CliRunner

import riskgrade
from riskgrade._cli import main

HAZCHEM = pathlib.Path(__file__).resolve().parent.parent / "rulesets" / "hazchem"


def _copy(tmp_path: pathlib.Path) -> pathlib.Path:
    for name in ("hazchem-gb18218.yaml", "gb18218-table1.csv", "gb18218-table2.csv", "gb18218-table3.csv"):
        shutil.copy(HAZCHEM / name, tmp_path / name)
    return tmp_path / "hazchem-gb18218.yaml"


def _touch_later(path: pathlib.Path) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


class TestLoadCache:
    def test_same_files_same_object(self, tmp_path: pathlib.Path) -> None:
        path = _copy(tmp_path)
        assert riskgrade.load(path) is riskgrade.load(str(path))

    def test_a_changed_csv_table_gives_a_new_ruleset(self, tmp_path: pathlib.Path) -> None:
        path = _copy(tmp_path)
        before = riskgrade.load(path)
        csv = tmp_path / "gb18218-table1.csv"
        assert str(csv) in before.files
        text = csv.read_text(encoding="utf-8")
        assert "1,氨,液氨;氨气,7664-41-7,10," in text
        csv.write_text(text.replace("1,氨,液氨;氨气,7664-41-7,10,", "1,氨,液氨;氨气,7664-41-7,5,"), encoding="utf-8")
        _touch_later(csv)
        after = riskgrade.load(path)
        assert after is not before
        assert after.fingerprint != before.fingerprint
        assert after.tables[next(n for n, t in after.tables.items() if str(csv) in t.files)].index["7664-41-7"]["Q"] == 5

    def test_a_changed_yaml_gives_a_new_ruleset(self, tmp_path: pathlib.Path) -> None:
        path = _copy(tmp_path)
        before = riskgrade.load(path)
        path.write_text(path.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "1.0.1"', 1),
                        encoding="utf-8")
        _touch_later(path)
        after = riskgrade.load(path)
        assert (before.version, after.version) == ("1.0.0", "1.0.1")


class TestValidateRunsUpToCheck:
    def test_validate_stops_before_generating(self, tmp_path: pathlib.Path) -> None:
        path = _copy(tmp_path)
        res = CliRunner().invoke(main, ["validate", str(path)])
        assert res.exit_code == 0, res.output
        assert "hazchem-gb18218.yaml" in res.output
