"""Real processes killed with SIGKILL at chosen points leave a store that
opens cleanly, and their jobs are found and tracked afterwards."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import molq as mq
from molq import _core
from molq.store import JobStore

SUBMIT_THEN_DIE = r"""
import os, signal, sys
import molq as mq
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore

real_submit = ShellScheduler.submit
def submit_and_die(self, spec, job_dir):
    real_submit(self, spec, job_dir)       # the job is running now...
    os.kill(os.getpid(), signal.SIGKILL)   # ...and molq never records its id
ShellScheduler.submit = submit_and_die
sub = mq.Submitor(mq.Cluster("crash", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
sub.submit_job(command=f"sleep 1; echo done > {sys.argv[3]}")
"""


def test_killed_between_scheduler_and_store_the_job_is_adopted(tmp_path: Path) -> None:
    db, marker = tmp_path / "jobs.db", tmp_path / "marker"
    proc = subprocess.run([sys.executable, "-c", SUBMIT_THEN_DIE, str(db), str(tmp_path / "jobs"), str(marker)])
    assert proc.returncode == -signal.SIGKILL
    store = JobStore(db)  # opens cleanly
    sub = mq.Submitor(mq.Cluster("crash", "local"), store=store, recover_submissions_after=0.0)
    (record,) = sub.list_jobs()
    assert record.state is mq.JobState.CREATED and record.scheduler_job_id is None
    final = sub.watch_jobs([record.job_id], timeout=30)[0]
    assert final.state is mq.JobState.SUCCEEDED and final.scheduler_job_id
    assert marker.read_text() == "done\n"
    states = [t.new_state.value for t in sub.get_transitions(record.job_id)]
    assert states[:2] == ["created", "submitted"]
    store.close()


def test_a_submission_that_never_reached_the_scheduler_is_failed_in_the_end(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    sub = mq.Submitor(
        mq.Cluster("crash", "local"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        recover_submissions_after=0.0,
        fail_interrupted_submissions_after=0.0,
    )
    job_dir = tmp_path / "jobs" / "orphan"
    job_dir.mkdir(parents=True)
    store.register_job(
        {
            "job_id": "orphan",
            "cluster_name": "crash",
            "scheduler": "local",
            "root_job_id": "orphan",
            "attempt": 1,
            "previous_attempt_job_id": None,
            "retry_group_id": "orphan",
            "command_type": "argv",
            "command_display": "true",
            "cwd": str(tmp_path),
            "job_dir": str(job_dir),
            "metadata": {},
            "request_json": "{}",
            "retry_json": None,
            "profile_name": None,
        },
        [],
        time.time() - 5,
    )
    sub.refresh_jobs()
    record = sub.get_job("orphan")
    assert record.state is mq.JobState.FAILED and "interrupted" in record.failure_reason


DIE_BEFORE_THE_SCHEDULER = r"""
import os, signal, sys
import molq as mq
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore

ShellScheduler.submit = lambda self, spec, job_dir: os.kill(os.getpid(), signal.SIGKILL)
sub = mq.Submitor(mq.Cluster("crash", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
retry = mq.RetryPolicy(max_attempts=2, backoff=mq.RetryBackoff(mode="fixed", initial_seconds=0, maximum_seconds=0))
sub.submit_job(command=f"echo done > {sys.argv[3]}", retry=retry)
"""


def test_a_submission_interrupted_before_the_scheduler_gets_its_next_attempt(tmp_path: Path) -> None:
    db, marker = tmp_path / "jobs.db", tmp_path / "marker"
    args = [str(db), str(tmp_path / "jobs"), str(marker)]
    proc = subprocess.run([sys.executable, "-c", DIE_BEFORE_THE_SCHEDULER, *args])
    assert proc.returncode == -signal.SIGKILL
    store = JobStore(db)
    sub = mq.Submitor(
        mq.Cluster("crash", "local"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        recover_submissions_after=0.0,
        fail_interrupted_submissions_after=0.0,
    )
    (first,) = sub.list_jobs()
    sub.refresh_jobs()
    failed = sub.get_job(first.job_id)
    # failed and its retry due in one step: a waiter never sees the family settled
    assert (failed.state, failed.retry_state) == (mq.JobState.FAILED, mq.RetryState.SCHEDULED)
    (final,) = sub.watch_jobs([first.job_id], timeout=30)
    assert [r.attempt for r in sub.get_retry_family(first.job_id)] == [1, 2]
    assert (final.attempt, final.state) == (2, mq.JobState.SUCCEEDED)
    assert marker.read_text() == "done\n"
    store.close()


RECONCILE_FOREVER = r"""
import random, sys, time
from molq import _core
store = _core.JobStore(sys.argv[1])
ids = [sid for _, sid, *_ in store.active_jobs("c")]
rng = random.Random()
states = ["queued", "running", "succeeded", "failed"]
while True:
    rows = [(sid, rng.choice(states), rng.choice([None, 0, 1]), None, None, None) for sid in ids]
    store.reconcile("c", _core.Snapshot.from_observations(rows), None, time.time(), 60.0, 3)
    print("cycle", flush=True)
"""


def test_killed_mid_reconcile_the_store_stays_consistent(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.db")
    store = _core.JobStore(db)
    now = time.time()
    for i in range(3000):
        job_id = f"j{i}"
        store.register_job(
            {
                "job_id": job_id,
                "cluster_name": "c",
                "scheduler": "local",
                "root_job_id": job_id,
                "attempt": 1,
                "previous_attempt_job_id": None,
                "retry_group_id": job_id,
                "command_type": "argv",
                "command_display": "x",
                "cwd": "/",
                "job_dir": "/x",
                "metadata": {},
                "request_json": "{}",
                "retry_json": None,
                "profile_name": None,
            },
            [],
            now,
        )
        store.mark_submitted(job_id, str(10_000 + i), now)
    store.close()
    rng = random.Random(7)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", RECONCILE_FOREVER, db], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one cycle done
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        check = _core.JobStore(db)
        for record in check.list_jobs("c", True, None):
            chain = check.get_transitions(record.job_id)
            assert chain[-1].new_state is record.state
            for before, after in zip(chain, chain[1:]):
                assert after.old_state is before.new_state
            assert record.state.is_terminal == (record.finished_at is not None)
        check.close()
