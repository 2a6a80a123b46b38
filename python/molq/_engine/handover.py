"""Handing a job to the scheduler: transient failures are tried again under
the job's retry policy, and an answer lost on the way back is looked for
before anything is sent twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from molq._log import get_logger
from molq._paths import explain_os_error
from molq.errors import MolqError, SchedulerError, TransportError

if TYPE_CHECKING:
    from molq.models import RetryPolicy
    from molq.scheduler.base import Scheduler
    from molq.submission import JobSpec

__all__ = ["hand_to_scheduler", "is_transient", "outcome_unknown", "submitted_after_all"]


def _at_once() -> None:
    """No rate limit."""


def is_transient(exc: BaseException) -> bool:
    """A failure worth another try: the job was refused for now, not for good
    (a timeout, a dropped connection, a scheduler that is full or restarting)."""
    if isinstance(exc, TransportError):
        return True
    return bool(getattr(exc, "context", {}).get("transient"))


def outcome_unknown(exc: BaseException) -> bool:
    """The scheduler may have accepted the job though the submission failed
    (the connection dropped or timed out while it answered)."""
    return bool(getattr(exc, "context", {}).get("outcome_unknown"))


def hand_to_scheduler(
    scheduler: Scheduler, spec: JobSpec, retry: RetryPolicy | None, *, pace: Callable[[], None] = _at_once
) -> str:
    """``scheduler.submit``, with transient failures retried under the job's
    retry policy (its attempts and backoff; none without a policy). ``pace``
    waits for the cluster's rate limit before each scheduler command.

    After a transient failure it asks the scheduler whether the failed try
    got through after all (``find_submissions``, by molq's marker on the
    job), so a submission that timed out on the way back is not made twice.
    A failure the scheduler may have accepted (``outcome_unknown``) is never
    tried again: unless the job is found at once, the error propagates and
    the job stays registered for ``recover_interrupted_submissions``.
    """
    tries = retry.max_attempts if retry is not None else 1
    for attempt in range(1, tries + 1):
        try:
            pace()
            return scheduler.submit(spec, spec.job_dir)
        except OSError as exc:
            # Writing the backend's files in the job directory (disk full, ...).
            raise SchedulerError(
                f"cannot submit job {spec.job_id}: {explain_os_error(exc, exc.filename or spec.job_dir)}",
                job_dir=spec.job_dir,
            ) from None
        except MolqError as exc:
            if outcome_unknown(exc):
                # it may run: found by its marker now, or the job stays
                # registered (never failed, never sent again) for recovery
                found = submitted_after_all(scheduler, spec, pace)
                if found is not None:
                    return found
                raise
            if not is_transient(exc):
                raise
            if attempt >= tries:
                found = submitted_after_all(scheduler, spec, pace)
                if found is not None:
                    return found
                raise
            assert retry is not None
            delay = retry.backoff.delay(attempt)
            get_logger(__name__).warning(
                "submission of job %s failed (%s); trying again in %.1f s (%d of %d)",
                spec.job_id,
                exc,
                delay,
                attempt + 1,
                tries,
            )
            time.sleep(delay)
            found = submitted_after_all(scheduler, spec, pace)
            if found is not None:
                return found
    raise AssertionError("unreachable")


def submitted_after_all(scheduler: Scheduler, spec: JobSpec, pace: Callable[[], None] = _at_once) -> str | None:
    """The scheduler id of ``spec`` if a try that seemed to fail reached the scheduler."""
    try:
        pace()
        return scheduler.find_submissions([(spec.job_id, spec.job_dir)]).get(spec.job_id)
    except MolqError:
        return None
