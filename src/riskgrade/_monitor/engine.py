"""The durable-rules adapter: the only module that imports durable-rules or touches its internals.

A :class:`Engine` holds one durable-rules ruleset in a host without background threads. Facts
are posted (``post``/``assert_fact``/``retract_fact``) one at a time; the matches of the rules
are handed to ``on_match(rule name, matched facts)`` inside the call; any failure inside
durable-rules (which would otherwise be swallowed) is raised as :class:`EngineFailure`.
Upgrading durable-rules means reading this file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import durable_rules_engine  # type: ignore[import-not-found]
from durable import engine as _durable

__all__ = ["Engine", "EngineFailure"]


class EngineFailure(Exception):
    """durable-rules failed or rejected a fact; the message says how."""


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
        self._host.register_rulesets({name: ruleset_def})
        self._ruleset: Any = self._host.get_ruleset(name)

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
