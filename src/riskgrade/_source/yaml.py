"""Safe YAML loading that remembers where every value came from.

PyYAML's composed nodes carry 0-based marks; we keep them in a map from the
value's path (a tuple of keys and indexes) to a 1-based ``(line, col)`` so that
schema errors found later can be reported as ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import attrs
import yaml

from riskgrade._core.limits import Limits, get_limits, short_repr
from riskgrade.exceptions import Problem, RulesetError

__all__ = ["Located", "Routed", "load_yaml", "parse_yaml"]

Path = tuple[Hashable, ...]


@attrs.frozen
class Located:
    """A YAML document as plain Python data plus the location of every value."""

    data: Any
    file: str
    marks: dict[Path, tuple[int, int]]

    def where(self, path: Path) -> tuple[int, int]:
        """The 1-based (line, col) of the value at ``path``, or of its nearest located parent."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def key_where(self, path: Path) -> tuple[int, int]:
        """The location of the *key* of the mapping entry at ``path`` (falls back to the value)."""
        k = ("<key>", *tuple(path))
        if k in self.marks:
            return self.marks[k]
        return self.where(path)

    def problem(self, path: Path, code: str, message: str, *, key: bool = False) -> Problem:
        line, col = self.key_where(path) if key else self.where(path)
        return Problem(code, message, self.file, line, col)


@attrs.frozen
class Routed(Located):
    """A document's locations with some paths routed to another file: content a jurisdiction layer
    added, or tables a ruleset included from a scale library, is located where it was written."""

    routes: tuple[tuple[tuple[Any, ...], Located, tuple[Any, ...]], ...] = ()

    def _route(self, path: Any) -> tuple[Located, tuple[Any, ...]] | None:
        p = tuple(path)
        for prefix, loc, target in self.routes:
            if p[: len(prefix)] == prefix:
                return loc, (*target, *p[len(prefix):])
        return None

    def where(self, path: Any) -> tuple[int, int]:
        r = self._route(path)
        return r[0].where(r[1]) if r else Located.where(self, path)

    def key_where(self, path: Any) -> tuple[int, int]:
        r = self._route(path)
        return r[0].key_where(r[1]) if r else Located.key_where(self, path)

    def problem(self, path: Any, code: str, message: str, *, key: bool = False) -> Problem:
        r = self._route(path)
        return r[0].problem(r[1], code, message, key=key) if r else Located.problem(self, path, code, message,
                                                                                    key=key)

    def with_routes(self, routes: Any) -> Routed:
        """A copy with more routes (the new ones first)."""
        return Routed(self.data, self.file, self.marks, (*tuple(routes), *self.routes))


