"""No lease or claim outlives its holder: a poller, a retrier or a daemon
killed with SIGKILL at a random point is taken over within one poll interval.

Every holder here is a real process killed with a real ``kill -9``; the loops
are short (a few seconds each) and seeded, so a failure can be replayed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import molq as mq
from molq._engine.poll_lease import SharedPoller
from molq.errors import TransportError
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore
from molq.strategies import FixedStrategy

INTERVAL = 0.2  # the poll interval of every poller in these tests

# A child that polls the cluster "c" of a store over and over, each poll
# taking a random 0-60 ms (as a real scheduler query does), until killed.
POLLER = r"""
import random, sys, time
from molq._engine.poll_lease import SharedPoller
from molq.store import JobStore
poller = SharedPoller(JobStore(sys.argv[1]), "c", min_interval=0.0, lease_seconds=120.0)
rng = random.Random(int(sys.argv[2]))
print("polling", flush=True)
while True:
    poller.run(lambda: (time.sleep(rng.random() * 0.06), None), force=True)
"""


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    assert line, child.stderr.read() if child.stderr else "child died"
    return child


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            stream.close()


def test_a_poller_killed_at_random_points_is_taken_over_within_one_interval(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.db")
    me = SharedPoller(JobStore(db), "c", min_interval=INTERVAL, lease_seconds=120.0)
    rng = random.Random(5)
    held_when_killed = 0
    for round_ in range(12):
        child = _spawn(POLLER, db, str(round_))
        time.sleep(rng.random() * 0.15)
        _kill(child)
        status = me._store.poll_status("c")
        held_when_killed += status is not None and status[0] is not None
        started = time.monotonic()
        while me.run(lambda: ("polled", None)) is None:
            assert time.monotonic() - started < INTERVAL + 0.5, f"round {round_}: the dead poller's lease still holds"
            time.sleep(0.01)
    assert held_when_killed >= 3, "too few kills landed mid-poll to test anything"


def test_a_wait_goes_on_after_the_poller_of_its_cluster_is_killed(tmp_path: Path) -> None:
    """The waiter's own Submitor sees the job end promptly, not after the lease runs out."""
    db = tmp_path / "jobs.db"
    cluster = mq.Cluster("c", "local")
    sub = mq.Submitor(
        cluster,
        store=JobStore(db),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        min_poll_interval=INTERVAL,
    )
    handle = sub.submit_job(command="sleep 0.3")
    # A poller stuck in the middle of a poll of "c", killed there.
    stuck = _spawn(
        r"""
import sys, time
from molq._engine.poll_lease import SharedPoller
from molq.store import JobStore
poller = SharedPoller(JobStore(sys.argv[1]), "c", min_interval=0.0, lease_seconds=120.0)
def poll():
    print("in the poll", flush=True)
    time.sleep(3600)
poller.run(poll, force=True)
""",
        str(db),
    )
    _kill(stuck)
    started = time.monotonic()
    record = handle.wait(timeout=20)
    assert record.state is mq.JobState.SUCCEEDED
    assert time.monotonic() - started < 5


def _failing_job(sub: mq.Submitor, attempts: int, backoff: float) -> mq.JobHandle:
    retry = mq.RetryPolicy(
        max_attempts=attempts,
        backoff=mq.RetryBackoff(mode="fixed", initial_seconds=backoff, maximum_seconds=backoff),
    )
    return sub.submit_job(argv=["false"], retry=retry)


def _submitor(tmp_path: Path, db: Path, scheduler: ShellScheduler | None = None) -> mq.Submitor:
    extra = {} if scheduler is None else {"_scheduler_impl": scheduler}
    return mq.Submitor(
        mq.Cluster("c", "local", **extra),
        store=JobStore(db),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        min_poll_interval=0.05,
    )


# A child that claims every due retry of cluster "c" for itself, says so, and
# then hangs (as a retrier stopped between claiming and submitting would).
CLAIMER = r"""
import sys, time
from molq.store import JobStore
store = JobStore(sys.argv[1])
while not store.claim_due_retries("c", time.time()):
    time.sleep(0.01)
print("claimed", flush=True)
time.sleep(3600)
"""


