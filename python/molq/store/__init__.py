"""JobStore: the SQLite file every Submitor of every process shares.

The native core owns the schema, the migrations and every write; this class
only resolves the path and forwards. All writes are single transactions and
all state changes are compare-and-set, so many processes may share a file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from molq import _core
from molq._home import default_jobs_db_path, molq_home
from molq.errors import StoreError

if TYPE_CHECKING:
    from molq._core import (
        ActiveJobs,
        ArrayTask,
        JobRecord,
        NewJob,
        PollStatus,
        ReconcileOutcome,
        Snapshot,
        StatusTransition,
    )
    from molq.models import DependencyPreview, JobDependency, JobSpec, RememberedAllocation
    from molq.status import JobState
    from molq.types import JobScheduling

__all__ = ["JobStore", "default_jobs_db_path", "dependency_relation_state"]


def __getattr__(name: str) -> object:
    if name == "dependency_relation_state":
        from molq.types import dependency_relation_state  # deferred: molq.types loads only when used

        return dependency_relation_state
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_duplicate_error: type[StoreError] | None = None


def _duplicate_job_error() -> type[StoreError]:
    """``StoreError`` that is also a ``sqlite3.IntegrityError``: the original
    molq let SQLite's error through for a duplicate id, and programs catch it.
    Made on first use, so that loading the store does not load ``sqlite3``."""
    global _duplicate_error
    if _duplicate_error is None:
        import sqlite3  # deferred: sqlite3 only when a store file is opened

        class DuplicateJobError(StoreError, sqlite3.IntegrityError):
            """A job id that is already in the store was inserted again."""

        DuplicateJobError.__module__ = __name__
        _duplicate_error = DuplicateJobError
    return _duplicate_error


def _why_unwritable(path: str) -> str | None:
    """Say why SQLite could not open a store file, when the filesystem can tell."""
    if path == ":memory:":
        return None
    folder = os.path.dirname(path) or "."
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{folder} is on a read-only file system"
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return f"no permission to write in {folder}"
    return None


def _prepare_folder(db_path: Path) -> None:
    """The store's folder, created 0700 if missing: MOLQ_HOME must be private
    (an older molq made it 0755); another folder may be shared the safe way
    (root's, or sticky like /tmp), the store's own files being 0600."""
    from molq._paths import ensure_private_dir  # deferred: molq._paths loads only when used

    folder = db_path.parent
    if folder == molq_home():
        ensure_private_dir(folder, what="MOLQ_HOME", error=StoreError, tighten=True)
    else:
        ensure_private_dir(folder, what="the job store's folder", error=StoreError, shared_ok=True)


class JobStore:
    """The job store at ``db_path`` (created on first use; ``":memory:"`` for a private one)."""

    def __init__(self, db_path: str | Path, *, busy_timeout: float = 30.0) -> None:
        if db_path is None:
            raise TypeError("JobStore needs a path (use default_jobs_db_path() for the default)")
        path = str(db_path)
        if path != ":memory:":
            resolved = Path(os.path.expanduser(path))
            _prepare_folder(resolved)
            path = str(resolved)
            if not resolved.exists():
                # First open of the default store: adopt the original molq's.
                # deferred: molq._import_original loads only when used
                from molq._import_original import adopt_original_store

                adopt_original_store(path)
        timeout_ms = int(busy_timeout * 1000)
        try:
            self._native = _core.JobStore(path, timeout_ms)
        except StoreError as exc:
            if path != ":memory:" and os.path.isfile(path):
                from molq.store import _original_layout as original  # deferred: only for a store the original molq made

                if original.is_first_layout(path):
                    original.set_aside_first_layout(path)
                    self._native = _core.JobStore(path, timeout_ms)
                    return
                # deferred: molq._import_original loads only when used
                from molq._import_original import adopt_original_in_place

                if adopt_original_in_place(path):  # molq 0.4's store at ~/.molq/jobs.db
                    self._native = _core.JobStore(path, timeout_ms)
                    return
                clearer = original.explain_refusal(path, exc)
                if clearer is not None:
                    raise clearer from exc
            hint = _why_unwritable(path)
            if hint is None:
                raise
            raise StoreError(f"{exc} ({hint})", path=path) from exc

    @property
    def path(self) -> str:
        return self._native.path

    @property
    def db_path(self) -> Path:
        """The store file (``Path(":memory:")`` for a private in-memory store)."""
        return Path(self._native.path)

    @property
    def native(self) -> _core.JobStore:
        return self._native

    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JobStore({self.path!r})"

    def schema_version(self) -> int:
        return self._native.schema_version()

    # -- reads -----------------------------------------------------------------
    def get_record(self, job_id: str) -> JobRecord | None:
        return self._native.get_job(job_id)

    def get_records(self, job_ids: list[str]) -> list[JobRecord]:
        return self._native.get_jobs(job_ids)

    def get_latest_attempt_record(self, job_id: str) -> JobRecord | None:
        return self._native.get_latest_attempt(job_id)

    def list_records(
        self, cluster_name: str, include_terminal: bool = False, limit: int | None = None
    ) -> list[JobRecord]:
        return self._native.list_jobs(cluster_name, include_terminal, limit)

    def list_all_records(self, include_terminal: bool = False, limit: int | None = None) -> list[JobRecord]:
        return self._native.list_jobs(None, include_terminal, limit)

    def get_transitions(self, job_id: str) -> list[StatusTransition]:
        return self._native.get_transitions(job_id)

    def get_retry_family(self, job_id: str) -> list[JobRecord]:
        return self._native.get_retry_family(job_id)

    def get_request_json(self, job_id: str) -> str | None:
        return self._native.get_request_json(job_id)

    def get_dependencies(self, job_id: str) -> list[JobDependency]:
        """The edges ``job_id`` waits on."""
        from molq.models import JobDependency  # deferred: molq.models loads only when used

        return [JobDependency(*row) for row in self._native.get_dependencies(job_id)]

    def get_dependents(self, job_id: str) -> list[JobDependency]:
        """The edges of the jobs that wait on ``job_id``."""
        from molq.models import JobDependency  # deferred: molq.models loads only when used

        return [JobDependency(*row) for row in self._native.get_dependents(job_id)]

    def find_ids_by_prefix(self, prefix: str, cluster_name: str | None = None, *, limit: int = 50) -> list[str]:
        """Job ids starting with ``prefix`` (a range scan of the key), at most ``limit``."""
        return self._native.find_by_prefix(prefix, cluster_name, limit)

    def get_active_records(self, cluster_name: str) -> list[JobRecord]:
        """The jobs of ``cluster_name`` not yet in a terminal state."""
        return self._native.list_jobs(cluster_name, False, None)

    def get_dependency_previews(self, job_ids: Sequence[str], *, max_items: int = 8) -> dict[str, DependencyPreview]:
        """Each job's direct upstream and downstream jobs, at most ``max_items``
        of each (the totals count them all)."""
        # deferred: molq._dependency_preview loads only when used
        from molq._dependency_preview import dependency_previews

        return dependency_previews(self, job_ids, max_items=max_items)

    def list_allocations(self, cluster_name: str, *, limit: int | None = None) -> list[RememberedAllocation]:
        """The partition/account/qos/reservation combinations used on
        ``cluster_name``, most recently used first."""
        from molq.models import RememberedAllocation  # deferred: molq.models loads only when used

        return [RememberedAllocation(*row) for row in self._native.list_allocations(cluster_name, limit)]

    def active_jobs(self, cluster_name: str, reuse: ActiveJobs | None = None) -> ActiveJobs:
        """The jobs a refresh polls: non-terminal, with a scheduler id, oldest
        first. ``reuse`` (the last refresh's set) comes back as is when no job
        row was written since it was read."""
        return self._native.active_jobs(cluster_name, reuse)

    def get_array_tasks(self, job_id: str) -> list[ArrayTask]:
        """The tasks of array job ``job_id`` as last observed, by task number."""
        return self._native.get_array_tasks(job_id)

    def count_active(self, cluster_name: str) -> int:
        return self._native.count_active(cluster_name)

    # -- writes (each one transaction) ------------------------------------------
    def register_job(
        self,
        job: NewJob | dict[str, object],
        dependencies: list[tuple[str, str, str]],
        now: float,
        *,
        max_in_flight: int | None = None,
        partition_caps: dict[str, int] | None = None,
    ) -> str | None:
        """Insert ``job`` (state created) with its dependency edges, in one transaction.

        Under a cap on the cluster's jobs in flight (``max_in_flight``, and
        ``partition_caps`` by partition) a job that does not fit is held:
        registered QUEUED with no scheduler id, and the reason is returned
        (None: not held)."""
        caps = None if partition_caps is None else list(partition_caps.items())
        return self._native.register_job(job, dependencies, now, max_in_flight, caps)

    def claim_held(
        self,
        cluster_name: str,
        now: float,
        *,
        max_in_flight: int | None = None,
        partition_caps: dict[str, int] | None = None,
    ) -> list[str]:
        """Claim for this process the held jobs of ``cluster_name`` that fit
        under the caps now, oldest first (each is claimed by one caller only);
        the caller hands them over and records their ids (``mark_submitted``)."""
        from molq._liveness import this_process  # deferred: molq._liveness loads only when used

        caps = None if partition_caps is None else list(partition_caps.items())
        return self._native.claim_held(cluster_name, now, this_process(), max_in_flight, caps)

    def cancel_held(self, job_id: str, reason: str, now: float) -> StatusTransition | None:
        """Cancel a job molq holds (the scheduler never had it); None when it is not held."""
        return self._native.cancel_held(job_id, reason, now)

    def hold_again(self, job_id: str) -> bool:
        """Give a claimed held job back to the hold, in its place (its hand-over
        met a passing failure); False if it is not waiting for its id."""
        return bool(self._native.hold_again(job_id))

    def in_flight(self, cluster_name: str, partition: str | None = None) -> int:
        """Jobs of ``cluster_name`` (of ``partition`` only, if given) active and not held by molq."""
        return self._native.in_flight(cluster_name, partition)

    def is_held(self, job_id: str) -> bool:
        """Whether molq holds ``job_id`` back (QUEUED, waiting for room under a cap)."""
        return self._native.is_held(job_id)

    def take_command_token(self, cluster_name: str, now: float, per_second: float, burst: float) -> float:
        """Take one of the cluster's scheduler-command tokens: 0.0 when taken,
        else the seconds until one is due (the caller waits, then asks again)."""
        return self._native.take_command_token(cluster_name, now, per_second, burst)

    def mark_submitted(self, job_id: str, scheduler_job_id: str, now: float) -> StatusTransition | None:
        return self._native.mark_submitted(job_id, scheduler_job_id, now)

    def mark_failed(self, job_id: str, reason: str, now: float, *, retry: bool = False) -> StatusTransition | None:
        return self._native.mark_failed(job_id, reason, now, retry=retry)

    def cancel(self, job_id: str, reason: str, now: float) -> StatusTransition | None:
        return self._native.cancel(job_id, reason, now)

    def reconcile(
        self,
        cluster_name: str,
        queue: Snapshot,
        accounting: Snapshot | None,
        now: float,
        *,
        lost_after_seconds: float = 60.0,
        lost_after_polls: int = 3,
        active: ActiveJobs | None = None,
    ) -> ReconcileOutcome:
        """One reconcile transaction; ``active`` is the set this cycle polled
        (its rows are not read again when nothing was written since)."""
        return self._native.reconcile(
            cluster_name, queue, accounting, now, lost_after_seconds, lost_after_polls, active
        )

    def claim_due_retries(self, cluster_name: str, now: float) -> list[str]:
        """Claim the due retries for this process, taking back those of dead claimants."""
        from molq._liveness import is_dead, this_process  # deferred: molq._liveness loads only when used

        dead = [h for h in self._native.retry_claim_holders(cluster_name) if is_dead(h)]
        return self._native.claim_due_retries(cluster_name, now, this_process(), dead)

    def finish_retry(self, job_id: str) -> None:
        self._native.finish_retry(job_id)

    def cleanup_candidates(
        self, cluster_name: str, *, job_dir_cutoff: float, record_cutoff: float, keep_failed_job_dirs: bool
    ) -> tuple[list[JobRecord], list[JobRecord]]:
        return self._native.cleanup_candidates(cluster_name, job_dir_cutoff, record_cutoff, keep_failed_job_dirs)

    def mark_cleaned(self, job_ids: list[str], now: float) -> None:
        self._native.mark_cleaned(job_ids, now)

    def delete_terminal_records(self, job_ids: list[str]) -> int:
        return self._native.delete_records(job_ids)

    def list_cleanup_candidates(
        self,
        cluster_name: str,
        *,
        job_dir_cutoff: float,
        record_cutoff: float,
        include_failed_job_dirs: bool,
    ) -> tuple[list[JobRecord], list[JobRecord]]:
        """(jobs whose directory may go, jobs whose record may go): finished at
        or before the cutoffs; directories already cleaned are not listed again."""
        return self._native.cleanup_candidates(cluster_name, job_dir_cutoff, record_cutoff, not include_failed_job_dirs)

    # -- the original molq's writes ------------------------------------------------
    # Programs written for the pure-Python molq drive the store directly with
    # these. molq's own engine uses the compare-and-set writes above.

    def insert_job(self, spec: JobSpec) -> None:
        """Store ``spec`` as a new job in state created (with its creation
        transition). A duplicate id raises a ``StoreError`` that is also a
        ``sqlite3.IntegrityError``."""
        job_dir = spec.job_dir or spec.metadata.get("molq.job_dir", "")
        job = {
            "job_id": spec.job_id,
            "cluster_name": spec.cluster_name,
            "scheduler": spec.scheduler,
            "root_job_id": spec.root_job_id or spec.job_id,
            "attempt": spec.attempt,
            "previous_attempt_job_id": spec.previous_attempt_job_id,
            "retry_group_id": spec.retry_group_id or spec.root_job_id or spec.job_id,
            "command_type": spec.command.command_type,
            "command_display": spec.command.display,
            "cwd": spec.cwd,
            "job_dir": job_dir,
            "metadata": dict(spec.metadata),
            "request_json": spec.request_json or "{}",
            "profile_name": spec.profile_name,
        }
        try:
            self._native.register_job(job, [], time.time())
        except StoreError as exc:
            if self._native.get_job(spec.job_id) is None:
                raise
            raise _duplicate_job_error()(str(exc), job_id=spec.job_id) from exc

    def update_job(
        self,
        job_id: str,
        *,
        state: JobState | None = None,
        scheduler_job_id: str | None = None,
        submitted_at: float | None = None,
        started_at: float | None = None,
        finished_at: float | None = None,
        last_polled: float | None = None,
        exit_code: int | None = None,
        failure_reason: str | None = None,
        cleaned_at: float | None = None,
    ) -> None:
        """Set the given fields (``None`` leaves a field as it is), with no
        transition row: record one with ``record_transition``."""
        given = {
            "state": state,
            "scheduler_job_id": scheduler_job_id,
            "submitted_at": submitted_at,
            "started_at": started_at,
            "finished_at": finished_at,
            "last_polled": last_polled,
            "exit_code": exit_code,
            "failure_reason": failure_reason,
            "cleaned_at": cleaned_at,
        }
        self._native.update_fields(job_id, {k: v for k, v in given.items() if v is not None})

    def compare_and_update_state(
        self,
        job_id: str,
        expected_state: JobState,
        new_state: JobState,
        *,
        started_at: float | None = None,
        finished_at: float | None = None,
        last_polled: float | None = None,
        exit_code: int | None = None,
        failure_reason: str | None = None,
        cleaned_at: float | None = None,
    ) -> bool:
        """Move ``job_id`` to ``new_state`` (setting the given fields) only if it
        is still in ``expected_state``; False, with nothing written, otherwise."""
        given = {
            "started_at": started_at,
            "finished_at": finished_at,
            "last_polled": last_polled,
            "exit_code": exit_code,
            "failure_reason": failure_reason,
            "cleaned_at": cleaned_at,
        }
        fields = {k: v for k, v in given.items() if v is not None}
        return self._native.compare_and_update(job_id, expected_state, new_state, fields)

    def record_transition(
        self,
        job_id: str,
        old_state: JobState | None,
        new_state: JobState,
        timestamp: float,
        reason: str | None = None,
    ) -> None:
        """Append a transition to the job's history."""
        self._native.record_transition(job_id, old_state, new_state, timestamp, reason)

    def add_dependencies(self, job_id: str, dependencies: list[JobDependency]) -> None:
        """Add dependency edges to the registered job ``job_id``."""
        self._native.add_dependencies(
            job_id,
            [(d.dependency_job_id, d.dependency_type, d.scheduler_dependency) for d in dependencies],
        )

    def mark_polled(self, job_ids: Sequence[str], timestamp: float) -> None:
        """Stamp ``last_polled`` on the given jobs in one write."""
        self._native.mark_polled(list(job_ids), timestamp)

    def record_allocation(self, cluster_name: str, scheduling: JobScheduling, *, now: float | None = None) -> None:
        """Remember the partition/account/qos/reservation of ``scheduling`` for
        ``cluster_name`` (counted once per use; nothing when all four are unset)."""
        self._native.record_allocation(
            cluster_name,
            scheduling.partition,
            scheduling.account,
            scheduling.qos,
            scheduling.reservation,
            time.time() if now is None else now,
        )

    # -- the engine's poll lease, retry schedule and recovery reads --------------
    def schedule_retry(self, job_id: str, due_at: float) -> bool:
        """Make the finished attempt ``job_id``'s retry due at ``due_at``."""
        return bool(self._native.schedule_retry(job_id, due_at))

    def stale_created(self, cluster_name: str, before: float) -> list[tuple[str, str]]:
        """(job_id, job_dir) of the jobs of ``cluster_name`` still CREATED (no scheduler id) since before ``before``."""
        return self._native.stale_created(cluster_name, before)

    def interrupted_submissions(self, cluster_name: str, before: float) -> list[tuple[str, str, float]]:
        """(job_id, job_dir, handed over at) of the jobs of ``cluster_name``
        handed over before ``before`` whose scheduler id was never recorded:
        CREATED jobs, and held jobs claimed for their hand-over."""
        return self._native.interrupted_submissions(cluster_name, before)

    def begin_poll(
        self, cluster_name: str, holder: str, now: float, min_interval: float, lease_seconds: float, force: bool
    ) -> bool:
        """Take the cluster's poll lease for ``holder``; False when another holds it or polled too recently."""
        return bool(self._native.begin_poll(cluster_name, holder, now, min_interval, lease_seconds, force))

    def end_poll(self, cluster_name: str, holder: str, error: str | None) -> None:
        self._native.end_poll(cluster_name, holder, error)

    def poll_status(self, cluster_name: str) -> PollStatus | None:
        """The cluster's shared polling state (None: never polled through this store)."""
        return self._native.poll_status(cluster_name)

    def take_over_poll(self, cluster_name: str, current: str, holder: str, now: float, lease_seconds: float) -> bool:
        """Take the lease from ``current`` (a holder that died mid-poll)."""
        return bool(self._native.take_over_poll(cluster_name, current, holder, now, lease_seconds))
