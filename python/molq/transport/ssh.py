"""SshTransport: commands and files on another machine, through OpenSSH and rsync.

Everything goes through the system ``ssh`` (so ``~/.ssh/config``, agents,
ProxyJump, Kerberos... work as in a terminal) over one shared ControlMaster
connection per destination, started on first use. Every call has a timeout;
``BatchMode=yes`` means a missing key fails at once instead of waiting on a
password prompt that nobody will answer.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from molq.errors import ConfigError, SshAuthError, SshConnectionError, TransportError
from molq.options import SshTransportOptions
from molq.transport._ssh_command import (
    NO_CWD,
    RemotePath,
    SshSettings,
    build_command,
    connection_error,
    private_socket,
    read_settings,
    split_output,
    split_status,
)
from molq.transport._ssh_process import run_process, socket_lock
from molq.transport.base import CommandResult, _describe

__all__ = ["SshTransport"]

# Remote helpers run by `/bin/sh -c` (so the login shell's dialect does not matter) with
# paths as positional parameters, never pasted into the script, and the system's tools
# first in PATH (a login PATH may put other `cat`s or `stat`s first). Exit codes 2, 13,
# 17, 20 and 21 stand for ENOENT, EACCES, EEXIST, ENOTDIR and EISDIR.
_SYSTEM_PATH = "PATH=/usr/bin:/bin${PATH:+:$PATH}; export PATH\n"

_READ = '[ -e "$1" ] || exit 2; [ -d "$1" ] && exit 21; [ -r "$1" ] || exit 13; exec cat -- "$1"'
# $1 path $2 temp path $3 size $4 mode $5 parent $6 create parents (1/0). Checks the
# size: a connection that drops mid-transfer ends cat's input early, and a short file
# must not replace the old one.
_WRITE = r"""
if [ "$6" = 1 ]; then mkdir -p -- "$5" || exit 1; fi
[ -d "$5" ] || exit 2
[ -d "$1" ] && exit 21
umask 077
# the cause (a full disk, a refused permission) is read from the message
cat > "$2" || { rm -f -- "$2"; exit 1; }
n=$(wc -c < "$2")
if [ $((n)) -ne "$3" ]; then
  rm -f -- "$2"; echo "molq: short write: $((n)) of $3 bytes arrived" >&2; exit 5
fi
chmod "$4" "$2" && mv -f -- "$2" "$1" || { rm -f -- "$2"; exit 1; }
"""
# $1 path $2 parents $3 exist_ok $4 mode $5 parent. The umask applies, as in Path.mkdir.
_MKDIR = r"""
if [ -d "$1" ]; then [ "$3" = 1 ] && exit 0; exit 17; fi
{ [ -e "$1" ] || [ -L "$1" ]; } && exit 17
if [ "$2" = 1 ]; then mkdir -p -- "$5" || exit 1; elif [ ! -d "$5" ]; then exit 2; fi
m=$(printf %o $(( 0$4 & ~0$(umask) )))
mkdir -m "$m" -- "$1" 2>/dev/null && exit 0
if [ -d "$1" ]; then [ "$3" = 1 ] && exit 0; exit 17; fi
[ -e "$1" ] && exit 17
mkdir -m "$m" -- "$1"
"""
_REMOVE = r"""
if [ -d "$1" ] && [ ! -L "$1" ]; then [ "$2" = 1 ] || exit 21; exec rm -rf -- "$1"; fi
exec rm -f -- "$1"
"""
_LISTDIR = r"""
[ -e "$1" ] || exit 2; [ -d "$1" ] || exit 20; cd -- "$1" || exit 13
for f in * .[!.]* ..?*; do
  { [ -e "$f" ] || [ -L "$f" ]; } && printf '%s\0' "$f"
