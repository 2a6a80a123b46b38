"""run_daemon: keep one cluster's jobs refreshed until told to stop."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from molq._log import get_logger
from molq.errors import ConfigError

__all__ = ["run_daemon", "DaemonLock"]

#: Retention is cheap but need not run every few seconds.
_CLEANUP_EVERY = 3600.0


class DaemonLock:
    """An exclusive lock per store file and cluster, held while a daemon runs."""

    def __init__(self, store_path: str, cluster_name: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in cluster_name)
        self.path = f"{store_path}.{safe}.daemon.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise ConfigError(
                f"a molq daemon (pid {holder}) already refreshes this cluster with this store; lock file: {self.path}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def run_daemon(
    store_path: str,
    cluster_name: str,
    refresh: Callable[[], object],
    cleanup: Callable[[], object],
    *,
    once: bool = False,
    interval: float = 5.0,
    run_cleanup: bool = True,
) -> None:
    """Call ``refresh`` every ``interval`` s (and ``cleanup`` hourly) until
    SIGTERM/SIGINT, holding the cluster's daemon lock on the store file."""
    log = get_logger(__name__)
    lock = None
    if store_path != ":memory:":
        lock = DaemonLock(store_path, cluster_name)
        lock.acquire()
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    last_cleanup = 0.0
    try:
        while not stop.is_set():
            try:
                refresh()
                if run_cleanup and time.monotonic() - last_cleanup >= _CLEANUP_EVERY:
                    cleanup()
                    last_cleanup = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - an outage must not end the daemon
                log.warning("molq daemon for %r: refresh failed, will retry: %s", cluster_name, exc)
            if once:
                break
            stop.wait(interval)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if lock is not None:
            lock.release()
