"""A cache of parsed source files across processes, keyed on their content.

Reading a ruleset's YAML is most of the time a shipped ruleset takes to load in a fresh process
(libyaml composes the nodes; turning them into data with a location for every value is Python).
This cache keeps what :func:`riskgrade._source.yaml.parse_yaml` returns for a file -- the data
and the 1-based location of every value -- as **JSON**, not pickles: reading an entry builds
text, numbers, lists, mappings and dates, never objects with behaviour, so an entry cannot run
code. Each entry is one file named by its key and holds, on its first line, the key again and the
SHA-256 of the rest; an entry whose key, hash, format or shape does not check out is ignored
(and replaced by the next write), so a torn, corrupt or foreign file never crashes a load and
never yields another document.

The key is the SHA-256 of: the file's bytes, the limits that bound its parsing (``max_bytes``,
``max_nodes``, ``max_mapping_keys``, ``max_depth``), the SHA-256 of the YAML reader's own source
(``_source/yaml.py``), the cache format, riskgrade's version, PyYAML's version and whether libyaml
is present, and Python's version. Only documents that parsed without a problem are cached; a file with an error is read
(and its error reported) every time.

Where: ``RISKGRADE_CACHE_DIR``, else the platform's cache directory (``$XDG_CACHE_HOME/riskgrade``
or ``~/.cache/riskgrade``; ``~/Library/Caches/riskgrade`` on macOS; ``%LOCALAPPDATA%\\riskgrade``
on Windows). ``RISKGRADE_CACHE=0`` turns it off. On POSIX the directory is created ``0700`` and
used only while it belongs to the current user and nobody else may write to it (a shared or
world-writable directory is not read: whoever can write an entry decides what a ruleset says).
Entries are written to a temporary file in the same directory and moved into place with
``os.replace``, so a reader sees a whole entry or none; two processes writing the same entry
write the same bytes. A directory that cannot be written is only read.

>>> key = content_key(b"a: 1\\n", "yaml")
>>> len(key), key == content_key(b"a: 1\\n", "yaml"), key == content_key(b"a: 2\\n", "yaml")
(64, True, False)
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import yaml

__all__ = ["FORMAT", "cache_dir", "content_key", "decode_located", "enabled", "encode_located", "read", "write"]

#: the layout of an entry; a change makes every older entry foreign
FORMAT = "riskgrade-cache-1"
_MAGIC = FORMAT.encode() + b"\n"
#: an entry larger than this is not read (a parsed ruleset is a few hundred kB)
_MAX_ENTRY = 256 * 1024 * 1024


def enabled() -> bool:
    """False when ``RISKGRADE_CACHE`` is ``0`` (or ``false``, ``no``, ``off``)."""
    return os.environ.get("RISKGRADE_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> str:
    """``RISKGRADE_CACHE_DIR``, or the platform's cache directory for riskgrade."""
    env = os.environ.get("RISKGRADE_CACHE_DIR")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "riskgrade", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/riskgrade")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "riskgrade")


def _salt() -> bytes:
    """What, besides a file's bytes and the caller's context, decides what reading it yields."""
    global _SALT
    if _SALT is None:
        # the package's own version, without importlib.metadata (a tenth of the start-up of a process)
        dist = str(getattr(sys.modules.get("riskgrade"), "__version__", "unknown"))
        parts = (FORMAT, dist, yaml.__version__, str(hasattr(yaml, "CSafeLoader")), sys.version)
        _SALT = "\0".join(parts).encode()
    return _SALT


_SALT: bytes | None = None


def content_key(content: bytes, *context: str) -> str:
    """The key of an entry for ``content`` read with ``context`` (e.g. the kind and the limits)."""
    h = hashlib.sha256(_salt())
    for c in context:
        h.update(b"\0" + c.encode())
    h.update(b"\0\0")
    h.update(content)
    return h.hexdigest()


def _usable(path: str, create: bool) -> bool:
    """The directory exists (or was made), is ours and nobody else may write to it."""
    try:
        if create:
            os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return False
    if not os.path.isdir(path):
        return False
    if os.name == "posix":
        return st.st_uid == os.geteuid() and not st.st_mode & 0o022
    return True


