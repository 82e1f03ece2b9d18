from __future__ import annotations

import pathlib

import pytest
import yaml as pyyaml

from riskgrade._source import yaml as ry
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


_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _yaml_files() -> list[pathlib.Path]:
    out = []
    for sub in ("rulesets", "examples", "tests", "plugins", "docs"):
        out += [p for p in (_ROOT / sub).rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file()]
    return sorted(out)


def _parsed(text: str, file: str) -> tuple[str, object]:
    try:
        loc = parse_yaml(text, file)
    except RulesetError as exc:
        return "error", [(p.code, p.message, p.line, p.col) for p in exc.problems]
    return "ok", (loc.data, loc.marks)


@pytest.mark.skipif(not hasattr(pyyaml, "CSafeLoader"), reason="PyYAML without libyaml")
class TestLibyamlComposer:
    """libyaml composes the nodes; what comes out (data, every location, every error) is what the
    pure-Python composer gives, on every YAML and JSON file of the repository and on odd snippets."""

    SNIPPETS = (
        "a: |\n  x\n  y\nb: >-\n\n   folded\n",
        "k: |  # comment\n\n\n    late\n",
        "中文: '引号'\nb: \"双\"\nc: [中, 文, {d: 中文x}]\n",
        "a: &x [1, 2]\nb: *x\n<<: {c: 1}\n",
        "a: 1\r\nb: |\r\n  x\r\n",
        "a: \"\\x07 bell\"\n",
        "a:\n  b: 1\n c: 2\n",
        "a: [1, 2\n",
        "a: *nope\n",
        "- a\nb: c\n",
        "a: b: c\n",
        "\ta: 1\n",
        "a: |\n",
    )

    @pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(_ROOT)))
    def test_file_same_as_pure_python(self, path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            pytest.skip("not UTF-8")
        self._same(text, str(path), monkeypatch)

    @pytest.mark.parametrize("text", SNIPPETS)
    def test_snippet_same_as_pure_python(self, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self._same(text, "s.yaml", monkeypatch)

    @staticmethod
    def _same(text: str, file: str, monkeypatch: pytest.MonkeyPatch) -> None:
        assert ry._NodeLoader is pyyaml.CSafeLoader
        fast = _parsed(text, file)
        monkeypatch.setattr(ry, "_NodeLoader", pyyaml.SafeLoader)
        assert fast == _parsed(text, file)
