"""The Scheduler protocol every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from molq import _core, _original_names
from molq.status import JobState

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.submission import JobSpec
    from molq.transport.base import Transport
    from molq.types import JobResources

__all__ = [
    "Scheduler",
    "TerminalStatus",
    "scheduler_ids",
    "DependencyEdge",
    "OneJobQueries",
    "OriginalProtocolScheduler",
    "adapt_scheduler",
]


@dataclass(frozen=True)
class TerminalStatus:
    """How a job that left the queue ended."""

    state: JobState
    exit_code: int | None = None
    failure_reason: str | None = None
    raw_state: str | None = None


@dataclass(frozen=True)
class DependencyEdge:
    """One logical dependency on a job the scheduler knows by ``scheduler_job_id``."""

    condition: str
    scheduler_job_id: str


@runtime_checkable
class Scheduler(Protocol):
    """How to talk to one kind of batch system through a transport.

    ``poll`` and ``resolve_terminal_many`` return the native core's parsed
    ``Snapshot``; they raise (``SchedulerError``/``TransportError``) rather
    than return partial evidence, so a failed poll never moves a job.
    ``resolve_terminal_many`` may return ``None`` when accounting is not
    available: jobs missing from the queue then stay as they are.
    """

    kind: str

    @property
    def transport(self) -> Transport: ...
    def capabilities(self) -> SchedulerCapabilities: ...
    def submit(self, spec: JobSpec, job_dir: str) -> str: ...
    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot: ...
    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None: ...
    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool: ...
    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]: ...
    def cancel_unrecorded(self, job_id: str, job_dir: str) -> tuple[str | None, bool]: ...
    def check_resources(self, resources: JobResources) -> None: ...
    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]: ...
    def resolve_terminal(self, scheduler_job_id: str) -> TerminalStatus | None: ...
    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]: ...
    def format_dependency(self, edge: DependencyEdge) -> str: ...
    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str: ...


def scheduler_ids(jobs: _core.ActiveJobs) -> list[str]:
    """The scheduler ids of ``jobs``; also takes a plain sequence of
    ``(job_id, scheduler_job_id, job_dir, submitted_at)`` tuples."""

    if isinstance(jobs, _core.ActiveJobs):
        return jobs.scheduler_job_ids()  # one native call, no object per job
    return [job[1] for job in jobs]


def oldest_submitted(jobs: _core.ActiveJobs) -> float | None:
    """The earliest known submit time of ``jobs`` (None: none is known)."""

    if isinstance(jobs, _core.ActiveJobs):
        return jobs.oldest_submitted_at()
    return min((job[3] for job in jobs if job[3] > 0), default=None)


class OneJobQueries:
    """The original molq's per-job scheduler queries, on top of the batch ones.

    ``poll_many`` and ``resolve_terminal`` are what the original's backends
    offered; molq's own engine polls with :meth:`Scheduler.poll` and
    :meth:`Scheduler.resolve_terminal_many` (snapshots for the store). Mixed
    into every backend so code written for the original keeps working.
    """

    kind: str

    if TYPE_CHECKING:  # provided by each backend

        def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot: ...
        def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None: ...
        def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool: ...

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> scheduler id of the given molq jobs (job_id, job_dir) the
        scheduler accepted though their submission was never recorded. A
        backend that cannot look answers ``{}``: such jobs stay unadopted."""
        return {}

    def cancel_unrecorded(self, job_id: str, job_dir: str) -> tuple[str | None, bool]:
        """Cancel a job whose submission was never recorded: (its scheduler id
        if the scheduler has it, whether it was still live)."""
        sid = self.find_submissions([(job_id, job_dir)]).get(job_id)
        live = sid is not None and bool(self.cancel(sid, job_dir=job_dir or None))
        return sid, live

    def check_resources(self, resources: JobResources) -> None:
        """Raise ``ConfigError`` for resources no job of this scheduler could
        ever be given, before anything is written. A backend that cannot tell
        here lets the scheduler refuse at submit."""
        return None

    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]:
        """scheduler id -> state of the given jobs the queue still shows (others are left out)."""
        ids = [str(i) for i in scheduler_job_ids]
        if not ids:
            return {}

        states = self.poll(_core.ActiveJobs([("", sid, "", 0.0) for sid in ids])).states()
        return {sid: states[sid] for sid in ids if sid in states}

    def resolve_terminal(self, scheduler_job_id: str) -> TerminalStatus | None:
        """How a job that left the queue ended, from accounting; None when that is not known."""
        sid = str(scheduler_job_id)

        accounting = self.resolve_terminal_many(_core.ActiveJobs([("", sid, "", 0.0)]))
        if accounting is None:
            return None
        return _terminal_from(self.kind, sid, queue=None, accounting=accounting)


def _terminal_from(
    kind: str, sid: str, *, queue: _core.Snapshot | None, accounting: _core.Snapshot | None
) -> TerminalStatus | None:
    """Read one job's end from snapshots, with the store's own rules: the
    snapshots are applied to a throwaway in-memory store holding just that job."""

    if sid not in (queue or ()) and sid not in (accounting or ()):
        return None
    store = _core.JobStore(":memory:")
    try:
        store.register_job(
            {
                "job_id": "probe",
                "cluster_name": "probe",
                "scheduler": kind,
                "root_job_id": "probe",
                "attempt": 1,
                "previous_attempt_job_id": None,
                "retry_group_id": None,
                "command_type": "argv",
                "command_display": "",
                "cwd": "/",
                "job_dir": "/",
                "metadata": {},
                "request_json": "{}",
                "retry_json": None,
                "profile_name": None,
                "array": False,
            },
            [],
            0.0,
        )
        store.mark_submitted("probe", sid, 0.0)
        empty = _core.Snapshot.from_observations([])
        store.reconcile("probe", queue or empty, accounting, 1.0, lost_after_seconds=1e18, lost_after_polls=1_000_000)
        record = store.get_job("probe")
    finally:
        store.close()
    if record is None or not record.state.is_terminal:
        return None
    return TerminalStatus(state=record.state, exit_code=record.exit_code, failure_reason=record.failure_reason)


