"""200,000 tracked jobs in one store: refresh, list, wait and cleanup.

Nothing may overflow (argument lists, SQLite's variable limit) and each
operation's cost is printed. Slurm output is served by the replaying
transport of bench_slurm_refresh.py; the store is a real file.
"""

from __future__ import annotations

import os
import tempfile
import time

import molq as mq
from _util import report
from bench_slurm_refresh import Replay, build_store, squeue_lines

COUNT = 200_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "jobs.db")
        t0 = time.perf_counter()
        build_store(db, COUNT).close()
        print(f"(setup: {COUNT:,} tracked jobs in {time.perf_counter() - t0:.1f} s)")
        transport = Replay(squeue_lines(range(1, COUNT + 1), "RUNNING"))
        from molq.store import JobStore

        store = JobStore(db)
        sub = mq.Submitor(mq.Cluster("hpc", "slurm", transport=transport), store=store, min_poll_interval=0.0)

        start = time.perf_counter()
        changes = sub.refresh_jobs()
        report(f"refresh, {COUNT:,} jobs start running", time.perf_counter() - start, "s", "works")
        assert len(changes) == COUNT

        start = time.perf_counter()
        records = sub.list_jobs(include_terminal=True)
        report(f"list_jobs, {COUNT:,} records", time.perf_counter() - start, "s", "works")
        assert len(records) == COUNT

        # every job leaves the queue; sacct (chunked) says they completed
        transport.squeue_out = b""
        start = time.perf_counter()
        done = sub.watch_jobs(timeout=600)
        report(f"watch_jobs until {COUNT:,} jobs end", time.perf_counter() - start, "s", "works")
        assert len(done) == COUNT and all(r.state is mq.JobState.SUCCEEDED for r in done)
        print(f"    commands: {transport.calls}")

        policy = mq.RetentionPolicy(
            keep_job_dirs_for_days=0, keep_terminal_records_for_days=0, keep_failed_job_dirs=False
        )
        start = time.perf_counter()
        result = sub.cleanup_jobs(retention_policy=policy)
        report(f"cleanup_jobs, {COUNT:,} records and dirs", time.perf_counter() - start, "s", "works")
        assert len(result["records"]) == COUNT
        assert sub.list_jobs(include_terminal=True) == []
        store.close()


if __name__ == "__main__":
    main()
