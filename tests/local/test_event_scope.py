"""Events carry the state of their own transition, and a Submitor's handlers
see only its own jobs unless they ask for the whole cluster (real local jobs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.callbacks import EventPayload, EventType
from molq.store import JobStore
from molq.strategies import FixedStrategy


def _settle_unseen(sub: mq.Submitor, job_id: str) -> None:
    """Let the job run and end with nobody polling, so one poll sees it all."""
    job_dir = Path(sub.get_job(job_id).job_dir)
    deadline = time.monotonic() + 30
    while not (job_dir / ".exit_code").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.05)


@pytest.fixture
def other(tmp_path: Path, store: JobStore) -> Iterator[mq.Submitor]:
    """A second program's Submitor: same store, same cluster name, its own bus."""
    sub = mq.Submitor(
        mq.Cluster("laptop", "local"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        min_poll_interval=0,
    )
    yield sub
    sub.close()


def test_a_job_that_ran_and_ended_in_one_poll_gets_a_running_event_that_says_running(
    submitor: mq.Submitor,
) -> None:
    seen: list[tuple[str, str, str, object, object]] = []

    def record(payload: EventPayload) -> None:
        assert payload.record is not None and payload.transition is not None
        seen.append(
            (
                payload.event.value,
                payload.transition.new_state.value,
                payload.record.state.value,
                payload.record.finished_at,
                payload.record.exit_code,
            )
        )

    submitor.on_event(EventType.JOB_STARTED, record)
    submitor.on_event(EventType.JOB_COMPLETED, record)
    handle = submitor.submit_job(argv=["true"])
    _settle_unseen(submitor, handle.job_id)
    transitions = submitor.refresh_jobs(force=True)
    assert [t.new_state.value for t in transitions] == ["running", "succeeded"]
    started, completed = seen
    assert started[:3] == ("job_started", "running", "running")
    assert started[3:] == (None, None)  # no outcome yet at that point
    assert completed[:3] == ("job_completed", "succeeded", "succeeded")
    assert completed[4] == 0 and completed[3] is not None


def test_status_change_events_follow_each_step_of_a_job_in_order(submitor: mq.Submitor) -> None:
    states: list[tuple[str, str]] = []
    submitor.on_event(
        EventType.STATUS_CHANGE, lambda p: states.append((p.transition.new_state.value, p.record.state.value))
    )
    handle = submitor.submit_job(argv=["true"])
    _settle_unseen(submitor, handle.job_id)
    submitor.refresh_jobs(force=True)
    assert states == [
        ("created", "created"),
        ("submitted", "submitted"),
        ("running", "running"),
        ("succeeded", "succeeded"),
    ]


def test_a_submitors_handlers_see_only_its_own_jobs(submitor: mq.Submitor, other: mq.Submitor) -> None:
    mine: list[str] = []
    everything: list[str] = []
    other.on_event(EventType.JOB_COMPLETED, lambda p: mine.append(p.job_id))
    other.on_event(EventType.JOB_COMPLETED, lambda p: everything.append(p.job_id), scope="cluster")
    theirs = submitor.submit_job(argv=["true"])
    own = other.submit_job(argv=["true"])
    _settle_unseen(submitor, theirs.job_id)
    _settle_unseen(other, own.job_id)
    other.refresh_jobs(force=True)  # settles both jobs of the cluster
    assert submitor.get_job(theirs.job_id).state is mq.JobState.SUCCEEDED
    assert mine == [own.job_id]
    assert sorted(everything) == sorted([own.job_id, theirs.job_id])


def test_a_job_waited_for_becomes_the_waiters_own(submitor: mq.Submitor, other: mq.Submitor) -> None:
    mine: list[str] = []
    other.on_event(EventType.JOB_COMPLETED, lambda p: mine.append(p.job_id))
    theirs = submitor.submit_job(argv=["sleep", "0.3"])
    record = other.watch_jobs([theirs.job_id], timeout=30)[0]
    assert record.state is mq.JobState.SUCCEEDED
    assert mine == [theirs.job_id]


def test_cluster_events_reach_scoped_handlers_of_that_cluster_only(tmp_path: Path, store: JobStore) -> None:
    bus = mq.EventBus()
    here = mq.Submitor(mq.Cluster("here", "local"), store=store, event_bus=bus, jobs_dir=tmp_path / "j")
    there = mq.Submitor(mq.Cluster("there", "local"), store=store, event_bus=bus, jobs_dir=tmp_path / "j")
    heard: list[str] = []
    here.on_event(EventType.ALL_COMPLETED, lambda p: heard.append(p.data["cluster_name"]))
    handle = there.submit_job(argv=["true"])
    there.watch_jobs([handle.job_id], timeout=30)
    assert heard == []  # the other cluster's news, on a shared bus
    mine = here.submit_job(argv=["true"])
    here.watch_jobs([mine.job_id], timeout=30)
    assert heard == ["here"]
    here.close()
    there.close()


def test_an_unknown_scope_is_refused(submitor: mq.Submitor) -> None:
    with pytest.raises(mq.errors.ConfigError, match="scope"):
        submitor.on_event(EventType.JOB_COMPLETED, print, scope="everyone")


def test_off_event_removes_a_scoped_handler(submitor: mq.Submitor) -> None:
    seen: list[str] = []

    def handler(p: EventPayload) -> None:
        seen.append(p.job_id or "")

    submitor.on_event(EventType.JOB_COMPLETED, handler)
    submitor.off_event(EventType.JOB_COMPLETED, handler)
    submitor.submit_job(argv=["true"]).wait(timeout=30)
    assert seen == []
