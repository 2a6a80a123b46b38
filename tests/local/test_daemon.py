"""The daemon as a real process: one per store and cluster, clean stop on signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import molq as mq
from molq.store import JobStore

DAEMON = r"""
import sys
import molq as mq
from molq.store import JobStore
sub = mq.Submitor(mq.Cluster("d", "local"), store=JobStore(sys.argv[1]))
print("running", flush=True)
sub.run_daemon(interval=0.1, run_cleanup=False)
print("stopped", flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_daemon_stops_cleanly_and_a_second_one_is_refused(tmp_path: Path, signum: int) -> None:
    db = tmp_path / "jobs.db"
    sub = mq.Submitor(mq.Cluster("d", "local"), store=JobStore(db), jobs_dir=tmp_path / "jobs")
    handle = sub.submit_job(command="exit 2")
    first = subprocess.Popen(
        [sys.executable, "-c", DAEMON, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert first.stdout is not None and first.stdout.readline().strip() == "running"
    second = subprocess.run([sys.executable, "-c", DAEMON, str(db)], capture_output=True, text=True, timeout=60)
    assert second.returncode != 0 and "already refreshes this cluster" in second.stderr
    deadline = time.time() + 20  # the daemon, not this test, records the job's end
    while sub.get_job(handle.job_id).state is not mq.JobState.FAILED and time.time() < deadline:
        time.sleep(0.1)
    assert sub.get_job(handle.job_id).exit_code == 2
    first.send_signal(signum)
    out, err = first.communicate(timeout=20)
    assert first.returncode == 0, err
    assert out.strip() == "stopped"
    again = subprocess.Popen([sys.executable, "-c", DAEMON, str(db)], stdout=subprocess.PIPE, text=True)
    assert again.stdout is not None and again.stdout.readline().strip() == "running"  # the lock was released
    again.terminate()
    again.wait(timeout=20)
