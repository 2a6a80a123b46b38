"""SharedPoller: one scheduler poll per cluster per interval, however many
threads and processes wait on that cluster's jobs through one store."""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Callable, TypeVar

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
        import socket

        self._store = store
        self._cluster = cluster_name
        self.min_interval = min_interval
        self._lease_seconds = lease_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._local = threading.Lock()  # threads of one Submitor share one holder name

    def run(self, poll: Callable[[], tuple[T, str | None]], *, force: bool = False) -> T | None:
        """``poll()`` returns (result, error text or None); None when another holder polls."""
        with self._local:
            native = self._store.native
            if not native.begin_poll(self._cluster, self.holder, time.time(), self.min_interval, self._lease_seconds, force):
                return None
            error: str | None = "poll did not finish"
            try:
                result, error = poll()
                return result
            finally:
                native.end_poll(self._cluster, self.holder, error)
