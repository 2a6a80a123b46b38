"""The entry points, global flags and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from molq.cli import EXIT_FAILED, EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE

Molq = Any  # the fixture type lives in conftest.py


def test_help_lists_every_command(molq: Molq) -> None:
    out = molq.ok("--help").stdout
    for command in (
        "submit",
        "list",
        "status",
        "logs",
        "cancel",
        "watch",
        "history",
        "inspect",
        "monitor",
        "queue",
        "cleanup",
        "daemon",
        "clusters",
        "workspace",
    ):
        assert command in out
    assert "exit codes" in out


def test_every_command_has_help(molq: Molq) -> None:
    for command in (
        ["submit"],
        ["list"],
        ["status"],
        ["logs"],
        ["cancel"],
        ["watch"],
        ["history"],
        ["inspect"],
        ["monitor"],
        ["queue"],
        ["cleanup"],
        ["daemon"],
        ["clusters", "list"],
        ["clusters", "show"],
        ["workspace", "sync"],
        ["workspace", "list"],
    ):
        assert "usage: molq" in molq.ok(*command, "--help").stdout


def test_scheduler_choices_are_the_backends() -> None:
    from molq.cli._parser import SCHEDULERS
    from molq.scheduler import SCHEDULER_KINDS

    assert set(SCHEDULERS) == set(SCHEDULER_KINDS)


def test_version(molq: Molq) -> None:
    import molq as mq

    assert molq.ok("--version").stdout.strip() == f"molq {mq.__version__}"


def test_no_command_is_a_usage_error(molq: Molq) -> None:
    result = molq()
    assert result.returncode == EXIT_USAGE
    assert "usage: molq" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["list", "--limit", "0"],
        ["list", "--bogus"],
        ["--scheduler", "condor", "list"],
        ["submit", "--cpus", "many", "--", "true"],
        ["submit", "--env", "NOEQUALS", "--", "true"],
        ["list", "--state", "sleeping"],
        ["watch"],
        ["watch", "--all", "abc"],
        ["submit", "--retry-on-exit-code", "3", "--", "true"],
        ["submit", "--timeout", "3", "--", "true"],
        ["submit"],
        ["submit", "--command", "true", "--", "true"],
        ["submit", "--mem", "lots", "--", "true"],
    ],
)
def test_usage_errors_exit_2_without_traceback(molq: Molq, args: list[str]) -> None:
    result = molq(*args)
    assert result.returncode == EXIT_USAGE, result
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_exit_code_constants_are_the_documented_ones() -> None:
    assert (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT) == (0, 1, 2, 3)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 130 |"):
        assert code in doc


def test_the_molq_script_works_too(molq: Molq) -> None:
    script = Path(sys.executable).with_name("molq")
    if not script.exists():
        script_path = shutil.which("molq")
        if script_path is None:
            pytest.skip("the 'molq' console script is not installed in this environment")
        script = Path(script_path)
    proc = subprocess.run(
        [str(script), "list", "--json"],
        env=molq.env,
        cwd=molq.cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_import_molq_cli_stays_light() -> None:
    code = (
        "import sys, molq.cli._parser; "
        "print(','.join(m for m in ('molq.submitor', 'molq.store', 'json', 'subprocess', 'rich', 'typer', "
        "'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # molq.submitor comes with the package; the rest must wait for a command that needs it.
    assert set(filter(None, out.stdout.strip().split(","))) <= {"molq.submitor"}


def test_global_flags_also_work_after_the_command(molq: Molq, tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    job = molq.submit("--db", str(db), "--cluster", "side", "--", "true")
    assert molq.ok("list", "--json").json() == []  # default store: nothing there
    records = molq.ok("--db", str(db), "list", "--json").json()
    assert [r["job_id"] for r in records] == [job]
    assert records[0]["cluster"] == "side"
