"""The Transport protocol: where commands and file operations run."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Protocol, Sequence, runtime_checkable

from molq.errors import TransportError

__all__ = ["CommandResult", "Transport", "TransportError"]



class CommandResult:
    """How a command ended: its argv, return code, and output.

    Output is kept as bytes (parsers in the native core take bytes) and
    decoded to text only when ``stdout``/``stderr`` are read.
    """

    __slots__ = ("argv", "returncode", "_stdout", "_stderr")

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int,
        stdout: bytes | str = b"",
        stderr: bytes | str = b"",
    ) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self._stdout = stdout.encode() if isinstance(stdout, str) else bytes(stdout)
        self._stderr = stderr.encode() if isinstance(stderr, str) else bytes(stderr)

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
        """Raise ``TransportError`` naming the command when it exited non-zero."""
        if self.returncode != 0:
            raise TransportError(
                f"command exited with status {self.returncode}: "
                f"{_describe(self.argv)}: {self.stderr.strip() or '(no stderr)'}",
                command=list(self.argv),
                returncode=self.returncode,
                stderr=self.stderr,
            )

    def __repr__(self) -> str:
        return (
            f"CommandResult(argv={self.argv!r}, returncode={self.returncode}, "
            f"stdout={self.stdout[:80]!r}, stderr={self.stderr[:80]!r})"
        )


def _describe(argv: Sequence[str], limit: int = 200) -> str:
    text = " ".join(argv)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@runtime_checkable
class Transport(Protocol):
    """Runs commands and moves files on one machine (this one, or over SSH).

    Paths are absolute on the transport's side. ``run`` never raises for a
    non-zero exit; it raises ``TransportError`` when the command could not be
    run at all (missing binary, timeout, dead connection).
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
    def upload(self, local: str | Path, remote: str | Path, *, recursive: bool = False, exclude: Iterable[str] = ()) -> None: ...
    def download(self, remote: str | Path, local: str | Path, *, recursive: bool = False, exclude: Iterable[str] = ()) -> None: ...
    def home(self) -> str: ...
    def expand_path(self, path: str) -> str: ...
