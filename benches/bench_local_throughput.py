"""200 trivial local jobs submitted and waited for, with the slots free
(capacity 1,000 CPUs: every job starts at submit) and with the machine's own
2 CPUs (each job starts when one ends, from the wrapper that ended).
Targets: >= 400 jobs/s with capacity free."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import molq as mq
from _util import report
from molq.options import LocalSchedulerOptions
from molq.store import JobStore


def run(count: int, cpus: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        options = LocalSchedulerOptions(cpus=cpus, gpus=0, slots_dir=os.path.join(tmp, "slots"))
        store = JobStore(os.path.join(tmp, "jobs.db"))
        cluster = mq.Cluster("bench", "local", scheduler_options=options)
        with mq.Submitor(cluster, store=store, jobs_dir=os.path.join(tmp, "jobs")) as sub:
            # warm-up: lazy imports and the store's first pages, not part of the rate
            sub.watch_jobs([sub.submit_job(argv=["true"]).job_id for _ in range(5)], timeout=60)
            start = time.perf_counter()
            handles = [sub.submit_job(argv=["true"]) for _ in range(count)]
            records = sub.watch_jobs([h.job_id for h in handles], timeout=300)
            elapsed = time.perf_counter() - start
        store.close()
        bad = [r for r in records if r.state is not mq.JobState.SUCCEEDED]
        assert not bad, f"{len(bad)} jobs did not succeed: {bad[:3]}"
        return count / elapsed


def main() -> None:
    for label, cpus, target in (("slots free", 1000, ">= 400 jobs/s"), ("2 slots", 2, "-")):
        rates = [run(200, cpus) for _ in range(5)]
        report(f"200 local true, {label} (median of 5)", statistics.median(rates), "jobs/s", target)
        report(f"200 local true, {label} (best / worst)", max(rates), "jobs/s", f"worst {min(rates):.1f}")


if __name__ == "__main__":
    main()
