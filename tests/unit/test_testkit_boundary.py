"""`bench/` and the test kit stand on their own: neither imports the test tree (`tests`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("tree", ["bench", "testkit"])
def test_the_tree_imports_nothing_from_tests(tree: str) -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / tree).rglob("*.py"))
        for module in imported_modules(path)
        if module == "tests" or module.startswith("tests.")
    }
    assert not offenders, sorted(offenders)


def test_the_check_sees_an_import_of_tests(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text("import os\nfrom tests.support.polling import wait_for\n")
    assert "tests.support.polling" in imported_modules(source)
