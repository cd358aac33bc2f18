"""Which part of the checkout may import which: the engine never reaches up into the labs, the app or the
tooling, and the tests and the benchmarks share their helpers through ``harness/`` instead of importing
each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports (absolute names, at any depth in the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending_imports(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    )


@pytest.mark.parametrize(
    ("folder", "pattern", "forbidden"),
    [
        ("cnnviz", "*.py", ("cnnviz.labs", "ui", "views", "bench", "tests", "harness")),  # the engine's core
        ("cnnviz/explain", "*.py", ("cnnviz.labs", "ui", "views", "bench", "tests", "harness")),
        ("cnnviz/labs", "*.py", ("ui", "views", "bench", "tests", "harness")),
        ("bench", "*.py", ("tests",)),
        ("tests", "**/*.py", ("bench",)),
        ("harness", "*.py", ("tests", "bench")),
    ],
)
def test_no_part_imports_what_sits_above_it(folder, pattern, forbidden):
    files = sorted((ROOT / folder).glob(pattern))
    assert files, f"nothing found in {folder}"
    assert offending_imports(files, forbidden) == []
