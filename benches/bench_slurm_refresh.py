"""Slurm parsing speed, and a refresh of the real testbed.

Target: parsing <= 0.3 us per squeue line at 100,000 and 1,000,000 lines.
Refreshes of 100,000 jobs on a busy cluster are bench_refresh.py's (real
squeue/sacct executables, full rows). Run with ``--live`` to also time one
refresh over 10,000 held jobs in the real Slurm testbed (scripts/slurm-up.sh;
takes a minute to submit them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import molq as mq
from _util import report
from molq import _core
from molq.store import JobStore

NOW = int(time.time())


def squeue_lines(ids: range, state: str) -> bytes:
    return "".join(
        f"{i}|{state}|alice|compute|{NOW - 600}|{NOW - 60 if state == 'RUNNING' else 'N/A'}|None|job-{i}\n" for i in ids
    ).encode()


def parse_speed() -> None:
    for lines in (100_000, 1_000_000):
        text = squeue_lines(range(1, lines + 1), "PENDING")
        best = min(_time_parse(text) for _ in range(3))
        report(f"parse_queue('slurm'), {lines:,} lines", best / lines * 1e6, "us/line", "<= 0.3 us")


def _time_parse(text: bytes) -> float:
    start = time.perf_counter()
    snapshot = _core.parse_queue("slurm", text)
    elapsed = time.perf_counter() - start
    assert len(snapshot) > 0
    return elapsed


def live(count: int = 10_000) -> None:
    """One refresh over ``count`` held jobs in the real testbed."""
    ids = []
    for _ in range(count):
        out = subprocess.run(
            ["sbatch", "--parsable", "--hold", "--job-name=molq-bench", "--wrap", "true"],
            capture_output=True,
            text=True,
            check=True,
        )
        ids.append(out.stdout.strip().split(";")[0])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = JobStore(os.path.join(tmp, "live.db"))
            now = time.time()
            for sid in ids:
                job_id = f"live-{sid}"
                store.register_job(
                    {
                        "job_id": job_id,
                        "cluster_name": "testbed",
                        "scheduler": "slurm",
                        "root_job_id": job_id,
                        "attempt": 1,
                        "previous_attempt_job_id": None,
                        "retry_group_id": job_id,
                        "command_type": "argv",
                        "command_display": "true",
                        "cwd": tmp,
                        "job_dir": tmp,
                        "metadata": {},
                        "request_json": "{}",
                        "retry_json": None,
                        "profile_name": None,
                    },
                    [],
                    now,
                )
                store.mark_submitted(job_id, sid, now)
            sub = mq.Submitor(mq.Cluster("testbed", "slurm"), store=store)
            start = time.perf_counter()
            changes = sub.refresh_jobs()
            report(f"live testbed: refresh of {count:,} pending jobs", time.perf_counter() - start, "s", "-")
            print(f"    transitions: {len(changes):,} (submitted -> queued)")
            store.close()
    finally:
        subprocess.run(["scancel", "--name=molq-bench"], check=False)


if __name__ == "__main__":
    parse_speed()
    if "--live" in sys.argv:
        live()
