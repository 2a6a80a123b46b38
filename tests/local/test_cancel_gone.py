"""Cancel means gone: after ``cancel_job`` returns, no process of the job's
process group or session is alive, and a job is never recorded as ended while
one of its processes still runs. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import molq as mq
from _local_pids import wrapper_pid
from molq import _core
from molq.options import LocalSchedulerOptions
from molq.scheduler.base import OneJobQueries
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore


def job_processes(leader: int) -> list[int]:
    """Live (not zombie) pids whose process group or session is ``leader``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        state, pgrp, session = fields[0], int(fields[2]), int(fields[3])
        if state not in (b"Z", b"X") and leader in (pgrp, session):
            found.append(int(entry))
    return found


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def running_payload(sub: mq.Submitor, handle: mq.JobHandle, marker: Path) -> int:
    """Wait until the job's payload has written ``marker``; return the job's session id."""
    assert wait_for(marker.exists), "the job never started"
    return wrapper_pid(sub.get_job(handle.job_id).job_dir or "")


def test_a_job_that_ignores_sigterm_is_killed_before_cancelled_is_recorded(
    submitor: mq.Submitor, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    handle = submitor.submit_job(
        argv=["bash", "-c", 'trap "" TERM; touch "$1"; sleep 60; echo survived > "$1.after"', "job", str(marker)]
    )
    leader = running_payload(submitor, handle, marker)
    assert job_processes(leader)
    submitor.cancel_job(handle.job_id)
    assert job_processes(leader) == []
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED
    time.sleep(0.3)
    assert not Path(f"{marker}.after").exists()


def test_processes_that_left_the_job_group_but_not_its_session_are_killed(
    submitor: mq.Submitor, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    # job control gives the background sleeps process groups of their own
    handle = submitor.submit_job(
        argv=["bash", "-c", 'set -m; trap "" TERM; sleep 60 & sleep 61 & touch "$1"; wait', "job", str(marker)]
    )
    leader = running_payload(submitor, handle, marker)
    own_groups = {os.getpgid(p) for p in job_processes(leader)}
    assert len(own_groups) >= 2, "the test needs processes outside the leader's group"
    submitor.cancel_job(handle.job_id)
    assert job_processes(leader) == []
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_a_job_that_keeps_forking_and_ignores_sigterm_is_gone_after_cancel(
    submitor: mq.Submitor, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    # orphans of its own (reparented away from the job shell), made as fast as it can
    handle = submitor.submit_job(
        argv=["bash", "-c", 'trap "" TERM; touch "$1"; while :; do (sleep 30 &); sleep 0.01; done', "job", str(marker)]
    )
    leader = running_payload(submitor, handle, marker)
    assert wait_for(lambda: len(job_processes(leader)) > 5)
    submitor.cancel_job(handle.job_id)
    assert job_processes(leader) == []
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_a_stopped_job_is_woken_to_receive_its_sigterm(submitor: mq.Submitor, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    handle = submitor.submit_job(argv=["bash", "-c", 'touch "$1"; kill -STOP $$; sleep 60', "job", str(marker)])
    leader = running_payload(submitor, handle, marker)

    def stopped() -> bool:
        states = []
        for pid in job_processes(leader):
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read()
            states.append(stat[stat.rindex(b")") + 2 :].split()[0])
        return b"T" in states

    assert wait_for(stopped)
    started = time.monotonic()
    submitor.cancel_job(handle.job_id)
    assert time.monotonic() - started < 2.0  # it did not have to wait out the grace period
    assert job_processes(leader) == []


def test_a_killed_wrapper_does_not_end_the_job_while_it_runs(submitor: mq.Submitor, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    handle = submitor.submit_job(argv=["bash", "-c", 'touch "$1"; sleep 60', "job", str(marker)])
    leader = running_payload(submitor, handle, marker)
    os.kill(leader, signal.SIGKILL)  # the wrapper only; the job's processes run on
    assert wait_for(lambda: leader not in job_processes(leader))
    for _ in range(5):
        submitor.refresh_jobs(force=True)
        assert submitor.get_job(handle.job_id).state is mq.JobState.RUNNING
        time.sleep(0.05)
    assert job_processes(leader), "the job's processes are still running"
    submitor.cancel_job(handle.job_id)  # and cancel still reaches them
    assert job_processes(leader) == []
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_a_job_whose_wrapper_was_killed_ends_lost_only_when_its_processes_end(
    submitor: mq.Submitor, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    handle = submitor.submit_job(argv=["bash", "-c", 'touch "$1"; sleep 1.5', "job", str(marker)])
    leader = running_payload(submitor, handle, marker)
    os.kill(leader, signal.SIGKILL)
    submitor.refresh_jobs(force=True)
    assert submitor.get_job(handle.job_id).state is mq.JobState.RUNNING
    record = handle.wait(timeout=30)
    assert record.state is mq.JobState.LOST
    assert job_processes(leader) == []
    assert record.finished_at is not None and record.finished_at >= record.started_at + 1.0


def test_leftover_background_processes_end_with_the_job(submitor: mq.Submitor, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    handle = submitor.submit_job(
        argv=["bash", "-c", '(trap "" TERM; exec sleep 60) & touch "$1"; exit 0', "job", str(marker)]
    )
    leader = running_payload(submitor, handle, marker)
    record = handle.wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED and record.exit_code == 0
    assert job_processes(leader) == []


SUBMIT_THEN_DIE = r"""
import os, signal, sys
import molq as mq
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore

real_submit = ShellScheduler.submit
def submit_and_die(self, spec, job_dir):
    sid = real_submit(self, spec, job_dir)      # the wrapper is running now...
    print(sid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)        # ...and molq never records its id
ShellScheduler.submit = submit_and_die
sub = mq.Submitor(mq.Cluster("crash", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
sub.submit_job(argv=["bash", "-c", 'touch "$1"; sleep 60', "job", sys.argv[3]])
"""


def test_cancelling_an_interrupted_submission_kills_its_process(tmp_path: Path) -> None:
    db, marker = tmp_path / "jobs.db", tmp_path / "started"
    proc = subprocess.run(
        [sys.executable, "-c", SUBMIT_THEN_DIE, str(db), str(tmp_path / "jobs"), str(marker)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGKILL
    assert wait_for(marker.exists)
    with JobStore(db) as store:
        sub = mq.Submitor(mq.Cluster("crash", "local"), store=store)
        (record,) = sub.list_jobs()
        assert record.state is mq.JobState.CREATED and record.scheduler_job_id is None
        leader = wrapper_pid(record.job_dir or "")
        assert job_processes(leader)
        sub.cancel_job(record.job_id)
        assert job_processes(leader) == []
        assert sub.get_job(record.job_id).state is mq.JobState.CANCELLED
        sub.close()


def test_a_wrapper_that_starts_after_the_cancel_never_runs_the_job(tmp_path: Path) -> None:
    """A queued job is cancelled by a process that does not know its id (its
    submitter died first): cancel leaves the marker and takes it out of the
    queue under the lock, and a wrapper started for it anyway runs nothing."""
    slots = tmp_path / "slots"
    options = LocalSchedulerOptions(cpus=1, gpus=0, slots_dir=str(slots))
    with mq.Submitor(
        mq.Cluster("one", "local", scheduler_options=options),
        store=JobStore(tmp_path / "db"),
        jobs_dir=tmp_path / "jobs",
    ) as sub:
        blocker = sub.submit_job(argv=["sleep", "30"])
        ran = tmp_path / "ran"
        queued = sub.get_job(sub.submit_job(argv=["touch", str(ran)]).job_id)
        scheduler = ShellScheduler(options)
        job_dir = queued.job_dir or ""
        assert scheduler.cancel_unrecorded(queued.job_id, job_dir) == (queued.scheduler_job_id, True)
        assert not list((slots / "queue").iterdir())
        sid = queued.scheduler_job_id or ""
        pid = scheduler.transport.spawn_detached(  # type: ignore[attr-defined]
            ["bash", f"{job_dir}/.wrapper.sh", "run", str(slots), sid, job_dir]
        )
        assert wait_for(lambda: (Path(job_dir) / ".pid").exists())
        assert wait_for(lambda: not job_processes(pid))
        assert not ran.exists()
        snapshot = scheduler.poll(_core.ActiveJobs([(queued.job_id, sid, job_dir, 0.0)]))
        assert snapshot.states() == {sid: mq.JobState.CANCELLED}
        blocker.cancel()


def test_cancel_of_a_finished_job_records_its_real_outcome(submitor: mq.Submitor) -> None:
    handle = submitor.submit_job(argv=["true"])
    exit_file = Path(submitor.get_job(handle.job_id).job_dir) / ".exit_code"
    assert wait_for(exit_file.exists)
    submitor.cancel_job(handle.job_id)
    assert submitor.get_job(handle.job_id).state is mq.JobState.SUCCEEDED
    assert not (exit_file.parent / ".cancel_requested").exists()


class _SlowToAnswer(ShellScheduler):
    """A backend like the batch ones: no cancel marker, and its queue does not
    show a job until its submit command has returned."""

    cancel_unrecorded = OneJobQueries.cancel_unrecorded  # the batch backends' way: find, then cancel
    in_flight: Callable[[], None] = staticmethod(lambda: None)

    def find_submissions(self, jobs: object) -> dict[str, str]:
        return {}

    def submit(self, spec: object, job_dir: str) -> str:
        sid = super().submit(spec, job_dir)  # type: ignore[arg-type]
        self.in_flight()  # another process cancels the job now
        return sid


def test_a_job_cancelled_while_its_submit_is_in_flight_is_stopped_by_its_submitter(
    tmp_path: Path, store: JobStore
) -> None:
    marker = tmp_path / "started"
    scheduler = _SlowToAnswer()
    cluster = mq.Cluster("laptop", "local", _scheduler_impl=scheduler)
    sub = mq.Submitor(cluster, store=store, jobs_dir=tmp_path / "jobs")
    other = mq.Submitor(cluster, store=store, jobs_dir=tmp_path / "jobs")  # as another process would

    def cancel_from_elsewhere() -> None:
        assert wait_for(marker.exists)
        (record,) = other.list_jobs()
        assert record.state is mq.JobState.CREATED and record.scheduler_job_id is None
        other.cancel_job(record.job_id)  # finds nothing to stop yet: records CANCELLED

    scheduler.in_flight = cancel_from_elsewhere  # type: ignore[method-assign]
    handle = sub.submit_job(argv=["bash", "-c", 'touch "$1"; sleep 60', "job", str(marker)])
    leader = wrapper_pid(sub.get_job(handle.job_id).job_dir or "", timeout=0.5)
    assert leader == 0 or job_processes(leader) == []
    assert sub.get_job(handle.job_id).state is mq.JobState.CANCELLED
    other.close()
    sub.close()


SUBMIT_IGNORING_SIGNALS = r"""
import signal, sys
import molq as mq
from molq.store import JobStore
signal.signal(signal.SIGTERM, signal.SIG_IGN)   # as under some service managers
signal.signal(signal.SIGHUP, signal.SIG_IGN)    # as under nohup
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
sub = mq.Submitor(mq.Cluster("l", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
record = sub.submit_job(command="grep -E '^Sig(Ign|Blk)' /proc/self/status; yes | head -1").wait(timeout=30)
print(open(record.metadata["molq.stdout_path"]).read(), end="")
print(open(record.metadata["molq.stderr_path"]).read(), end="")
"""


def test_a_job_starts_with_default_signal_handling_whatever_its_submitter_ignores(tmp_path: Path) -> None:
    """Python ignores SIGPIPE, and exec keeps ignored signals and the mask: a
    job must not inherit them (it would survive a SIGTERM, or a closed pipe)."""
    proc = subprocess.run(
        [sys.executable, "-c", SUBMIT_IGNORING_SIGNALS, str(tmp_path / "jobs.db"), str(tmp_path / "jobs")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(":\t") for line in proc.stdout.splitlines() if line.startswith("Sig"))
    standard = (1 << 31) - 1  # signals 1..31 (glibc keeps 32 and 33 for itself)
    assert int(lines["SigIgn"], 16) & standard == 0
    assert int(lines["SigBlk"], 16) == 0
    assert "Broken pipe" not in proc.stdout  # yes died of SIGPIPE, silently, as in a terminal
