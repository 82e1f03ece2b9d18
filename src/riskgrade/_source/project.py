r"""Reading a project file for admission screening (``riskgrade screen``): one mapping of facts.

A bad fact names the file, line and column of the offending value (YAML) and the field, so that an
applicant or reviewer finds it in the project file, not only in the ruleset's terms.

>>> import pathlib, tempfile, riskgrade
>>> path = str(pathlib.Path(tempfile.mkdtemp()) / "p.yaml")
>>> _ = pathlib.Path(path).write_text("id: P-1\nspecial_places:\n  - {category: 1, distance_m: -5}\n", encoding="utf-8")
>>> facts, located = read_project(path)
>>> facts["id"]
'P-1'
>>> err = riskgrade.FactError("must be at least 0", field="special_places[0].distance_m", code="out-of-range")
>>> locate(err, path, located).record == f"{path}:3:31"
True
"""

from __future__ import annotations

import re
from typing import Any

from riskgrade._core.limits import Limits
from riskgrade._source.facts import read_document
from riskgrade._source.yaml import Located
from riskgrade.exceptions import FactError

__all__ = ["field_path", "locate", "read_project"]

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def read_project(path: str, limits: Limits | None = None) -> tuple[dict[str, Any], Located | None]:
    """The facts of the project file at ``path`` (YAML or JSON: one mapping) and their locations (YAML).

    Raises :class:`FactError` when the file cannot be read or is not one mapping (``not-a-mapping``)."""
    data, located = read_document(path, limits)
    if not isinstance(data, dict):
        raise FactError(f"{path}: a project file is one mapping of facts, not {type(data).__name__}",
                        record=path, code="not-a-mapping")
    return data, located


def field_path(field: str) -> tuple[Any, ...]:
    """``"a.b[2].c"`` → ``("a", "b", 2, "c")``."""
    return tuple(int(i) if i else name for name, i in _PART.findall(field))


def locate(err: FactError, path: str, located: Located | None) -> FactError:
    """``err`` with its record set to ``path:line:col`` of the field it names (the nearest located parent;
    just ``path`` without locations)."""
    where = path
    if located is not None:
        line, col = located.where(field_path(err.field or ""))
        where = f"{path}:{line}:{col}"
    return err.at(record=where)
