"""Static checks of a compiled ruleset, run in the ``check`` stage: proofs at load.

Errors (the ruleset does not load):

- ``band-not-monotone``: a level falls as the score rises along a band set (a row may carry
  ``exception: {cite: ...}`` where the standard says so; a band set marked ``falling: {cite: ...}``,
  a safety score where higher is safer, must instead never rise);
- ``type-compare``: an expression compares text with a number (``grade == 3`` for a text input);
- ``optional-no-default``: an optional input without a default reaches arithmetic, an ordering
  comparison, a function or a method's formula (a record without it would fail at grade time);
- ``bad-case``: a case that expects a result has facts that violate the inputs (wrong type, not
  allowed, unknown);
- ``unknown-rule`` / ``unknown-name`` / ``unknown-code``: a case names a rule, value or error code
  that does not exist.

Warnings (:class:`~riskgrade.exceptions.Problem` with ``severity="warning"``; ``riskgrade
validate --strict`` makes them errors; ``Ruleset.warnings`` lists them):

- ``unreachable-rule``: a ``direct`` rule whose condition holds for no allowed input (a constant, or
  a condition on enum/bool inputs that is false for every combination of their allowed values);
- ``shadowed-rule``: a ``direct`` rule whose level is never above the lowest level a total rule
  (lec, ls, score, mes, matrix) always gives, so it never changes a result;
- ``unused-input``, ``unused-table``: nothing reads the input or the table.

An item marks a deliberate exception with ``allow: {<warning code>: <reason>}`` (inputs, tables
and rules), which the warning then respects.

Every message is in English and Chinese, with a fix hint.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from riskgrade._compile import values
from riskgrade._compile.expr import Compiler, ExprError
from riskgrade._compile.extension import Method
from riskgrade._compile.tables import Bands, Matrix
from riskgrade._core.codes import CODES
from riskgrade._core.i18n import did_you_mean
from riskgrade._core.levels import Level
from riskgrade._source.yaml import Located
from riskgrade.exceptions import FactError, Problem

__all__ = ["WARNING_CODES", "Lint", "lint"]

#: the codes that are warnings
WARNING_CODES = frozenset({"unreachable-rule", "shadowed-rule", "unused-input", "unused-table"})

#: at most this many combinations of allowed values are tried to prove a rule unreachable
MAX_COMBINATIONS = 4096

_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
#: functions that take possibly-null arguments without failing
_NULL_SAFE = frozenset({"present", "count", "any", "all", "len"})

Allowed = Callable[[Mapping[str, Any]], "frozenset[Any] | None"]


class Lint:
    """The static checks of one ruleset. ``errors`` and ``warnings`` are filled by :func:`lint`."""

    def __init__(self, loc: Located, doc: Mapping[str, Any], bands: Mapping[str, Bands],
                 matrices: Mapping[str, Matrix], methods: list[Method], compiler: Compiler,
                 allowed: Allowed, value_names: Iterable[str]) -> None:
        self.loc, self.doc, self.bands, self.matrices = loc, doc, bands, matrices
        self.methods, self.compiler, self.allowed = methods, compiler, allowed
        self.inputs: Mapping[str, Any] = doc.get("inputs") or {}
        self.value_names = set(value_names)
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        #: text -> its expression tree (None: not an expression): the checks walk the same texts
        self._trees: dict[str, ast.expr | None] = {}

    def _parse(self, text: Any) -> ast.expr | None:
        """:func:`_parse`, once per text (the trees are only read)."""
        if not isinstance(text, str):
            return _parse(text)
        try:
            return self._trees[text]
        except KeyError:
            tree = self._trees[text] = _parse(text)
            return tree

    # -- recording --------------------------------------------------------------------------
    def error(self, path: tuple[Any, ...], code: str, en: str, zh: str, hint: str = "", hint_zh: str = "", *,
              key: bool = False) -> None:
        self.errors.append(self.loc.problem(path, code, en, key=key, message_zh=zh, hint=hint, hint_zh=hint_zh))

    def warn(self, item: Mapping[str, Any] | None, path: tuple[Any, ...], code: str, en: str, zh: str,
             hint: str, hint_zh: str, *, key: bool = False) -> None:
        allow = item.get("allow") if isinstance(item, Mapping) else None
        if isinstance(allow, Mapping) and code in allow:
            return
        self.warnings.append(self.loc.problem(path, code, en, key=key, message_zh=zh, severity="warning",
                                              hint=f"{hint}; or mark it: allow: {{{code}: <reason>}}",
                                              hint_zh=f"{hint_zh}; 或注明原因: allow: {{{code}: <原因>}}"))

    # -- the expressions of the document ----------------------------------------------------
    def expressions(self) -> Iterator[tuple[tuple[Any, ...], Any, Method | None]]:
        """``(path, text, method)`` of every expression: derived values, rule expressions, criteria."""
        for name, spec in (self.doc.get("derive") or {}).items():
            if isinstance(spec, dict):
                yield ("derive", name, "expr"), spec.get("expr"), None
            else:
                yield ("derive", name), spec, None
        for i, rule in enumerate(self.doc.get("rules") or ()):
            if not isinstance(rule, dict) or i >= len(self.methods):
                continue
            m = self.methods[i]
            for sub, text, _ in m.all_expressions(rule):
                yield ("rules", i, *sub), text, m
            for j, crit in enumerate(rule.get("criteria") or ()):
                if isinstance(crit, dict) and "when" in crit:
                    yield ("rules", i, "criteria", j, "when"), crit["when"], None

    def _kind(self, name: str) -> str | None:
        """``text`` or ``number`` for an input whose values are certainly of that kind."""
        spec = self.inputs.get(name)
        if not isinstance(spec, Mapping):
            return None
        t = spec.get("type")
        if t in ("number", "integer"):
            return "number"
        if t == "string":
            return "text"
        if t == "enum":
            vals = spec.get("values")
            items = list(vals.keys() if isinstance(vals, dict) else vals or ())
            if items and all(isinstance(v, str) for v in items):
                return "text"
            if items and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
                return "number"
        return None

    def _const_kind(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, str):
                return "text"
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return "number"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self._const_kind(node.operand)
        return None

    def _node_kind(self, node: ast.AST) -> tuple[str | None, str]:
        """The kind of a value (``text``/``number``/None) and what it is, for the message."""
        if isinstance(node, ast.Name):
            return self._kind(node.id), node.id
        k = self._const_kind(node)
        return k, ast.unparse(node)

    def check_types(self) -> None:
        for path, text, _ in self.expressions():
            tree = self._parse(text)
            if tree is None:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Compare):
                    self._compare(path, text, node)

    def _compare(self, path: tuple[Any, ...], text: Any, node: ast.Compare) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                pairs = [(left, e) for e in right.elts]
            elif isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
                pairs = []
            else:
                pairs = [(left, right)]
            for a, b in pairs:
                (ka, wa), (kb, wb) = self._node_kind(a), self._node_kind(b)
                if ka and kb and ka != kb:
                    name, other = (wa, wb) if isinstance(a, ast.Name) else (wb, wa)
                    name_kind = ka if isinstance(a, ast.Name) else kb
                    if name_kind == "text":
                        hint = f"write the value as text in quotes ('{other}'), or declare {name!r} as a number"
                        hint_zh = f"把值写成带引号的文本('{other}'), 或把 {name!r} 声明为数值"
                    else:
                        hint = f"compare {name!r} with a number (without quotes), or declare it as text"
                        hint_zh = f"用数值(不加引号)与 {name!r} 比较, 或把它声明为文本"
                    self.error(path, "type-compare",
                               f"{_one_line(text)!r} compares text with a number: {name!r} is "
                               f"{'text' if name_kind == 'text' else 'a number'}, {other} is "
                               f"{'a number' if name_kind == 'text' else 'text'}; the condition is never true",
                               f"{_one_line(text)!r} 把文本与数值比较: {name!r} 是"
                               f"{'文本' if name_kind == 'text' else '数值'}, {other} 是"
                               f"{'数值' if name_kind == 'text' else '文本'}; 条件永远不成立", hint, hint_zh)
                    return
            left = right

    # -- optional inputs without defaults ---------------------------------------------------
    def check_optional(self) -> None:
        # a record input that a link reads (links:) is handled by the link itself: absent facts give None
        linked = {str(spec.get("facts")) for spec in (self.doc.get("links") or {}).values() if isinstance(spec, Mapping)}
        loose = {n for n, s in self.inputs.items() if isinstance(s, Mapping) and s.get("required") is False
                 and "default" not in s and n not in linked}
        if not loose:
            return
        # a derived value that tests inputs against null guards them where it is itself tested
        derived: dict[str, set[str]] = {}
        for name, spec in (self.doc.get("derive") or {}).items():
            t = self._parse(spec.get("expr") if isinstance(spec, dict) else spec)
            if t is not None:
                derived[name] = _guarded(t)
        for path, text, method in self.expressions():
            tree = self._parse(text)
            if tree is None:
                continue
            guarded = _guarded(tree, derived)
            whole = tree.id if isinstance(tree, ast.Name) and method is not None else None
            hits = sorted({n for n in _unsafe_names(tree) if n in loose} | ({whole} & loose if whole else set()))
            for n in hits:
                if n in guarded:
                    continue
                self.error(path, "optional-no-default",
                           f"optional input {n!r} has no default: a record without it fails here at grade time",
                           f"可选输入 {n!r} 没有默认值: 缺少它的记录在评级时会在此处出错",
                           f"give {n!r} a default (inputs: {n}: default: ...), make it required, or guard it "
                           f"({n} is not None and ...)",
                           f"给 {n!r} 设默认值(default: ...), 改为必填, 或先判断({n} is not None and ...)")

    # -- band sets ----------------------------------------------------------------------------
    def check_monotone(self) -> None:
        for name, spec in (self.doc.get("bands") or {}).items():
            b = self.bands.get(name)
            if b is None or not isinstance(spec, Mapping):
                continue
            rows = b.rows
            order = sorted(range(len(rows)), key=lambda j: (-1e308 if rows[j].get("from") is None
                                                              else rows[j]["from"]))
            falling = isinstance(spec.get("falling"), dict)
            if falling:  # a safety score: the higher, the safer; levels never rise
                self._falling(name, rows, order)
                continue
            prev: tuple[int, int] | None = None
            for j in order:
                r = rows[j]
                if "level" not in r:
                    prev = None
                    continue
                lv = int(Level.parse(r["level"]))
                if prev is not None and lv < prev[1] and not r.get("exception"):
                    lo = r.get("from")
                    was, now = Level(prev[1]).name, Level(lv).name
                    self.error(("bands", name, "rows", j, "level"), "band-not-monotone",
                               f"bands {name!r}: the level falls from {was} to {now} as the score rises past "
                               f"{lo}; levels must never fall as the score rises",
                               f"分级区间 {name!r}: 分值超过 {lo} 后等级从 {Level(prev[1]).zh} 降为 "
                               f"{Level(lv).zh}; 分值升高时等级不得降低",
                               "put the rows in the order of the standard and check the levels; if the standard "
                               "says so, mark the row with exception: {cite: {source: ..., clause: ...}}",
                               "核对各行的等级与标准是否一致; 如标准确实如此规定, 在该行注明 "
                               "exception: {cite: {source: ..., clause: ...}}")
                prev = (j, lv)

    def _falling(self, name: str, rows: tuple[Mapping[str, Any], ...], order: list[int]) -> None:
        prev: int | None = None
        for j in order:
            r = rows[j]
            if "level" not in r:
                prev = None
                continue
            lv = int(Level.parse(r["level"]))
            if prev is not None and lv > prev and not r.get("exception"):
                self.error(("bands", name, "rows", j, "level"), "band-not-monotone",
                           f"bands {name!r} are marked 'falling' (the higher the score, the safer), but the level "
                           f"rises from {Level(prev).name} to {Level(lv).name} past {r.get('from')}",
                           f"分级区间 {name!r} 标为 falling(分值越高越安全), 但分值超过 {r.get('from')} 后等级从 "
                           f"{Level(prev).zh} 升为 {Level(lv).zh}",
                           "check the levels against the standard; if it says so, mark the row with "
                           "exception: {cite: ...}",
                           "核对各行的等级; 如标准确实如此规定, 在该行注明 exception: {cite: ...}")
            prev = lv

    # -- cases ----------------------------------------------------------------------------------
    def check_cases(self) -> None:
        rule_ids = [r.get("id") for r in self.doc.get("rules") or () if isinstance(r, dict)]
        rule_set = {str(r) for r in rule_ids if r is not None}
        reject = self.doc.get("extra_facts", "reject") == "reject"
        for i, case in enumerate(self.doc.get("cases") or ()):
            if not isinstance(case, dict):
                continue
            want = case.get("want")
            if isinstance(want, dict):
                for key in ("fired", "not_fired"):
                    for k, rid in enumerate(want.get(key) or ()):
                        if rid not in rule_set:
                            hint, hint_zh = did_you_mean(str(rid), rule_set, ("rules", "规则"))
                            self.error(("cases", i, "want", key, k), "unknown-rule",
                                       f"case {i + 1} names rule {rid!r} in {key!r}, but there is no such rule",
                                       f"用例 {i + 1} 的 {key!r} 中的规则 {rid!r} 不存在", hint, hint_zh)
                for vname in want.get("values") or {}:
                    if vname not in self.value_names and vname not in self.inputs:
                        hint, hint_zh = did_you_mean(str(vname), self.value_names, ("values", "可用的值"))
                        self.error(("cases", i, "want", "values", vname), "unknown-name",
                                   f"case {i + 1} wants value {vname!r}, but the ruleset computes no such value",
                                   f"用例 {i + 1} 期望的值 {vname!r} 不存在(规则集不计算此值)", hint, hint_zh,
                                   key=True)
            err = case.get("want_error")
            if isinstance(err, dict) and isinstance(err.get("code"), str) and err["code"] not in CODES:
                hint, hint_zh = did_you_mean(err["code"], CODES, ("codes (docs/errors.md)", "错误代码(见 docs/errors.md)"))
                self.error(("cases", i, "want_error", "code"), "unknown-code",
                           f"case {i + 1} wants error code {err['code']!r}, which riskgrade never raises",
                           f"用例 {i + 1} 期望的错误代码 {err['code']!r} 不存在(见 docs/errors.md)", hint, hint_zh)
            facts = case.get("facts")
            if isinstance(want, dict) and isinstance(facts, dict):
                self._case_facts(i, facts, reject)

    def _case_facts(self, i: int, facts: Mapping[str, Any], reject: bool) -> None:
        for name, value in facts.items():
            spec = self.inputs.get(name)
            path = ("cases", i, "facts", name)
            if spec is None:
                if reject and name not in values.META_KEYS and not str(name).startswith("_"):
                    hint, hint_zh = did_you_mean(str(name), self.inputs, ("inputs", "输入项"))
                    self.error(path, "bad-case", f"case {i + 1}: {name!r} is not an input of this ruleset",
                               f"用例 {i + 1}: {name!r} 不是本规则集的输入项", hint, hint_zh, key=True)
                continue
            if value is None and spec.get("required") is False:
                continue
            try:
                values.check_value(spec, value, str(name), self.allowed(spec))
            except FactError as e:
                allowed = self.allowed(spec)
                shown = ", ".join(map(repr, sorted(allowed, key=values.sort_key)))[:200] if allowed else ""
                self.error(path, "bad-case", f"case {i + 1}: fact {name!r}: {e.code}: {e.message}",
                           f"用例 {i + 1}: 事实 {name!r} 不符合输入定义({CODES[e.code].zh if e.code in CODES else e.code}): "
                           f"{e.message}",
                           f"allowed values: {shown}" if shown else f"{name!r} is {spec.get('type')}",
                           f"允许的取值: {shown}" if shown else f"{name!r} 的类型是 {spec.get('type')}")
            except Exception:  # a value check that cannot even run on this value: the grade would fail too
                self.error(path, "bad-case", f"case {i + 1}: fact {name!r} is not a valid {spec.get('type')}",
                           f"用例 {i + 1}: 事实 {name!r} 不是有效的 {spec.get('type')}")

    # -- warnings ---------------------------------------------------------------------------
    def check_rules(self) -> None:
        rules = [r if isinstance(r, dict) else {} for r in self.doc.get("rules") or ()]
        floor = self._floor(rules)
        for i, rule in enumerate(rules):
            if rule.get("method") != "direct" or "when" not in rule:
                continue
            if self._never(rule["when"]):
                self.warn(rule, ("rules", i, "when"), "unreachable-rule",
                          f"rule {rule.get('id')!r} can never fire: its condition is false for every allowed input",
                          f"规则 {rule.get('id')!r} 永远不会触发: 对所有允许的输入取值, 条件都不成立",
                          "check the values the condition compares with the input's allowed values",
                          "核对条件中的取值是否在输入的允许取值之内")
            elif floor is not None and rule.get("level") in Level.__members__ and int(Level[rule["level"]]) <= floor[1]:
                self.warn(rule, ("rules", i, "level"), "shadowed-rule",
                          f"rule {rule.get('id')!r} gives {rule['level']}, but rule {floor[0]!r} always gives "
                          f"{Level(floor[1]).name} or above: it never changes a result",
                          f"规则 {rule.get('id')!r} 给出 {Level[rule['level']].zh}, 而规则 {floor[0]!r} 总是给出 "
                          f"{Level(floor[1]).zh}或更高: 它不会改变任何结果",
                          "raise its level, or remove the rule", "提高它的等级, 或删除这条规则")

    def _floor(self, rules: Sequence[Mapping[str, Any]]) -> tuple[str, int] | None:
        """``(rule id, level)``: the highest level that some total rule always gives at least."""
        best: tuple[str, int] | None = None
        for i, rule in enumerate(rules):
            if i >= len(self.methods):
                continue
            m = self.methods[i]
            low: int | None = None
            if m.banded and rule.get("bands") in self.bands:
                lv = [int(Level.parse(r["level"])) for r in self.bands[rule["bands"]].rows if "level" in r]
                low = min(lv) if lv else None
            elif m.name == "matrix" and rule.get("matrix") in self.matrices:
                low = min(self.matrices[rule["matrix"]].cells.values()) if self.matrices[rule["matrix"]].cells else None
            if low is not None and (best is None or low > best[1]):
                best = (str(rule.get("id")), low)
        return best

    def _never(self, text: Any) -> bool:
        """The condition is false for every combination of its inputs' allowed values (when decidable)."""
        try:
            c = self.compiler.compile(text)
        except ExprError:
            return False
        domains: list[list[Any]] = []
        names = sorted(c.names)
        for n in names:
            spec = self.inputs.get(n)
            if not isinstance(spec, Mapping):
                return False
            if spec.get("type") == "bool":
                dom: list[Any] = [False, True]
            elif spec.get("values") is not None and spec.get("type") in ("enum", "string", "number", "integer"):
                allowed = self.allowed(spec)
                if allowed is None:
                    return False
                dom = sorted(allowed, key=values.sort_key)
            else:
                return False
            if spec.get("required") is False and "default" not in spec:
                dom.append(None)
            domains.append(dom)
        total = 1
        for d in domains:
            total *= len(d)
        if total > MAX_COMBINATIONS:
            return False
        ns = self.compiler.namespace()
        code = compile(c.source, "<riskgrade lint>", "eval")  # generated from a checked expression tree
        for combo in itertools.product(*domains):
            scope = dict(ns)
            scope.update({f"v_{n}": v for n, v in zip(names, combo, strict=True)})
            try:
                if eval(code, scope):
                    return False
            except Exception:
                return False  # fails for some values: not provably unreachable
        return True

    def check_unused(self) -> None:
        names, strings = self._references()
        for name, spec in self.inputs.items():
            if name not in names:
                self.warn(spec, ("inputs", name), "unused-input",
                          f"input {name!r} is read by no rule, derived value or formula",
                          f"输入项 {name!r} 没有被任何规则、派生值或公式使用",
                          "use it in a rule, or remove it from inputs", "在规则中使用它, 或从 inputs 中删除",
                          key=True)
        used_tables = strings | {str(s.get("table")) for s in self.inputs.values() if isinstance(s, Mapping)}
        for s in self.inputs.values():
            for f in (s.get("fields") or {}).values() if isinstance(s, Mapping) else ():
                if isinstance(f, Mapping) and f.get("table"):
                    used_tables.add(str(f["table"]))
        for name, spec in (self.doc.get("tables") or {}).items():
            if name not in used_tables:
                self.warn(spec, ("tables", name), "unused-table",
                          f"table {name!r} is used by no input and no lookup",
                          f"对照表 {name!r} 没有被任何输入项或 lookup 使用",
                          f"give an input 'table: {name}', use lookup('{name}', ...), or remove the table",
                          f"在输入项中写 'table: {name}', 或用 lookup('{name}', ...), 或删除该表", key=True)

    def _references(self) -> tuple[set[str], set[str]]:
        """Names and text constants in every expression-like string outside inputs, tables, bands,
        sources and cases (an over-approximation: a name in any text counts as used)."""
        names: set[str] = set()
        strings: set[str] = set()
        skip = {"inputs", "tables", "bands", "sources", "cases", "matrices", "include", "title", "description",
                "announced", "completeness", "riskgrade", "id", "sector", "jurisdiction", "version", "edition",
                "effective", "control_tiers", "extra_facts", "kind"}
        texts: list[Any] = [v for k, v in self.doc.items() if k not in skip]
        for _path, text, _ in self.expressions():
            texts.append(text)
        for spec in self.inputs.values():  # a list input's per-record derive reads its fields, and tables
            if isinstance(spec, Mapping):
                texts.append(spec.get("derive"))
        for s in set(_strings(texts)):
            strings.add(s)
            tree = self._parse(s)
            if tree is None:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    strings.add(node.value)
        return names, strings


