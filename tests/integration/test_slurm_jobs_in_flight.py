"""max_jobs_in_flight on the real Slurm testbed: three processes, each its own
Submitor on one store file, submit 60 jobs under a cap of 5. Slurm never has
more than 5 of them, all 60 end, and none reaches Slurm twice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slurm

CAP = 5
WORKERS = 3
JOBS_EACH = 20

WORKER = r"""
import json, sys
import molq as mq
from molq.models import SubmitorDefaults
from molq.store import JobStore
from molq.strategies import FixedStrategy

db, jobs_dir, name, count, cap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sub = mq.Submitor(
    mq.Cluster("capped", "slurm"),
    store=JobStore(db),
    jobs_dir=jobs_dir,
    defaults=SubmitorDefaults(max_jobs_in_flight=cap),
    polling_strategy=FixedStrategy(0.3),
    min_poll_interval=0.3,
)
handles = [sub.submit_job(command="sleep 1", execution=mq.JobExecution(job_name=name)) for _ in range(count)]
held = sum(h.scheduler_job_id is None for h in handles)
records = sub.watch_jobs([h.job_id for h in handles], timeout=150)
print(json.dumps({
    "held": held,
    "jobs": [[r.job_id, r.state.value, r.scheduler_job_id] for r in records],
}))
sub.close()
"""


def _in_squeue(name: str) -> int:
    out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%i"], capture_output=True, text=True, timeout=30)
    return len(out.stdout.split()) if out.returncode == 0 else -1


def test_three_processes_never_have_more_than_the_cap_in_slurm(slurm_testbed: Any, tmp_path: Path) -> None:
    name = f"mqcap-{uuid.uuid4().hex[:8]}"  # this run's jobs, in squeue and sacct
    db = tmp_path / "jobs.db"
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 5))
    samples: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            samples.append(_in_squeue(name))
            stop.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db), str(tmp_path / "jobs"), name, str(JOBS_EACH), str(CAP)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    try:
        results = [w.communicate(timeout=170) for w in workers]
    finally:
        stop.set()
        watcher.join(timeout=5)
        for w in workers:
            if w.poll() is None:
                w.kill()
        subprocess.run(["scancel", "-n", name], capture_output=True)
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    jobs = [job for report in reports for job in report["jobs"]]

    assert -1 not in samples, "squeue failed while sampling"
    assert max(samples) <= CAP, f"{max(samples)} of these jobs in squeue at once (cap {CAP})"
    assert max(samples) >= 2, "the jobs never overlapped: the sampling saw nothing"
    assert sum(report["held"] for report in reports) > 0, "molq held none: the cap was never reached"
    assert len(jobs) == WORKERS * JOBS_EACH
    assert [state for _, state, _ in jobs] == ["succeeded"] * len(jobs)
    scheduler_ids = [sid for _, _, sid in jobs]
    assert len(set(scheduler_ids)) == len(jobs), "two molq jobs share a scheduler id"
    # What Slurm itself ran: exactly one Slurm job per molq job, no duplicates.
    accounted = _sacct_ids(name, started)
    assert sorted(accounted) == sorted(scheduler_ids)


def _sacct_ids(name: str, since: str) -> list[str]:
    """The Slurm job ids named ``name`` in accounting (waiting for its last records)."""
    ids: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["sacct", "-n", "-X", "-P", "--name", name, "-S", since, "-o", "JobID"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        ids = out.stdout.split()
        if len(ids) >= WORKERS * JOBS_EACH:
            break
        time.sleep(1)
    return ids
