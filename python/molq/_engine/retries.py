"""Scheduled retries: submitting the next attempt of every retry that is due."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from molq._engine.handover import is_transient
from molq._engine.requests import Lineage, SubmitRequest
from molq._engine.submit import submit
from molq._log import get_logger
from molq.errors import JobNotFoundError, MolqError

if TYPE_CHECKING:
    from molq._engine.context import EngineContext

__all__ = ["resubmit_due_retries"]


def resubmit_due_retries(ctx: EngineContext) -> list[str]:
    """Submit the next attempt of every retry that is due; return the new job ids.

    Claims are atomic in the store, so with many processes refreshing, each
    retry is submitted exactly once. A claim names this process; one whose
    holder died (killed between claiming and finishing) is taken back here.
    A passing failure (a timeout, a scheduler restarting) is not waited out:
    the next try is scheduled in the store with the policy's backoff.
    """
    store = ctx.store
    started: list[str] = []
    for job_id in store.claim_due_retries(ctx.cluster_name, time.time()):
        request: SubmitRequest | None = None
        try:
            request = replace(_retry_request(ctx, job_id), from_refresh=True)
            started.append(submit(ctx, request).job_id)
        except MolqError as exc:
            get_logger(__name__).warning("retry of job %s could not be submitted: %s", job_id, exc)
            if is_transient(exc) and _try_again_later(ctx, job_id, request):
                continue  # the claim became a due time again
        store.finish_retry(job_id)
    return started


def _try_again_later(ctx: EngineContext, job_id: str, request: SubmitRequest | None) -> bool:
    """Schedule another try after a passing failure; True if the claim on
    ``job_id`` itself was turned back into a due retry (nothing registered)."""
    store = ctx.store
    if request is None or store.get_record(request.job_id) is None:
        # Failed before the next attempt was registered (reading the stored
        # request or script): the same retry is due again after a pause.
        return store.schedule_retry(job_id, time.time() + _PAUSE_AFTER_PASSING_FAILURE)
    # The attempt that could not be submitted was recorded FAILED with its own
    # retry scheduled (submit's passing-failure path).
    return False


#: Wait before trying again a retry whose stored request could not be read.
_PAUSE_AFTER_PASSING_FAILURE = 30.0


def _retry_request(ctx: EngineContext, job_id: str) -> SubmitRequest:
    previous = ctx.store.get_record(job_id)
    if previous is None:
        raise JobNotFoundError(job_id, ctx.cluster_name)
    attempt = previous.attempt + 1
    request = SubmitRequest.replay(
        ctx,
        previous,
        job_id=str(uuid.uuid4()),
        lineage=Lineage(
            previous.root_job_id, attempt, previous.job_id, previous.retry_group_id or previous.root_job_id
        ),
        dir_name=None,
    )
    return replace(request, dir_name=f"{request.base_dir_name}.attempt{attempt}")
