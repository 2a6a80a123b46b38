"""An import inside a function body says why it is not at the top of its module.

Imports belong at the top. One stays inside a function only where it keeps
``import molq`` (or ``molq --help``) cheap, breaks a cycle, or guards a module
a platform may lack, and a comment on its line or the line just above says
which. Imports under a module-level ``if TYPE_CHECKING:`` never run and are
not function-body imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.architecture.import_graph import PACKAGE_ROOT


def _function_body_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def _has_comment(line: str) -> bool:
    """A ``#`` outside a string (an import line holds no string, so any ``#`` counts)."""
    return "#" in line


def uncommented_deferred_imports(path: Path) -> list[int]:
    """Lines of ``path`` holding a function-body import with no comment on it or just above."""
    source = path.read_text()
    lines = source.splitlines()
    missing = []
    for node in _function_body_imports(ast.parse(source, str(path))):
        own = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
        if not any(_has_comment(line) for line in own) and not above.startswith("#"):
            missing.append(node.lineno)
    return missing


def test_every_function_body_import_says_why() -> None:
    missing = [
        f"{path.relative_to(PACKAGE_ROOT.parents[1])}:{line}"
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        for line in uncommented_deferred_imports(path)
    ]
    assert not missing, "imports inside functions with no comment saying why:\n" + "\n".join(missing)


def test_the_reader_finds_uncommented_function_body_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "import os\n"
        "if TYPE_CHECKING:\n"
        "    import json\n"
        "def f():\n"
        "    import sys\n"  # 6: no reason given
        "    import time  # deferred: only here\n"
        "    # deferred: only here\n"
        "    import glob\n"
        "    from a import (\n"  # 10: no reason given
        "        b,\n"
        "    )\n"
        "    class C:\n"
        "        def g(self):\n"
        "            import shlex\n"  # 15: no reason given
        "    return lambda: None\n"
    )
    assert uncommented_deferred_imports(sample) == [6, 10, 15]
