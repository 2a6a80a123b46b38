"""Scheduler backends: how molq talks to each kind of batch system."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from molq import _core, _original_names
from molq.scheduler.base import DependencyEdge, Scheduler, TerminalStatus
from molq.scheduler.shell import ShellScheduler
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.transport.base import Transport

__all__ = [
    "DependencyEdge",
    "QueueEntry",
    "SchedulerCapabilities",
    "Scheduler",
    "ShellScheduler",
    "TerminalStatus",
    "SCHEDULER_KINDS",
    "create_scheduler",
]

#: kind -> "module:Class"; the batch backends load only when used.
_BACKENDS = {
    "local": "molq.scheduler.shell:ShellScheduler",
    "slurm": "molq.scheduler.slurm:SlurmScheduler",
    "pbs": "molq.scheduler.pbs:PBSScheduler",
    "lsf": "molq.scheduler.lsf:LSFScheduler",
    "sge": "molq.scheduler.sge:SGEScheduler",
}
SCHEDULER_KINDS = tuple(_BACKENDS)


def _backend_class(kind: str) -> Callable[..., Scheduler]:
    module, _, cls = _BACKENDS[kind].partition(":")
    backend: Callable[..., Scheduler] = getattr(importlib.import_module(module), cls)
    return backend


def create_scheduler(scheduler_name: str, options: Any = None, *, transport: Transport | None = None) -> Scheduler:
    """The backend for scheduler kind ``scheduler_name`` driving ``transport``."""
    if scheduler_name not in _BACKENDS:
        raise ValueError(f"Unknown scheduler kind {scheduler_name!r}; expected one of: {', '.join(SCHEDULER_KINDS)}")
    if transport is None:
        transport = LocalTransport()
    return _backend_class(scheduler_name)(options, transport=transport)


def __dir__() -> list[str]:
    # the backends load on first use, but are listed like the rest
    return sorted({*globals(), *(target.partition(":")[2] for target in _BACKENDS.values())})


def __getattr__(name: str) -> Any:
    # The value classes live with the other models; the original exported them here.
    if name == "SchedulerCapabilities":
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        return SchedulerCapabilities
    if name == "QueueEntry":
        return _core.QueueEntry
    for kind, target in _BACKENDS.items():
        if target.endswith(":" + name):
            return _backend_class(kind)
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
