"""Retention: remove old job directories (through the transport) and old records."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from molq._log import get_logger

if TYPE_CHECKING:
    from molq.models import RetentionPolicy
    from molq.submitor import Submitor

__all__ = ["apply_retention"]

_DAY = 86400.0


def apply_retention(
    sub: Submitor, policy: RetentionPolicy, *, dry_run: bool = False, now: float | None = None
) -> dict[str, list[str]]:
    """Apply ``policy`` to the Submitor's cluster; report what was (or would be) removed.

    Directories are removed on the cluster's own filesystem, so a remote
    cluster's job directories go and no local path is touched.
    """
    now = time.time() if now is None else now
    store = sub.store
    dir_records, old_records = store.cleanup_candidates(
        sub.cluster_name,
        job_dir_cutoff=now - policy.keep_job_dirs_for_days * _DAY,
        record_cutoff=now - policy.keep_terminal_records_for_days * _DAY,
        keep_failed_job_dirs=policy.keep_failed_job_dirs,
    )
    job_dirs = [r.job_dir for r in dir_records if r.job_dir]
    record_ids = [r.job_id for r in old_records]
    if dry_run:
        return {"job_dirs": job_dirs, "records": record_ids}
    transport = sub.target.transport
    cleaned: list[str] = []
    removed_dirs: list[str] = []
    for record in dir_records:
        try:
            if record.job_dir:
                transport.remove(record.job_dir, recursive=True)
                removed_dirs.append(record.job_dir)
            cleaned.append(record.job_id)
        except (OSError, Exception) as exc:  # noqa: BLE001 - one bad dir must not stop the rest
            get_logger(__name__).warning("could not remove job directory %s: %s", record.job_dir, exc)
    if cleaned:
        store.mark_cleaned(cleaned, now)
    if record_ids:
        store.delete_terminal_records(record_ids)
    return {"job_dirs": removed_dirs, "records": record_ids}
