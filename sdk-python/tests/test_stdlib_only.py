"""The package needs nothing but the Python standard library: every import of its modules is a
standard-library module or the package itself (the wall DESIGN.md names)."""

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "nsml"


def imported_roots(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def test_every_import_is_standard_library_or_nsml():
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 10
    outside = [
        f"{path.relative_to(SRC)}:{line} imports {root}"
        for path in modules
        for root, line in imported_roots(path)
        if root != "nsml" and root not in sys.stdlib_module_names
    ]
    assert outside == []


def test_the_check_sees_a_third_party_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom numpy import array\n")
    assert [r for r, _ in imported_roots(bad) if r not in sys.stdlib_module_names] == ["numpy"]
