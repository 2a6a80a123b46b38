"""Sanity checks of the Slurm testbed itself, through the plain Slurm commands.

If these fail, molq's Slurm integration tests cannot be trusted either.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slurm


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def sacct_row(job_id: str) -> list[str]:
    out = run(
        "sacct", "-X", "-n", "-P", "--noconvert", "-o", "JobIDRaw,State,ExitCode", "-j", job_id, "-S", "now-1days"
    )
    rows = [line.split("|") for line in out.splitlines() if line.split("|")[0] == job_id]
    return rows[0] if rows else []


def test_failing_job_reaches_sacct_as_failed_3(slurm_testbed: Any, tmp_path: Path) -> None:
    job_id = run(
        "sbatch",
        "--parsable",
        "--job-name=molq-testbed-exit3",
        f"--chdir={tmp_path}",
        "--output=/dev/null",
        f"--partition={slurm_testbed.partition}",
        "--wrap",
        "exit 3",
    ).strip()
    assert job_id.isdigit(), job_id

    deadline = time.monotonic() + 60
    row: list[str] = []
    while time.monotonic() < deadline:
        row = sacct_row(job_id)
        if row and row[1] not in ("PENDING", "RUNNING", "REQUEUED"):
            break
        time.sleep(0.5)
    assert row == [job_id, "FAILED", "3:0"]


def test_held_job_is_pending_in_squeue_until_cancelled(slurm_testbed: Any) -> None:
    job_id = run(
        "sbatch", "--parsable", "--hold", "--job-name=molq-testbed-held", "--output=/dev/null", "--wrap", "true"
    ).strip()
    try:
        out = run("squeue", "-h", "-o", "%i|%T|%r", "-j", job_id)
        assert out.strip() == f"{job_id}|PENDING|JobHeldUser"
    finally:
        subprocess.run(["scancel", job_id], check=True, timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sacct_row(job_id)[1:2] != ["CANCELLED by 0"]:
        time.sleep(0.5)
    assert sacct_row(job_id)[1] == "CANCELLED by 0"
