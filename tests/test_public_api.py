from __future__ import annotations

import riskgrade
import riskgrade.exceptions as exc


def test_all_is_the_public_names() -> None:
    public = sorted(n for n in dir(riskgrade) if not n.startswith("_") and n not in {"annotations", "exceptions", "hookspecs", "rulesets"})
    assert sorted(riskgrade.__all__) == riskgrade.__all__
    assert public == riskgrade.__all__


def test_exception_tree() -> None:
    for cls in (exc.RulesetError, exc.FactError, exc.GraphError, exc.PluginError, exc.MonitorError):
        assert issubclass(cls, exc.RiskgradeError)
    assert issubclass(exc.RefinementError, exc.RulesetError)


def test_py_typed_is_shipped() -> None:
    from importlib import resources

    assert resources.files("riskgrade").joinpath("py.typed").is_file()
