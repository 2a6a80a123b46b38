"""Test helpers: an in-memory FakeScheduler and ``make_submitor``.

For unit tests of code built on molq. molq's own integration tests use the
real backends instead.
"""

from __future__ import annotations

import importlib
import itertools
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from molq import _core
from molq.cluster import Cluster
from molq.scheduler.base import OneJobQueries
from molq.status import JobState
from molq.submitor import Submitor
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import DependencyEdge
    from molq.store import JobStore
    from molq.submission import JobSpec

__all__ = ["FakeScheduler", "make_submitor"]

# names the original's molq.testing also offered, for tests written against it
_REEXPORTS = {
    "JobSpec": "molq.submission",
    "JobStore": "molq.store",
    "SchedulerCapabilities": "molq.models",
    "Submitor": "molq.submitor",
}


def __getattr__(name: str) -> Any:
    module = _REEXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'molq.testing' has no attribute {name!r}")

    return getattr(importlib.import_module(module), name)


_OUTCOMES = {
    "succeeded": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
    "timed_out": JobState.TIMED_OUT,
    "out_of_memory": JobState.OUT_OF_MEMORY,
}


class FakeScheduler(OneJobQueries):
    """Jobs that run for ``job_duration`` seconds and end with the next outcome.

    Reports QUEUED for the first 30 % of the duration, then RUNNING, then the
    outcome. ``outcomes`` cycle, one per submit ("succeeded", "failed",
    "timed_out", "out_of_memory"). Thread-safe; uses the monotonic clock.
    """

    kind = "local"

    def __init__(
        self,
        *,
        outcomes: str | Sequence[str] = "succeeded",
        job_duration: float = 0.05,
        transport: Any = None,
    ) -> None:
        names = [outcomes] if isinstance(outcomes, str) else list(outcomes)
        for name in names:
            if name not in _OUTCOMES:
                raise ValueError(f"unknown outcome {name!r}; expected one of {sorted(_OUTCOMES)}")
        if transport is None:
            transport = LocalTransport()
        self._outcomes = itertools.cycle(names)
        self._duration = job_duration
        self._transport = transport
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._jobs: dict[str, tuple[float, JobState]] = {}
        self._cancelled: set[str] = set()
        self.submitted: list[JobSpec] = []

    @property
    def transport(self) -> Any:
        return self._transport

    def capabilities(self) -> SchedulerCapabilities:
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        return SchedulerCapabilities(**{name: True for name in SchedulerCapabilities.__dataclass_fields__})

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        with self._lock:
            job_id = f"fake-{next(self._counter):04d}"
            self._jobs[job_id] = (time.monotonic(), _OUTCOMES[next(self._outcomes)])
            self.submitted.append(spec)
        return job_id

    def _state(self, job_id: str, now: float) -> tuple[JobState, float, float]:
        started, outcome = self._jobs[job_id]
        if job_id in self._cancelled:
            return JobState.CANCELLED, started, started
        elapsed = now - started
        if elapsed < 0.3 * self._duration:
            return JobState.QUEUED, started, started
        if elapsed < self._duration:
            return JobState.RUNNING, started, started
        return outcome, started, started + self._duration

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        now_mono, now_wall = time.monotonic(), time.time()
        rows: list[tuple[str, str, int | None, str | None, float | None, float | None]] = []
        with self._lock:
            for job in jobs:
                sid = job[1]
                if sid not in self._jobs:
                    continue
                state, started, finished = self._state(sid, now_mono)
                to_wall = now_wall - now_mono
                exit_code = {JobState.SUCCEEDED: 0, JobState.FAILED: 1}.get(state)
                rows.append(
                    (
                        sid,
                        state.value,
                        exit_code,
                        None,
                        started + to_wall if state is not JobState.QUEUED else None,
                        finished + to_wall if state.is_terminal else None,
                    )
                )
        return _core.Snapshot.from_observations(rows)

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        return _core.Snapshot.from_observations([])

    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]:
        """States of the given jobs still queued or running (as the original's fake)."""
        states = OneJobQueries.poll_many(self, scheduler_job_ids)
        return {sid: state for sid, state in states.items() if not state.is_terminal}

    def resolve_terminal(self, scheduler_job_id: str) -> JobState | None:  # type: ignore[override]
        """The end state of a finished or cancelled job, None otherwise (the
        original's fake answered with the state alone)."""
        state = OneJobQueries.poll_many(self, [scheduler_job_id]).get(str(scheduler_job_id))
        return state if state is not None and state.is_terminal else None

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        with self._lock:
            if scheduler_job_id not in self._jobs:
                return False
            state, _, _ = self._state(scheduler_job_id, time.monotonic())
            if state.is_terminal:
                return False
            self._cancelled.add(scheduler_job_id)
            return True

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        return []

    def format_dependency(self, edge: DependencyEdge) -> str:
        return f"{edge.condition}:{edge.scheduler_job_id}"

    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str:
        return ",".join(self.format_dependency(e) for e in edges)


def make_submitor(
    cluster_name: str = "demo",
    *,
    outcomes: str | Sequence[str] = "succeeded",
    job_duration: float = 0.05,
    store: JobStore | None = None,
    jobs_dir: str | None = None,
) -> Submitor:
    """A Submitor on a FakeScheduler with a private in-memory store."""
    import tempfile  # deferred: tempfile (shutil, random) only when a temp dir is made

    from molq.store import JobStore  # deferred: molq.store loads only when used
    from molq.strategies import FixedStrategy  # deferred: molq.strategies loads only when used

    fake = FakeScheduler(outcomes=outcomes, job_duration=job_duration)
    cluster = Cluster(cluster_name, "local", _scheduler_impl=fake)
    return Submitor(
        cluster,
        store=store or JobStore(":memory:"),
        jobs_dir=jobs_dir or tempfile.mkdtemp(prefix="molq-fake-jobs-"),
        polling_strategy=FixedStrategy(interval=max(job_duration / 5, 0.01)),
    )
