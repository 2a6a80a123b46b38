"""200 trivial local jobs submitted and waited for (target: >= 300 jobs/s)."""

from __future__ import annotations

import os
import tempfile
import time

import molq as mq
from _util import report


def run(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        from molq.store import JobStore

        store = JobStore(os.path.join(tmp, "jobs.db"))
        cluster = mq.Cluster("bench", "local")
        with mq.Submitor(cluster, store=store, jobs_dir=os.path.join(tmp, "jobs")) as sub:
            # warm-up: lazy imports and the store's first pages, not part of the rate
            sub.watch_jobs([sub.submit_job(argv=["true"]).job_id for _ in range(5)], timeout=60)
            start = time.perf_counter()
            handles = [sub.submit_job(argv=["true"]) for _ in range(count)]
            records = sub.watch_jobs([h.job_id for h in handles], timeout=120)
            elapsed = time.perf_counter() - start
        store.close()
        bad = [r for r in records if r.state is not mq.JobState.SUCCEEDED]
        assert not bad, f"{len(bad)} jobs did not succeed: {bad[:3]}"
        return count / elapsed


def main() -> None:
    import statistics

    rates = [run(200) for _ in range(5)]
    report("200 local jobs, submit + wait (best of 5)", max(rates), "jobs/s", ">= 300 jobs/s")
    report("200 local jobs, submit + wait (median)", statistics.median(rates), "jobs/s", ">= 300 jobs/s")
    report("200 local jobs, submit + wait (worst)", min(rates), "jobs/s", ">= 300 jobs/s")


if __name__ == "__main__":
    main()
