"""Hook specifications for riskgrade plugins (pluggy).

A plugin is a module (or object) with functions named after these hooks and marked
with :data:`hookimpl`, exposed by its distribution as an entry point in the group
``riskgrade``::

    # pyproject.toml of the plugin
    [project.entry-points.riskgrade]
    baiyin = "riskgrade_baiyin.plugin"

    # riskgrade_baiyin/plugin.py
    from riskgrade.hookspecs import hookimpl

    @hookimpl
    def riskgrade_layers():
        return [resources.files("riskgrade_baiyin") / "layers" / "lec-generic.yaml"]

Every hook is optional. A hook that raises, or returns something of the wrong shape,
becomes a :class:`~riskgrade.exceptions.PluginError` naming the plugin and the hook.

**Purity contract.** Expression functions (:func:`riskgrade_functions`), grading methods,
roll-up modifiers and fact enrichers must be pure: the same arguments give the same result,
with no side effects, no clock, no randomness, no I/O and no global state. Grading results
are compared byte for byte and fingerprinted; an impure plugin breaks that silently.

>>> from riskgrade.hookspecs import hookimpl, Function
>>> @hookimpl
... def riskgrade_functions():
...     return [Function("double", lambda x: 2 * x, (1, 1), "double(x): twice x")]
>>> riskgrade_functions()[0].name
'double'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pluggy

from riskgrade._compile.extension import Function, Method

__all__ = [
    "Function",
    "Method",
    "hookimpl",
    "hookspec",
    "riskgrade_enrich_facts",
    "riskgrade_functions",
    "riskgrade_layers",
    "riskgrade_methods",
    "riskgrade_rollup_modifiers",
]

#: marks a hook specification (used by riskgrade itself)
hookspec = pluggy.HookspecMarker("riskgrade")
#: marks a plugin's hook implementation
hookimpl = pluggy.HookimplMarker("riskgrade")


@hookspec
def riskgrade_layers() -> Iterable[Any]:
    """Contribute jurisdiction layer files (``kind: layer`` YAML).

    Each layer declares the ruleset it refines, the versions it accepts and its
    jurisdiction; riskgrade applies it when a ruleset is loaded for that jurisdiction
    or one below it. Ship the YAML inside the plugin package and return
    ``importlib.resources`` traversables (or paths).

    :return: an iterable of paths (``str``/``os.PathLike``) or traversables with ``read_text``.
    """
    raise NotImplementedError  # pragma: no cover - specification only


@hookspec
def riskgrade_functions() -> Iterable[Function] | Mapping[str, Function]:
    """Contribute expression functions callable from rulesets and layers.

    Names must not clash with built-in functions or another plugin's. The function
    must be pure (see the module docstring). The static refinement check cannot look
    inside a function: a table value passed to one is assumed to act in the usual
    direction, and the differential check (``riskgrade check-refinement``) verifies it.

    :return: :class:`Function` objects (or a mapping name → :class:`Function`).
    """
    raise NotImplementedError  # pragma: no cover - specification only


@hookspec
def riskgrade_methods() -> Iterable[Method] | Mapping[str, Method]:
    """Contribute grading methods (``method:`` of a rule). Built-in names cannot be replaced.

    :return: :class:`Method` objects (or a mapping name → :class:`Method`).
    """
    raise NotImplementedError  # pragma: no cover - specification only


@hookspec
def riskgrade_rollup_modifiers() -> Mapping[str, Callable[..., Any]]:
    """Contribute named roll-up modifiers for the enterprise graph.

    The graph engine decides the calling convention of a modifier (see ``_rollup``); the
    callable must be pure.

    :return: a mapping modifier name → callable.
    """
    raise NotImplementedError  # pragma: no cover - specification only


@hookspec
def riskgrade_enrich_facts(ruleset_id: str, facts: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Enrich the facts of one risk point before grading (e.g. fill a value from a register).

    Called for every plugin in turn; each sees the previous plugin's result. Must not
    mutate ``facts``.

    :param ruleset_id: the id of the ruleset about to grade the facts.
    :param facts: the facts as given (read-only).
    :return: a new mapping, or None to leave the facts unchanged.
    """
    raise NotImplementedError  # pragma: no cover - specification only
