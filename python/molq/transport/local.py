"""LocalTransport: commands through subprocess, files through the OS."""

from __future__ import annotations

import errno
import os
import signal
import stat as st
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from molq.errors import TransportError
from molq.transport.base import CommandResult, _describe

__all__ = ["LocalTransport"]

#: Every signal a child may have ignored or caught (SIGKILL and SIGSTOP cannot be).
_RESETTABLE_SIGNALS = tuple(sig for sig in signal.valid_signals() if sig not in (signal.SIGKILL, signal.SIGSTOP))


class LocalTransport:
    """This machine. ``env`` given to ``run`` is added to the current environment."""

    def __init__(self) -> None:
        self._spawned: set[int] = set()
        self._programs: dict[str, str] = {}  # PATH lookups, once per program

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | str | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        argv = [str(a) for a in argv]
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        data = input.encode() if isinstance(input, str) else input
        try:
            proc = subprocess.run(
                argv,
                cwd=cwd,
                env=full_env,
                input=data,
                stdin=None if data is not None else subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            if cwd and not os.path.isdir(cwd):
                raise TransportError(f"working directory does not exist: {cwd}", command=argv) from exc
            raise TransportError(
                f"command not found: {argv[0]} (while running {_describe(argv)})",
                command=argv,
                returncode=127,
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise TransportError(
                f"command timed out after {timeout:g} s: {_describe(argv)}",
                command=argv,
                stderr=(exc.stderr or b"").decode("utf-8", "replace"),
            ) from exc
        except OSError as exc:
            raise TransportError(f"cannot run {_describe(argv)}: {exc}", command=argv) from exc
        return CommandResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def spawn_detached(self, argv: Sequence[str], *, pass_fd: int | None = None) -> int:
        """Start ``argv`` in a new session with no stdio and return its pid at once.

        ``pass_fd`` is handed to the child as its fd 9 (the local scheduler
        passes its slot lock on so).

        The child outlives this process. Children spawned earlier that have
        ended are reaped here (only ours: other children's statuses are left
        for their owners).
        """
        import shutil  # deferred: shutil loads the compression modules; only when it is needed

        for pid in list(self._spawned):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self._spawned.discard(pid)
        program = self._programs.get(argv[0]) or shutil.which(argv[0])
        if program is None:
            raise TransportError(f"command not found: {argv[0]}", command=list(argv), returncode=127)
        devnull = os.devnull
        actions: list[tuple[Any, ...]] = [
            (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
        ]
        if pass_fd is not None:
            actions.append((os.POSIX_SPAWN_DUP2, pass_fd, 9))
        pid = os.posix_spawn(
            program,
            list(argv),
            os.environ,
            file_actions=actions,
            setsid=True,
            # as a shell would start it: exec keeps ignored signals and the
            # mask, and Python ignores SIGPIPE (a job would then survive a
            # closed pipe, or a SIGTERM its submitter happened to ignore)
            setsigdef=_RESETTABLE_SIGNALS,
            setsigmask=(),
        )
        self._spawned.add(pid)
        self._programs[argv[0]] = program
        return pid

    # -- files ------------------------------------------------------------------
    def read_bytes(self, path: str | Path) -> bytes:
        return Path(path).read_bytes()

    def read_text(self, path: str | Path) -> str:
        return Path(path).read_text(encoding="utf-8")

    def write_bytes(self, path: str | Path, data: bytes, *, mode: int = 0o600, parents: bool = True) -> None:
        """Write atomically: a temp file in the same directory, then rename.
        Missing parent directories are created unless ``parents=False``.

        No fsync: job scripts and manifests are worthless after a machine
        crash anyway, and an fsync per submit would dominate its cost.
        """
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            fd = os.open(tmp, flags, mode)
        except FileNotFoundError:
            # the parent is missing (checked only then: no stat on the common path)
            if not parents:
                raise
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, flags, mode)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)  # the umask must not narrow it
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def write_text(self, path: str | Path, data: str, *, mode: int = 0o600, parents: bool = True) -> None:
        self.write_bytes(path, data.encode("utf-8"), mode=mode, parents=parents)

    def exists(self, path: str | Path) -> bool:
        return os.path.exists(path)

    def is_dir(self, path: str | Path) -> bool:
        return os.path.isdir(path)

    def is_file(self, path: str | Path) -> bool:
        return os.path.isfile(path)

    def mkdir(
        self,
        path: str | Path,
        *,
        parents: bool = True,
        exist_ok: bool = True,
        mode: int = 0o777,
    ) -> None:
        Path(path).mkdir(mode=mode, parents=parents, exist_ok=exist_ok)

    def chmod(self, path: str | Path, mode: int) -> None:
        os.chmod(path, mode)

    def remove(self, path: str | Path, *, recursive: bool = False) -> None:
        p = Path(path)
        if p.is_dir() and not p.is_symlink():
            if not recursive:
                raise IsADirectoryError(f"{p} is a directory (pass recursive=True)")
            import shutil  # deferred: shutil loads the compression modules; only when it is needed

            shutil.rmtree(p)
        else:
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def listdir(self, path: str | Path) -> list[str]:
        return sorted(os.listdir(path))

    def rename(self, src: str | Path, dst: str | Path) -> None:
        os.replace(src, dst)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        """Copy a file to ``dst`` (into it, if it is a directory), with its mode and
        times; missing parents of ``dst`` are created."""
        import shutil  # deferred: shutil loads the compression modules; only when it is needed

        source, target = Path(src), Path(dst)
        if source.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory (use copytree)", str(source))
        if not source.exists():
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(source))
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)

    def copytree(self, src: str | Path, dst: str | Path) -> None:
        """Copy the directory ``src`` to ``dst``, which must not exist yet; symlinks
        inside are copied as symlinks."""
        import shutil  # deferred: shutil loads the compression modules; only when it is needed

        source, target = Path(src), Path(dst)
        if not source.exists():
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(source))
        if not source.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(source))
        if target.exists() or target.is_symlink():
            raise FileExistsError(errno.EEXIST, "already exists", str(target))
        shutil.copytree(source, target, symlinks=True)

    def symlink(self, src: str | Path, dst: str | Path) -> None:
        """Make ``dst`` a symlink pointing at ``src``; ``FileExistsError`` if ``dst`` exists."""
        os.symlink(src, dst)

    def touch(self, path: str | Path) -> None:
        """Create an empty file (private to the user), or update the times of an existing one."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except IsADirectoryError:
            os.utime(path)
            return
        try:
            os.utime(fd)
        finally:
            os.close(fd)

    def stat(self, path: str | Path) -> dict[str, object]:
        """``size``, ``mtime``, ``is_dir`` and ``is_file`` of ``path`` (symlinks followed)."""

        info = os.stat(path)
        return {
            "size": info.st_size,
            "mtime": info.st_mtime,
            "is_dir": st.S_ISDIR(info.st_mode),
            "is_file": st.S_ISREG(info.st_mode),
        }

    def getsize(self, path: str | Path) -> int:
        return os.stat(path).st_size

    def home(self) -> str:
        return str(Path.home())

    def expand_path(self, path: str) -> str:
        return os.path.expandvars(os.path.expanduser(str(path)))

    # -- copies (a local "upload" is a copy) ----------------------------------------
    def upload(
        self,
        local: str | Path,
        remote: str | Path,
        *,
        recursive: bool = False,
        exclude: Iterable[str] = (),
    ) -> None:
        _copy(Path(local), Path(remote), recursive=recursive, exclude=tuple(exclude))

    def download(
        self,
        remote: str | Path,
        local: str | Path,
        *,
        recursive: bool = False,
        exclude: Iterable[str] = (),
    ) -> None:
        _copy(Path(remote), Path(local), recursive=recursive, exclude=tuple(exclude))

    def __repr__(self) -> str:
        return "LocalTransport()"


def _copy(src: Path, dst: Path, *, recursive: bool, exclude: tuple[str, ...]) -> None:
    """Copy like rsync does for the SSH transport: a directory's *contents*
    land in ``dst``; a file lands at ``dst`` (or inside it when it is a directory).
    Each file goes through a temporary name (molq.transport._transfer): a cut copy
    leaves the old file or none."""
    # deferred: molq.transport._transfer loads only when used
    from molq.transport._transfer import local_copy, local_copytree

    if not src.exists():
        raise FileNotFoundError(f"no such file or directory: {src}")
    if src.resolve() == dst.resolve():
        return
    if src.is_dir():
        if not recursive:
            raise IsADirectoryError(f"{src} is a directory (pass recursive=True)")
        local_copytree(src, dst, exclude=exclude)
        return
    if dst.is_dir():
        dst = dst / src.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    local_copy(src, dst)
