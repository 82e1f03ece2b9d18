"""Plugin discovery and calls: real entry points, and PluginError naming plugin and hook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from riskgrade._plugins import Plugins, get_plugins
from riskgrade.exceptions import PluginError
from riskgrade.hookspecs import Function, hookimpl

from .test_layers import EXAMPLES, require


class Failing:
    @hookimpl
    def riskgrade_layers(self) -> list[Any]:
        raise OSError("disk on fire")


class Clash:
    @hookimpl
    def riskgrade_functions(self) -> list[Function]:
        return [Function("max", max, (1, None))]


class Enricher:
    def __init__(self, key: str) -> None:
        self.key = key

    @hookimpl
    def riskgrade_enrich_facts(self, ruleset_id: str, facts: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if ruleset_id != "lec-generic":
            return None
        return {**facts, self.key: len(facts)}


class Modifiers:
    @hookimpl
    def riskgrade_rollup_modifiers(self) -> Mapping[str, Any]:
        return {"double": lambda level: level}


class TestDiscovery:
    def test_example_plugins_come_from_entry_points(self) -> None:
        require(*EXAMPLES)
        infos = {i.name: i for i in get_plugins().info()}
        assert infos["riskgrade"].hooks == ("riskgrade_layers",)
        assert (infos["baiyin"].dist, infos["baiyin"].module, infos["baiyin"].hooks) == (
            "riskgrade-baiyin", "riskgrade_baiyin.plugin", ("riskgrade_layers", "riskgrade_functions"))
        assert infos["jingyuan"].dist == "riskgrade-jingyuan"

    def test_functions(self) -> None:
        require("riskgrade-baiyin")
        fns = get_plugins().functions()
        assert fns["crowd_factor"].impl(25, 10) == 2.5
        assert get_plugins().function_owners()["crowd_factor"] == "baiyin"

    def test_builtin_first_then_by_name(self) -> None:
        p = Plugins([("b", Modifiers()), ("a", Enricher("n"))], entry_points=False)
        assert [i.name for i in p.info()] == ["riskgrade", "a", "b"]


class TestPluginError:
    def test_a_failing_hook_names_plugin_and_hook(self) -> None:
        p = Plugins([("broken", Failing())], entry_points=False)
        with pytest.raises(PluginError) as e:
            p.layers()
        assert (e.value.plugin, e.value.hook, str(e.value)) == (
            "broken", "riskgrade_layers", "plugin 'broken', hook riskgrade_layers: OSError: disk on fire")

    def test_a_builtin_function_cannot_be_replaced(self) -> None:
        with pytest.raises(PluginError) as e:
            Plugins([("clash", Clash())], entry_points=False).functions()
        assert str(e.value) == "plugin 'clash', hook riskgrade_functions: 'max' is built in and cannot be replaced"

    def test_unknown_hook_is_refused_at_registration(self) -> None:
        class Typo:
            @hookimpl
            def riskgrade_layer(self) -> list[Any]:
                return []

        with pytest.raises(PluginError) as e:
            Plugins([("typo", Typo())], entry_points=False)
        assert (e.value.plugin, e.value.hook) == ("typo", "register")


class TestGraphHooks:
    def test_enrich_facts_chains_and_never_mutates(self) -> None:
        p = Plugins([("a", Enricher("x")), ("b", Enricher("y"))], entry_points=False)
        facts = {"L": 3}
        assert p.enrich_facts("lec-generic", facts) == {"L": 3, "x": 1, "y": 2}
        assert facts == {"L": 3}
        assert p.enrich_facts("ls-matrix", facts) is facts

    def test_rollup_modifiers(self) -> None:
        p = Plugins([("m", Modifiers())], entry_points=False)
        assert list(p.rollup_modifiers()) == ["double"]
        with pytest.raises(PluginError) as e:
            Plugins([("m", Modifiers()), ("n", Modifiers())], entry_points=False).rollup_modifiers()
        assert str(e.value) == ("plugin 'n', hook riskgrade_rollup_modifiers: modifier 'double' is already "
                                "contributed by plugin 'm'")
