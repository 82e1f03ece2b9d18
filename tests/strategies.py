"""Hypothesis strategies shared by the tests: expression trees and their reference values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMES = ("a", "b", "c")

_small = st.integers(min_value=-20, max_value=20)
_leaf = st.one_of(_small.map(str), st.sampled_from(NAMES))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binop = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    cmp = st.tuples(children, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")
    chain = st.tuples(children, children, children).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})")
    boolop = st.tuples(children, st.sampled_from(["and", "or"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    ifexp = st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})")
    neg = children.map(lambda c: f"(-{c})")
    notx = children.map(lambda c: f"(not {c})")
    fn = st.tuples(st.sampled_from(["min", "max"]), children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
    absx = children.map(lambda c: f"abs({c})")
    inx = st.tuples(children, st.lists(_small, min_size=1, max_size=4)).map(
        lambda t: f"({t[0]} in [{', '.join(map(str, t[1]))}])")
    count = st.lists(children, min_size=1, max_size=3).map(lambda cs: f"count({', '.join(cs)})")
    return st.one_of(binop, cmp, chain, boolop, ifexp, neg, notx, fn, absx, inx, count)


expressions = st.recursive(_leaf, _combine, max_leaves=12)
environments = st.fixed_dictionaries({n: _small for n in NAMES})


def reference_eval(text: str, env: dict[str, Any]) -> Any:
    """An independent tree-walking evaluator for the generated subset (the oracle)."""
    import ast

    def ev(n: ast.AST) -> Any:
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant):
            return n.value
        if isinstance(n, ast.Name):
            return env[n.id]
        if isinstance(n, ast.BinOp):
            a, b = ev(n.left), ev(n.right)
            return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b}[type(n.op)]()
        if isinstance(n, ast.UnaryOp):
            v = ev(n.operand)
            return -v if isinstance(n.op, ast.USub) else (not v)
        if isinstance(n, ast.BoolOp):
            if isinstance(n.op, ast.And):
                result: Any = True
                for x in n.values:
                    result = ev(x)
                    if not result:
                        return result
                return result
            result = False
            for x in n.values:
                result = ev(x)
                if result:
                    return result
            return result
        if isinstance(n, ast.Compare):
            left = ev(n.left)
            for op, right_node in zip(n.ops, n.comparators, strict=True):
                right = ev(right_node)
                ok = _compare(op, left, right)
                if not ok:
                    return False
                left = right
            return True
        if isinstance(n, ast.IfExp):
            return ev(n.body) if ev(n.test) else ev(n.orelse)
        if isinstance(n, ast.List):
            return [ev(e) for e in n.elts]
        if isinstance(n, ast.Call):
            args = [ev(a) for a in n.args]
            name = n.func.id  # type: ignore[attr-defined]
            if name == "count":
                return sum(1 for a in args if a)
            return {"min": min, "max": max, "abs": abs}[name](*args)
        raise AssertionError(f"oracle does not know {type(n).__name__}")

    return ev(ast.parse(text, mode="eval"))


def _compare(op: Any, left: Any, right: Any) -> bool:
    import ast
    import operator

    if isinstance(op, ast.In):
        return left in right
    fn = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
          ast.Eq: operator.eq, ast.NotEq: operator.ne}[type(op)]
    return bool(fn(left, right))
