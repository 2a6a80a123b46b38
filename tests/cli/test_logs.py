"""molq logs: whole, --tail, --stream, --follow."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

Molq = Any  # the fixture type lives in conftest.py


def finished(molq: Molq, job: str) -> None:
    assert molq("watch", job, "--timeout", "30").returncode in (0, 1)


def test_logs_streams_and_tail(molq: Molq) -> None:
    job = molq.submit("--command", "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done")
    finished(molq, job)
    assert molq.ok("logs", job).stdout == "".join(f"out{i}\n" for i in range(1, 6))
    assert molq.ok("logs", job, "--stream", "stderr").stdout == "".join(f"err{i}\n" for i in range(1, 6))
    assert molq.ok("logs", job, "--tail", "2").stdout == "out4\nout5\n"
    both = molq.ok("logs", job[:8], "--stream", "both", "--tail", "1").stdout
    assert both == "[stdout] out5\n[stderr] err5\n"


def test_logs_of_unknown_job(molq: Molq) -> None:
    result = molq("logs", "nope")
    assert result.returncode == 1 and "not found" in result.stderr


def test_follow_prints_lines_as_they_come_and_ends_with_the_job(molq: Molq) -> None:
    job = molq.submit("--command", "for i in 1 2 3; do echo tick$i; sleep 0.6; done; exit 2")
    proc = subprocess.Popen(
        [*molq.argv, "logs", job, "-f"],
        cwd=molq.cwd,
        env=molq.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    start = time.monotonic()
    first = proc.stdout.readline()
    first_at = time.monotonic() - start
    rest = proc.stdout.read()
    proc.wait(timeout=30)
    total = time.monotonic() - start
    assert first == "tick1\n"
    assert rest == "tick2\ntick3\n"
    assert first_at < total - 0.8, "the first line came only at the end: not followed"
    assert proc.returncode == 1  # the job failed (exit 2)


def test_follow_with_tail_and_both_streams(molq: Molq) -> None:
    job = molq.submit("--command", "echo a; echo b; sleep 0.5; echo c; echo d >&2")
    result = molq("logs", job, "--follow", "--tail", "1", "--stream", "both", timeout=30)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "[stdout] c" in lines and "[stderr] d" in lines
    assert "[stdout] a" not in lines


def test_follow_switches_to_the_retry(molq: Molq) -> None:
    marker = molq.cwd / "second"
    job = molq.submit(
        "--profile",
        molq.fast_retry_profile(),
        "--retries",
        "2",
        "--command",
        f"if [ -e {marker} ]; then echo second; else touch {marker}; echo first; exit 1; fi",
    )
    result = molq("logs", job, "-f", timeout=60)
    assert result.stdout == "first\nsecond\n"
    assert "attempt 2" in result.stderr
    assert result.returncode == 0
    assert os.path.exists(marker)
