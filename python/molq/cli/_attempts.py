"""Collapsing a retried job's attempts to the newest one, for listings and watches."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from molq._core import JobRecord

__all__ = ["newest_attempts"]


def newest_attempts(records: list[JobRecord]) -> list[JobRecord]:
    """One record per job: a retried job's newest attempt, in the place of its
    newest attempt in ``records`` (the attempts of one job share ``root_job_id``)."""
    newest: dict[str, JobRecord] = {}
    for r in records:
        kept = newest.get(r.root_job_id)
        if kept is None or r.attempt > kept.attempt:
            newest[r.root_job_id] = r
    seen: set[str] = set()
    result = []
    for r in records:
        if r.root_job_id not in seen and newest[r.root_job_id] is r:
            seen.add(r.root_job_id)
            result.append(r)
    return result