def read(key: str) -> Any:
    """The JSON payload stored under ``key``, or None (no entry, cache off, or an entry that does not
    check out)."""
    if not enabled():
        return None
    d = cache_dir()
    if not _usable(d, create=False):
        return None
    try:
        with open(os.path.join(d, key + ".json"), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > _MAX_ENTRY:
                return None
            blob = fh.read(size + 1)  # read(n) allocates n bytes first: not the cap
    except OSError:
        return None
    if len(blob) > _MAX_ENTRY or not blob.startswith(_MAGIC):
        return None
    head, sep, payload = blob[len(_MAGIC):].partition(b"\n")
    try:
        meta = json.loads(head)
        if not sep or meta.get("key") != key or meta.get("sha256") != hashlib.sha256(payload).hexdigest():
            return None
        return json.loads(payload.decode("utf-8", "surrogatepass"), object_hook=_untag)
    except Exception:  # not JSON, or a tag that does not decode: not an entry of ours
        return None


def write(key: str, payload: Any) -> bool:
    """Store ``payload`` (JSON, tagged by :func:`encode_located`) under ``key``, atomically; False when
    the cache is off or the directory cannot be written (never an error)."""
    if not enabled():
        return False
    d = cache_dir()
    if not _usable(d, create=True):
        return False
    try:
        # surrogatepass: a YAML escape may give a lone surrogate ("\ud800"), which plain UTF-8 refuses
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):  # not JSON data: not cached
        return False
    head = json.dumps({"key": key, "sha256": hashlib.sha256(body).hexdigest()}).encode()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=d)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + head + b"\n" + body)
        os.replace(tmp, os.path.join(d, key + ".json"))
        return True
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


# -- a parsed document as JSON ------------------------------------------------------------------
# Values that JSON has (text, numbers, booleans, null, lists, mappings with text keys) are written as
# they are; a date, a timestamp, bytes or a mapping with other keys is a one-key object whose key starts
# with NUL (which no text key of a plain mapping may then start with). The locations are a flat list of
# (line, col) in the order the YAML reader records them: rebuilt by walking the data the same way.
_DATE, _TIME, _BYTES, _MAP = "\0d", "\0t", "\0b", "\0m"


class _Unencodable(Exception):
    pass


def encode_located(data: Any, marks: dict[Any, tuple[int, int]]) -> dict[str, Any] | None:
    """``{"data": ..., "marks": [line, col, ...]}`` for a parsed document, or None when it holds a value
    JSON cannot carry back exactly (then it is not cached)."""
    flat: list[int] = []
    try:
        enc = _encode(data, (), marks, flat)
    except (_Unencodable, KeyError):
        return None
    return {"data": enc, "marks": flat}


def _encode(v: Any, path: tuple[Any, ...], marks: dict[Any, tuple[int, int]], flat: list[int]) -> Any:
    flat.extend(marks[path])
    cls = v.__class__
    if cls is str or cls is bool or v is None or cls is int:
        return v
    if cls is float:
        return v
    if cls is dict:
        plain = all(k.__class__ is str and not k.startswith("\0") for k in v)
        items = []
        for k, x in v.items():
            flat.extend(marks[("<key>", *path, k)])
            items.append((k, _encode(x, (*path, k), marks, flat)))
        if plain:
            return dict(items)
        return {_MAP: [[_scalar(k), x] for k, x in items]}
    if cls is list:
        return [_encode(x, (*path, i), marks, flat) for i, x in enumerate(v)]
    return _scalar(v)


def _scalar(v: Any) -> Any:
    cls = v.__class__
    if cls is str or cls is bool or v is None or cls is int or cls is float:
        return v
    if cls is datetime.date:
        return {_DATE: v.isoformat()}
    if cls is datetime.datetime:
        return {_TIME: v.isoformat()}
    if cls is bytes:
        return {_BYTES: base64.b64encode(v).decode("ascii")}
    raise _Unencodable(cls.__name__)


def _untag(d: dict[str, Any]) -> Any:
    if len(d) == 1:
        (k, v), = d.items()
        if k.startswith("\0"):
            if k == _DATE:
                return datetime.date.fromisoformat(v)
            if k == _TIME:
                return datetime.datetime.fromisoformat(v)
            if k == _BYTES:
                return base64.b64decode(v, validate=True)
            if k == _MAP:
                return {k2: x for k2, x in v}
            raise ValueError(f"unknown tag {k!r}")
    return d


def decode_located(payload: Any) -> tuple[Any, dict[Any, tuple[int, int]]] | None:
    """The data and locations of an entry written by :func:`encode_located`; None when it does not fit."""
    try:
        data, flat = payload["data"], payload["marks"]
        if not isinstance(flat, list) or len(flat) % 2 or not all(x.__class__ is int for x in flat):
            return None
        marks: dict[Any, tuple[int, int]] = {}
        it = iter(zip(flat[0::2], flat[1::2], strict=True))
        _replay(data, (), marks, it)
        if next(it, None) is not None:
            return None
        return data, marks
    except Exception:  # too few locations, or a payload of another shape
        return None


def _replay(v: Any, path: tuple[Any, ...], marks: dict[Any, tuple[int, int]],
            it: Iterator[tuple[int, int]]) -> None:
    marks[path] = next(it)
    cls = v.__class__
    if cls is dict:
        for k, x in v.items():
            marks[("<key>", *path, k)] = next(it)
            _replay(x, (*path, k), marks, it)
    elif cls is list:
        for i, x in enumerate(v):
            _replay(x, (*path, i), marks, it)
