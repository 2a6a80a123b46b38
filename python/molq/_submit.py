"""The submit pipeline: validate and resolve a request, lay out its job
directory, and replay stored requests for scheduled retries."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from molq._log import get_logger
from molq.errors import ConfigError, JobNotFoundError, MolqError, SchedulerError
from molq.submission import Command, JobSpec, request_from_json, request_to_json
from molq.types import DependencyRef, JobExecution, JobResources, JobScheduling

if TYPE_CHECKING:
    from molq.models import RetryPolicy
    from molq.submitor import Submitor
    from molq.transport.base import Transport

__all__ = ["SubmitRequest", "prepare_job_dir", "hand_to_scheduler", "resubmit_due_retries"]

_CONDITIONS = ("after_started", "after", "after_failure", "after_success")


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
        sub: Submitor,
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
        from molq.merge import merge_defaults

        cmd = Command.from_submit_args(argv=argv, command=command, script=script)
        resources, scheduling, execution = merge_defaults(
            sub._defaults, resources=resources, scheduling=scheduling, execution=execution
        )
        refs = list(scheduling.dependencies)
        for condition, ids in zip(_CONDITIONS, dependency_lists):
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
            profile_name=sub._profile_name,
        )

    def resolve(self, sub: Submitor) -> tuple[JobSpec, list[tuple[str, str, str]], str | None, bytes | None]:
        """The spec to hand the scheduler, the dependency edges, the retry JSON
        and the script bytes to copy. Raises before anything is written."""
        cluster = sub.target
        from molq._field_checks import check_request_fields, check_resolved

        check_request_fields(self, sub)
        cwd = _resolve_cwd(cluster, self.execution.cwd)
        jobs_root = _resolve_dir(cluster, sub._jobs_dir) if sub._jobs_dir else f"{cwd}/.molq/jobs"
        job_dir = f"{jobs_root.rstrip('/')}/{self.dir_name}"
        stdout_path = _log_path(cluster, self.execution.output_file, cwd, job_dir, "stdout.log")
        stderr_path = _log_path(cluster, self.execution.error_file, cwd, job_dir, "stderr.log")
        dependency, edges = _resolve_dependencies(sub, self)
        scheduling = self.scheduling
        if self.refs:
            scheduling = replace(scheduling, dependency=dependency, dependencies=())
        execution = replace(self.execution, cwd=cwd, output_file=stdout_path, error_file=stderr_path)
        _check_capabilities(cluster.scheduler_impl, self, scheduling, execution)
        script_bytes = self.script_bytes
        script = self.command.script
        if script is not None and script.variant == "path" and script_bytes is None:
            try:
                script_bytes = Path(script.file_path).read_bytes()  # type: ignore[arg-type]
            except OSError as exc:
                from molq.errors import ScriptError

                raise ScriptError(f"cannot read script file {script.file_path}: {exc}") from exc
        check_resolved(cluster.transport, self, cwd, stdout_path, stderr_path, script_bytes)
        retry_json = None
        if self.retry is not None and self.retry.max_attempts > 1:
            from molq.models import retry_policy_to_json

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
            cluster_name=cluster.name,
            scheduler=cluster.scheduler,
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
        return spec, edges, retry_json, script_bytes


def _json_loads(text: str) -> Any:
    import json

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


def _resolve_cwd(cluster: Any, cwd: str | Path | None) -> str:
    transport = cluster.transport
    if cwd is None:
        # Remote jobs start in the remote home, never in a copy of this machine's path.
        return transport.home() if cluster.is_remote else os.getcwd()
    path = _resolve_dir(cluster, cwd)
    if not transport.is_dir(path):
        raise ConfigError(f"working directory does not exist: {path}", cwd=str(cwd))
    return path


def _resolve_dir(cluster: Any, path: str | Path) -> str:
    if cluster.is_remote:
        return cluster.transport.expand_path(str(path))
    return str(Path(os.path.expandvars(os.path.expanduser(str(path)))).resolve())


def _log_path(cluster: Any, requested: str | None, cwd: str, job_dir: str, default_name: str) -> str:
    if requested is None:
        return f"{job_dir}/{default_name}"
    requested = str(requested)
    if requested.startswith(("~", "$")):
        # on the side the job runs, as the working directory is
        if cluster.is_remote:
            requested = cluster.transport.expand_path(requested)
        else:
            requested = os.path.expandvars(os.path.expanduser(requested))
    if requested.startswith("/"):
        return requested
    return f"{cwd.rstrip('/')}/{requested}"


def _resolve_dependencies(sub: Submitor, request: SubmitRequest) -> tuple[str | None, list[tuple[str, str, str]]]:
    """Turn logical refs into the scheduler's dependency string and stored edges."""
    if not request.refs:
        return request.scheduling.dependency, []
    from molq.scheduler.base import DependencyEdge

    scheduler = sub.target.scheduler_impl
    caps = scheduler.capabilities()
    if not caps.supports_dependency:
        raise ConfigError(f"the {sub.target.scheduler!r} backend does not support job dependencies")
    seen: set[tuple[str, str]] = set()
    edges: list[tuple[str, str, str]] = []
    rendered: list[DependencyEdge] = []
    for ref in request.refs:
        if ref.condition not in _CONDITIONS:
            raise ConfigError(f"unknown dependency condition {ref.condition!r}; expected one of {_CONDITIONS}")
        if ref.job_id in (request.job_id, request.lineage.root_job_id):
            raise ConfigError(f"job {request.job_id} cannot depend on itself")
        if (ref.job_id, ref.condition) in seen:
            continue
        seen.add((ref.job_id, ref.condition))
        upstream = sub.store.get_latest_attempt_record(ref.job_id)
        if upstream is None:
            raise JobNotFoundError(ref.job_id, sub.cluster_name)
        if upstream.cluster_name != sub.cluster_name or upstream.scheduler != sub.target.scheduler:
            raise ConfigError(
                f"dependency {ref.job_id} belongs to cluster {upstream.cluster_name!r}; "
                f"a job can only depend on jobs of its own cluster ({sub.cluster_name!r})"
            )
        if not upstream.scheduler_job_id:
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


