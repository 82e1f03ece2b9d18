from __future__ import annotations

import pathlib

import pytest

from riskgrade._source.yaml import load_yaml, parse_yaml
from riskgrade.exceptions import RulesetError


class TestParseYaml:
    def test_locations_are_one_based(self) -> None:
        loc = parse_yaml("a: 1\nb:\n  - x: 2\n", "t.yaml")
        assert loc.data == {"a": 1, "b": [{"x": 2}]}
        assert loc.where(("b", 0, "x")) == (3, 8)
        assert loc.key_where(("b", 0, "x")) == (3, 5)
        assert loc.where(("b", 0, "missing")) == (3, 5)  # nearest located parent

    def test_duplicate_keys_all_reported(self) -> None:
        with pytest.raises(RulesetError) as ei:
            parse_yaml("a: 1\na: 2\nb: 1\nb: 2\n", "t.yaml")
        assert [(p.line, p.code) for p in ei.value.problems] == [(2, "duplicate-key"), (4, "duplicate-key")]

    def test_alias_bomb_is_bounded(self) -> None:
        from riskgrade._core.limits import Limits

        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 7):
            prev = f"*a{i - 1}"
            lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
        with pytest.raises(RulesetError) as ei:
            parse_yaml("\n".join(lines) + "\n", "bomb.yaml", Limits(max_nodes=50_000))
        assert ei.value.codes == ["too-large"]

    def test_unsafe_tags_rejected(self) -> None:
        with pytest.raises(RulesetError) as ei:
            parse_yaml("a: !!python/object/apply:os.system ['echo hi']\n", "t.yaml")
        assert ei.value.codes == ["yaml-value"]

    def test_empty_document(self) -> None:
        assert parse_yaml("", "t.yaml").data is None


class TestLoadYaml:
    def test_not_utf8(self, tmp_path: pathlib.Path) -> None:
        p = tmp_path / "gbk.yaml"
        p.write_bytes("标题: 测试\n".encode("gbk"))
        with pytest.raises(RulesetError) as ei:
            load_yaml(str(p))
        assert ei.value.codes == ["not-utf8"]

    def test_missing_file(self, tmp_path: pathlib.Path) -> None:
        with pytest.raises(RulesetError) as ei:
            load_yaml(str(tmp_path / "nope.yaml"))
        assert ei.value.codes == ["unreadable"]