def lint(unit: Lint) -> Lint:
    """Run every check on ``unit``; returns it with ``errors`` and ``warnings`` filled."""
    unit.check_monotone()
    unit.check_types()
    unit.check_optional()
    unit.check_cases()
    unit.check_rules()
    unit.check_unused()
    return unit


def _parse(text: Any) -> ast.expr | None:
    if isinstance(text, bool) or not isinstance(text, str) or not text.strip() or len(text) > 10_000:
        return None
    try:
        return ast.parse("(" + text.strip() + "\n)", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _strings(v: Any) -> Iterator[str]:
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            stack.extend(x.values())
            stack.extend(k for k in x if isinstance(k, str))
        elif isinstance(x, (list, tuple)):
            stack.extend(x)


def _guarded(tree: ast.AST, derived: Mapping[str, set[str]] | None = None) -> set[str]:
    """Names the expression tests against null (``x is None``, ``x != None``, ``present(x)``); testing
    a derived value in ``derived`` tests the names it tests."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            if any(isinstance(p, ast.Constant) and p.value is None for p in parts):
                for p in parts:
                    if isinstance(p, ast.Name):
                        out.add(p.id)
                        out.update((derived or {}).get(p.id, ()))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NULL_SAFE:
            out.update(a.id for a in node.args if isinstance(a, ast.Name))
    return out


def _unsafe_names(tree: ast.AST) -> set[str]:
    """Names used where null fails: arithmetic, ordering comparisons, function arguments."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            out.update(p.id for p in (node.left, node.right) if isinstance(p, ast.Name))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            if isinstance(node.operand, ast.Name):
                out.add(node.operand.id)
        elif isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            for k, op in enumerate(node.ops):
                if isinstance(op, _ORDER):
                    out.update(p.id for p in (parts[k], parts[k + 1]) if isinstance(p, ast.Name))
        elif isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _NULL_SAFE):
            out.update(a.id for a in node.args if isinstance(a, ast.Name))
    return out
