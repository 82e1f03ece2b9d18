"""Warning rules (预警规则): the ``warnings:`` section and standalone monitoring rulesets.

A warning rule names a condition over monitoring events, the warning it raises
(level, message in Chinese and English, citation) and the effect the warning has
on the enterprise graph while it is active. Five kinds:

``threshold``
    a reading ``above`` (or ``below``) a limit; optional ``deadband`` (it clears only
    once the reading is back past ``limit - deadband``) and ``delay`` (it is raised only
    when readings stay over the limit for that long).
``sustained``
    a reading over its limit continuously ``for`` a duration (clears at the first
    reading back within the limit).
``alarm_count``
    at least ``count`` alarms of the listed kinds (``alarms``) at one ``point`` within
    a ``window``; clears when the window holds fewer.
``together``
    two related ``points`` alarming at the same time, the second alarm raised
    ``within`` a duration of the first; clears when either alarm clears.
``hidden_danger_overdue``
    a hidden danger (隐患) still not rectified past its deadline (or reported overdue);
    clears when it is closed (rectified, or verified while still open). ``major_only: true``
    limits it to major hidden dangers. With an enterprise graph, the roll-up itself raises
    the risk point of an overdue hidden danger (from the day after the deadline), so such a
    rule usually has ``effect: none`` -- a ``raise`` would count the hidden danger twice.

A limit is a number, or the name of an alarm limit of the monitoring point in the
enterprise register (``high``, ``high_high``, ``low``, ``low_low``), resolved when a
:class:`~riskgrade.Monitor` is built. Durations are seconds or text like ``30s``,
``5min``, ``2h``, ``1d``.

A standalone monitoring ruleset is a YAML file with ``kind: monitor``::

    kind: monitor
    id: chem-plant-monitor
    version: "1.0"
    tolerance: 60s          # out-of-order tolerance (see docs/monitoring.md)
    warnings:
      - id: reactor-temp-high
        kind: threshold
        point: TI-101
        above: high
        deadband: 2
        delay: 2min
        level: ORANGE
        message:
          zh: "{point} 温度 {value}{unit} 超过报警值 {limit}{unit}"
          en: "{point} temperature {value}{unit} above alarm limit {limit}{unit}"
        cite: {source: "GB/T 50493-2019", clause: "5.2", kind: clause}
        effect: {raise: 1}

>>> rules = parse_monitor_ruleset(EXAMPLE, "example.yaml")
>>> [(r.id, r.kind, r.level.name) for r in rules.rules]
[('t', 'threshold', 'ORANGE')]
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import attrs

from riskgrade._compile.sections import SectionCompiler
from riskgrade._core.canonical import fingerprint
from riskgrade._core.citation import Citation
from riskgrade._core.levels import Level
from riskgrade._source import registry
from riskgrade._source.yaml import Located, load_yaml, parse_yaml
from riskgrade.exceptions import Problem, RulesetError

__all__ = [
    "KINDS",
    "LIMIT_NAMES",
    "Effect",
    "Message",
    "WarningRule",
    "WarningRules",
    "compile_warnings",
    "load_monitor_ruleset",
    "parse_duration",
    "parse_monitor_ruleset",
]

KINDS = ("threshold", "sustained", "alarm_count", "together", "hidden_danger_overdue")
LIMIT_NAMES = ("high_high", "high", "low", "low_low")
CITATION_KINDS = ("clause", "derived", "local")
ALARM_NAMES = {"高高报": "高高报", "高报": "高报", "低报": "低报", "低低报": "低低报", "HH": "高高报", "H": "高报",
               "L": "低报", "LL": "低低报"}
#: placeholders a message may use, by rule kind
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "threshold": ("point", "value", "unit", "limit", "since"),
    "sustained": ("point", "value", "unit", "limit", "since", "duration"),
    "alarm_count": ("point", "count", "window", "alarms"),
    "together": ("points", "alarms", "within"),
    "hidden_danger_overdue": ("hidden_danger", "risk_point", "deadline"),
}

EXAMPLE = """\
kind: monitor
id: example
warnings:
  - id: t
    kind: threshold
    point: TI-101
    above: 80
    level: ORANGE
    message: {zh: "{point} 超限", en: "{point} above limit"}
    cite: {source: "GB/T 50493-2019", clause: "5.2"}
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)?\s*$")
_UNIT_SECONDS = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def parse_duration(value: Any) -> float:
    """Seconds from a number or text such as ``90``, ``30s``, ``5min``, ``2h``, ``1d``.

    >>> parse_duration("5min"), parse_duration(30), parse_duration("1.5h")
    (300.0, 30.0, 5400.0)
    """
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or text like 5min")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (found := _DURATION.match(value)):
        seconds = float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    else:
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. 30s, 5min, 2h, 1d)")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


