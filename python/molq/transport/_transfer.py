"""Copies that never leave a partial file under its final name.

The protocol, for rsync over SSH (both directions) and for local copies:

* every file is written under a temporary name in a folder molq creates for
  this one transfer, ``.molq-transfer-<random>`` (0700), inside the folder that
  receives it (so on the same file system), and renamed over its final name
  only once it is complete. rsync checks each file it received against a
  whole-file checksum computed while sending (MD5 or xxh, as the two sides
  agree) before that rename, and sends it again on a mismatch; that check
  costs nothing extra, unlike ``--checksum``, which reads every file on both
  sides on every sync to decide what to send;
* the transfer folder is removed when the copy ends, whether it worked or
  not; only a receiver killed with SIGKILL (or a crash) leaves one behind,
  holding nothing but temporary files, never a final name;
* options that would write in place (``--inplace``, ``--append``), keep a cut
  file under its final name (``--partial``, ``-P``) or move the temporary files
  elsewhere (``--temp-dir``, ``--partial-dir``, ``--delay-updates``) are dropped
  from ``rsync_opts``.

A cut copy therefore leaves each file either as it was or as the source is.
For a folder this holds file by file: a sync that is cut leaves some files
updated and others not yet (never one half-written); running it again
completes it. molq does not use ``--delay-updates`` (all renames at the end):
it needs room for every changed file at once and its final renames can be cut
all the same. A folder inside the tree that is another mount point is the one
exception: rsync copies into it instead of renaming (not atomic).

Failures are told apart: no space left or quota used up is
:class:`~molq.errors.DiskFullError`, a permission refused or a read-only file
system :class:`~molq.errors.PermissionDeniedError`, both naming the path and
the machine (rsync reports the errno of each failed file).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shlex
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from molq.errors import (
    DiskFullError,
    PermissionDeniedError,
    SshAuthError,
    SshConnectionError,
    TransportError,
)

if TYPE_CHECKING:
    from molq.transport.ssh import SshTransport

__all__ = [
    "TEMP_PREFIX",
    "classify_text",
    "local_copy",
    "local_copytree",
    "os_error",
    "rsync_download",
    "rsync_options",
    "rsync_upload",
]

#: names of the per-transfer folders (never sent, at any depth; never deleted by ``--delete``)
TEMP_PREFIX = ".molq-transfer-"
_DROPPED = {"--inplace", "--partial", "-P", "--append", "--append-verify", "--delay-updates"}
_DROPPED_WITH_VALUE = ("--partial-dir", "--temp-dir")
_FULL = (errno.ENOSPC, errno.EDQUOT)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
# the C locale's strerror texts (helpers and the remote receiver run under LC_ALL=C)
_TEXTS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Permission denied": errno.EACCES,
    "Operation not permitted": errno.EPERM,
    "Read-only file system": errno.EROFS,
}
_FAILED_MARK = "\036molq-transfer-failed"
# rsync: [receiver] write failed on "/x/y": No space left on device (28)
_RSYNC_LINE = re.compile(r'^rsync(?:: | error: )(?:\[(\w+)\] )?(.*?"(.*)".*?: )?([^:\n]*?) \((\d+)\)$', re.M)
_RECURSIVE = re.compile(r"-[A-Za-z]*[ar][A-Za-z]*")


# -- rsync's command line ------------------------------------------------------------
def rsync_options(user_opts: Iterable[str]) -> list[str]:
    """``rsync_opts`` without the options that break the protocol, plus ``-r`` when
    nothing in them recurses."""
    opts: list[str] = []
    words = iter(user_opts)
    for word in words:
        if word in _DROPPED:
            continue
        if word in _DROPPED_WITH_VALUE or word == "-T":
            next(words, None)
            continue
        if word.startswith(tuple(f"{name}=" for name in _DROPPED_WITH_VALUE)):
            continue
        if re.fullmatch(r"-[A-Za-z]+", word) and "P" in word:
            word = word.replace("P", "")  # -aP: keep -a, drop --partial --progress
            if word == "-":
                continue
        opts.append(word)
    if not any(x in ("-a", "-r", "--archive", "--recursive") or _RECURSIVE.fullmatch(x) for x in opts):
        opts.append("-r")
    return opts


def _temp_name() -> str:
    return TEMP_PREFIX + secrets.token_hex(6)


# The remote end of an upload, run by /bin/sh (not the login shell's dialect) with
# $1 destination, $2 folder to create first, $3 the destination's parent, $4 the
# transfer folder's name, then rsync's own server arguments. The transfer folder
# goes where rsync's receiver works: in the destination when it is a folder, else
# beside it; a relative --temp-dir is taken from there.
_RECEIVER = (
    "d=$1 m=$2 p=$3 t=$4; shift 4; LC_ALL=C; export LC_ALL; "
    "fail() { printf '\\036molq-transfer-failed\\n' >&2; exit 3; }; "
    'mkdir -p -- "$m" || fail; [ -d "$d" ] || d=$p; '
    'mkdir -m 700 -- "$d/$t" || fail; '
    'rsync "$@"; s=$?; rm -rf -- "$d/$t"; exit $s'
)


def _receiver_command(dst: str, make: str, temp: str) -> str:
    parent = dst.rstrip("/").rsplit("/", 1)[0] or "/"
    if dst.endswith("/"):
        parent = dst
    words = ["molq-transfer", dst, make, parent, temp]
    return "\\exec /bin/sh -c " + shlex.quote(_RECEIVER) + " " + " ".join(shlex.quote(w) for w in words)


def _base_argv(t: SshTransport, exclude: Iterable[str]) -> list[str]:
    # deferred: molq.transport._ssh_command loads only when used
    from molq.transport._ssh_command import relayed, rsync_shell

    o = t.options
    # -s: names travel inside the rsync protocol, never through a remote shell, so
    # spaces, quotes and non-ASCII need no escaping
    return [
        t._rsync_bin,
        *rsync_options(o.rsync_opts),
        "-s",
        f"--timeout={int(max(1, o.command_timeout))}",
        *(f"--exclude={pattern}" for pattern in exclude),
        f"--exclude={TEMP_PREFIX}*/",
        "-e",
        rsync_shell(relayed(t._ssh_argv())),
    ]


def rsync_upload(
    t: SshTransport, source: str, dst: str, make: str, *, exclude: Iterable[str], timeout: float | None
) -> None:
    """rsync ``source`` to ``host:dst`` through a remote transfer folder; ``make`` is
    the remote folder to create first."""
    base = _base_argv(t, exclude)

    def attempt() -> list[str]:
        temp = _temp_name()  # a new one each time: a cut attempt's receiver may still clean up its own
        return [
            *base,
            f"--temp-dir={temp}",
            f"--rsync-path={_receiver_command(dst, make, temp)}",
            "--",
            source,
            f"{t.options.host}:{dst}",
        ]

    try:
        _run(t, attempt, source=source, dst=dst, receiver=t.options.host, sender=None, timeout=timeout)
    except TransportError as exc:
        if not (exc.returncode == 11 and not (exc.stderr or "").strip()):
            raise
        # rsync's own report can be lost when its receiver ends first: ask the disk
        if _remote_free_bytes(t, make) < _size_of(source):
            raise os_error(
                errno.ENOSPC,
                "copy to",
                dst,
                t.options.host,
                command=exc.command,
                returncode=exc.returncode,
                stderr=exc.stderr,
            ) from exc
        raise


def _size_of(path: str) -> int:
    if not os.path.isdir(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, n)) for root, _, names in os.walk(path) for n in names)


def _remote_free_bytes(t: SshTransport, folder: str) -> int:
    """Free space (bytes) on the remote disk holding ``folder``; a large number when unknown."""
    from molq.transport._ssh_command import RemotePath  # deferred: molq.transport._ssh_command loads only when used

    try:
        status, out, _ = t._helper('df -Pk -- "$1" | tail -n 1', RemotePath(folder))
        return int(out.split()[3]) * 1024 if status == 0 else 1 << 62
    except (TransportError, ValueError, IndexError):
        return 1 << 62


def rsync_download(
    t: SshTransport, src: str, dst: Path, *, src_is_dir: bool, exclude: Iterable[str], timeout: float | None
) -> None:
    """rsync ``host:src`` to the local ``dst`` through a local transfer folder."""
    where = dst if src_is_dir or dst.is_dir() else dst.parent
    temp = _local_temp_dir(where, dst)
    try:
        argv = [*_base_argv(t, exclude), f"--temp-dir={temp}", "--", f"{t.options.host}:{src}", str(dst)]
        _run(t, lambda: argv, source=src, dst=str(dst), receiver=None, sender=t.options.host, timeout=timeout)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _local_temp_dir(where: Path, dst: Path) -> str:
    import tempfile  # deferred: tempfile (shutil, random) only when a temp dir is made

    try:
        return tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=where)  # 0700
    except OSError as exc:
        raise os_error(exc.errno or 0, "download to", str(dst), None, detail=str(exc)) from exc


def _run(
    t: SshTransport,
    make_argv: Callable[[], list[str]],
    *,
    source: str,
    dst: str,
    receiver: str | None,
    sender: str | None,
    timeout: float | None,
) -> None:
    """Run rsync once, and once more on a new connection when the connection broke."""
    # deferred: molq.transport._ssh_command loads only when used
    from molq.transport._ssh_command import connection_error

    o = t.options
    t._ensure_master()
    limit = o.transfer_timeout if timeout is None else timeout
    for attempt in (1, 2):
        argv = make_argv()
        rc, _, err_bytes = t._process(argv, input=None, timeout=limit)
        if rc in (0, 24):  # 24: some source files vanished while copying
            return
        err = err_bytes.decode("utf-8", "replace")
        if re.search(r"rsync: (command )?not found", err):
            raise TransportError(
                f"rsync is not installed on {o.host} (it is needed there too)", command=argv, returncode=rc, stderr=err
            )
        named = _classify_rsync(
            err, source=source, dst=dst, receiver=receiver, sender=sender, command=argv, returncode=rc
        )
        if named is not None:
            raise named
        if rc in (10, 12, 255) or "connection unexpectedly closed" in err:  # 10: socket I/O
            exc = connection_error(o.host, 255, err, argv, what="rsync copy")
            if attempt == 1 and isinstance(exc, SshConnectionError) and not isinstance(exc, SshAuthError):
                try:
                    t._ensure_master(force=True)
                except TransportError as again:
                    raise again from exc
                continue  # copies are idempotent: once more on the new connection
            raise exc
        if rc == 23 and "No such file or directory" in err:
            raise FileNotFoundError(errno.ENOENT, f"rsync: {err.strip().splitlines()[0]}", source)
        if rc == 30:
            raise TransportError(
                f"rsync stalled: no data for {o.command_timeout:g} s ({source} -> {dst})",
                command=argv,
                returncode=rc,
                stderr=err,
            )
        raise TransportError(
            f"rsync {source} -> {dst} failed (exit {rc}): {err.strip() or 'no error output'}",
            command=argv,
            returncode=rc,
            stderr=err,
        )


# -- telling failures apart ----------------------------------------------------------
def classify_text(text: str) -> int | None:
    """The errno of a full disk or a refused permission named in ``text`` (C locale)."""
    for words, code in _TEXTS.items():
        if words in text:
            return code
    return None


def os_error(code: int, op: str, path: str, host: str | None, *, detail: str = "", **context: Any) -> OSError:
    """The exception for ``code`` met while doing ``op`` on ``path``: molq's own for a
    full disk or a refused permission, the builtin ``OSError`` kind for the rest."""
    where = f" on {host}" if host else ""
    tail = f" ({detail.strip()})" if detail.strip() else ""
    if code in _FULL:
        what = "no space left" if code == errno.ENOSPC else "disk quota exceeded"
        return DiskFullError(
            f"{op} {path}{where}: {what} on its disk; nothing half-written was left in its place{tail}",
            path=path,
            host=host,
            errno=code,
            **context,
        )
    if code in _DENIED:
        what = "read-only file system" if code == errno.EROFS else "permission denied"
        return PermissionDeniedError(f"{op} {path}{where}: {what}{tail}", path=path, host=host, errno=code, **context)
    return OSError(code, f"{os.strerror(code)}{where}", path)


def _classify_rsync(
    err: str,
    *,
    source: str,
    dst: str,
    receiver: str | None,
    sender: str | None,
    command: Sequence[str],
    returncode: int,
) -> Exception | None:
    """A full disk or a refused permission in rsync's or the receiver script's report."""
    context: dict[str, Any] = {"command": list(command), "returncode": returncode, "stderr": err}
    if _FAILED_MARK in err:  # the remote receiver could not create its folders
        lines = [line for line in err[: err.index(_FAILED_MARK)].splitlines() if line.strip()]
        detail = lines[-1] if lines else ""
        code = classify_text(detail)
        if code is not None:
            return os_error(code, "upload to", dst, receiver, detail=detail, **context)
        return TransportError(
            f"upload to {dst} on {receiver}: cannot create its folder: {detail or 'no error output'}", **context
        )
    found: list[tuple[int, str, str, str]] = []
    for side, _, path, text, number in _RSYNC_LINE.findall(err):
        code = classify_text(text)
        if code is None and int(number) in _FULL + _DENIED:
            code = int(number)
        if code is not None:
            found.append((code, side.lower(), path, text))
    if not found:
        return None
    # a full disk explains every other failure that follows it
    code, side, path, _ = next((f for f in found if f[0] in _FULL), found[0])
    line = next((x for x in err.splitlines() if x.startswith("rsync") and f"({code})" in x), "")
    if side == "sender":  # reading the source was refused
        name = path if path.startswith("/") else source
        return os_error(code, "read", name, sender, detail=line, **context)
    return os_error(code, "copy to", dst, receiver, detail=line, **context)


# -- local copies ----------------------------------------------------------------------
def local_copy(src: Path, dst: Path) -> None:
    """``shutil.copy2`` through a temporary name beside ``dst``, renamed over it when
    complete: a copy cut by a kill or a full disk leaves ``dst`` as it was."""
    tmp = dst.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{dst.name}")
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno in _FULL + _DENIED:
            raise os_error(exc.errno, "copy to", str(dst), None, detail=str(exc)) from exc
        raise


def local_copytree(src: Path, dst: Path, *, exclude: Sequence[str]) -> None:
    """``shutil.copytree`` into ``dst`` (which may exist), each file by :func:`local_copy`;
    a full disk or a refused permission is raised as itself, not as ``shutil.Error``."""
    named: list[OSError] = []

    def copy(source: str, target: str) -> str:
        try:
            local_copy(Path(source), Path(target))
        except (DiskFullError, PermissionDeniedError) as exc:
            named.append(exc)
            raise
        return target

    ignore = shutil.ignore_patterns(*exclude) if exclude else None
    try:
        shutil.copytree(src, dst, ignore=ignore, dirs_exist_ok=True, symlinks=True, copy_function=copy)
    except shutil.Error:
        if named:
            raise named[0] from None
        raise
    except OSError as exc:
        if exc.errno in _FULL + _DENIED and not isinstance(exc, TransportError):
            raise os_error(exc.errno, "copy to", str(dst), None, detail=str(exc)) from exc
        raise
