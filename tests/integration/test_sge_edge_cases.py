"""Grid Engine edge cases against the real testbed (``scripts/sge-up.sh``):
an accepted job is never lost or doubled, cancel means gone (arrays too),
paths are taken literally, a refused path leaves nothing behind.

Faults are made with small wrappers of the real Grid Engine commands on the
options' paths (they run the real command, then fail the caller), never mocks.
Run under ``flock /tmp/molq-testbed.lock``: ``qstat -j '*'`` sees every job.
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
from molq.options import SGESchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.sge


def submitor(tmp_path: Path, options: SGESchedulerOptions | None = None, **kwargs: Any) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster("gridengine", "sge", scheduler_options=options),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=kwargs.pop("jobs_dir", tmp_path / "jobs"),
        polling_strategy=FixedStrategy(interval=0.5),
        **kwargs,
    )


def held(sge_id: str) -> bool:
    """Whether qmaster still holds any part of the job."""
    return subprocess.run(["qstat", "-j", sge_id], capture_output=True).returncode == 0


def sge_jobs_marked(job_id: str) -> list[str]:
    """Job numbers qmaster holds whose context is molq's marker for ``job_id``."""
    out = subprocess.run(["qstat", "-j", "*"], capture_output=True, text=True).stdout
    numbers, number = [], ""
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "job_number":
            number = value.strip()
        elif key.strip() == "context" and f"molq={job_id}" in value.strip().split(","):
            numbers.append(number)
    return numbers


@pytest.fixture
def cleanup() -> Iterator[list[str]]:
    sids: list[str] = []
    yield sids
    for sid in sids:
        subprocess.run(["qdel", sid], capture_output=True)


# -- an accepted job is never lost or doubled -------------------------------------------


def test_answer_lost_after_qsub_accepted_the_job_is_tracked_once(sge_testbed: None, tmp_path: Path) -> None:
    """qsub accepts the job, then the caller never hears back (the command
    times out): the job is found by its marker and recorded, not FAILED, and
    never submitted twice."""
    hang = wrapper(tmp_path, "qsub", 'qsub "$@"; sleep 30')
    with submitor(tmp_path, SGESchedulerOptions(qsub_path=hang, submit_timeout=3)) as sub:
        for _ in range(2):
            # a retry policy lets molq retry passing failures: never this one
            handle = sub.submit_job(command="sleep 8", retry=mq.RetryPolicy(max_attempts=3))
            record = sub.get_job(handle.job_id)
            assert record.state is not mq.JobState.FAILED, record.failure_reason
            assert sge_jobs_marked(record.job_id) == [handle.scheduler_job_id]
            final = handle.wait(timeout=120)
            assert final.state is mq.JobState.SUCCEEDED, final.failure_reason
            assert len(sub.get_retry_family(handle.job_id)) == 1


def test_lookup_failing_too_leaves_the_job_tracked_not_failed(sge_testbed: None, tmp_path: Path) -> None:
    """The answer is lost and qstat cannot be read either: the submit raises
    saying the job may run, the job stays registered (not FAILED), and the
    next refresh adopts it by its marker."""
    flag = tmp_path / "qstat-down"
    hang = wrapper(tmp_path, "qsub", 'qsub "$@"; sleep 30')
    qstat = wrapper(
        tmp_path, "qstat", f'[ -e {flag} ] && {{ echo "error: commlib error: down" >&2; exit 1; }}; exec qstat "$@"'
    )
    options = SGESchedulerOptions(qsub_path=hang, qstat_path=qstat, submit_timeout=3)
    with submitor(tmp_path, options, recover_submissions_after=0.0) as sub:
        flag.touch()
        with pytest.raises(SchedulerError, match="may have been submitted") as caught:
            sub.submit_job(command="sleep 3; exit 6")
        job_id = caught.value.context["job_id"]
        record = sub.get_job(job_id)
        assert record.state is mq.JobState.CREATED and record.scheduler_job_id is None
        marked = sge_jobs_marked(job_id)
        assert len(marked) == 1
        flag.unlink()
        final = sub.watch_jobs([job_id], timeout=120)[0]
        assert (final.state, final.exit_code) == (mq.JobState.FAILED, 6)
        assert final.scheduler_job_id == marked[0]


