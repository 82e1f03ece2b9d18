"""Optional top-level ruleset sections owned by later stages.

The compiler knows the sections of the format (inputs, tables, bands, derive, rules, cases ...).
A later stage that adds a section -- the enterprise roll-up (``rollup``), the monitoring
warnings (``warnings``) -- declares a :class:`SectionCompiler` for it, and the front door
(:mod:`riskgrade._api`) passes the compilers to the pipeline (``Options.sections``): the compiler
never imports the stages above it. The result is stored on the compiled ruleset
(``Ruleset.section(name)``). A section compiler returns ``(compiled, problems)``; any problem
makes the whole ruleset fail to load, reported together with the compiler's own problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from riskgrade._source.yaml import Located
from riskgrade.exceptions import Problem

__all__ = ["SectionCompile", "SectionCompiler"]

#: ``compile(data, located, path, context) -> (compiled object, problems)``;
#: ``context`` is the compiler's :class:`~riskgrade._compile.extension.CompileContext`
SectionCompile = Callable[[Any, Located, tuple[Any, ...], Any], tuple[Any, list[Problem]]]


@attrs.frozen
class SectionCompiler:
    """The compiler of one optional top-level section."""

    name: str
    compile: SectionCompile
    doc: str = ""
