"""The cross-process cache of parsed files (riskgrade._source.cache): hits, misses, invalidation by
content, corrupt and foreign entries, directories it must not use, concurrent writers, cache off."""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

import riskgrade
from riskgrade._api import compile_file
from riskgrade._source import cache
from riskgrade._source.yaml import load_yaml
from tests.conftest import MINIMAL

SRC = str(pathlib.Path(riskgrade.__file__).parents[1])

DOC = textwrap.dedent("""\
    id: odd
    when: 2020-02-29
    stamp: 2001-12-14t21:59:43.10-05:00
    blob: !!binary aGVsbG8=
    nan: .nan
    big: 123456789012345678901234567890
    "quoted": 'single'
    block: |
      two
      lines
    folded: >
      one
      line
    ints: {1: one, 2.5: two, false: no, null: nothing, 2020-01-01: day}
    "\\0nul": kept
    lone: "\\ud800"
    base: &b {x: 1, y: [a, b]}
    merged: {<<: *b, z: 3}
    again: *b
    """)


@pytest.fixture
def cache_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("RISKGRADE_CACHE_DIR", str(d))
    monkeypatch.delenv("RISKGRADE_CACHE", raising=False)
    return d


def _uncached(path: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setenv("RISKGRADE_CACHE", "0")
        return load_yaml(path)


def _same(a: Any, b: Any) -> bool:
    """Equal data, NaN equal to NaN (a NaN read back is another float object)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _entries(d: pathlib.Path) -> list[pathlib.Path]:
    return sorted(d.glob("*.json")) if d.is_dir() else []


def _forge(entry: pathlib.Path, data: Any, marks: dict[Any, tuple[int, int]]) -> None:
    """Rewrite ``entry`` as a well-formed entry holding another document (what a writer of the directory
    could do): proves that a load reads the entry, and what it trusts."""
    body = json.dumps(cache.encode_located(data, marks)).encode()
    head = json.dumps({"key": entry.stem, "sha256": hashlib.sha256(body).hexdigest()}).encode()
    entry.write_bytes(cache.FORMAT.encode() + b"\n" + head + b"\n" + body)


class TestHitAndMiss:
    def test_a_miss_writes_an_entry_and_a_hit_reads_it(self, cache_dir: pathlib.Path, tmp_path: pathlib.Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        f = tmp_path / "doc.yaml"
        f.write_text(DOC, encoding="utf-8")
        want = _uncached(str(f), monkeypatch)
        assert _entries(cache_dir) == []
        first = load_yaml(str(f))
        (entry,) = _entries(cache_dir)
        second = load_yaml(str(f))
        assert _same(want.data, first.data) and _same(want.data, second.data)
        assert want.marks == first.marks == second.marks
        assert list(want.marks) == list(second.marks)
        assert second.file == str(f)
        # the second load came from the entry: an entry holding another document is what it returns
        _forge(entry, {"id": "forged"}, {(): (1, 1), ("<key>", "id"): (1, 1), ("id",): (1, 5)})
        assert load_yaml(str(f)).data == {"id": "forged"}

    def test_every_shipped_ruleset_compiles_the_same_from_the_cache(self, cache_dir: pathlib.Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        for d in riskgrade.list_rulesets():
            with monkeypatch.context() as m:
                m.setenv("RISKGRADE_CACHE", "0")
                want = compile_file(d["file"])
            cold, warm = compile_file(d["file"]), compile_file(d["file"])
            assert (cold.fingerprint, cold._source_code) == (want.fingerprint, want._source_code), d["id"]
            assert (warm.fingerprint, warm._source_code, warm._line_map) == (want.fingerprint, want._source_code,
                                                                            want._line_map), d["id"]
            assert [str(w) for w in warm.warnings] == [str(w) for w in want.warnings], d["id"]
        assert len(_entries(cache_dir)) >= len(riskgrade.list_rulesets())

    def test_errors_are_not_cached(self, cache_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "bad.yaml"
        f.write_text("a: 1\na: 2\n", encoding="utf-8")
        for _ in range(2):
            with pytest.raises(riskgrade.RulesetError) as e:
                load_yaml(str(f))
            assert [p.code for p in e.value.problems] == ["duplicate-key"]
            assert str(e.value.problems[0]).startswith(f"{f}:2:1: duplicate-key")
        assert _entries(cache_dir) == []


class TestInvalidation:
    def test_changed_content_with_the_same_size_and_mtime_is_read_again(self, cache_dir: pathlib.Path,
                                                                       tmp_path: pathlib.Path) -> None:
        f = tmp_path / "tiny.yaml"
        f.write_text(MINIMAL, encoding="utf-8")
        st = os.stat(f)
        before = compile_file(str(f))
        changed = MINIMAL.replace('version: "0.1"', 'version: "0.2"')
        assert len(changed) == len(MINIMAL) and changed != MINIMAL
        f.write_text(changed, encoding="utf-8")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (os.stat(f).st_size, os.stat(f).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
        after = compile_file(str(f))
        assert (before.version, after.version) == ("0.1", "0.2")
        assert before.fingerprint != after.fingerprint
        assert len(_entries(cache_dir)) == 2

    def test_other_parse_limits_are_another_entry(self, cache_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "doc.yaml"
        f.write_text("a: [1, 2, 3, 4, 5, 6]\n", encoding="utf-8")
        load_yaml(str(f))
        with pytest.raises(riskgrade.RulesetError) as e:
            load_yaml(str(f), riskgrade.Limits(max_nodes=4))
        assert e.value.problems[0].code == "too-large"
        assert len(_entries(cache_dir)) == 1


class TestBadEntries:
    @pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "wrong-hash", "too-few-marks",
                                        "foreign-key", "other-format", "bad-tag"])
    def test_a_bad_entry_is_ignored_and_replaced(self, damage: str, cache_dir: pathlib.Path, tmp_path: pathlib.Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        f = tmp_path / "doc.yaml"
        f.write_text(DOC, encoding="utf-8")
        want = _uncached(str(f), monkeypatch)
        load_yaml(str(f))
        (entry,) = _entries(cache_dir)
        blob = entry.read_bytes()
        magic, head, body = blob.split(b"\n", 2)
        if damage == "truncated":
            entry.write_bytes(blob[: len(blob) // 2])
        elif damage == "garbage":
            entry.write_bytes(os.urandom(300))
        elif damage == "empty":
            entry.write_bytes(b"")
        elif damage == "wrong-hash":
            entry.write_bytes(blob.replace(b'"odd"', b'"odD"'))
        elif damage in ("too-few-marks", "bad-tag"):
            payload = json.loads(body)
            if damage == "too-few-marks":
                payload["marks"] = payload["marks"][:-2]
            else:
                payload["data"]["when"] = {"\u0000q": "2020-02-29"}
            new = json.dumps(payload).encode()
            meta = json.dumps({"key": entry.stem, "sha256": hashlib.sha256(new).hexdigest()}).encode()
            entry.write_bytes(magic + b"\n" + meta + b"\n" + new)
        elif damage == "foreign-key":
            # a well-formed entry of another document, under this document's name
            other = tmp_path / "other.yaml"
            other.write_text("id: other\n", encoding="utf-8")
            load_yaml(str(other))
            (other_entry,) = [e for e in _entries(cache_dir) if e != entry]
            entry.write_bytes(other_entry.read_bytes())
        elif damage == "other-format":
            entry.write_bytes(b"riskgrade-cache-0\n" + head + b"\n" + body)
        got = load_yaml(str(f))
        assert _same(want.data, got.data) and want.marks == got.marks
        # replaced: the entry checks out again
        assert cache.read(entry.stem) is not None
        assert _same(load_yaml(str(f)).data, want.data)


class TestDirectories:
    def test_cache_off_writes_nothing(self, cache_dir: pathlib.Path, tmp_path: pathlib.Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("RISKGRADE_CACHE", "0")
        rs = compile_file(riskgrade.list_rulesets()[0]["file"])
        assert rs.id and not cache_dir.exists()

    def test_cache_off_does_not_read(self, cache_dir: pathlib.Path, tmp_path: pathlib.Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
        f = tmp_path / "doc.yaml"
        f.write_text("id: real\n", encoding="utf-8")
        load_yaml(str(f))
        (entry,) = _entries(cache_dir)
        _forge(entry, {"id": "forged"}, {(): (1, 1), ("<key>", "id"): (1, 1), ("id",): (1, 5)})
        monkeypatch.setenv("RISKGRADE_CACHE", "0")
        assert load_yaml(str(f)).data == {"id": "real"}

    def test_a_directory_that_cannot_be_made_is_not_an_error(self, tmp_path: pathlib.Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("RISKGRADE_CACHE_DIR", str(blocker / "cache"))
        rs = compile_file(riskgrade.list_rulesets()[0]["file"])
        assert rs.id == riskgrade.list_rulesets()[0]["id"]
        assert blocker.read_text() == "not a directory"

    @pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
    def test_a_directory_others_may_write_is_neither_read_nor_written(self, cache_dir: pathlib.Path,
                                                                      tmp_path: pathlib.Path) -> None:
        f = tmp_path / "doc.yaml"
        f.write_text("id: real\n", encoding="utf-8")
        load_yaml(str(f))
        (entry,) = _entries(cache_dir)
        _forge(entry, {"id": "forged"}, {(): (1, 1), ("<key>", "id"): (1, 1), ("id",): (1, 5)})
        assert load_yaml(str(f)).data == {"id": "forged"}  # our own directory: trusted
        os.chmod(cache_dir, 0o777)
        assert load_yaml(str(f)).data == {"id": "real"}
        g = tmp_path / "new.yaml"
        g.write_text("id: new\n", encoding="utf-8")
        load_yaml(str(g))
        assert len(_entries(cache_dir)) == 1

    @pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
    def test_the_directory_is_made_private(self, cache_dir: pathlib.Path) -> None:
        compile_file(riskgrade.list_rulesets()[0]["file"])
        assert cache_dir.stat().st_mode & 0o777 == 0o700

    @pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="POSIX permissions (root writes anyway)")
    def test_a_read_only_directory_is_read(self, cache_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        f = tmp_path / "doc.yaml"
        f.write_text("id: real\n", encoding="utf-8")
        load_yaml(str(f))
        os.chmod(cache_dir, 0o500)
        try:
            assert load_yaml(str(f)).data == {"id": "real"}
            g = tmp_path / "new.yaml"
            g.write_text("id: new\n", encoding="utf-8")
            assert load_yaml(str(g)).data == {"id": "new"}
            assert len(_entries(cache_dir)) == 1 and not list(cache_dir.glob(".tmp-*"))
        finally:
            os.chmod(cache_dir, 0o700)


_WRITER = """
import sys, time, riskgrade
from riskgrade._api import compile_file
go = float(sys.argv[1])
while time.time() < go:
    time.sleep(0.005)
for d in sorted(riskgrade.list_rulesets(), key=lambda d: d["file"]):
    print(d["file"], compile_file(d["file"]).fingerprint)
"""


class TestConcurrentWriters:
    def test_two_processes_filling_the_cache_at_once(self, cache_dir: pathlib.Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
        with monkeypatch.context() as m:
            m.setenv("RISKGRADE_CACHE", "0")
            want = "".join(f"{d['file']} {compile_file(d['file']).fingerprint}\n"
                           for d in sorted(riskgrade.list_rulesets(), key=lambda d: d["file"]))
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        go = str(time.time() + 3)
        procs = [subprocess.Popen([sys.executable, "-c", _WRITER, go], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
        assert [o[0] for o in outs] == [want, want]
        entries = _entries(cache_dir)
        assert len(entries) >= len(riskgrade.list_rulesets())
        assert all(cache.read(e.stem) is not None for e in entries)
        assert not list(cache_dir.glob(".tmp-*"))
        # and a third process reads them back: the same rulesets
        again = subprocess.run([sys.executable, "-c", _WRITER, "0"], env=env, capture_output=True, text=True,
                               timeout=300, check=True)
        assert again.stdout == want
