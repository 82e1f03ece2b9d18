"""Plugin discovery and the calls riskgrade makes into plugins (pluggy).

Plugins are found through the entry-point group ``riskgrade`` (each entry point names a
module or object carrying ``@hookimpl`` functions, see :mod:`riskgrade.hookspecs`).
Built-in behaviour is registered as a plugin too (named ``riskgrade``): it contributes the
layer files shipped in ``riskgrade.rulesets/layers``, if any.

Every call goes to one plugin at a time, so that a failure becomes a
:class:`~riskgrade.exceptions.PluginError` naming the plugin and the hook. Results are
collected in plugin-name order (built-in first), which keeps loading deterministic.

For the graph and monitoring layers::

    from riskgrade._plugins import get_plugins
    modifiers = get_plugins().rollup_modifiers()       # name -> callable
    facts = get_plugins().enrich_facts("lec-generic", facts)

>>> p = Plugins([], entry_points=False)
>>> [i.name for i in p.info()]
['riskgrade']
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any

import attrs
import pluggy

from riskgrade import hookspecs
from riskgrade._compile.expr import Function, builtin_functions
from riskgrade._compile.extension import Method
from riskgrade._compile.methods import builtin_methods
from riskgrade.exceptions import FactError, FunctionError, PluginError

__all__ = ["BUILTIN", "GROUP", "PluginInfo", "Plugins", "get_plugins"]

GROUP = "riskgrade"
BUILTIN = "riskgrade"
_HOOKS = ("riskgrade_layers", "riskgrade_functions", "riskgrade_methods", "riskgrade_rollup_modifiers",
          "riskgrade_enrich_facts")


@attrs.frozen
class PluginInfo:
    """What ``riskgrade plugins`` shows of one plugin: its name, distribution and hooks."""

    name: str
    dist: str
    version: str
    module: str
    hooks: tuple[str, ...]


class _Builtin:
    """riskgrade's own behaviour, registered like any plugin."""

    @hookspecs.hookimpl
    def riskgrade_layers(self) -> list[Any]:
        root = resources.files("riskgrade.rulesets").joinpath("layers")
        if not root.is_dir():
            return []
        return sorted((f for f in root.iterdir() if f.name.endswith((".yaml", ".yml"))), key=lambda f: f.name)