SUBMIT_THEN_DIE = r"""
import sys
import molq as mq
from molq.options import SGESchedulerOptions
from molq.store import JobStore
options = SGESchedulerOptions(qsub_path=sys.argv[3])
sub = mq.Submitor(mq.Cluster("gridengine", "sge", scheduler_options=options),
                  store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
sub.submit_job(command=sys.argv[4])
"""


def submit_and_get_killed(tmp_path: Path, command: str) -> None:
    """A submitter that is killed (-9) right after qsub accepted its job."""
    die = wrapper(tmp_path, "qsub-kill", 'qsub "$@"; kill -9 $PPID; sleep 5')
    proc = subprocess.run(
        [sys.executable, "-c", SUBMIT_THEN_DIE, str(tmp_path / "jobs.db"), str(tmp_path / "jobs"), die, command]
    )
    assert proc.returncode == -signal.SIGKILL


def test_killed_submitter_whose_job_already_ended_and_left_grid_engine(sge_testbed: None, tmp_path: Path) -> None:
    """The jobs finished and qmaster no longer holds them (qacct keeps no
    marker): the file each job wrote into its job directory names it, so it is
    adopted with its real outcome."""
    for round_ in range(2):
        submit_and_get_killed(tmp_path, f"exit {10 + round_}")
    with submitor(tmp_path) as probe:
        stale = [r for r in probe.list_jobs() if r.state is mq.JobState.CREATED]
        assert len(stale) == 2
        numbers = {r.job_id: sge_jobs_marked(r.job_id) for r in stale}
        assert all(len(n) == 1 for n in numbers.values()), numbers
        for r in stale:
            assert wait_for(lambda r=r: not held(numbers[r.job_id][0]), 120)
    blind = wrapper(tmp_path, "empty", "exit 0")  # listings that show nothing
    options = SGESchedulerOptions(qstat_path=blind, qacct_path=blind)
    with submitor(tmp_path, options, recover_submissions_after=0.0) as sub:
        sub.refresh_jobs(force=True)
        for r in stale:
            adopted = sub.get_job(r.job_id)
            assert adopted.state is not mq.JobState.FAILED, adopted.failure_reason
            assert [adopted.scheduler_job_id] == numbers[r.job_id]
    with submitor(tmp_path) as sub:
        finals = sub.watch_jobs([r.job_id for r in stale], timeout=120)
        assert sorted(f.exit_code for f in finals) == [10, 11]


def test_cancel_of_an_unrecorded_submission_runs_qdel(sge_testbed: None, tmp_path: Path, cleanup: list[str]) -> None:
    submit_and_get_killed(tmp_path, "sleep 300")
    with submitor(tmp_path, recover_submissions_after=3600.0) as sub:
        (record,) = sub.list_jobs()
        (sid,) = sge_jobs_marked(record.job_id)
        cleanup.append(sid)
        assert record.state is mq.JobState.CREATED
        sub.cancel_job(record.job_id)
        assert not held(sid)
        assert sub.get_job(record.job_id).state is mq.JobState.CANCELLED


# -- cancel means gone --------------------------------------------------------------------