@attrs.frozen
class Message:
    """A message in Chinese and English with ``{placeholders}``."""

    zh: str
    en: str

    def render(self, lang: str, values: Mapping[str, Any]) -> str:
        """The message in ``lang`` with placeholders filled (only plain names, no attributes)."""
        template = self.zh if lang == "zh" else self.en
        return _PLACEHOLDER.sub(lambda mo: _show(values.get(mo.group(1), "")), template)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "、".join(_show(v) for v in value)
    return str(value)


@attrs.frozen
class Effect:
    """What an active warning does to the enterprise graph: raise ``node``'s dynamic level by ``steps``
    (and, with ``floor``, hold it at least at that level -- a lock that holds at every ancestor).

    ``node`` None means the risk point the warning is about (the risk point of its
    monitoring point, or of its hidden danger).
    """

    steps: int = 1
    node: str | None = None
    floor: Level | None = None


@attrs.frozen
class WarningRule:
    """One compiled warning rule. Kind-specific settings are ``None`` when they do not apply."""

    id: str
    kind: str
    level: Level
    message: Message
    cite: Citation  # the one riskgrade.Citation; the YAML's ``kind`` is its ``basis``
    effect: Effect | None
    point: str | None = None
    points: tuple[str, ...] = ()
    above: bool = True
    limit: float | str | None = None  # a number, or an alarm limit name of the point
    deadband: float = 0.0
    delay: float = 0.0
    alarms: tuple[str, ...] = ()
    count: int = 0
    window: float = 0.0
    within: float | None = None
    major_only: bool = False
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form (used for the fingerprint)."""
        return {
            "id": self.id, "kind": self.kind, "level": self.level.name,
            "message": {"zh": self.message.zh, "en": self.message.en}, "cite": self.cite.to_dict(),
            "effect": None if self.effect is None else {"raise": self.effect.steps, "node": self.effect.node,
                                                        "floor": self.effect.floor and self.effect.floor.name},
            "point": self.point, "points": list(self.points), "above": self.above, "limit": self.limit,
            "deadband": self.deadband, "delay": self.delay, "alarms": list(self.alarms), "count": self.count,
            "window": self.window, "within": self.within, "major_only": self.major_only, "title": self.title,
        }


@attrs.frozen
class WarningRules:
    """The compiled warning rules of a ruleset (the ``warnings`` section or a ``kind: monitor`` file)."""

    rules: tuple[WarningRule, ...]
    id: str = ""
    version: str = ""
    tolerance: float = 0.0
    file: str = ""
    fingerprint: str = ""

    def rule(self, rule_id: str) -> WarningRule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _fingerprint(rules: tuple[WarningRule, ...], ident: str, version: str, tolerance: float) -> str:
    return fingerprint({"id": ident, "version": version, "tolerance": tolerance,
                        "rules": [r.to_dict() for r in rules]})


class _Checker:
    """Collects located problems while reading one rule."""

    def __init__(self, located: Located, base: tuple[Any, ...]) -> None:
        self.located = located
        self.base = base
        self.problems: list[Problem] = []

    def add(self, sub: tuple[Any, ...], code: str, message: str, key: bool = False) -> None:
        self.problems.append(self.located.problem((*self.base, *sub), code, message, key=key))


def _rule(data: Any, located: Located, path: tuple[Any, ...], seen: set[str]) -> tuple[WarningRule | None,
                                                                                       list[Problem]]:
    ck = _Checker(located, path)
    if not isinstance(data, dict):
        ck.add((), "bad-warning", "a warning rule must be a mapping")
        return None, ck.problems
    kind = data.get("kind")
    if kind not in KINDS:
        ck.add(("kind",), "unknown-kind", f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        return None, ck.problems
    common = {"id", "kind", "level", "message", "cite", "effect", "title"}
    specific = {
        "threshold": {"point", "above", "below", "deadband", "delay"},
        "sustained": {"point", "above", "below", "for"},
        "alarm_count": {"point", "alarms", "count", "window"},
        "together": {"points", "alarms", "within"},
        "hidden_danger_overdue": {"major_only"},
    }[kind]
    for key in data:
        if key not in common | specific:
            ck.add((key,), "unknown-key", f"{key!r} is not a field of a {kind} warning "
                                            f"(allowed: {', '.join(sorted(common | specific))})", key=True)
    rid = data.get("id")
    if not isinstance(rid, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", rid):
        ck.add(("id",), "bad-id", "id must be text of letters, digits, '_', '-', '.'")
        rid = None
    elif rid in seen:
        ck.add(("id",), "duplicate-id", f"warning id {rid!r} is used twice")
    else:
        seen.add(rid)
    level: Level | None = None
    try:
        level = Level.parse(data.get("level"))
    except ValueError as exc:
        ck.add(("level",), "bad-level", str(exc))
    message = _message(data.get("message"), kind, ck)
    cite = _cite(data.get("cite"), ck)
    effect = _effect(data.get("effect", {"raise": 1}), ck)
    fields: dict[str, Any] = {}
    if kind in ("threshold", "sustained", "alarm_count"):
        fields["point"] = _name(data, "point", ck)
    if kind in ("threshold", "sustained"):
        has_above, has_below = "above" in data, "below" in data
        if has_above == has_below:
            ck.add(("above",) if has_above else (), "bad-limit", "give exactly one of 'above' or 'below'")
        else:
            side = "above" if has_above else "below"
            fields["above"] = has_above
            fields["limit"] = _limit(data[side], (side,), ck)
    if kind == "threshold":
        fields["deadband"] = _number(data, "deadband", ck, 0.0)
        fields["delay"] = _duration(data, "delay", ck, 0.0)
    if kind == "sustained":
        if "for" not in data:
            ck.add((), "missing-field", "a sustained warning needs 'for' (a duration)")
        fields["delay"] = _duration(data, "for", ck, 0.0)
    if kind in ("alarm_count", "together"):
        fields["alarms"] = _alarms(data.get("alarms", ["高报", "高高报"]), ck)
    if kind == "alarm_count":
        count = data.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            ck.add(("count",), "bad-count", "count must be a whole number of alarms, at least 1")
        else:
            fields["count"] = count
        if "window" not in data:
            ck.add((), "missing-field", "an alarm_count warning needs 'window' (a duration)")
        fields["window"] = _duration(data, "window", ck, 0.0)
    if kind == "together":
        pts = data.get("points")
        if (not isinstance(pts, list) or len(pts) != 2 or not all(isinstance(p, str) and p for p in pts)
                or pts[0] == pts[1]):
            ck.add(("points",), "bad-points", "points must list two different monitoring point ids")
        else:
            fields["points"] = (pts[0], pts[1])
        if "within" in data:
            fields["within"] = _duration(data, "within", ck, 0.0)
    if kind == "hidden_danger_overdue":
        major = data.get("major_only", False)
        if not isinstance(major, bool):
            ck.add(("major_only",), "bad-type", "major_only must be true or false")
        else:
            fields["major_only"] = major
    title = data.get("title", "")
    if not isinstance(title, str):
        ck.add(("title",), "bad-type", "title must be text")
        title = ""
    if ck.problems or rid is None or level is None or message is None or cite is None:
        return None, ck.problems
    return WarningRule(id=rid, kind=kind, level=level, message=message, cite=cite, effect=effect,
                       title=title, **fields), []


def _name(data: dict[str, Any], key: str, ck: _Checker) -> str | None:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        ck.add((key,) if key in data else (), "missing-field" if key not in data else "bad-type",
               f"{key} must be a monitoring point id")
        return None
    return value


def _number(data: dict[str, Any], key: str, ck: _Checker, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        ck.add((key,), "bad-number", f"{key} must be a number, 0 or more")
        return default
    return float(value)


def _duration(data: dict[str, Any], key: str, ck: _Checker, default: float) -> float:
    if key not in data:
        return default
    try:
        return parse_duration(data[key])
    except ValueError as exc:
        ck.add((key,), "bad-duration", str(exc))
        return default


def _limit(value: Any, sub: tuple[Any, ...], ck: _Checker) -> float | str | None:
    if isinstance(value, bool):
        ck.add(sub, "bad-limit", "a limit is a number or an alarm limit name")
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in LIMIT_NAMES:
        return value
    ck.add(sub, "bad-limit", f"a limit is a number or one of {', '.join(LIMIT_NAMES)}, not {value!r}")
    return None


def _alarms(value: Any, ck: _Checker) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        ck.add(("alarms",), "bad-alarms", "alarms must list alarm kinds (高高报, 高报, 低报, 低低报)")
        return ()
    out: list[str] = []
    for i, item in enumerate(value):
        name = ALARM_NAMES.get(item) if isinstance(item, str) else None
        if name is None:
            ck.add(("alarms", i), "bad-alarms", f"unknown alarm kind {item!r} (use 高高报, 高报, 低报, 低低报)")
        elif name not in out:
            out.append(name)
    return tuple(out)


def _message(value: Any, kind: str, ck: _Checker) -> Message | None:
    if not isinstance(value, dict) or not isinstance(value.get("zh"), str) or not isinstance(value.get("en"),
                                                                                             str):
        ck.add(("message",), "bad-message", "message needs both 'zh' and 'en' text")
        return None
    for lang in ("zh", "en"):
        for name in _PLACEHOLDER.findall(value[lang]):
            if name not in PLACEHOLDERS[kind]:
                ck.add(("message", lang), "bad-placeholder",
                       f"unknown placeholder {{{name}}} (a {kind} message may use "
                       f"{', '.join('{' + p + '}' for p in PLACEHOLDERS[kind])})")
    return Message(zh=value["zh"], en=value["en"])


def _cite(value: Any, ck: _Checker) -> Citation | None:
    if not isinstance(value, dict) or not isinstance(value.get("source"), str) or not value["source"].strip():
        ck.add(("cite",), "missing-citation", "every warning rule cites its source: cite: {source: ..., clause: ...}")
        return None
    kind = value.get("kind", "clause")
    kind = "clause" if kind == "direct" else kind
    if kind not in CITATION_KINDS:
        ck.add(("cite", "kind"), "bad-citation-kind", f"citation kind must be one of {', '.join(CITATION_KINDS)}")
        return None
    clause = value.get("clause", "")
    extra = {k: value[k] for k in ("title", "number") if isinstance(value.get(k), str)}
    return Citation(source=value["source"], clause=str(clause), basis=kind, **extra)


def _effect(value: Any, ck: _Checker) -> Effect | None:
    if value is None or value == "none":
        return None
    if not isinstance(value, dict):
        ck.add(("effect",), "bad-effect", "effect is {raise: N, floor: LEVEL, node: ID} (each optional) or none")
        return None
    for key in value:
        if key not in ("raise", "node", "floor"):
            ck.add(("effect", key), "unknown-key", f"{key!r} is not a field of an effect (raise, floor, node)",
                   key=True)
    steps = value.get("raise", 0 if "floor" in value else 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 3:
        ck.add(("effect", "raise"), "bad-effect", "raise must be 0, 1, 2 or 3 levels")
        return None
    floor: Level | None = None
    if "floor" in value:
        try:
            floor = Level.parse(value["floor"])
        except ValueError as exc:
            ck.add(("effect", "floor"), "bad-effect", str(exc))
            return None
    node = value.get("node")
    if node is not None and not isinstance(node, str):
        ck.add(("effect", "node"), "bad-effect", "node must be a node id")
        return None
    return Effect(steps=steps, node=node, floor=floor)


def compile_warnings(data: Any, located: Located, path: tuple[Any, ...],
                     context: Any = None) -> tuple[WarningRules, list[Problem]]:
    """Compile a ``warnings:`` section (a list of warning rules) found at ``path`` in ``located``.

    This is the section compiler registered for ``warnings`` (see ``_sections``).
    """
    problems: list[Problem] = []
    if not isinstance(data, list):
        problems.append(located.problem(path, "bad-warnings", "warnings must be a list of warning rules"))
        return WarningRules(()), problems
    rules: list[WarningRule] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        rule, found = _rule(item, located, (*path, i), seen)
        problems.extend(found)
        if rule is not None:
            rules.append(rule)
    meta = located.data if isinstance(located.data, dict) else {}
    ident = str(meta.get("id", ""))
    version = str(meta.get("version", ""))
    compiled = tuple(rules)
    return WarningRules(compiled, id=ident, version=version, file=located.file,
                        fingerprint=_fingerprint(compiled, ident, version, 0.0)), problems


SECTION = SectionCompiler("warnings", compile_warnings, "warning rules of the real-time monitoring layer (预警规则)")


def _monitor_ruleset(located: Located) -> WarningRules:
    problems: list[Problem] = []
    data = located.data
    if not isinstance(data, dict):
        raise RulesetError([located.problem((), "bad-ruleset", "a monitoring ruleset must be a mapping")])
    if data.get("kind") != "monitor":
        problems.append(located.problem(("kind",), "not-monitor", "a monitoring ruleset has 'kind: monitor'"))
    for key in data:
        if key not in ("kind", "id", "version", "title", "description", "tolerance", "warnings"):
            problems.append(located.problem((key,), "unknown-key", f"{key!r} is not a field of a monitoring "
                                            "ruleset (kind, id, version, title, description, tolerance, warnings)",
                                            key=True))
    tolerance = 0.0
    if "tolerance" in data:
        try:
            tolerance = parse_duration(data["tolerance"])
        except ValueError as exc:
            problems.append(located.problem(("tolerance",), "bad-duration", str(exc)))
    if "warnings" not in data:
        problems.append(located.problem((), "missing-field", "a monitoring ruleset needs 'warnings'"))
        compiled = WarningRules(())
    else:
        compiled, found = compile_warnings(data["warnings"], located, ("warnings",))
        problems.extend(found)
    if problems:
        raise RulesetError(problems)
    ident, version = str(data.get("id", "")), str(data.get("version", ""))
    return attrs.evolve(compiled, id=ident, version=version, tolerance=tolerance, file=located.file,
                        fingerprint=_fingerprint(compiled.rules, ident, version, tolerance))


def parse_monitor_ruleset(text: str, file: str = "<monitor>") -> WarningRules:
    """Compile a ``kind: monitor`` ruleset from YAML text; raise :class:`RulesetError` with every problem."""
    return _monitor_ruleset(parse_yaml(text, file))


def load_monitor_ruleset(path: str) -> WarningRules:
    """Compile a ``kind: monitor`` ruleset file; raise :class:`RulesetError` with every problem."""
    return _monitor_ruleset(load_yaml(path))


def find_monitor_ruleset(ref: str) -> WarningRules | None:
    """The ``kind: monitor`` ruleset ``ref`` (a file, or the id of a shipped one), or None if it is not one."""
    if os.path.exists(ref):
        located = load_yaml(ref)
        if isinstance(located.data, dict) and located.data.get("kind") == "monitor":
            return load_monitor_ruleset(ref)
        return None
    for path in registry.shipped_files():
        data = load_yaml(path).data
        if isinstance(data, dict) and data.get("kind") == "monitor" and data.get("id") == ref:
            return load_monitor_ruleset(path)
    return None
