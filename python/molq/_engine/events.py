"""JobEvents: the lifecycle events of one engine's jobs, and which jobs are its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from molq._core import StatusTransition
    from molq.callbacks import EventBus, EventPayload
    from molq.store import JobStore

__all__ = ["JobEvents"]


class JobEvents:
    """Emits the engine's transitions on ``bus`` and knows the engine's own jobs.

    Own jobs are the retry families this engine submitted or was asked to
    wait for. A Submitor's handlers see only those unless they ask for the
    whole cluster: another program's jobs of the same cluster name, settled
    by this engine's refresh, are not its handlers' business.
    """

    def __init__(self, bus: EventBus, store: JobStore, cluster_name: str) -> None:
        self.bus = bus
        self._store = store
        self._cluster_name = cluster_name
        self._lock = threading.Lock()
        self._own_families: set[str] = set()

    def adopt(self, root_job_ids: list[str] | tuple[str, ...] | set[str]) -> None:
        """Count these retry families (by their first attempt's id) as own."""
        with self._lock:
            self._own_families.update(root_job_ids)

    def is_own(self, payload: EventPayload) -> bool:
        """Whether ``payload`` is about this engine's cluster and, for a job's
        event, about one of its own jobs (the ``accept`` of scoped handlers)."""
        record = payload.record
        if record is not None:
            return record.cluster_name == self._cluster_name and (
                record.root_job_id in self._own_families or record.job_id in self._own_families
            )
        if payload.job_id is not None:
            return payload.job_id in self._own_families
        data = payload.data
        return not isinstance(data, dict) or data.get("cluster_name", self._cluster_name) == self._cluster_name

    def emit(self, transition: StatusTransition | None) -> None:
        """Emit ``transition`` (nothing for None) with the job's record."""
        if transition is None or not self.bus.has_handlers():
            return
        from molq.callbacks import emit_transition  # loaded with the first handler, not at import

        emit_transition(self.bus, transition, self._store.get_record(transition.job_id))

    def emit_created(self, job_id: str) -> None:
        """The transitions of a job just registered: None -> created, and
        created -> queued when molq holds it."""
        if self.bus.has_handlers():
            for transition in self._store.get_transitions(job_id):
                self.emit(transition)
