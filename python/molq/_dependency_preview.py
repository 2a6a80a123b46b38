"""Dependency previews: each job's direct upstream and downstream jobs, with
how each edge stands (``satisfied``, ``pending`` or ``impossible``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq.models import DependencyPreview, DependencyPreviewItem
from molq.status import JobState
from molq.types import dependency_relation_state

if TYPE_CHECKING:
    from molq.models import JobDependency
    from molq.store import JobStore

__all__ = ["dependency_previews"]


def dependency_previews(store: JobStore, job_ids: Sequence[str], *, max_items: int = 8) -> dict[str, DependencyPreview]:
    """Previews of ``job_ids`` (unknown ids are left out), at most ``max_items``
    neighbours listed per side; the totals count them all.

    An upstream job whose record retention has deleted reads as lost: an
    edge on it can no longer be judged by its outcome.
    """
    ids = list(dict.fromkeys(job_ids))
    upstream = {job_id: store.get_dependencies(job_id) for job_id in ids}
    downstream = {job_id: store.get_dependents(job_id) for job_id in ids}
    related = set(ids)
    for edges in upstream.values():
        related.update(e.dependency_job_id for e in edges)
    for edges in downstream.values():
        related.update(e.job_id for e in edges)
    records = {r.job_id: r for r in store.get_records(sorted(related))}

    def relation(edge: JobDependency) -> str:
        parent = records.get(edge.dependency_job_id)
        if parent is None:
            return dependency_relation_state(edge.dependency_type, JobState.LOST, None)
        return dependency_relation_state(edge.dependency_type, parent.state, parent.started_at)

    def item(edge: JobDependency, other_id: str) -> DependencyPreviewItem:
        other = records.get(other_id)
        return DependencyPreviewItem(
            job_id=other_id,
            dependency_type=edge.dependency_type,
            relation_state=relation(edge),  # type: ignore[arg-type]
            job_state=JobState.LOST if other is None else other.state,
            command_display="" if other is None else other.command_display,
            scheduler_dependency=edge.scheduler_dependency or None,
        )

    out: dict[str, DependencyPreview] = {}
    for job_id in ids:
        if job_id not in records:
            continue
        ups = upstream[job_id]
        downs = downstream[job_id]
        up_items = [item(e, e.dependency_job_id) for e in ups]
        out[job_id] = DependencyPreview(
            job_id=job_id,
            upstream_total=len(ups),
            upstream_satisfied=sum(1 for i in up_items if i.relation_state == "satisfied"),
            upstream=tuple(up_items[:max_items]),
            downstream_total=len(downs),
            downstream=tuple(item(e, e.job_id) for e in downs[:max_items]),
        )
    return out
