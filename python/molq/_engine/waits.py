"""Blocking waits on jobs, polling at a strategy's pace (``JobMonitor``;
public path ``molq.monitor``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from molq.errors import JobNotFoundError, MolqTimeoutError

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.store import JobStore
    from molq.strategies import PollingStrategy

__all__ = ["JobMonitor", "is_settled"]


def is_settled(record: JobRecord) -> bool:
    """Terminal, with no retry about to replace it."""
    return record.settled  # the rule lives in the core (JobRecord::settled)


class JobMonitor:
    """Waits for jobs to settle. ``refresh`` runs one refresh cycle of the cluster.

    A wait ends within one polling interval of the job's end, and a timeout
    never overshoots by more than one poll: the last sleep is cut to the time
    that remains.
    """

    def __init__(
        self,
        refresh: Callable[[], Any] | Any,
        store: JobStore,
        strategy: PollingStrategy | None = None,
        *,
        cluster_name: str | None = None,
    ) -> None:
        if strategy is None:
            from molq.strategies import ExponentialBackoffStrategy  # deferred: molq.strategies loads only when used

            strategy = ExponentialBackoffStrategy()
        # A JobReconciler is accepted too, as in earlier molq releases.
        self._refresh = getattr(refresh, "reconcile", refresh)
        self._store = store
        self.strategy = strategy
        self._cluster_name = cluster_name
        self._stop = threading.Event()

    def stop(self) -> None:
        """End every wait in progress early."""
        self._stop.set()

    def wait_one(self, job_id: str, *, timeout: float | None = None) -> JobRecord:
        records = self._wait([job_id], timeout=timeout)
        return records[0]

    def wait_many(
        self,
        job_ids: Sequence[str] | None = None,
        cluster_name: str | None = None,
        *,
        timeout: float | None = None,
    ) -> list[JobRecord]:
        """Wait for ``job_ids``, or for every job of the cluster active right now."""
        if job_ids is None:
            cluster = cluster_name or self._cluster_name
            if cluster is None:
                raise ValueError("wait_many needs job_ids or a cluster name")
            job_ids = [r.job_id for r in self._store.list_records(cluster, include_terminal=False)]
            if not job_ids:
                return []
        return self._wait(list(job_ids), timeout=timeout)

    def _wait(self, job_ids: list[str], *, timeout: float | None) -> list[JobRecord]:
        self._stop.clear()
        started = time.monotonic()
        polls = 0
        while True:
            self._refresh()
            polls += 1
            records = self._latest(job_ids)
            pending = [r for r in records if not is_settled(r)]
            if not pending or self._stop.is_set():
                return records
            elapsed = time.monotonic() - started
            interval = self.strategy.next_interval(elapsed, polls)
            # A retry due sooner than the next poll should not wait for it.
            due = [r.retry_due_at for r in pending if r.retry_due_at is not None]
            if due:
                interval = min(interval, max(0.02, min(due) - time.time()))
            if timeout is not None:
                remaining = timeout - elapsed
                if remaining <= 0:
                    states = ", ".join(f"{r.job_id}={r.state.value}" for r in pending[:5])
                    raise MolqTimeoutError(
                        f"{len(pending)} job(s) did not complete within {timeout:g} s (timed out): {states}",
                        job_ids=[r.job_id for r in pending],
                    )
                interval = min(interval, remaining)
            if self._stop.wait(interval):
                return self._latest(job_ids)

    def _latest(self, job_ids: list[str]) -> list[JobRecord]:
        """The newest attempt of each job's family, in one batched read (a
        second lookup only for the jobs a retry has replaced)."""
        records = {r.job_id: r for r in self._store.get_records(job_ids)}
        out = []
        for job_id in job_ids:
            record = records.get(job_id)
            if record is None:
                raise JobNotFoundError(job_id, self._cluster_name)
            if record.retry_state in ("claimed", "done"):
                record = self._store.get_latest_attempt_record(job_id) or record
            out.append(record)
        return out
