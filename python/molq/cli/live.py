"""The live view as pure functions: a ``LiveState`` in, lines of text out.

Nothing here touches the terminal, the clock or the store, so every frame
can be tested by value. ``molq.cli.watch`` feeds it and ``_terminal`` draws it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from molq.cli._output import STATE_STYLE, duration, fit, one_line, style

if TYPE_CHECKING:
    from molq._core import JobRecord

__all__ = [
    "LiveRow",
    "LiveState",
    "Counts",
    "row_from_record",
    "count",
    "order",
    "render",
    "change_line",
    "summary_line",
]

#: Failures sort first: they are what a person must act on.
_GROUP = {
    "failed": 0,
    "timed_out": 0,
    "out_of_memory": 0,
    "lost": 0,
    "cancelled": 1,
    "running": 2,
    "queued": 3,
    "submitted": 3,
    "created": 3,
    "succeeded": 4,
}
_FAILED = ("failed", "timed_out", "out_of_memory", "lost")
_PENDING = ("created", "submitted", "queued")
_TERMINAL = ("succeeded", "failed", "cancelled", "timed_out", "out_of_memory", "lost")


@dataclass(frozen=True)
class LiveRow:
    """One job as shown. ``key`` stays the same across retries of a watched job."""

    key: str
    job_id: str
    cluster: str
    state: str
    scheduler_job_id: str | None = None
    attempt: int = 1
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    command: str = ""
    note: str = ""
    #: A terminal attempt that will be retried is not finished yet.
    retry_pending: bool = False

    @property
    def finished(self) -> bool:
        return self.state in _TERMINAL and not self.retry_pending

    def elapsed(self, now: float) -> float | None:
        start = self.started_at or self.submitted_at
        if start is None:
            return None
        if self.finished_at is not None:
            return max(0.0, self.finished_at - start)
        return None if self.state in _TERMINAL else max(0.0, now - start)


@dataclass(frozen=True)
class LiveState:
    title: str
    rows: tuple[LiveRow, ...]
    now: float
    updated_at: float
    interval: float = 1.0
    notes: tuple[str, ...] = ()
    hint: str = "q quit"


@dataclass(frozen=True)
class Counts:
    total: int = 0
    running: int = 0
    pending: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    finished: int = 0


def row_from_record(record: JobRecord, key: str | None = None) -> LiveRow:
    state = record.state.value
    note = ""
    if state in _FAILED or state == "cancelled":
        # The failure reason already names the exit code when there is one.
        if record.failure_reason:
            note = record.failure_reason
        elif record.exit_signal:
            note = f"signal {record.exit_signal}"
        elif record.exit_code:
            note = f"exit {record.exit_code}"
    retry_pending = record.state.is_terminal and not record.settled
    if retry_pending:
        note = (note + "; " if note else "") + "retry pending"
    return LiveRow(
        key=key or record.job_id,
        job_id=record.job_id,
        cluster=record.cluster_name,
        state=state,
        scheduler_job_id=record.scheduler_job_id,
        attempt=record.attempt,
        submitted_at=record.submitted_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        command=one_line(record.command_display),
        note=one_line(note),
        retry_pending=retry_pending,
    )


def count(rows: Sequence[LiveRow]) -> Counts:
    running = sum(r.state == "running" for r in rows)
    pending = sum(r.state in _PENDING or r.retry_pending for r in rows)
    return Counts(
        total=len(rows),
        running=running,
        pending=pending,
        succeeded=sum(r.state == "succeeded" for r in rows),
        failed=sum(r.state in _FAILED and not r.retry_pending for r in rows),
        cancelled=sum(r.state == "cancelled" and not r.retry_pending for r in rows),
        finished=sum(r.finished for r in rows),
    )


def order(rows: Sequence[LiveRow]) -> list[LiveRow]:
    """Failures, then cancelled, running, pending, succeeded; newest first within each."""
    return sorted(rows, key=lambda r: (_GROUP.get(r.state, 5), -(r.submitted_at or 0.0), r.job_id))


def _bar(done: int, total: int, width: int, unicode: bool) -> str:
    full, empty = ("\u2588", "\u2591") if unicode else ("#", "-")
    filled = 0 if total == 0 else round(width * done / total)
    return full * filled + empty * (width - filled)


def _pad(text: str, width: int) -> str:
    return fit(text, width).ljust(width)


def render(state: LiveState, width: int, height: int, *, color: bool = False, unicode: bool = False) -> list[str]:
    """The frame for a ``width`` x ``height`` terminal: at most ``height``
    lines, none longer than ``width`` characters (ANSI codes not counted)."""
    width, height = max(width, 20), max(height, 3)
    c = count(state.rows)
    lines: list[tuple[str, str | None]] = []  # (text already cut to width, style)

    stamp = time.strftime("%H:%M:%S", time.localtime(state.updated_at))
    left, right = f"molq {state.title}", f"updated {stamp}"
    gap = width - len(left) - len(right)
    lines.append((fit(left + " " * gap + right if gap >= 1 else left, width), "bold"))
    summary = (
        f"{c.total} jobs   running {c.running}   pending {c.pending}   succeeded {c.succeeded}"
        f"   failed {c.failed}   cancelled {c.cancelled}"
    )
    lines.append((fit(summary, width), None))
    percent = 0 if c.total == 0 else 100 * c.finished // c.total
    tail = f" {c.finished}/{c.total} finished {percent:3d}%"
    bar_width = max(0, width - len(tail) - 2)
    lines.append((fit(f"[{_bar(c.finished, c.total, bar_width, unicode)}]{tail}", width), None))
    for note in state.notes[:2]:
        lines.append((fit(f"! {note}", width), "yellow"))
    lines.append(("", None))
    header_count = len(lines)

    ordered = order(state.rows)
    # As wide as "succeeded", or the longest state shown ("out_of_memory"), so no state is cut.
    state_w = max([9] + [len(r.state) for r in ordered])
    id_w = 8
    cluster_w = min(14, max([7] + [len(r.cluster) for r in ordered]))
    sched_w = min(12, max([8] + [len(r.scheduler_job_id or "-") for r in ordered]))
    fixed = state_w + id_w + cluster_w + sched_w + 7 + 3 + 6 * 2
    rest = max(0, width - fixed)
    head = "  ".join(
        [
            _pad("STATE", state_w),
            _pad("JOB ID", id_w),
            _pad("CLUSTER", cluster_w),
            _pad("SCHED ID", sched_w),
            _pad("ELAPSED", 7),
            _pad("ATT", 3),
            "COMMAND / NOTE",
        ]
    )
    lines.append((fit(head, width), "bold"))

    room = height - header_count - 2  # the column header and the footer
    shown = ordered if len(ordered) <= room else ordered[: max(0, room - 1)]
    body: list[str] = []
    for r in shown:
        text = f"[{r.note}] {r.command}" if r.note else r.command
        cells = [
            _pad(r.state, state_w),
            r.key[:id_w].ljust(id_w),  # the job's id: a retried job keeps its row
            _pad(r.cluster, cluster_w),
            _pad(r.scheduler_job_id or "-", sched_w),
            _pad(duration(r.elapsed(state.now)), 7),
            _pad(str(r.attempt), 3),
            fit(text, rest),
        ]
        plain = fit("  ".join(cells).rstrip(), width)
        if color and plain.startswith(cells[0]):
            plain = style(cells[0], STATE_STYLE.get(r.state), True) + plain[len(cells[0]) :]
        body.append(plain)
    if len(shown) < len(ordered):
        hidden = ordered[len(shown) :]
        hc = count(hidden)
        body.append(
            fit(
                f"... {len(hidden)} more ({hc.running} running, {hc.pending} pending, "
                f"{hc.succeeded} succeeded, {hc.failed} failed)",
                width,
            )
        )

    frame = [style(text, name, color) for text, name in lines]
    frame += body
    footer = f"{state.hint}   refresh every {state.interval:g}s"
    frame.append(style(fit(footer, width), "dim", color))
    return frame[:height]


def change_line(row: LiveRow, previous: str | None, now: float) -> str:
    """One line for a pipe: ``12:00:01  1a2b3c4d  local  running -> succeeded  (exit 0)``."""
    stamp = time.strftime("%H:%M:%S", time.localtime(now))
    move = row.state if previous is None else f"{previous} -> {row.state}"
    extra = []
    if row.attempt > 1:
        extra.append(f"attempt {row.attempt}")
    if row.note:
        extra.append(row.note)
    tail = f"  ({'; '.join(extra)})" if extra else ""
    return f"{stamp}  {row.key[:8]}  {row.cluster}  {move}{tail}"


def summary_line(rows: Sequence[LiveRow]) -> str:
    c = count(rows)
    parts = [f"{c.succeeded} succeeded"]
    if c.failed:
        parts.append(f"{c.failed} failed")
    if c.cancelled:
        parts.append(f"{c.cancelled} cancelled")
    if c.total - c.finished:
        parts.append(f"{c.total - c.finished} not finished")
    return f"{c.total} job{'s' if c.total != 1 else ''}: " + ", ".join(parts)
