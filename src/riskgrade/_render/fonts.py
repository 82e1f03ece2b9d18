"""Find a font that draws Chinese, or fail with a clear :class:`~riskgrade.exceptions.RenderError`.

A map whose labels are empty boxes is worse than no map, so riskgrade refuses to draw without a
CJK font. On Debian, ``apt-get install fonts-noto-cjk`` (what ``.ci/run`` installs) gives one;
``RISKGRADE_CJK_FONT=/path/to/font.ttf`` names one explicitly.
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Any

from riskgrade.exceptions import RenderError

__all__ = ["PROBE", "cjk_font", "require"]

#: families tried in order (Simplified Chinese first); any font covering PROBE would do
_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Sans CJK JP", "Noto Serif CJK SC", "Droid Sans Fallback", "SimHei",
             "Microsoft YaHei", "PingFang SC", "AR PL UMing CN")
#: characters every label uses: a font must draw all of them
PROBE = "白银市安全风险四色分布示意图重大较大一般低红橙黄蓝县区"

_HINT = ("install one (Debian/Ubuntu: apt-get install fonts-noto-cjk; the project's .ci/run does) "
         "or set RISKGRADE_CJK_FONT to a .ttf/.otf/.ttc file")


def require(module: str) -> Any:
    """Import an optional dependency of ``riskgrade[render]``, or raise ``missing-extra``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RenderError(f"{module.split('.')[0]} is not installed: pip install 'riskgrade[render]'",
                          code="missing-extra") from None


def _covers(path: str) -> bool:
    ft2font = require("matplotlib.ft2font")
    try:
        charmap = ft2font.FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in PROBE)


@functools.lru_cache(maxsize=4)
def cjk_font(explicit: str | None = None) -> str:
    """The path of an installed font that draws Chinese (every character of :data:`PROBE`).

    ``explicit`` (or ``$RISKGRADE_CJK_FONT``) is checked and used as given; otherwise the known
    families are looked up in matplotlib's font list. Raises ``RenderError`` (code ``no-cjk-font``).
    """
    wanted = explicit or os.environ.get("RISKGRADE_CJK_FONT")
    if wanted:
        if not os.path.isfile(wanted) or not _covers(wanted):
            raise RenderError(f"the font {wanted!r} does not exist or cannot draw Chinese ({PROBE[:4]}…)",
                              code="no-cjk-font")
        return wanted
    fm = require("matplotlib.font_manager")
    by_name: dict[str, list[str]] = {}
    for entry in fm.fontManager.ttflist:
        by_name.setdefault(entry.name, []).append(entry.fname)
    for family in _FAMILIES:
        for path in sorted(by_name.get(family, ()), key=lambda p: ("Regular" not in p, p)):
            if _covers(path):
                return path
    # a font installed after matplotlib built its cache is not in ttflist: look at the files too
    for path in sorted(fm.findSystemFonts(), key=lambda p: ("Regular" not in p, p)):
        base = os.path.basename(path).lower()
        if any(k in base for k in ("cjk", "wqy", "sourcehan", "droidsansfallback", "simhei", "msyh")) and _covers(path):
            return str(path)
    raise RenderError("no installed font can draw Chinese labels: " + _HINT, code="no-cjk-font")
