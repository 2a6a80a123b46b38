"""submit_job's own cost on top of the scheduler command (target: <= 0.5 ms).

The scheduler here is molq.testing.FakeScheduler, whose submit is a dict
insert, so what is timed is molq's work: validation, merging, the job
directory (mkdir, script copy, manifest) and the two store transactions.
"""

from __future__ import annotations

import os
import tempfile
import time

from _util import report
from molq.store import JobStore
from molq.testing import make_submitor


def main() -> None:
    count = 2000
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(os.path.join(tmp, "jobs.db"))
        sub = make_submitor("bench", store=store, jobs_dir=os.path.join(tmp, "jobs"))
        for _ in range(50):  # warm up
            sub.submit_job(argv=["python", "train.py"])
        start = time.perf_counter()
        for i in range(count):
            sub.submit_job(argv=["python", "train.py", "--seed", str(i)])
        per_job = (time.perf_counter() - start) / count
        report("submit_job overhead (file store, local dirs)", per_job * 1000, "ms", "<= 0.5 ms")
        store.close()


if __name__ == "__main__":
    main()