def test_a_retrier_killed_after_claiming_does_not_strand_the_job(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    sub = _submitor(tmp_path, db)
    handle = _failing_job(sub, attempts=2, backoff=0.0)
    # Let the first attempt fail without this process claiming its retry.
    while not sub.get_job(handle.job_id).state.is_terminal:
        sub._engine._poller.run(lambda: (sub.reconciler.reconcile(), None), force=True)
        time.sleep(0.02)
    _kill(_spawn(CLAIMER, str(db)))
    assert sub.get_job(handle.job_id).retry_state == "claimed"
    record = handle.wait(timeout=20)
    assert (record.attempt, record.state) == (2, mq.JobState.FAILED)
    assert [r.attempt for r in sub.get_retry_family(handle.job_id)] == [1, 2]


# A child that refreshes cluster "c" over and over, retries included.
REFRESHER = r"""
import sys
import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy
sub = mq.Submitor(mq.Cluster("c", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2], min_poll_interval=0.0)
print("refreshing", flush=True)
while True:
    sub.refresh_jobs(force=True)
"""


def test_retriers_killed_at_random_points_leave_each_attempt_once(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    sub = _submitor(tmp_path, db)
    rng = random.Random(11)
    for round_ in range(6):
        handle = _failing_job(sub, attempts=3, backoff=0.0)
        child = _spawn(REFRESHER, str(db), str(tmp_path / "jobs"))
        time.sleep(rng.random() * 0.4)
        _kill(child)
        record = handle.wait(timeout=20)
        family = sub.get_retry_family(handle.job_id)
        assert [r.attempt for r in family] == [1, 2, 3], f"round {round_}: {family}"
        assert (record.attempt, record.state) == (3, mq.JobState.FAILED)


def test_a_retrier_killed_after_submitting_the_next_attempt_does_not_submit_it_twice(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    sub = _submitor(tmp_path, db)
    handle = _failing_job(sub, attempts=2, backoff=0.0)
    while not sub.get_job(handle.job_id).state.is_terminal:
        sub._engine._poller.run(lambda: (sub.reconciler.reconcile(), None), force=True)
        time.sleep(0.02)
    # The child submits the retry, then dies before recording the claim as done.
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            r"""
import os, signal, sys
import molq as mq
from molq.store import JobStore
store = JobStore(sys.argv[1])
store.finish_retry = lambda job_id: os.kill(os.getpid(), signal.SIGKILL)
sub = mq.Submitor(mq.Cluster("c", "local"), store=store, jobs_dir=sys.argv[2])
from molq._engine.retries import resubmit_due_retries
resubmit_due_retries(sub._engine.ctx)
""",
            str(db),
            str(tmp_path / "jobs"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert sub.get_job(handle.job_id).retry_state == "claimed"
    record = handle.wait(timeout=20)
    assert [r.attempt for r in sub.get_retry_family(handle.job_id)] == [1, 2]
    assert record.attempt == 2 and sub.get_job(handle.job_id).retry_state == "done"


class FailsSecondSubmit(ShellScheduler):
    """Accepts the first submission; the second (the retry) meets a dropped connection."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def submit(self, spec, job_dir):  # type: ignore[override]
        self.calls += 1
        if self.calls == 2:
            raise TransportError("connection dropped while submitting")
        return super().submit(spec, job_dir)


def test_a_passing_failure_to_submit_a_retry_is_scheduled_not_slept(tmp_path: Path) -> None:
    backoff = 1.5
    sub = _submitor(tmp_path, tmp_path / "jobs.db", FailsSecondSubmit())
    handle = _failing_job(sub, attempts=3, backoff=backoff)
    longest = 0.0
    deadline = time.monotonic() + 30
    while (
        sub.get_job(handle.job_id, latest_attempt=True).attempt < 2
        or not sub.get_job(handle.job_id, latest_attempt=True).state.is_terminal
    ):
        started = time.monotonic()
        sub.refresh_jobs(force=True)
        longest = max(longest, time.monotonic() - started)
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = sub.get_job(handle.job_id, latest_attempt=True)
    assert second.state is mq.JobState.FAILED and "connection dropped" in (second.failure_reason or "")
    assert longest < backoff / 2, f"a refresh took {longest:.2f} s: it slept out the backoff"
    assert second.retry_state == "scheduled" and second.retry_due_at > time.time() - 0.5
    record = handle.wait(timeout=30)
    assert (record.attempt, record.state) == (3, mq.JobState.FAILED)  # `false` ran on the third try
    assert record.exit_code == 1


DAEMON = r"""
import sys
import molq as mq
from molq.store import JobStore
sub = mq.Submitor(mq.Cluster("d", "local"), store=JobStore(sys.argv[1]))
print("running", flush=True)
sub.run_daemon(interval=0.05, run_cleanup=False)
"""


def test_a_daemon_killed_at_random_points_leaves_its_lock_to_the_next(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    JobStore(db).close()
    rng = random.Random(3)
    for _ in range(5):
        first = _spawn(DAEMON, str(db))
        time.sleep(rng.random() * 0.3)
        _kill(first)
        started = time.monotonic()
        second = _spawn(DAEMON, str(db))  # refused (non-zero exit, no "running") if the lock stayed
        assert time.monotonic() - started < 5
        _kill(second)


def test_a_holder_is_known_dead_only_by_pid_and_start_time_on_this_host() -> None:
    from molq._liveness import _start_time, is_dead, this_process

    me = this_process()
    host, pid, start = me.split(":")
    assert not is_dead(me) and not is_dead(f"{me}:poller-suffix")
    # The pid lives, but it is another process than the holder was (pid reuse).
    assert is_dead(f"{host}:{pid}:{int(start) + 1}")
    child = subprocess.Popen(["sleep", "30"])
    token = f"{host}:{child.pid}:{_start_time(child.pid)}"
    assert not is_dead(token)
    os.kill(child.pid, signal.SIGKILL)
    time.sleep(0.05)
    assert is_dead(token), "a killed, unreaped child (a zombie) is dead"
    child.wait()
    assert is_dead(token)
    # Another host's holder cannot be checked from here: it is trusted.
    assert not is_dead(f"elsewhere.example:{child.pid}:1")
