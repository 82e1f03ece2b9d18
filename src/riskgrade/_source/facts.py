"""Reading fact files: one mapping (YAML or JSON), a list of mappings, or JSON Lines.

Every record read is returned with where it came from, so that an error names the
file and line (JSONL) or index. A line that is not valid JSON becomes an error record;
the rest of the stream goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from riskgrade._core.limits import Limits, get_limits
from riskgrade._source.jsondoc import JSONDocError, parse_json
from riskgrade._source.yaml import Located, parse_yaml
from riskgrade.exceptions import FactError, RulesetError

__all__ = ["FactRecord", "read_facts"]


@attrs.frozen
class FactRecord:
    """One input record: ``index`` (0-based), ``where`` (``file:line`` or ``file[index]``),
    and either ``facts`` or ``error``."""

    index: int
    where: str
    facts: Any = None
    error: FactError | None = None


def read_facts(path: str, limits: Limits | None = None) -> Iterator[FactRecord]:
    """Yield the records of a ``.yaml``/``.yml``/``.json`` or ``.jsonl`` file.

    Every document (the whole YAML/JSON file, each JSONL line) is read within ``limits``
    (:class:`~riskgrade.Limits`; default the process-wide one): size, values, keys per mapping,
    nesting, integer digits. Duplicate keys are an error (``duplicate-key``), never last-wins; a UTF-8
    byte order mark is skipped.

    Raises :class:`FactError` (code ``unreadable``, ``bad-syntax``, ``duplicate-key``, ``too-large``,
    ``too-deep`` ...) when a whole YAML/JSON document cannot be read; JSONL lines fail one at a time.
    """
    lim = limits or get_limits()
    if path.endswith(".jsonl"):
        yield from _jsonl(path, lim)
        return
    located: Located | None = None
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read(lim.max_bytes + 1)
    except (OSError, UnicodeDecodeError) as e:
        raise FactError(f"cannot read {path}: {e}", record=path, code="unreadable") from None
    if path.endswith(".json"):
        try:
            data = parse_json(text, path, lim)
        except JSONDocError as e:
            at = f" (line {e.line}, column {e.col})" if e.line else ""
            raise FactError(f"{path}: {e.message}{at}", record=path,
                            code="bad-syntax" if e.code == "bad-json" else e.code) from None
    else:
        try:
            located = parse_yaml(text, path, lim)
        except RulesetError as e:
            p = e.problems[0]
            more = f" (and {len(e.problems) - 1} more problems)" if len(e.problems) > 1 else ""
            raise FactError(f"{p}{more}", record=path,
                            code="bad-syntax" if p.code in ("yaml-syntax", "yaml-value") else p.code) from None
        data = located.data
    base: tuple[Any, ...] = ()
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data, base = data["records"], ("records",)
    if isinstance(data, dict):
        yield FactRecord(0, path, data)
    elif isinstance(data, list):
        for i, rec in enumerate(data):
            where = f"{path}[{i}]" if located is None else f"{path}:{located.where((*base, i))[0]}"
            if isinstance(rec, dict):
                yield FactRecord(i, where, rec)
            else:
                yield FactRecord(i, where, error=FactError(f"record must be a mapping, got {type(rec).__name__}",
                                                             record=where, code="not-a-mapping"))
    else:
        raise FactError(f"{path}: expected a mapping of facts or a list of them", record=path,
                        code="not-a-mapping")


def _lines(fh: Any, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of ``fh``; None for a line longer than ``max_bytes`` (read past, never held whole)."""
    while True:
        raw = fh.readline(max_bytes + 1)
        if not raw:
            return
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = fh.readline(1 << 20)
            yield None
            continue
        yield raw


def _jsonl(path: str, lim: Limits) -> Iterator[FactRecord]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, streamed line by line
    except OSError as e:
        raise FactError(f"cannot read {path}: {e.strerror}", record=path, code="unreadable") from None
    with fh:
        index = 0
        for lineno, raw in enumerate(_lines(fh, lim.max_bytes), start=1):
            where = f"{path}:{lineno}"
            if raw is None:
                yield FactRecord(index, where, error=FactError(
                    f"line is longer than {lim.max_bytes} bytes (Limits.max_bytes)", record=where, code="too-large"))
                index += 1
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
                raw = raw[3:]
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
                rec = parse_json(line, where, lim)
            except JSONDocError as e:
                at = f" (column {e.col})" if e.col else ""
                yield FactRecord(index, where, error=FactError(
                    f"{e.message}{at}", record=where, code="bad-syntax" if e.code == "bad-json" else e.code))
            else:
                if isinstance(rec, dict):
                    yield FactRecord(index, where, rec)
                else:
                    yield FactRecord(index, where, error=FactError("record must be a JSON object",
                                                                     record=where, code="not-a-mapping"))
            index += 1


def record_error_dict(rec: FactRecord, err: FactError) -> dict[str, Any]:
    return {"error": err.code, "message": err.message, "record": rec.where, "index": rec.index, "field": err.field}
