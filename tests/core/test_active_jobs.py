"""The jobs a refresh polls cross the FFI as named native values, read once
per cycle (and not at all when no job row was written since the last one)."""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

import molq as mq
from molq import _core
from molq.store import JobStore
from molq.testing import FakeScheduler


def _register(store: JobStore, job_id: str, sid: str, at: float) -> None:
    store.register_job(
        {
            "job_id": job_id,
            "cluster_name": "c",
            "scheduler": "slurm",
            "root_job_id": job_id,
            "attempt": 1,
            "previous_attempt_job_id": None,
            "retry_group_id": job_id,
            "command_type": "argv",
            "command_display": "x",
            "cwd": "/",
            "job_dir": f"/jobs/{job_id}",
            "metadata": {},
            "request_json": "{}",
            "retry_json": None,
            "profile_name": None,
        },
        [],
        at,
    )
    store.mark_submitted(job_id, sid, at)


def test_an_active_job_has_named_fields_and_still_reads_as_the_old_tuple() -> None:
    job = _core.ActiveJob("a", "101", "/jobs/a", 5.0)
    assert (job.job_id, job.scheduler_job_id, job.job_dir, job.submitted_at) == ("a", "101", "/jobs/a", 5.0)
    assert job[1] == "101" and job[-1] == 5.0 and job[:2] == ("a", "101")
    job_id, sid, job_dir, submitted = job
    assert (job_id, sid, job_dir, submitted) == ("a", "101", "/jobs/a", 5.0)
    assert job == ("a", "101", "/jobs/a", 5.0) and job == _core.ActiveJob("a", "101", "/jobs/a", 5.0)
    assert job != ("a", "102", "/jobs/a", 5.0) and len(job) == 4
    assert repr(job) == "ActiveJob(job_id='a', scheduler_job_id='101', job_dir='/jobs/a', submitted_at=5.0)"


def test_the_active_set_reads_oldest_first_and_filters_natively(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    for i, at in ((1, 30.0), (2, 10.0), (3, 20.0)):
        _register(store, f"j{i}", str(100 + i), at)
    active = store.active_jobs("c")
    assert isinstance(active, _core.ActiveJobs) and active.cluster_name == "c"
    assert active.scheduler_job_ids() == ["102", "103", "101"]
    assert [job.job_id for job in active] == ["j2", "j3", "j1"]
    assert active.oldest_submitted_at() == 10.0
    queue = _core.parse_queue("shell", b"102|running||11|\n")
    assert active.unsettled_by(queue).scheduler_job_ids() == ["103", "101"]
    assert active == [("j2", "102", "/jobs/j2", 10.0), ("j3", "103", "/jobs/j3", 20.0), ("j1", "101", "/jobs/j1", 30.0)]


def test_the_last_set_is_reused_until_a_job_row_is_written(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    store, other = JobStore(db), JobStore(db)
    _register(store, "j1", "101", 1.0)
    first = store.active_jobs("c")
    assert store.active_jobs("c", first) is first
    # the poll lease is not a job row
    assert store.begin_poll("c", "me", 10.0, 0.0, 60.0, False)
    store.end_poll("c", "me", None)
    assert store.active_jobs("c", first) is first
    _register(other, "j2", "102", 2.0)  # another connection
    second = store.active_jobs("c", first)
    assert second is not first and second.scheduler_job_ids() == ["101", "102"]
    store.cancel("j2", "done with it", 3.0)
    third = store.active_jobs("c", second)
    assert third is not second and third.scheduler_job_ids() == ["101"]
    assert store.active_jobs("other", third).cluster_name == "other"


def _native_calls(sub: mq.Submitor) -> int:
    profile = cProfile.Profile()
    profile.enable()
    sub.refresh_jobs(force=True)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return sum(n for (_, _, name), (n, *_rest) in stats.items() if "molq._core" in name)


def test_a_refresh_makes_the_same_native_calls_whatever_the_job_count(tmp_path: Path) -> None:
    counts = []
    for jobs in (3, 300):
        fake = FakeScheduler(job_duration=3600.0)
        sub = mq.Submitor(
            mq.Cluster("c", "local", _scheduler_impl=fake),
            store=JobStore(tmp_path / f"{jobs}.db"),
            jobs_dir=tmp_path / f"jobs-{jobs}",
            min_poll_interval=0.0,
        )
        for i in range(jobs):
            sub.submit_job(argv=["true", str(i)])
        sub.refresh_jobs(force=True)  # submitted -> queued
        counts.append(_native_calls(sub))
        sub.close()
    assert counts[0] == counts[1], counts


def test_array_tasks_and_poll_status_are_named_values_that_read_as_the_old_tuples(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    _register(store, "arr", "34", 1.0)
    queue = _core.parse_queue("slurm", b"34_1|RUNNING|u|p|100|101|None|a\n34_2|PENDING|u|p|100|N/A|Priority|a\n")
    store.reconcile("c", queue, None, 102.0)
    first, second = store.get_array_tasks("arr")
    assert (first.task_id, first.state, first.started_at) == ("1", mq.JobState.RUNNING, 101.0)
    assert second.state is mq.JobState.QUEUED and second.exit_code is None and second.exit_signal is None
    task_id, state, exit_code, exit_signal, started_at, finished_at = first
    assert (task_id, state, finished_at) == ("1", mq.JobState.RUNNING, None)
    assert first[1] is mq.JobState.RUNNING and first == ("1", mq.JobState.RUNNING, None, None, 101.0, None)
    assert store.poll_status("c") is None
    assert store.begin_poll("c", "me", 10.0, 0.0, 60.0, False)
    status = store.poll_status("c")
    assert status is not None and status.holder == "me" and status.failures == 0 and status.lease_until == 70.0
    assert status[0] == "me" and status == ("me", 70.0, 10.0, None, 0, None)
    store.end_poll("c", "me", "squeue timed out")
    status = store.poll_status("c")
    assert status is not None and (status.holder, status.failures, status.last_error) == (None, 1, "squeue timed out")


def test_a_retry_state_is_a_named_value(tmp_path: Path) -> None:
    from molq.models import RetryBackoff, RetryPolicy

    fake = FakeScheduler(job_duration=0.0, outcomes="failed")
    sub = mq.Submitor(
        mq.Cluster("c", "local", _scheduler_impl=fake),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        min_poll_interval=0.0,
    )
    handle = sub.submit_job(
        argv=["false"],
        retry=RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=3600.0)),
    )
    sub.refresh_jobs(force=True)
    record = sub.get_job(handle.job_id)
    assert record.state is mq.JobState.FAILED and record.retry_state is mq.RetryState.SCHEDULED
    assert record.retry_state == "scheduled" and f"{record.retry_state}" == "scheduled"
    assert not record.settled and record.to_dict()["retry_state"] is mq.RetryState.SCHEDULED
    sub.close()
