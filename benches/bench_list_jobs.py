"""list_jobs() over 100,000 records (target: <= 150 ms)."""

from __future__ import annotations

import os
import tempfile
import time

import molq as mq
from _util import best_of, report
from molq.store import JobStore


def populate(store: JobStore, cluster: str, count: int) -> None:
    now = time.time()
    for i in range(count):
        job_id = f"job-{i:07d}"
        store.register_job(
            {
                "job_id": job_id,
                "cluster_name": cluster,
                "scheduler": "local",
                "root_job_id": job_id,
                "attempt": 1,
                "previous_attempt_job_id": None,
                "retry_group_id": job_id,
                "command_type": "argv",
                "command_display": f"python train.py --seed {i}",
                "cwd": "/home/user/project",
                "job_dir": f"/home/user/project/.molq/jobs/{job_id}",
                "metadata": {"molq.job_dir": f"/home/user/project/.molq/jobs/{job_id}"},
                "request_json": "{}",
                "retry_json": None,
                "profile_name": None,
            },
            [],
            now + i * 1e-3,
        )
        store.mark_submitted(job_id, str(100000 + i), now + i * 1e-3)


def main() -> None:
    count = 100_000
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(os.path.join(tmp, "jobs.db"))
        t0 = time.perf_counter()
        populate(store, "bench", count)
        fill = time.perf_counter() - t0
        sub = mq.Submitor(mq.Cluster("bench", "local"), store=store)
        best, median = best_of(lambda: sub.list_jobs(include_terminal=True), repeat=7)
        records = sub.list_jobs(include_terminal=True)
        assert len(records) == count
        report("register+submit 100k records (setup)", fill, "s", "-")
        report("list_jobs(include_terminal=True), 100k, best", best * 1000, "ms", "<= 150 ms")
        report("list_jobs(include_terminal=True), 100k, median", median * 1000, "ms", "<= 150 ms")
        best_active, _ = best_of(lambda: sub.list_jobs(), repeat=7)
        report("list_jobs() active only, 100k, best", best_active * 1000, "ms", "<= 150 ms")
        store.close()


if __name__ == "__main__":
    main()
