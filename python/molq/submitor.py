"""Submitor: the lifecycle engine bound to one Cluster (store, reconciler, waits, events)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

from molq.cluster import Cluster
from molq.errors import ConfigError, JobNotFoundError, MolqError, SchedulerError
from molq.status import JobState

if TYPE_CHECKING:
    from pathlib import Path

    from molq.handle import JobHandle
    from molq._core import JobRecord, StatusTransition
    from molq.callbacks import EventBus, EventType
    from molq.models import (
        DependencyPreview,
        JobDependency,
        RememberedAllocation,
        RetentionPolicy,
        RetryPolicy,
        SubmitorDefaults,
    )
    from molq.monitor import JobMonitor
    from molq.store import JobStore
    from molq.strategies import PollingStrategy
    from molq.types import JobExecution, JobResources, JobScheduling, Script

__all__ = ["Submitor", "JobHandle"]


def __getattr__(name: str) -> object:
    # JobHandle was importable from here in earlier releases.
    if name == "JobHandle":
        from molq.handle import JobHandle

        return JobHandle
    # names the original molq carried here (molq._original_names)
    from molq._original_names import resolve

    return resolve(__name__, name)


def default_polling_strategy(scheduler_kind: str) -> PollingStrategy:
    """Local status checks cost a few ms, so poll them briskly; batch
    schedulers are shared services, so start at 1 s and back off to 30 s."""
    from molq.strategies import ExponentialBackoffStrategy

    if scheduler_kind == "local":
        return ExponentialBackoffStrategy(initial=0.05, maximum=2.0, factor=1.5)
    return ExponentialBackoffStrategy(initial=1.0, maximum=30.0, factor=1.5)


def default_min_poll_interval(scheduler_kind: str) -> float:
    """The least time between two polls of one cluster, shared by all waiters."""
    return 0.05 if scheduler_kind == "local" else 1.0


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
        from molq.callbacks import EventBus
        from molq.models import RetentionPolicy
        from molq.reconciler import JobReconciler

        self._owns_store = store is None
        if store is None:
            from molq.store import JobStore, default_jobs_db_path

            store = JobStore(default_jobs_db_path())
        self._target = target
        self._store = store
        self._defaults = defaults
        self._jobs_dir = None if jobs_dir is None else str(jobs_dir)
        self._default_retry_policy = default_retry_policy
        self._retention_policy = retention_policy or RetentionPolicy()
        self._profile_name = profile_name
        self._bus = event_bus or EventBus()
        self._strategy = polling_strategy or default_polling_strategy(target.scheduler)
        self._reconciler = JobReconciler(
            target.scheduler_impl,
            store,
            target.name,
            event_bus=self._bus,
            lost_after_seconds=lost_after_seconds,
            lost_after_polls=lost_after_polls,
        )
        self._monitor: JobMonitor | None = None
        self._closed = False
        from molq._poll_lease import SharedPoller

        self._poller = SharedPoller(
            store,
            target.name,
            min_interval=default_min_poll_interval(target.scheduler) if min_poll_interval is None else min_poll_interval,
            # a poller that dies mid-poll is taken over at once when it ran on this
            # host; one on another host (a shared store) blocks the others this long
            lease_seconds=120.0,
        )
        self._recover_after = recover_submissions_after
        self._fail_interrupted_after = fail_interrupted_submissions_after
        self._next_recovery = 0.0
        self._plugins: Any = None
        if plugins:
            # Attached last: a plugin sees a fully built Submitor (molq.plugin; they fail open).
            from molq.plugin import PluginManager, store_context_factory

            self._plugins = PluginManager()
            self._plugins.load(list(plugins), ctx_factory=store_context_factory(self._bus, target.name, store),
                               configs=plugin_configs or {})

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
        from molq.config import load_profile
        from molq.models import SubmitorDefaults

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
    def reconciler(self) -> Any:
        return self._reconciler

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
        """Submit one job; returns once the scheduler has accepted it.

        Everything is checked before anything is written: a bad request raises
        a ``molq.errors`` exception and leaves no trace in the store.
        """
        from molq._submit import SubmitRequest

        request = SubmitRequest.from_user(
            self,
            argv=argv,
            command=command,
            script=script,
            resources=resources,
            scheduling=scheduling,
            execution=execution,
            metadata=metadata,
            retry=retry if retry is not None else self._default_retry_policy,
            dependency_lists=(after_started, after, after_failure, after_success),
            job_dir_name=job_dir_name,
        )
        handle = self._submit(request)
        # remembered for suggestions (nothing is recorded when all four are unset)
        self._store.record_allocation(self.cluster_name, request.scheduling)
        return handle

    def _submit(self, request: Any) -> JobHandle:
        from molq._submit import prepare_job_dir

        spec, dependencies, retry_json, script_bytes = request.resolve(self)
        prepare_job_dir(self._target.transport, spec, script_bytes)
        store = self._store
        store.register_job(
            {
                "job_id": spec.job_id,
                "cluster_name": spec.cluster_name,
                "scheduler": spec.scheduler,
                "root_job_id": spec.root_job_id,
                "attempt": spec.attempt,
                "previous_attempt_job_id": spec.previous_attempt_job_id,
                "retry_group_id": spec.retry_group_id,
                "command_type": spec.command.command_type,
                "command_display": spec.command.display,
                "cwd": spec.cwd,
                "job_dir": spec.job_dir,
                "metadata": spec.metadata,
                "request_json": spec.request_json,
                "retry_json": retry_json,
                "profile_name": spec.profile_name,
                "array": bool(spec.scheduling.array_spec),
            },
            dependencies,
            time.time(),
        )
        self._emit_created(spec.job_id)
        from molq._submit import hand_to_scheduler

        handed_at = time.time()  # a job may start before the hand-over returns
        try:
            scheduler_job_id = hand_to_scheduler(self._target.scheduler_impl, spec, request.inline_retry)
        except Exception as exc:
            from molq._submit import outcome_unknown

            if outcome_unknown(exc):
                # the scheduler may run it: it stays registered with no id and is
                # adopted once found by its marker (or failed if never found)
                raise SchedulerError(
                    f"job {spec.job_id} may have been submitted to {self.cluster_name!r} ({exc}); "
                    "molq keeps tracking it and records it once the scheduler shows it; do not submit it again",
                    job_id=spec.job_id, outcome_unknown=True,
                ) from exc
            transition = store.mark_failed(spec.job_id, f"submission failed: {exc}", time.time())
            self._emit(transition)
            from molq.scheduler.base import OriginalProtocolScheduler

            # a scheduler of the caller's own keeps its exceptions; molq's backends'
            # unexpected ones are named as a submission failure
            if isinstance(exc, MolqError) or isinstance(self._target.scheduler_impl, OriginalProtocolScheduler):
                raise
            raise SchedulerError(f"submission to {self.cluster_name!r} failed: {exc}") from exc
        submitted = store.mark_submitted(spec.job_id, scheduler_job_id, handed_at)
        if submitted is None:
            from molq._recovery import stop_if_cancelled_meanwhile

            stop_if_cancelled_meanwhile(self, spec.job_id, scheduler_job_id, spec.job_dir)
        self._emit(submitted)
        from molq.handle import JobHandle

        return JobHandle(
            job_id=spec.root_job_id,
            cluster_name=spec.cluster_name,
            scheduler=spec.scheduler,
            scheduler_job_id=scheduler_job_id,
            _state=JobState.SUBMITTED,
            _submitor=self,
        )

    # -- reads ----------------------------------------------------------------------
    def get_job(self, job_id: str, *, latest_attempt: bool = False) -> JobRecord:
        """The record of ``job_id`` in this cluster (or its family's newest attempt)."""
        store = self._store
        record = store.get_latest_attempt_record(job_id) if latest_attempt else store.get_record(job_id)
        if record is None or record.cluster_name != self.cluster_name:
            raise JobNotFoundError(job_id, self.cluster_name)
        return record

    def get_array_tasks(
        self, job_id: str
    ) -> list[tuple[str, JobState, int | None, int | None, float | None, float | None]]:
        """The tasks of array job ``job_id`` as last observed, by task number:
        (task_id, state, exit_code, exit_signal, started_at, finished_at)."""
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
        from molq.models import DependencyPreview

        self.get_job(job_id)
        return self._store.get_dependency_previews([job_id]).get(job_id) or DependencyPreview(job_id=job_id)

    def remembered_allocations(self, *, limit: int | None = None) -> list[RememberedAllocation]:
        """The partition/account/qos/reservation combinations submitted to this
        cluster before, most recently used first (from the store; no scheduler query)."""
        return self._store.list_allocations(self.cluster_name, limit=limit)

    # -- events ---------------------------------------------------------------------
    def on_event(self, event: EventType | str, handler: Callable[..., Any]) -> None:
        self._bus.on(event, handler)

    def off_event(self, event: EventType | str, handler: Callable[..., Any]) -> None:
        self._bus.off(event, handler)

    def _emit(self, transition: StatusTransition | None) -> None:
        if transition is None or not self._bus.has_handlers():
            return
        from molq.callbacks import emit_transition

        emit_transition(self._bus, transition, self._store.get_record(transition.job_id))

    def _emit_created(self, job_id: str) -> None:
        """The None -> created transition of a job just registered."""
        if self._bus.has_handlers():
            transitions = self._store.get_transitions(job_id)
            if transitions:
                self._emit(transitions[0])

    # -- lifecycle ------------------------------------------------------------------
    def refresh_jobs(self, *, force: bool = False) -> list[StatusTransition]:
        """One refresh cycle: poll the scheduler, apply what changed, start due retries.

        The poll is shared: when another thread or process using this store
        polled the cluster less than ``min_poll_interval`` ago (or is polling
        now), this call reads the store instead and returns ``[]``. ``force``
        polls anyway (unless a poll is running right now).
        """

        def poll() -> tuple[list[StatusTransition], str | None]:
            transitions = self._reconciler.reconcile()
            error = self._reconciler.last_error
            return transitions, None if error is None else str(error)

        transitions = self._poller.run(poll, force=force) or []
        from molq._submit import resubmit_due_retries

        resubmit_due_retries(self)
        if time.monotonic() >= self._next_recovery:
            from molq._recovery import recover_interrupted_submissions

            # Rare by nature; looked for at most every few seconds.
            self._next_recovery = time.monotonic() + min(self._recover_after, 30.0)
            recover_interrupted_submissions(
                self, adopt_after=self._recover_after, give_up_after=self._fail_interrupted_after
            )
        return transitions

    def cancel_job(self, job_id: str) -> None:
        """Cancel the newest attempt of ``job_id``'s family (and any pending retry).

        A job that already ended keeps its real outcome: molq only records
        CANCELLED when it stopped a live job (or one the scheduler never ran).
        """
        record = self.get_job(job_id, latest_attempt=True)
        reason = "cancelled by user"
        if record.state.is_terminal:
            self._store.cancel(record.job_id, reason, time.time())  # drops a scheduled retry
            return
        if record.scheduler_job_id:
            live = self._target.scheduler_impl.cancel(record.scheduler_job_id, job_dir=record.job_dir or None)
            if not live:
                # It ended on its own before the signal: record how it ended,
                # never "cancelled" (accounting may need a moment to say how).
                self.refresh_jobs(force=True)
                return
        else:
            from molq._recovery import stop_unrecorded_submission

            # no id recorded: its submitter may have died after starting it
            if stop_unrecorded_submission(self, record):
                return
        self._emit(self._store.cancel(record.job_id, reason, time.time()))

    def _monitor_for_wait(self) -> JobMonitor:
        if self._monitor is None:
            from molq.monitor import JobMonitor

            self._monitor = JobMonitor(self.refresh_jobs, self._store, self._strategy, cluster_name=self.cluster_name)
        return self._monitor

    def watch_jobs(self, job_ids: Sequence[str] | None = None, *, timeout: float | None = None) -> list[JobRecord]:
        """Wait for ``job_ids`` (default: every job of this cluster active now) to settle."""
        if job_ids is not None:
            for job_id in job_ids:
                self.get_job(job_id)
        return self._monitor_for_wait().wait_many(job_ids, self.cluster_name, timeout=timeout)

    def cleanup_jobs(
        self, *, dry_run: bool = False, retention_policy: RetentionPolicy | None = None
    ) -> dict[str, list[str]]:
        from molq._retention import apply_retention

        return apply_retention(self, retention_policy or self._retention_policy, dry_run=dry_run)

    def run_daemon(self, *, once: bool = False, interval: float = 5.0, run_cleanup: bool = True) -> None:
        """Refresh (and clean up) in the foreground until SIGTERM/SIGINT."""
        from molq._daemon import run_daemon

        run_daemon(self, once=once, interval=interval, run_cleanup=run_cleanup)

    def _scratch_dir(self, job_id: str, kind: str) -> Path:
        from molq.artifacts import local_scratch_dir

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
        from pathlib import Path

        from molq.artifacts import fetch_logs

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
        from pathlib import Path

        from molq.artifacts import fetch_job_dir

        record = self.get_job(job_id, latest_attempt=True)
        dest = Path(dest_dir) if dest_dir else self._scratch_dir(record.job_id, "mirror")
        return fetch_job_dir(self._target.transport, record, dest, exclude=tuple(exclude))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._plugins is not None:
            self._plugins.detach_all()
        if self._monitor is not None:
            self._monitor.stop()
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Submitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Submitor(target={self._target!r})"

