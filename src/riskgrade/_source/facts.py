"""Reading fact files: one mapping (YAML or JSON), a list of mappings, or JSON Lines.

Every record read is returned with where it came from, so that an error names the
file and line (JSONL) or index. A line that is not valid JSON, or a blank line, becomes an
error record; the rest of the stream goes on: N records or lines in, N records out.

``-`` is standard input, read as JSON Lines one line at a time (records come out while input
is still arriving; memory is bounded by one line, ``Limits.max_bytes``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, Any

import attrs

from riskgrade._core.limits import Limits, get_limits
from riskgrade._source.jsondoc import JSONDocError, parse_json
from riskgrade._source.yaml import Located, parse_yaml
from riskgrade.exceptions import FactError, FunctionError, RulesetError

__all__ = ["DEFAULT_ID_FIELD", "STDIN", "FactRecord", "function_error_dict", "position", "read_document", "read_facts",
           "record_error_dict", "record_id", "strip_id"]

#: the path that means standard input (JSON Lines, streamed)
STDIN = "-"
#: how records read from standard input are named (``<stdin>:3``)
STDIN_NAME = "<stdin>"


@attrs.frozen
class FactRecord:
    """One input record: ``index`` (0-based position among the records), ``where`` (``file:line`` or
    ``file[index]``), ``line`` (1-based, when the file has lines for its records), and either ``facts``
    or ``error``."""

    index: int
    where: str
    facts: Any = None
    error: FactError | None = None
    line: int | None = None


def read_facts(path: str, limits: Limits | None = None, *, stream: IO[bytes] | None = None) -> Iterator[FactRecord]:
    """Yield the records of a ``.yaml``/``.yml``/``.json`` or ``.jsonl`` file, or of standard input
    (``path`` ``-``, JSON Lines; ``stream`` reads another binary stream as JSON Lines named ``path``).

    Every document (the whole YAML/JSON file, each JSONL line) is read within ``limits``
    (:class:`~riskgrade.Limits`; default the process-wide one): size, values, keys per mapping,
    nesting, integer digits. Duplicate keys are an error (``duplicate-key``), never last-wins; a UTF-8
    byte order mark is skipped.

    Raises :class:`FactError` (code ``unreadable``, ``bad-syntax``, ``duplicate-key``, ``too-large``,
    ``too-deep`` ...) when a whole YAML/JSON document cannot be read; JSONL lines fail one at a time.
    """
    lim = limits or get_limits()
    if stream is not None or path == STDIN:
        yield from _jsonl_stream(stream if stream is not None else sys.stdin.buffer,
                                 STDIN_NAME if path == STDIN else path, lim)
        return
    if path.endswith(".jsonl"):
        yield from _jsonl(path, lim)
        return
    data, located = read_document(path, lim)
    base: tuple[Any, ...] = ()
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data, base = data["records"], ("records",)
    if isinstance(data, dict):
        yield FactRecord(0, path, data, line=None if located is None else located.where(())[0])
    elif isinstance(data, list):
        for i, rec in enumerate(data):
            line = None if located is None else located.where((*base, i))[0]
            where = f"{path}[{i}]" if line is None else f"{path}:{line}"
            if isinstance(rec, dict):
                yield FactRecord(i, where, rec, line=line)
            else:
                yield FactRecord(i, where, error=FactError(f"record must be a mapping, got {type(rec).__name__}",
                                                             record=where, code="not-a-mapping"), line=line)
    else:
        raise FactError(f"{path}: expected a mapping of facts or a list of them", record=path,
                        code="not-a-mapping")


def read_document(path: str, limits: Limits | None = None) -> tuple[Any, Located | None]:
    """The data of the whole YAML or JSON document at ``path``, with its locations (YAML only; None for
    JSON). Raises :class:`FactError` (``unreadable``, ``bad-syntax``, ``duplicate-key``, ``too-large`` ...)."""
    lim = limits or get_limits()
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
    return data, located


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
        yield from _jsonl_stream(fh, path, lim)


def _jsonl_stream(fh: IO[bytes], path: str, lim: Limits) -> Iterator[FactRecord]:
    """One record per line, the line's index and number both kept: a blank line is an error record
    (``blank-line``), never skipped, so that the n-th output always answers the n-th line."""
    for index, raw in enumerate(_lines(fh, lim.max_bytes)):
        lineno = index + 1
        where = f"{path}:{lineno}"
        yield _jsonl_record(raw, index, lineno, where, lim)


def _jsonl_record(raw: bytes | None, index: int, lineno: int, where: str, lim: Limits) -> FactRecord:
    def error(message: str, code: str) -> FactRecord:
        return FactRecord(index, where, error=FactError(message, record=where, code=code), line=lineno)

    if raw is None:
        return error(f"line is longer than {lim.max_bytes} bytes (Limits.max_bytes)", "too-large")
    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
        raw = raw[3:]
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return error(f"not UTF-8: {e.reason}", "not-utf8")
    if not line.strip():
        return error("blank line (every line of JSON Lines is one record)", "blank-line")
    try:
        rec = parse_json(line, where, lim)
    except JSONDocError as e:
        at = f" (column {e.col})" if e.col else ""
        return error(f"{e.message}{at}", "bad-syntax" if e.code == "bad-json" else e.code)
    if not isinstance(rec, dict):
        return error("record must be a JSON object", "not-a-mapping")
    return FactRecord(index, where, rec, line=lineno)


def record_error_dict(rec: FactRecord, err: FactError) -> dict[str, Any]:
    """The JSON error record of ``rec`` (``riskgrade schema record``): code, message, where, position, field."""
    out = {"error": err.code, "message": err.message, "record": rec.where, "index": rec.index, "field": err.field}
    if rec.line is not None:
        out["line"] = rec.line
    return out


#: the key of a fact that names its record (``--id-field``); echoed as ``id`` in every output of that record
DEFAULT_ID_FIELD = "id"


def record_id(facts: Any, id_field: str | None) -> str | int | None:
    """The record's id: ``facts[id_field]`` when it is text or an integer, else None."""
    if not id_field or not isinstance(facts, dict):
        return None
    v = facts.get(id_field)
    return v if isinstance(v, (str, int)) and not isinstance(v, bool) else None


def strip_id(ruleset: Any, facts: Any, id_field: str | None) -> Any:
    """``facts`` without the id field, unless the ruleset takes it as an input (an id is not a fact)."""
    if id_field and isinstance(facts, dict) and id_field in facts and id_field not in ruleset.inputs:
        return {k: v for k, v in facts.items() if k != id_field}
    return facts


def position(rec: FactRecord, rid: str | int | None) -> dict[str, Any]:
    """Where an output's record came from: ``index``, ``record`` (file:line), ``line`` and ``id`` when known."""
    out: dict[str, Any] = {"index": rec.index, "record": rec.where}
    if rec.line is not None:
        out["line"] = rec.line
    if rid is not None:
        out["id"] = rid
    return out


def function_error_dict(err: FunctionError) -> dict[str, Any]:
    """A function or plugin failure as an error record (the rule's own file and line as ``rule_file``/``rule_line``)."""
    return {"error": "function-error", "message": str(err), "function": err.function, "plugin": err.plugin,
            "rule": err.rule, "rule_file": err.file, "rule_line": err.line}
