"""Building ssh command lines and reading how they ended (no I/O here but ``ssh -G``).

sshd hands every command string to the remote user's login shell, which must be
POSIX-like (sh, bash, dash, ksh, zsh). That shell first runs the user's startup
files (bash reads ``~/.bashrc`` for every ssh command on Debian and others): they
may print greetings, ``set -e``/``-u``, define aliases, change ``PATH``. So the login
shell gets one thing only, ``exec /bin/sh -c '<script>'``: a fresh shell in a known
state (no options, aliases or traps of the user's) that keeps the login
environment (PATH, module settings), and the script frames its output between
markers. Whatever came before the markers (startup files, the sshd Banner on
stderr) is dropped.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from molq.errors import (
    ConfigError,
    SshAuthError,
    SshConnectionError,
    SshUnreachableError,
    TransportError,
)

__all__ = [
    "NO_CWD",
    "RemotePath",
    "SshSettings",
    "build_command",
    "connection_error",
    "split_output",
    "quote_path",
    "rsync_shell",
    "split_status",
]

# The remote shell appends this to stderr after the command, with its exit status.
# Its presence proves the command ran to completion, whatever ssh's own exit code
# says; its absence with ssh's 255 means ssh failed (the old bug read that as empty
# output). \036 (record separator) keeps it apart from any text a command prints.
_MARK = b"\036molq-exit "
# ... and prints this on stdout and on stderr before the command: the command's
# output starts after the first one (startup-file noise and the Banner come before)
_BEGIN = b"\036molq-begin\n"
_PRINT_BEGIN = "printf '\\036molq-begin\\n'; printf '\\036molq-begin\\n' >&2; "
_STATUS_RE = re.compile(rb"\036molq-exit (\d+|nocwd)\n\Z")
#: status reported when ``cd`` into the requested working directory failed
NO_CWD = -1
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class RemotePath(str):
    """An argv word that is a path: a leading ``~`` or ``~/`` expands remotely."""


def quote_path(path: str) -> str:
    """Quote ``path`` for the remote shell, leaving a leading ``~``/``~/`` unquoted."""
    if path == "~":
        return "~"
    if path.startswith("~/"):
        rest = path[2:]
        return "~/" + shlex.quote(rest) if rest else "~/"
    return shlex.quote(path)


def _word(word: str) -> str:
    return quote_path(word) if isinstance(word, RemotePath) else shlex.quote(word)


def build_command(argv: Sequence[str], *, cwd: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The one string the remote login shell runs for ``argv``.

    It execs ``/bin/sh`` on a script that prints the begin markers, does
    ``cd -- <cwd>`` (a failure is reported as :data:`NO_CWD`), runs the quoted
    argv with ``K=V`` prefixes and ends with the status trailer on stderr. The
    backslash keeps an alias named ``exec`` (startup files may define any) out.
    """
    if not argv:
        raise ValueError("cannot run an empty argv")
    parts: list[str] = [_PRINT_BEGIN]
    if cwd is not None:
        parts.append(
            f"cd -- {quote_path(str(cwd))} 2>/dev/null || {{ printf '\\036molq-exit nocwd\\n' >&2; exit 1; }}; "
        )
    for key, value in (env or {}).items():
        if not _NAME_RE.match(key):
            raise ValueError(f"not a valid environment variable name for a remote command: {key!r}")
        parts.append(f"{key}={shlex.quote(str(value))} ")
    parts.append(" ".join(_word(w) for w in argv))
    parts.append('; s=$?; printf \'\\036molq-exit %d\\n\' "$s" >&2; exit "$s"')
    return "\\exec /bin/sh -c " + shlex.quote("".join(parts))


def split_output(stdout: bytes) -> bytes:
    """The command's own stdout: what follows the first begin marker."""
    at = stdout.find(_BEGIN)
    return stdout if at < 0 else stdout[at + len(_BEGIN) :]


def split_status(stderr: bytes) -> tuple[int | None, bytes]:
    """(the command's exit status, or None when the trailer is missing; the command's
    own stderr: between the first begin marker and the trailer). Without the trailer,
    all of stderr is returned: it holds ssh's reason for failing."""
    at = stderr.rfind(_MARK)
    if at < 0:
        return None, stderr
    match = _STATUS_RE.match(stderr, at)
    if match is None:
        return None, stderr
    value = match.group(1)
    begin = stderr.find(_BEGIN, 0, at)
    start = 0 if begin < 0 else begin + len(_BEGIN)
    return (NO_CWD if value == b"nocwd" else int(value)), stderr[start:at]


# ---------------------------------------------------------------- classifying ssh failures
# OpenSSH's messages (9.x; stable for many releases). Order matters: first match wins.
_AUTH = (
    "Permission denied (",
    "Too many authentication failures",
    "no such identity",
    "Host key verification failed",
    "REMOTE HOST IDENTIFICATION HAS CHANGED",
    "host key is known for",
    "No matching host key",
)
_UNREACHABLE = (
    "Connection refused",
    "Connection timed out",
    "No route to host",
    "Could not resolve hostname",
    "Network is unreachable",
    "Name or service not known",
    "Temporary failure in name resolution",
    "kex_exchange_identification",
    "Connection closed by ",
    "Connection reset by ",
    "Operation timed out",
)
# refused by a live master before a session existed: the command never started
_NOT_STARTED = ("Session open refused", "session request failed", "mux_client_hello_exchange", "Control socket connect")


def _first_line(text: str, *needles: str) -> str:
    for line in text.splitlines():
        if any(n in line for n in needles):
            return line.strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "(no error output)"