def _check_capabilities(scheduler: Any, request: SubmitRequest, scheduling: JobScheduling, execution: JobExecution) -> None:
    caps = scheduler.capabilities()
    unsupported = [
        name for name, attr, requested in _CAPABILITY_CHECKS
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


_REQUEST_GROUP = {name: "resources" for name in
                  ("cpu_count", "task_count", "memory", "gpu_count", "gpu_type", "time_limit")}


def prepare_job_dir(transport: Transport, spec: JobSpec, script_bytes: bytes | None) -> None:
    """Create the job directory (0700), with a copy of the user's script if any.

    The store holds the job's record; the directory holds only what the job
    itself needs (scripts, logs, the backend's state files).
    """
    from molq._paths import ensure_private_dir, explain_os_error
    from molq.transport.local import LocalTransport

    root = spec.job_dir.rsplit("/", 1)[0]
    local = isinstance(transport, LocalTransport)
    try:
        if local:
            # Created 0700 if missing; refused if another user could swap
            # run.sh or fake an exit code in it.
            ensure_private_dir(root, what="the job root")
        try:
            transport.mkdir(spec.job_dir, parents=False, exist_ok=False, mode=0o700)
        except FileNotFoundError:
            transport.mkdir(root, parents=True, exist_ok=True, mode=0o700)
            transport.mkdir(spec.job_dir, parents=False, exist_ok=False, mode=0o700)
        if local:
            os.chmod(spec.job_dir, 0o700)  # the umask must not narrow it
        if script_bytes is not None:
            transport.write_bytes(f"{spec.job_dir}/user_script.sh", script_bytes, mode=0o700)
    except FileExistsError:
        raise ConfigError(
            f"job directory already exists: {spec.job_dir} (choose another job_dir_name)",
            job_dir=spec.job_dir,
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot create the job directory {spec.job_dir}: {explain_os_error(exc, exc.filename or spec.job_dir)}",
            job_dir=spec.job_dir,
        ) from None


def is_transient(exc: BaseException) -> bool:
    """A failure worth another try: the job was refused for now, not for good
    (a timeout, a dropped connection, a scheduler that is full or restarting)."""
    from molq.errors import TransportError

    if isinstance(exc, TransportError):
        return True
    return bool(getattr(exc, "context", {}).get("transient"))


def outcome_unknown(exc: BaseException) -> bool:
    """The scheduler may have accepted the job though the submission failed
    (the connection dropped or timed out while it answered)."""
    return bool(getattr(exc, "context", {}).get("outcome_unknown"))


def hand_to_scheduler(scheduler: Any, spec: JobSpec, retry: RetryPolicy | None) -> str:
    """``scheduler.submit``, with transient failures retried under the job's
    retry policy (its attempts and backoff; none without a policy).

    After a transient failure it asks the scheduler whether the failed try
    got through after all (``find_submissions``, by molq's marker on the
    job), so a submission that timed out on the way back is not made twice.
    A failure the scheduler may have accepted (``outcome_unknown``) is never
    tried again: unless the job is found at once, the error propagates and
    the job stays registered for ``recover_interrupted_submissions``.
    """
    tries = retry.max_attempts if retry is not None else 1
    for attempt in range(1, tries + 1):
        try:
            return scheduler.submit(spec, spec.job_dir)
        except OSError as exc:
            # Writing the backend's files in the job directory (disk full, ...).
            from molq._paths import explain_os_error

            raise SchedulerError(
                f"cannot submit job {spec.job_id}: {explain_os_error(exc, exc.filename or spec.job_dir)}",
                job_dir=spec.job_dir,
            ) from None
        except MolqError as exc:
            if outcome_unknown(exc):
                # it may run: found by its marker now, or the job stays
                # registered (never failed, never sent again) for recovery
                found = _submitted_after_all(scheduler, spec)
                if found is not None:
                    return found
                raise
            if not is_transient(exc):
                raise
            if attempt >= tries:
                found = _submitted_after_all(scheduler, spec)
                if found is not None:
                    return found
                raise
            assert retry is not None
            delay = retry.backoff.delay(attempt)
            get_logger(__name__).warning(
                "submission of job %s failed (%s); trying again in %.1f s (%d of %d)",
                spec.job_id, exc, delay, attempt + 1, tries,
            )
            time.sleep(delay)
            found = _submitted_after_all(scheduler, spec)
            if found is not None:
                return found
    raise AssertionError("unreachable")


def _submitted_after_all(scheduler: Any, spec: JobSpec) -> str | None:
    """The scheduler id of ``spec`` if a try that seemed to fail reached the scheduler."""
    find = getattr(scheduler, "find_submissions", None)
    if find is None:
        return None
    try:
        return find([(spec.job_id, spec.job_dir)]).get(spec.job_id)
    except MolqError:
        return None


def resubmit_due_retries(sub: Submitor) -> list[str]:
    """Submit the next attempt of every retry that is due; return the new job ids.

    Claims are atomic in the store, so with many processes refreshing, each
    retry is submitted exactly once. A claim names this process; one whose
    holder died (killed between claiming and finishing) is taken back here.
    A passing failure (a timeout, a scheduler restarting) is not waited out:
    the next try is scheduled in the store with the policy's backoff.
    """
    from molq._liveness import is_dead, this_process

    store = sub.store
    native = store.native
    cluster = sub.cluster_name
    dead = [holder for holder in native.retry_claim_holders(cluster) if is_dead(holder)]
    started: list[str] = []
    for job_id in native.claim_due_retries(cluster, time.time(), this_process(), dead):
        request: SubmitRequest | None = None
        try:
            request = replace(_retry_request(sub, job_id), from_refresh=True)
            handle = sub._submit(request)
            started.append(handle.scheduler_job_id or "")
        except MolqError as exc:
            get_logger(__name__).warning("retry of job %s could not be submitted: %s", job_id, exc)
            if is_transient(exc) and _try_again_later(sub, job_id, request):
                continue  # the claim became a due time again
        store.finish_retry(job_id)
    return started


def _try_again_later(sub: Submitor, job_id: str, request: SubmitRequest | None) -> bool:
    """Schedule another try after a passing failure; True if the claim on
    ``job_id`` itself was turned back into a due retry (nothing registered)."""
    native = sub.store.native
    if request is None or sub.store.get_record(request.job_id) is None:
        # Failed before the next attempt was registered (reading the stored
        # request or script): the same retry is due again after a pause.
        return bool(native.schedule_retry(job_id, time.time() + _PAUSE_AFTER_PASSING_FAILURE))
    policy = request.retry
    if policy is not None and request.lineage.attempt < policy.max_attempts:
        # The attempt that could not be submitted is FAILED; its retry is due
        # after the policy's backoff.
        native.schedule_retry(request.job_id, time.time() + policy.backoff.delay(request.lineage.attempt))
    return False


#: Wait before trying again a retry whose stored request could not be read.
_PAUSE_AFTER_PASSING_FAILURE = 30.0


def _retry_request(sub: Submitor, job_id: str) -> SubmitRequest:
    previous = sub.store.get_record(job_id)
    if previous is None:
        raise JobNotFoundError(job_id, sub.cluster_name)
    stored = request_from_json(sub.store.get_request_json(job_id) or "{}")
    script = stored["script"]
    script_bytes = None
    if script is not None and script.variant == "path":
        # The copy made at first submission, not the (possibly edited or gone) original.
        script_bytes = sub.target.transport.read_bytes(f"{previous.job_dir}/user_script.sh")
    cmd = Command(
        argv=tuple(stored["argv"]) if stored["argv"] is not None else None,
        command=stored["command"],
        script=script,
    )
    from molq.models import retry_policy_from_dict

    retry = retry_policy_from_dict(stored["retry"]) if stored["retry"] else None
    attempt = previous.attempt + 1
    base_name = stored["dir_name"] or previous.root_job_id
    new_id = str(uuid.uuid4())
    return SubmitRequest(
        job_id=new_id,
        command=cmd,
        resources=stored["resources"],
        scheduling=stored["scheduling"],
        execution=stored["execution"],
        metadata=stored["metadata"],
        retry=retry,
        refs=tuple(stored["dependencies"]),
        dir_name=f"{base_name}.attempt{attempt}",
        base_dir_name=base_name,
        lineage=Lineage(previous.root_job_id, attempt, previous.job_id, previous.retry_group_id or previous.root_job_id),
        script_bytes=script_bytes,
        profile_name=stored["profile_name"],
    )
