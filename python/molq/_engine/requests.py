"""SubmitRequest: a job request as the caller made it, merged with the
Submitor's defaults, checked, and resolved into what the scheduler gets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from molq._engine.field_checks import check_request_fields, check_resolved
from molq._engine.log_path_checks import check_log_patterns
from molq.errors import ConfigError, JobNotFoundError, ScriptError
from molq.merge import merge_defaults
from molq.models import retry_policy_from_dict, retry_policy_to_json
from molq.scheduler.base import DependencyEdge
from molq.submission import Command, JobSpec, request_from_json, request_to_json
from molq.types import DependencyRef, JobExecution, JobResources, JobScheduling

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq._engine.context import EngineContext
    from molq.models import RetryPolicy
    from molq.scheduler.base import Scheduler

__all__ = ["CONDITIONS", "Lineage", "ResolvedRequest", "SubmitRequest"]

CONDITIONS = ("after_started", "after", "after_failure", "after_success")


@dataclass(frozen=True)
class Lineage:
    """Where an attempt sits in its retry family."""

    root_job_id: str
    attempt: int
    previous_attempt_job_id: str | None
    retry_group_id: str


@dataclass(frozen=True)
class SubmitRequest:
    """A request as the caller made it, merged with the Submitor's defaults."""

    job_id: str
    command: Command
    resources: JobResources
    scheduling: JobScheduling
    execution: JobExecution
    metadata: dict[str, str]
    retry: RetryPolicy | None
    refs: tuple[DependencyRef, ...]
    dir_name: str
    lineage: Lineage
    script_bytes: bytes | None = None
    profile_name: str | None = None
    #: The name the first attempt's directory got; retries add ".attemptN" to it.
    base_dir_name: str | None = None
    #: A scheduled retry started by a refresh: a passing failure to submit it
    #: becomes a due time in the store, never a sleep inside the refresh.
    from_refresh: bool = False

    @property
    def inline_retry(self) -> RetryPolicy | None:
        """The policy ``hand_to_scheduler`` may wait out transient failures under."""
        return None if self.from_refresh else self.retry

    @classmethod
    def from_user(
        cls,
        ctx: EngineContext,
        *,
        argv: Sequence[str] | None,
        command: str | None,
        script: Any,
        resources: JobResources | None,
        scheduling: JobScheduling | None,
        execution: JobExecution | None,
        metadata: dict[str, str] | None,
        retry: RetryPolicy | None,
        dependency_lists: tuple[Sequence[str] | None, ...],
        job_dir_name: str | None,
    ) -> SubmitRequest:
        cmd = Command.from_submit_args(argv=argv, command=command, script=script)
        resources, scheduling, execution = merge_defaults(
            ctx.defaults, resources=resources, scheduling=scheduling, execution=execution
        )
        refs = list(scheduling.dependencies)
        for condition, ids in zip(CONDITIONS, dependency_lists):
            if ids is not None:
                if isinstance(ids, str):
                    raise ConfigError(f"{condition}= takes a list of job ids, not a single string")
                refs.extend(DependencyRef(job_id, condition) for job_id in ids)  # type: ignore[arg-type]
        job_id = str(uuid.uuid4())
        return cls(
            job_id=job_id,
            command=cmd,
            resources=resources,
            scheduling=scheduling,
            execution=execution,
            metadata=_check_metadata(metadata),
            retry=retry,
            refs=tuple(refs),
            dir_name=_check_dir_name(job_dir_name) if job_dir_name is not None else job_id,
            lineage=Lineage(job_id, 1, None, job_id),
            profile_name=ctx.profile_name,
        )

    @classmethod
    def replay(
        cls, ctx: EngineContext, record: JobRecord, *, job_id: str, lineage: Lineage, dir_name: str | None
    ) -> SubmitRequest:
        """The request stored with ``record``, again: for its next attempt, or
        for the hand-over of a job molq held. Started by a refresh.
        ``dir_name`` None: the first attempt's."""
        stored = request_from_json(ctx.store.get_request_json(record.job_id) or "{}")
        script = stored["script"]
        script_bytes = None
        if script is not None and script.variant == "path":
            # The copy made at first submission, not the (possibly edited or gone) original.
            script_bytes = ctx.transport.read_bytes(f"{record.job_dir}/user_script.sh")
        command = Command(
            argv=tuple(stored["argv"]) if stored["argv"] is not None else None,
            command=stored["command"],
            script=script,
        )
        return cls(
            job_id=job_id,
            command=command,
            resources=stored["resources"],
            scheduling=stored["scheduling"],
            execution=stored["execution"],
            metadata=stored["metadata"],
            retry=retry_policy_from_dict(stored["retry"]) if stored["retry"] else None,
            refs=tuple(stored["dependencies"]),
            dir_name=dir_name or stored["dir_name"] or record.root_job_id,
            base_dir_name=stored["dir_name"] or record.root_job_id,
            lineage=lineage,
            script_bytes=script_bytes,
            profile_name=stored["profile_name"],
            from_refresh=True,
        )

    def resolve(self, ctx: EngineContext) -> ResolvedRequest:
        """What to register and hand the scheduler. Raises before anything is written."""
        check_request_fields(self, ctx.scheduler_kind, ctx.jobs_dir)
        cwd = _resolve_cwd(ctx, self.execution.cwd)
        jobs_root = _resolve_dir(ctx, ctx.jobs_dir) if ctx.jobs_dir else f"{cwd}/.molq/jobs"
        job_dir = f"{jobs_root.rstrip('/')}/{self.dir_name}"
        stdout_path = _log_path(ctx, self.execution.output_file, cwd, job_dir, "stdout.log")
        stderr_path = _log_path(ctx, self.execution.error_file, cwd, job_dir, "stderr.log")
        check_log_patterns(
            ctx.scheduler_kind,
            self.execution,
            cwd=cwd,
            jobs_root=jobs_root,
            jobs_root_field="jobs_dir" if ctx.jobs_dir else "execution.cwd",
            dir_name=self.dir_name,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
        )
        dependency, edges = _resolve_dependencies(ctx, self)
        scheduling = self.scheduling
        if self.refs:
            scheduling = replace(scheduling, dependency=dependency, dependencies=())
        execution = replace(self.execution, cwd=cwd, output_file=stdout_path, error_file=stderr_path)
        _check_capabilities(ctx.scheduler, self, scheduling, execution)
        script_bytes = self.script_bytes
        script = self.command.script
        if script is not None and script.variant == "path" and script_bytes is None:
            try:
                script_bytes = Path(script.file_path).read_bytes()  # type: ignore[arg-type]
            except OSError as exc:
                raise ScriptError(f"cannot read script file {script.file_path}: {exc}") from exc
        check_resolved(ctx.transport, self, cwd, stdout_path, stderr_path, script_bytes)
        retry_json = None
        if self.retry is not None and self.retry.max_attempts > 1:
            retry_json = retry_policy_to_json(self.retry)
        metadata = dict(self.metadata)
        metadata.update({"molq.job_dir": job_dir, "molq.stdout_path": stdout_path, "molq.stderr_path": stderr_path})
        request_json = request_to_json(
            command=self.command,
            resources=self.resources,
            scheduling=self.scheduling,
            execution=replace(self.execution, cwd=cwd),
            metadata=self.metadata,
            retry=None if retry_json is None else _json_loads(retry_json),
            dependencies=self.refs,
            profile_name=self.profile_name,
            dir_name=self.base_dir_name or self.dir_name,
        )
        spec = JobSpec(
            job_id=self.job_id,
            cluster_name=ctx.cluster_name,
            scheduler=ctx.scheduler_kind,
            command=self.command,
            resources=self.resources,
            scheduling=scheduling,
            execution=execution,
            cwd=cwd,
            job_dir=job_dir,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
            metadata=metadata,
            root_job_id=self.lineage.root_job_id,
            attempt=self.lineage.attempt,
            previous_attempt_job_id=self.lineage.previous_attempt_job_id,
            retry_group_id=self.lineage.retry_group_id,
            profile_name=self.profile_name,
            dir_name=self.dir_name,
            request_json=request_json,
        )
        return ResolvedRequest(spec, edges, retry_json, script_bytes)


