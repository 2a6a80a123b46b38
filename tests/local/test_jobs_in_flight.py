"""max_jobs_in_flight on real local jobs: molq holds what does not fit,
hands it over in order as room appears, and a held job cancels in the store."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import molq as mq
from molq._engine.recovery import recover_interrupted_submissions
from molq.errors import ConfigError, TransportError
from molq.models import SubmitorDefaults
from molq.scheduler.shell import ShellScheduler
from molq.status import JobState
from molq.store import JobStore
from molq.strategies import FixedStrategy


def _submitor(tmp_path: Path, store: JobStore, **limits: object) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster("laptop", "local"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        defaults=SubmitorDefaults(**limits),  # type: ignore[arg-type]
    )


def _most_at_once(log: Path) -> int:
    """The most jobs running at once, from their "+ time" / "- time" lines."""
    events = []
    for line in log.read_text().split("\n"):
        if line:
            sign, stamp = line.split()
            events.append((float(stamp), 1 if sign == "+" else -1))
    running = most = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        running += step
        most = max(most, running)
    return most


def test_a_cap_of_two_runs_six_jobs_two_at_a_time_in_order(tmp_path: Path, store: JobStore) -> None:
    log = tmp_path / "runs.log"
    with _submitor(tmp_path, store, max_jobs_in_flight=2) as sub:
        command = f'echo "+ $(date +%s.%N)" >> {log}; sleep 0.4; echo "- $(date +%s.%N)" >> {log}'
        handles = [sub.submit_job(command=command) for _ in range(6)]
        assert [h.status() for h in handles] == [JobState.SUBMITTED] * 2 + [JobState.QUEUED] * 4
        assert handles[2].reason == "held by molq: 2 of 2 in flight"
        assert handles[2].scheduler_job_id is None
        assert store.in_flight("laptop") == 2
        records = sub.watch_jobs([h.job_id for h in handles], timeout=60)
    assert [r.state for r in records] == [JobState.SUCCEEDED] * 6
    assert _most_at_once(log) <= 2
    assert len(log.read_text().split("\n")) - 1 == 12, "each job ran once"
    # handed to the scheduler in the order they were submitted
    handed = [r.submitted_at for r in records]
    assert handed == sorted(handed)
    held = store.get_transitions(handles[3].job_id)
    assert [t.new_state for t in held[:3]] == [JobState.CREATED, JobState.QUEUED, JobState.SUBMITTED]
    assert held[1].reason == "held by molq: 2 of 2 in flight"
    assert records[3].failure_reason is None, "the hold reason goes once it is handed over"


def test_cancelling_a_held_job_cancels_it_in_the_store_only(tmp_path: Path, store: JobStore) -> None:
    with _submitor(tmp_path, store, max_jobs_in_flight=1) as sub:
        first = sub.submit_job(command="sleep 0.3")
        held = sub.submit_job(command="touch never-ran")
        assert held.status() is JobState.QUEUED
        held.cancel()
        assert held.status() is JobState.CANCELLED
        assert held.scheduler_job_id is None
        assert held.reason == "cancelled by user"
        sub.watch_jobs([first.job_id], timeout=30)
        sub.refresh_jobs(force=True)
        record = sub.get_job(held.job_id)
    assert record.state is JobState.CANCELLED and record.scheduler_job_id is None
    assert not (Path(record.job_dir) / "never-ran").exists()
    assert not any(Path(record.job_dir).glob("*.pid")), "the scheduler never had it"


def test_jobs_of_other_submitors_of_the_cluster_count(tmp_path: Path, store: JobStore) -> None:
    with (
        _submitor(tmp_path, store) as uncapped,
        _submitor(tmp_path, store, max_jobs_in_flight=2) as capped,
    ):
        busy = [uncapped.submit_job(command="sleep 0.5") for _ in range(2)]
        waiting = capped.submit_job(command="true")
        assert waiting.status() is JobState.QUEUED
        uncapped.watch_jobs([h.job_id for h in busy], timeout=30)
        assert capped.watch_jobs([waiting.job_id], timeout=30)[0].state is JobState.SUCCEEDED


def test_a_claimed_job_never_handed_over_is_an_interrupted_submission(tmp_path: Path, store: JobStore) -> None:
    with _submitor(tmp_path, store, max_jobs_in_flight=1) as sub:
        first = sub.submit_job(command="sleep 0.3")
        held = sub.submit_job(command="true")
        store.mark_failed(first.job_id, "ended (as a refresh would record it)", time.time())
        # another process claims it, then dies before handing it over
        store.native.claim_held("laptop", time.time(), "otherhost:1:1", 1, None)
        assert store.get_record(held.job_id).state is JobState.QUEUED  # type: ignore[union-attr]
        assert [j for j, _, _ in store.interrupted_submissions("laptop", time.time())] == [held.job_id]
        recover_interrupted_submissions(sub._engine.ctx, adopt_after=0, give_up_after=0)
        record = sub.get_job(held.job_id)
        assert record.state is JobState.FAILED
        assert "interrupted" in (record.failure_reason or "")
        sub.watch_jobs([first.job_id], timeout=30)


def test_the_rate_limit_paces_scheduler_commands(tmp_path: Path, store: JobStore) -> None:
    with _submitor(tmp_path, store, scheduler_commands_per_second=10.0, scheduler_command_burst=1) as sub:
        start = time.monotonic()
        handles = [sub.submit_job(command="true") for _ in range(6)]
        elapsed = time.monotonic() - start
        sub.watch_jobs([h.job_id for h in handles], timeout=30)
    # one token at once, then one per 0.1 s
    assert elapsed >= 0.45, elapsed


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"max_jobs_in_flight": 0}, "max_jobs_in_flight"),
        ({"max_jobs_in_flight": True}, "max_jobs_in_flight"),
        ({"max_jobs_in_flight_per_partition": {"debug": 0}}, "max_jobs_in_flight_per_partition['debug']"),
        ({"max_jobs_in_flight_per_partition": ["debug"]}, "max_jobs_in_flight_per_partition"),
        ({"scheduler_commands_per_second": 0}, "scheduler_commands_per_second"),
        ({"scheduler_command_burst": 3}, "scheduler_command_burst"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(limits: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"SubmitorDefaults.{field}:")):
        SubmitorDefaults(**limits)  # type: ignore[arg-type]


class _RefusesOnce(ShellScheduler):
    """Refuses its second submit for a passing reason (a dropped connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def submit(self, spec, job_dir):  # type: ignore[no-untyped-def, override]
        self.calls += 1
        if self.calls == 2:
            raise TransportError("connection dropped while submitting")
        return super().submit(spec, job_dir)


def test_a_passing_failure_holds_the_job_again_in_its_place(tmp_path: Path, store: JobStore) -> None:
    scheduler = _RefusesOnce()
    with mq.Submitor(
        mq.Cluster("flaky", "local", _scheduler_impl=scheduler),
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        defaults=SubmitorDefaults(max_jobs_in_flight=1),
    ) as sub:
        first, second, third = (sub.submit_job(command="true") for _ in range(3))
        sub.watch_jobs([first.job_id], timeout=30)
        assert scheduler.calls == 2, "the refusal was met, and the third job not tried"
        assert store.is_held(second.job_id) and store.is_held(third.job_id)
        records = sub.watch_jobs([second.job_id, third.job_id], timeout=30)
    assert [r.state for r in records] == [JobState.SUCCEEDED] * 2
    assert scheduler.calls == 4
    assert records[0].submitted_at < records[1].submitted_at  # type: ignore[operator]
