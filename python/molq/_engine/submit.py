"""One submission: register the job, lay out its directory, hand it to the
scheduler, record the scheduler's id (or the failure)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from molq import _core
from molq._engine.handover import hand_to_scheduler, is_transient, outcome_unknown
from molq._engine.job_dir import prepare_job_dir
from molq._engine.recovery import stop_if_cancelled_meanwhile
from molq.errors import MolqError, SchedulerError
from molq.scheduler.base import OriginalProtocolScheduler

if TYPE_CHECKING:
    from molq._engine.context import EngineContext
    from molq._engine.requests import SubmitRequest

__all__ = ["Submitted", "submit"]


@dataclass(frozen=True)
class Submitted:
    """A job the scheduler accepted."""

    #: The retry family's first attempt: what the caller's handle follows.
    root_job_id: str
    job_id: str
    scheduler_job_id: str


def submit(ctx: EngineContext, request: SubmitRequest) -> Submitted:
    """Submit ``request``; returns once the scheduler has accepted it.

    Everything is checked before anything is written. A scheduler that may
    have taken the job though the submission failed (``outcome_unknown``)
    leaves it registered without an id: it is adopted once the scheduler
    shows it (``recovery``), never sent twice.
    """
    resolved = request.resolve(ctx)
    spec = resolved.spec
    prepare_job_dir(ctx.transport, spec, resolved.script_bytes)
    store = ctx.store
    store.register_job(
        _core.NewJob(
            job_id=spec.job_id,
            cluster_name=spec.cluster_name,
            scheduler=spec.scheduler,
            root_job_id=spec.root_job_id,
            attempt=spec.attempt,
            previous_attempt_job_id=spec.previous_attempt_job_id,
            retry_group_id=spec.retry_group_id,
            command_type=spec.command.command_type,
            command_display=spec.command.display,
            cwd=spec.cwd,
            job_dir=spec.job_dir,
            metadata=spec.metadata,
            request_json=spec.request_json,
            retry_json=resolved.retry_json,
            profile_name=spec.profile_name,
            array=bool(spec.scheduling.array_spec),
        ),
        resolved.edges,
        time.time(),
    )
    ctx.events.adopt((spec.root_job_id,))
    ctx.events.emit_created(spec.job_id)
    handed_at = time.time()  # a job may start before the hand-over returns
    try:
        scheduler_job_id = hand_to_scheduler(ctx.scheduler, spec, request.inline_retry)
    except Exception as exc:
        if outcome_unknown(exc):
            raise SchedulerError(
                f"job {spec.job_id} may have been submitted to {ctx.cluster_name!r} ({exc}); "
                "molq keeps tracking it and records it once the scheduler shows it; do not submit it again",
                job_id=spec.job_id,
                outcome_unknown=True,
            ) from exc
        # A retry that meets a passing failure gets its next attempt scheduled
        # with the failure (atomically: a waiter never sees the family settled).
        passing = request.from_refresh and is_transient(exc)
        ctx.events.emit(store.mark_failed(spec.job_id, f"submission failed: {exc}", time.time(), retry=passing))
        # a scheduler of the caller's own keeps its exceptions; molq's backends'
        # unexpected ones are named as a submission failure
        if isinstance(exc, MolqError) or isinstance(ctx.scheduler, OriginalProtocolScheduler):
            raise
        raise SchedulerError(f"submission to {ctx.cluster_name!r} failed: {exc}") from exc
    submitted = store.mark_submitted(spec.job_id, scheduler_job_id, handed_at)
    if submitted is None:
        stop_if_cancelled_meanwhile(ctx, spec.job_id, scheduler_job_id, spec.job_dir)
    ctx.events.emit(submitted)
    return Submitted(spec.root_job_id, spec.job_id, scheduler_job_id)
