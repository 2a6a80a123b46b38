"""Discover the hosts declared in an OpenSSH client config, and resolve them.

Aliases are read from ``Host`` lines (following ``Include``), and what each
alias really means (hostname, user, port...) is asked of ``ssh -G``, so molq
agrees with ssh about every option, ``Match`` blocks included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_SYSTEM_CONFIG",
    "DEFAULT_USER_CONFIG",
    "SshHost",
    "list_ssh_hosts",
    "resolve_ssh_host",
    "ssh_alias_names",
    "to_ssh_target",
]

#: Where OpenSSH reads its configs (the user's is expanded when read, so a
#: changed HOME is honoured).
DEFAULT_SYSTEM_CONFIG = Path("/etc/ssh/ssh_config")
DEFAULT_USER_CONFIG = Path("~/.ssh/config")

# OpenSSH itself gives up at this Include depth.
_MAX_INCLUDE_DEPTH = 16
_SSH_TIMEOUT = 10.0
_LINE_RE = r"\s*([^\s=]+)\s*(?:=\s*)?(.*)"  # compiled (and cached) by re on first use


@dataclass(frozen=True)
class SshHost:
    """One alias as ssh resolves it. ``extra`` holds every other ``ssh -G`` key."""

    alias: str
    hostname: str | None = None
    user: str | None = None
    port: int | None = None
    identity_file: str | None = None
    proxy_jump: str | None = None
    forward_agent: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """``user@host[:port]`` for display; the port only if it is not 22."""
        text = self.hostname or self.alias
        if self.user:
            text = f"{self.user}@{text}"
        if self.port is not None and self.port != 22:
            text = f"{text}:{self.port}"
        return text


def _default_config() -> Path:
    return DEFAULT_USER_CONFIG.expanduser()


def _config_file(config_path: str | os.PathLike[str] | None) -> Path:
    return Path(config_path).expanduser() if config_path is not None else _default_config()


def _split(line: str) -> tuple[str, list[str]]:
    """A config line as (lower-cased keyword, arguments); ``Key=value`` allowed."""
    import shlex  # deferred: shlex only when ssh config is parsed

    match = re.match(_LINE_RE, line)
    if match is None:
        return "", []
    rest = match.group(2)
    try:
        args = shlex.split(rest)
    except ValueError:  # an unbalanced quote: ssh would reject it, we just read words
        args = rest.split()
    return match.group(1).lower(), args


def _included_files(pattern: str, base: Path) -> list[Path]:
    import glob  # deferred: glob only for an Include with wildcards

    expanded = os.path.expanduser(pattern)
    if not os.path.isabs(expanded):
        expanded = str(base / expanded)
    return [Path(p) for p in sorted(glob.glob(expanded))]


def _collect(path: Path, base: Path, seen: set[Path], depth: int, out: list[str]) -> None:
    try:
        key = path.resolve()
    except OSError:
        return
    if key in seen or depth > _MAX_INCLUDE_DEPTH:
        return
    seen.add(key)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, args = _split(stripped)
        if keyword == "include":
            for pattern in args:
                for included in _included_files(pattern, base):
                    _collect(included, base, seen, depth + 1, out)
        elif keyword == "host":
            for alias in args:
                if not any(c in alias for c in "*?!") and alias not in out:
                    out.append(alias)


def ssh_alias_names(config_path: str | os.PathLike[str] | None = None) -> list[str]:
    """Concrete aliases declared on ``Host`` lines, in order, without duplicates.

    Patterns (``*``, ``?``) and negations (``!``) are skipped. ``Include`` is
    followed, with globs; as in ssh, a relative include path is under
    ``~/.ssh`` whichever file includes it. A missing file gives an empty list.
    ``ssh`` is not run.
    """
    aliases: list[str] = []
    _collect(_config_file(config_path), Path.home() / ".ssh", set(), 0, aliases)
    return aliases


def _parse_ssh_g(alias: str, output: str) -> SshHost:
    values: dict[str, str] = {}
    for line in output.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            # ssh -G lists some keys more than once (identityfile); the first wins.
            values.setdefault(key.lower(), value.strip())
    fields: dict[str, Any] = {}
    port = values.pop("port", None)
    if port is not None and port.isdigit():
        fields["port"] = int(port)
    identity = values.pop("identityfile", None)
    if identity:
        fields["identity_file"] = os.path.expanduser(identity)
    proxy_jump = values.pop("proxyjump", None)
    if proxy_jump and proxy_jump.lower() != "none":
        fields["proxy_jump"] = proxy_jump
    fields["forward_agent"] = values.pop("forwardagent", "no").lower() in ("yes", "true")
    fields["hostname"] = values.pop("hostname", None)
    fields["user"] = values.pop("user", None)
    return SshHost(alias=alias, extra=values, **fields)


def resolve_ssh_host(
    alias: str,
    *,
    config_path: str | os.PathLike[str] | None = None,
    ssh_bin: str = "ssh",
) -> SshHost:
    """What ``ssh`` would use for ``alias``, from ``ssh -G [-F config_path] alias``.

    Raises ``OSError`` if ``ssh_bin`` is not found or ``ssh -G`` fails, and
    ``ValueError`` for an alias ssh would read as an option.
    """
    if not alias or alias.startswith("-") or any(c.isspace() for c in alias):
        raise ValueError(f"not a usable ssh host alias: {alias!r}")
    binary = shutil.which(ssh_bin)
    if binary is None:
        raise OSError(f"ssh client {ssh_bin!r} not found on PATH")
    argv = [binary, "-G"]
    if config_path is not None:
        argv += ["-F", str(_config_file(config_path))]
    argv.append(alias)
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_SSH_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"'ssh -G {alias}' did not answer within {_SSH_TIMEOUT:g} s") from exc
    if done.returncode != 0:
        raise OSError(f"'ssh -G {alias}' failed ({done.returncode}): {done.stderr.strip()}")
    return _parse_ssh_g(alias, done.stdout)


def list_ssh_hosts(config_path: str | os.PathLike[str] | None = None) -> list[SshHost]:
    """Every concrete alias of the config, resolved with ``ssh -G``.

    An alias that ssh cannot resolve (or every alias, when ssh is missing)
    is returned bare: ``SshHost(alias)``.
    """
    aliases = ssh_alias_names(config_path)
    if shutil.which("ssh") is None:
        return [SshHost(alias) for alias in aliases]
    hosts = []
    for alias in aliases:
        try:
            hosts.append(resolve_ssh_host(alias, config_path=config_path))
        except (OSError, ValueError):
            hosts.append(SshHost(alias))
    return hosts


def to_ssh_target(host: SshHost) -> str:
    """A destination for ssh/rsync: ``user@hostname``, the hostname, or the alias."""
    name = host.hostname or host.alias
    return f"{host.user}@{name}" if host.user else name
