"""Jobs whose submitter died between the scheduler accepting them and molq
recording their scheduler id (they sit in CREATED with no id, or QUEUED
with no id once claimed from molq's hold): finding them, and stopping them
when they are cancelled."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from molq._log import get_logger
from molq.errors import MolqError
from molq.status import JobState

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq._engine.context import EngineContext

__all__ = ["recover_interrupted_submissions", "stop_unrecorded_submission", "stop_if_cancelled_meanwhile"]


def recover_interrupted_submissions(
    ctx: EngineContext, *, adopt_after: float, give_up_after: float, now: float | None = None
) -> list[str]:
    """Adopt the jobs handed over more than ``adopt_after`` s ago without a
    recorded scheduler id (CREATED ones, and held ones claimed for their
    hand-over) that the scheduler has (found by molq's marker); mark FAILED
    those still unknown ``give_up_after`` s after their hand-over. Returns
    the adopted job ids.

    ``give_up_after`` must exceed the longest a live submit can take, or a
    slow submitter's job would be declared failed under its feet.
    """
    now = time.time() if now is None else now
    candidates = ctx.store.interrupted_submissions(ctx.cluster_name, now - adopt_after)
    if not candidates:
        return []
    try:
        ctx.pace()
        found = ctx.scheduler.find_submissions([(job_id, job_dir) for job_id, job_dir, _ in candidates])
    except (MolqError, OSError) as exc:
        get_logger(__name__).warning("could not look for interrupted submissions: %s", exc)
        return []
    adopted = []
    for job_id, _, handed_at in candidates:
        sid = found.get(job_id)
        if sid is not None:
            # submitted when it was handed over, just before the scheduler took it
            # (the job may have started long ago: its start must not precede this)
            transition = ctx.store.mark_submitted(job_id, sid, handed_at)
            if transition is not None:
                adopted.append(job_id)
                ctx.events.emit(transition)
        elif now - handed_at >= give_up_after:
            ctx.events.emit(
                # a passing failure: the job's retry policy gives it its next attempt
                ctx.store.mark_failed(
                    job_id,
                    "submission was interrupted (its submitter stopped) and the scheduler has no such job",
                    time.time(),
                    retry=True,
                )
            )
    return adopted


def stop_unrecorded_submission(ctx: EngineContext, record: JobRecord, refresh: Callable[[], object]) -> bool:
    """Before a CREATED job without a scheduler id is recorded as cancelled,
    stop whatever the scheduler did start of it.

    Its submitter may have died (or be still waiting) after the scheduler
    accepted it. Returns True when the job turned out to have ended on its
    own: it is adopted and ``refresh``-ed so that its real outcome is recorded,
    and the caller records nothing. Scheduler errors propagate: a job that
    may still run is never recorded as cancelled.
    """
    # the local backend closes the race with a submitter still starting it
    ctx.pace()
    sid, live = ctx.scheduler.cancel_unrecorded(record.job_id, record.job_dir)
    if sid is None or live:
        return False
    registered_at = record.submitted_at if record.submitted_at is not None else time.time()
    if ctx.store.mark_submitted(record.job_id, sid, registered_at) is None:
        return False
    refresh()
    return True


def stop_if_cancelled_meanwhile(ctx: EngineContext, job_id: str, scheduler_job_id: str, job_dir: str) -> None:
    """The submitter's side of the same race: the scheduler accepted the job,
    but it was cancelled (CREATED -> CANCELLED) before its id was recorded, so
    the canceller could not reach it. Stop it here."""
    record = ctx.store.get_record(job_id)
    if record is not None and record.state is JobState.CANCELLED:
        ctx.pace()
        ctx.scheduler.cancel(scheduler_job_id, job_dir=job_dir or None)
