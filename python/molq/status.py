"""The lifecycle states a molq job moves through."""

from __future__ import annotations

from enum import Enum

__all__ = ["JobState", "RetryState", "TERMINAL_STATES", "ACTIVE_STATES"]


class JobState(str, Enum):
    """A job's state in molq's own lifecycle (not the scheduler's native code).

    created -> submitted -> queued/running -> one terminal state. Terminal
    states are sticky: once a job is succeeded, failed, cancelled, timed_out,
    out_of_memory or lost, nothing moves it again. ``OUT_OF_MEMORY`` (new in
    this molq; the original recorded such jobs as ``FAILED``) is a failure:
    the scheduler stopped the job for using more memory than it was allowed.
    """

    CREATED = "created"
    SUBMITTED = "submitted"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    OUT_OF_MEMORY = "out_of_memory"
    LOST = "lost"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.TIMED_OUT,
        JobState.OUT_OF_MEMORY,
        JobState.LOST,
    }
)
ACTIVE_STATES = frozenset(set(JobState) - TERMINAL_STATES)


class RetryState(str, Enum):
    """Where the retry of a finished attempt stands (``JobRecord.retry_state``;
    None: no retry was scheduled)."""

    #: Due at ``retry_due_at``; the attempt is not settled yet.
    SCHEDULED = "scheduled"
    #: A process is submitting the next attempt now.
    CLAIMED = "claimed"
    #: The next attempt exists.
    DONE = "done"
    #: Cancelled before it was submitted.
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value
