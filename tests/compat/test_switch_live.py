"""A switch in the middle of running jobs, with the real original molq.

The original (molcrafts-molq 0.8.1, Python 3.12) is the interpreter named by
MOLQ_REFERENCE_PYTHON. Without it these tests are skipped with the reason;
with MOLQ_REQUIRE_REFERENCE=1 a missing one is a failure instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from molq import Cluster, JobState, Submitor

# Submits with the original molq's public API and prints the ids once both
# jobs are running (as the original sees them).
SUBMIT_WITH_ORIGINAL = """
import json, time
from molq import Cluster, Submitor
with Submitor(target=Cluster("dev", "local")) as s:
    ends = s.submit_job(argv=["sh", "-c", "echo from-the-original; sleep 2; exit 7"], metadata={"role": "ends"})
    stays = s.submit_job(argv=["sleep", "600"], metadata={"role": "stays"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        s.refresh_jobs()
        if all(str(s.get_job(h.job_id).state) == "running" for h in (ends, stays)):
            break
        time.sleep(0.05)
    print(json.dumps({"ends": ends.job_id, "stays": stays.job_id,
                      "stays_pid": int(s.get_job(stays.job_id).scheduler_job_id)}))
"""


@pytest.fixture(scope="module")
def reference_python() -> str:
    python = os.environ.get("MOLQ_REFERENCE_PYTHON")
    reason = None
    if not python:
        reason = "MOLQ_REFERENCE_PYTHON is not set (a Python 3.12 with molcrafts-molq 0.8.1)"
    elif not os.access(python, os.X_OK):
        reason = f"MOLQ_REFERENCE_PYTHON={python} is not an executable"
    if reason is not None:
        if os.environ.get("MOLQ_REQUIRE_REFERENCE") == "1":
            pytest.fail(f"MOLQ_REQUIRE_REFERENCE=1 but the original molq is not usable: {reason}")
        pytest.skip(reason)
    return python


def descendants(pid: int) -> set[int]:
    """Live (non-zombie) processes under pid, by /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_molq_tracks_and_cancels_jobs_the_original_started(
    reference_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MOLQ_HOME", "MOLCRAFTS_HOME")}
    env["HOME"] = str(home)
    done = subprocess.run(
        [reference_python, "-c", SUBMIT_WITH_ORIGINAL],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    stays_pid = ids["stays_pid"]
    under = descendants(stays_pid)
    try:
        original = home / ".molcrafts" / "molq" / "config" / "jobs.db"
        before = hashlib.sha256(original.read_bytes()).hexdigest()

        # The switch: same HOME, molq this time.
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.delenv("MOLQ_HOME", raising=False)
        monkeypatch.delenv("MOLCRAFTS_HOME", raising=False)
        monkeypatch.chdir(work)
        with Submitor(target=Cluster("dev", "local")) as submitor:
            assert submitor.get_job(ids["ends"]).state == JobState.RUNNING
            assert submitor.get_job(ids["stays"]).state == JobState.RUNNING
            # Followed to its real end: the exit code the job really had.
            (ended,) = submitor.watch_jobs([ids["ends"]], timeout=60)
            assert ended.state == JobState.FAILED, (ended.failure_reason, submitor.get_transitions(ids["ends"]))
            assert ended.exit_code == 7
            assert ended.finished_at is not None and ended.finished_at >= ended.started_at
            # Its output, where the original's wrapper wrote it.
            logs = subprocess.run(
                [sys.executable, "-m", "molq.cli", "logs", ids["ends"]],
                capture_output=True,
                text=True,
                env={**os.environ, "HOME": str(home)},
                timeout=60,
            )
            assert logs.returncode == 0, logs.stderr
            assert "from-the-original" in logs.stdout
            # Still running, and seen as such by a refresh.
            submitor.refresh_jobs(force=True)
            assert submitor.get_job(ids["stays"]).state == JobState.RUNNING
            assert alive(stays_pid)

            submitor.cancel_job(ids["stays"])
            record = submitor.get_job(ids["stays"])
            assert record.state == JobState.CANCELLED
        # Cancel means gone: the job shell and the `sleep` under it.
        assert under, "the original's job shell had no child to check"
        assert not alive(stays_pid)
        assert not any(alive(p) for p in under)
        assert hashlib.sha256(original.read_bytes()).hexdigest() == before
    finally:
        for pid in (stays_pid, *under):
            if alive(pid):
                os.kill(pid, 9)


def test_a_job_that_ended_before_the_switch_reads_its_real_outcome(
    reference_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original submitted it and exited; it ended while nobody watched."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MOLQ_HOME", "MOLCRAFTS_HOME")}
    env["HOME"] = str(home)
    script = (
        "import json\nfrom molq import Cluster, Submitor\n"
        "with Submitor(target=Cluster('dev', 'local')) as s:\n"
        "    h = s.submit_job(argv=['sh', '-c', 'exit 0'])\n"
        "    print(json.dumps(h.job_id))\n"
    )
    done = subprocess.run(
        [reference_python, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    job_id = json.loads(done.stdout.strip().splitlines()[-1])
    job_dir = work / ".molq" / "jobs" / job_id
    deadline = time.monotonic() + 30
    while not (job_dir / ".exit_code").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MOLQ_HOME", raising=False)
    monkeypatch.delenv("MOLCRAFTS_HOME", raising=False)
    with Submitor(target=Cluster("dev", "local")) as submitor:
        (record,) = submitor.watch_jobs([job_id], timeout=60)
        assert record.state == JobState.SUCCEEDED
        assert record.exit_code == 0


def test_a_retry_policy_given_to_the_original_is_honoured_by_molq(
    reference_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original submitted a job with a retry policy and exited; the first
    attempt fails under molq, which runs the second attempt itself."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MOLQ_HOME", "MOLCRAFTS_HOME")}
    env["HOME"] = str(home)
    script = (
        "import json\nfrom molq import Cluster, Submitor, RetryPolicy, RetryBackoff\n"
        "policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode='fixed', initial_seconds=0.5))\n"
        "with Submitor(target=Cluster('dev', 'local')) as s:\n"
        "    h = s.submit_job(argv=['sh', '-c', 'sleep 1; exit 9'], retry=policy)\n"
        "    print(json.dumps(h.job_id))\n"
    )
    done = subprocess.run(
        [reference_python, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    root = json.loads(done.stdout.strip().splitlines()[-1])
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MOLQ_HOME", raising=False)
    monkeypatch.delenv("MOLCRAFTS_HOME", raising=False)
    monkeypatch.chdir(work)
    with Submitor(target=Cluster("dev", "local")) as submitor:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            submitor.refresh_jobs(force=True)
            family = submitor.get_retry_family(root)
            if len(family) == 2 and family[-1].state.is_terminal:
                break
            time.sleep(0.2)
        family = submitor.get_retry_family(root)
        assert [r.attempt for r in family] == [1, 2]
        assert [(r.state, r.exit_code) for r in family] == [(JobState.FAILED, 9), (JobState.FAILED, 9)]
        assert family[1].previous_attempt_job_id == root
