"""Safe YAML loading that remembers where every value came from.

PyYAML's composed nodes carry 0-based marks; we keep them in a map from the
value's path (a tuple of keys and indexes) to a 1-based ``(line, col)`` so that
schema errors found later can be reported as ``file:line:col``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Hashable
from typing import Any

import attrs
import yaml

from riskgrade._core.limits import Limits, get_limits, short_repr
from riskgrade._source import cache as _cache
from riskgrade._source.jsondoc import JSON_STRING
from riskgrade.exceptions import Problem, RulesetError

__all__ = ["Located", "Routed", "load_yaml", "parse_yaml", "syntax_problem"]

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

    def problem(self, path: Path, code: str, message: str, *, key: bool = False, **text: str) -> Problem:
        """A :class:`Problem` at ``path`` (its key with ``key=True``); ``text`` may give ``message_zh``,
        ``hint``, ``hint_zh`` and ``severity``."""
        line, col = self.key_where(path) if key else self.where(path)
        return Problem(code, message, self.file, line, col, **text)


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

    def problem(self, path: Any, code: str, message: str, *, key: bool = False, **text: str) -> Problem:
        r = self._route(path)
        return (r[0].problem(r[1], code, message, key=key, **text) if r
                else Located.problem(self, path, code, message, key=key, **text))

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
    _flow_bound(text, file, lim)
    _scan(text, file, lim)
    try:
        node = _compose(text)
    except RecursionError:
        raise RulesetError([Problem("too-deep", "the document nests too deeply", file, 1, 1)]) from None
    except yaml.MarkedYAMLError as exc:
        raise RulesetError([syntax_problem(exc, file)]) from None
    except yaml.YAMLError as exc:
        raise RulesetError([Problem("yaml-syntax", str(exc), file, 1, 1)]) from None
    marks: dict[Path, tuple[int, int]] = {}
    problems: list[Problem] = []
    if node is None:
        return Located(None, file, {(): (1, 1)})
    constructor = yaml.SafeLoader("")
    budget = [lim.max_nodes]
    try:
        data = _convert(node, (), marks, problems, file, constructor, budget, text)
    except RecursionError:
        # a recursive alias (a: &x [1, *x]) or very deep nesting
        raise RulesetError([Problem("too-deep", "the document nests too deeply (a recursive alias?)",
                                    file, 1, 1)]) from None
    if problems:
        raise RulesetError(problems)
    return Located(data, file, marks)


def _compose(text: str) -> yaml.Node | None:
    """The document's node tree, composed by libyaml when PyYAML has it (about 12 times faster on the
    shipped rulesets: marks, tags, styles and values are the same, tests/test_yamlsrc.py compares them on
    every YAML file of the repository); a document libyaml rejects is composed again by the pure-Python
    composer, so that an error keeps PyYAML's own message and location (and a document only libyaml
    rejects, e.g. a control character in a quoted scalar, is read as before)."""
    if _NodeLoader is not yaml.SafeLoader:
        try:
            return yaml.compose(text, Loader=_NodeLoader)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


#: the composer for :func:`_compose`: libyaml's when present
_NodeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    """A PyYAML syntax error as a ``yaml-syntax`` problem in plain words, in English and Chinese, with
    a fix hint: PyYAML's ``expected <block end>, but found '?'`` becomes "indentation: the key on
    line 3 does not line up with its parent ..." (the parser's own words stay at the end).

    >>> try:
    ...     yaml.compose("a:\\n  b: 1\\n c: 2\\n", Loader=yaml.SafeLoader)
    ... except yaml.MarkedYAMLError as e:
    ...     p = syntax_problem(e, "r.yaml")
    >>> str(p).split(" (")[0]
    'r.yaml:3:2: yaml-syntax: indentation: the key on line 3 does not line up with the keys of its block'
    >>> p.message_zh.split(" (")[0]
    '缩进不一致: 第 3 行的键与所在块的其他键对不齐'
    """
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    ctx_line = exc.context_mark.line + 1 if exc.context_mark is not None else line
    problem, context = str(exc.problem or ""), str(exc.context or "")
    raw = f"{problem} ({context})" if context else problem or str(exc)
    en, zh, hint, hint_zh = _SYNTAX_FALLBACK
    if problem.startswith("expected <block end>"):
        if "block collection" in context and "'?'" in problem:
            en = f"indentation: line {line} is inside the list started on line {ctx_line} but is not a list item"
            zh = f"缩进不一致: 第 {line} 行位于第 {ctx_line} 行开始的列表中, 却不是列表项"
            hint = "start the line with '- ' to add an item, or indent it as far as the keys of the item above"
            hint_zh = "以 '- ' 开头表示新的一项, 或与上一项中的键缩进对齐"
        else:
            en = f"indentation: the key on line {line} does not line up with the keys of its block"
            zh = f"缩进不一致: 第 {line} 行的键与所在块的其他键对不齐"
            hint = (f"indent line {line} exactly as far as the other keys of the block that starts on line "
                    f"{ctx_line} (spaces only)")
            hint_zh = f"第 {line} 行应与第 {ctx_line} 行开始的块中其他键缩进相同(只用空格)"
    elif problem.startswith("mapping values are not allowed"):
        en = f"line {line}: a ':' inside a value, or the line is indented deeper than the key above it"
        zh = f"第 {line} 行: 值中含有冒号, 或此行比上面的键缩进更深"
        hint = "put a value that contains ': ' in quotes (title: \"A: B\"), or fix the indentation"
        hint_zh = "含 ': ' 的值要加引号(title: \"A: B\"), 或改正缩进"
    elif "cannot start any token" in problem and "'\\t'" in problem:
        en = f"line {line} is indented with a tab; YAML indents with spaces only"
        zh = f"第 {line} 行用制表符(Tab)缩进; YAML 只能用空格缩进"
        hint, hint_zh = "replace the tab with spaces", "把制表符换成空格"
    elif "cannot start any token" in problem:
        ch = problem.split("'")[1] if problem.count("'") >= 2 else "?"
        en = f"line {line}: a plain value cannot start with {ch!r}"
        zh = f"第 {line} 行: 不加引号的值不能以 {ch!r} 开头"
        hint, hint_zh = "put the value in quotes", "给这个值加上引号"
    elif "quoted scalar" in context:
        en = f"the quote opened on line {ctx_line} is never closed"
        zh = f"第 {ctx_line} 行开始的引号没有闭合"
        hint, hint_zh = "close the quote on the same line", "在同一行补上结束的引号"
    elif "could not find expected ':'" in problem:
        en = f"line {ctx_line}: a key without ':' (each entry of a mapping is 'key: value')"
        zh = f"第 {ctx_line} 行: 键后缺少冒号(映射中每一项写作 '键: 值')"
        line, col = ctx_line, (exc.context_mark.column + 1 if exc.context_mark is not None else col)
        hint, hint_zh = "add ': ' after the key, or make the line a list item with '- '", "在键后加 ': ', 或以 '- ' 写成列表项"
    elif "flow sequence" in context or "flow mapping" in context:
        close = "]" if "sequence" in context else "}"
        opened = "[" if close == "]" else "{"
        en = f"the {opened!r} opened on line {ctx_line} is not closed with {close!r}"
        zh = f"第 {ctx_line} 行的 {opened!r} 没有用 {close!r} 闭合"
        hint = f"close it with {close!r}, with ',' between items"
        hint_zh = f"用 {close!r} 闭合, 各项之间用逗号分隔"
    elif problem.startswith("found undefined alias"):
        name = problem.split("'")[1] if problem.count("'") >= 2 else "?"
        en = f"alias *{name} refers to no anchor &{name} defined before it"
        zh = f"别名 *{name} 之前没有定义锚点 &{name}"
        hint, hint_zh = f"define &{name} before using *{name}, or write the value out", f"先定义 &{name}, 或直接写出值"
    return Problem("yaml-syntax", f"{en} ({raw})", file, line, col, message_zh=f"{zh} ({raw})",
                   hint=hint, hint_zh=hint_zh)


_SYNTAX_FALLBACK = ("the file is not valid YAML", "YAML 语法错误", "", "")


def load_yaml(path: str, limits: Limits | None = None) -> Located:
    """Read and parse a UTF-8 YAML file (see :func:`parse_yaml`); a byte order mark is allowed.

    A file that parses without a problem is kept in the cross-process cache
    (:mod:`riskgrade._source.cache`, keyed on its bytes; ``RISKGRADE_CACHE=0`` turns it off), so that
    the next process reads its data and locations from there instead of parsing it again."""
    lim = limits or get_limits()
    if _cache.enabled():
        cached = _load_cached(path, lim)
        if cached is not None:
            return cached
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read(lim.max_bytes + 1)
    except UnicodeDecodeError as exc:
        raise RulesetError([Problem("not-utf8", f"file is not UTF-8: {exc.reason}", path, 1, 1)]) from None
    except OSError as exc:
        raise RulesetError([Problem("unreadable", f"cannot read file: {exc.strerror}", path, 0, 0)]) from None
    return parse_yaml(text, path, lim)


def _load_cached(path: str, lim: Limits) -> Located | None:
    """:func:`load_yaml` through the cache; None when the file is not one this path can read exactly
    as :func:`load_yaml` does (too large, not UTF-8, unreadable: the plain path reports it)."""
    try:
        cap = 4 * lim.max_bytes + 3  # UTF-8 bytes of max_bytes characters, and a byte order mark
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > cap:
                return None
            raw = fh.read(size + 1)  # read(n) allocates n bytes first: not the cap
        if len(raw) > cap:
            return None
        # what reading the file as text (utf-8-sig, universal newlines) gives
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError):
        return None
    key = _cache.content_key(raw, "yaml", _reader_hash(), repr((lim.max_bytes, lim.max_nodes,
                                                                 lim.max_mapping_keys, lim.max_depth)))
    hit = _cache.decode_located(_cache.read(key))
    if hit is not None:
        return Located(hit[0], path, hit[1])
    located = parse_yaml(text, path, lim)
    payload = _cache.encode_located(located.data, located.marks)
    if payload is not None:
        _cache.write(key, payload)
    return located


def _reader_hash() -> str:
    """The SHA-256 of this module's source: a change to the reader makes older cache entries foreign."""
    global _READER
    if _READER is None:
        try:
            with open(__file__, "rb") as fh:
                _READER = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            _READER = "?"
    return _READER


