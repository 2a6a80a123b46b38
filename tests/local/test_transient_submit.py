"""Transient submission failures are retried under the job's retry policy,
and a try that went through despite the error is never submitted twice."""

from __future__ import annotations

from pathlib import Path

import pytest

import molq as mq
from molq.errors import TransportError
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore

FAST = mq.RetryBackoff(mode="fixed", initial_seconds=0.05, maximum_seconds=0.05)


class Flaky(ShellScheduler):
    """Fails the first ``failures`` submits; ``after_launch`` makes the job
    start anyway, as when the answer is lost on the way back."""

    def __init__(self, failures: int, *, after_launch: bool) -> None:
        super().__init__()
        self.failures = failures
        self.after_launch = after_launch
        self.calls = 0

    def submit(self, spec, job_dir):  # type: ignore[override]
        self.calls += 1
        if self.calls <= self.failures:
            if self.after_launch:
                super().submit(spec, job_dir)
            raise TransportError("connection dropped while submitting")
        return super().submit(spec, job_dir)


def make(tmp_path: Path, scheduler: ShellScheduler) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster("flaky", "local", _scheduler_impl=scheduler),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
    )


def test_transient_failure_is_retried_with_the_policy(tmp_path: Path) -> None:
    flaky = Flaky(2, after_launch=False)
    sub = make(tmp_path, flaky)
    record = sub.submit_job(argv=["true"], retry=mq.RetryPolicy(max_attempts=3, backoff=FAST)).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED and flaky.calls == 3
    assert record.attempt == 1  # submission retries are not new attempts of the job


def test_without_a_policy_the_failure_is_reported(tmp_path: Path) -> None:
    sub = make(tmp_path, Flaky(1, after_launch=False))
    with pytest.raises(TransportError, match="connection dropped"):
        sub.submit_job(argv=["true"])
    (record,) = sub.list_jobs(include_terminal=True)
    assert record.state is mq.JobState.FAILED and "connection dropped" in record.failure_reason


def test_a_try_that_went_through_is_not_made_twice(tmp_path: Path) -> None:
    flaky = Flaky(1, after_launch=True)
    sub = make(tmp_path, flaky)
    marker = tmp_path / "ran"
    record = sub.submit_job(command=f"echo x >> {marker}", retry=mq.RetryPolicy(max_attempts=3, backoff=FAST)).wait(
        timeout=30
    )
    assert record.state is mq.JobState.SUCCEEDED
    assert flaky.calls == 1  # found by its marker; never submitted again
    assert marker.read_text() == "x\n"
