"""Running ssh and rsync with a hard timeout that takes their helpers down too."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence

from molq.errors import TransportError
from molq.transport.base import _describe

__all__ = ["run_process", "socket_lock"]


def run_process(
    argv: Sequence[str], *, input: bytes | None, timeout: float, env: Mapping[str, str] | None = None
) -> tuple[int, bytes, bytes]:
    """(return code, stdout, stderr) of ``argv``; ``TransportError`` on timeout or when
    the program is missing.

    The process gets its own session, so a timeout kills the whole group: rsync
    and the ssh it started, or ssh and a ProxyCommand. A master that ssh forks
    (ControlPersist) puts itself in a session of its own and is not touched; the
    remote command of a killed call may go on running until it ends.
    """
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=env,
        )
    except FileNotFoundError as exc:
        raise TransportError(
            f"command not found: {argv[0]} (needed for {_describe(argv)})", command=list(argv), returncode=127
        ) from exc
    except OSError as exc:
        raise TransportError(f"cannot run {_describe(argv)}: {exc}", command=list(argv)) from exc
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise TransportError(f"timed out after {timeout:g} s: {_describe(argv)}", command=list(argv)) from None
    except BaseException:
        _kill_group(proc)
        raise
    return proc.returncode, out, err


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    # Do not read on to EOF: a multiplexed ssh hands its stdio descriptors to the
    # master, which keeps them open until the remote command ends by itself.
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@contextlib.contextmanager
def socket_lock(socket_path: str | None, timeout: float) -> Iterator[None]:
    """Hold ``<socket_path>.lock`` (an flock, so a dead holder frees it) for the block.

    Starting a master is ``ssh -fN``: when several processes start one at once, each
    connects and all but the first find the socket taken and go on as plain
    connections that never end. Under this lock the next one finds the master
    running and returns at once. Without a path, fcntl, or a writable directory,
    or after ``timeout`` seconds of waiting, the block runs unlocked.
    """
    try:
        import fcntl  # deferred: fcntl is missing on Windows; guarded here
    except ImportError:  # no flock (Windows): no ControlMaster there either
        yield
        return
    fd = -1
    if socket_path:
        try:
            fd = os.open(socket_path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            fd = -1
    try:
        deadline = time.monotonic() + timeout
        while fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.02)
            except OSError:
                break
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # releases the lock
