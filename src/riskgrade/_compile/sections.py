"""Optional top-level ruleset sections owned by other modules.

The core ruleset compiler knows the sections of the format v1 (inputs, tables,
bands, derive, rules, cases ...). Modules that add a section -- the enterprise
roll-up (``rollup``), the monitoring warnings (``warnings``) -- register a compiler
for it here. The core compiler calls it with the section's data and the located
document, and stores the result on the compiled ruleset (``Ruleset.section(name)``).

A section compiler returns ``(compiled, problems)``; any problem makes the whole
ruleset fail to load, reported together with the core's problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from riskgrade._source.yaml import Located
from riskgrade.exceptions import Problem

__all__ = ["SectionCompiler", "compile_section", "register", "registered"]

#: ``compile(data, located, path, context) -> (compiled object, problems)``;
#: ``context`` is the core's compile context (names, tables, expression compiler)
SectionCompile = Callable[[Any, Located, tuple[Any, ...], Any], tuple[Any, list[Problem]]]


@attrs.frozen
class SectionCompiler:
    name: str
    compile: SectionCompile
    doc: str = ""


_REGISTRY: dict[str, SectionCompiler] = {}


def register(name: str, compile: SectionCompile, doc: str = "") -> None:
    """Register the compiler of the top-level section ``name`` (import-time, once per name)."""
    _REGISTRY[name] = SectionCompiler(name, compile, doc)


def registered() -> dict[str, SectionCompiler]:
    """The registered section compilers by name."""
    _import_builtin_sections()
    return dict(_REGISTRY)


def compile_section(name: str, data: Any, located: Located, path: tuple[Any, ...],
                    context: Any) -> tuple[Any, list[Problem]]:
    return registered()[name].compile(data, located, path, context)


def _import_builtin_sections() -> None:
    # modules register their sections on import; importing here keeps the order deterministic
    import importlib

    for mod in ("riskgrade._enterprise.rollup", "riskgrade._monitor.rules"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:  # module not written yet in this checkout
            if exc.name != mod:
                raise
