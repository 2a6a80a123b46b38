"""Waiting for a cancelled batch job (Grid Engine, PBS, LSF) to be gone.

A cancel command only asks: the scheduler keeps the job (Grid Engine ``dr``,
PBS ``E``, LSF ``RUN``) until its execution host reports it killed, or for good if that
host is gone. molq records CANCELLED only once the scheduler shows no part
of the job left, forcing the end after a grace period.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from molq import _core
from molq.errors import SchedulerError
from molq.scheduler._batch import refused, run

if TYPE_CHECKING:
    from molq.transport.base import Transport

__all__ = ["ask_to_cancel", "unended", "wait_until_gone"]


def ask_to_cancel(
    transport: Transport,
    dialect: str,
    argv: list[str],
    *,
    timeout: float,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> bool:
    """Run a cancel command (qdel, bkill) and read its answer: True when it
    cancelled the job, False when the job had already ended (or is unknown).
    A refusal raises, unless ``check`` is off (a forced cancel the site may
    not allow: the wait goes on, then fails at its limit)."""
    name = os.path.basename(argv[0])
    result = run(transport, argv, name, timeout=timeout, env=env)
    answer = _core.parse_cancel(dialect, result.returncode, result.stdout_bytes, result.stderr_bytes)
    if answer.outcome == "refused" and check:
        raise refused(f"{name} {argv[-1]}", result, argv)
    return answer.outcome == "cancelled"


def unended(snapshot: _core.Snapshot, *, stuck_states: frozenset[str] = frozenset()) -> dict[str, str]:
    """Scheduler id -> native state of the parts of a queue listing that
    have not ended (an array, and each of its tasks, are parts of their own).
    ``stuck_states`` are native states read as ended that may still run."""
    return {
        entry.scheduler_job_id: entry.raw_state
        for entry in snapshot.entries()
        if not entry.state.is_terminal or entry.raw_state in stuck_states
    }


def wait_until_gone(
    scheduler: str,
    sid: str,
    left: Callable[[], dict[str, str]],
    force: Callable[[], object],
    *,
    force_after: float,
    timeout: float,
) -> None:
    """Poll ``left()`` until it is empty; ``force()`` once after ``force_after``
    seconds. Raises SchedulerError naming ``sid`` if something is still left
    after ``timeout`` seconds."""
    started = time.monotonic()
    forced = False
    pause = 0.1
    while alive := left():
        waited = time.monotonic() - started
        if waited >= timeout:
            parts = ", ".join(f"{part} {state}" for part, state in sorted(alive.items()))
            raise SchedulerError(
                f"{scheduler} job {sid} is still there {timeout:g} s after it was cancelled ({parts}); "
                "it is not recorded as cancelled",
                scheduler_job_id=sid,
            )
        if not forced and waited >= force_after:
            forced = True
            force()
        time.sleep(pause)
        pause = min(pause * 1.5, 1.0)
