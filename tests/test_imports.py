"""Imports flow one way (import-linter checks the graph in tox -e lint); here: no import inside a
function except of a heavy optional dependency, and `import riskgrade` stays light."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "riskgrade"

#: third-party packages that are heavy or optional (extras): imported only where needed
HEAVY = ("durable", "durable_rules_engine", "hypothesis", "matplotlib", "openpyxl", "fastapi", "uvicorn",
         "starlette", "httpx", "pyarrow", "numpy", "pandas", "polars", "dask", "distributed", "reportlab", "pypdf")
#: riskgrade modules that are adapters of such a dependency (importing them is importing it)
ADAPTERS = ("riskgrade._monitor.engine", "riskgrade._differential", "riskgrade._render", "riskgrade._serve",
            "riskgrade._columnar")


def _function_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool, in_type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            fn = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            tc = in_type_checking or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
            if isinstance(child, (ast.Import, ast.ImportFrom)) and in_function and not in_type_checking:
                names = [a.name for a in child.names] if isinstance(child, ast.Import) else [child.module or ""]
                found.extend((child.lineno, n) for n in names)
            visit(child, fn, tc)

    visit(tree, False, False)
    return found


def test_no_import_inside_a_function_except_a_heavy_dependency() -> None:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        for line, name in _function_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if name.split(".")[0] in HEAVY or name.startswith(ADAPTERS):
                continue
            bad.append(f"{path.relative_to(SRC.parent)}:{line}: {name}")
    assert bad == []


def test_import_riskgrade_loads_no_heavy_dependency() -> None:
    code = f"import riskgrade, sys; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
