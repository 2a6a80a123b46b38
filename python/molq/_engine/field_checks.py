"""Refusing, before anything is written, the bytes a job could not receive.

Every user-given field either reaches the job exactly as given or is refused
here with an error that names it. A NUL byte fits in no field: argv, the
environment, file names and shell scripts all end at it, so it would be
dropped or cut silently. On a batch scheduler a field that becomes a
directive line (``#SBATCH --job-name=...``) cannot hold a line break or a
double quote either. And a log file the job is to write must have a folder
to go in: otherwise the job would fail before its command ran.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from molq.errors import CommandError, ConfigError

if TYPE_CHECKING:
    from molq._engine.requests import SubmitRequest
    from molq.transport.base import Transport

__all__ = ["check_request_fields", "check_resolved"]

#: Backends whose job scripts carry fields as directive lines.
_DIRECTIVE_BACKENDS = frozenset({"slurm", "pbs", "lsf", "sge"})
#: What a directive line cannot hold (see scheduler._batch.directive_value).
_NOT_IN_DIRECTIVES = {"\n": "a line break", "\r": "a carriage return", '"': "a double quote"}


def check_request_fields(request: SubmitRequest, scheduler_kind: str, jobs_dir: str | None) -> None:
    """Raise for the first field of ``request`` no job could receive as given
    on a ``scheduler_kind`` cluster whose job directories go in ``jobs_dir``."""
    for field, value in _text_fields(request, jobs_dir):
        _refuse_nul(field, value)
    if scheduler_kind not in _DIRECTIVE_BACKENDS:
        return
    for field, value in _directive_fields(request, jobs_dir):
        for char, name in _NOT_IN_DIRECTIVES.items():
            if char in value:
                raise ConfigError(
                    f"{field} contains {name}, which a {scheduler_kind} job script "
                    f"cannot carry in a directive line: {value!r}",
                    field=field,
                )


def check_resolved(
    transport: Transport,
    request: SubmitRequest,
    cwd: str,
    stdout_path: str,
    stderr_path: str,
    script_bytes: bytes | None,
) -> None:
    """Checks that need the resolved request: the script file's bytes, and a
    folder for each log file the user named.

    Only log paths the user gave are looked up (molq's own go in the job
    directory, which it creates), and a folder already known to exist (the
    working directory) costs no look-up."""
    if script_bytes is not None and b"\x00" in script_bytes:
        _refuse_nul("script", script_bytes.decode("utf-8", "replace")[:200])
    execution = request.execution
    for field, given, path in (
        ("execution.output_file", execution.output_file, stdout_path),
        ("execution.error_file", execution.error_file, stderr_path),
    ):
        if given is None:
            continue
        folder = posixpath.dirname(path) or "/"
        if folder.rstrip("/") == cwd.rstrip("/"):
            continue
        if not transport.is_dir(folder):
            raise ConfigError(
                f"{field} {path!r} cannot be written: its folder {folder} does not exist "
                "(create it first, or give a path in an existing folder)",
                field=field,
                path=path,
            )


def _refuse_nul(field: str, value: str) -> None:
    if "\x00" in value:
        error = CommandError if field in ("command", "script") else ConfigError
        raise error(
            f"{field} contains a NUL byte, which no job can receive (it would be cut there): {value!r}",
            field=field,
        )


def _text_fields(request: SubmitRequest, jobs_dir: str | None) -> Iterator[tuple[str, str]]:
    """(field name as the request spells it, text) for every user-given text."""
    command = request.command
    if command.command is not None:
        yield "command", command.command
    script = command.script
    if script is not None:
        if script.variant == "inline":
            yield "script", script.text or ""
        else:
            yield "script", str(script.file_path)
    for index, word in enumerate(command.argv or ()):
        yield f"argv[{index}]", word
    execution = request.execution
    for key, value in (execution.env or {}).items():
        yield f"execution.env[{key!r}]", str(value)
    yield from _present("execution", execution, ("cwd", "job_name", "output_file", "error_file"))
    yield from _present("scheduling", request.scheduling, _SCHEDULING_TEXT)
    yield from _present("resources", request.resources, ("gpu_type",))
    for key, value in request.metadata.items():
        yield "metadata key", key
        yield f"metadata[{key!r}]", value
    yield "job_dir_name", request.dir_name
    if jobs_dir is not None:
        yield "jobs_dir", jobs_dir


def _directive_fields(request: SubmitRequest, jobs_dir: str | None) -> Iterator[tuple[str, str]]:
    """The fields a batch backend writes into directive lines (the paths
    through the default log files in the job directory)."""
    yield from _present("execution", request.execution, ("cwd", "job_name", "output_file", "error_file"))
    yield from _present("scheduling", request.scheduling, _SCHEDULING_TEXT)
    yield from _present("resources", request.resources, ("gpu_type",))
    yield "job_dir_name", request.dir_name
    if jobs_dir is not None:
        yield "jobs_dir", jobs_dir


_SCHEDULING_TEXT = ("partition", "account", "qos", "reservation", "email", "array_spec", "dependency", "priority")


def _present(group: str, obj: Any, names: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None and not isinstance(value, bool):
            yield f"{group}.{name}", str(value)
