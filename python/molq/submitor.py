"""Submitor: the public face of the lifecycle engine (``molq._engine``) for one Cluster.

It checks what the caller passed, builds the engine, and forwards each
operation to it; reads go to the job store, scoped to the cluster's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from molq import _original_names
from molq.cluster import Cluster
from molq.errors import ConfigError
from molq.status import JobState

if TYPE_CHECKING:
    from pathlib import Path

    from molq._core import ArrayTask, JobRecord, StatusTransition
    from molq._engine.refresh import JobReconciler
    from molq.callbacks import EventBus, EventType
    from molq.handle import JobHandle
    from molq.models import (
        DependencyPreview,
        JobDependency,
        RememberedAllocation,
        RetentionPolicy,
        RetryPolicy,
        SubmitorDefaults,
    )
    from molq.store import JobStore
    from molq.strategies import PollingStrategy
    from molq.types import JobExecution, JobResources, JobScheduling, Script

__all__ = ["Submitor", "JobHandle"]


def __getattr__(name: str) -> object:
    # JobHandle was importable from here in earlier releases.
    if name == "JobHandle":
        from molq.handle import JobHandle  # deferred: molq.handle stays out of import molq until used

        return JobHandle
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)


def default_polling_strategy(scheduler_kind: str) -> PollingStrategy:
    """How often waits poll a cluster of ``scheduler_kind`` (``molq._engine.engine``)."""
    from molq._engine.engine import default_polling_strategy as strategy  # the engine loads with the first Submitor

    return strategy(scheduler_kind)


class Submitor:
    """Submits jobs to ``target`` and tracks them in a job store.

    Every lifecycle operation is scoped to the target cluster's name, so
    Submitors of different clusters can share one store file.
    """

    def __init__(
        self,
        target: Cluster,
        *,
        defaults: SubmitorDefaults | None = None,
        store: JobStore | None = None,
        jobs_dir: str | Path | None = None,
        default_retry_policy: RetryPolicy | None = None,
        retention_policy: RetentionPolicy | None = None,
        profile_name: str | None = None,
        event_bus: EventBus | None = None,
        polling_strategy: PollingStrategy | None = None,
        lost_after_seconds: float = 60.0,
        lost_after_polls: int = 3,
        recover_submissions_after: float = 30.0,
        fail_interrupted_submissions_after: float = 900.0,
        min_poll_interval: float | None = None,
        plugins: Sequence[str] | None = None,
        plugin_configs: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        if not isinstance(target, Cluster):
            raise TypeError(f"Submitor target must be a molq.Cluster, got {type(target).__name__}")
        # loaded with the first Submitor, not at import molq
        from molq._engine.engine import Engine
        from molq.callbacks import EventBus  # deferred: molq.callbacks stays out of import molq until used
        from molq.models import RetentionPolicy  # deferred: molq.models stays out of import molq until used

        self._owns_store = store is None
        if store is None:
            # deferred: molq.store stays out of import molq until used
            from molq.store import JobStore, default_jobs_db_path

            store = JobStore(default_jobs_db_path())
        self._target = target
        self._store = store
        self._jobs_dir = None if jobs_dir is None else str(jobs_dir)
        self._retention_policy = retention_policy or RetentionPolicy()
        self._bus = event_bus or EventBus()
        self._engine = Engine(
            cluster_name=target.name,
            scheduler_kind=target.scheduler,
            scheduler=target.scheduler_impl,
            transport=target.transport,
            is_remote=target.is_remote,
            store=store,
            bus=self._bus,
            defaults=defaults,
            jobs_dir=self._jobs_dir,
            default_retry_policy=default_retry_policy,
            profile_name=profile_name,
            polling_strategy=polling_strategy,
            lost_after_seconds=lost_after_seconds,
            lost_after_polls=lost_after_polls,
            recover_submissions_after=recover_submissions_after,
            fail_interrupted_submissions_after=fail_interrupted_submissions_after,
            min_poll_interval=min_poll_interval,
        )
        self._closed = False
        self._plugins: Any = None
        if plugins:
            # Attached last: a plugin sees a fully built Submitor (molq.plugin; they fail open).
            # deferred: molq.plugin stays out of import molq until used
            from molq.plugin import PluginManager, store_context_factory

            self._plugins = PluginManager()
            self._plugins.load(
                list(plugins),
                ctx_factory=store_context_factory(self._bus, target.name, store),
                configs=plugin_configs or {},
            )

    @classmethod
    def from_profile(
        cls,
        profile_name: str,
        *,
        target: Cluster | None = None,
        config_path: str | Path | None = None,
        store: JobStore | None = None,
        plugins: Sequence[str] | None = None,
        plugin_configs: dict[str, dict[str, Any]] | None = None,
    ) -> Submitor:
        from molq.config import load_profile  # deferred: molq.config stays out of import molq until used
        from molq.models import SubmitorDefaults  # deferred: molq.models stays out of import molq until used

        profile = load_profile(profile_name, config_path)
        if target is None:
            target = Cluster.from_profile(profile_name, config_path=config_path)
        return cls(
            target,
            defaults=profile.defaults or SubmitorDefaults(),
            store=store,
            jobs_dir=profile.jobs_dir,
            default_retry_policy=profile.retry,
            retention_policy=profile.retention,
            profile_name=profile.name,
            plugins=plugins,
            plugin_configs=plugin_configs,
        )

    # -- properties ---------------------------------------------------------------
    @property
    def target(self) -> Cluster:
        return self._target

    @property
    def cluster_name(self) -> str:
        return self._target.name

    @property
    def store(self) -> JobStore:
        return self._store

    @property
    def event_bus(self) -> EventBus:
        return self._bus

    @property
    def reconciler(self) -> JobReconciler:
        """The refresh cycle of this Submitor's cluster (its ``last_error`` says
        why the last poll failed, None after a good one)."""
        return self._engine.reconciler

    # -- submit -------------------------------------------------------------------
    def submit_job(
        self,
        *,
        argv: Sequence[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        execution: JobExecution | None = None,
        metadata: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        after_started: Sequence[str] | None = None,
        after: Sequence[str] | None = None,
        after_failure: Sequence[str] | None = None,
        after_success: Sequence[str] | None = None,
        job_dir_name: str | None = None,
    ) -> JobHandle:
        """Submit one job; returns once the scheduler has accepted it, or at
        once when ``max_jobs_in_flight`` (or a partition's cap) holds it: the
        handle is then QUEUED with the reason (``"held by molq: 50 of 50 in
        flight"``), and a later refresh hands it to the scheduler.

        Everything is checked before anything is written: a bad request raises
        a ``molq.errors`` exception and leaves no trace in the store.
        """
        submitted = self._engine.submit_job(
            argv=argv,
            command=command,
            script=script,
            resources=resources,
            scheduling=scheduling,
            execution=execution,
            metadata=metadata,
            retry=retry,
            dependency_lists=(after_started, after, after_failure, after_success),
            job_dir_name=job_dir_name,
        )
        from molq.handle import JobHandle  # loaded with the first submit

        return JobHandle(
            job_id=submitted.root_job_id,
            cluster_name=self.cluster_name,
            scheduler=self._target.scheduler,
            scheduler_job_id=submitted.scheduler_job_id,
            reason=submitted.held_reason,
            _state=JobState.SUBMITTED if submitted.held_reason is None else JobState.QUEUED,
            _submitor=self,
        )

    # -- reads ----------------------------------------------------------------------
    def get_job(self, job_id: str, *, latest_attempt: bool = False) -> JobRecord:
        """The record of ``job_id`` in this cluster (or its family's newest attempt)."""
        return self._engine.get_job(job_id, latest_attempt=latest_attempt)

    def get_array_tasks(self, job_id: str) -> list[ArrayTask]:
        """The tasks of array job ``job_id`` as last observed, by task number
        (``task_id``, ``state``, ``exit_code``, ``exit_signal``, ``started_at``,
        ``finished_at``; each also reads as that tuple)."""
        self.get_job(job_id)  # raises JobNotFoundError for another cluster's job
        return self._store.get_array_tasks(job_id)

    def list_jobs(self, include_terminal: bool = False, *, limit: int | None = None) -> list[JobRecord]:
        return self._store.list_records(self.cluster_name, include_terminal, limit)

    def get_transitions(self, job_id: str) -> list[StatusTransition]:
        self.get_job(job_id)
        return self._store.get_transitions(job_id)

    def get_retry_family(self, job_id: str) -> list[JobRecord]:
        self.get_job(job_id)
        return self._store.get_retry_family(job_id)

    def get_dependencies(self, job_id: str) -> list[JobDependency]:
        self.get_job(job_id)
        return self._store.get_dependencies(job_id)

    def get_dependents(self, job_id: str) -> list[JobDependency]:
        self.get_job(job_id)
        return self._store.get_dependents(job_id)

    def get_dependency_preview(self, job_id: str) -> DependencyPreview:
        """The job's direct upstream and downstream jobs, with how each edge stands."""
        from molq.models import DependencyPreview  # deferred: molq.models stays out of import molq until used

        self.get_job(job_id)
        return self._store.get_dependency_previews([job_id]).get(job_id) or DependencyPreview(job_id=job_id)

    def remembered_allocations(self, *, limit: int | None = None) -> list[RememberedAllocation]:
        """The partition/account/qos/reservation combinations submitted to this
        cluster before, most recently used first (from the store; no scheduler query)."""
        return self._store.list_allocations(self.cluster_name, limit=limit)

    # -- events ---------------------------------------------------------------------
    def on_event(self, event: EventType | str, handler: Callable[..., Any], *, scope: str = "own") -> None:
        """Call ``handler`` on ``event`` for this Submitor's own jobs (those it
        submitted or was asked to wait for, with their retries), or with
        ``scope="cluster"`` for every job of its cluster that its refreshes see."""
        if scope == "cluster":
            self._bus.on(event, handler)
        elif scope == "own":
            self._bus.on(event, handler, accept=self._engine.ctx.events.is_own)
        else:
            raise ConfigError(f"on_event scope must be 'own' or 'cluster', got {scope!r}")

    def off_event(self, event: EventType | str, handler: Callable[..., Any]) -> None:
        self._bus.off(event, handler)

    # -- lifecycle ------------------------------------------------------------------
    def refresh_jobs(self, *, force: bool = False) -> list[StatusTransition]:
        """One refresh cycle: poll the scheduler, apply what changed, start due retries.

        The poll is shared: when another thread or process using this store
        polled the cluster less than ``min_poll_interval`` ago (or is polling
        now), this call reads the store instead and returns ``[]``. ``force``
        polls anyway (unless a poll is running right now).
        """
        return self._engine.refresh(force=force)

    def cancel_job(self, job_id: str) -> None:
        """Cancel the newest attempt of ``job_id``'s family (and any pending retry).

        A job that already ended keeps its real outcome: molq only records
        CANCELLED when it stopped a live job (or one the scheduler never ran).
        """
        self._engine.cancel(job_id)

    def watch_jobs(self, job_ids: Sequence[str] | None = None, *, timeout: float | None = None) -> list[JobRecord]:
        """Wait for ``job_ids`` (default: every job of this cluster active now) to settle."""
        return self._engine.wait(job_ids, timeout=timeout)

    def cleanup_jobs(
        self, *, dry_run: bool = False, retention_policy: RetentionPolicy | None = None
    ) -> dict[str, list[str]]:
        return self._engine.cleanup(retention_policy or self._retention_policy, dry_run=dry_run)

    def run_daemon(self, *, once: bool = False, interval: float = 5.0, run_cleanup: bool = True) -> None:
        """Refresh (and clean up) in the foreground until SIGTERM/SIGINT."""
        self._engine.run_daemon(self._retention_policy, once=once, interval=interval, run_cleanup=run_cleanup)

    def _scratch_dir(self, job_id: str, kind: str) -> Path:
        from molq.artifacts import local_scratch_dir  # deferred: molq.artifacts stays out of import molq until used

        # a remote cluster's jobs_dir names a directory over there, not here
        local_jobs_dir = None if self._target.is_remote else self._jobs_dir
        return local_scratch_dir(local_jobs_dir, job_id, kind)

    def fetch_logs(
        self,
        job_id: str,
        *,
        dest_dir: str | Path | None = None,
        streams: Sequence[str] = ("stdout", "stderr"),
    ) -> dict[str, Path]:
        """Copy the logs of the job's latest attempt here (through the transport),
        as ``<stream>.log`` in ``dest_dir``; streams without a file are left out.
        By default into ``<jobs_dir>/<job_id>/logs`` for a local cluster, else
        ``./.molq/fetched/<job_id>/logs``."""
        from pathlib import Path  # deferred: pathlib stays out of import molq

        from molq.artifacts import fetch_logs  # deferred: molq.artifacts stays out of import molq until used

        record = self.get_job(job_id, latest_attempt=True)
        dest = Path(dest_dir) if dest_dir else self._scratch_dir(record.job_id, "logs")
        return fetch_logs(self._target.transport, record, dest, streams=tuple(streams))

    def fetch_artifacts(
        self,
        job_id: str,
        *,
        dest_dir: str | Path | None = None,
        exclude: Sequence[str] = (),
    ) -> Path:
        """Mirror the job directory of the job's latest attempt into ``dest_dir``
        (default ``.../<job_id>/mirror``, as for :meth:`fetch_logs`), leaving
        out names matching ``exclude``; returns the local directory."""
        from pathlib import Path  # deferred: pathlib stays out of import molq

        from molq.artifacts import fetch_job_dir  # deferred: molq.artifacts stays out of import molq until used

        record = self.get_job(job_id, latest_attempt=True)
        dest = Path(dest_dir) if dest_dir else self._scratch_dir(record.job_id, "mirror")
        return fetch_job_dir(self._target.transport, record, dest, exclude=tuple(exclude))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._plugins is not None:
            self._plugins.detach_all()
        self._engine.close()
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Submitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Submitor(target={self._target!r})"
