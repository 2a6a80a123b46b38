"""One submission: register the job, lay out its directory, hand it to the
scheduler, record the scheduler's id (or the failure). Under a cap on the
cluster's jobs in flight the hand-over may wait: ``flight`` does it later."""

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
    from molq.models import RetryPolicy
    from molq.submission import JobSpec

__all__ = ["Submitted", "hand_over", "submit"]


@dataclass(frozen=True)
class Submitted:
    """A job the scheduler accepted, or that molq holds until there is room."""

    #: The retry family's first attempt: what the caller's handle follows.
    root_job_id: str
    job_id: str
    #: None while molq holds the job (``held_reason`` says why).
    scheduler_job_id: str | None
    held_reason: str | None = None


def submit(ctx: EngineContext, request: SubmitRequest) -> Submitted:
    """Submit ``request``; returns once the scheduler has accepted it, or at
    once when a cap on the cluster's jobs in flight holds it (``flight``).

    Everything is checked before anything is written. A scheduler that may
    have taken the job though the submission failed (``outcome_unknown``)
    leaves it registered without an id: it is adopted once the scheduler
    shows it (``recovery``), never sent twice.
    """
    resolved = request.resolve(ctx)
    spec = resolved.spec
    prepare_job_dir(ctx.transport, spec, resolved.script_bytes)
    store = ctx.store
    caps = {} if ctx.flight_caps is None else ctx.flight_caps.as_kwargs()
    held_reason = store.register_job(
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
        **caps,
    )
    ctx.events.adopt((spec.root_job_id,))
    ctx.events.emit_created(spec.job_id)
    if held_reason is not None:
        return Submitted(spec.root_job_id, spec.job_id, None, held_reason)
    return hand_over(ctx, spec, request.inline_retry, from_refresh=request.from_refresh)


def hand_over(
    ctx: EngineContext, spec: JobSpec, inline_retry: RetryPolicy | None, *, from_refresh: bool, held: bool = False
) -> Submitted:
    """Hand the registered job ``spec`` to the scheduler and record its id
    (or the failure). ``held``: a job molq held, claimed for this hand-over;
    a passing failure gives it back to the hold, in its place."""
    store = ctx.store
    handed_at = time.time()  # a job may start before the hand-over returns
    try:
        scheduler_job_id = hand_to_scheduler(ctx.scheduler, spec, inline_retry, pace=ctx.pace)
    except Exception as exc:
        if outcome_unknown(exc):
            raise SchedulerError(
                f"job {spec.job_id} may have been submitted to {ctx.cluster_name!r} ({exc}); "
                "molq keeps tracking it and records it once the scheduler shows it; do not submit it again",
                job_id=spec.job_id,
                outcome_unknown=True,
            ) from exc
        if held and is_transient(exc) and store.hold_again(spec.job_id):
            raise SchedulerError(
                f"held job {spec.job_id} could not be handed to {ctx.cluster_name!r} for now ({exc}); "
                "molq holds it again and tries at a later refresh",
                job_id=spec.job_id,
                held_again=True,
            ) from exc
        # A retry that meets a passing failure gets its next attempt scheduled
        # with the failure (atomically: a waiter never sees the family settled).
        passing = from_refresh and is_transient(exc)
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