@dataclass(frozen=True)
class ResolvedRequest:
    """A request ready to be registered and handed to the scheduler."""

    spec: JobSpec
    #: (upstream job id, condition, the scheduler's spelling of the edge)
    edges: list[tuple[str, str, str]]
    retry_json: str | None
    #: The user's script to copy into the job directory (None: no script file).
    script_bytes: bytes | None


def _json_loads(text: str) -> Any:
    import json  # only requests with a retry policy read JSON back

    return json.loads(text)


def _check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict of strings, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(f"metadata keys and values must be strings, got {key!r}: {value!r}")
        if key.startswith("molq."):
            raise ConfigError(f"metadata key {key!r} is reserved (the 'molq.' prefix is molq's own)")
    return dict(metadata)


def _check_dir_name(name: str) -> str:
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise ConfigError(f"job_dir_name must be a plain directory name, got {name!r}")
    return name


def _resolve_cwd(ctx: EngineContext, cwd: str | Path | None) -> str:
    transport = ctx.transport
    if cwd is None:
        # Remote jobs start in the remote home, never in a copy of this machine's path.
        return transport.home() if ctx.is_remote else os.getcwd()
    path = _resolve_dir(ctx, cwd)
    if not transport.is_dir(path):
        raise ConfigError(f"working directory does not exist: {path}", cwd=str(cwd))
    return path


def _resolve_dir(ctx: EngineContext, path: str | Path) -> str:
    if ctx.is_remote:
        return ctx.transport.expand_path(str(path))
    return str(Path(os.path.expandvars(os.path.expanduser(str(path)))).resolve())


def _log_path(ctx: EngineContext, requested: str | None, cwd: str, job_dir: str, default_name: str) -> str:
    if requested is None:
        return f"{job_dir}/{default_name}"
    requested = str(requested)
    if requested.startswith(("~", "$")):
        # on the side the job runs, as the working directory is
        if ctx.is_remote:
            requested = ctx.transport.expand_path(requested)
        else:
            requested = os.path.expandvars(os.path.expanduser(requested))
    if requested.startswith("/"):
        return requested
    return f"{cwd.rstrip('/')}/{requested}"


