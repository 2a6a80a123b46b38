"""The refresh cycle: one poll of a cluster's scheduler applied to its stored jobs.

A cycle costs a constant number of scheduler commands and native calls,
whatever the job count: one read of the active jobs (kept in Rust as
``ActiveJobs``), one poll (chunked by the backend), one accounting query for
the jobs that left the queue, one store transaction; only the changes come
back to Python. The public path of :class:`JobReconciler` is ``molq.reconciler``.

Schedulers written for the original molq (``poll_many(ids) -> {id: JobState}``
and ``resolve_terminal(id)`` per job) are driven too: their answers become the
same evidence as a backend's, and the same rules apply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from molq._log import get_logger
from molq.errors import ParseError, SchedulerError, TransportError
from molq.scheduler.base import OriginalProtocolScheduler
from molq.status import JobState

if TYPE_CHECKING:
    from molq._core import ActiveJobs, JobRecord, StatusTransition
    from molq.callbacks import EventBus
    from molq.store import JobStore

__all__ = ["CycleResult", "JobReconciler"]

_POLL_ERRORS = (SchedulerError, TransportError, ParseError, OSError)


class CycleResult(NamedTuple):
    """What one refresh cycle did."""

    transitions: list[StatusTransition]
    #: What kept the cycle from seeing everything (None: a clean poll).
    error: BaseException | None


class JobReconciler:
    """Syncs the stored jobs of ``cluster_name`` with what ``scheduler`` reports.

    Only positive evidence moves a job. A poll that fails changes nothing and
    is reported (a log record and a ``POLL_FAILED`` event); a job missing from
    both queue and accounting becomes LOST only after ``lost_after_polls``
    cycles spanning ``lost_after_seconds``.
    """

    def __init__(
        self,
        scheduler: Any,
        store: JobStore,
        cluster_name: str,
        *,
        jobs_dir: Any | None = None,
        event_bus: EventBus | None = None,
        on_terminal: Callable[[JobRecord], None] | None = None,
        lost_after_seconds: float = 60.0,
        lost_after_polls: int = 3,
        pace: Callable[[], None] | None = None,
    ) -> None:
        if not callable(getattr(type(scheduler), "poll", None)) and hasattr(scheduler, "poll_many"):
            # written for the original molq (a mock's made-up "poll" does not count)
            scheduler = OriginalProtocolScheduler(scheduler, jobs_dir=jobs_dir)
        self._scheduler = scheduler
        self._on_terminal = on_terminal
        self._store = store
        self._cluster_name = cluster_name
        self._bus = event_bus
        self._lost_after_seconds = lost_after_seconds
        self._lost_after_polls = lost_after_polls
        self._active: ActiveJobs | None = None  # the last cycle's set
        #: Waits for the cluster's rate limit before each scheduler command.
        self._pace = pace
        #: What made the last cycle's poll or accounting query fail (None: it was clean).
        self.last_error: BaseException | None = None

    def reconcile(self) -> list[StatusTransition]:
        """Run one cycle; return the transitions it applied (``last_error``
        keeps what made the poll or the accounting query fail, if anything)."""
        return self.run_cycle().transitions

    def run_cycle(self) -> CycleResult:
        """Run one cycle: the transitions it applied and the error that kept
        it from seeing everything (None: a clean poll)."""
        result = self._cycle()
        self.last_error = result.error
        return result

    def _cycle(self) -> CycleResult:
        active = self._store.active_jobs(self._cluster_name, self._active)
        self._active = active  # read again only once a job row was written
        if not active:
            return CycleResult([], None)
        try:
            if self._pace is not None:
                self._pace()
            queue = self._scheduler.poll(active)
        except _POLL_ERRORS as exc:
            self._report_failure("poll", exc, len(active))
            return CycleResult([], exc)
        self._report_skipped(queue)
        # Accounting settles the jobs the queue no longer shows and those it
        # shows finished without an exit code.
        unresolved: ActiveJobs | None = active.unsettled_by(queue)  # stays native: no object per job
        if unresolved and queue.skipped:
            # An unreadable line may be one of the missing jobs: this cycle
            # applies only what was read; a clean poll settles the rest.
            unresolved = None
        accounting = None
        error: BaseException | None = None
        if unresolved:
            try:
                if self._pace is not None:
                    self._pace()
                accounting = self._scheduler.resolve_terminal_many(unresolved)
            except _POLL_ERRORS as exc:
                # Without accounting the missing jobs keep their state; the
                # queue evidence for the others is still good.
                self._report_failure("accounting", exc, len(unresolved))
                error = exc
        outcome = self._store.reconcile(
            self._cluster_name,
            queue,
            accounting,
            time.time(),
            lost_after_seconds=self._lost_after_seconds,
            lost_after_polls=self._lost_after_polls,
            active=active,
        )
        transitions = outcome.transitions
        if transitions:
            self._emit(transitions)
            self._report_terminal(transitions)
            if self._bus is not None and self._store.count_active(self._cluster_name) == 0:
                from molq.callbacks import EventType  # deferred: molq.callbacks loads only when used

                self._bus.emit(EventType.ALL_COMPLETED, {"cluster_name": self._cluster_name})
        return CycleResult(transitions, error)

    def reconcile_one(self, job_id: str) -> JobState | None:
        """The job's state after a refresh (None for an unknown job). A job
        already finished is answered from the store, without asking the scheduler."""
        record = self._store.get_record(job_id)
        if record is None:
            return None
        if record.state.is_terminal:
            return record.state
        self.reconcile()
        record = self._store.get_record(job_id)
        return None if record is None else record.state

    def _report_terminal(self, transitions: list[StatusTransition]) -> None:
        if self._on_terminal is None:
            return
        finished = sorted({t.job_id for t in transitions if t.new_state.is_terminal})
        for record in self._store.get_records(finished):
            try:
                self._on_terminal(record)
            except Exception as exc:  # noqa: BLE001 - a callback must not break the cycle
                get_logger(__name__).warning("on_terminal callback failed for job %s: %s", record.job_id, exc)

    def _emit(self, transitions: list[StatusTransition]) -> None:
        if self._bus is None or not self._bus.has_any_handlers():
            return
        from molq.callbacks import emit_transition  # deferred: molq.callbacks loads only when used

        records = {r.job_id: r for r in self._store.get_records(sorted({t.job_id for t in transitions}))}
        for transition in transitions:
            emit_transition(self._bus, transition, records.get(transition.job_id))

    def _report_failure(self, what: str, exc: BaseException, job_count: int) -> None:
        message = (
            f"cluster {self._cluster_name!r}: scheduler {what} failed, "
            f"{job_count} job(s) keep their state until it answers: {exc}"
        )
        get_logger(__name__).warning(message)
        if self._bus is not None:
            from molq.callbacks import EventType  # deferred: molq.callbacks loads only when used

            self._bus.emit(
                EventType.POLL_FAILED,
                {"cluster_name": self._cluster_name, "stage": what, "error": str(exc), "message": message},
            )

    def _report_skipped(self, snapshot: Any) -> None:
        skipped = snapshot.skipped
        if skipped:
            line, reason = skipped[0]
            get_logger(__name__).warning(
                "cluster %r: ignored %d unreadable scheduler line(s), e.g. %r (%s)",
                self._cluster_name,
                len(skipped),
                line[:200],
                reason,
            )