_READER: str | None = None


#: what a JSON document holds outside its strings (each string replaced by a NUL); ASCII white space
#: only, as YAML does not take other white space (U+3000, U+00A0) for white space
_JSON_BARE = re.compile(r"[ \t\r\n\[\]{},:0-9a-zE+\-.\0]*")
#: a string not after '[', '{', ',' or ':', or a ':' not after a string: not JSON's token boundaries
_NOT_JSON_BOUNDARY = re.compile(r"[^\[{,: \t\r\n][ \t\r\n]*\0|[^\0 \t\r\n][ \t\r\n]*:")


def _flow_bound(text: str, file: str, lim: Limits) -> None:
    """Reject a JSON-like document with more commas than ``lim.max_nodes`` before libyaml reads it.

    libyaml spends ~1 µs an event: a 600,000-item JSON array (a ``.json`` ruleset) took ~0.6 s to
    reject in :func:`_scan`. This check counts commas at C speed instead (a few milliseconds), and only
    when it is sound: the document opens a flow collection (``[`` or ``{``), outside its double-quoted
    strings it holds only JSON's characters (no comment, single quote, tag, anchor, alias or block
    indicator), every string follows ``[``, ``{``, ``,`` or ``:`` and every ``:`` follows a string.
    Then YAML and JSON cut the text into the same tokens, every comma outside a string is a flow-entry
    separator after an entry of at least one value (PyYAML rejects an empty entry), and so the document
    has more than ``commas`` values: at least as many as :func:`_scan` would count, or it is not valid
    YAML. Either way it is rejected; as ``too-large`` here.

    >>> _flow_bound("[" + "1," * 9 + "1]", "x.json", Limits(max_nodes=5))
    Traceback (most recent call last):
    ...
    riskgrade.exceptions.RulesetError: x.json:1:1: too-large: the document has more than 5 values (Limits.max_nodes; it has at least 10)
    >>> _flow_bound("# " + "1," * 9, "x.yaml", Limits(max_nodes=5))  # a comment: not for this check
    """
    max_nodes = lim.max_nodes
    if text.count(",") < max_nodes:  # the commas outside strings are fewer still
        return
    if text.lstrip(" \t\r\n")[:1] not in ("[", "{"):
        return
    # a YAML double-quoted scalar that starts where a JSON string starts ends where it ends
    bare = JSON_STRING.sub("\0", text)
    if not _JSON_BARE.fullmatch(bare) or _NOT_JSON_BOUNDARY.search(bare):
        return
    commas = bare.count(",")
    if commas >= max_nodes:
        raise RulesetError([Problem("too-large", f"the document has more than {max_nodes} values "
                                    f"(Limits.max_nodes; it has at least {commas + 1})", file, 1, 1)])


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


