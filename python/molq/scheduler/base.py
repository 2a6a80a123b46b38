"""The Scheduler protocol every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

from molq.status import JobState

if TYPE_CHECKING:
    from molq import _core
    from molq.models import SchedulerCapabilities
    from molq.submission import JobSpec
    from molq.transport.base import Transport

__all__ = ["Scheduler", "TerminalStatus", "DependencyEdge"]



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
    def poll(self, jobs: Sequence[tuple[str, str, str, float]]) -> _core.Snapshot: ...
    def resolve_terminal_many(self, jobs: Sequence[tuple[str, str, str, float]]) -> _core.Snapshot | None: ...
    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool: ...
    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]: ...
    def format_dependency(self, edge: DependencyEdge) -> str: ...
    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str: ...
