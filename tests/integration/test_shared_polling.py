"""Twenty real processes wait on one Slurm cluster's job at once: the
scheduler is polled at most once per interval, and every waiter sees the result."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.store import JobStore

pytestmark = pytest.mark.slurm

WAITER = r"""
import sys
import molq as mq
from molq.options import SlurmSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

db, job_id, squeue = sys.argv[1:4]
cluster = mq.Cluster("shared", "slurm", scheduler_options=SlurmSchedulerOptions(squeue_path=squeue))
with mq.Submitor(cluster, store=JobStore(db), polling_strategy=FixedStrategy(0.2)) as sub:
    print(sub.watch_jobs([job_id], timeout=120)[0].state.value)
"""


def test_twenty_waiting_processes_share_one_poll_per_interval(slurm_testbed: Any, tmp_path: Path) -> None:
    log = tmp_path / "squeue-calls.log"
    shim = tmp_path / "squeue"
    shim.write_text(f'#!/bin/sh\necho "$$" >> {log}\nexec {shutil.which("squeue")} "$@"\n')
    shim.chmod(0o755)
    db = tmp_path / "jobs.db"
    store = JobStore(db)
    with mq.Submitor(mq.Cluster("shared", "slurm"), store=store, jobs_dir=tmp_path / "jobs") as sub:
        handle = sub.submit_job(command="sleep 8")
        start = time.monotonic()
        waiters = [
            subprocess.Popen(
                [sys.executable, "-c", WAITER, str(db), handle.job_id, str(shim)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(20)
        ]
        results = [w.communicate(timeout=180) for w in waiters]
        elapsed = time.monotonic() - start
    assert [out.strip() for out, _ in results] == ["succeeded"] * 20, [err for _, err in results]
    calls = len(log.read_text().splitlines())
    # each waiter alone would poll every 0.2 s: ~20 * elapsed / 0.2 calls
    assert 1 <= calls <= elapsed / 1.0 + 3, f"{calls} squeue calls in {elapsed:.1f} s"
    store.close()
