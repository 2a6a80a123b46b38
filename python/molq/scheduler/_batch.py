"""Plumbing shared by the PBS, LSF and Grid Engine backends.

Every query runs with ``TZ=UTC``: these schedulers print times in the
client's local zone, and the native parsers read them as UTC. Chunked
commands keep their raw output; the chunks are joined and parsed once (the
parsers take back-to-back outputs), so a refresh costs one native call per
command kind, not one merge per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from molq import _core
from molq.errors import ConfigError, SchedulerError, TransportError
from molq.scheduler._script import shell_quote

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
    "submit_failed",
    "log_path_parts",
    "record_job_id_line",
    "job_ids_in_dirs",
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


def submit_failed(what: str, exc: TransportError, argv: list[str]) -> SchedulerError:
    """The submit command did not complete (timeout, dropped connection):
    unless it never started, the scheduler may have accepted the job before
    the answer was lost, so this is never read as "not submitted" (molq looks
    for the job by its marker instead)."""
    started = getattr(exc, "may_have_run", True) and exc.returncode != 127
    return SchedulerError(
        f"{what} did not complete: {exc}",
        command=argv,
        stderr=exc.stderr,
        outcome_unknown=started,
        transient=not started,
    )


def log_path_parts(path: str, cwd: str, job_dir: str, default_name: str) -> tuple[str, str]:
    """``path`` split into what molq added (its default log in the job
    directory, or the working directory in front of a relative name), to be
    taken literally, and the name the user gave, which keeps the scheduler's
    own filename patterns."""
    if path == f"{job_dir}/{default_name}":
        return path, ""
    prefix = cwd.rstrip("/") + "/"
    return (prefix, path[len(prefix) :]) if path.startswith(prefix) else ("", path)


def record_job_id_line(job_dir: str, name: str, expression: str) -> str:
    """The job script's first command: write the scheduler's id for this job
    (``expression``, e.g. ``"$JOB_ID"``) into ``name`` in its job directory, so
    that a job whose submitter never heard back is found even after the
    scheduler forgot it. A failure to write must not stop the job."""
    return f"printf '%s\\n' {expression} > {shell_quote(f'{job_dir}/{name}')} 2>/dev/null || :"


# $1 the file name, then job dirs; prints "<index> <id>" for each that has it.
_READ_JOB_ID_FILES = r"""
name=$1; shift; i=0
for dir; do
  if [ -r "$dir/$name" ] && read -r sid < "$dir/$name"; then printf '%s %s\n' "$i" "$sid"; fi
  i=$((i + 1))
done
exit 0
"""


def job_ids_in_dirs(
    run_command: Callable[[list[str]], CommandResult],
    name: str,
    jobs: Sequence[tuple[str, str]],
    valid: Callable[[str], bool] = str.isdigit,
) -> dict[str, str]:
    """job_id -> scheduler id read from the job id file ``name`` of each job
    (job_id, job_dir) whose script started (ids ``valid`` says are ids);
    one command per 200 jobs."""
    found: dict[str, str] = {}
    for chunk in chunks([job_dir for _, job_dir in jobs], 200):
        result = run_command(["bash", "-c", _READ_JOB_ID_FILES, "molq-find", name, *chunk])
        for line in result.stdout.splitlines():
            index, _, sid = line.partition(" ")
            if index.isdigit() and valid(sid) and int(index) < len(chunk):
                found[chunk[int(index)]] = sid
    by_dir = {job_dir: job_id for job_id, job_dir in jobs}
    return {by_dir[d]: sid for d, sid in found.items() if d in by_dir}


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
