"""The Transport protocol: where commands and file operations run."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from molq._dataclass_face import present_as_dataclass
from molq.errors import TransportError

__all__ = ["CommandFailedError", "CommandResult", "Transport", "TransportError"]


class CommandFailedError(TransportError, subprocess.CalledProcessError):  # type: ignore[misc]
    """A command ran and exited non-zero (from ``CommandResult.check_returncode``).

    Both a molq ``TransportError`` and a ``subprocess.CalledProcessError``, so
    code written for either catches it; ``cmd``/``output`` are the latter's names
    for ``command`` and the captured stdout.
    """

    def __init__(self, message: str, *, command: list[str], returncode: int, stdout: str, stderr: str) -> None:
        # CalledProcessError.__init__ takes other arguments; set both sides' fields here.
        Exception.__init__(self, message)
        self.message = message
        self.context = {}
        self.command = self.cmd = command
        self.returncode = returncode
        self.output = stdout
        self.stderr = stderr

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_command_failed, (self.message, self.command, self.returncode, self.output, self.stderr))


def _rebuild_command_failed(
    message: str, command: list[str], returncode: int, stdout: str, stderr: str
) -> CommandFailedError:
    return CommandFailedError(message, command=command, returncode=returncode, stdout=stdout, stderr=stderr)


class CommandResult:
    """How a command ended: its argv, return code, and output.

    Output is kept as bytes (parsers in the native core take bytes) and
    decoded to text only when ``stdout``/``stderr`` are read. Immutable, and it
    passes for the frozen dataclass the original molq had (``dataclasses.replace``,
    ``asdict``, ``fields``; equal when argv, return code and output are).
    """

    __slots__ = ("argv", "returncode", "_stdout", "_stderr")
    argv: tuple[str, ...]
    returncode: int
    _stdout: bytes
    _stderr: bytes

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int,
        stdout: bytes | str = b"",
        stderr: bytes | str = b"",
    ) -> None:
        set_field = object.__setattr__  # the class is frozen (see present_as_dataclass below)
        set_field(self, "argv", tuple(argv))
        set_field(self, "returncode", returncode)
        set_field(self, "_stdout", stdout.encode() if isinstance(stdout, str) else bytes(stdout))
        set_field(self, "_stderr", stderr.encode() if isinstance(stderr, str) else bytes(stderr))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CommandResult):
            return NotImplemented
        return (self.argv, self.returncode, self._stdout, self._stderr) == (
            other.argv,
            other.returncode,
            other._stdout,
            other._stderr,
        )

    def __hash__(self) -> int:
        return hash((self.argv, self.returncode, self._stdout, self._stderr))

    def __reduce__(self) -> tuple[object, ...]:
        return (CommandResult, (self.argv, self.returncode, self._stdout, self._stderr))

    @property
    def stdout(self) -> str:
        return self._stdout.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    @property
    def stdout_bytes(self) -> bytes:
        return self._stdout

    @property
    def stderr_bytes(self) -> bytes:
        return self._stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def check_returncode(self) -> None:
        """Raise :class:`CommandFailedError` (a ``TransportError`` and a
        ``subprocess.CalledProcessError``) naming the command when it exited non-zero."""
        if self.returncode != 0:
            raise CommandFailedError(
                f"command exited with status {self.returncode}: "
                f"{_describe(self.argv)}: {self.stderr.strip() or '(no stderr)'}",
                command=list(self.argv),
                returncode=self.returncode,
                stdout=self.stdout,
                stderr=self.stderr,
            )

    def __repr__(self) -> str:
        return (
            f"CommandResult(argv={self.argv!r}, returncode={self.returncode}, "
            f"stdout={self.stdout[:80]!r}, stderr={self.stderr[:80]!r})"
        )


present_as_dataclass(CommandResult, ("argv", "returncode", "stdout", "stderr"))


def _describe(argv: Sequence[str], limit: int = 200) -> str:
    text = " ".join(argv)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@runtime_checkable
class Transport(Protocol):
    """Runs commands and moves files on one machine (this one, or over SSH).

    Paths are absolute on the transport's side. ``run`` never raises for a
    non-zero exit; it raises ``TransportError`` when the command could not be
    run at all (missing binary, timeout, dead connection).

    ``copy`` copies a file (into ``dst`` when it is a directory); ``copytree``
    copies a directory to a new ``dst``; ``symlink(src, dst)`` makes ``dst``
    point at ``src``; ``stat`` follows symlinks and gives ``size``, ``mtime``,
    ``is_dir`` and ``is_file``. A missing source is ``FileNotFoundError``.
    """

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | str | None = None,
        timeout: float | None = None,
    ) -> CommandResult: ...

    def read_text(self, path: str | Path) -> str: ...
    def read_bytes(self, path: str | Path) -> bytes: ...
    def write_text(self, path: str | Path, data: str, *, mode: int = 0o600) -> None: ...
    def write_bytes(self, path: str | Path, data: bytes, *, mode: int = 0o600) -> None: ...
    def exists(self, path: str | Path) -> bool: ...
    def is_dir(self, path: str | Path) -> bool: ...
    def is_file(self, path: str | Path) -> bool: ...
    def mkdir(self, path: str | Path, *, parents: bool = True, exist_ok: bool = True, mode: int = 0o777) -> None: ...
    def chmod(self, path: str | Path, mode: int) -> None: ...
    def remove(self, path: str | Path, *, recursive: bool = False) -> None: ...
    def listdir(self, path: str | Path) -> list[str]: ...
    def rename(self, src: str | Path, dst: str | Path) -> None: ...
    def copy(self, src: str | Path, dst: str | Path) -> None: ...
    def copytree(self, src: str | Path, dst: str | Path) -> None: ...
    def symlink(self, src: str | Path, dst: str | Path) -> None: ...
    def touch(self, path: str | Path) -> None: ...
    def stat(self, path: str | Path) -> dict[str, object]: ...
    def getsize(self, path: str | Path) -> int: ...
    def upload(
        self, local: str | Path, remote: str | Path, *, recursive: bool = False, exclude: Iterable[str] = ()
    ) -> None: ...
    def download(
        self, remote: str | Path, local: str | Path, *, recursive: bool = False, exclude: Iterable[str] = ()
    ) -> None: ...
    def home(self) -> str: ...
    def expand_path(self, path: str) -> str: ...
