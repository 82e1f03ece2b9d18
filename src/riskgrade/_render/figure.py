"""What the drawn outputs share: the output suffix check, saving a matplotlib figure so that the
same input gives the same bytes, and an SVG fragment to place inside an HTML page.

>>> check_suffix("map.PNG", (".png", ".svg"), "a map")
'.png'
>>> check_suffix("map.bmp", (".png", ".svg"), "a map")
Traceback (most recent call last):
...
riskgrade.exceptions.RenderError: bad-output: map.bmp: a map is written as .png or .svg, not '.bmp'
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from typing import Any

from riskgrade._render.fonts import require
from riskgrade.exceptions import RenderError

__all__ = ["check_suffix", "save_figure", "svg_fragment"]

#: a fixed hash salt makes SVG ids repeatable; text as paths needs no font on the viewer's side
_RC = {"svg.hashsalt": "riskgrade", "svg.fonttype": "path"}
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)


def check_suffix(path: str, allowed: Sequence[str], what: str) -> str:
    """The lower-case suffix of ``path`` if it is one of ``allowed``, else ``RenderError`` (``bad-output``)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in allowed:
        names = ", ".join(allowed[:-1]) + " or " + allowed[-1] if len(allowed) > 1 else allowed[0]
        raise RenderError(f"{path}: {what} is written as {names}, not {ext or 'no suffix'!r}", code="bad-output")
    return ext


def save_figure(fig: Any, path: str, ext: str, dpi: int) -> None:
    """Write ``fig`` as ``.png`` or ``.svg`` without a timestamp (same figure, same bytes)."""
    mpl = require("matplotlib")
    with mpl.rc_context(_RC):
        fig.savefig(path, format=ext[1:], dpi=dpi, metadata={"Date": None} if ext == ".svg" else {})


def svg_fragment(fig: Any) -> str:
    """``fig`` as one ``<svg>`` element for an HTML page: no XML prolog, DTD, metadata, comments or
    namespace declarations (the HTML parser puts ``<svg>`` in the SVG namespace), so the page names
    no outside address. Text is drawn as paths: the page needs no font to show Chinese labels."""
    mpl = require("matplotlib")
    buf = io.StringIO()
    with mpl.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Format": None, "Type": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    for ns in (' xmlns:xlink="http://www.w3.org/1999/xlink"', ' xmlns="http://www.w3.org/2000/svg"'):
        text = text.replace(ns, "", 1)
    return _COMMENT.sub("", text).strip() + "\n"
