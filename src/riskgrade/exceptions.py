"""Errors and warnings raised by riskgrade.

Every error riskgrade raises derives from :class:`RiskgradeError`::

    RiskgradeError
    ├── RulesetError        a ruleset (or layer) file is wrong: located, coded, collected problems
    │   └── RefinementError a layer or plugin would make a standard looser
    ├── FactError           facts are wrong: names the record and the field
    │   └── EventError      a malformed monitoring event: names the line and the field
    ├── FunctionError       a function or plugin failed while grading: not bad input; names the
    │                       function, the rule and its file:line, keeps the original as __cause__
    ├── GraphError          an enterprise register is inconsistent (e.g. a dependency cycle)
    ├── PluginError         a plugin failed: names the plugin and the hook
    ├── MonitorError        the real-time layer failed (an action raised inside the rules engine)
    └── RenderError         a map, card or register export cannot be drawn (no CJK font, a missing
                            extra, an unusable boundary file); ``code`` says which

>>> from riskgrade.exceptions import Problem, RulesetError
>>> err = RulesetError([Problem("bad-band", "bands leave a gap", "r.yaml", 3, 5)])
>>> str(err)
'r.yaml:3:5: bad-band: bands leave a gap'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

__all__ = [
    "EventError",
    "FactError",
    "FunctionError",
    "GraphError",
    "MonitorError",
    "PluginError",
    "Problem",
    "RefinementError",
    "RenderError",
    "RiskgradeError",
    "RiskgradeWarning",
    "RulesetError",
]


class RiskgradeError(Exception):
    """Root of every error riskgrade raises.

    Every riskgrade error pickles and unpickles to an equal error (same class, message and
    attributes), so that it crosses process boundaries (``multiprocessing``, ``concurrent.futures``,
    Dask) instead of breaking the pool.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[RiskgradeError], args: tuple[Any, ...], state: dict[str, Any]) -> RiskgradeError:
    """Unpickle a riskgrade error without calling its ``__init__`` (whose parameters differ from ``args``)."""
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class RiskgradeWarning(UserWarning):
    """Root of the warnings riskgrade emits (e.g. a ruleset resting on an unverified fact)."""


