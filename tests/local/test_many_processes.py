"""Many real processes share one store file: nothing is lost, duplicated or locked out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import molq as mq
from molq.store import JobStore

WORKER = r"""
import sys, random
import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

db, jobs, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = JobStore(db)
sub = mq.Submitor(mq.Cluster("shared", "local"), store=store, jobs_dir=jobs,
                  polling_strategy=FixedStrategy(0.02))
rng = random.Random(worker)
ids = []
for i in range(count):
    h = sub.submit_job(command=f"exit {i % 3 == 0 and 1 or 0}", metadata={"worker": str(worker)})
    ids.append(h.job_id)
    sub.refresh_jobs()
    if rng.random() < 0.2:
        sub.cancel_job(rng.choice(ids))
sub.watch_jobs(ids, timeout=120)
print(" ".join(ids))
"""


def test_processes_submit_refresh_cancel_on_one_store(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"  # created concurrently by the workers themselves
    workers, per_worker = 6, 15
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db), str(tmp_path / "jobs"), str(w), str(per_worker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    submitted: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "locked" not in err
        submitted.extend(out.split())
    assert len(submitted) == workers * per_worker == len(set(submitted))

    store = JobStore(db)
    sub = mq.Submitor(mq.Cluster("shared", "local"), store=store)
    records = sub.list_jobs(include_terminal=True)
    assert sorted(r.job_id for r in records) == sorted(submitted)
    for record in records:
        assert record.state.is_terminal, record
        chain = sub.get_transitions(record.job_id)
        states = [t.new_state for t in chain]
        # one creation, one submission, no duplicates, and a consistent chain
        assert states[:2] == [mq.JobState.CREATED, mq.JobState.SUBMITTED]
        assert len(states) == len(set(states))
        for before, after in zip(chain, chain[1:]):
            assert after.old_state == before.new_state
        assert chain[-1].new_state == record.state
        assert sum(1 for s in states if s.is_terminal) == 1
    store.close()


def test_fresh_store_file_opened_by_many_processes_at_once(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    code = "import sys; from molq.store import JobStore; s = JobStore(sys.argv[1]); print(s.schema_version())"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(12)
    ]
    versions = set()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        versions.add(out.strip())
    assert len(versions) == 1