def _resolve_dependencies(ctx: EngineContext, request: SubmitRequest) -> tuple[str | None, list[tuple[str, str, str]]]:
    """Turn logical refs into the scheduler's dependency string and stored edges."""
    if not request.refs:
        return request.scheduling.dependency, []
    scheduler = ctx.scheduler
    caps = scheduler.capabilities()
    if not caps.supports_dependency:
        raise ConfigError(f"the {ctx.scheduler_kind!r} backend does not support job dependencies")
    seen: set[tuple[str, str]] = set()
    edges: list[tuple[str, str, str]] = []
    rendered: list[DependencyEdge] = []
    for ref in request.refs:
        if ref.condition not in CONDITIONS:
            raise ConfigError(f"unknown dependency condition {ref.condition!r}; expected one of {CONDITIONS}")
        if ref.job_id in (request.job_id, request.lineage.root_job_id):
            raise ConfigError(f"job {request.job_id} cannot depend on itself")
        if (ref.job_id, ref.condition) in seen:
            continue
        seen.add((ref.job_id, ref.condition))
        upstream = ctx.store.get_latest_attempt_record(ref.job_id)
        if upstream is None:
            raise JobNotFoundError(ref.job_id, ctx.cluster_name)
        if upstream.cluster_name != ctx.cluster_name or upstream.scheduler != ctx.scheduler_kind:
            raise ConfigError(
                f"dependency {ref.job_id} belongs to cluster {upstream.cluster_name!r}; "
                f"a job can only depend on jobs of its own cluster ({ctx.cluster_name!r})"
            )
        if not upstream.scheduler_job_id:
            if ctx.store.is_held(upstream.job_id):
                raise ConfigError(
                    f"dependency {ref.job_id} is held by molq (max_jobs_in_flight) and has no scheduler "
                    "job id yet; submit its dependents once it has been handed to the scheduler"
                )
            raise ConfigError(f"dependency {ref.job_id} has no scheduler job id yet (state {upstream.state.value})")
        edge = DependencyEdge(ref.condition, upstream.scheduler_job_id)
        rendered.append(edge)
        edges.append((upstream.job_id, ref.condition, scheduler.format_dependency(edge)))
    return scheduler.format_dependencies(rendered), edges


# request field -> (capability attribute, is it requested?)
_CAPABILITY_CHECKS: tuple[tuple[str, str, Any], ...] = (
    ("cpu_count", "supports_cpu_count", lambda r, s, e: r.resources.cpu_count is not None),
    ("task_count", "supports_cpu_count", lambda r, s, e: r.resources.task_count is not None),
    ("memory", "supports_memory", lambda r, s, e: r.resources.memory is not None),
    ("gpu_count", "supports_gpu_count", lambda r, s, e: r.resources.gpu_count is not None),
    ("gpu_type", "supports_gpu_type", lambda r, s, e: r.resources.gpu_type is not None),
    ("time_limit", "supports_time_limit", lambda r, s, e: r.resources.time_limit is not None),
    ("partition", "supports_partition", lambda r, s, e: s.partition is not None),
    ("account", "supports_account", lambda r, s, e: s.account is not None),
    ("priority", "supports_priority", lambda r, s, e: s.priority is not None),
    ("dependency", "supports_dependency", lambda r, s, e: s.dependency is not None),
    ("node_count", "supports_node_count", lambda r, s, e: s.node_count is not None),
    ("exclusive_node", "supports_exclusive_node", lambda r, s, e: bool(s.exclusive_node)),
    ("array_spec", "supports_array_jobs", lambda r, s, e: s.array_spec is not None),
    ("email", "supports_email", lambda r, s, e: s.email is not None),
    ("qos", "supports_qos", lambda r, s, e: s.qos is not None),
    ("reservation", "supports_reservation", lambda r, s, e: s.reservation is not None),
)


def _check_capabilities(
    scheduler: Scheduler, request: SubmitRequest, scheduling: JobScheduling, execution: JobExecution
) -> None:
    caps = scheduler.capabilities()
    unsupported = [
        name
        for name, attr, requested in _CAPABILITY_CHECKS
        if requested(request, scheduling, execution) and not getattr(caps, attr, False)
    ]
    if unsupported:
        # named as the request spells them (resources.cpu_count); the CLI maps the
        # bare names in unsupported_fields to its flags
        named = [f"{_REQUEST_GROUP.get(name, 'scheduling')}.{name}" for name in unsupported]
        raise ConfigError(
            f"the {getattr(scheduler, 'kind', '?')!r} backend cannot honour: {', '.join(named)}",
            unsupported_fields=unsupported,
        )
    scheduler.check_resources(request.resources)


_REQUEST_GROUP = {
    name: "resources" for name in ("cpu_count", "task_count", "memory", "gpu_count", "gpu_type", "time_limit")
}
