"""RunDashboard / MolqMonitor: a real store, driven in a real pseudo-terminal by keys."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

import molq as mq
from molq.dashboard import DashboardState, JobRow, MolqMonitor, RunDashboard, _UIState
from molq.store import JobStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store with a finished job, a failed one and one still running."""
    path = tmp_path / "jobs.db"
    with (
        JobStore(path) as store,
        mq.Submitor(mq.Cluster("box", "local"), store=store, jobs_dir=tmp_path / "jobs") as sub,
    ):
        sub.submit_job(argv=["true"]).wait(timeout=20)
        sub.submit_job(argv=["sh", "-c", "exit 3"]).wait(timeout=20)
        running = sub.submit_job(argv=["sleep", "30"])
        deadline = time.monotonic() + 20
        while sub.get_job(running.job_id).state is not mq.JobState.RUNNING:  # the monitor only reads
            assert time.monotonic() < deadline
            sub.refresh_jobs(force=True)
            time.sleep(0.05)
        yield path
        sub.cancel_job(running.job_id)


def _read_until(fd: int, needle: bytes, timeout: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} never appeared; the screen showed {seen[-2000:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
    return seen


def test_monitor_in_a_terminal_navigates_to_detail_and_quits_on_q(db: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 110, 0, 0))  # 30 rows, 110 columns
    code = (
        f"from molq.dashboard import MolqMonitor; "
        f"MolqMonitor(db_path={str(db)!r}, include_terminal=True, refresh_interval=0.2).watch()"
    )
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=child, stdout=child, stderr=child, env=env, close_fds=True
    )
    os.close(child)
    try:
        screen = _read_until(parent, b"enter open detail")
        assert b"\x1b[?1049h" in screen  # the alternate screen, as molq watch uses
        assert b"molq  [all jobs]" in screen and b"3 total" in screen
        os.write(parent, b"\x1b[B\r")  # down, enter: the second job's detail
        screen = _read_until(parent, b"back to list")
        assert b"Detail - " in screen and b"command" in screen
        os.write(parent, b"q")
        assert proc.wait(timeout=10) == 0
        rest = _read_until(parent, b"\x1b[?1049l", timeout=5)  # the terminal is given back
        assert rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(parent)


def test_monitor_in_a_pipe_prints_the_list_once(db: Path) -> None:
    code = f"from molq.dashboard import MolqMonitor; MolqMonitor(db_path={str(db)!r}, include_terminal=True).watch()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    lines = out.stdout.splitlines()
    assert "molq  [all jobs]  [RUNNING]" in lines[0]
    assert "3 total   1 running   0 pending   1 done   1 failed" in lines[1]
    body = "\n".join(lines)
    assert "succeeded" in body and "failed" in body and "running" in body
    assert "\x1b" not in out.stdout


def test_monitor_counts_come_from_the_store(db: Path) -> None:
    state = MolqMonitor(db_path=str(db))._state(JobStore(db))
    assert (state.total, state.running, state.done, state.failed) == (1, 1, 0, 0)  # active jobs only
    (row,) = state.jobs
    assert row.cluster == "box" and dict(row.extras)["command"] == "sleep 30"


def test_frames_fit_the_terminal_and_keep_the_selection_in_view() -> None:
    jobs = tuple(JobRow(state="running", run_id=f"job-{i:03d}", message="x" * 300) for i in range(100))
    state = DashboardState("molq", "running", 100, 100, 0, 0, 0, "12:00:00", jobs)
    ui = _UIState()
    ui.update_total(len(jobs))
    for _ in range(60):
        ui.move_down()
    lines = RunDashboard()._render(state, ui).lines(60, 20)
    assert len(lines) == 20
    assert all(len(text) <= 60 for text, _ in lines)
    assert any(text.startswith(">") and "job-060" in text for text, _ in lines)
    assert RunDashboard._handle_keys("\x1b[A\x1b[Bq", ui) is True