class Plugins:
    """The plugins in effect: entry points of group ``riskgrade`` plus ``extra`` (name, plugin) pairs.

    ``entry_points=False`` skips discovery (for tests building a manager by hand).
    """

    def __init__(self, extra: Iterable[tuple[str, object]] = (), *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self._dist: dict[str, tuple[str, str]] = {}
        #: (the enrich hook's implementations, the enrichers in calling order), see :meth:`_enrichers`
        self._enrich_cache: tuple[list[Any], list[tuple[str, Any]]] | None = None
        self._register(BUILTIN, _Builtin(), ("riskgrade", _version("riskgrade")))
        if entry_points:
            # loaded one by one (not pm.load_setuptools_entrypoints) so that a failure names its plugin
            eps = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: (e.name, e.value))
            for ep in eps:
                if self.pm.get_plugin(ep.name) is not None:
                    continue
                try:
                    obj = ep.load()
                except Exception as e:
                    raise PluginError(f"cannot load entry point {ep.value!r}: {type(e).__name__}: {e}",
                                      plugin=ep.name, hook="load") from e
                dist = ep.dist
                self._register(ep.name, obj, (dist.metadata["Name"], dist.version) if dist else ("?", "?"))
        for name, obj in extra:
            self._register(name, obj, ("-", "-"))

    def _register(self, name: str, obj: object, dist: tuple[str, str]) -> None:
        try:
            self.pm.register(obj, name=name)
            self.pm.check_pending()
        except (pluggy.PluginValidationError, ValueError) as e:
            raise PluginError(str(e), plugin=name, hook="register") from e
        self._dist[name] = dist

    # -- calling --------------------------------------------------------------------------------
    def _names(self) -> list[str]:
        names = [n for n, _ in self.pm.list_name_plugin()]
        return sorted(names, key=lambda n: (n != BUILTIN, n))

    def each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` on every plugin implementing it; ``[(plugin name, result)]`` without Nones."""
        impls = {i.plugin_name: i for i in getattr(self.pm.hook, hook).get_hookimpls()}
        out = []
        for name in self._names():
            impl = impls.get(name)
            if impl is None:
                continue
            try:
                res = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except PluginError:
                raise
            except Exception as e:
                raise PluginError(f"{type(e).__name__}: {e}", plugin=name, hook=hook) from e
            if res is not None:
                out.append((name, res))
        return out

    def layers(self) -> list[tuple[str, Any]]:
        """Every contributed layer source as ``(plugin name, path or traversable)``."""
        out = []
        for name, res in self.each("riskgrade_layers"):
            if isinstance(res, (str, os.PathLike)) or not isinstance(res, Iterable):
                raise PluginError("must return a list of paths or traversables", plugin=name,
                                  hook="riskgrade_layers")
            for src in res:
                if not (isinstance(src, (str, os.PathLike)) or hasattr(src, "read_text")):
                    raise PluginError(f"{src!r} is not a path or a traversable", plugin=name,
                                      hook="riskgrade_layers")
                out.append((name, src))
        return out

    def functions(self) -> dict[str, Function]:
        """The plugins' expression functions by name (clashes are a :class:`PluginError`).

        Each ``impl`` is wrapped so that a failure (anything but a ``FactError`` or
        ``FunctionError``) becomes a :class:`~riskgrade.exceptions.FunctionError` naming the
        function and its plugin, with the original as ``__cause__``; the generated grading code
        then locates it at the rule being graded.
        """
        owners: dict[str, str] = {}
        named = self._named("riskgrade_functions", Function, set(builtin_functions()), owners)
        return {k: attrs.evolve(f, impl=_guard(f.impl, k, owners[k])) for k, f in named.items()}

    def methods(self) -> dict[str, Method]:
        """The plugins' grading methods by name (built-in names cannot be replaced).

        Each ``compute`` is wrapped like a function's ``impl`` (see :meth:`functions`).
        """
        owners: dict[str, str] = {}
        named = self._named("riskgrade_methods", Method, set(builtin_methods()), owners)
        return {k: m if m.compute is None else attrs.evolve(m, compute=_guard(m.compute, k, owners[k]))
                for k, m in named.items()}

    def function_owners(self) -> dict[str, str]:
        """Function name → the plugin that contributes it."""
        return {f: name for name, res in self.each("riskgrade_functions") for f in _as_map(res)}

    def _named(self, hook: str, cls: type[Any], builtin: set[str],
               owner: dict[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        owner = {} if owner is None else owner
        for name, res in self.each(hook):
            if not isinstance(res, (Mapping, Iterable)):
                raise PluginError(f"must return a list of {cls.__name__} objects", plugin=name, hook=hook)
            for key, obj in _as_map(res).items():
                if not isinstance(obj, cls):
                    raise PluginError(f"{obj!r} is not a {cls.__name__}", plugin=name, hook=hook)
                if key in builtin:
                    raise PluginError(f"{key!r} is built in and cannot be replaced", plugin=name, hook=hook)
                if key in owner:
                    raise PluginError(f"{key!r} is already contributed by plugin {owner[key]!r}", plugin=name,
                                      hook=hook)
                owner[key] = name
                out[key] = obj
        return out

    def rollup_modifiers(self) -> dict[str, Callable[..., Any]]:
        """Named roll-up modifiers for the enterprise graph (clashes are a :class:`PluginError`)."""
        out: dict[str, Callable[..., Any]] = {}
        owner: dict[str, str] = {}
        hook = "riskgrade_rollup_modifiers"
        for name, res in self.each(hook):
            if not isinstance(res, Mapping):
                raise PluginError("must return a mapping name -> callable", plugin=name, hook=hook)
            for key, fn in res.items():
                if not callable(fn):
                    raise PluginError(f"modifier {key!r} is not callable", plugin=name, hook=hook)
                if key in owner:
                    raise PluginError(f"modifier {key!r} is already contributed by plugin {owner[key]!r}",
                                      plugin=name, hook=hook)
                owner[key] = name
                out[str(key)] = _guard_hook(fn, str(key), name, hook)
        return out

    def _enrichers(self) -> list[tuple[str, Any]]:
        """The fact enrichers in calling order, worked out again only when the hook's implementations
        changed (a plugin registered): ``enrich_facts`` runs once per graded record."""
        impls = self.pm.hook.riskgrade_enrich_facts.get_hookimpls()
        cached = self._enrich_cache
        if cached is None or cached[0] != impls:
            by_name = {i.plugin_name: i for i in impls}
            cached = self._enrich_cache = (impls, [(n, by_name[n]) for n in self._names() if n in by_name])
        return cached[1]

    def enrich_facts(self, ruleset_id: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        """``facts`` passed through every plugin's enricher in turn (the input is never mutated)."""
        hook = "riskgrade_enrich_facts"
        for name, impl in self._enrichers():
            try:
                res = impl.function(ruleset_id=ruleset_id, facts=facts)
            except Exception as e:
                raise PluginError(f"{type(e).__name__}: {e}", plugin=name, hook=hook) from e
            if res is None:
                continue
            if not isinstance(res, Mapping):
                raise PluginError(f"must return a mapping or None, not {type(res).__name__}", plugin=name,
                                  hook=hook)
            facts = res
        return facts

    def info(self) -> list[PluginInfo]:
        """Every registered plugin, built-in first."""
        out = []
        for name in self._names():
            obj = self.pm.get_plugin(name)
            hooks = tuple(h for h in _HOOKS if any(i.plugin_name == name
                                                    for i in getattr(self.pm.hook, h).get_hookimpls()))
            dist, version = self._dist.get(name, ("-", "-"))
            module = getattr(obj, "__name__", type(obj).__module__ + "." + type(obj).__qualname__)
            out.append(PluginInfo(name, dist, version, str(module), hooks))
        return out


def _guard(fn: Callable[..., Any], function: str, plugin: str) -> Callable[..., Any]:
    """``fn`` raising :class:`FunctionError` (cause kept) for anything but a fact or function error."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (FactError, FunctionError):
            raise
        except Exception as e:
            raise FunctionError(f"{type(e).__name__}: {e}", function=function, plugin=plugin) from e

    return guarded


def _guard_hook(fn: Callable[..., Any], key: str, plugin: str, hook: str) -> Callable[..., Any]:
    """``fn`` raising :class:`PluginError` naming the plugin and the hook (cause kept)."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PluginError:
            raise
        except Exception as e:
            raise PluginError(f"{key!r}: {type(e).__name__}: {e}", plugin=plugin, hook=hook) from e

    return guarded


def _as_map(res: Any) -> dict[str, Any]:
    if isinstance(res, Mapping):
        return {str(k): v for k, v in res.items()}
    return {str(getattr(o, "name", o)): o for o in res}


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "?"


@functools.lru_cache(maxsize=1)
def get_plugins() -> Plugins:
    """The installed plugins (discovered once per process)."""
    return Plugins()
