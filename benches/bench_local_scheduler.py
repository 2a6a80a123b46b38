"""The local scheduler's overhead: N jobs of D seconds on 2 slots finish in
N*D/2 seconds of work plus what molq adds (target: 1,000 one-second jobs in
about 500 s plus at most 2%, i.e. 20 ms per job; run scaled down, 200 x 0.1 s
by default). Also how fast queued work is handed on: `true` jobs on 2 slots,
every start decided by the dispatcher of the job that ended.

    python bench_local_scheduler.py [--jobs 200] [--seconds 0.1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import molq as mq
from _util import report
from molq.options import LocalSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

SLOTS = 2


def run(jobs: int, seconds: float) -> tuple[float, float]:
    """(wall time, wall time - ideal) of ``jobs`` sleeps on SLOTS slots."""
    with tempfile.TemporaryDirectory() as tmp:
        options = LocalSchedulerOptions(cpus=SLOTS, gpus=0, slots_dir=os.path.join(tmp, "slots"))
        cluster = mq.Cluster("bench", "local", scheduler_options=options)
        store = JobStore(os.path.join(tmp, "jobs.db"))
        with mq.Submitor(
            cluster, store=store, jobs_dir=os.path.join(tmp, "jobs"), polling_strategy=FixedStrategy(1.0)
        ) as sub:
            start = time.perf_counter()
            handles = [sub.submit_job(argv=["sleep", str(seconds)]) for _ in range(jobs)]
            records = sub.watch_jobs([h.job_id for h in handles], timeout=jobs * seconds * 4 + 120)
            wall = time.perf_counter() - start
            ends = [r.finished_at for r in records if r.finished_at]
            firsts = [r.started_at for r in records if r.started_at]
        store.close()
        assert all(r.state is mq.JobState.SUCCEEDED for r in records)
        # the jobs' own span (first start to last end) is what the slots did;
        # the wait's wall time adds the last poll interval
        span = max(ends) - min(firsts)
        return wall, span - jobs * seconds / SLOTS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ideal = args.jobs * args.seconds / SLOTS
    results = [run(args.jobs, args.seconds) for _ in range(args.repeat)]
    extra = [over for _, over in results]
    per_job = [over / args.jobs * SLOTS * 1000 for over in extra]
    name = f"{args.jobs} x {args.seconds:g} s on {SLOTS} slots"
    report(f"{name}: span beyond {ideal:g} s (median)", statistics.median(extra), "s", "-")
    report(f"{name}: overhead per job (median)", statistics.median(per_job), "ms", "<= 20 ms (2% of 1 s)")
    report(f"{name}: overhead per job (min / max)", min(per_job), "ms", f"max {max(per_job):.1f} ms")


if __name__ == "__main__":
    main()