@attrs.frozen(order=False)
class Problem:
    """One located problem in a ruleset: ``file:line:col: code: message``.

    ``line`` and ``col`` are 1-based; 0 when unknown. ``code`` is a stable lowercase
    identifier that tests and tools may rely on. ``message`` is English, ``message_zh`` the
    same in Chinese (empty when not translated); ``hint``/``hint_zh`` say how to fix it, where one knows.
    ``severity`` is ``error`` or ``warning`` (a warning does not stop a load; ``riskgrade
    validate --strict`` treats it as an error).

    >>> p = Problem("band-gap", "values between 1 and 2 fall in no band", "r.yaml", 3, 5,
    ...             message_zh="1 与 2 之间的值不在任何区间", hint="start the band at 1", hint_zh="区间从 1 开始")
    >>> str(p)
    'r.yaml:3:5: band-gap: values between 1 and 2 fall in no band'
    >>> p.text("zh")
    'r.yaml:3:5: band-gap: 1 与 2 之间的值不在任何区间'
    >>> p.hint_text("zh")
    '区间从 1 开始'
    """

    code: str
    message: str
    file: str = ""
    line: int = 0
    col: int = 0
    message_zh: str = attrs.field(default="", kw_only=True)
    hint: str = attrs.field(default="", kw_only=True)
    hint_zh: str = attrs.field(default="", kw_only=True)
    severity: str = attrs.field(default="error", kw_only=True)

    def _where(self) -> str:
        where = self.file or "<ruleset>"
        if self.line:
            where += f":{self.line}:{self.col}"
        return where

    def __str__(self) -> str:
        return f"{self._where()}: {self.code}: {self.message}"

    def text(self, lang: str = "en") -> str:
        """``file:line:col: code: message`` in ``lang`` (``zh`` or ``en``)."""
        return f"{self._where()}: {self.code}: {self.message_in(lang)}"

    def message_in(self, lang: str = "en") -> str:
        """The message in ``lang`` (English where no Chinese text was given; the CLI then adds the
        code's Chinese meaning from the catalogue, :func:`riskgrade._core.i18n.problem_text`)."""
        return (self.message_zh or self.message) if lang == "zh" else self.message

    def hint_text(self, lang: str = "en") -> str:
        """How to fix it, in ``lang`` (``""`` when there is no hint)."""
        return (self.hint_zh or self.hint) if lang == "zh" else (self.hint or self.hint_zh)

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready data (both languages)."""
        return {"file": self.file, "line": self.line, "col": self.col, "code": self.code,
                "severity": self.severity, "message": self.message, "message_zh": self.message_zh,
                "hint": self.hint, "hint_zh": self.hint_zh}

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.code, self.message)


class RulesetError(RiskgradeError):
    """A ruleset cannot be loaded; ``problems`` lists every problem found, sorted by location."""

    #: at most this many problems are kept; the message says how many more there were
    LIMIT = 100

    def __init__(self, problems: Iterable[Problem], *, warnings: Iterable[Problem] = ()) -> None:
        #: the warnings found besides (severity ``warning``), sorted by location
        self.warnings: tuple[Problem, ...] = tuple(sorted(set(warnings), key=Problem.sort_key))
        found = sorted(set(problems), key=Problem.sort_key)
        self.problems: tuple[Problem, ...] = tuple(found[: self.LIMIT])
        self.dropped = max(0, len(found) - self.LIMIT)
        lines = [str(p) for p in self.problems]
        if self.dropped:
            lines.append(f"... and {self.dropped} more problems")
        super().__init__("\n".join(lines) if lines else "invalid ruleset")

    @property
    def codes(self) -> list[str]:
        """The problem codes in order (handy in tests)."""
        return [p.code for p in self.problems]


class RefinementError(RulesetError):
    """A jurisdiction layer or plugin would make the standard it refines more lenient."""


class FactError(RiskgradeError, ValueError):
    """Facts are missing or invalid.

    ``record`` names the input (its index in a batch, or an id), ``field`` the fact
    field as a dotted path (``substances[2].cas``), ``code`` a stable identifier.
    """

    def __init__(self, message: str, *, field: str | None = None, record: Any = None,
                 code: str = "invalid-fact", value: Any = None) -> None:
        self.message = message
        self.field = field
        self.record = record
        self.code = code
        self.value = value
        super().__init__(self._text())

    def _text(self) -> str:
        parts = []
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(f"field {self.field!r}")
        prefix = ", ".join(parts)
        return f"{prefix}: {self.code}: {self.message}" if prefix else f"{self.code}: {self.message}"

    def at(self, record: Any = None, prefix: str | None = None) -> FactError:
        """A copy located in ``record`` (and under the field path ``prefix``)."""
        field = self.field
        if prefix:
            field = f"{prefix}.{field}" if field and not field.startswith("[") else f"{prefix}{field or ''}"
        return FactError(self.message, field=field, record=self.record if record is None else record,
                         code=self.code, value=self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "record": self.record, "field": self.field}


class FunctionError(RiskgradeError):
    """A function or plugin method failed while grading -- a bug in the code, not bad input.

    ``function`` names it, ``plugin`` the plugin that contributed it (None for riskgrade's own),
    ``rule`` the rule (or derived value) being graded and ``file``/``line`` where that rule sits in
    its YAML. The original exception is ``__cause__``, so its traceback is shown too. The CLI
    reports it with exit code 3 (not 2, bad input).
    """

    def __init__(self, message: str, *, function: str, plugin: str | None = None, rule: str | None = None,
                 file: str = "", line: int = 0) -> None:
        self.message = message
        self.function = function
        self.plugin = plugin
        self.rule = rule
        self.file = file
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        who = f"function {self.function!r}" + (f" of plugin {self.plugin!r}" if self.plugin else "")
        where = ""
        if self.rule:
            where = f" in rule {self.rule!r}"
            if self.file:
                where += f" ({self.file}:{self.line})" if self.line else f" ({self.file})"
        return f"{who} failed{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"error": "function-error", "message": str(self), "function": self.function,
                "plugin": self.plugin, "rule": self.rule, "file": self.file, "line": self.line}


class GraphError(RiskgradeError):
    """An enterprise register or regional graph is inconsistent.

    For a dependency cycle, ``cycle`` holds the node ids along it and the message shows
    the path ``a -> b -> a``.
    """

    def __init__(self, message: str, *, cycle: Sequence[str] = (), record: Any = None,
                 field: str | None = None) -> None:
        self.cycle = tuple(cycle)
        self.record = record
        self.field = field
        super().__init__(message)


class PluginError(RiskgradeError):
    """A plugin failed: ``plugin`` names it, ``hook`` the hook it failed in."""

    def __init__(self, message: str, *, plugin: str, hook: str) -> None:
        self.plugin = plugin
        self.hook = hook
        super().__init__(f"plugin {plugin!r}, hook {hook}: {message}")


class MonitorError(RiskgradeError):
    """The real-time monitoring layer failed (for example, an action raised inside durable-rules)."""


class RenderError(RiskgradeError):
    """An output (map, risk card, register export) cannot be produced; ``code`` is a stable code
    from the catalogue (``no-cjk-font``, ``missing-extra``, ``bad-output``, ``bad-boundary``,
    ``bad-site-plan``)."""

    def __init__(self, message: str, *, code: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class EventError(FactError):
    """A malformed event: ``record`` is the line (or index) and ``field`` the bad field."""

    def __init__(self, message: str, *, field: str | None = None, record: Any = None,
                 code: str = "invalid-event", value: Any = None) -> None:
        super().__init__(message, field=field, record=record, code=code, value=value)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "error", "line": self.record, "field": self.field, "error": self.code,
                "message": self.message}
