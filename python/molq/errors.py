"""Every exception molq raises on purpose.

    MolqError
    ├── ConfigError ............ a destination, option, profile or request molq cannot honour
    ├── SubmitError
    │   ├── CommandError ....... argv / command / script given wrongly
    │   └── ScriptError ........ the script file behind Script.path is missing
    ├── SchedulerError ......... a scheduler command failed (stderr and command attached)
    ├── JobNotFoundError ....... no job with that id (in that cluster)
    ├── MolqTimeoutError ....... a wait ran out of time (also a TimeoutError)
    ├── StoreError ............. the job store file is corrupt, newer, locked or unwritable
    ├── ParseError ............. scheduler output molq cannot read
    └── TransportError ......... a command or file operation could not be carried out
        │                        (re-exported by molq.transport)
        ├── DiskFullError ...... no space (or quota) left where a file was written (an OSError)
        ├── PermissionDeniedError  not allowed to write or read a path (a PermissionError)
        └── SshConnectionError . no SSH connection, or it was lost (``may_have_run`` tells
            │                    whether the remote command may have started)
            ├── SshAuthError ... the host refused the key, or its host key is unknown/changed
            └── SshUnreachableError  nothing answered: refused, timed out, unknown name

The native core raises these same classes; this module imports nothing from it.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "MolqError",
    "ConfigError",
    "SubmitError",
    "CommandError",
    "ScriptError",
    "SchedulerError",
    "JobNotFoundError",
    "MolqTimeoutError",
    "StoreError",
    "ParseError",
    "TransportError",
    "DiskFullError",
    "PermissionDeniedError",
    "SshConnectionError",
    "SshAuthError",
    "SshUnreachableError",
]


class MolqError(Exception):
    """Base of every molq error. ``context`` holds the keyword details."""

    def __init__(self, message: str = "", **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return self.message


class ConfigError(MolqError):
    """A destination, option, profile or request that molq cannot honour."""


class SubmitError(MolqError):
    """A job could not be submitted because of how it was described."""


class CommandError(SubmitError):
    """argv, command and script were combined wrongly, or a command is malformed."""


class ScriptError(SubmitError):
    """The script file behind ``Script.path`` is missing or unreadable."""


class SchedulerError(MolqError):
    """A scheduler command failed; ``stderr`` and ``command`` tell how."""

    def __init__(
        self,
        message: str = "",
        *,
        stderr: str | None = None,
        command: Any = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.stderr = stderr
        self.command = command


class JobNotFoundError(MolqError):
    """No job with this id exists (in this cluster, when one is named)."""

    def __init__(self, job_id: str, cluster_name: str | None = None) -> None:
        where = f" in cluster '{cluster_name}'" if cluster_name else ""
        super().__init__(f"Job '{job_id}' not found{where}")
        self.job_id = job_id
        self.cluster_name = cluster_name

    def __reduce__(self) -> Any:
        return (type(self), (self.job_id, self.cluster_name))


class MolqTimeoutError(TimeoutError, MolqError):
    """A wait or watch ran past its timeout."""

    def __init__(self, message: str = "", **context: Any) -> None:
        MolqError.__init__(self, message, **context)


class StoreError(MolqError):
    """The job store cannot be used: corrupt, newer schema, locked or unwritable."""


class ParseError(MolqError):
    """Scheduler output that molq cannot read at all."""


class TransportError(MolqError):
    """A command or file operation could not be carried out.

    ``command``, ``returncode`` and ``stderr`` say what was run and how it ended.
    """

    def __init__(
        self,
        message: str = "",
        *,
        command: Any = None,
        returncode: int | None = None,
        stderr: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.command = command
        self.returncode = returncode
        self.stderr = stderr


class _PathOSError(TransportError):
    """A TransportError that is also the matching OSError: ``errno`` and ``filename``
    are set, and ``path``/``host`` (None: this machine) name where it happened."""

    default_errno = 0

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        host: str | None = None,
        errno: int | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        code = self.default_errno if errno is None else errno
        OSError.__init__(self, code, os.strerror(code), path)
        self.path = path
        self.host = host

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:
        state = {
            "path": self.path,
            "host": self.host,
            "errno": getattr(self, "errno", None),
            "command": self.command,
            "returncode": self.returncode,
            "stderr": self.stderr,
            **self.context,
        }
        return (_rebuild_path_error, (type(self), self.message, state))


def _rebuild_path_error(cls: type, message: str, state: dict[str, Any]) -> Any:
    return cls(message, **state)


class DiskFullError(_PathOSError, OSError):
    """No space (or no quota) was left on the disk a file or folder was being written to;
    nothing half-written was put in place. Also an ``OSError`` (errno ENOSPC or EDQUOT)."""

    default_errno = 28


class PermissionDeniedError(_PathOSError, PermissionError):
    """Not allowed to create, write or read a path (or its file system is read-only);
    also a ``PermissionError`` (errno EACCES, EPERM or EROFS)."""

    default_errno = 13


class SshConnectionError(TransportError):
    """ssh could not connect, or the connection broke (ssh exited 255 without the
    remote command reporting a status).

    ``may_have_run`` is False when the failure came before the remote command
    could start (so retrying cannot run it twice), True when it may have run.
    """

    def __init__(self, message: str = "", *, may_have_run: bool = True, **context: Any) -> None:
        super().__init__(message, **context)
        self.may_have_run = may_have_run


class SshAuthError(SshConnectionError):
    """The host refused every key offered, or its host key is unknown or has changed."""

    def __init__(self, message: str = "", **context: Any) -> None:
        context.pop("may_have_run", None)
        super().__init__(message, may_have_run=False, **context)


class SshUnreachableError(SshConnectionError):
    """Nothing answered at the address: connection refused, timed out, or unknown host name."""

    def __init__(self, message: str = "", **context: Any) -> None:
        context.pop("may_have_run", None)
        super().__init__(message, may_have_run=False, **context)
