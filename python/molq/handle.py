"""JobHandle: what submit_job returns; follows the job across retries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from molq._core import JobRecord
from molq.status import JobState

if TYPE_CHECKING:
    from molq.submitor import Submitor

__all__ = ["JobHandle"]


@dataclass
class JobHandle:
    """A light handle on one submitted job (``job_id`` is the retry family's root)."""

    job_id: str
    cluster_name: str
    scheduler: str
    scheduler_job_id: str | None = None
    _state: JobState = JobState.SUBMITTED
    _submitor: Submitor = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    #: Why the job is in its state, when molq knows (held by molq, or why it failed).
    reason: str | None = None

    def status(self) -> JobState:
        """The state last seen, without any I/O (see ``refresh``)."""
        return self._state

    def refresh(self) -> JobHandle:
        """Run a refresh cycle of the cluster and update this handle from it."""
        self._submitor.refresh_jobs()
        self._update(self._submitor.get_job(self.job_id, latest_attempt=True))
        return self

    def wait(self, timeout: float | None = None) -> JobRecord:
        """Block until the job (and any retry of it) settles; return the last attempt."""
        record = self._submitor.watch_jobs([self.job_id], timeout=timeout)[0]
        self._update(record)
        return record

    def cancel(self) -> None:
        self._submitor.cancel_job(self.job_id)
        self._update(self._submitor.get_job(self.job_id, latest_attempt=True))

    def _update(self, record: JobRecord) -> None:
        self._state = record.state
        self.scheduler_job_id = record.scheduler_job_id
        self.reason = record.failure_reason
