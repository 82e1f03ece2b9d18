from __future__ import annotations

import pytest

from riskgrade import Level


class TestOrder:
    def test_order(self) -> None:
        assert sorted([Level.RED, Level.BLUE, Level.ORANGE, Level.YELLOW]) == [
            Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED]

    def test_raised_clamps(self) -> None:
        assert Level.BLUE.raised(1) is Level.YELLOW
        assert Level.RED.raised(1) is Level.RED
        assert Level.YELLOW.raised(-5) is Level.BLUE


class TestParse:
    @pytest.mark.parametrize("text,expected", [
        ("RED", Level.RED), ("red", Level.RED), ("红", Level.RED), ("红色", Level.RED), ("重大风险", Level.RED),
        ("重大", Level.RED), ("较大风险", Level.ORANGE), ("橙", Level.ORANGE), ("一般风险", Level.YELLOW),
        ("黄", Level.YELLOW), ("低风险", Level.BLUE), ("蓝", Level.BLUE), ("#00b0f0", Level.BLUE),
        (4, Level.RED), (1, Level.BLUE), (" ORANGE ", Level.ORANGE),
    ])
    def test_spellings(self, text: object, expected: Level) -> None:
        assert Level.parse(text) is expected

    @pytest.mark.parametrize("bad", ["purple", "", 0, 5, True, None, 2.0])
    def test_rejects(self, bad: object) -> None:
        with pytest.raises(ValueError, match="not a risk level"):
            Level.parse(bad)


class TestNames:
    def test_chinese_and_colours(self) -> None:
        assert [lv.zh for lv in Level] == ["低风险", "一般风险", "较大风险", "重大风险"]
        assert [lv.colour_zh for lv in Level] == ["蓝", "黄", "橙", "红"]
        assert Level.RED.hex == "#e63031"
        assert Level.ORANGE.colour == "orange"
        assert Level.YELLOW.label("zh") == "一般风险"
        assert str(Level.RED) == "RED"
