"""`molq --host ALIAS ...` against the real sshd testbed: jobs on a remote
workstation (local backend over SSH), their logs read through the transport,
and commands given only a job id finding their way back to that host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.ssh


class Cli:
    def __init__(self, home: Path, cwd: Path, testbed: Any) -> None:
        self.cwd = cwd
        self.env = {**os.environ, "MOLQ_HOME": str(home)}
        self.remote = ["--host", testbed.alias, "--ssh-config", str(testbed.config), "--cluster", "ws"]

    def __call__(self, *args: str, remote: bool = False) -> subprocess.CompletedProcess[str]:
        prefix = self.remote if remote else []
        return subprocess.run(
            [sys.executable, "-m", "molq.cli", *prefix, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def cli(ssh_testbed: Any, tmp_path: Path) -> Cli:
    work = tmp_path / "laptop"
    work.mkdir()
    return Cli(tmp_path / "home", work, ssh_testbed)


def test_remote_job_logs_follow_and_status_by_id(cli: Cli, remote_dir: str, ssh_testbed: Any) -> None:
    submitted = cli(
        "submit",
        "-q",
        "--workdir",
        remote_dir,
        "--command",
        "for i in 1 2 3; do echo line$i; sleep 0.3; done; echo err >&2; id -un",
        remote=True,
    )
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip()
    # No destination flags from here on: molq remembers where cluster "ws" lives.
    followed = cli("logs", job[:8], "-f")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout == f"line1\nline2\nline3\n{ssh_testbed.user}\n"
    assert cli("logs", job, "--tail", "1").stdout == f"{ssh_testbed.user}\n"
    assert cli("logs", job, "--stream", "stderr").stdout == "err\n"
    status = cli("status", job, "--json")
    assert status.returncode == 0 and "warning" not in status.stderr
    record = json.loads(status.stdout)
    assert record["state"] == "succeeded" and record["cluster"] == "ws"
    assert record["job_dir"].startswith(f"{remote_dir}/.molq/jobs/")


def test_remote_cancel_and_workspace(cli: Cli, remote_dir: str, tmp_path: Path) -> None:
    job = cli("submit", "-q", "--workdir", remote_dir, "--", "sleep", "60", remote=True).stdout.strip()
    cancelled = cli("cancel", job, "--json")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)[0]["state"] == "cancelled"

    src = tmp_path / "project"
    (src / "data").mkdir(parents=True)
    (src / "run.py").write_text("print('hi')\n")
    (src / "data" / "x.csv").write_text("1,2\n")
    target = f"{remote_dir}/project"
    synced = cli("workspace", "sync", str(src), "--path", target, remote=True)
    assert synced.returncode == 0, synced.stderr
    listing = json.loads(cli("workspace", "list", "--path", target, "--json", remote=True).stdout)
    assert listing["entries"] == ["data", "run.py"] and listing["host"] == "molq-test"
    back = tmp_path / "back"
    assert cli("workspace", "sync", str(back), "--path", target, "--pull", remote=True).returncode == 0
    assert (back / "data" / "x.csv").read_text() == "1,2\n"
