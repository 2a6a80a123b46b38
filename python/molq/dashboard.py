"""A full-screen dashboard of jobs, for programs: ``RunDashboard().watch(data_fn)``.

``data_fn`` returns a ``DashboardState`` (already formatted rows) on every
refresh; the dashboard draws it with molq's live view (the terminal session
of ``molq watch``/``molq monitor``: ``molq.cli._terminal.Screen``, its header,
progress bar, table layout and colours), and adds what a program's own view
needs: a selected row and a detail view with the job's dependencies.

Keys: up/down select, Enter opens (and closes) the detail view, Esc goes back
to the list, q or Ctrl-C closes the dashboard; the jobs keep running.

``MolqMonitor`` is that dashboard over molq's job store, every cluster at once.

Nothing here imports rich. Each ``_render*`` part is a plain-text frame that
``str()`` gives as text and that a rich ``Console`` can print directly.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from molq.status import JobState

if TYPE_CHECKING:
    from molq.store import JobStore

__all__ = ["DashboardState", "DependencyLine", "JobRow", "MolqMonitor", "RunDashboard"]


@dataclass(frozen=True)
class DependencyLine:
    """One upstream or downstream job in the detail view."""

    marker: str
    job_id: str
    dependency_type: str
    job_state: str
    scheduler_dependency: str | None = None


@dataclass(frozen=True)
class JobRow:
    """One job as the dashboard shows it (every field already text).

    ``extras`` are (label, value) pairs shown only in the detail view.
    """

    state: str
    run_id: str
    cluster: str | None = None
    scheduler_id: str | None = None
    elapsed: str | None = None
    message: str | None = None
    dependency_summary: str | None = None
    upstream: tuple[DependencyLine, ...] = ()
    downstream: tuple[DependencyLine, ...] = ()
    extras: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DashboardState:
    """What one refresh shows. ``overall_status``: running, pending, done, failed or mixed."""

    title: str
    overall_status: str
    total: int
    running: int
    pending: int
    done: int
    failed: int
    updated_at: str
    jobs: tuple[JobRow, ...] = ()


# -- navigation ------------------------------------------------------------------------------
class _UIState:
    """The selected row and whether its detail is open (shared by the key loop and drawing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._selected = 0
        self._detail = False
        self._total = 0

    @property
    def selected(self) -> int:
        return self._selected

    @property
    def detail(self) -> bool:
        return self._detail

    def move_up(self) -> None:
        with self._lock:
            self._selected = max(0, self._selected - 1)

    def move_down(self) -> None:
        with self._lock:
            self._selected = max(0, min(self._total - 1, self._selected + 1))

    def toggle_detail(self) -> None:
        with self._lock:
            self._detail = not self._detail and self._total > 0

    def exit_detail(self) -> None:
        with self._lock:
            self._detail = False

    def update_total(self, total: int) -> None:
        with self._lock:
            self._total = max(0, total)
            if self._total == 0:
                self._selected, self._detail = 0, False
            else:
                self._selected = min(self._selected, self._total - 1)


# -- frames ------------------------------------------------------------------------------------
Line = tuple[str, "str | None"]  # text (ANSI already in it when drawn in colour), style name


class _Frame:
    """Lines built for a width: ``str()`` gives them at 100 columns; rich prints them at its width."""

    def __init__(self, build: Callable[[int, int, bool], list[Line]]) -> None:
        self._build = build

    def lines(self, width: int, height: int = 1000, color: bool = False) -> list[Line]:
        return self._build(max(width, 20), max(height, 3), color)

    def __str__(self) -> str:
        return "\n".join(text for text, _ in self.lines(100))

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.text import Text  # type: ignore[import-not-found, unused-ignore]  # only when rich prints this

        height = options.height or console.height
        for text, style in self.lines(options.max_width, height):
            yield Text(text, style=style or "", no_wrap=True, overflow="ellipsis")


_ICON = {"running": ">", "pending": ".", "done": "+", "failed": "x", "mixed": "~"}
_OVERALL_STYLE = {"running": "cyan", "pending": "yellow", "done": "green", "failed": "red", "mixed": "yellow"}
_LIST_HINT = "q quit   up/down navigate   enter open detail"
_DETAIL_HINT = "q quit   up/down prev/next job   enter/esc back to list"


def _styled(text: str, name: str | None, color: bool) -> str:
    from molq.cli._output import style  # deferred: molq.cli loads only when the dashboard draws

    return style(text, name, color)


def _header(state: DashboardState, width: int, color: bool) -> list[Line]:
    from molq.cli._output import fit  # deferred: molq.cli loads only when the dashboard draws

    status = state.overall_status
    left = f"{_ICON.get(status, '.')} {state.title}  [{status.upper()}]"
    right = f"updated {state.updated_at}"
    gap = width - len(left) - len(right)
    text = fit(left + " " * gap + right if gap >= 1 else left, width)
    return [(_styled(text, "bold", color), "bold")]


def _overview(state: DashboardState, width: int, unicode: bool, color: bool) -> list[Line]:
    from molq.cli._output import fit  # deferred: molq.cli loads only when the dashboard draws
    from molq.cli.live import _bar  # deferred: molq.cli loads only when the dashboard draws

    counts = (
        f"{state.total} total   {state.running} running   {state.pending} pending   "
        f"{state.done} done   {state.failed} failed"
    )
    finished = state.done + state.failed
    percent = 0 if state.total <= 0 else min(100, 100 * finished // state.total)
    tail = f" {finished}/{state.total} finished {percent:3d}%"
    bar = _bar(min(finished, max(state.total, 0)), max(state.total, 0), max(0, width - len(tail) - 2), unicode)
    return [(fit(counts, width), None), (fit(f"[{bar}]{tail}", width), None)]


def _job_lines(state: DashboardState, selected: int, width: int, room: int, color: bool) -> list[Line]:
    """The job table, scrolled so the selected row is in view."""
    from molq.cli._output import STATE_STYLE, fit, table  # deferred: molq.cli loads only when the dashboard draws

    if not state.jobs:
        return [("  STATE      JOB ID", "bold"), ("  -          no jobs", "dim")]
    room = max(1, room - 1)  # the column header
    first = 0 if len(state.jobs) <= room else min(max(0, selected - room // 2), len(state.jobs) - room)
    shown = list(enumerate(state.jobs))[first : first + room]
    body = [
        (
            ">" if i == selected else " ",
            (job.state, STATE_STYLE.get(job.state.lower())),
            job.run_id,
            job.cluster or "-",
            job.scheduler_id or "-",
            job.elapsed or "-",
            job.dependency_summary or "-",
            job.message or "",
        )
        for i, job in shown
    ]
    lines = table(
        ("", "STATE", "JOB ID", "CLUSTER", "SCHED ID", "ELAPSED", "DEPS", "NOTE"), body, color=color, width=width
    )
    out: list[Line] = [(fit(lines[0], width), "bold")]
    for (i, _), text in zip(shown, lines[1:]):
        # the fixed columns alone may be wider than a narrow terminal
        out.append((fit(text, width), "bold" if i == selected else None))
    return out


def _detail_lines(job: JobRow, width: int, color: bool) -> list[Line]:
    from molq.cli._output import STATE_STYLE, fit  # deferred: molq.cli loads only when the dashboard draws

    out: list[Line] = [(f"Detail - {job.run_id}", "bold"), ("", None)]

    def row(label: str, value: str, style: str | None = None) -> None:
        plain = fit(f"{label:>14}   {value}", width)
        out.append((plain[:17] + _styled(plain[17:], style, color), style))

    row("state", job.state, STATE_STYLE.get(job.state.lower()))
    row("job id", job.run_id)
    for label, value in (("cluster", job.cluster), ("sched id", job.scheduler_id), ("elapsed", job.elapsed)):
        if value:
            row(label, value)
    if job.message:
        row("note", job.message, "red")
    if job.dependency_summary:
        row("deps", job.dependency_summary)
    for label, value in job.extras:
        row(label, value)
    for title, deps in (("upstream", job.upstream), ("downstream", job.downstream)):
        if deps:
            out.append(("", None))
            out.append((f"{title:>14}", "bold"))
            for dep in deps:
                text = f"{dep.marker} {dep.job_id}  {dep.dependency_type}  {dep.job_state}"
                if dep.scheduler_dependency:
                    text += f"  {dep.scheduler_dependency}"
                out.append((fit(" " * 17 + text, width), {"!": "red", "\u2713": "green"}.get(dep.marker)))
    return out


def _footer(detail: bool, width: int, color: bool) -> list[Line]:
    from molq.cli._output import fit  # deferred: molq.cli loads only when the dashboard draws

    text = fit(_DETAIL_HINT if detail else _LIST_HINT, width)
    return [(_styled(text, "dim", color), "dim")]


class RunDashboard:
    """Draws ``DashboardState`` snapshots full-screen until the user presses q."""

    def __init__(self, console: Any = None) -> None:
        #: A rich Console (or anything with ``file``) to draw on; default: stdout.
        self._console = console
        self._unicode = False

    @property
    def _out(self) -> Any:
        return getattr(self._console, "file", None) or sys.stdout

    # -- the parts of a frame (each printable by rich, or str()) ------------------------------
    def _render_header(self, state: DashboardState) -> _Frame:
        return _Frame(lambda width, height, color: _header(state, width, color))

    def _render_overview(self, state: DashboardState) -> _Frame:
        return _Frame(lambda width, height, color: _overview(state, width, self._unicode, color))

    def _render_jobs(self, state: DashboardState, selected: int) -> _Frame:
        return _Frame(lambda width, height, color: _job_lines(state, selected, width, height, color))

    def _render_detail(self, job: JobRow) -> _Frame:
        return _Frame(lambda width, height, color: _detail_lines(job, width, color))

    def _render_footer(self, detail: bool) -> _Frame:
        return _Frame(lambda width, height, color: _footer(detail, width, color))

    def _render(self, state: DashboardState, ui: _UIState) -> _Frame:
        selected, detail = ui.selected, ui.detail and bool(state.jobs)

        def build(width: int, height: int, color: bool) -> list[Line]:
            top = _header(state, width, color) + _overview(state, width, self._unicode, color) + [("", None)]
            room = max(1, height - len(top) - 1)
            if detail:
                main = _detail_lines(state.jobs[min(selected, len(state.jobs) - 1)], width, color)[:room]
            else:
                main = _job_lines(state, selected, width, room, color)
            main += [("", None)] * (room - len(main))
            return top + main + _footer(detail, width, color)

        return _Frame(build)

    # -- the loop ---------------------------------------------------------------------------------
    def watch(self, data_fn: Callable[[], DashboardState], *, refresh_interval: float = 2.0) -> None:
        """Show ``data_fn()`` and refresh it every ``refresh_interval`` seconds until q or Ctrl-C.

        Not on a terminal (a pipe, a log), it prints the list once instead.
        """
        from molq.cli import _output as out  # deferred: molq.cli loads only when the dashboard draws

        stream = self._out
        self._unicode = out.unicode_ok(stream)
        ui = _UIState()
        state = data_fn()
        ui.update_total(len(state.jobs))
        try:
            interactive = stream.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if not interactive:
            frame = self._render(state, ui).lines(out.terminal_width(stream) or 100, 10_000)
            stream.write("\n".join(text.rstrip() for text, _ in frame).rstrip() + "\n")
            stream.flush()
            return
        from molq.cli._terminal import Screen  # deferred: molq.cli loads only when the dashboard draws

        color = out.use_color(stream)
        try:
            with Screen(out=stream) as screen:
                refreshed = time.monotonic()
                while True:
                    width, height = screen.size()
                    screen.draw([text for text, _ in self._render(state, ui).lines(width, height, color)])
                    key = screen.key(min(0.25, max(0.0, refresh_interval - (time.monotonic() - refreshed))))
                    if key and self._handle_keys(key, ui):
                        return
                    if time.monotonic() - refreshed >= refresh_interval:
                        state = data_fn()
                        ui.update_total(len(state.jobs))
                        refreshed = time.monotonic()
        except KeyboardInterrupt:
            return  # Ctrl-C is how a dashboard is left; the screen is already restored

    @staticmethod
    def _handle_keys(keys: str, ui: _UIState) -> bool:
        """Apply what was typed; True to quit."""
        i = 0
        while i < len(keys):
            if keys.startswith(("\x1b[A", "\x1bOA"), i):
                ui.move_up()
                i += 3
            elif keys.startswith(("\x1b[B", "\x1bOB"), i):
                ui.move_down()
                i += 3
            elif keys[i] == "\x1b":
                ui.exit_detail()
                i += 1
            elif keys[i] in "qQ\x03":
                return True
            elif keys[i] in "\r\n":
                ui.toggle_detail()
                i += 1
            else:
                i += 1
        return False


# -- molq's store as a dashboard -----------------------------------------------------------------
def _elapsed_ts(submitted_at: float | None, finished_at: float | None = None) -> str | None:
    """``30s``, ``1m 35s``, ``3h 04m``: from ``submitted_at`` to ``finished_at`` (or now)."""
    if submitted_at is None:
        return None
    end = finished_at if finished_at else time.time()
    seconds = max(0, int(end - submitted_at))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _molq_overall_status(running: int, pending: int, failed: int, done: int) -> str:
    if running:
        return "running"
    if pending:
        return "pending"
    if failed:
        return "mixed" if done else "failed"
    return "done"


def _dependency_summary(preview: Any) -> str | None:
    """``1/3 ok`` (upstream satisfied/total), ``-> 2`` (downstream), ``2/2 +5`` (both)."""
    if preview is None:
        return None
    up, ok, down = preview.upstream_total, preview.upstream_satisfied, preview.downstream_total
    if up and down:
        return f"{ok}/{up} +{down}"
    if up:
        return f"{ok}/{up} ok"
    if down:
        return f"-> {down}"
    return None


def _dependency_marker(relation_state: str) -> str:
    return {"satisfied": "\u2713", "impossible": "!"}.get(relation_state, "\u00b7")


def _dependency_lines(items: Any, with_scheduler: bool) -> tuple[DependencyLine, ...]:
    return tuple(
        DependencyLine(
            marker=_dependency_marker(item.relation_state),
            job_id=item.job_id,
            dependency_type=item.dependency_type,
            job_state=item.job_state.value,
            scheduler_dependency=item.scheduler_dependency if with_scheduler else None,
        )
        for item in items
    )


class MolqMonitor:
    """The dashboard over molq's job store: the jobs of every cluster.

    ``db_path``: the store (default: molq's own, as ``molq`` uses);
    ``include_terminal``: finished jobs too; ``limit``: at most this many rows.
    """

    def __init__(
        self,
        db_path: str | None = None,
        *,
        include_terminal: bool = False,
        limit: int = 200,
        refresh_interval: float = 2.0,
    ) -> None:
        self._db_path = db_path
        self._include_terminal = include_terminal
        self._limit = limit
        self._refresh_interval = refresh_interval

    def watch(self) -> None:
        """Open the dashboard; returns when the user closes it."""
        from molq.store import JobStore, default_jobs_db_path  # deferred: molq.store loads only when used

        store = JobStore(self._db_path if self._db_path is not None else default_jobs_db_path())
        try:
            RunDashboard().watch(lambda: self._state(store), refresh_interval=self._refresh_interval)
        finally:
            store.close()

    def _state(self, store: JobStore) -> DashboardState:
        records = store.list_all_records(self._include_terminal, self._limit)
        previews = store.get_dependency_previews([r.job_id for r in records])
        rows: list[JobRow] = []
        running = pending = done = failed = 0
        for record in records:
            preview = previews.get(record.job_id)
            extras = [
                ("scheduler", record.scheduler),
                ("command", record.command_display),
                ("cwd", record.cwd),
                ("full id", record.job_id),
            ]
            if record.exit_code is not None:
                extras.append(("exit code", str(record.exit_code)))
            extras += [(key, str(value)) for key, value in (record.metadata or {}).items()]
            rows.append(
                JobRow(
                    state=record.state.value,
                    run_id=record.job_id[:16],
                    cluster=record.cluster_name,
                    scheduler_id=record.scheduler_job_id,
                    elapsed=_elapsed_ts(record.submitted_at, record.finished_at),
                    message=record.failure_reason,
                    dependency_summary=_dependency_summary(preview),
                    upstream=_dependency_lines(preview.upstream if preview else (), True),
                    downstream=_dependency_lines(preview.downstream if preview else (), False),
                    extras=tuple(extras),
                )
            )
            state = record.state
            if state is JobState.RUNNING:
                running += 1
            elif state is JobState.SUCCEEDED:
                done += 1
            elif state.is_terminal:
                failed += 1
            else:
                pending += 1
        return DashboardState(
            title="molq  [all jobs]" if self._include_terminal else "molq",
            overall_status=_molq_overall_status(running, pending, failed, done),
            total=len(rows),
            running=running,
            pending=pending,
            done=done,
            failed=failed,
            updated_at=time.strftime("%H:%M:%S"),
            jobs=tuple(rows),
        )
