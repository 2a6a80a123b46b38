"""Retry decisions: whether a finished attempt is submitted again, and when.

The engine schedules retries in the native store with the same rules; these
are the rules as plain functions, for programs and tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from molq import _original_names

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.models import RetryPolicy

__all__ = ["retry_delay_seconds", "should_retry"]


def should_retry(record: JobRecord, policy: RetryPolicy | None) -> bool:
    """Whether ``record``'s attempt earns another one under ``policy``.

    All must hold: there is a policy, ``record.attempt < max_attempts``, the
    state is one of ``retry_on_states``, and ``retry_on_exit_codes`` is None
    or holds the exit code (a job without an exit code does not match a list).
    """
    if policy is None or record.attempt >= policy.max_attempts:
        return False
    if record.state not in policy.retry_on_states:
        return False
    codes = policy.retry_on_exit_codes
    return codes is None or (record.exit_code is not None and record.exit_code in codes)


def retry_delay_seconds(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait after attempt ``attempt`` (1-based) before the next:
    ``initial_seconds`` for a fixed backoff, ``initial_seconds * factor**(attempt-1)``
    for an exponential one, never more than ``maximum_seconds``."""
    return policy.backoff.delay(attempt)


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
