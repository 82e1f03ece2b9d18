"""Find every error code the source of ``riskgrade`` can raise, by reading its syntax tree.

A code is a string constant (``lower-case-with-hyphens``) passed

- as the ``code=`` keyword of any call (``FactError(..., code=...)``, ``rec.update(code=...)``);
- in the ``code`` position of any function or class whose parameters name ``code`` (``Problem``,
  ``ExprError``, ``located.problem``, ``self.p``, ``bad``, ``self._err``, ``ck.add``, ``self.fail``,
  and any helper added later with a ``code`` parameter); a call resolves to the definition in the
  same file first, then to every definition of that name;
- as the value of a ``"code"`` key, or of an ``"error"`` key (with a hyphen), in a dict literal;
- as ``code='...'`` inside a string (source generated at compile time).

Both branches of ``a if c else b`` and ``a or b`` count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

CODE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")
IN_TEXT = re.compile(r"""\bcode=['"]([a-z][a-z0-9-]*)['"]""")
#: functions whose ``code`` parameter is not an error code: a GB/T 2260 area code or a USCC
NOT_ERROR_CODES = frozenset({"_bad", "get", "chain", "region_kind", "counts", "walk", "_is_uscc"})


def _code_positions(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    return params.index("code") if "code" in params else None


def _sinks(tree: ast.AST) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != "__init__":
            i = _code_positions(node)
            if i is not None:
                out.setdefault(node.name, set()).add(i)
        elif isinstance(node, ast.ClassDef):
            inits = [s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"]
            if inits:
                i = _code_positions(inits[0])
            else:  # an attrs or dataclass class: its annotated fields are the parameters, in order
                fields = [s.target.id for s in node.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
                i = fields.index("code") if "code" in fields else None
            if i is not None:
                out.setdefault(node.name, set()).add(i)
    return out


def _constants(expr: ast.expr, where: str, found: dict[str, list[str]], dynamic: list[str]) -> None:
    if isinstance(expr, ast.IfExp):
        _constants(expr.body, where, found, dynamic)
        _constants(expr.orelse, where, found, dynamic)
    elif isinstance(expr, ast.BoolOp):
        for v in expr.values:
            _constants(v, where, found, dynamic)
    elif isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        if CODE.match(expr.value):
            found.setdefault(expr.value, []).append(where)
        else:
            dynamic.append(f"{where}: {expr.value!r} is not a code")
    elif isinstance(expr, ast.JoinedStr):
        dynamic.append(f"{where}: a code built by an f-string cannot be checked")


def scan(package: Path) -> tuple[dict[str, list[str]], list[str]]:
    """``(codes, doubtful)``: every code with the places (``file:line``) it is raised, and the
    raise sites whose code is not a plain constant (for ``code=`` only, where the position is sure)."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(package.rglob("*.py"))}
    local = {p: _sinks(t) for p, t in trees.items()}
    every: dict[str, set[int]] = {}
    for s in local.values():
        for name, idx in s.items():
            every.setdefault(name, set()).update(idx)
    found: dict[str, list[str]] = {}
    dynamic: list[str] = []
    ignore: list[str] = []
    for path, tree in trees.items():
        rel = path.relative_to(package.parent).as_posix()
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if name not in NOT_ERROR_CODES:
                    for i in local[path].get(name) or every.get(name, ()):
                        if i < len(node.args):
                            _constants(node.args[i], where, found, ignore)
                for kw in node.keywords:
                    if kw.arg == "code":
                        _constants(kw.value, where, found, dynamic)
            elif isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if not isinstance(k, ast.Constant):
                        continue
                    # "error" also holds class names and words ("GraphError", "错误"): codes only
                    code_like = isinstance(v, ast.Constant) and "-" in str(v.value)
                    if k.value == "code" or (k.value == "error" and code_like):
                        _constants(v, where, found, dynamic)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for m in IN_TEXT.finditer(node.value):
                    found.setdefault(m.group(1), []).append(where)
    return found, dynamic
