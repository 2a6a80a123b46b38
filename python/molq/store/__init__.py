"""JobStore: the SQLite file every Submitor of every process shares.

The native core owns the schema, the migrations and every write; this class
only resolves the path and forwards. All writes are single transactions and
all state changes are compare-and-set, so many processes may share a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from molq import _core
from molq.errors import StoreError

if TYPE_CHECKING:
    from molq._core import JobRecord, ReconcileOutcome, Snapshot, StatusTransition
    from molq.status import JobState

__all__ = ["JobStore", "default_jobs_db_path"]


def default_jobs_db_path() -> Path:
    """``~/.molq/jobs.db``, or ``$MOLQ_HOME/jobs.db`` when MOLQ_HOME is set."""
    from molq.config import molq_home

    return molq_home() / "jobs.db"


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


class JobStore:
    """The job store at ``db_path`` (created on first use; ``":memory:"`` for a private one)."""

    def __init__(self, db_path: str | Path, *, busy_timeout: float = 30.0) -> None:
        if db_path is None:
            raise TypeError("JobStore needs a path (use default_jobs_db_path() for the default)")
        path = str(db_path)
        if path != ":memory:":
            resolved = Path(os.path.expanduser(path))
            resolved.parent.mkdir(parents=True, exist_ok=True)
            path = str(resolved)
        try:
            self._native = _core.JobStore(path, int(busy_timeout * 1000))
        except StoreError as exc:
            hint = _why_unwritable(path)
            if hint is None:
                raise
            raise StoreError(f"{exc} ({hint})", path=path) from exc

    @property
    def path(self) -> str:
        return self._native.path

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

    def get_dependencies(self, job_id: str) -> list[tuple[str, str, str, str]]:
        return self._native.get_dependencies(job_id)

    def get_dependents(self, job_id: str) -> list[tuple[str, str, str, str]]:
        return self._native.get_dependents(job_id)

    def active_jobs(self, cluster_name: str) -> list[tuple[str, str, str, float]]:
        return self._native.active_jobs(cluster_name)

    def get_array_tasks(
        self, job_id: str
    ) -> list[tuple[str, JobState, int | None, int | None, float | None, float | None]]:
        return self._native.get_array_tasks(job_id)

    def count_active(self, cluster_name: str) -> int:
        return self._native.count_active(cluster_name)

    # -- writes (each one transaction) ------------------------------------------
    def register_job(self, job: dict[str, object], dependencies: list[tuple[str, str, str]], now: float) -> None:
        self._native.register_job(job, dependencies, now)

    def mark_submitted(self, job_id: str, scheduler_job_id: str, now: float) -> StatusTransition | None:
        return self._native.mark_submitted(job_id, scheduler_job_id, now)

    def mark_failed(self, job_id: str, reason: str, now: float) -> StatusTransition | None:
        return self._native.mark_failed(job_id, reason, now)

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
    ) -> ReconcileOutcome:
        return self._native.reconcile(cluster_name, queue, accounting, now, lost_after_seconds, lost_after_polls)

    def claim_due_retries(self, cluster_name: str, now: float) -> list[str]:
        return self._native.claim_due_retries(cluster_name, now)

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
