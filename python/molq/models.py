"""Records and policies: what molq stores about jobs and how it treats them.

``JobRecord`` and ``StatusTransition`` are native classes from ``molq._core``,
re-exported here (the very same class objects). They are resolved on first
access so that the pure-Python policies below can be used, and tested,
without the native module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from molq import _core
from molq.errors import CommandError as CommandError  # where the original had it
from molq.errors import ConfigError
from molq.status import TERMINAL_STATES, JobState
from molq.submission import Command, JobSpec
from molq.types import JobExecution, JobResources, JobScheduling
from molq.types import Script as Script  # where the original had it

if TYPE_CHECKING:
    from molq._core import JobRecord, StatusTransition

__all__ = [
    "Command",
    "DependencyPreview",
    "DependencyPreviewItem",
    "JobDependency",
    "JobRecord",
    "JobSpec",
    "RememberedAllocation",
    "RetentionPolicy",
    "RetryBackoff",
    "RetryPolicy",
    "SchedulerCapabilities",
    "StatusTransition",
    "SubmitorDefaults",
    "retry_policy_from_dict",
    "retry_policy_to_json",
]

_NATIVE = ("JobRecord", "StatusTransition")


def __getattr__(name: str) -> Any:
    if name in _NATIVE:
        value = getattr(_core, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class FieldError(ValueError):
    """A bad value under ``key`` (a dotted path relative to the dict being read).

    ``molq.config`` prefixes the key with the profile's path when it reports it.
    """

    def __init__(self, key: str, expected: str, got: Any) -> None:
        super().__init__(f"{key}: expected {expected}, got {got!r}")
        self.key = key
        self.expected = expected
        self.got = got


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


@dataclass(frozen=True)
class SubmitorDefaults:
    """Per-Submitor defaults, merged under every request (see ``molq.merge``),
    and the limits the Submitor keeps its cluster to.

    ``max_jobs_in_flight`` caps how many of the cluster's jobs the scheduler
    has at once (every job of the cluster in the store counts, whichever
    process submitted it); ``max_jobs_in_flight_per_partition`` caps named
    partitions apart (``{"debug": 2}``). A job beyond a cap is held by molq:
    QUEUED in the store with the reason, handed to the scheduler in order by
    a later refresh that sees room. ``scheduler_commands_per_second`` paces
    the scheduler commands (submits, polls, cancels) of every process using
    the store, in bursts of at most ``scheduler_command_burst`` (default: one
    second's worth). None: no cap, no pace.
    """

    resources: JobResources | None = None
    scheduling: JobScheduling | None = None
    execution: JobExecution | None = None
    max_jobs_in_flight: int | None = None
    #: Not hashed: a dict.
    max_jobs_in_flight_per_partition: dict[str, int] | None = field(default=None, hash=False)
    scheduler_commands_per_second: float | None = None
    scheduler_command_burst: int | None = None

    def __post_init__(self) -> None:
        def refuse(name: str, expected: str, got: Any) -> ConfigError:
            return ConfigError(
                f"SubmitorDefaults.{name}: expected {expected}, got {got!r}", key=name, expected=expected
            )

        for name in ("max_jobs_in_flight", "scheduler_command_burst"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise refuse(name, "an integer >= 1", value)
        caps = self.max_jobs_in_flight_per_partition
        if caps is not None:
            if not isinstance(caps, dict):
                raise refuse("max_jobs_in_flight_per_partition", "a dict of partition name to an integer >= 1", caps)
            for partition, cap in caps.items():
                if not isinstance(partition, str) or not partition.strip():
                    raise refuse("max_jobs_in_flight_per_partition", "partition names (non-empty strings)", partition)
                if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                    raise refuse(f"max_jobs_in_flight_per_partition[{partition!r}]", "an integer >= 1", cap)
            object.__setattr__(self, "max_jobs_in_flight_per_partition", dict(caps))
        rate = self.scheduler_commands_per_second
        if rate is not None and (not _number(rate) or rate <= 0 or rate == float("inf")):
            raise refuse("scheduler_commands_per_second", "a finite number > 0", rate)
        if self.scheduler_command_burst is not None and rate is None:
            raise refuse(
                "scheduler_command_burst",
                "to be given with scheduler_commands_per_second",
                self.scheduler_command_burst,
            )


@dataclass(frozen=True)
class RetryBackoff:
    """Delay before attempt n+1: ``fixed`` waits ``initial_seconds``;
    ``exponential`` waits ``initial_seconds * factor**(n-1)``; both capped at
    ``maximum_seconds``."""

    mode: Literal["fixed", "exponential"] = "exponential"
    initial_seconds: float = 5.0
    maximum_seconds: float = 300.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.mode not in ("fixed", "exponential"):
            raise FieldError("mode", "'fixed' or 'exponential'", self.mode)
        for name in ("initial_seconds", "maximum_seconds"):
            value = getattr(self, name)
            if not _number(value) or value < 0 or value == float("inf"):
                raise FieldError(name, "a finite number >= 0", value)
        if not _number(self.factor) or self.factor < 1 or self.factor == float("inf"):
            raise FieldError("factor", "a finite number >= 1", self.factor)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after attempt ``attempt`` (1-based) before the next one.

        The native core computes the same delay for scheduled retries."""
        if self.mode == "fixed":
            return min(self.initial_seconds, self.maximum_seconds)
        return min(self.initial_seconds * self.factor ** (attempt - 1), self.maximum_seconds)


def _as_state(value: Any) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        raise FieldError(
            "retry_on_states",
            "terminal state names (" + ", ".join(sorted(TERMINAL_STATES)) + ")",
            value,
        ) from None


@dataclass(frozen=True)
class RetryPolicy:
    """When a finished attempt is submitted again.

    A retry happens when all hold: ``attempt < max_attempts`` (which counts the
    first attempt), the final state is in ``retry_on_states``, and
    ``retry_on_exit_codes`` is None or holds the exit code. States may be given
    as strings; they are stored as ``JobState``.
    """

    max_attempts: int = 1
    retry_on_states: tuple[JobState, ...] = (JobState.FAILED, JobState.TIMED_OUT, JobState.OUT_OF_MEMORY)
    retry_on_exit_codes: tuple[int, ...] | None = None
    backoff: RetryBackoff = field(default_factory=RetryBackoff)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise FieldError("max_attempts", "an int >= 1", self.max_attempts)
        if isinstance(self.retry_on_states, (str, JobState)):
            raise FieldError("retry_on_states", "a list of state names", self.retry_on_states)
        states = tuple(_as_state(s) for s in self.retry_on_states)
        for state in states:
            if state not in TERMINAL_STATES:
                raise FieldError("retry_on_states", "terminal states only", state.value)
        object.__setattr__(self, "retry_on_states", states)
        codes = self.retry_on_exit_codes
        if codes is not None:
            if isinstance(codes, (str, int)):
                raise FieldError("retry_on_exit_codes", "null or a list of ints", codes)
            codes = tuple(codes)
            for code in codes:
                if isinstance(code, bool) or not isinstance(code, int):
                    raise FieldError("retry_on_exit_codes", "null or a list of ints", code)
            object.__setattr__(self, "retry_on_exit_codes", codes)
        if not isinstance(self.backoff, RetryBackoff):
            raise FieldError("backoff", "a RetryBackoff", self.backoff)


def retry_policy_to_json(policy: RetryPolicy) -> str:
    """The policy as the JSON object the native store reads."""
    import json  # deferred: json only when JSON is read or written

    backoff = policy.backoff
    return json.dumps(
        {
            "max_attempts": policy.max_attempts,
            "retry_on_states": [state.value for state in policy.retry_on_states],
            "retry_on_exit_codes": (None if policy.retry_on_exit_codes is None else list(policy.retry_on_exit_codes)),
            "backoff": {
                "mode": backoff.mode,
                "initial_seconds": backoff.initial_seconds,
                "maximum_seconds": backoff.maximum_seconds,
                "factor": backoff.factor,
            },
        }
    )


_RETRY_KEYS = ("max_attempts", "retry_on_states", "retry_on_exit_codes", "backoff")
_BACKOFF_KEYS = ("mode", "initial_seconds", "maximum_seconds", "factor")


def _only_keys(data: Any, allowed: Iterable[str], where: str) -> None:
    if not isinstance(data, dict):
        raise FieldError(where or "retry", "a table/object", data)
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            name = f"{where}.{key}" if where else str(key)
            raise FieldError(name, "one of the keys " + ", ".join(allowed), key)


def retry_policy_from_dict(data: dict[str, Any]) -> RetryPolicy:
    """Read the JSON shape of ``retry_policy_to_json`` (or a config table).

    Missing keys take the defaults; unknown keys and bad values raise
    ``FieldError`` (a ``ValueError``) whose ``key`` names the offending entry.
    """
    _only_keys(data, _RETRY_KEYS, "")
    kwargs: dict[str, Any] = {k: data[k] for k in _RETRY_KEYS[:3] if k in data}
    if "retry_on_states" in kwargs and not isinstance(kwargs["retry_on_states"], list):
        raise FieldError("retry_on_states", "a list of state names", kwargs["retry_on_states"])
    codes = kwargs.get("retry_on_exit_codes")
    if codes is not None and not isinstance(codes, list):
        raise FieldError("retry_on_exit_codes", "null or a list of ints", codes)
    if "backoff" in data:
        raw = data["backoff"]
        _only_keys(raw, _BACKOFF_KEYS, "backoff")
        try:
            kwargs["backoff"] = RetryBackoff(**raw)
        except FieldError as exc:
            raise FieldError(f"backoff.{exc.key}", exc.expected, exc.got) from None
    return RetryPolicy(**kwargs)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long finished jobs keep their directories and their records."""

    keep_job_dirs_for_days: float = 30
    keep_terminal_records_for_days: float = 90
    keep_failed_job_dirs: bool = True

    def __post_init__(self) -> None:
        for name in ("keep_job_dirs_for_days", "keep_terminal_records_for_days"):
            value = getattr(self, name)
            if not _number(value) or value < 0:
                raise FieldError(name, "a number of days >= 0", value)
        if not isinstance(self.keep_failed_job_dirs, bool):
            raise FieldError("keep_failed_job_dirs", "true or false", self.keep_failed_job_dirs)


@dataclass(frozen=True)
class JobDependency:
    """One stored edge: ``job_id`` waits on ``dependency_job_id``.

    ``scheduler_dependency`` is that edge rendered for the scheduler
    (``afterok:123``).
    """

    job_id: str
    dependency_job_id: str
    dependency_type: str
    scheduler_dependency: str


@dataclass(frozen=True)
class DependencyPreviewItem:
    """One neighbour in a dependency preview.

    ``relation_state`` is ``"satisfied"``, ``"pending"`` or ``"impossible"``.
    """

    job_id: str
    dependency_type: str
    relation_state: Literal["satisfied", "pending", "impossible"]
    job_state: JobState
    command_display: str = ""
    scheduler_dependency: str | None = None


@dataclass(frozen=True)
class DependencyPreview:
    """A job's immediate upstream and downstream jobs (depth 1)."""

    job_id: str
    upstream_total: int = 0
    upstream_satisfied: int = 0
    upstream: tuple[DependencyPreviewItem, ...] = ()
    downstream_total: int = 0
    downstream: tuple[DependencyPreviewItem, ...] = ()


@dataclass(frozen=True)
class SchedulerCapabilities:
    """Which request fields a backend can honour; all False unless declared.

    Submission fails with ``ConfigError`` listing every requested field whose
    flag is False, instead of silently dropping it.
    """

    supports_cwd: bool = False
    supports_env: bool = False
    supports_output_file: bool = False
    supports_error_file: bool = False
    supports_job_name: bool = False
    supports_cpu_count: bool = False
    supports_memory: bool = False
    supports_gpu_count: bool = False
    supports_gpu_type: bool = False
    supports_time_limit: bool = False
    supports_partition: bool = False
    supports_account: bool = False
    supports_priority: bool = False
    supports_dependency: bool = False
    supports_node_count: bool = False
    supports_exclusive_node: bool = False
    supports_array_jobs: bool = False
    supports_email: bool = False
    supports_qos: bool = False
    supports_reservation: bool = False


@dataclass(frozen=True)
class RememberedAllocation:
    """A partition/account/qos/reservation combination used before, for suggestions."""

    partition: str | None
    account: str | None
    qos: str | None
    reservation: str | None
    label: str | None
    last_used: float
    use_count: int
