"""Plain-data forms of molq's value types, as the original molq stored them.

Each ``serialize_*`` gives a dict (or scalar) of JSON types and the matching
``deserialize_*`` reads it back: memory as a decimal string of bytes,
durations as whole seconds, dependency references as objects, policies as
their fields. ``build_submit_request`` is the original's stored submit
request (the ``request_json`` of its store), a JSON object with sorted keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from molq.models import RetentionPolicy, RetryBackoff, RetryPolicy
from molq.status import JobState
from molq.types import DependencyRef, Duration, JobExecution, JobResources, JobScheduling, Memory, Script

__all__ = [
    "build_submit_request",
    "deserialize_duration",
    "deserialize_execution",
    "deserialize_memory",
    "deserialize_resources",
    "deserialize_retention_policy",
    "deserialize_retry_backoff",
    "deserialize_retry_policy",
    "deserialize_scheduling",
    "deserialize_script",
    "dump_submit_request",
    "load_submit_request",
    "serialize_duration",
    "serialize_execution",
    "serialize_memory",
    "serialize_resources",
    "serialize_retention_policy",
    "serialize_retry_backoff",
    "serialize_retry_policy",
    "serialize_scheduling",
    "serialize_script",
]


def serialize_memory(value: Memory | None) -> str | None:
    """Bytes as a decimal string (exact for any size), or None."""
    return None if value is None else str(value.bytes)


def deserialize_memory(value: str | None) -> Memory | None:
    """A byte count (string or int); a size with a unit such as ``"8G"`` is read too."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return Memory(value)
    text = str(value).strip()
    return Memory(int(text)) if text.isdigit() else Memory.parse(text)


def serialize_duration(value: Duration | None) -> int | None:
    return None if value is None else value.seconds


def deserialize_duration(value: int | float | None) -> Duration | None:
    """Seconds (a fraction is dropped), or None."""
    return None if value is None else Duration(int(value))


def serialize_resources(resources: JobResources) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cpu_count": resources.cpu_count,
        "memory": serialize_memory(resources.memory),
        "gpu_count": resources.gpu_count,
        "gpu_type": resources.gpu_type,
        "time_limit": serialize_duration(resources.time_limit),
    }
    task_count = getattr(resources, "task_count", None)
    if task_count is not None:  # molq's own field; the original had none
        data["task_count"] = task_count
    return data


def deserialize_resources(data: dict[str, Any]) -> JobResources:
    given = {k: data[k] for k in ("cpu_count", "gpu_count", "gpu_type", "task_count") if data.get(k) is not None}
    if data.get("memory") is not None:
        given["memory"] = deserialize_memory(data["memory"])
    if data.get("time_limit") is not None:
        given["time_limit"] = deserialize_duration(data["time_limit"])
    return JobResources(**given)


_SCHEDULING_SCALARS = (
    "partition",
    "account",
    "priority",
    "dependency",
    "node_count",
    "array_spec",
    "email",
    "qos",
    "reservation",
)


def serialize_scheduling(scheduling: JobScheduling) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(scheduling, name) for name in _SCHEDULING_SCALARS[:4]}
    data["dependencies"] = [{"job_id": d.job_id, "condition": d.condition} for d in scheduling.dependencies]
    data["node_count"] = scheduling.node_count
    data["exclusive_node"] = scheduling.exclusive_node
    for name in _SCHEDULING_SCALARS[5:]:
        data[name] = getattr(scheduling, name)
    return data


def deserialize_scheduling(data: dict[str, Any]) -> JobScheduling:
    given: dict[str, Any] = {k: data[k] for k in _SCHEDULING_SCALARS if data.get(k) is not None}
    if data.get("exclusive_node"):
        given["exclusive_node"] = True
    refs = data.get("dependencies") or ()
    if refs:
        given["dependencies"] = tuple(DependencyRef(r["job_id"], r.get("condition", "after_success")) for r in refs)
    return JobScheduling(**given)


_EXECUTION_FIELDS = ("env", "cwd", "job_name", "output_file", "error_file")


def serialize_execution(execution: JobExecution) -> dict[str, Any]:
    data = {name: getattr(execution, name) for name in _EXECUTION_FIELDS}
    if data["cwd"] is not None:
        data["cwd"] = str(data["cwd"])
    if data["env"] is not None:
        data["env"] = dict(data["env"])
    return data


