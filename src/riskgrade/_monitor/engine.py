"""The durable-rules adapter: the only module that imports durable-rules or touches its internals.

A :class:`Engine` holds one durable-rules ruleset in a host without background threads. Facts
are posted (``post``/``assert_fact``/``retract_fact``) one at a time; the matches of the rules
are handed to ``on_match(rule name, matched facts)`` inside the call; any failure inside
durable-rules (which would otherwise be swallowed) is raised as :class:`EngineFailure`.
Upgrading durable-rules means reading this file.

**Numbers.** durable-rules' JSON parser (2.0.28) rejects a number with an exponent unless its
mantissa has a decimal point: ``2e-05`` and ``1e+16`` -- what Python's ``json`` writes for
0.00002 and 10**16 -- fail with "error code: 204", while ``2.0e-05`` and ``1.0e+16`` are read
exactly. So facts and rule definitions are written by :func:`encode` (the same JSON, every
float with a point in its mantissa, every integer beyond 64 bits as a float), never by
durable-rules' own ``json.dumps``.

>>> encode({"value": 2e-05, "big": 1e16, "t": 1719792000.5, "n": 3, "s": "高报"})
'{"value":2.0e-05,"big":1.0e+16,"t":1719792000.5,"n":3,"s":"高报"}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import durable_rules_engine  # type: ignore[import-not-found]
from durable import engine as _durable

__all__ = ["Engine", "EngineFailure", "encode"]


class EngineFailure(Exception):
    """durable-rules failed or rejected a fact; the message says how."""


_INT64 = 2**63


def _number(v: float | int) -> str:
    if isinstance(v, int):
        return str(v) if -_INT64 <= v < _INT64 else _number(float(v))
    if not math.isfinite(v):
        raise EngineFailure(f"{v!r} is not a finite number; durable-rules cannot compare it")
    text = repr(v)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def encode(value: Any) -> str:
    """``value`` (dicts, lists, text, numbers, None, bools) as JSON that durable-rules accepts."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{encode(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(encode(v) for v in value) + "]"
    raise EngineFailure(f"cannot send a {type(value).__name__} to durable-rules")


def _encode_fact(fact: Mapping[str, Any]) -> str:
    """:func:`encode` for a flat fact, through the C encoder when no number needs an exponent (the usual case)."""
    for v in fact.values():
        t = type(v)
        if (t is float and (not 1e-4 <= abs(v) < 1e16) and v != 0) or (t is int and not -_INT64 <= v < _INT64) \
                or t is dict or t is list:
            return encode(fact)
    return json.dumps(fact, ensure_ascii=False, allow_nan=False)


class _Ruleset(_durable.Ruleset):  # type: ignore[misc]
    """A durable-rules ruleset whose definition and facts are written by :func:`encode`."""

    def __init__(self, name: str, host: Any, definition: Mapping[str, Mapping[str, Any]]) -> None:
        self._actions: dict[str, Any] = {}
        self._name = name
        self._host = host
        plain: dict[str, dict[str, Any]] = {}
        for rule_name, rule in definition.items():
            body = dict(rule)
            self._actions[rule_name] = _durable.Promise(body.pop("run"))
            plain[rule_name] = body
        self._handle = durable_rules_engine.create_ruleset(name, encode(plain))
        self._definition = plain

    def assert_event(self, message: Any) -> Any:
        return self._handle_result(durable_rules_engine.assert_event(self._handle, _encode_fact(message)), message)

    def assert_fact(self, fact: Any) -> Any:
        return self._handle_result(durable_rules_engine.assert_fact(self._handle, _encode_fact(fact)), fact)

    def retract_fact(self, fact: Any) -> Any:
        return self._handle_result(durable_rules_engine.retract_fact(self._handle, _encode_fact(fact)), fact)


class _QuietHost(_durable.Host):  # type: ignore[misc]
    """A durable-rules host without the background dispatcher and timer threads.

    ``Host._run`` starts threads that every 0.2 s pick up queued actions of *any*
    session and fire wall-clock timers. We post to one session at a time and run its
    actions in the posting call, and we use no timers, so the threads could only race us.
    """

    def _run(self) -> None:
        return None


class Engine:
    """One durable-rules ruleset named ``name`` with the JSON rule ``definitions`` (no actions)."""

    def __init__(self, name: str, definitions: Mapping[str, Mapping[str, Any]],
                 on_match: Callable[[str, dict[str, Any]], None]) -> None:
        self.name = name
        self._errors: list[BaseException] = []
        self._host = _QuietHost()
        ruleset_def = {rule: dict(defn, run=self._action(rule, on_match)) for rule, defn in definitions.items()}
        try:
            ruleset = _Ruleset(name, self._host, ruleset_def)
        except durable_rules_engine.error as exc:
            raise EngineFailure(f"durable-rules rejected the rules of {name}: {exc}") from exc
        # what Host.register_rulesets does, for a ruleset built by us (no store callbacks are set)
        if name in self._host._ruleset_directory:
            raise EngineFailure(f"a ruleset named {name} is already registered")
        self._host._ruleset_directory[name] = ruleset
        self._host._ruleset_list.append(ruleset)
        self._ruleset: Any = ruleset

    def _action(self, rule: str, on_match: Callable[[str, dict[str, Any]], None]) -> Callable[[Any], None]:
        errors = self._errors

        def action(c: Any) -> None:
            try:
                on_match(rule, dict(c._m))
            except BaseException as exc:  # durable-rules would swallow it; keep it for the caller
                errors.append(exc)

        return action

    def call(self, method: str, fact: dict[str, Any]) -> None:
        """``post``, ``assert_fact`` or ``retract_fact`` one fact; matches run inside this call."""
        try:
            state = getattr(self._host, method)(self.name, fact)
        except _durable.MessageNotHandledException:
            return  # no rule matches this fact: nothing to do
        except _durable.MessageObservedException as exc:
            raise EngineFailure(f"durable-rules rejected fact {fact.get('id')!r} as already observed") from exc
        except durable_rules_engine.error as exc:  # its parser refused the fact: a bug in encode()
            raise EngineFailure(f"durable-rules rejected fact {fact.get('id')!r}: {exc}") from exc
        if isinstance(state, dict) and "exception" in state:
            raise EngineFailure(f"an action failed inside durable-rules: {state['exception']}")
        # actions of our session ran in the call above; anything still queued would be another session's
        if durable_rules_engine.start_action(self._ruleset._handle):
            raise EngineFailure("durable-rules left actions queued after a post")
        if self._errors:
            failure = self._errors[0]
            raise EngineFailure(f"an action raised {type(failure).__name__}: {failure}") from failure

    def close(self) -> None:
        """Free the durable-rules ruleset."""
        durable_rules_engine.delete_ruleset(self._ruleset._handle)
