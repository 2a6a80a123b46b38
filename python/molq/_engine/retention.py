"""Retention: remove the directories and then the records of old finished jobs.

``RetentionPolicy`` says how long: job directories go first (after
``keep_job_dirs_for_days``; those of failed, timed-out and lost jobs only if
``keep_failed_job_dirs`` is False), records later (after
``keep_terminal_records_for_days``). Active jobs are never touched, and the
remembered allocations stay whatever goes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from molq._log import get_logger
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq._engine.context import EngineContext
    from molq.models import RetentionPolicy
    from molq.store import JobStore
    from molq.transport.base import Transport

__all__ = ["apply_retention", "apply_retention_policy"]

_DAY = 86400.0


def apply_retention(
    store: JobStore,
    cluster_name: str,
    policy: RetentionPolicy,
    *,
    now: float | None = None,
    dry_run: bool = False,
    transport: Transport | Any | None = None,
) -> dict[str, list[str]]:
    """Apply ``policy`` to the finished jobs of ``cluster_name`` in ``store``.

    Returns ``{"job_dirs": [...], "records": [...]}``: the directories removed
    and the job ids whose records were deleted (with ``dry_run``, what would
    be, and nothing is removed). Directories are removed through ``transport``
    (the local filesystem by default; pass the cluster's transport for a remote
    cluster). A directory already gone counts as removed; one that cannot be
    removed is logged and kept for the next sweep, and the sweep goes on.
    """
    now = time.time() if now is None else now
    dir_records, old_records = store.list_cleanup_candidates(
        cluster_name,
        job_dir_cutoff=now - policy.keep_job_dirs_for_days * _DAY,
        record_cutoff=now - policy.keep_terminal_records_for_days * _DAY,
        include_failed_job_dirs=not policy.keep_failed_job_dirs,
    )
    record_ids = [r.job_id for r in old_records]
    if dry_run:
        return {"job_dirs": [r.job_dir for r in dir_records if r.job_dir], "records": record_ids}
    if transport is None:
        transport = LocalTransport()
    cleaned: list[str] = []
    removed_dirs: list[str] = []
    for record in dir_records:
        try:
            if record.job_dir:
                transport.remove(record.job_dir, recursive=True)
                removed_dirs.append(record.job_dir)
            cleaned.append(record.job_id)
        except Exception as exc:  # noqa: BLE001 - one bad directory must not stop the rest
            get_logger(__name__).warning("could not remove job directory %s: %s", record.job_dir, exc)
    if cleaned:
        store.mark_cleaned(cleaned, now)
    if record_ids:
        store.delete_terminal_records(record_ids)
    return {"job_dirs": removed_dirs, "records": record_ids}


def apply_retention_policy(
    ctx: EngineContext, policy: RetentionPolicy, *, dry_run: bool = False, now: float | None = None
) -> dict[str, list[str]]:
    """``apply_retention`` for the engine's cluster, through its transport:
    a remote cluster's job directories go over there and no local path is touched."""
    return apply_retention(ctx.store, ctx.cluster_name, policy, now=now, dry_run=dry_run, transport=ctx.transport)
