"""Local jobs in the original molq's job-directory layout, tracked by molq.

These run without the original installed: each job directory is laid out as
the original's local backend leaves it (``_wrapper.sh``; ``.pid`` holding the
job shell's pid alone; ``.exit_code`` holding the status alone, written when
the job shell ended), by a small wrapper written here, started in this test's
own process group as the original starts its jobs in its caller's group.
test_switch_live.py does the same with the real original.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from molq import Cluster, JobState, Submitor
from molq._import_original import import_original_store
from molq.store import JobStore

# The original's schema 8 (what the import reads), with one job row.
ORIGINAL_DDL = """
CREATE TABLE molq_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO molq_meta VALUES ('schema_version', '8');
CREATE TABLE jobs (job_id TEXT PRIMARY KEY, cluster_name TEXT NOT NULL, scheduler TEXT NOT NULL,
  root_job_id TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 1, previous_attempt_job_id TEXT,
  retry_group_id TEXT, scheduler_job_id TEXT, state TEXT NOT NULL DEFAULT 'created',
  command_type TEXT NOT NULL, command_display TEXT NOT NULL, cwd TEXT NOT NULL,
  submitted_at REAL, started_at REAL, finished_at REAL, last_polled REAL, exit_code INTEGER,
  failure_reason TEXT, metadata TEXT DEFAULT '{}', request_json TEXT DEFAULT '{}',
  profile_name TEXT, cleaned_at REAL);
CREATE TABLE status_transitions (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,
  old_state TEXT, new_state TEXT NOT NULL, timestamp REAL NOT NULL, reason TEXT);
"""

# The layout of the original's wrapper: the job shell in the background, its
# pid alone in .pid, its status alone in .exit_code once it ended.
WRAPPER = """#!/bin/bash
( bash "{dir}/run.sh" > "{dir}/stdout.log" 2> "{dir}/stderr.log" ) &
pid=$!
echo $pid > "{dir}/.pid"
wait $pid
echo $? > "{dir}/.exit_code"
"""


def start_original_job(work: Path, job_id: str, script: str) -> tuple[Path, int]:
    job_dir = work / ".molq" / "jobs" / job_id
    job_dir.mkdir(parents=True)
    (job_dir / "run.sh").write_text(script)
    (job_dir / "_wrapper.sh").write_text(WRAPPER.format(dir=job_dir))
    subprocess.Popen(
        ["nohup", "bash", str(job_dir / "_wrapper.sh")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not (job_dir / ".pid").exists() or not (job_dir / ".pid").read_text().strip():
        assert time.monotonic() < deadline, "the wrapper did not start"
        time.sleep(0.02)
    return job_dir, int((job_dir / ".pid").read_text())


def imported_store(tmp_path: Path, job_id: str, job_dir: Path, pid: int) -> Path:
    source = tmp_path / "original.db"
    with sqlite3.connect(source) as conn:
        conn.executescript(ORIGINAL_DDL)
        conn.execute(
            "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, retry_group_id, scheduler_job_id, "
            "state, command_type, command_display, cwd, submitted_at, started_at, metadata) "
            "VALUES (?, 'dev', 'local', ?, ?, ?, 'running', 'command', 'job', ?, ?, ?, ?)",
            (
                job_id,
                job_id,
                job_id,
                str(pid),
                str(job_dir.parent),
                time.time() - 1,
                time.time() - 1,
                json.dumps({"molq.job_dir": str(job_dir)}),
            ),
        )
    conn.close()
    target = tmp_path / "molq.db"
    assert import_original_store(source, target).active_jobs == (job_id,)
    return target


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(pid) and fields[0] != "Z":
                out.append(int(entry.name))
    return out


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes through /proc")


def test_a_running_original_job_is_followed_to_its_exit_code(tmp_path: Path) -> None:
    job_dir, pid = start_original_job(tmp_path, "job-ends", "sleep 1\nexit 6\n")
    store = imported_store(tmp_path, "job-ends", job_dir, pid)
    with Submitor(target=Cluster("dev", "local"), store=JobStore(store)) as submitor:
        submitor.refresh_jobs(force=True)
        assert submitor.get_job("job-ends").state == JobState.RUNNING
        (record,) = submitor.watch_jobs(["job-ends"], timeout=30)
    assert (record.state, record.exit_code) == (JobState.FAILED, 6)
    assert record.finished_at == pytest.approx((job_dir / ".exit_code").stat().st_mtime, abs=0.01)


def test_cancel_stops_the_job_shell_and_everything_under_it(tmp_path: Path) -> None:
    job_dir, pid = start_original_job(tmp_path, "job-stays", "sleep 600 &\nsleep 600\n")
    deadline = time.monotonic() + 10
    while len(children(pid)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    under = children(pid)
    store = imported_store(tmp_path, "job-stays", job_dir, pid)
    try:
        with Submitor(target=Cluster("dev", "local"), store=JobStore(store)) as submitor:
            submitor.cancel_job("job-stays")
            assert submitor.get_job("job-stays").state == JobState.CANCELLED
            assert not alive(pid) and not any(alive(p) for p in under)
            # This test shares its process group with the job, as the
            # original's callers did: cancel never signalled the group.
            assert (job_dir / ".cancel_requested").exists()
            submitor.refresh_jobs(force=True)
            assert submitor.get_job("job-stays").state == JobState.CANCELLED
    finally:
        for p in (pid, *under):
            if alive(p):
                os.kill(p, 9)


def test_a_reused_pid_is_not_taken_for_the_job(tmp_path: Path) -> None:
    """The wrapper is gone without an exit code, and the pid now belongs to
    another process (this one): the job is lost, not running forever."""
    job_dir = tmp_path / ".molq" / "jobs" / "job-gone"
    job_dir.mkdir(parents=True)
    (job_dir / "run.sh").write_text("true\n")
    (job_dir / "_wrapper.sh").write_text(WRAPPER.format(dir=job_dir))
    (job_dir / ".pid").write_text(f"{os.getpid()}\n")
    store = imported_store(tmp_path, "job-gone", job_dir, os.getpid())
    with Submitor(target=Cluster("dev", "local"), store=JobStore(store)) as submitor:
        submitor.refresh_jobs(force=True)
        record = submitor.get_job("job-gone")
    assert record.state != JobState.RUNNING
    assert record.state == JobState.LOST


def test_an_exit_code_written_while_nobody_watched_wins_over_a_live_pid(tmp_path: Path) -> None:
    job_dir = tmp_path / ".molq" / "jobs" / "job-done"
    job_dir.mkdir(parents=True)
    (job_dir / "run.sh").write_text("true\n")
    (job_dir / "_wrapper.sh").write_text(WRAPPER.format(dir=job_dir))
    (job_dir / ".pid").write_text(f"{os.getpid()}\n")
    (job_dir / ".exit_code").write_text("0\n")
    store = imported_store(tmp_path, "job-done", job_dir, os.getpid())
    with Submitor(target=Cluster("dev", "local"), store=JobStore(store)) as submitor:
        submitor.refresh_jobs(force=True)
        record = submitor.get_job("job-done")
    assert (record.state, record.exit_code) == (JobState.SUCCEEDED, 0)
