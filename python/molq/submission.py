"""What a submission is: the command, the resolved spec, and the stored request.

The stored request (``jobs.request_json``) is what a retry replays, so it is
written with everything resolved: the absolute cwd, the job directory name,
the merged resources, scheduling and execution.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from molq.errors import CommandError, ScriptError
from molq.types import (
    DependencyRef,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    Memory,
    Script,
)

__all__ = ["Command", "JobSpec", "request_to_json", "request_from_json"]


@dataclass(frozen=True)
class Command:
    """Exactly one of argv, command or script."""

    argv: tuple[str, ...] | None = None
    command: str | None = None
    script: Script | None = None

    @classmethod
    def from_submit_args(
        cls,
        *,
        argv: Sequence[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
    ) -> Command:
        """The command of a submission; exactly one of the three must be given."""
        given = [name for name, v in (("argv", argv), ("command", command), ("script", script)) if v is not None]
        if len(given) != 1:
            if not given:
                raise CommandError("Exactly one of argv=, command= or script= must be given (none was given)")
            raise CommandError(f"Exactly one of argv=, command= or script= must be given (got {' and '.join(given)})")
        if argv is not None:
            if isinstance(argv, (str, bytes)):
                raise CommandError(
                    "argv must be a list of strings, not a single string (use command= for a shell command line)"
                )
            items = tuple(argv)
            if not items:
                raise CommandError("argv is empty: give at least the program to run")
            for item in items:
                if not isinstance(item, str):
                    raise CommandError(f"argv items must be strings, got {type(item).__name__}: {item!r}")
                if "\x00" in item:
                    raise CommandError(f"argv item contains a NUL byte: {item!r}")
            return cls(argv=items)
        if command is not None:
            if not isinstance(command, str) or not command.strip():
                raise CommandError("command must be a non-empty string")
            if "\n" in command or "\r" in command:
                raise CommandError(
                    "command must be a single line, it contains a newline "
                    "(use script=Script.inline(...) for several lines)"
                )
            return cls(command=command)
        if not isinstance(script, Script):
            raise CommandError(f"script must be a molq.Script, got {type(script).__name__}")
        if script.variant == "path":
            path = script.file_path
            if path is None or not path.is_file():
                raise ScriptError(f"script file not found: {path}", path=str(path))
        return cls(script=script)

    @property
    def command_type(self) -> str:
        if self.argv is not None:
            return "argv"
        if self.command is not None:
            return "command"
        return "script"

    @property
    def display(self) -> str:
        if self.argv is not None:
            return " ".join(self.argv)
        if self.command is not None:
            return self.command
        assert self.script is not None
        if self.script.variant == "path":
            return f"script:{self.script.file_path}"
        return "script:inline"


@dataclass(frozen=True)
class JobSpec:
    """A fully resolved job, as handed to a scheduler backend.

    The fields up to ``dir_name`` are the original molq's, in its order and
    with its defaults; ``job_dir``, ``stdout_path`` and ``stderr_path`` are
    filled in by the submit pipeline (backends read them).
    """

    job_id: str
    cluster_name: str
    scheduler: str
    command: Command
    resources: JobResources = field(default_factory=JobResources)
    scheduling: JobScheduling = field(default_factory=JobScheduling)
    execution: JobExecution = field(default_factory=JobExecution)
    metadata: dict[str, str] = field(default_factory=dict)
    cwd: str = field(default_factory=os.getcwd)
    root_job_id: str = ""
    attempt: int = 1
    previous_attempt_job_id: str | None = None
    retry_group_id: str | None = None
    request_json: str = "{}"
    profile_name: str | None = None
    dir_name: str | None = None
    job_dir: str = ""
    stdout_path: str = ""
    stderr_path: str = ""

    @staticmethod
    def new_job_id() -> str:
        """A fresh job id: a random UUID in its 36-character text form."""
        import uuid  # deferred: uuid is slow to import; only for a new job id

        return str(uuid.uuid4())


# -- the stored request --------------------------------------------------------------


def _resources_dict(r: JobResources) -> dict[str, Any]:
    return {
        "cpu_count": r.cpu_count,
        "memory": None if r.memory is None else str(r.memory.bytes),
        "gpu_count": r.gpu_count,
        "gpu_type": r.gpu_type,
        "time_limit": None if r.time_limit is None else r.time_limit.seconds,
        "task_count": r.task_count,
    }


def _scheduling_dict(s: JobScheduling) -> dict[str, Any]:
    return {
        "partition": s.partition,
        "account": s.account,
        "priority": s.priority,
        "dependency": s.dependency,
        "dependencies": [{"job_id": d.job_id, "condition": d.condition} for d in s.dependencies],
        "node_count": s.node_count,
        "exclusive_node": s.exclusive_node,
        "array_spec": s.array_spec,
        "email": s.email,
        "qos": s.qos,
        "reservation": s.reservation,
    }


def _execution_dict(e: JobExecution) -> dict[str, Any]:
    return {
        "env": dict(e.env) if e.env else None,
        "cwd": None if e.cwd is None else str(e.cwd),
        "job_name": e.job_name,
        "output_file": e.output_file,
        "error_file": e.error_file,
    }


def request_to_json(
    *,
    command: Command,
    resources: JobResources,
    scheduling: JobScheduling,
    execution: JobExecution,
    metadata: dict[str, str],
    retry: dict[str, Any] | None,
    dependencies: Sequence[DependencyRef],
    profile_name: str | None,
    dir_name: str,
) -> str:
    import json  # deferred: json only when JSON is read or written

    script = command.script
    body = {
        "argv": list(command.argv) if command.argv is not None else None,
        "command": command.command,
        "script": None
        if script is None
        else {
            "variant": script.variant,
            "text": script.text,
            "file_path": None if script.file_path is None else str(script.file_path),
        },
        "resources": _resources_dict(resources),
        "scheduling": _scheduling_dict(scheduling),
        "execution": _execution_dict(execution),
        "metadata": dict(metadata),
        "retry": retry,
        "dependencies": [{"job_id": d.job_id, "condition": d.condition} for d in dependencies],
        "profile_name": profile_name,
        "dir_name": dir_name,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def request_from_json(text: str) -> dict[str, Any]:
    """Rebuild the submit arguments of a stored request (for a retry)."""
    import json  # deferred: json only when JSON is read or written

    data = json.loads(text)
    script = None
    if data.get("script"):
        s = data["script"]
        script = Script.inline(s["text"]) if s["variant"] == "inline" else Script.path(s["file_path"])
    r = data.get("resources") or {}
    resources = JobResources(
        cpu_count=r.get("cpu_count"),
        memory=None if r.get("memory") is None else Memory(int(r["memory"])),
        gpu_count=r.get("gpu_count"),
        gpu_type=r.get("gpu_type"),
        time_limit=None if r.get("time_limit") is None else Duration(int(r["time_limit"])),
        task_count=r.get("task_count"),
    )
    s = dict(data.get("scheduling") or {})
    if "queue" in s and not s.get("partition"):
        s["partition"] = s.pop("queue")
    s.pop("queue", None)
    s["dependencies"] = tuple()
    scheduling = JobScheduling(**s)
    execution = JobExecution(**(data.get("execution") or {}))
    return {
        "argv": data.get("argv"),
        "command": data.get("command"),
        "script": script,
        "resources": resources,
        "scheduling": scheduling,
        "execution": execution,
        "metadata": data.get("metadata") or {},
        "retry": data.get("retry"),
        "dependencies": [DependencyRef(d["job_id"], d["condition"]) for d in data.get("dependencies") or []],
        "profile_name": data.get("profile_name"),
        "dir_name": data.get("dir_name") or "",
    }
