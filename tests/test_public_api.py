from __future__ import annotations

import riskgrade
import riskgrade.exceptions as exc


def test_all_is_the_public_names() -> None:
    public = sorted(n for n in dir(riskgrade) if not n.startswith("_") and n not in {"annotations", "dask", "exceptions", "hookspecs", "rulesets"})
    assert sorted(riskgrade.__all__) == riskgrade.__all__
    assert public == riskgrade.__all__


def test_exception_tree() -> None:
    for cls in (exc.RulesetError, exc.FactError, exc.GraphError, exc.PluginError, exc.MonitorError):
        assert issubclass(cls, exc.RiskgradeError)
    assert issubclass(exc.RefinementError, exc.RulesetError)


def test_py_typed_is_shipped() -> None:
    from importlib import resources

    assert resources.files("riskgrade").joinpath("py.typed").is_file()


# -- one front door ------------------------------------------------------------------------------
import inspect  # noqa: E402
import sys  # noqa: E402
import typing  # noqa: E402

import riskgrade.hookspecs  # noqa: E402


def test_exported_members_live_in_riskgrade() -> None:
    for name in riskgrade.__all__:
        obj = getattr(riskgrade, name)
        if name in exc.__all__:  # the errors (and Problem) live in riskgrade.exceptions
            assert obj.__module__ == "riskgrade.exceptions", name
        elif isinstance(obj, type) or callable(obj):
            assert obj.__module__ == "riskgrade", name
            assert not repr(obj).startswith("<class 'riskgrade._"), name


def test_hookspecs_share_the_front_door_types() -> None:
    assert riskgrade.hookspecs.Function is riskgrade.Function
    assert riskgrade.hookspecs.Method is riskgrade.Method


def _class_hints(cls: type) -> dict[str, typing.Any]:
    # __module__ says "riskgrade", so resolve string annotations in the module that defines the class
    for mod in [m for n, m in list(sys.modules.items()) if n.startswith("riskgrade.")]:
        if vars(mod).get(cls.__name__) is cls:
            try:
                return typing.get_type_hints(cls, vars(mod))
            except NameError:
                continue
    return typing.get_type_hints(cls)


def _types_in(t: typing.Any) -> typing.Iterator[type]:
    if t is None or isinstance(t, (str, typing.TypeVar)) or t is typing.Any or t is Ellipsis:
        return
    if isinstance(t, list):
        for a in t:
            yield from _types_in(a)
        return
    origin = typing.get_origin(t)
    if origin is not None:
        for a in typing.get_args(t):
            yield from _types_in(a)
        if isinstance(origin, type):
            yield origin
        return
    if isinstance(t, type):
        yield t


def _public_api_hints() -> typing.Iterator[tuple[str, typing.Any]]:
    for name in riskgrade.__all__:
        obj = getattr(riskgrade, name)
        if inspect.isfunction(obj):
            for k, v in typing.get_type_hints(obj).items():
                yield f"{name}:{k}", v
        elif isinstance(obj, type) and not issubclass(obj, BaseException):
            for k, v in _class_hints(obj).items():
                if not k.startswith("_"):
                    yield f"{name}.{k}", v
            for attr, member in inspect.getmembers(obj):
                if attr.startswith("_"):
                    continue
                fn = member.fget if isinstance(member, property) else member
                if inspect.isfunction(fn) or inspect.ismethod(fn):
                    for k, v in typing.get_type_hints(fn).items():
                        yield f"{name}.{attr}:{k}", v


def test_every_type_in_the_public_api_is_exported() -> None:
    missing = set()
    for where, hint in _public_api_hints():
        for t in _types_in(hint):
            if t.__module__.startswith("riskgrade") and getattr(riskgrade, t.__name__, None) is not t:
                missing.add(f"{where}: {t.__module__}.{t.__qualname__}")
    assert not missing, sorted(missing)
