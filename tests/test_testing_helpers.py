"""molq.testing: FakeScheduler and make_submitor drive the real engine and store."""

from __future__ import annotations

import molq as mq
from molq.testing import FakeScheduler, make_submitor


def test_outcomes_cycle_and_wait() -> None:
    sub = make_submitor(outcomes=["succeeded", "failed", "timed_out", "out_of_memory"], job_duration=0.05)
    handles = [sub.submit_job(argv=["x"]) for _ in range(4)]
    states = [h.wait(timeout=10).state for h in handles]
    assert states == [mq.JobState.SUCCEEDED, mq.JobState.FAILED, mq.JobState.TIMED_OUT, mq.JobState.OUT_OF_MEMORY]


def test_dependencies_work_with_the_fake() -> None:
    sub = make_submitor(job_duration=0.05)
    first = sub.submit_job(argv=["a"])
    second = sub.submit_job(argv=["b"], after_success=[first.job_id], after=[first.job_id])
    deps = sub.get_dependencies(second.job_id)
    # conditions are merged in the order after_started, after, after_failure, after_success
    assert [(d.dependency_job_id, d.dependency_type) for d in deps] == [
        (first.job_id, "after"),
        (first.job_id, "after_success"),
    ]
    assert [d.job_id for d in sub.get_dependents(first.job_id)] == [second.job_id, second.job_id]
    fake: FakeScheduler = sub.target.scheduler_impl
    assert (
        fake.submitted[-1].scheduling.dependency
        == f"after:{first.scheduler_job_id},after_success:{first.scheduler_job_id}"
    )


def test_fake_cancel_and_retry() -> None:
    sub = make_submitor(outcomes=["failed", "succeeded"], job_duration=0.05)
    record = sub.submit_job(
        argv=["x"],
        retry=mq.RetryPolicy(max_attempts=2, backoff=mq.RetryBackoff(mode="fixed", initial_seconds=0.01)),
    ).wait(timeout=10)
    assert (record.state, record.attempt) == (mq.JobState.SUCCEEDED, 2)
    slow = make_submitor(job_duration=5)
    handle = slow.submit_job(argv=["x"])
    handle.cancel()
    assert slow.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_fake_scheduler_answers_the_original_per_job_queries() -> None:
    import time

    from molq.models import Command, JobSpec
    from molq.testing import FakeScheduler

    spec = JobSpec(job_id="a", cluster_name="c", scheduler="local", command=Command.from_submit_args(argv=["x"]))
    quick, slow = FakeScheduler(job_duration=0.0, outcomes="failed"), FakeScheduler(job_duration=30.0)
    done, running = quick.submit(spec, "/tmp"), slow.submit(spec, "/tmp")
    time.sleep(0.01)
    assert quick.poll_many([done]) == {} and quick.resolve_terminal(done) is mq.JobState.FAILED
    assert slow.poll_many([running]) == {running: mq.JobState.QUEUED} and slow.resolve_terminal(running) is None
    assert quick.resolve_terminal("unknown") is None
