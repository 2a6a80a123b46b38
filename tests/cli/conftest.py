"""Run ``molq`` as a user does: a subprocess through its real entry point, against
the local backend, with MOLQ_HOME in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Molq:
    """``molq(*args)`` runs ``python -m molq.cli *args`` in ``cwd`` with ``home`` as MOLQ_HOME."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home = home
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "MOLQ_HOME")}
        self.env["MOLQ_HOME"] = str(home)
        self.argv = [sys.executable, "-m", "molq.cli"]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60) -> Result:
        proc = subprocess.run(
            [*self.argv, *args],
            cwd=self.cwd,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kw: Any) -> Result:
        result = self(*args, **kw)
        assert result.returncode == 0, (args, result)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def submit(self, *args: str) -> str:
        """Submit and return the job id (``-q`` prints only the id)."""
        return self.ok("submit", "-q", *args).stdout.strip()

    def fast_retry_profile(self) -> str:
        """A profile whose retries start 0.1 s after a failure (the default waits 5 s)."""
        (self.home / "config.toml").write_text(
            '[profiles.fast]\nscheduler = "local"\ncluster_name = "local"\n'
            "[profiles.fast.retry]\nmax_attempts = 1\n"
            '[profiles.fast.retry.backoff]\nmode = "fixed"\ninitial_seconds = 0.1\n'
        )
        return "fast"

    def record(self, job_id: str) -> dict[str, Any]:
        return self.ok("status", job_id, "--json").json()


@pytest.fixture
def molq(tmp_path: Path) -> Molq:
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    return Molq(home, work)
