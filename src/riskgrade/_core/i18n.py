"""Text for people in Chinese and English: problems as the CLI prints them, "did you mean" hints.

A :class:`~riskgrade.exceptions.Problem` carries its message in English (``message``) and, where
the code that found it wrote one, in Chinese (``message_zh``), with a fix hint in both
(``hint``/``hint_zh``). :func:`problem_text` renders one for ``--lang``: a problem without a
Chinese message is shown in zh with its code's Chinese meaning from the catalogue
(:mod:`riskgrade._core.codes`) before the English detail, so nothing is printed in English only.

>>> from riskgrade.exceptions import Problem
>>> p = Problem("unknown-key", "unknown key 'lable'", "r.yaml", 4, 3, message_zh="未知的键 'lable'",
...             hint="did you mean 'label'?", hint_zh="是否想写 'label'?")
>>> print(problem_text(p, "zh"))
r.yaml:4:3: unknown-key: 未知的键 'lable'
    提示: 是否想写 'label'?
>>> print(problem_text(Problem("band-gap", "values between 1 and 2 fall in no band", "r.yaml", 3, 5), "zh"))
r.yaml:3:5: band-gap(区间之间有空缺): values between 1 and 2 fall in no band
>>> did_you_mean("lable", ["label", "level", "note"])
("did you mean 'label'?", "是否想写 'label'?")
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from riskgrade._core.codes import describe
from riskgrade.exceptions import Problem

__all__ = ["SEVERITY", "did_you_mean", "hint_line", "problem_text", "suggest"]

#: the severities in both languages
SEVERITY = {"error": ("错误", "error"), "warning": ("警告", "warning")}

_HINT = {"zh": "提示", "en": "hint"}


def suggest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices closest to ``word`` (difflib), best first; case-insensitive."""
    pool = [str(c) for c in choices]
    lower = {c.lower(): c for c in pool}
    return [lower[m] for m in difflib.get_close_matches(str(word).lower(), list(lower), n=n, cutoff=0.6)]


def did_you_mean(word: str, choices: Iterable[str], what: tuple[str, str] = ("allowed here", "此处允许的键"),
                 ) -> tuple[str, str]:
    """``(hint, hint_zh)``: "did you mean 'x'?" for the closest choices, else the choices listed
    (at most 12) after ``what`` (en, zh); ``("", "")`` when there are no choices."""
    pool = sorted(str(c) for c in choices)
    if not pool:
        return "", ""
    close = suggest(word, pool)
    if close:
        alts = " or ".join(repr(c) for c in close)
        alts_zh = " 或 ".join(repr(c) for c in close)
        return f"did you mean {alts}?", f"是否想写 {alts_zh}?"
    shown = ", ".join(pool[:12]) + (", ..." if len(pool) > 12 else "")
    return f"{what[0]}: {shown}", f"{what[1]}: {shown}"


def hint_line(p: Problem, lang: str) -> str:
    """``"    hint: ..."`` (``"    提示: ..."``), or ``""`` when the problem has no hint."""
    h = p.hint_text(lang)
    return f"    {_HINT['zh' if lang == 'zh' else 'en']}: {h}" if h else ""


def problem_text(p: Problem, lang: str = "en", *, hint: bool = True) -> str:
    """``file:line:col: code: message`` in ``lang``, and the hint on the next line (with ``hint``).

    A warning says so after its code (``code [warning]`` / ``code [警告]``)."""
    where = p.file or "<ruleset>"
    if p.line:
        where += f":{p.line}:{p.col}"
    code = p.code
    if lang == "zh" and not p.message_zh:
        meaning = describe(p.code, "zh")
        if meaning:
            code = f"{p.code}({meaning})"
    if p.severity != "error":
        code += f" [{SEVERITY.get(p.severity, (p.severity, p.severity))[0 if lang == 'zh' else 1]}]"
    out = f"{where}: {code}: {p.message_in(lang)}"
    h = hint_line(p, lang) if hint else ""
    return f"{out}\n{h}" if h else out
