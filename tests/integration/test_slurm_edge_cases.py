"""Slurm edge cases against the real testbed: an accepted job is never lost
or doubled, cancel means gone (arrays too), a dead poller does not block the
next, paths are taken literally, a refused field leaves nothing behind.

Faults are made with small wrappers of the real Slurm commands on the
options' paths (they run the real command, then fail the caller), never mocks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _edge_helpers import wait_for, wrapper

import molq as mq
from molq.errors import ConfigError, SchedulerError
from molq.options import SlurmSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.slurm


def submitor(tmp_path: Path, options: SlurmSchedulerOptions | None = None, **kwargs: Any) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster("testbed", "slurm", scheduler_options=options),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.5),
        **kwargs,
    )


def live_states(sid: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-r", "-j", sid, "-o", "%T"], capture_output=True, text=True).stdout
    ended = {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"}
    return [s for s in out.split() if s not in ended]


def slurm_jobs_marked(job_id: str) -> list[str]:
    """Slurm job ids whose comment is molq's marker for ``job_id`` (the queue
    keeps finished jobs for MinJobAge, 300 s on the testbed)."""
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%k"], capture_output=True, text=True).stdout
    return [line.split("|")[0] for line in out.splitlines() if line.endswith(f"|molq:{job_id}")]


@pytest.fixture
def cleanup() -> Iterator[list[str]]:
    sids: list[str] = []
    yield sids
    for sid in sids:
        subprocess.run(["scancel", sid], capture_output=True)


# -- item 2: an accepted job is never lost or doubled ---------------------------------


def test_answer_lost_after_sbatch_accepted_the_job_is_tracked_once(slurm_testbed: Any, tmp_path: Path) -> None:
    """sbatch accepts the job, then the caller never hears back (the command
    times out): the job is found by its marker and recorded, not FAILED, and
    never submitted twice."""
    hang = wrapper(tmp_path, "sbatch", 'sbatch "$@"; sleep 30')
    with submitor(tmp_path, SlurmSchedulerOptions(sbatch_path=hang, submit_timeout=3)) as sub:
        for _ in range(3):
            # a retry policy lets molq retry passing failures: never this one
            handle = sub.submit_job(command="true", retry=mq.RetryPolicy(max_attempts=3))
            record = sub.get_job(handle.job_id)
            assert record.state is not mq.JobState.FAILED, record.failure_reason
            assert slurm_jobs_marked(record.job_id) == [handle.scheduler_job_id]
            final = handle.wait(timeout=120)
            assert final.state is mq.JobState.SUCCEEDED
            assert len(sub.get_retry_family(handle.job_id)) == 1


def test_lookup_failing_too_leaves_the_job_tracked_not_failed(slurm_testbed: Any, tmp_path: Path) -> None:
    """The answer is lost and the queue cannot be read either: the submit
    raises saying the job may run, the job stays registered (not FAILED), and
    the next refresh adopts it by its marker."""
    flag = tmp_path / "squeue-down"
    hang = wrapper(tmp_path, "sbatch", 'sbatch "$@"; sleep 30')
    squeue = wrapper(
        tmp_path, "squeue", f'[ -e {flag} ] && {{ echo "squeue: error: down" >&2; exit 1; }}; exec squeue "$@"'
    )
    options = SlurmSchedulerOptions(sbatch_path=hang, squeue_path=squeue, submit_timeout=3)
    with submitor(tmp_path, options, recover_submissions_after=0.0) as sub:
        flag.touch()
        with pytest.raises(SchedulerError, match="may have been submitted") as caught:
            sub.submit_job(command="sleep 1; exit 6")
        job_id = caught.value.context["job_id"]
        record = sub.get_job(job_id)
        assert record.state is mq.JobState.CREATED and record.scheduler_job_id is None
        assert len(slurm_jobs_marked(job_id)) == 1
        flag.unlink()
        final = sub.watch_jobs([job_id], timeout=120)[0]
        assert (final.state, final.exit_code) == (mq.JobState.FAILED, 6)
        assert [final.scheduler_job_id] == slurm_jobs_marked(job_id)


SUBMIT_THEN_DIE = r"""
import sys
import molq as mq
from molq.options import SlurmSchedulerOptions
from molq.store import JobStore
options = SlurmSchedulerOptions(sbatch_path=sys.argv[3])
sub = mq.Submitor(mq.Cluster("testbed", "slurm", scheduler_options=options),
                  store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
sub.submit_job(command=sys.argv[4])
"""


def submit_and_get_killed(tmp_path: Path, command: str) -> None:
    """A submitter that is killed (-9) right after sbatch accepted its job."""
    die = wrapper(tmp_path, "sbatch-kill", 'sbatch "$@"; kill -9 $PPID; sleep 5')
    proc = subprocess.run(
        [sys.executable, "-c", SUBMIT_THEN_DIE, str(tmp_path / "jobs.db"), str(tmp_path / "jobs"), die, command]
    )
    assert proc.returncode == -signal.SIGKILL


def test_killed_submitter_whose_job_already_ended_and_left_slurm(slurm_testbed: Any, tmp_path: Path) -> None:
    """The job finished and neither the queue nor accounting shows it any
    more (sacct's Comment is empty on most sites): the job's own file in its
    job directory still names it, so it is adopted with its real outcome."""
    for round_ in range(2):
        submit_and_get_killed(tmp_path, f"exit {10 + round_}")
    blind = wrapper(tmp_path, "empty", "exit 0")  # a queue and accounting that forgot the jobs
    with submitor(tmp_path) as probe:
        stale = [r for r in probe.list_jobs() if r.state is mq.JobState.CREATED]
        assert len(stale) == 2
        assert wait_for(lambda: all((Path(r.job_dir) / ".slurm_job_id").exists() for r in stale))
        for r in stale:
            assert wait_for(lambda r=r: not live_states(slurm_jobs_marked(r.job_id)[0]))
    options = SlurmSchedulerOptions(squeue_path=blind, sacct_path=blind)
    with submitor(tmp_path, options, recover_submissions_after=0.0) as sub:
        sub.refresh_jobs(force=True)
        for r in stale:
            adopted = sub.get_job(r.job_id)
            assert adopted.state is not mq.JobState.FAILED, adopted.failure_reason
            assert [adopted.scheduler_job_id] == slurm_jobs_marked(r.job_id)
    with submitor(tmp_path) as sub:
        finals = sub.watch_jobs([r.job_id for r in stale], timeout=120)
        assert sorted(f.exit_code for f in finals) == [10, 11]


def test_cancel_of_an_unrecorded_submission_runs_scancel(
    slurm_testbed: Any, tmp_path: Path, cleanup: list[str]
) -> None:
    submit_and_get_killed(tmp_path, "sleep 300")
    with submitor(tmp_path, recover_submissions_after=3600.0) as sub:
        (record,) = sub.list_jobs()
        (sid,) = slurm_jobs_marked(record.job_id)
        cleanup.append(sid)
        assert record.state is mq.JobState.CREATED
        sub.cancel_job(record.job_id)
        assert live_states(sid) == []
        assert sub.get_job(record.job_id).state is mq.JobState.CANCELLED


# -- item 4: cancel means gone -------------------------------------------------------


def test_a_job_ignoring_sigterm_is_cancelled_only_once_it_is_gone(slurm_testbed: Any, tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    with submitor(tmp_path) as sub:
        handle = sub.submit_job(command=f"trap '' TERM; while :; do date +%s.%N > {marker}; sleep 0.2; done")
        assert wait_for(lambda: marker.exists(), 120)
        started = time.monotonic()
        sub.cancel_job(handle.job_id)
        took = time.monotonic() - started
        assert sub.get_job(handle.job_id).state is mq.JobState.CANCELLED
        assert live_states(handle.scheduler_job_id) == []
        last = marker.stat().st_mtime
        time.sleep(2)
        assert marker.stat().st_mtime == last, "the job still ran after it was recorded cancelled"
        assert took > 5, "cancel returned before Slurm's KillWait let the job end"


def test_cancelling_a_throttled_array_ends_every_task(slurm_testbed: Any, tmp_path: Path) -> None:
    with submitor(tmp_path) as sub:
        handle = sub.submit_job(command="sleep 300", scheduling=mq.JobScheduling(array_spec="0-5%2"))

        def two_running() -> bool:
            sub.refresh_jobs(force=True)
            return sum(t[1] is mq.JobState.RUNNING for t in sub.get_array_tasks(handle.job_id)) == 2

        assert wait_for(two_running, 120)
        sub.cancel_job(handle.job_id)
        assert sub.get_job(handle.job_id).state is mq.JobState.CANCELLED
        assert live_states(handle.scheduler_job_id) == []
        tasks = sub.get_array_tasks(handle.job_id)
        assert tasks and not [t for t in tasks if not t[1].is_terminal], tasks
        time.sleep(3)
        assert live_states(handle.scheduler_job_id) == [], "a throttled task started after the cancel"


# -- item 5: a dead poller does not hold the poll lease -------------------------------

POLL_AND_DIE = r"""
import sys
import molq as mq
from molq.options import SlurmSchedulerOptions
from molq.store import JobStore
options = SlurmSchedulerOptions(squeue_path=sys.argv[2])
sub = mq.Submitor(mq.Cluster("testbed", "slurm", scheduler_options=options), store=JobStore(sys.argv[1]))
sub.run_daemon(interval=1.0, run_cleanup=False)
"""


def test_a_daemon_killed_mid_poll_does_not_block_the_next(
    slurm_testbed: Any, tmp_path: Path, cleanup: list[str]
) -> None:
    log, stall = tmp_path / "polls.log", tmp_path / "stall"
    squeue = wrapper(tmp_path, "squeue", f'echo "$$" >> {log}; [ -e {stall} ] && sleep 300; exec squeue "$@"')
    with submitor(tmp_path) as sub:
        handle = sub.submit_job(command="sleep 300")
        cleanup.append(handle.scheduler_job_id or "")
    stall.touch()
    daemon = subprocess.Popen([sys.executable, "-c", POLL_AND_DIE, str(tmp_path / "jobs.db"), squeue])
    try:
        assert wait_for(lambda: log.exists() and log.read_text().strip() != "", 60), "the daemon never polled"
    finally:
        daemon.kill()
        daemon.wait()
    stall.unlink()
    polls = len(log.read_text().split())
    options = SlurmSchedulerOptions(squeue_path=squeue)
    with submitor(tmp_path, options) as sub:
        started = time.monotonic()
        sub.refresh_jobs()
        assert len(log.read_text().split()) > polls, "the dead daemon's lease kept the new poller out"
        assert time.monotonic() - started < 30
        assert sub.get_job(handle.job_id).state in (mq.JobState.QUEUED, mq.JobState.RUNNING)


# -- item 6: paths are taken literally -------------------------------------------------


def test_percent_and_backslash_in_paths_reach_the_job_literally(slurm_testbed: Any, tmp_path: Path) -> None:
    cwd = tmp_path / "run%j"
    cwd.mkdir()
    sub = mq.Submitor(
        mq.Cluster("testbed", "slurm"),
        store=JobStore(tmp_path / "jobs.db"),
        polling_strategy=FixedStrategy(interval=0.5),
    )
    with sub:
        handles = [
            sub.submit_job(command="echo one", execution=mq.JobExecution(cwd=cwd), job_dir_name="cwd%x"),
            sub.submit_job(
                command="echo two; echo err >&2",
                execution=mq.JobExecution(cwd=cwd, output_file="a\\tb%j.log", error_file="e%%x.log"),
            ),
        ]
        records = sub.watch_jobs([h.job_id for h in handles], timeout=120)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 2, [r.failure_reason for r in records]
    assert (cwd / ".molq" / "jobs" / "cwd%x" / "stdout.log").read_text() == "one\n"
    assert (cwd / "a\\tb%j.log").read_text() == "two\n"
    # a name the user gives keeps Slurm's patterns (%% is a %); molq's own parts do not
    assert (cwd / "e%x.log").read_text() == "err\n"


def test_tilde_and_home_in_output_file_are_resolved(slurm_testbed: Any, tmp_path: Path) -> None:
    name = f"molq-e17-{uuid.uuid4().hex[:8]}"
    home = Path(os.path.expanduser("~"))
    try:
        with submitor(tmp_path) as sub:
            handle = sub.submit_job(
                command="echo out; echo err >&2",
                execution=mq.JobExecution(output_file=f"~/{name}.out", error_file=f"$HOME/{name}.err"),
            )
            record = handle.wait(timeout=120)
        assert record.state is mq.JobState.SUCCEEDED, record.failure_reason
        assert (home / f"{name}.out").read_text() == "out\n"
        assert (home / f"{name}.err").read_text() == "err\n"
    finally:
        for suffix in (".out", ".err"):
            (home / f"{name}{suffix}").unlink(missing_ok=True)


# -- item 8: a refused field leaves nothing behind -------------------------------------


def test_refused_directive_value_leaves_no_record_and_no_job_dir(slurm_testbed: Any, tmp_path: Path) -> None:
    with submitor(tmp_path) as sub:
        with pytest.raises(ConfigError, match="job_name"):
            sub.submit_job(command="true", execution=mq.JobExecution(job_name='a"b'))
        assert sub.list_jobs(include_terminal=True) == []
    jobs = tmp_path / "jobs"
    assert not jobs.exists() or list(jobs.iterdir()) == []