#: (scheduler id, state, exit code, reason, started_at, finished_at), as Snapshot.from_observations takes it
_Observation = tuple[str, str, "int | None", "str | None", "float | None", "float | None"]


def _defines(obj: object, method: str) -> bool:
    """Whether ``obj``'s class defines ``method`` (a mock's made-up attributes do not count)."""
    return callable(getattr(type(obj), method, None))


def _evidence(value: object) -> tuple[str, int | None, str | None] | None:
    """(state name, exit code, reason) from what an original-style scheduler
    answers: a ``JobState``, its name, or a ``TerminalStatus``-like object;
    None for anything else (it moves no job)."""
    state = getattr(value, "state", value)
    if isinstance(state, str):
        try:
            state = JobState(state)
        except ValueError:
            return None
    if not isinstance(state, JobState):
        return None
    exit_code = getattr(value, "exit_code", None)
    reason = getattr(value, "failure_reason", None)
    return (
        state.value,
        exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        reason if isinstance(reason, str) else None,
    )


class OriginalProtocolScheduler:
    """Drives a scheduler written for the original molq's protocol from molq's engine.

    The original's backends answered ``poll_many(ids) -> {id: state}``,
    ``resolve_terminal(id) -> TerminalStatus | None`` and ``cancel(id)``;
    molq's engine asks for snapshots and passes job directories. Everything
    else (``submit``, ``capabilities``, ``format_dependency``...) goes
    straight to the wrapped object, available as ``wrapped``.
    """

    def __init__(self, wrapped: object, *, jobs_dir: str | Path | None = None) -> None:
        self.wrapped = wrapped
        #: Where a job's folder is when its record names none (rows of the original's stores).
        self._jobs_dir = jobs_dir

    def __getattr__(self, name: str) -> object:
        return getattr(self.wrapped, name)

    @property
    def kind(self) -> str:
        kind = getattr(self.wrapped, "kind", None)
        return kind if isinstance(kind, str) else "custom"

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        answer = self.wrapped.poll_many(jobs.scheduler_job_ids()) or {}  # type: ignore[attr-defined]
        rows: list[_Observation] = []
        for scheduler_job_id, value in dict(answer).items():
            evidence = _evidence(value)
            if evidence is not None:
                rows.append((str(scheduler_job_id), *evidence, None, None))
        return _core.Snapshot.from_observations(rows)

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None:
        """Asks per job (with its folder when the wrapped class takes one);
        None (no evidence: the jobs stay as they are) when nothing is known."""
        with_dir = _defines(self.wrapped, "resolve_terminal_with_dir")
        rows: list[_Observation] = []
        for job in jobs:
            scheduler_job_id = job.scheduler_job_id
            folder = job.job_dir or (str(Path(self._jobs_dir) / job.job_id) if self._jobs_dir else "")
            if with_dir and folder:
                value = self.wrapped.resolve_terminal_with_dir(scheduler_job_id, Path(folder))  # type: ignore[attr-defined]
            else:
                value = self.wrapped.resolve_terminal(scheduler_job_id)  # type: ignore[attr-defined]
            evidence = None if value is None else _evidence(value)
            if evidence is not None:
                rows.append((scheduler_job_id, *evidence, None, None))
        return _core.Snapshot.from_observations(rows) if rows else None

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        self.wrapped.cancel(scheduler_job_id)  # type: ignore[attr-defined]
        return True

    # Optional hooks of a wrapped object: used when it has them.
    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """The wrapped object's answer; ``{}`` (it cannot look) if it has no such hook."""
        find = getattr(self.wrapped, "find_submissions", None)
        return dict(find(jobs)) if callable(find) else {}

    def check_resources(self, resources: JobResources) -> None:
        check = getattr(self.wrapped, "check_resources", None)
        if callable(check):
            check(resources)

    def cancel_unrecorded(self, job_id: str, job_dir: str) -> tuple[str | None, bool]:
        stop = getattr(self.wrapped, "cancel_unrecorded", None)
        if callable(stop):
            sid, live = stop(job_id, job_dir)
            return sid, bool(live)
        sid = self.find_submissions([(job_id, job_dir)]).get(job_id)
        return sid, sid is not None and self.cancel(sid, job_dir=job_dir or None)

    def __repr__(self) -> str:
        return f"OriginalProtocolScheduler({self.wrapped!r})"


def adapt_scheduler(impl: object) -> Scheduler:
    """``impl`` itself when it speaks molq's protocol, else wrapped for the original's."""
    if not isinstance(impl, (OneJobQueries, OriginalProtocolScheduler)):
        impl = OriginalProtocolScheduler(impl)
    # A backend or the wrapper: both answer every hook of the protocol (the
    # wrapper forwards the rest to the object it wraps).
    return cast("Scheduler", impl)


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
