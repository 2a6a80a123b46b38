"""EngineContext: what the lifecycle engine knows about the cluster it serves."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from molq._engine.events import JobEvents
    from molq._engine.flight import FlightCaps
    from molq.models import RetryPolicy, SubmitorDefaults
    from molq.scheduler.base import Scheduler
    from molq.store import JobStore
    from molq.transport.base import Transport

__all__ = ["EngineContext"]


class EngineContext:
    """One cluster's jobs, as the engine sees them: where they are recorded
    (``store``), who runs them (``scheduler`` through ``transport``) and
    the Submitor's settings that shape each request.

    A plain class, not a dataclass: it is built at ``import molq`` time's
    budget (``dataclasses`` stays unloaded until a value type is used).
    """

    __slots__ = (
        "cluster_name",
        "scheduler_kind",
        "scheduler",
        "transport",
        "is_remote",
        "store",
        "events",
        "defaults",
        "jobs_dir",
        "default_retry_policy",
        "profile_name",
        "flight_caps",
        "pace",
    )

    def __init__(
        self,
        *,
        cluster_name: str,
        scheduler_kind: str,
        scheduler: Scheduler,
        transport: Transport,
        is_remote: bool,
        store: JobStore,
        events: JobEvents,
        defaults: SubmitorDefaults | None = None,
        jobs_dir: str | None = None,
        default_retry_policy: RetryPolicy | None = None,
        profile_name: str | None = None,
        flight_caps: FlightCaps | None = None,
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.cluster_name = cluster_name
        #: The scheduler kind ("local", "slurm", ...), as the store records it.
        self.scheduler_kind = scheduler_kind
        self.scheduler = scheduler
        self.transport = transport
        #: Whether the transport reaches another machine (paths are resolved there).
        self.is_remote = is_remote
        self.store = store
        self.events = events
        self.defaults = defaults
        #: Where job directories go (on the cluster); None: ``<cwd>/.molq/jobs``.
        self.jobs_dir = jobs_dir
        self.default_retry_policy = default_retry_policy
        self.profile_name = profile_name
        #: The caps on the cluster's jobs in flight (None: none).
        self.flight_caps = flight_caps
        #: Called before each scheduler command: waits for the cluster's rate limit.
        self.pace: Callable[[], None] = pace or _no_pace

    def at_job_root(self, jobs_dir: str) -> EngineContext:
        """This context with job directories under ``jobs_dir`` (the same store,
        scheduler and settings): where a stored job's directory already is."""
        moved = EngineContext.__new__(EngineContext)
        for name in self.__slots__:
            setattr(moved, name, getattr(self, name))
        moved.jobs_dir = jobs_dir
        return moved

    def __repr__(self) -> str:
        return f"EngineContext(cluster_name={self.cluster_name!r}, scheduler_kind={self.scheduler_kind!r})"


def _no_pace() -> None:
    """No rate limit: scheduler commands go at once."""
