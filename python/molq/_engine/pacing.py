"""CommandPacer: the cluster's rate limit on scheduler commands, shared by
every process through the store (a token bucket per cluster, in the core)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from molq.models import SubmitorDefaults
    from molq.store import JobStore

__all__ = ["CommandPacer", "pacer_for"]


class CommandPacer:
    """Waits, before each scheduler command, until the cluster's bucket gives a token."""

    def __init__(self, store: JobStore, cluster_name: str, per_second: float, burst: int) -> None:
        self._store = store
        self._cluster = cluster_name
        self.per_second = per_second
        self.burst = burst

    def __call__(self) -> None:
        while True:
            wait = self._store.take_command_token(self._cluster, time.time(), self.per_second, self.burst)
            if wait <= 0:
                return
            time.sleep(wait)  # here, never in the core: it only says how long


def pacer_for(store: JobStore, cluster_name: str, defaults: SubmitorDefaults | None) -> CommandPacer | None:
    """The pacer ``defaults`` ask for (None: no rate limit)."""
    rate = None if defaults is None else defaults.scheduler_commands_per_second
    if rate is None:
        return None
    assert defaults is not None
    burst = defaults.scheduler_command_burst or max(1, math.ceil(rate))
    return CommandPacer(store, cluster_name, rate, burst)
