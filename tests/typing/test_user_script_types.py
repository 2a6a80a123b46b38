"""molq is typed for its users: ``mypy --strict`` passes on a typical script
that uses the installed package (its ``py.typed`` marker and lazy names)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_typical_user_script_passes_mypy_strict(tmp_path: Path) -> None:
    script = tmp_path / "sweep.py"
    script.write_text((HERE / "user_script.py").read_text())
    result = _mypy(str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_use_of_molq_is_caught(tmp_path: Path) -> None:
    # the check above would pass on untyped molq too if mypy saw nothing
    script = tmp_path / "wrong.py"
    script.write_text(
        "import molq as mq\n"
        "r = mq.JobResources(cpu_count='four')\n"
        "s: str = mq.Submitor(mq.Cluster('x', 'local')).list_jobs()\n"
    )
    result = _mypy(str(script), cwd=tmp_path)
    assert result.returncode == 1
    assert 'Argument "cpu_count" to "JobResources" has incompatible type "str"' in result.stdout
    assert "list[JobRecord]" in result.stdout


def test_the_root_types_every_lazy_name() -> None:
    import ast

    import molq

    tree = ast.parse(Path(molq.__file__).read_text())
    typed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    typed.update(alias.asname or alias.name for alias in stmt.names)
    assert typed == set(molq._LAZY)