def deserialize_execution(data: dict[str, Any]) -> JobExecution:
    return JobExecution(**{k: data[k] for k in _EXECUTION_FIELDS if data.get(k) is not None})


def serialize_script(script: Script | None) -> dict[str, Any] | None:
    if script is None:
        return None
    path = script.file_path
    return {"variant": script.variant, "text": script.text, "file_path": None if path is None else str(path)}


def deserialize_script(data: dict[str, Any] | None) -> Script | None:
    """The script of ``data``; a path script is read back without checking the file still exists."""
    if data is None:
        return None
    if data.get("variant") == "path":
        return Script(_variant="path", _path=Path(data["file_path"]))
    return Script.inline(data["text"])


def serialize_retry_backoff(backoff: RetryBackoff) -> dict[str, Any]:
    return {
        "mode": backoff.mode,
        "initial_seconds": backoff.initial_seconds,
        "maximum_seconds": backoff.maximum_seconds,
        "factor": backoff.factor,
    }


def deserialize_retry_backoff(data: dict[str, Any]) -> RetryBackoff:
    return RetryBackoff(**{k: data[k] for k in ("mode", "initial_seconds", "maximum_seconds", "factor") if k in data})


def serialize_retry_policy(policy: RetryPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    return {
        "max_attempts": policy.max_attempts,
        "retry_on_states": [state.value for state in policy.retry_on_states],
        "retry_on_exit_codes": None if policy.retry_on_exit_codes is None else list(policy.retry_on_exit_codes),
        "backoff": serialize_retry_backoff(policy.backoff),
    }


def deserialize_retry_policy(data: dict[str, Any] | None) -> RetryPolicy | None:
    if data is None:
        return None
    given: dict[str, Any] = {}
    if "max_attempts" in data:
        given["max_attempts"] = data["max_attempts"]
    if data.get("retry_on_states") is not None:
        given["retry_on_states"] = tuple(JobState(s) for s in data["retry_on_states"])
    if data.get("retry_on_exit_codes") is not None:
        given["retry_on_exit_codes"] = tuple(data["retry_on_exit_codes"])
    if data.get("backoff") is not None:
        given["backoff"] = deserialize_retry_backoff(data["backoff"])
    return RetryPolicy(**given)


def serialize_retention_policy(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "keep_job_dirs_for_days": policy.keep_job_dirs_for_days,
        "keep_terminal_records_for_days": policy.keep_terminal_records_for_days,
        "keep_failed_job_dirs": policy.keep_failed_job_dirs,
    }


def deserialize_retention_policy(data: dict[str, Any] | None) -> RetentionPolicy:
    """The policy of ``data``; the defaults when None."""
    if data is None:
        return RetentionPolicy()
    keys = ("keep_job_dirs_for_days", "keep_terminal_records_for_days", "keep_failed_job_dirs")
    return RetentionPolicy(**{k: data[k] for k in keys if k in data})


def build_submit_request(
    *,
    command: Any,
    resources: Any,
    scheduling: Any,
    execution: Any,
    metadata: dict[str, str],
    retry: RetryPolicy | None,
    after_started: list[str],
    after: list[str],
    after_failure: list[str],
    after_success: list[str],
    profile_name: str | None,
) -> str:
    """The whole submit request as JSON: what a retry would submit again."""
    return dump_submit_request(
        {
            "argv": None if command.argv is None else list(command.argv),
            "command": command.command,
            "script": serialize_script(command.script),
            "resources": serialize_resources(resources),
            "scheduling": serialize_scheduling(scheduling),
            "execution": serialize_execution(execution),
            "metadata": dict(metadata),
            "retry": serialize_retry_policy(retry),
            "after_started": list(after_started),
            "after": list(after),
            "after_failure": list(after_failure),
            "after_success": list(after_success),
            "profile_name": profile_name,
        }
    )


def dump_submit_request(data: dict[str, Any]) -> str:
    """``data`` as JSON with sorted keys (the same request always gives the same text)."""
    return json.dumps(data, sort_keys=True)


def load_submit_request(text: str | None) -> dict[str, Any]:
    """A stored request; ``{}`` for none. Malformed JSON raises ``ValueError``."""
    if not text:
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"a stored submit request must be a JSON object, got {type(data).__name__}")
    return data
