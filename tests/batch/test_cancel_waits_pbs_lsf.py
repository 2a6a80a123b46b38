"""A PBS or LSF cancel is recorded only once the scheduler shows the job gone.

The fakes (tests/fakes) play an execution host slow to report a killed job
(PBS keeps it ``E``, bjobs ``RUN``), one that only a forced cancel (``qdel
-W force``, ``bkill -r``) moves, and one that is gone for good.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.errors import SchedulerError
from molq.store import JobStore
from molq.strategies import FixedStrategy

DELETE_MODE = {"pbs": "MOLQ_FAKE_PBS_DELETE", "lsf": "MOLQ_FAKE_LSF_KILL"}


class Fake:
    """A Submitor over one kind of fake scheduler, with its state directory."""

    def __init__(self, kind: str, state: Path, tmp_path: Path) -> None:
        self.kind = kind
        self.state = state
        self.cluster = mq.Cluster(f"fake-{kind}", kind)
        self.sub = mq.Submitor(
            self.cluster,
            store=JobStore(tmp_path / "jobs.db"),
            jobs_dir=tmp_path / "jobs",
            polling_strategy=FixedStrategy(interval=0.2),
        )

    def waits(self, force_after: float, timeout: float) -> None:
        backend = self.cluster.scheduler_impl
        backend.cancel_force_after, backend.cancel_timeout = force_after, timeout  # type: ignore[attr-defined]

    def fake_states(self, scheduler_job_id: str) -> list[str]:
        """The fake's own state of the job, or of each element of an array."""
        jobs = [json.loads(path.read_text()) for path in (self.state / "jobs").glob("*.json")]
        return [
            job["state"] for job in jobs if not job.get("parent") and scheduler_job_id in (job["id"], job.get("array"))
        ]

    def running(self, handle: mq.JobHandle, count: int = 1) -> None:
        deadline = time.time() + 30
        while self.fake_states(handle.scheduler_job_id).count("running") < count:
            assert time.time() < deadline, self.fake_states(handle.scheduler_job_id)
            time.sleep(0.1)


@pytest.fixture(params=["pbs", "lsf"])
def fake(request: pytest.FixtureRequest, fake_commands: Callable[[str], Path], tmp_path: Path) -> Iterator[Fake]:
    kind = request.param
    made = Fake(kind, fake_commands(kind), tmp_path)
    try:
        yield made
    finally:
        made.sub.close()


def test_a_job_slow_to_exit_is_recorded_cancelled_once_the_scheduler_shows_it_ended(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DELETE_MODE[fake.kind], "slow:1.5")
    fake.waits(force_after=60, timeout=60)
    handle = fake.sub.submit_job(command="sleep 300")
    fake.running(handle)
    started = time.monotonic()
    fake.sub.cancel_job(handle.job_id)
    assert fake.fake_states(handle.scheduler_job_id) == ["done"], "recorded cancelled while still exiting"
    assert time.monotonic() - started >= 1.4
    assert fake.sub.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_a_job_that_ignores_the_cancel_gets_the_forced_one_after_the_grace_period(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DELETE_MODE[fake.kind], "stubborn")
    fake.waits(force_after=0.5, timeout=30)
    handle = fake.sub.submit_job(command="sleep 300")
    fake.running(handle)
    fake.sub.cancel_job(handle.job_id)
    # only the forced form (qdel -W force, bkill -r) ends a stubborn job
    assert fake.fake_states(handle.scheduler_job_id) == ["done"]
    assert fake.sub.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_cancelling_an_array_ends_every_task_in_the_store(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DELETE_MODE[fake.kind], "slow:1")
    fake.waits(force_after=60, timeout=60)
    handle = fake.sub.submit_job(command="sleep 300", scheduling=mq.JobScheduling(array_spec="1-3"))
    fake.running(handle, count=3)
    fake.sub.refresh_jobs(force=True)
    fake.sub.cancel_job(handle.job_id)
    assert fake.fake_states(handle.scheduler_job_id) == ["done"] * 3
    assert fake.sub.get_job(handle.job_id).state is mq.JobState.CANCELLED
    tasks = fake.sub.get_array_tasks(handle.job_id)
    assert len(tasks) == 3 and all(t[1].is_terminal for t in tasks), tasks


def test_a_job_that_never_goes_raises_naming_it_and_stays_as_it_was(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DELETE_MODE[fake.kind], "never")
    fake.waits(force_after=0.2, timeout=1.0)
    handle = fake.sub.submit_job(command="sleep 300")
    fake.running(handle)
    fake.sub.refresh_jobs(force=True)
    before = fake.sub.get_job(handle.job_id).state
    with pytest.raises(SchedulerError, match=rf"job {handle.scheduler_job_id}\b.*not recorded as cancelled"):
        fake.sub.cancel_job(handle.job_id)
    assert fake.sub.get_job(handle.job_id).state is before is mq.JobState.RUNNING
    assert fake.fake_states(handle.scheduler_job_id) == ["exiting"]