def test_a_job_ignoring_sigterm_is_cancelled_only_once_it_is_gone(sge_testbed: None, tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    with submitor(tmp_path) as sub:
        handle = sub.submit_job(command=f"trap '' TERM; while :; do date +%s.%N > {marker}; sleep 0.2; done")
        assert wait_for(lambda: marker.exists(), 120)
        sub.cancel_job(handle.job_id)
        assert sub.get_job(handle.job_id).state is mq.JobState.CANCELLED
        assert not held(handle.scheduler_job_id), "recorded cancelled while qmaster still held the job"
        last = marker.stat().st_mtime
        time.sleep(2)
        assert marker.stat().st_mtime == last, "the job still ran after it was recorded cancelled"


def test_cancelling_a_throttled_array_ends_every_task(sge_testbed: None, tmp_path: Path) -> None:
    with submitor(tmp_path) as sub:
        handle = sub.submit_job(command="sleep 300", scheduling=mq.JobScheduling(array_spec="1-6%2"))
        script = (Path(sub.get_job(handle.job_id).job_dir) / "run_sge.sh").read_text()
        assert "#$ -tc 2" in script

        def two_running() -> bool:
            sub.refresh_jobs(force=True)
            return sum(t[1] is mq.JobState.RUNNING for t in sub.get_array_tasks(handle.job_id)) == 2

        assert wait_for(two_running, 120)
        sub.cancel_job(handle.job_id)
        assert sub.get_job(handle.job_id).state is mq.JobState.CANCELLED
        assert not held(handle.scheduler_job_id)
        tasks = sub.get_array_tasks(handle.job_id)
        assert tasks and not [t for t in tasks if not t[1].is_terminal], tasks
        time.sleep(3)
        assert not held(handle.scheduler_job_id), "a throttled task started after the cancel"


# -- paths are taken literally ------------------------------------------------------------


def test_dollar_percent_backslash_and_space_in_paths_reach_the_job_literally(sge_testbed: None, tmp_path: Path) -> None:
    # $USERX: Grid Engine would read $USER then X (unset here, so molq keeps it)
    cwd = tmp_path / "run $USERX %j \\x"
    cwd.mkdir()
    sub = mq.Submitor(
        mq.Cluster("gridengine", "sge"),
        store=JobStore(tmp_path / "jobs.db"),
        polling_strategy=FixedStrategy(interval=0.5),
    )
    with sub:
        handles = [
            sub.submit_job(command="echo one; pwd", execution=mq.JobExecution(cwd=cwd), job_dir_name="d $HOME %x \\y"),
            sub.submit_job(
                command="echo two; echo err >&2",
                execution=mq.JobExecution(cwd=cwd, output_file="o $$USER %j \\t:1.log", error_file="e-$JOB_ID.log"),
            ),
        ]
        records = sub.watch_jobs([h.job_id for h in handles], timeout=120)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 2, [r.failure_reason for r in records]
    assert (cwd / ".molq" / "jobs" / "d $HOME %x \\y" / "stdout.log").read_text() == f"one\n{cwd}\n"
    # the user's own name keeps Grid Engine's variables ($$ is a $, $JOB_ID the job's number)
    assert (cwd / "o $USER %j \\t:1.log").read_text() == "two\n"
    assert (cwd / f"e-{records[1].scheduler_job_id}.log").read_text() == "err\n"


def test_tilde_and_home_in_output_file_are_resolved(sge_testbed: None, tmp_path: Path) -> None:
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


def test_a_comma_in_a_log_path_is_refused_naming_the_field_before_anything_is_written(
    sge_testbed: None, tmp_path: Path
) -> None:
    cwd = tmp_path / "a,b"
    cwd.mkdir()
    with submitor(tmp_path) as sub:
        with pytest.raises(ConfigError, match="execution.output_file") as out:
            sub.submit_job(command="true", execution=mq.JobExecution(output_file="x,y.log"))
        assert out.value.context["field"] == "execution.output_file"
        with pytest.raises(ConfigError, match="job_dir_name"):
            sub.submit_job(command="true", job_dir_name="d,1")
        assert sub.list_jobs(include_terminal=True) == []
    jobs = tmp_path / "jobs"
    assert not jobs.exists() or list(jobs.iterdir()) == []
    # a comma in the working directory is fine for -wd, refused only in a log path
    with submitor(tmp_path, jobs_dir=tmp_path / "plain") as sub:
        with pytest.raises(ConfigError, match="execution.cwd"):
            sub.submit_job(command="true", execution=mq.JobExecution(cwd=cwd, output_file="rel.log"))
        record = sub.submit_job(command="pwd", execution=mq.JobExecution(cwd=cwd)).wait(timeout=120)
        assert record.state is mq.JobState.SUCCEEDED, record.failure_reason
        assert Path(record.metadata["molq.stdout_path"]).read_text() == f"{cwd}\n"
