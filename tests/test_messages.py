"""The ten ordinary mistakes of issue 11: each gives a located message in English and Chinese, with a
fix hint, through ``riskgrade validate`` / ``riskgrade test`` (in-process, exact exit codes)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from riskgrade._cli.main import main
from riskgrade._core.i18n import did_you_mean, problem_text
from riskgrade._source.yaml import parse_yaml
from riskgrade.exceptions import Problem, RulesetError

from .conftest import MINIMAL

Write = Callable[..., str]
CASE = "cases:\n  - note: low\n    facts: {x: 5}\n    want: {level: BLUE, fired: [r]}\n"


def line_of(path: str, text: str) -> int:
    return next(i for i, ln in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1)
                if text in ln)


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output


def both(cmd: str, path: str, *extra: str) -> tuple[int, str, str]:
    """Exit code (the same in both languages), the English and the Chinese output."""
    code_en, en = run(cmd, "--lang", "en", *extra, path)
    code_zh, zh = run(cmd, "--lang", "zh", *extra, path)
    assert code_en == code_zh
    return code_en, en, zh


def test_1_a_threshold_written_as_text(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL.replace("{from: 10, to: 20, level: YELLOW}", '{from: 10, to: "20", level: YELLOW}'))
    code, en, zh = both("validate", path)
    where = f"{path}:{line_of(path, 'from: 10')}:25"
    assert code == 1
    assert f"{where}: wrong-type: 'to' must be number, got text" in en
    assert "    hint: write the number without quotes: to: 20" in en
    assert f"{where}: wrong-type: 'to' 应为数值, 实际是文本" in zh
    assert "    提示: 数值不要加引号: to: 20" in zh


def test_2_an_optional_input_fed_to_a_band(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL.replace("max: 100}", "max: 100, required: false}"))
    code, en, zh = both("validate", path)
    where = f"{path}:{line_of(path, 'expr: x')}:11"
    assert code == 1
    assert f"{where}: optional-no-default: optional input 'x' has no default: a record without it fails" in en
    assert "hint: give 'x' a default" in en
    assert f"{where}: optional-no-default: 可选输入 'x' 没有默认值" in zh
    assert "提示: 给 'x' 设默认值" in zh


def test_3_bands_red_yellow_blue_red(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL.replace("{to: 10, level: BLUE}", "{to: 10, level: RED}").replace(
        "to: 30, level: ORANGE", "to: 30, level: BLUE"))
    code, en, zh = both("validate", path)
    assert code == 1
    yellow, blue = line_of(path, "to: 20, level: YELLOW"), line_of(path, "to: 30, level: BLUE")
    assert (f"{path}:{yellow}:35: band-not-monotone: bands 'b': the level falls from RED to YELLOW as the score "
            "rises past 10") in en
    assert f"{path}:{blue}:35: band-not-monotone: bands 'b': the level falls from YELLOW to BLUE" in en
    assert "mark the row with exception: {cite:" in en
    assert f"{path}:{yellow}:35: band-not-monotone: 分级区间 'b': 分值超过 10 后等级从 重大风险 降为 一般风险" in zh
    assert "提示: 核对各行的等级与标准是否一致" in zh


def test_4_a_failing_case_at_its_file_and_line(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL + "cases:\n  - note: wrong on purpose\n    facts: {x: 15}\n    want: {level: RED}\n")
    code, en, zh = both("test", path)
    assert code == 1
    where = f"{path}:{line_of(path, '- note: wrong on purpose')}"
    assert f"FAIL  {where}: tiny #0: wrong on purpose" in en
    assert "hint: check the ruleset against the standard; if the ruleset is right, correct the case's want" in en
    assert f"失败  {where}: tiny #0: wrong on purpose" in zh
    assert "期望: " in zh and "实际: " in zh and "提示: 对照标准核对规则集" in zh


def test_5_rules_fired_by_no_case(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL + "  - {id: d, method: direct, when: x > 90, level: RED, cite: {source: s}}\n" + CASE)
    code, en, zh = both("test", path, "--min-coverage", "100")
    assert code == 1
    where = f"{path}:{line_of(path, '- {id: d')}:5"
    assert f"{where}: uncovered: rule d" in en and "hint: add a case whose facts exercise it" in en
    assert "low-coverage: tiny: coverage" in en and "hint: add cases for the uncovered items" in en
    assert f"{where}: uncovered(没有用例覆盖这条规则、分档行或判定项): 规则 d" in zh
    assert "low-coverage: tiny: 覆盖率" in zh and "提示: 为上面列出的未覆盖项补充用例" in zh


def test_6_a_ruleset_with_no_cases(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL)
    code, en, zh = both("test", path)
    assert code == 1
    assert f"{path}:1:1: no-cases: tiny has no cases (counts as 0% coverage)" in en
    assert "hint: add 'cases:' with the standard's examples" in en
    assert f"{path}:1:1: no-cases: tiny 没有用例(覆盖率按 0% 计)" in zh
    assert "提示: 加上 'cases:'" in zh


def test_7_validate_speaks_chinese(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL.replace("sector: general", "sector: generl").replace("  - id: r\n", "  - id: r\n"
                                                                                       "    levle: RED\n"))
    code, en, zh = both("validate", path)
    assert code == 1
    assert f"{path}:{line_of(path, 'sector:')}:9: bad-value: 'sector' 的值 'generl' 不允许" in zh
    assert "提示: 是否想写 'general'?" in zh
    assert "hint: did you mean 'general'?" in en
    # nothing in zh is left without Chinese: a message without its own translation explains its code
    p = Problem("band-gap", "values between 1 and 2 fall in no band", "r.yaml", 3, 5)
    assert problem_text(p, "zh") == "r.yaml:3:5: band-gap(区间之间有空缺): values between 1 and 2 fall in no band"


@pytest.mark.parametrize(("text", "line", "en", "zh", "hint_zh"), [
    ("a:\n  b: 1\n c: 2\n", 3, "indentation: the key on line 3 does not line up with the keys of its block",
     "缩进不一致: 第 3 行的键与所在块的其他键对不齐", "第 3 行应与第 1 行开始的块中其他键缩进相同"),
    ("a:\n  - 1\n  b: 2\n", 3, "indentation: line 3 is inside the list started on line 2 but is not a list item",
     "缩进不一致: 第 3 行位于第 2 行开始的列表中, 却不是列表项", "以 '- ' 开头"),
    ("title: a: b\n", 1, "line 1: a ':' inside a value", "第 1 行: 值中含有冒号", "要加引号"),
    ("a:\n\tb: 1\n", 2, "line 2 is indented with a tab", "第 2 行用制表符(Tab)缩进", "把制表符换成空格"),
    ('a: "abc\nb: 1\n', 3, "the quote opened on line 1 is never closed", "第 1 行开始的引号没有闭合", "补上结束的引号"),
    ("a:\n  b: 1\n  c\n  d: 2\n", 3, "line 3: a key without ':'", "第 3 行: 键后缺少冒号", "在键后加 ': '"),
    ("a: [1, 2\nb: 3\n", 2, "the '[' opened on line 1 is not closed with ']'", "第 1 行的 '[' 没有用 ']' 闭合", "闭合"),
    ("a: *x\n", 1, "alias *x refers to no anchor &x", "别名 *x 之前没有定义锚点 &x", "先定义 &x"),
])
def test_8_yaml_parser_errors_in_plain_words(text: str, line: int, en: str, zh: str, hint_zh: str) -> None:
    with pytest.raises(RulesetError) as ei:
        parse_yaml(text, "r.yaml")
    (p,) = ei.value.problems
    assert (p.code, p.file, p.line) == ("yaml-syntax", "r.yaml", line)
    assert p.message.startswith(en) and p.message_zh.startswith(zh)
    assert hint_zh in p.hint_zh and p.hint


def test_8_yaml_syntax_through_the_cli(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL.replace("  - id: r\n    method: score\n", "  - id: r\n   method: score\n"))
    code, en, zh = both("validate", path)
    line = line_of(path, "   method: score")
    assert code == 1
    assert f"{path}:{line}:4: yaml-syntax: indentation: the key on line {line} does not line up" in en
    assert "expected <block end>" in en  # the parser's own words stay, at the end
    assert f"{path}:{line}:4: yaml-syntax: 缩进不一致: 第 {line} 行的键与所在块的其他键对不齐" in zh
    assert "    提示: " in zh


@pytest.mark.parametrize(("old", "new", "key", "suggestion"), [
    ("title:", "titel:", "titel", "title"),                                        # top level
    ("    closed: upper\n", "    closed: upper\n    lable: {zh: a, en: b}\n", "lable", "label"),  # bands
    ("  x: {type: number,", "  x: {typ: number, type: number,", "typ", "type"),      # inputs
    ("    method: score\n", "    method: score\n    bandz: b\n", "bandz", "bands"),  # a rule's method keys
])
def test_9_did_you_mean_for_unknown_keys(write_ruleset: Write, old: str, new: str, key: str, suggestion: str) -> None:
    path = write_ruleset(MINIMAL.replace(old, new, 1))
    code, en, zh = both("validate", path)
    assert code == 1
    assert f"unknown-key: unknown key {key!r}" in en
    assert f"    hint: did you mean {suggestion!r}?" in en
    assert f"unknown-key: 未知的键 {key!r}(此处不允许)" in zh
    assert f"    提示: 是否想写 {suggestion!r}?" in zh
    assert f"{path}:{line_of(path, key)}:" in en


def test_9_without_a_close_key_the_allowed_keys_are_listed() -> None:
    assert did_you_mean("zzz", ["label", "note"]) == ("allowed here: label, note", "此处允许的键: label, note")


def test_10_text_compared_with_a_number_and_a_case_naming_no_rule(write_ruleset: Write) -> None:
    path = write_ruleset(MINIMAL.replace("  x: {type: number, min: 0, max: 100}\n",
                                         "  x: {type: number, min: 0, max: 100}\n  grade: {type: string}\n")
                         + "  - {id: d, method: direct, when: grade == 3, level: RED, cite: {source: s}}\n"
                         + "cases:\n  - note: a\n    facts: {x: 5, grade: '1'}\n    want: {level: BLUE, fired: [rr]}\n")
    code, en, zh = both("validate", path)
    assert code == 1
    cmp_line, case_line = line_of(path, "grade == 3"), line_of(path, "fired: [rr]")
    assert (f"{path}:{cmp_line}:35: type-compare: 'grade == 3' compares text with a number: 'grade' is text, 3 is "
            "a number; the condition is never true") in en
    assert "hint: write the value as text in quotes ('3')" in en
    assert f"{path}:{cmp_line}:35: type-compare: 'grade == 3' 把文本与数值比较" in zh
    assert f"{path}:{case_line}:33: unknown-rule: case 1 names rule 'rr' in 'fired'" in en
    assert "hint: did you mean 'r'?" in en
    assert f"{path}:{case_line}:33: unknown-rule: 用例 1 的 'fired' 中的规则 'rr' 不存在" in zh
