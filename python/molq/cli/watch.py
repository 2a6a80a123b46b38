"""watch, monitor and ``submit --wait``: follow jobs while refreshing them.

The view polls the scheduler itself (``refresh_jobs`` on each cluster with
active jobs, at the polling cadence), so it stays current with no daemon
running; the store is shared, so every other process sees the same states.
On a terminal it draws the full-screen live view; in a pipe it prints one
line per change.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from molq.cli import _output as out
from molq.cli._errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from molq.cli.live import LiveRow, LiveState, change_line, order, render, row_from_record, summary_line
from molq.errors import MolqTimeoutError
from molq.submitor import default_polling_strategy

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.cli._session import Session

#: Longest pause between two polls in a live view, by scheduler kind: local
#: checks cost milliseconds; batch schedulers are shared services.
_MAX_INTERVAL = {"local": 1.0}
_MAX_INTERVAL_BATCH = 5.0
#: Redraw at least this often so elapsed times tick between polls.
_REDRAW = 1.0


class Source:
    """Reads (and refreshes) the jobs a view shows.

    ``keys``: watched job ids, each followed to its newest attempt; None: the
    newest ``limit`` jobs of ``cluster`` (or of every cluster).
    """

    def __init__(
        self,
        session: Session,
        *,
        title: str,
        keys: list[str] | None = None,
        cluster: str | None = None,
        limit: int | None = None,
        refresh: bool = True,
        interval: float | None = None,
    ) -> None:
        self.session = session
        self.title = title
        self.keys = keys
        self.cluster = cluster
        self.limit = limit
        self.refresh = refresh
        self.fixed_interval = interval
        self._records: list[tuple[str, JobRecord]] = []

    def _read(self) -> list[tuple[str, JobRecord]]:
        store = self.session.store
        if self.keys is not None:
            pairs = []
            for key in self.keys:
                record = store.get_latest_attempt_record(key)
                if record is not None:
                    pairs.append((key, record))
            return pairs
        if self.cluster is None:
            records = store.list_all_records(True, self.limit)
        else:
            records = store.list_records(self.cluster, True, self.limit)
        from molq.cli._attempts import newest_attempts  # deferred: molq.cli._attempts loads only when used

        # A retried job is one row (its newest attempt; ATT says which), keyed by the job's id.
        return [(r.root_job_id or r.job_id, r) for r in newest_attempts(records)]

    def poll(self) -> tuple[LiveState, bool]:
        """Refresh the clusters with active jobs, read, and say whether all settled."""
        notes: list[str] = []
        if not self._records:
            self._records = self._read()
        if self.refresh:
            polled: set[str] = set()
            for _, record in self._records:
                if not record.settled and record.cluster_name not in polled:
                    polled.add(record.cluster_name)
                    note = self.session.refresh_for(record)
                    if note:
                        notes.append(note)
            if polled:
                self._records = self._read()
        rows = tuple(row_from_record(r, key) for key, r in self._records)
        now = time.time()
        state = LiveState(self.title, rows, now=now, updated_at=now, interval=self.interval(), notes=tuple(notes))
        settled = self.keys is not None and all(r.finished for r in rows)
        return state, settled

    def interval(self, elapsed: float | None = None, polls: int = 0) -> float:
        """Seconds to the next poll: brisk at first (a short job is seen ending
        quickly), then at most 1 s locally or 5 s on a batch scheduler."""
        if self.fixed_interval is not None:
            return self.fixed_interval
        kinds = {r.scheduler for _, r in self._records if not r.settled} or {"local"}
        cap = max(_MAX_INTERVAL.get(kind, _MAX_INTERVAL_BATCH) for kind in kinds)
        if elapsed is None:
            return cap

        kind = "local" if kinds == {"local"} else "slurm"
        return min(cap, default_polling_strategy(kind).next_interval(elapsed, polls))


def _drive(
    source: Source,
    *,
    until_settled: bool,
    timeout: float | None,
    show: Callable[[LiveState], None],
    pause: Callable[[LiveState, float], bool],
) -> tuple[LiveState, bool]:
    """Poll, show, pause; until every watched job settled (True) or the user quit (False)."""

    started = time.monotonic()
    polls = 0
    while True:
        state, settled = source.poll()
        polls += 1
        show(state)
        if until_settled and settled:
            return state, True
        elapsed = time.monotonic() - started
        wait = source.interval(elapsed, polls)
        if timeout is not None:
            remaining = timeout - elapsed
            if remaining <= 0:
                pending = [r for r in state.rows if not r.finished]
                listed = ", ".join(f"{r.job_id[:8]}={r.state}" for r in pending[:5])
                raise MolqTimeoutError(f"timed out after {timeout:g} s; still going: {listed}")
            wait = min(wait, remaining)
        if pause(state, wait):
            return state, False


# -- the three displays ---------------------------------------------------------------
def _run_screen(source: Source, *, until_settled: bool, timeout: float | None) -> tuple[LiveState, bool]:
    from molq.cli._terminal import Screen  # deferred: molq.cli._terminal loads only when used

    color, uni = out.use_color(), out.unicode_ok()
    with Screen() as screen:

        def show(state: LiveState) -> None:
            width, height = screen.size()
            screen.draw(render(replace(state, now=time.time()), width, height, color=color, unicode=uni))

        def pause(state: LiveState, seconds: float) -> bool:
            end = time.monotonic() + seconds
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                key = screen.key(min(left, _REDRAW))
                if key and key[0] in "qQ":
                    return True
                show(state)  # a tick (elapsed times), or a key/resize to answer

        return _drive(source, until_settled=until_settled, timeout=timeout, show=show, pause=pause)


def _run_plain(source: Source, *, until_settled: bool, timeout: float | None) -> tuple[LiveState, bool]:
    seen: dict[str, str] = {}
    last_notes: tuple[str, ...] = ()

    def show(state: LiveState) -> None:
        nonlocal last_notes
        for row in order(state.rows):
            label = f"{row.state}#{row.attempt}" if row.attempt > 1 else row.state
            if seen.get(row.key) != label:
                previous = seen.get(row.key, "").split("#")[0] or None
                sys.stdout.write(change_line(row, previous, state.now) + "\n")
                seen[row.key] = label
        sys.stdout.flush()
        if state.notes != last_notes:
            for note in state.notes:
                sys.stderr.write(f"molq: warning: {note}\n")
            last_notes = state.notes

    def pause(state: LiveState, seconds: float) -> bool:
        time.sleep(seconds)
        return False

    return _drive(source, until_settled=until_settled, timeout=timeout, show=show, pause=pause)


def _run_progress(source: Source, *, timeout: float | None) -> tuple[LiveState, bool]:
    """One job: a single self-updating status line on stderr."""
    stream = sys.stderr
    frames = "\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f" if out.unicode_ok(stream) else "|/-\\"
    tick = 0

    def show(state: LiveState) -> None:
        nonlocal tick
        row = state.rows[0] if state.rows else None
        if row is None:
            return
        took = out.duration(row.elapsed(time.time()))
        attempt = f" attempt {row.attempt}" if row.attempt > 1 else ""
        line = f"{frames[tick % len(frames)]} job {row.job_id[:8]}{attempt} {row.state} {took}"
        stream.write("\r" + out.style(line, out.STATE_STYLE.get(row.state), out.use_color(stream)) + "\x1b[K")
        stream.flush()
        tick += 1

    def pause(state: LiveState, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
            show(state)
        return False

    try:
        return _drive(source, until_settled=True, timeout=timeout, show=show, pause=pause)
    finally:
        stream.write("\r\x1b[K")
        stream.flush()


def _run_quiet(source: Source, *, timeout: float | None) -> tuple[LiveState, bool]:
    def pause(state: LiveState, seconds: float) -> bool:
        time.sleep(seconds)
        return False

    return _drive(source, until_settled=True, timeout=timeout, show=lambda s: None, pause=pause)


# -- commands ---------------------------------------------------------------------------
def _final_table(rows: tuple[LiveRow, ...]) -> None:
    color = out.use_color()
    now = time.time()
    body = [
        (
            r.job_id[:8],
            r.cluster,
            (r.state, out.STATE_STYLE.get(r.state)),
            str(r.attempt),
            out.duration(r.elapsed(now)),
            r.note or "-",
            r.command,
        )
        for r in order(rows)
    ]
    out.print_lines(
        out.table(
            ("JOB ID", "CLUSTER", "STATE", "ATT", "ELAPSED", "NOTE", "COMMAND"),
            body,
            color=color,
            width=out.terminal_width(),
        )
    )


def wait_and_report(
    session: Session,
    keys: list[str],
    *,
    timeout: float | None,
    as_json: bool = False,
    quiet: bool = False,
    single: bool = True,
    plain: bool = False,
    interval: float | None = None,
    interrupt_hint: bool = False,
) -> int:
    """Follow ``keys`` until they settle; 0 if every one succeeded, else 1.
    ``interrupt_hint``: on Ctrl-C, say the jobs go on and how to cancel them."""
    if not interrupt_hint:
        return _wait_and_report(
            session, keys, timeout=timeout, as_json=as_json, quiet=quiet, single=single, plain=plain, interval=interval
        )
    try:
        return _wait_and_report(
            session, keys, timeout=timeout, as_json=as_json, quiet=quiet, single=single, plain=plain, interval=interval
        )
    except KeyboardInterrupt:
        ids = " ".join(keys)
        sys.stderr.write(
            f"\nmolq: interrupted; stopped waiting, but job {ids} is still running "
            f"(it was not cancelled).\n  molq cancel {ids}   cancels it\n"
            f"  molq watch {ids}    waits for it again\n"
        )
        sys.stderr.flush()
        return EXIT_INTERRUPTED


def _wait_and_report(
    session: Session,
    keys: list[str],
    *,
    timeout: float | None,
    as_json: bool,
    quiet: bool,
    single: bool,
    plain: bool,
    interval: float | None,
) -> int:
    source = Source(session, title="watch", keys=keys, interval=interval)
    if quiet:
        print(keys[0] if single else "\n".join(keys))
        sys.stdout.flush()
    if as_json or quiet:
        state, _ = _run_quiet(source, timeout=timeout)
    elif len(keys) == 1 and sys.stderr.isatty() and not plain:
        state, _ = _run_progress(source, timeout=timeout)
    elif sys.stdout.isatty() and not plain:
        state, settled = _run_screen(source, until_settled=True, timeout=timeout)
        if not settled:
            return EXIT_OK  # q: the person stopped watching; the jobs go on
    else:
        state, _ = _run_plain(source, until_settled=True, timeout=timeout)
    store = session.store
    records = [store.get_record(r.job_id) for r in state.rows]
    if as_json:
        items = [out.record_json(r) for r in records if r is not None]
        out.print_json(items[0] if single and items else items)
    elif not quiet:
        if len(state.rows) == 1:
            r = state.rows[0]
            exit_part = f", {r.note}" if r.note else ""
            print(f"Job {r.job_id} {r.state}{exit_part} ({out.duration(r.elapsed(time.time()))})")
        else:
            _final_table(state.rows)
            print(summary_line(state.rows))
    return EXIT_OK if all(r.state == "succeeded" for r in state.rows) else EXIT_FAILED


def cmd_watch(session: Session, args: Any) -> int:
    if args.all and args.jobs:
        raise UsageError("give job ids or --all, not both")
    if args.all:
        store = session.store
        if session.explicit:
            active = store.list_records(session.destination().name, False)
        else:
            active = store.list_all_records(False)
        keys = [r.job_id for r in active]
        if not keys:
            if args.json:
                out.print_json([])
            else:
                print("No active jobs.")
            return EXIT_OK
    elif args.jobs:
        keys = [session.find(text).job_id for text in args.jobs]
    else:
        raise UsageError("give job ids to watch, or --all")
    return wait_and_report(
        session, keys, timeout=args.timeout, as_json=args.json, single=False, plain=args.plain, interval=args.interval
    )


def cmd_monitor(session: Session, args: Any) -> int:
    cluster = session.destination().name if session.explicit else None
    where = f"cluster {cluster}" if cluster else "all clusters"
    source = Source(
        session,
        title=f"monitor - {where}",
        cluster=cluster,
        limit=args.limit,
        refresh=not args.no_refresh,
        interval=args.interval,
    )
    if sys.stdout.isatty() and not args.plain:
        try:
            _run_screen(source, until_settled=False, timeout=None)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a monitor is left: the screen is already restored
        return EXIT_OK
    _run_plain(source, until_settled=False, timeout=None)
    return EXIT_OK