_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
#: libyaml's event parser when PyYAML has it (about 30 times faster); the budget scan uses it
_EventLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, file: str, limits: Limits | None = None) -> Located:
    """Parse ``text`` (one YAML document) safely, keeping locations.

    The document is first scanned against ``limits`` (default: :func:`riskgrade.set_limits`'s):
    its size, the number of values it expands to (aliases included), the keys of each mapping and
    the nesting depth, so that a hostile document is rejected before it is built.

    Raises :class:`RulesetError` with code ``yaml-syntax``, ``duplicate-key``, ``too-large`` or
    ``too-deep``.
    """
    lim = limits or get_limits()
    if text.startswith("\ufeff"):  # a UTF-8 byte order mark
        text = text[1:]
    if len(text) > lim.max_bytes:
        raise RulesetError([Problem("too-large", f"the document is larger than {lim.max_bytes} characters "
                                    "(Limits.max_bytes)", file, 1, 1)])
    _scan(text, file, lim)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise RulesetError([Problem("too-deep", "the document nests too deeply", file, 1, 1)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise RulesetError([Problem("yaml-syntax", str(exc.problem or exc), file, line, col)]) from None
    except yaml.YAMLError as exc:
        raise RulesetError([Problem("yaml-syntax", str(exc), file, 1, 1)]) from None
    marks: dict[Path, tuple[int, int]] = {}
    problems: list[Problem] = []
    if node is None:
        return Located(None, file, {(): (1, 1)})
    constructor = yaml.SafeLoader("")
    budget = [lim.max_nodes]
    try:
        data = _convert(node, (), marks, problems, file, constructor, budget)
    except RecursionError:
        # a recursive alias (a: &x [1, *x]) or very deep nesting
        raise RulesetError([Problem("too-deep", "the document nests too deeply (a recursive alias?)",
                                    file, 1, 1)]) from None
    if problems:
        raise RulesetError(problems)
    return Located(data, file, marks)


def load_yaml(path: str, limits: Limits | None = None) -> Located:
    """Read and parse a UTF-8 YAML file (see :func:`parse_yaml`); a byte order mark is allowed."""
    lim = limits or get_limits()
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read(lim.max_bytes + 1)
    except UnicodeDecodeError as exc:
        raise RulesetError([Problem("not-utf8", f"file is not UTF-8: {exc.reason}", path, 1, 1)]) from None
    except OSError as exc:
        raise RulesetError([Problem("unreadable", f"cannot read file: {exc.strerror}", path, 0, 0)]) from None
    return parse_yaml(text, path, lim)


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _scan(text: str, file: str, lim: Limits) -> None:
    """Check the document against ``lim`` from its event stream, before any node is built.

    Counts every value, an alias counting as the whole value it repeats, so that "billion laughs"
    is rejected after a few events. A syntax error ends the scan quietly: the composer reports it
    (with the messages and locations it always gave).
    """

    def scan_error(code: str, msg: str, ev: Any) -> RulesetError:
        m = ev.start_mark
        return RulesetError([Problem(code, msg, file, m.line + 1, m.column + 1)])

    loader = _EventLoader(text)
    # one frame per open collection: [expanded size so far, children, is a mapping, anchor, depth below]
    stack: list[list[Any]] = []
    anchors: dict[str, tuple[int, int]] = {}
    open_anchors: set[str] = set()
    total = 0
    max_nodes, max_depth, max_children = lim.max_nodes, lim.max_depth, 2 * lim.max_mapping_keys
    try:
        while True:
            ev = loader.get_event()
            if ev is None:
                break
            cls = ev.__class__
            if cls is _SCALAR or cls is _ALIAS:
                if cls is _SCALAR:
                    size, below = 1, 0
                    if ev.anchor is not None:
                        anchors[ev.anchor] = (1, 0)
                else:
                    if ev.anchor in open_anchors:
                        raise scan_error("too-deep", f"alias *{ev.anchor} repeats a value inside itself", ev)
                    size, below = anchors.get(ev.anchor, (1, 0))
                total += size
                if total > max_nodes:
                    raise scan_error("too-large", f"the document expands to more than {max_nodes} values "
                               "(Limits.max_nodes; aliases count as what they repeat)", ev)
                if stack:
                    top = stack[-1]
                    top[0] += size
                    top[1] += 1
                    if top[4] < below:
                        top[4] = below
                    if len(stack) + below > max_depth:
                        raise scan_error("too-deep", f"the document nests deeper than {max_depth} (Limits.max_depth)", ev)
                    if top[2] and top[1] > max_children:
                        raise scan_error("too-large", f"a mapping has more than {lim.max_mapping_keys} keys "
                                   "(Limits.max_mapping_keys)", ev)
            elif cls in _START:
                total += 1
                if total > max_nodes:
                    raise scan_error("too-large", f"the document has more than {max_nodes} values (Limits.max_nodes)", ev)
                if len(stack) >= max_depth:
                    raise scan_error("too-deep", f"the document nests deeper than {max_depth} (Limits.max_depth)", ev)
                if ev.anchor is not None:
                    open_anchors.add(ev.anchor)
                stack.append([1, 0, cls is yaml.MappingStartEvent, ev.anchor, 0])
            elif cls in _END:
                size, _, _, anchor, below = stack.pop()
                if anchor is not None:
                    open_anchors.discard(anchor)
                    anchors[anchor] = (size, below + 1)
                if stack:
                    top = stack[-1]
                    top[0] += size
                    top[1] += 1
                    if top[4] < below + 1:
                        top[4] = below + 1
                    if top[2] and top[1] > max_children:
                        raise scan_error("too-large", f"a mapping has more than {lim.max_mapping_keys} keys "
                                   "(Limits.max_mapping_keys)", ev)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml's own nesting limit (1000)
            m = exc.problem_mark
            line, col = (m.line + 1, m.column + 1) if m else (1, 1)
            raise RulesetError([Problem("too-deep", f"the document nests deeper than {max_depth} (Limits.max_depth)",
                                        file, line, col)]) from None
        return
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def _convert(node: yaml.Node, path: Path, marks: dict[Path, tuple[int, int]],
             problems: list[Problem], file: str, constructor: yaml.SafeLoader, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise RulesetError([Problem("too-large", "document expands to too many values (aliases?)", file,
                                    node.start_mark.line + 1, node.start_mark.column + 1)])
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        problems.append(Problem("yaml-value", f"unsupported tag {node.tag}", file, node.start_mark.line + 1,
                                node.start_mark.column + 1))
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        try:
            constructor.flatten_mapping(node)
        except yaml.constructor.ConstructorError as exc:
            problems.append(Problem("yaml-value", str(exc.problem), file, node.start_mark.line + 1,
                                    node.start_mark.column + 1))
            return None
        for knode, vnode in node.value:
            key = _convert(knode, ("<keynode>",), {}, problems, file, constructor, budget)
            if not isinstance(key, Hashable) or isinstance(key, (list, dict)):
                problems.append(Problem("bad-key", "mapping keys must be scalars", file,
                                        knode.start_mark.line + 1, knode.start_mark.column + 1))
                continue
            if key in out:
                problems.append(Problem("duplicate-key", f"key {key!r} appears twice in this mapping", file,
                                        knode.start_mark.line + 1, knode.start_mark.column + 1))
                continue
            marks[("<key>", *path, key)] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _convert(vnode, (*path, key), marks, problems, file, constructor, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), marks, problems, file, constructor, budget) for i, v in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode) and node.style in ('"', "'"):
        # point at the text inside the quotes
        marks[path] = (node.start_mark.line + 1, node.start_mark.column + 2)
    elif isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # a block scalar's text starts on the next line, at its indentation
        marks[path] = _block_start(node)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append(Problem("yaml-value", str(exc.problem), file, node.start_mark.line + 1,
                                node.start_mark.column + 1))
    except (ValueError, OverflowError) as exc:  # e.g. 2020-02-30, or an integer with too many digits
        problems.append(Problem("yaml-value", f"bad value: {str(exc)[:200]}", file, node.start_mark.line + 1,
                                node.start_mark.column + 1))
    except Exception:  # PyYAML's own constructors fail on some odd values (!!timestamp 'x')
        problems.append(Problem("yaml-value", f"bad {node.tag.rsplit(':', 1)[-1]} value {short_repr(node.value)}",
                                file, node.start_mark.line + 1, node.start_mark.column + 1))
    return None


def _block_start(node: yaml.ScalarNode) -> tuple[int, int]:
    buf = node.start_mark.buffer
    pos = node.start_mark.pointer
    if not buf:
        return (node.start_mark.line + 2, 1)
    nl = buf.find("\n", pos)
    line = node.start_mark.line + 1
    while nl != -1:
        line += 1
        start = nl + 1
        nl = buf.find("\n", start)
        text = buf[start: nl if nl != -1 else len(buf)]
        if text.strip():
            return (line, len(text) - len(text.lstrip(" ")) + 1)
    return (node.start_mark.line + 2, 1)
