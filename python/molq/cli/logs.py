"""molq logs: a job's stdout/stderr, read through its cluster's transport,
so the same command works for a job on this machine or on a remote cluster."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from molq.cli import EXIT_FAILED, EXIT_OK, CliError

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.cli._session import Session
    from molq.cluster import Cluster

# Prints the file's size, then its last $2 lines up to that size: the size
# and the tail agree, so following from that offset neither skips nor repeats.
_TAIL_AT = 'n=$(wc -c < "$1") || exit 1; echo "$n"; head -c "$n" "$1" | tail -n "$2"'


class _Log:
    """One log file of one attempt, read by byte offset."""

    def __init__(self, cluster: Cluster, path: str, label: str | None) -> None:
        self.cluster = cluster
        self.path = path
        self.prefix = f"[{label}] ".encode() if label else b""
        self.offset = 0
        self._partial = b""
        #: The last read found no file (a job not started yet, or a log removed).
        self.missing = False

    def read_from(self, offset: int) -> bytes:
        if not self.cluster.is_remote:
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(offset)
                    self.missing = False
                    return handle.read()
            except (FileNotFoundError, IsADirectoryError):
                self.missing = True
                return b""
        result = self.cluster.transport.run(["tail", "-c", f"+{offset + 1}", self.path], timeout=60)
        self.missing = result.returncode != 0
        return result.stdout_bytes if result.returncode == 0 else b""

    def tail(self, lines: int) -> bytes:
        """The last ``lines`` lines; also moves the offset to where they end."""
        result = self.cluster.transport.run(["sh", "-c", _TAIL_AT, "molq-logs", self.path, str(lines)], timeout=60)
        self.missing = result.returncode != 0
        if result.returncode != 0:
            return b""
        size, _, data = result.stdout_bytes.partition(b"\n")
        self.offset = int(size.strip() or 0)
        return data

    def emit(self, data: bytes, *, final: bool = False) -> None:
        """Write ``data``; with a prefix, only whole lines (the rest waits for more)."""
        if not data and not (final and self._partial):
            return
        out = sys.stdout.buffer
        if not self.prefix:
            out.write(data)
        else:
            data = self._partial + data
            lines = data.split(b"\n")
            self._partial = lines.pop()
            for line in lines:
                out.write(self.prefix + line + b"\n")
            if final and self._partial:
                out.write(self.prefix + self._partial + b"\n")
                self._partial = b""
        out.flush()


def _streams(args: Any) -> list[str]:
    return ["stdout", "stderr"] if args.stream == "both" else [args.stream]


def _logs_for(cluster: Cluster, record: JobRecord, streams: list[str]) -> list[_Log]:
    meta = record.metadata
    logs = []
    for stream in streams:
        path = meta.get(f"molq.{stream}_path")
        if path:
            logs.append(_Log(cluster, path, stream if len(streams) > 1 else None))
    return logs


def _attempt(session: Session, record: JobRecord) -> JobRecord:
    """A first attempt's id means "this job", so show its newest attempt;
    a later attempt's id means that attempt."""
    if record.attempt == 1:
        return session.store.get_latest_attempt_record(record.job_id) or record
    return record


def cmd_logs(session: Session, args: Any) -> int:
    given = session.find(args.job)
    dest = session.destination_of(given)
    if dest is None:
        raise CliError(
            f"cannot read the logs of {given.job_id}: where cluster {given.cluster_name!r} "
            f"lives is unknown (give --profile, or --host and --scheduler)"
        )
    cluster = session.submitor(dest).target
    record = _attempt(session, given)
    streams = _streams(args)
    logs = _logs_for(cluster, record, streams)
    if not logs:
        raise CliError(f"job {record.job_id} has no {' or '.join(streams)} path recorded")
    for log in logs:
        if args.tail is not None:
            log.emit(log.tail(args.tail))
        elif not args.follow:
            log.emit(log.read_from(0))
        log.emit(b"", final=True)
    if not args.follow:
        missing = [log.path for log in logs if log.missing]
        if missing:
            where = dest.where
            raise CliError(
                f"{', '.join(missing)} does not exist on {where}"
                + (" (the job has not started yet)" if not record.started_at and not record.state.is_terminal else "")
            )
        return EXIT_OK
    return _follow(session, given, record, logs, args, cluster)


def _follow(
    session: Session, given: JobRecord, record: JobRecord, logs: list[_Log], args: Any, cluster: Cluster
) -> int:
    """Print new bytes as they arrive; stop once the job settled and nothing new came."""

    interval = args.interval or (1.0 if cluster.is_remote else 0.2)
    # Polling the scheduler is dearer than reading a file: do it less often.
    refresh_every = 5.0 if cluster.is_remote else 0.5
    last_refresh = 0.0
    store = session.store
    done = False
    while True:
        got = False
        for log in logs:
            data = log.read_from(log.offset)
            if data:
                log.offset += len(data)
                log.emit(data)
                got = True
        if done and not got:
            for log in logs:
                log.emit(b"", final=True)
            return EXIT_OK if record.state.value == "succeeded" else EXIT_FAILED
        if time.monotonic() - last_refresh >= refresh_every:
            last_refresh = time.monotonic()
            note = session.refresh_for(record)
            if note:
                sys.stderr.write(f"molq: warning: {note}\n")
        current = store.get_record(record.job_id) or record
        if given.attempt == 1:
            newest = store.get_latest_attempt_record(given.job_id) or current
            if newest.job_id != current.job_id:
                # A retry started: finish this attempt's output, then follow the new one.
                for log in logs:
                    log.emit(log.read_from(log.offset), final=True)
                sys.stderr.write(f"--- attempt {newest.attempt} ({newest.job_id}) ---\n")
                record, logs = newest, _logs_for(cluster, newest, _streams(args))
                continue
        record = current
        if record.settled:
            done = True  # one more read picks up the last bytes written
            continue
        time.sleep(interval)