done
exit 0
"""
_CHMOD = '[ -e "$1" ] || exit 2; exec chmod -- "$2" "$1"'
# os.replace semantics: a directory target is replaced only by a directory, if empty
_RENAME = r"""
{ [ -e "$1" ] || [ -L "$1" ]; } || exit 2
if [ -d "$2" ] && [ ! -L "$2" ]; then
  [ -d "$1" ] || exit 21
  rmdir -- "$2" 2>/dev/null || exit 39
fi
exec mv -f -- "$1" "$2"
"""
_STAT = '[ -d "$1" ] && { echo d; exit 0; }; [ -e "$1" ] && { echo f; exit 0; }; exit 2'
# "<size> <mtime> <d|f|o>" with symlinks followed: GNU stat, else BSD stat (no python
# needed on the remote side)
_STAT_FULL = r"""
[ -e "$1" ] || exit 2
out=$(stat -L -c '%s %Y' -- "$1" 2>/dev/null) || out=$(stat -L -f '%z %m' -- "$1") || exit 5
k=o; if [ -d "$1" ]; then k=d; elif [ -f "$1" ]; then k=f; fi
printf '%s %s\n' "$out" "$k"
"""
# $1 source $2 destination; a missing parent of the destination is created
_COPY = r"""
[ -e "$1" ] || exit 2; [ -d "$1" ] && exit 21
if [ ! -d "$2" ]; then mkdir -p -- "$(dirname -- "$2")" || exit 1; fi
exec cp -p -- "$1" "$2"
"""
_COPYTREE = r"""
[ -e "$1" ] || exit 2; [ -d "$1" ] || exit 20
{ [ -e "$2" ] || [ -L "$2" ]; } && exit 17
mkdir -p -- "$(dirname -- "$2")" || exit 1
exec cp -R -P -p -- "$1" "$2"
"""
_SYMLINK = '{ [ -e "$2" ] || [ -L "$2" ]; } && exit 17; exec ln -s -- "$1" "$2"'
_TOUCH = '[ -d "$(dirname -- "$1")" ] || exit 2; umask 077; exec touch -- "$1"'
# login_with_code: ssh asks this helper for the code, which it reads from the environment
_ASKPASS = """#!/bin/sh
printf '%s\\n' "$MOLQ_SSH_SECRET"
"""
# Values of variables and ~user homes (names are checked in Python, so eval is safe):
# "1<value>\0" when set, "0\0" when not.
_QUERY = r"""
for n do
  case $n in
    '~'*) eval "v=$n"; case $v in '~'*) s=0 ;; *) s=1 ;; esac ;;
    *) eval "s=\${$n+1} v=\${$n-}" ;;
  esac
  printf '%s%s\0' "${s:-0}" "$v"
