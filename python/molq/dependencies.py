"""Job dependencies: from logical references to the scheduler's syntax.

A request names the jobs it waits for by molq job id and condition
(``DependencyRef``, or the ``after_*`` id lists of ``submit_job``). Before
submission each reference is checked (the job exists, on this cluster, has a
scheduler id, is not the job itself) and rendered by the backend
(``afterok:123``); the edges are stored with the job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from molq import _original_names
from molq.errors import ConfigError, JobNotFoundError
from molq.types import DEPENDENCY_CONDITIONS, DependencyRef

if TYPE_CHECKING:
    from molq.models import JobDependency, SchedulerCapabilities
    from molq.store import JobStore

__all__ = ["merge_dependency_refs", "resolve_dependencies"]


def merge_dependency_refs(
    dependencies: tuple[DependencyRef, ...],
    *,
    after_started: list[str],
    after: list[str],
    after_failure: list[str],
    after_success: list[str],
) -> tuple[DependencyRef, ...]:
    """``dependencies`` followed by the id lists as references, in the order
    after_started, after, after_failure, after_success (repeats are kept;
    ``resolve_dependencies`` renders each edge once)."""
    lists = (
        ("after_started", after_started),
        ("after", after),
        ("after_failure", after_failure),
        ("after_success", after_success),
    )
    extra = tuple(DependencyRef(job_id, condition) for condition, ids in lists for job_id in ids or ())  # type: ignore[arg-type]
    return tuple(dependencies) + extra


def resolve_dependencies(
    store: JobStore,
    scheduler: Any,
    capabilities: SchedulerCapabilities,
    cluster_name: str,
    scheduler_name: str,
    *,
    job_id: str,
    root_job_id: str,
    explicit_dependency: str | None,
    dependency_refs: tuple[DependencyRef, ...],
) -> tuple[str | None, list[JobDependency]]:
    """(the scheduler's dependency string, the edges to store) for a new job.

    An ``explicit_dependency`` (a raw scheduler string) is passed through as
    is and no edges are stored. Otherwise each reference must name a job of
    ``cluster_name`` that has a scheduler id and is not the job itself (nor
    its retry family's root); for a retried upstream the newest attempt is
    used. Raises ``JobNotFoundError`` or ``ConfigError`` naming the reference.
    """
    from molq.models import JobDependency  # deferred: molq.models loads only when used
    from molq.scheduler.base import DependencyEdge  # deferred: molq.scheduler.base loads only when used

    if explicit_dependency is not None:
        return explicit_dependency, []
    if not dependency_refs:
        return None, []
    if not capabilities.supports_dependency:
        raise ConfigError(f"Scheduler {scheduler_name!r} does not support job dependencies", scheduler=scheduler_name)
    seen: set[tuple[str, str]] = set()
    rendered: list[DependencyEdge] = []
    edges: list[JobDependency] = []
    for ref in dependency_refs:
        if ref.condition not in DEPENDENCY_CONDITIONS:
            raise ConfigError(
                f"Unsupported dependency condition {ref.condition!r}; expected one of "
                + ", ".join(DEPENDENCY_CONDITIONS)
            )
        if ref.job_id in (job_id, root_job_id):
            raise ConfigError(f"A job cannot depend on itself (job {job_id})", job_id=job_id)
        if (ref.job_id, ref.condition) in seen:
            continue
        seen.add((ref.job_id, ref.condition))
        upstream = store.get_latest_attempt_record(ref.job_id)
        if upstream is None:
            raise JobNotFoundError(ref.job_id, cluster_name)
        if upstream.cluster_name != cluster_name:
            raise ConfigError(
                f"Dependency job {ref.job_id!r} belongs to cluster {upstream.cluster_name!r}, not "
                f"{cluster_name!r}: a job can only depend on jobs of its own cluster",
                job_id=ref.job_id,
            )
        if not upstream.scheduler_job_id:
            raise ConfigError(
                f"Dependency job {ref.job_id!r} does not have a scheduler job id yet "
                f"(state {upstream.state.value}); submit it first",
                job_id=ref.job_id,
            )
        edge = DependencyEdge(ref.condition, upstream.scheduler_job_id)
        rendered.append(edge)
        edges.append(JobDependency(job_id, upstream.job_id, ref.condition, scheduler.format_dependency(edge)))
    return scheduler.format_dependencies(rendered), edges


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
