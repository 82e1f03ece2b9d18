"""The four risk levels (风险等级) and their colours."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["Level"]


class Level(enum.IntEnum):
    """A risk level, ordered ``BLUE < YELLOW < ORANGE < RED``.

    >>> Level.parse("重大风险") is Level.RED
    True
    >>> Level.parse("橙") > Level.YELLOW
    True
    >>> Level.BLUE.zh, Level.BLUE.colour, Level.BLUE.hex
    ('低风险', 'blue', '#00b0f0')
    >>> Level.YELLOW.raised(2)
    <Level.RED: 4>
    """

    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def zh(self) -> str:
        """The Chinese name, e.g. ``重大风险``."""
        return _ZH[self]

    @property
    def en(self) -> str:
        """The English name, e.g. ``major risk``."""
        return _EN[self]

    @property
    def colour(self) -> str:
        """The colour name in English (``red``, ``orange``, ``yellow``, ``blue``)."""
        return self.name.lower()

    @property
    def colour_zh(self) -> str:
        """The colour name in Chinese (红, 橙, 黄, 蓝)."""
        return _COLOUR_ZH[self]

    @property
    def hex(self) -> str:
        """The display colour as ``#rrggbb``."""
        return _HEX[self]

    def label(self, lang: str = "en") -> str:
        """The name in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en

    def raised(self, steps: int = 1) -> Level:
        """This level moved ``steps`` up (negative: down), clamped to BLUE..RED."""
        return Level(min(max(int(self) + steps, Level.BLUE), Level.RED))

    @classmethod
    def parse(cls, value: Any) -> Level:
        """A level from its name, colour, Chinese name or colour, or number 1-4 (BLUE=1).

        Raises ``ValueError`` naming the accepted spellings.
        """
        if isinstance(value, Level):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
            return cls(value)
        if isinstance(value, str):
            key = value.strip()
            found = _SPELLINGS.get(key) or _SPELLINGS.get(key.lower())
            if found is not None:
                return found
        raise ValueError(
            f"not a risk level: {value!r} (use RED/ORANGE/YELLOW/BLUE, 红/橙/黄/蓝, "
            "重大风险/较大风险/一般风险/低风险)"
        )

    def __str__(self) -> str:
        return self.name


_ZH = {Level.RED: "重大风险", Level.ORANGE: "较大风险", Level.YELLOW: "一般风险", Level.BLUE: "低风险"}
_EN = {Level.RED: "major risk", Level.ORANGE: "high risk", Level.YELLOW: "moderate risk", Level.BLUE: "low risk"}
_COLOUR_ZH = {Level.RED: "红", Level.ORANGE: "橙", Level.YELLOW: "黄", Level.BLUE: "蓝"}
_HEX = {Level.RED: "#e63031", Level.ORANGE: "#f48400", Level.YELLOW: "#f1dd00", Level.BLUE: "#00b0f0"}
_SHORT_ZH = {Level.RED: "重大", Level.ORANGE: "较大", Level.YELLOW: "一般", Level.BLUE: "低"}

_SPELLINGS: dict[str, Level] = {}
for _lv in Level:
    for _s in (_lv.name, _lv.name.lower(), _ZH[_lv], _EN[_lv], _COLOUR_ZH[_lv], _COLOUR_ZH[_lv] + "色",
               _SHORT_ZH[_lv], _HEX[_lv]):
        _SPELLINGS[_s] = _lv