def connection_error(
    host: str, returncode: int, stderr: str, command: object, *, what: str = "command"
) -> TransportError:
    """The error for an ssh call that ended without the remote status trailer."""
    ctx: dict[str, Any] = {"command": command, "returncode": returncode, "stderr": stderr}
    # "closed by remote host" is a session that existed and dropped; checked before
    # the pre-authentication "Connection closed by <addr> port N".
    if "closed by remote host" in stderr or "Broken pipe" in stderr or "client_loop" in stderr:
        line = _first_line(stderr, "closed", "Broken pipe", "client_loop")
        return SshConnectionError(
            f"ssh connection to {host} dropped during the {what}: {line}", may_have_run=True, **ctx
        )
    if any(n in stderr for n in _AUTH):
        line = _first_line(stderr, *_AUTH)
        if "host key" in line.lower() or "IDENTIFICATION" in line:
            hint = (
                "the host key of this host is unknown or has changed; check it and add it to "
                "known_hosts (log in once with plain ssh)"
            )
        else:
            hint = (
                "no key was accepted; check identity_file / ssh-agent and the host's "
                "authorized_keys (molq runs ssh with BatchMode=yes: no password or "
                "passphrase prompts)"
            )
        return SshAuthError(f"ssh to {host}: authentication refused: {line} ({hint})", **ctx)
    if any(n in stderr for n in _UNREACHABLE):
        line = _first_line(stderr, *_UNREACHABLE)
        return SshUnreachableError(f"ssh to {host}: host unreachable: {line}", **ctx)
    if any(n in stderr for n in _NOT_STARTED):
        line = _first_line(stderr, *_NOT_STARTED)
        return SshConnectionError(
            f"ssh to {host}: the shared connection refused a new session: {line}", may_have_run=False, **ctx
        )
    if returncode == 255:
        line = _first_line(stderr)
        return SshConnectionError(
            f"ssh to {host} failed (exit 255) during the {what}: {line} (the connection was lost "
            f"or the remote shell was killed; the {what} may have run)",
            may_have_run=True,
            **ctx,
        )
    return TransportError(
        f"ssh to {host}: the remote shell did not report the {what}'s exit status (exit "
        f"{returncode}: {_first_line(stderr)}); molq needs a POSIX login shell (sh, bash, zsh, ksh)",
        **ctx,
    )


# ---------------------------------------------------------------- what ssh -G says
@dataclass(frozen=True)
class SshSettings:
    """The few options of the user's ssh configuration that molq adapts to."""

    user: str = ""
    hostname: str = ""
    port: str = "22"
    control_path: str | None = None  # the user's own, already expanded by ssh -G
    control_persist: str = "no"
    server_alive_interval: str = "0"
    strict_host_key_checking: str = "ask"


def read_settings(ssh_bin: str, args: Sequence[str], host: str) -> SshSettings:
    """``ssh -G`` with molq's arguments; defaults when ssh cannot answer."""

    try:
        done = subprocess.run(
            [ssh_bin, "-G", *args, host],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return SshSettings()
    if done.returncode != 0:
        return SshSettings()
    values: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        values.setdefault(key.lower(), value.strip())
    path = values.get("controlpath")
    return SshSettings(
        user=values.get("user", ""),
        hostname=values.get("hostname", ""),
        port=values.get("port", "22"),
        control_path=None if path in (None, "", "none") else path,
        control_persist=values.get("controlpersist", "no"),
        server_alive_interval=values.get("serveraliveinterval", "0"),
        strict_host_key_checking=values.get("stricthostkeychecking", "ask"),
    )


# ssh binds the socket under "<path>.<16 random chars>" first, then renames it; the
# whole must fit sun_path (104 bytes with the NUL on macOS/BSD, 108 on Linux).
_SUN_PATH = 104 - 1 - 17


def private_socket(settings: SshSettings, base_argv: Iterable[str]) -> str | None:
    """A control socket path in a private (0700, ours) directory, short enough; None if
    no candidate directory qualifies. The name hashes the destination *and* molq's
    ssh arguments, so a transport with another key never borrows a master."""
    key = "\0".join([settings.user, settings.hostname, settings.port, *base_argv])
    name = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    uid = os.getuid()
    candidates = [os.path.join(os.path.expanduser("~"), ".ssh", "molq")]
    if os.environ.get("XDG_RUNTIME_DIR"):
        candidates.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "molq-ssh"))
    candidates.append(f"/tmp/molq-ssh-{uid}")
    for directory in candidates:
        path = os.path.join(directory, name)
        if len(path.encode()) > _SUN_PATH or not _private_dir(directory, uid):
            continue
        return path
    return None


def _private_dir(directory: str, uid: int) -> bool:
    try:
        os.makedirs(os.path.dirname(directory), mode=0o700, exist_ok=True)
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        st = os.lstat(directory)
    except OSError:
        return False
    # someone else's directory, a symlink, or one others can enter: not for our sockets
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o077


def relayed(ssh_argv: Sequence[str]) -> list[str]:
    """The program for ``rsync -e``: ssh through :mod:`molq.transport._ssh_relay`, which
    frames rsync's remote command (a greeting on stdout would break rsync's protocol)."""

    if not sys.executable:  # an embedding interpreter with no program to run: plain ssh
        return list(ssh_argv)
    relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ssh_relay.py")
    return [sys.executable, "-I", relay, str(len(ssh_argv)), *ssh_argv]


def rsync_shell(argv: Sequence[str]) -> str:
    """``argv`` as one ``rsync -e`` string: rsync splits it at spaces and honours
    single or double quotes (no backslashes)."""
    words = []
    for word in argv:
        if word and not re.search(r"[\s'\"]", word):
            words.append(word)
        elif "'" not in word:
            words.append(f"'{word}'")
        elif '"' not in word:
            words.append(f'"{word}"')
        else:
            raise ConfigError(f"rsync cannot pass an ssh argument holding both quote kinds: {word!r}")
    return " ".join(words)
