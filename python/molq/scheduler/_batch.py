"""Plumbing shared by the PBS, LSF and Grid Engine backends.

Every query runs with ``TZ=UTC``: these schedulers print times in the
client's local zone, and the native parsers read them as UTC. Chunked
commands keep their raw output; the chunks are joined and parsed once (the
parsers take back-to-back outputs), so a refresh costs one native call per
command kind, not one merge per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from molq import _core
from molq.errors import ConfigError, SchedulerError, TransportError

if TYPE_CHECKING:
    from molq.transport.base import CommandResult, Transport

__all__ = [
    "QUERY_ENV",
    "chunks",
    "directive_value",
    "run",
    "refused",
    "parse_joined",
    "for_user",
    "priority_number",
]

QUERY_ENV = {"TZ": "UTC"}

_SPACE = re.compile(r"\s")


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def run(
    transport: Transport,
    argv: list[str],
    what: str,
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> CommandResult:
    """Run a scheduler command; a transport failure (timeout, no connection,
    missing program) becomes ``SchedulerError`` naming the command."""
    try:
        return transport.run(argv, env=env or QUERY_ENV, timeout=timeout, input=input)
    except TransportError as exc:
        raise SchedulerError(f"{what} failed: {exc}", command=argv, stderr=exc.stderr) from exc


def refused(what: str, result: CommandResult, argv: list[str]) -> SchedulerError:
    text = result.stderr.strip() or result.stdout.strip() or "(no output)"
    return SchedulerError(f"{what} failed (exit {result.returncode}): {text}", command=argv, stderr=result.stderr)


def parse_joined(kind: str, outputs: Iterable[bytes], *, accounting: bool = False) -> _core.Snapshot:
    """Parse the joined stdout of several chunks with one native call."""
    data = b"\n".join(outputs)
    return _core.parse_accounting(kind, data) if accounting else _core.parse_queue(kind, data)


def directive_value(value: str, scheduler: str) -> str:
    """A directive's value: bare when it has no blank or single quote, else
    double-quoted (the schedulers split directive lines at blanks and read
    quotes unless the value is quoted)."""
    if "\n" in value or "\r" in value or '"' in value:
        raise ConfigError(f"{scheduler} cannot take a newline or a double quote in a directive value: {value!r}")
    return f'"{value}"' if _SPACE.search(value) or "'" in value else value


def for_user(entries: list[_core.QueueEntry], user: str | None) -> list[_core.QueueEntry]:
    if user is None:
        return entries
    return [e for e in entries if e.user == user]


def priority_number(priority: str, scheduler: str, low: int, high: int) -> int:
    """``JobScheduling.priority`` as the integer the scheduler takes."""
    try:
        value = int(priority)
    except ValueError:
        raise ConfigError(f"{scheduler} takes a numeric priority ({low}..{high}), got {priority!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{scheduler} priority must be within {low}..{high}, got {value}")
    return value
