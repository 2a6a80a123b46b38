"""JobReconciler: one refresh cycle of a cluster's jobs against its scheduler.

A cycle costs a constant number of scheduler commands and native calls,
whatever the job count: one poll (chunked by the backend), one accounting
query for the jobs that left the queue, one store transaction.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from molq._log import get_logger
from molq.errors import MolqError, ParseError, SchedulerError, TransportError

if TYPE_CHECKING:
    from molq._core import StatusTransition
    from molq.callbacks import EventBus
    from molq.store import JobStore

__all__ = ["JobReconciler"]

_POLL_ERRORS = (SchedulerError, TransportError, ParseError, OSError)


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
        event_bus: EventBus | None = None,
        lost_after_seconds: float = 60.0,
        lost_after_polls: int = 3,
    ) -> None:
        self._scheduler = scheduler
        self._store = store
        self._cluster_name = cluster_name
        self._bus = event_bus
        self._lost_after_seconds = lost_after_seconds
        self._lost_after_polls = lost_after_polls
        self.last_error: MolqError | Exception | None = None

    def reconcile(self) -> list[StatusTransition]:
        """Run one cycle; return the transitions it applied."""
        active = self._store.active_jobs(self._cluster_name)
        if not active:
            self.last_error = None
            return []
        try:
            queue = self._scheduler.poll(active)
        except _POLL_ERRORS as exc:
            self._report_failure("poll", exc, len(active))
            return []
        self._report_skipped(queue)
        # Accounting settles the jobs the queue no longer shows and those it
        # shows finished without an exit code.
        unresolved = set(queue.needs_accounting([job[1] for job in active]))
        accounting = None
        if unresolved and queue.skipped:
            # An unreadable line may be one of the missing jobs: this cycle
            # applies only what was read; a clean poll settles the rest.
            unresolved = set()
        if unresolved:
            try:
                accounting = self._scheduler.resolve_terminal_many([job for job in active if job[1] in unresolved])
            except _POLL_ERRORS as exc:
                # Without accounting the missing jobs keep their state; the
                # queue evidence for the others is still good.
                self._report_failure("accounting", exc, len(unresolved))
        outcome = self._store.reconcile(
            self._cluster_name,
            queue,
            accounting,
            time.time(),
            lost_after_seconds=self._lost_after_seconds,
            lost_after_polls=self._lost_after_polls,
        )
        if accounting is not None or not unresolved:
            self.last_error = None
        transitions = outcome.transitions
        if transitions:
            self._emit(transitions)
            if self._bus is not None and self._store.count_active(self._cluster_name) == 0:
                from molq.callbacks import EventType

                self._bus.emit(EventType.ALL_COMPLETED, {"cluster_name": self._cluster_name})
        return transitions

    def _emit(self, transitions: list[StatusTransition]) -> None:
        if self._bus is None or not self._bus.has_any_handlers():
            return
        from molq.callbacks import emit_transition

        records = {r.job_id: r for r in self._store.get_records(sorted({t.job_id for t in transitions}))}
        for transition in transitions:
            emit_transition(self._bus, transition, records.get(transition.job_id))

    def _report_failure(self, what: str, exc: BaseException, job_count: int) -> None:
        self.last_error = exc
        message = (
            f"cluster {self._cluster_name!r}: scheduler {what} failed, "
            f"{job_count} job(s) keep their state until it answers: {exc}"
        )
        get_logger(__name__).warning(message)
        if self._bus is not None:
            from molq.callbacks import EventType

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
