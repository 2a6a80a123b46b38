"""Engine: the lifecycle of one cluster's jobs, one method per operation.

A ``Submitor`` is a thin public face over one Engine. The engine owns the
refresh cycle (``JobReconciler``), the poll lease shared with every other
process using the store, blocking waits, scheduled retries and the recovery
of interrupted submissions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq._engine.context import EngineContext
from molq._engine.events import JobEvents
from molq._engine.flight import caps_for
from molq._engine.pacing import pacer_for
from molq._engine.poll_lease import SharedPoller
from molq.errors import JobNotFoundError
from molq.status import JobState

if TYPE_CHECKING:
    from molq._core import JobRecord, StatusTransition
    from molq._engine.refresh import JobReconciler
    from molq._engine.requests import SubmitRequest
    from molq._engine.submit import Submitted
    from molq._engine.waits import JobMonitor
    from molq.callbacks import EventBus
    from molq.models import RetentionPolicy, RetryPolicy, SubmitorDefaults
    from molq.scheduler.base import Scheduler
    from molq.store import JobStore
    from molq.strategies import PollingStrategy
    from molq.transport.base import Transport
    from molq.types import JobExecution, JobResources, JobScheduling, Script

__all__ = ["Engine", "default_min_poll_interval", "default_polling_strategy"]

#: A poller that dies mid-poll is taken over at once when it ran on this host;
#: one on another host (a shared store) blocks the others this long.
_POLL_LEASE_SECONDS = 120.0


def default_polling_strategy(scheduler_kind: str) -> PollingStrategy:
    """Local status checks cost a few ms, so poll them briskly; batch
    schedulers are shared services, so start at 1 s and back off to 30 s."""
    from molq.strategies import ExponentialBackoffStrategy  # molq.strategies loads dataclasses

    if scheduler_kind == "local":
        return ExponentialBackoffStrategy(initial=0.05, maximum=2.0, factor=1.5)
    return ExponentialBackoffStrategy(initial=1.0, maximum=30.0, factor=1.5)


def default_min_poll_interval(scheduler_kind: str) -> float:
    """The least time between two polls of one cluster, shared by all waiters."""
    return 0.05 if scheduler_kind == "local" else 1.0


class Engine:
    """Submits, refreshes, waits for, cancels and cleans up one cluster's jobs."""

    def __init__(
        self,
        *,
        cluster_name: str,
        scheduler_kind: str,
        scheduler: Scheduler,
        transport: Transport,
        is_remote: bool,
        store: JobStore,
        bus: EventBus,
        defaults: SubmitorDefaults | None,
        jobs_dir: str | None,
        default_retry_policy: RetryPolicy | None,
        profile_name: str | None,
        polling_strategy: PollingStrategy | None,
        lost_after_seconds: float,
        lost_after_polls: int,
        recover_submissions_after: float,
        fail_interrupted_submissions_after: float,
        min_poll_interval: float | None,
    ) -> None:
        from molq._engine.refresh import JobReconciler  # the refresh cycle loads the native parsers' glue

        pace = pacer_for(store, cluster_name, defaults)
        self.ctx = EngineContext(
            cluster_name=cluster_name,
            scheduler_kind=scheduler_kind,
            scheduler=scheduler,
            transport=transport,
            is_remote=is_remote,
            store=store,
            events=JobEvents(bus, store, cluster_name),
            defaults=defaults,
            jobs_dir=jobs_dir,
            default_retry_policy=default_retry_policy,
            profile_name=profile_name,
            flight_caps=caps_for(defaults),
            pace=pace,
        )
        self.reconciler: JobReconciler = JobReconciler(
            scheduler,
            store,
            cluster_name,
            event_bus=bus,
            lost_after_seconds=lost_after_seconds,
            lost_after_polls=lost_after_polls,
            pace=pace,
        )
        self._strategy = polling_strategy or default_polling_strategy(scheduler_kind)
        self._poller = SharedPoller(
            store,
            cluster_name,
            min_interval=default_min_poll_interval(scheduler_kind) if min_poll_interval is None else min_poll_interval,
            lease_seconds=_POLL_LEASE_SECONDS,
        )
        self._monitor: JobMonitor | None = None
        self._recover_after = recover_submissions_after
        self._fail_interrupted_after = fail_interrupted_submissions_after
        self._next_recovery = 0.0

    # -- submit -------------------------------------------------------------------
    def submit_job(
        self,
        *,
        argv: Sequence[str] | None,
        command: str | None,
        script: Script | None,
        resources: JobResources | None,
        scheduling: JobScheduling | None,
        execution: JobExecution | None,
        metadata: dict[str, str] | None,
        retry: RetryPolicy | None,
        dependency_lists: tuple[Sequence[str] | None, ...],
        job_dir_name: str | None,
    ) -> Submitted:
        """Check, register and hand over one job the caller asked for."""
        # the submit pipeline loads the value types: on first submit, not at import
        from molq._engine.requests import SubmitRequest

        request = SubmitRequest.from_user(
            self.ctx,
            argv=argv,
            command=command,
            script=script,
            resources=resources,
            scheduling=scheduling,
            execution=execution,
            metadata=metadata,
            retry=retry if retry is not None else self.ctx.default_retry_policy,
            dependency_lists=dependency_lists,
            job_dir_name=job_dir_name,
        )
        submitted = self.submit(request)
        # remembered for suggestions (nothing is recorded when all four are unset)
        self.ctx.store.record_allocation(self.ctx.cluster_name, request.scheduling)
        return submitted

    def submit(self, request: SubmitRequest) -> Submitted:
        from molq._engine.submit import submit  # see submit_job

        return submit(self.ctx, request)

    # -- reads ----------------------------------------------------------------------
    def get_job(self, job_id: str, *, latest_attempt: bool = False) -> JobRecord:
        """The record of ``job_id`` in this cluster (or its family's newest attempt)."""
        store = self.ctx.store
        record = store.get_latest_attempt_record(job_id) if latest_attempt else store.get_record(job_id)
        if record is None or record.cluster_name != self.ctx.cluster_name:
            raise JobNotFoundError(job_id, self.ctx.cluster_name)
        return record

    # -- refresh --------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> list[StatusTransition]:
        """One refresh cycle: poll the scheduler (unless another holder of the
        store's lease just did), apply what changed, hand over the held jobs
        that fit now, start due retries, and now and then look for
        interrupted submissions."""

        def poll() -> tuple[list[StatusTransition], str | None]:
            cycle = self.reconciler.run_cycle()
            return cycle.transitions, None if cycle.error is None else str(cycle.error)

        transitions = self._poller.run(poll, force=force) or []
        if self.ctx.flight_caps is not None:
            from molq._engine.flight import release_held_jobs  # see submit_job

            # every refresh, polled or not: the poll that saw jobs end may
            # have been another process's
            release_held_jobs(self.ctx)
        from molq._engine.retries import resubmit_due_retries  # see submit_job

        resubmit_due_retries(self.ctx)
        if time.monotonic() >= self._next_recovery:
            # Rare by nature; looked for at most every few seconds.
            self._next_recovery = time.monotonic() + min(self._recover_after, 30.0)
            from molq._engine.recovery import recover_interrupted_submissions  # rare: loaded when due

            recover_interrupted_submissions(
                self.ctx, adopt_after=self._recover_after, give_up_after=self._fail_interrupted_after
            )
        return transitions

    # -- cancel ---------------------------------------------------------------------
    def cancel(self, job_id: str) -> None:
        """Cancel the newest attempt of ``job_id``'s family (and any pending retry).

        A job that already ended keeps its real outcome: molq only records
        CANCELLED when it stopped a live job (or one the scheduler never ran).
        """
        record = self.get_job(job_id, latest_attempt=True)
        store = self.ctx.store
        reason = "cancelled by user"
        if record.state.is_terminal:
            store.cancel(record.job_id, reason, time.time())  # drops a scheduled retry
            return
        if record.state is JobState.QUEUED and not record.scheduler_job_id:
            # held by molq: the scheduler never had it (None: claimed for its
            # hand-over meanwhile, and cancelled as an unrecorded submission below)
            held = store.cancel_held(record.job_id, reason, time.time())
            if held is not None:
                self.ctx.events.emit(held)
                return
        if record.scheduler_job_id:
            self.ctx.pace()
            live = self.ctx.scheduler.cancel(record.scheduler_job_id, job_dir=record.job_dir or None)
            if not live:
                # It ended on its own before the signal: record how it ended,
                # never "cancelled" (accounting may need a moment to say how).
                self.refresh(force=True)
                return
        else:
            from molq._engine.recovery import stop_unrecorded_submission  # rare: loaded when needed

            # no id recorded: its submitter may have died after starting it
            if stop_unrecorded_submission(self.ctx, record, lambda: self.refresh(force=True)):
                return
        self.ctx.events.emit(store.cancel(record.job_id, reason, time.time()))

    # -- waits ----------------------------------------------------------------------
    def _waits(self) -> JobMonitor:
        if self._monitor is None:
            from molq._engine.waits import JobMonitor  # loaded with the first wait

            self._monitor = JobMonitor(self.refresh, self.ctx.store, self._strategy, cluster_name=self.ctx.cluster_name)
        return self._monitor

    def wait(self, job_ids: Sequence[str] | None, *, timeout: float | None) -> list[JobRecord]:
        """Wait for ``job_ids`` (default: every job of the cluster active now) to settle."""
        if job_ids is not None:
            for job_id in job_ids:
                self.ctx.events.adopt((self.get_job(job_id).root_job_id,))
        return self._waits().wait_many(job_ids, self.ctx.cluster_name, timeout=timeout)

    # -- retention and the daemon -----------------------------------------------------
    def cleanup(self, policy: RetentionPolicy, *, dry_run: bool) -> dict[str, list[str]]:
        from molq._engine.retention import apply_retention_policy  # loaded when asked

        return apply_retention_policy(self.ctx, policy, dry_run=dry_run)

    def run_daemon(self, policy: RetentionPolicy, *, once: bool, interval: float, run_cleanup: bool) -> None:
        from molq._engine.daemon import run_daemon  # loaded when asked

        run_daemon(
            self.ctx.store.path,
            self.ctx.cluster_name,
            self.refresh,
            lambda: self.cleanup(policy, dry_run=False),
            once=once,
            interval=interval,
            run_cleanup=run_cleanup,
        )

    def close(self) -> None:
        """End every wait in progress."""
        if self._monitor is not None:
            self._monitor.stop()