done
"""
_ERRNO = {2: errno.ENOENT, 13: errno.EACCES, 17: errno.EEXIST, 20: errno.ENOTDIR, 21: errno.EISDIR, 39: errno.ENOTEMPTY}
_VAR_RE = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")
_TILDE_RE = re.compile(r"~([A-Za-z0-9._-]*)(?=/|\Z)")
_SAFE, _UNSAFE = True, False


class SshTransport:
    """Another machine over SSH. See :class:`molq.options.SshTransportOptions`.

    Retries: when the connection drops, operations that are safe to repeat
    (reads, tests, listing, ``mkdir`` with ``exist_ok``, ``remove``, ``chmod``,
    atomic writes, rsync copies) re-establish the master and run once more.
    ``run``, ``rename`` and ``mkdir(exist_ok=False)`` are retried only when ssh
    failed before the command could start; otherwise they raise
    :class:`~molq.errors.SshConnectionError` with ``may_have_run=True``.
    """

    def __init__(
        self,
        options: SshTransportOptions | str,
        _ssh_bin: str | None = None,
        _rsync_bin: str | None = None,
        *,
        ssh_bin: str = "ssh",
        rsync_bin: str = "rsync",
    ) -> None:
        # _ssh_bin/_rsync_bin: the original molq's spelling of ssh_bin/rsync_bin
        if isinstance(options, str):
            options = SshTransportOptions(host=options)
        self.options = options
        self._ssh_bin = _ssh_bin or ssh_bin
        self._rsync_bin = _rsync_bin or rsync_bin
        self._lock = threading.Lock()
        # one master start at a time: two racing `ssh -fN` would leave the loser running
        # as a plain, never-ending background connection
        self._master_lock = threading.Lock()
        self._settings: SshSettings | None = None
        self._argv: list[str] | None = None
        self._control_path: str | None = None  # ours (None: the user's, or no multiplexing)
        self._master_ready = False
        self._mux = False  # set with the command line: is there a socket to share?
        self._env: dict[str, str | None] = {}
        #: ssh and rsync processes started so far (benchmarks count round trips with it)
        self.process_count = 0

    # -- ssh command lines --------------------------------------------------------------
    def _user_args(self) -> list[str]:
        o = self.options
        args = ["-p", str(o.port)] if o.port is not None else []
        if o.identity_file:
            args += ["-i", os.path.expanduser(o.identity_file)]
        return args + list(o.ssh_opts)

    def _ssh_argv(self) -> list[str]:
        """ssh and every option, up to (not including) the destination. Built once."""
        with self._lock:
            if self._argv is not None:
                return self._argv
            o = self.options
            user = self._user_args()
            settings = self._settings = read_settings(self._ssh_bin, user, o.host)
            argv = [
                self._ssh_bin,
                "-T",
                "-o",
                "BatchMode=yes",
                "-o",
                f"ConnectTimeout={o.connect_timeout}",
                # a RemoteCommand, forwardings or LocalCommand in the user's config are for
                # interactive logins; they would break or slow down every molq command
                "-o",
                "RemoteCommand=none",
                "-o",
                "ClearAllForwardings=yes",
                "-o",
                "PermitLocalCommand=no",
            ]
            if settings.strict_host_key_checking == "ask":
                # "ask" cannot ask under BatchMode; accept a new host's key, as a user answering
                # "yes" would, and still refuse a changed one
                argv += ["-o", "StrictHostKeyChecking=accept-new"]
            if settings.server_alive_interval in ("0", "300"):
                # not set by the user (ssh's default is off, 300 s under BatchMode): notice a
                # silently dead network in ~45 s instead of 15 min or a hang on TCP
                argv += ["-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"]
            if o.control_master:
                if o.control_path:
                    self._control_path = os.path.expanduser(o.control_path)
                elif settings.control_path is None:
                    self._control_path = private_socket(settings, [*argv, *user, o.host])
                # without any socket path there is no multiplexing (and a master started
                # with -fN would be a plain connection that never ends)
                self._mux = self._control_path is not None or settings.control_path is not None
                if self._mux:
                    argv += ["-o", "ControlMaster=auto"]
                if self._control_path is not None:
                    argv += ["-o", f"ControlPath={self._control_path}"]
                if self._control_path is not None or (self._mux and settings.control_persist == "no"):
                    argv += ["-o", f"ControlPersist={o.control_persist}"]
            self._argv = argv + user
            return self._argv

    # -- processes ----------------------------------------------------------------------
    def _process(self, argv: list[str], *, input: bytes | None, timeout: float) -> tuple[int, bytes, bytes]:
        self.process_count += 1
        return run_process(argv, input=input, timeout=timeout)

    def _ensure_master(self, *, force: bool = False) -> None:
        """Start the shared connection (once; again with ``force``). With a master
        already running, ``ssh -fN`` returns at once without connecting."""
        if not self.options.control_master or (self._master_ready and not force):
            return
        self._ssh_argv()
        if not self._mux:
            return
        with self._master_lock:
            if self._master_ready and not force:
                return
            self._start_master()

    def _start_master(self) -> None:
        argv = self._ssh_argv()
        socket = self._control_path or (self._settings.control_path if self._settings else None)
        limit = self.options.connect_timeout + 10
        # one `ssh -fN` at a time per socket, across processes: see socket_lock
        with socket_lock(socket, timeout=limit + 5):
            rc, _, err = self._process([*argv, "-fN", "--", self.options.host], input=None, timeout=limit)
        if rc != 0:
            self._master_ready = False
            text = err.decode("utf-8", "replace")
            exc = connection_error(self.options.host, rc, text, [*argv, "-fN", self.options.host], what="connection")
            if isinstance(exc, SshConnectionError):
                exc.may_have_run = False  # nothing but the connection was attempted
            raise exc
        self._master_ready = True

    def _remote(
        self,
        words: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
        safe: bool,
        what: str = "command",
    ) -> tuple[int, bytes, bytes]:
        """Run ``words`` remotely; (status, stdout, stderr). Raises on ssh failures."""
        command = build_command(words, cwd=cwd, env=env)
        argv = [*self._ssh_argv(), "--", self.options.host, command]
        limit = self.options.command_timeout if timeout is None else timeout
        self._ensure_master()
        for attempt in (1, 2):
            rc, out, err = self._process(argv, input=input, timeout=limit)
            status, err = split_status(err)
            if status is not None:
                return status, split_output(out), err
            exc = connection_error(self.options.host, rc, err.decode("utf-8", "replace"), list(words), what=what)
            retry = (
                isinstance(exc, SshConnectionError)
                and not isinstance(exc, SshAuthError)
                and (safe or not exc.may_have_run)
            )
            if attempt == 2 or not retry:
                raise exc
            try:
                self._ensure_master(force=True)
            except TransportError as again:
                raise again from exc
        raise AssertionError("unreachable")

    # -- commands -----------------------------------------------------------------------
    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | str | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run ``argv`` remotely; a non-zero exit is a result, not an exception.

        ``env`` is added to the remote login environment. Without ``timeout``,
        ``options.command_timeout`` applies; on timeout the local ssh is killed
        (the remote command may go on). Raises ``SshConnectionError`` (and its
        subclasses) when ssh fails; not retried once the command may have started.
        """
        words = [str(a) for a in argv]
        data = input.encode() if isinstance(input, str) else input
        status, out, err = self._remote(words, cwd=cwd, env=env, input=data, timeout=timeout, safe=_UNSAFE)
        text = err.decode("utf-8", "replace")
        if status == NO_CWD:
            raise TransportError(
                f"working directory does not exist on {self.options.host}: {cwd}",
                command=words,
                returncode=1,
                stderr=text,
            )
        if status == 127 and re.search(rf"{re.escape(words[0])}: (command )?not found", text):
            raise TransportError(
                f"command not found on {self.options.host}: {words[0]} (while running {_describe(words)})",
                command=words,
                returncode=127,
                stderr=text,
            )
        return CommandResult(words, status, out, err)

    def _helper(
        self, script: str, *args: str, input: bytes | None = None, safe: bool = _SAFE, timeout: float | None = None
    ) -> tuple[int, bytes, str]:
        status, out, err = self._remote(
            ["/bin/sh", "-c", _SYSTEM_PATH + script, "molq", *args],
            env={"LC_ALL": "C"},
            input=input,
            timeout=timeout,
            safe=safe,
            what="file operation",
        )
        return status, out, err.decode("utf-8", "replace")

    def _fail(self, op: str, path: str, status: int, stderr: str) -> OSError | TransportError:
        # deferred: molq.transport._transfer loads only when used
        from molq.transport._transfer import classify_text, os_error

        code = _ERRNO.get(status) or classify_text(stderr)
        if code is not None:  # a full disk or a refused permission: molq's own, naming the path
            return os_error(
                code, op, path, self.options.host, detail=stderr, command=[op, path], returncode=status, stderr=stderr
            )
        return TransportError(
            f"{op} {path} on {self.options.host} failed (exit {status}): {stderr.strip() or 'no error output'}",
            command=[op, path],
            returncode=status,
            stderr=stderr,
        )

    # -- files --------------------------------------------------------------------------
    def read_bytes(self, path: str | Path) -> bytes:
        p = str(path)
        status, out, err = self._helper(_READ, RemotePath(p))
        if status != 0:
            raise self._fail("read", p, status, err)
        return out

    def read_text(self, path: str | Path) -> str:
        return self.read_bytes(path).decode("utf-8")

    def write_bytes(self, path: str | Path, data: bytes, *, mode: int = 0o600, parents: bool = False) -> None:
        """Write atomically (a temp file beside ``path``, then ``mv``); the data
        travels raw on ssh's stdin. ``parents`` creates missing directories."""
        p = str(path)
        parent = posixpath.dirname(p) or "."
        tmp = posixpath.join(parent, f".{posixpath.basename(p)}.molq-{os.urandom(4).hex()}.tmp")
        status, _, err = self._helper(
            _WRITE,
            RemotePath(p),
            RemotePath(tmp),
            str(len(data)),
            f"{mode:o}",
            RemotePath(parent),
            "1" if parents else "0",
            input=bytes(data),
            timeout=max(self.options.command_timeout, len(data) / 1e6),
        )
        if status != 0:
            raise self._fail("write", p, status, err)

    def write_text(self, path: str | Path, data: str, *, mode: int = 0o600, parents: bool = False) -> None:
        self.write_bytes(path, data.encode("utf-8"), mode=mode, parents=parents)

    def _test(self, flag: str, path: str | Path) -> bool:
        status, _, err = self._remote(["test", flag, RemotePath(str(path))], safe=_SAFE, what="file test")
        if status not in (0, 1):
            raise self._fail(f"test {flag}", str(path), status, err.decode("utf-8", "replace"))
        return status == 0

    def exists(self, path: str | Path) -> bool:
        return self._test("-e", path)

    def is_dir(self, path: str | Path) -> bool:
        return self._test("-d", path)

    def is_file(self, path: str | Path) -> bool:
        return self._test("-f", path)

    def mkdir(self, path: str | Path, *, parents: bool = True, exist_ok: bool = True, mode: int = 0o777) -> None:
        """Like ``Path.mkdir``: ``FileExistsError`` when it exists and not ``exist_ok``
        (molq relies on that to never share a job directory)."""
        p = str(path).rstrip("/") or "/"
        parent = posixpath.dirname(p) or "."
        status, _, err = self._helper(
            _MKDIR,
            RemotePath(p),
            "1" if parents else "0",
            "1" if exist_ok else "0",
            f"{mode:o}",
            RemotePath(parent),
            safe=exist_ok,
        )
        if status != 0:
            raise self._fail("mkdir", p, status, err)

    def chmod(self, path: str | Path, mode: int) -> None:
        status, _, err = self._helper(_CHMOD, RemotePath(str(path)), f"{mode:o}")
        if status != 0:
            raise self._fail("chmod", str(path), status, err)

    def remove(self, path: str | Path, *, recursive: bool = False) -> None:
        """Remove a file, or a directory tree with ``recursive``; a missing path is fine."""
        p = str(path)
        if p.rstrip("/") in ("", "~", ".", "..") or posixpath.normpath(p) == "/":
            raise ValueError(f"refusing to remove {p!r} on {self.options.host}")
        status, _, err = self._helper(_REMOVE, RemotePath(p), "1" if recursive else "0")
        if status != 0:
            raise self._fail("remove", p, status, err)

    def listdir(self, path: str | Path) -> list[str]:
        status, out, err = self._helper(_LISTDIR, RemotePath(str(path)))
        if status != 0:
            raise self._fail("listdir", str(path), status, err)
        return sorted(name.decode("utf-8", "surrogateescape") for name in out.split(b"\0") if name)

    def rename(self, src: str | Path, dst: str | Path) -> None:
        status, _, err = self._helper(_RENAME, RemotePath(str(src)), RemotePath(str(dst)), safe=_UNSAFE)
        if status != 0:
            raise self._fail("rename", str(src), status, err)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        """Copy a remote file to ``dst`` (into it, if it is a directory), keeping its
        mode and times; a missing parent of ``dst`` is created."""
        status, _, err = self._helper(_COPY, RemotePath(str(src)), RemotePath(str(dst)))
        if status != 0:
            raise self._fail("copy", str(src), status, err)

    def copytree(self, src: str | Path, dst: str | Path) -> None:
        """Copy the remote directory ``src`` to ``dst``, which must not exist yet."""
        status, _, err = self._helper(_COPYTREE, RemotePath(str(src)), RemotePath(str(dst)), safe=_UNSAFE)
        if status != 0:
            raise self._fail("copytree", str(src) if status in (2, 20) else str(dst), status, err)

    def symlink(self, src: str | Path, dst: str | Path) -> None:
        """Make ``dst`` a symlink pointing at ``src`` (taken literally, not expanded)."""
        status, _, err = self._helper(_SYMLINK, str(src), RemotePath(str(dst)), safe=_UNSAFE)
        if status != 0:
            raise self._fail("symlink", str(dst), status, err)

    def touch(self, path: str | Path) -> None:
        """Create an empty file (private to the user), or update an existing one's times."""
        status, _, err = self._helper(_TOUCH, RemotePath(str(path)))
        if status != 0:
            raise self._fail("touch", str(path), status, err)

    def stat(self, path: str | Path) -> dict[str, object]:
        """``size``, ``mtime`` (whole seconds), ``is_dir`` and ``is_file`` of ``path``,
        symlinks followed. One round trip; no python needed on the remote side."""
        p = str(path)
        status, out, err = self._helper(_STAT_FULL, RemotePath(p))
        if status != 0:
            raise self._fail("stat", p, status, err)
        try:
            size, mtime, kind = out.decode().split()
            return {"size": int(size), "mtime": float(mtime), "is_dir": kind == "d", "is_file": kind == "f"}
        except ValueError:
            raise TransportError(
                f"stat {p} on {self.options.host} gave unreadable output: {out[:200]!r}",
                command=["stat", p],
                returncode=status,
                stderr=err,
            ) from None

    def getsize(self, path: str | Path) -> int:
        size = self.stat(path)["size"]
        assert isinstance(size, int)
        return size

    # -- paths --------------------------------------------------------------------------
    def _lookup(self, names: Iterable[str]) -> dict[str, str | None]:
        """Remote values of variables / ``~user`` homes, one round trip for the unknown ones."""
        wanted = [n for n in dict.fromkeys(names) if n not in self._env]
        if wanted:
            status, out, err = self._helper(_QUERY, *wanted)
            fields = out.split(b"\0")
            if status != 0 or len(fields) < len(wanted):
                raise TransportError(
                    f"could not read the environment on {self.options.host}: {err.strip()}",
                    command=["sh", "-c", "<env query>"],
                    returncode=status,
                    stderr=err,
                )
            for name, field in zip(wanted, fields):
                text = field.decode("utf-8", "surrogateescape")
                self._env[name] = text[1:] if text[:1] == "1" else None
        return {n: self._env[n] for n in names}

    def home(self) -> str:
        """The remote ``$HOME`` (asked once, then cached)."""
        home = self._lookup(["HOME"])["HOME"]
        if not home:
            raise TransportError(f"HOME is not set on {self.options.host}")
        return home

    def expand_path(self, path: str) -> str:
        """``~``, ``~user`` and ``$VAR``/``${VAR}`` as the remote shell would expand them,
        without running the path through a shell; unset variables stay as written,
        and a relative result is taken under the remote home (where commands start)."""
        text = str(path)
        tilde = _TILDE_RE.match(text)
        names = ["HOME"] + [a or b for a, b in _VAR_RE.findall(text)]
        if tilde and tilde.group(1):
            names.append("~" + tilde.group(1))
        values = self._lookup(names)
        text = _VAR_RE.sub(lambda m: values[m.group(1) or m.group(2)] or m.group(0), text)
        if tilde:
            home = values["HOME"] if not tilde.group(1) else values["~" + tilde.group(1)]
            if home:
                text = home + text[tilde.end() :]
        if not text.startswith("/"):
            text = posixpath.join(values["HOME"] or "/", text)
        return text

    # -- copies (rsync) -----------------------------------------------------------------
    def _kind(self, path: str) -> str:
        status, out, err = self._helper(_STAT, RemotePath(path))
        if status != 0:
            raise self._fail("stat", path, status, err)
        return out.decode().strip()

    def upload(
        self,
        local: str | Path,
        remote: str | Path,
        *,
        recursive: bool = False,
        exclude: Iterable[str] = (),
        timeout: float | None = None,
    ) -> None:
        """Copy a local file to ``remote`` (or into it, if it is a directory), or with
        ``recursive`` a directory's contents into ``remote``. Missing remote parents
        are created. One rsync call (plus ssh -G and the master on first use)."""
        src = Path(local)
        if not src.exists():
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(src))
        if src.is_dir() and not recursive:
            raise IsADirectoryError(errno.EISDIR, f"{src} is a directory (pass recursive=True)", str(src))
        from molq.transport._transfer import rsync_upload  # deferred: molq.transport._transfer loads only when used

        dst = self.expand_path(str(remote))
        make = dst if src.is_dir() else posixpath.dirname(dst)
        source = str(src) + "/" if src.is_dir() else str(src)
        # atomic per file: see molq.transport._transfer
        rsync_upload(self, source, dst, make, exclude=exclude, timeout=timeout)

    def download(
        self,
        remote: str | Path,
        local: str | Path,
        *,
        recursive: bool = False,
        exclude: Iterable[str] = (),
        timeout: float | None = None,
    ) -> None:
        """Copy a remote file to ``local`` (or into it, if it is a directory), or with
        ``recursive`` a remote directory's contents into ``local``."""
        src = self.expand_path(str(remote))
        kind = self._kind(src)
        dst = Path(local)
        if kind == "d":
            if not recursive:
                raise IsADirectoryError(
                    errno.EISDIR, f"{src} on {self.options.host} is a directory (pass recursive=True)", src
                )
            dst.mkdir(parents=True, exist_ok=True)
            src += "/"
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
        from molq.transport._transfer import rsync_download  # deferred: molq.transport._transfer loads only when used

        # atomic per file: see molq.transport._transfer
        rsync_download(self, src, dst, src_is_dir=kind == "d", exclude=exclude, timeout=timeout)

    # -- the shared connection -----------------------------------------------------------
    def master_running(self) -> bool:
        """Whether a ControlMaster serves this destination now (``ssh -O check``);
        always False when connection sharing is off."""
        if not self.options.control_master:
            return False
        argv = self._ssh_argv()
        if not self._mux:
            return False
        rc, _, _ = self._process([*argv, "-O", "check", "--", self.options.host], input=None, timeout=10)
        return rc == 0

    def is_master_alive(self) -> bool:
        """Whether a ControlMaster serves this destination now (same as :meth:`master_running`)."""
        return self.master_running()

    def _login_argv(self) -> list[str]:
        """The master's command line, allowed to prompt (``BatchMode=no``)."""
        if not self.options.control_master:
            raise ConfigError(
                f"login to {self.options.host} needs connection sharing, "
                "but control_master=False: every later command would log in again"
            )
        argv = [("BatchMode=no" if word == "BatchMode=yes" else word) for word in self._ssh_argv()]
        if not self._mux:
            raise ConfigError(
                f"login to {self.options.host}: no private directory for a control socket was found (set control_path)"
            )
        return argv

    def login(self, *, force: bool = False, timeout: float | None = None) -> None:
        """Log in interactively once (a password or a verification code typed on this
        terminal) and keep the connection open, so that later commands, which never
        prompt, share it. Does nothing when a master already runs, unless ``force``.

        Needs a terminal: without one, use :meth:`login_with_code`.
        """

        if not force and self.is_master_alive():
            self._master_ready = True
            return
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise TransportError(
                f"ssh login to {self.options.host} is interactive (password or verification code) "
                "but there is no TTY to type it on; use login_with_code(code) instead, "
                f"or run `ssh {self.options.host}` in a terminal first"
            )
        argv = [*self._login_argv(), "-fN", "--", self.options.host]
        self.process_count += 1
        try:
            # the terminal is inherited: ssh prompts on it
            done = subprocess.run(argv, timeout=timeout, check=False)
        except FileNotFoundError as exc:
            raise TransportError(f"command not found: {argv[0]}", command=argv, returncode=127) from exc
        except subprocess.TimeoutExpired:
            raise TransportError(
                f"ssh login to {self.options.host} did not finish within {timeout:g} s", command=argv
            ) from None
        if done.returncode != 0:
            raise SshConnectionError(
                f"ssh login to {self.options.host} failed (ssh exited {done.returncode}); ssh's messages above say why",
                command=argv,
                returncode=done.returncode,
                may_have_run=False,
            )
        self._master_ready = True

    def login_with_code(self, code: str, *, force: bool = False, timeout: float | None = 90.0) -> None:
        """Log in without a terminal, answering ssh's prompt (a verification code) with
        ``code``, and keep the connection open for later commands, like :meth:`login`.

        The code reaches ssh through ``SSH_ASKPASS``: a helper script private to the
        user that reads it from its environment; it is never written to a file or argv.
        """
        import shutil  # deferred: shutil loads the compression modules; only when it is needed
        import tempfile  # deferred: tempfile (shutil, random) only when a temp dir is made

        code = code.strip()
        if not code:
            raise TransportError("verification code is empty")
        if not force and self.is_master_alive():
            self._master_ready = True
            return
        argv = [*self._login_argv(), "-o", "NumberOfPasswordPrompts=1", "-fN", "--", self.options.host]
        helper_dir = tempfile.mkdtemp(prefix="molq-askpass-")  # 0700
        try:
            helper = os.path.join(helper_dir, "askpass")
            fd = os.open(helper, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
            with os.fdopen(fd, "w") as fh:
                fh.write(_ASKPASS)
            env = dict(os.environ, SSH_ASKPASS=helper, SSH_ASKPASS_REQUIRE="force", MOLQ_SSH_SECRET=code)
            # OpenSSH before 8.4 asks the helper only with a DISPLAY and no terminal
            env.setdefault("DISPLAY", ":0")
            self.process_count += 1
            rc, _, err = run_process(argv, input=None, timeout=timeout if timeout is not None else 3600.0, env=env)
        finally:
            shutil.rmtree(helper_dir, ignore_errors=True)
        if rc != 0:
            exc = connection_error(self.options.host, rc, err.decode("utf-8", "replace"), argv, what="login")
            if isinstance(exc, SshConnectionError):
                exc.may_have_run = False
            raise exc
        self._master_ready = True

    def close(self) -> None:
        """Stop the master if molq owns its socket (a user's own ControlPath is left alone)."""
        if self._control_path is not None and self._argv is not None:
            try:
                self._process([*self._ssh_argv(), "-O", "exit", "--", self.options.host], input=None, timeout=10)
            except TransportError:
                pass
        self._master_ready = False

    def __enter__(self) -> SshTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        port = f", port={self.options.port}" if self.options.port is not None else ""
        return f"SshTransport(host={self.options.host!r}{port})"
