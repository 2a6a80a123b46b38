"""Schedulers written for the original molq (poll_many / resolve_terminal) drive JobReconciler and JobMonitor."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.errors import MolqTimeoutError
from molq.models import Command, JobSpec
from molq.monitor import JobMonitor
from molq.reconciler import JobReconciler, StatusChange
from molq.scheduler.base import TerminalStatus
from molq.status import JobState
from molq.store import JobStore
from molq.strategies import FixedStrategy


class OldStyleScheduler:
    def __init__(self, states: dict[str, JobState], terminal: object = None) -> None:
        self.states = states
        self.terminal = terminal
        self.resolved: list[tuple[str, Path]] = []

    def poll_many(self, ids: list[str]) -> dict[str, JobState]:
        return {i: self.states[i] for i in ids if i in self.states}

    def resolve_terminal_with_dir(self, scheduler_job_id: str, job_dir: Path) -> object:
        self.resolved.append((scheduler_job_id, job_dir))
        return self.terminal

    def resolve_terminal(self, scheduler_job_id: str) -> object:
        raise AssertionError("the job directory is known; resolve_terminal_with_dir should be used")


@pytest.fixture
def store(tmp_path: Path):
    with JobStore(tmp_path / "jobs.db") as s:
        for n in (1, 2):
            s.insert_job(
                JobSpec(
                    job_id=f"j{n}",
                    cluster_name="dev",
                    scheduler="x",
                    command=Command.from_submit_args(argv=["true"]),
                    metadata={"molq.job_dir": f"/jobs/j{n}"},
                )
            )
            s.update_job(f"j{n}", state=JobState.SUBMITTED, scheduler_job_id=f"s{n}")
        yield s


def test_states_and_terminal_status_are_applied(store: JobStore) -> None:
    finished: list[str] = []
    scheduler = OldStyleScheduler(
        {"s1": JobState.RUNNING}, TerminalStatus(JobState.FAILED, exit_code=3, failure_reason="boom")
    )
    reconciler = JobReconciler(scheduler, store, "dev", on_terminal=lambda r: finished.append(r.job_id))
    changes = reconciler.reconcile()
    assert all(isinstance(c, StatusChange) for c in changes)
    assert {(c.job_id, c.new_state) for c in changes} == {("j1", JobState.RUNNING), ("j2", JobState.FAILED)}
    assert store.get_record("j1").started_at is not None
    j2 = store.get_record("j2")
    assert (j2.exit_code, j2.failure_reason) == (3, "boom")
    assert scheduler.resolved == [("s2", Path("/jobs/j2"))]
    assert finished == ["j2"]
    assert reconciler.reconcile_one("j2") is JobState.FAILED
    assert reconciler.reconcile_one("missing") is None


def test_no_answer_is_not_lost_at_once(store: JobStore) -> None:
    reconciler = JobReconciler(OldStyleScheduler({}), store, "dev")
    assert reconciler.reconcile() == []
    assert store.get_record("j1").state is JobState.SUBMITTED


def test_monitor_waits_and_times_out_with_the_original_wording(store: JobStore) -> None:
    scheduler = OldStyleScheduler({"s1": JobState.RUNNING, "s2": JobState.RUNNING})
    monitor = JobMonitor(JobReconciler(scheduler, store, "dev"), store, strategy=FixedStrategy(0.01))
    with pytest.raises(MolqTimeoutError, match="did not complete"):
        monitor.wait_one("j1", timeout=0.05)
    scheduler.states = {"s1": JobState.SUCCEEDED, "s2": JobState.SUCCEEDED}
    records = monitor.wait_many(["j1", "j2"], "dev", timeout=5.0)
    assert [r.state for r in records] == [JobState.SUCCEEDED, JobState.SUCCEEDED]
