"""Reading fact files: one mapping (YAML or JSON), a list of mappings, or JSON Lines.

Every record read is returned with where it came from, so that an error names the
file and line (JSONL) or index. A line that is not valid JSON becomes an error record;
the rest of the stream goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import yaml

from riskgrade.exceptions import FactError

__all__ = ["FactRecord", "read_facts"]


@attrs.frozen
class FactRecord:
    """One input record: ``index`` (0-based), ``where`` (``file:line`` or ``file[index]``),
    and either ``facts`` or ``error``."""

    index: int
    where: str
    facts: Any = None
    error: FactError | None = None


def read_facts(path: str) -> Iterator[FactRecord]:
    """Yield the records of a ``.yaml``/``.yml``/``.json`` or ``.jsonl`` file.

    Raises :class:`FactError` (code ``unreadable`` or ``bad-syntax``) when a whole
    YAML/JSON document cannot be read; JSONL lines fail one at a time.
    """
    if path.endswith(".jsonl"):
        yield from _jsonl(path)
        return
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise FactError(f"cannot read {path}: {e}", record=path, code="unreadable") from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError, ValueError, OverflowError, RecursionError) as e:
        raise FactError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'YAML'}: {e}",
                        record=path, code="bad-syntax") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if isinstance(data, dict):
        yield FactRecord(0, path, data)
    elif isinstance(data, list):
        for i, rec in enumerate(data):
            where = f"{path}[{i}]"
            if isinstance(rec, dict):
                yield FactRecord(i, where, rec)
            else:
                yield FactRecord(i, where, error=FactError(f"record must be a mapping, got {type(rec).__name__}",
                                                             record=where, code="not-a-mapping"))
    else:
        raise FactError(f"{path}: expected a mapping of facts or a list of them", record=path,
                        code="not-a-mapping")


def _jsonl(path: str) -> Iterator[FactRecord]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, streamed line by line
    except OSError as e:
        raise FactError(f"cannot read {path}: {e.strerror}", record=path, code="unreadable") from None
    with fh:
        index = 0
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield FactRecord(index, where, error=FactError(f"not UTF-8: {e.reason}", record=where,
                                                                 code="not-utf8"))
                index += 1
                continue
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, ValueError, RecursionError) as e:
                if not isinstance(e, json.JSONDecodeError):
                    yield FactRecord(index, where, error=FactError(f"not valid JSON: {e}", record=where,
                                                                     code="bad-syntax"))
                    index += 1
                    continue
                yield FactRecord(index, where, error=FactError(f"not valid JSON: {e.msg} (column {e.colno})",
                                                                 record=where, code="bad-syntax"))
            else:
                if isinstance(rec, dict):
                    yield FactRecord(index, where, rec)
                else:
                    yield FactRecord(index, where, error=FactError("record must be a JSON object",
                                                                     record=where, code="not-a-mapping"))
            index += 1


def record_error_dict(rec: FactRecord, err: FactError) -> dict[str, Any]:
    return {"error": err.code, "message": err.message, "record": rec.where, "index": rec.index, "field": err.field}