_SCALAR_NODE, _STR_TAG = yaml.ScalarNode, "tag:yaml.org,2002:str"


def _convert(node: yaml.Node, path: Path, marks: dict[Path, tuple[int, int]],
             problems: list[Problem], file: str, constructor: yaml.SafeLoader, budget: list[int],
             text: str) -> Any:
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
            key = _convert(knode, ("<keynode>",), {}, problems, file, constructor, budget, text)
            if not isinstance(key, Hashable) or isinstance(key, (list, dict)):
                problems.append(Problem("bad-key", "mapping keys must be scalars", file,
                                        knode.start_mark.line + 1, knode.start_mark.column + 1))
                continue
            if key in out:
                problems.append(Problem("duplicate-key", f"key {key!r} appears twice in this mapping", file,
                                        knode.start_mark.line + 1, knode.start_mark.column + 1))
                continue
            marks[("<key>", *path, key)] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _convert(vnode, (*path, key), marks, problems, file, constructor, budget, text)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), marks, problems, file, constructor, budget, text)
                for i, v in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode) and node.style in ('"', "'"):
        # point at the text inside the quotes
        marks[path] = (node.start_mark.line + 1, node.start_mark.column + 2)
    elif isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # a block scalar's text starts on the next line, at its indentation
        marks[path] = _block_start(node, text)
    if node.__class__ is _SCALAR_NODE and node.tag == _STR_TAG:
        # a text scalar is its own value (what SafeConstructor.construct_yaml_str returns), without the
        # constructor's bookkeeping: most values of a ruleset are text
        return node.value
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


def _block_start(node: yaml.ScalarNode, text: str) -> tuple[int, int]:
    # the mark's index counts characters of the text (libyaml's and PyYAML's alike; libyaml's marks
    # carry no buffer)
    buf = text
    pos = node.start_mark.index
    if not buf:
        return (node.start_mark.line + 2, 1)
    nl = buf.find("\n", pos)
    line = node.start_mark.line + 1
    while nl != -1:
        line += 1
        start = nl + 1
        nl = buf.find("\n", start)
        line_text = buf[start: nl if nl != -1 else len(buf)]
        if line_text.strip():
            return (line, len(line_text) - len(line_text.lstrip(" ")) + 1)
    return (node.start_mark.line + 2, 1)
