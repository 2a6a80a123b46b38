"""SharedPoller: one scheduler poll per cluster per interval, however many
threads and processes wait on that cluster's jobs through one store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from molq._liveness import is_dead, this_process

if TYPE_CHECKING:
    from molq.store import JobStore

__all__ = ["SharedPoller"]

T = TypeVar("T")


class SharedPoller:
    """Runs a poll only when this holder wins the cluster's lease in the store.

    A caller that loses reads the store instead: the winner's reconcile has
    written the same evidence there. Failed polls back off (the interval
    doubles per failure in a row, up to 64x) for every process at once.
    """

    def __init__(self, store: JobStore, cluster_name: str, *, min_interval: float, lease_seconds: float) -> None:
        self._store = store
        self._cluster = cluster_name
        self.min_interval = min_interval
        #: Only for a holder on another host (its death cannot be seen from
        #: here); a dead holder on this host is taken over at once.
        self._lease_seconds = lease_seconds
        self._local = threading.Lock()  # threads of one Submitor share one holder name

    @property
    def holder(self) -> str:
        """host:pid:start-time of this process, then this poller's own suffix."""
        return f"{this_process()}:{id(self):x}"

    def run(self, poll: Callable[[], tuple[T, str | None]], *, force: bool = False) -> T | None:
        """``poll()`` returns (result, error text or None); None when another holder polls."""
        with self._local:
            store = self._store
            holder = self.holder
            if not store.begin_poll(self._cluster, holder, time.time(), self.min_interval, self._lease_seconds, force):
                if not self._take_over_from_the_dead(holder):
                    return None
            error: str | None = "poll did not finish"
            try:
                result, error = poll()
                return result
            finally:
                store.end_poll(self._cluster, holder, error)

    def _take_over_from_the_dead(self, holder: str) -> bool:
        """Take the lease if its holder died mid-poll (killed, crashed): its
        lease would otherwise stall every waiter of the cluster until it ran out."""
        status = self._store.poll_status(self._cluster)
        current = None if status is None else status.holder
        if current is None or current == holder or not is_dead(current):
            return False
        return self._store.take_over_poll(self._cluster, current, holder, time.time(), self._lease_seconds)
