"""Printing for people (aligned tables, ANSI colour on a terminal) and for
scripts (JSON with the fields documented in docs/cli.md)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from molq._core import JobRecord, QueueEntry, StatusTransition

_RESET = "\x1b[0m"
_STYLES = {
    "green": "\x1b[32m",
    "red": "\x1b[31m",
    "yellow": "\x1b[33m",
    "cyan": "\x1b[36m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
}
STATE_STYLE = {
    "running": "green",
    "succeeded": "green",
    "failed": "red",
    "lost": "red",
    "timed_out": "yellow",
    "out_of_memory": "red",
    "cancelled": "yellow",
    "queued": "cyan",
    "submitted": "cyan",
    "created": "cyan",
}


def use_color(stream: Any = None) -> bool:
    """Colour only for a person: a terminal, NO_COLOR unset, TERM not dumb."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def unicode_ok(stream: Any = None) -> bool:
    encoding = getattr(stream or sys.stdout, "encoding", None) or ""
    return encoding.lower().replace("-", "") in ("utf8", "utf8sig")


def style(text: str, name: str | None, color: bool) -> str:
    if not color or not name or not text:
        return text
    return f"{_STYLES[name]}{text}{_RESET}"


def state_text(state: Any, color: bool) -> str:
    value = str(getattr(state, "value", state))
    return style(value, STATE_STYLE.get(value), color)


# -- times -------------------------------------------------------------------------
def duration(seconds: float | None) -> str:
    """``45s``, ``3m05s``, ``2h03m``, ``1d04h`` (``-`` when unknown)."""
    if seconds is None or seconds < 0:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def timestamp(value: float | None, *, short: bool = False) -> str:
    """Local time; ``short`` drops the date for today's times."""
    if value is None:
        return "-"
    local = time.localtime(value)
    if short and time.strftime("%Y-%m-%d", local) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%Y-%m-%d %H:%M:%S", local)


def elapsed(record: JobRecord, now: float | None = None) -> float | None:
    """Run time so far (or in total); waiting time for a job not started yet."""
    now = time.time() if now is None else now
    start = record.started_at or record.submitted_at
    if start is None:
        return None
    if record.finished_at is not None:
        return max(0.0, record.finished_at - start)
    return None if record.state.is_terminal else max(0.0, now - start)


def exit_text(record: JobRecord) -> str:
    if record.exit_signal:
        return (
            f"sig{record.exit_signal}"
            if record.exit_code in (None, 0)
            else f"{record.exit_code}/sig{record.exit_signal}"
        )
    return "-" if record.exit_code is None else str(record.exit_code)


# -- tables ------------------------------------------------------------------------
def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    color: bool,
    width: int | None = None,
) -> list[str]:
    """Aligned columns. A cell is text, or (text, style). The last column is
    cut to fit ``width`` (when given); others keep their width."""
    plain: list[list[str]] = []
    styles: list[list[str | None]] = []
    for row in rows:
        texts, names = [], []
        for cell in row:
            text, name = cell if isinstance(cell, tuple) else (cell, None)
            texts.append("" if text is None else one_line(str(text)))
            names.append(name)
        plain.append(texts)
        styles.append(names)
    widths = [len(h) for h in headers]
    for texts in plain:
        for i, text in enumerate(texts):
            widths[i] = max(widths[i], len(text))
    if width is not None and len(widths) > 1:
        fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
        widths[-1] = max(8, min(widths[-1], width - fixed))
    out = ["  ".join(style(h.ljust(w), "bold", color) for h, w in zip(headers, widths)).rstrip()]
    for texts, names in zip(plain, styles):
        cells = []
        for i, (text, name) in enumerate(zip(texts, names)):
            text = fit(text, widths[i])
            cells.append(style(text, name, color) + " " * (widths[i] - len(text)))
        out.append("  ".join(cells).rstrip())
    return out


_BREAKS = frozenset(chr(c) for c in (*range(32), 127, 0x85, 0x2028, 0x2029))


def one_line(text: str) -> str:
    """``text`` as one line: a command with a newline, a tab or another control
    character is shown quoted with escapes (``'echo a\\necho b'``), so it can never
    break a table or a line; other text is unchanged."""
    if not any(ch in _BREAKS for ch in text):
        return text
    return repr(text)


def fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(0, width - 3)] + "..." if width > 3 else text[:width]


def terminal_width(stream: Any = None) -> int | None:
    """The terminal's width when printing to one (tables are not cut in a pipe)."""
    stream = stream or sys.stdout
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


def print_lines(lines: Iterable[str]) -> None:
    out = sys.stdout
    for line in lines:
        out.write(line + "\n")
    out.flush()


# -- JSON --------------------------------------------------------------------------
def record_json(record: JobRecord) -> dict[str, Any]:
    """One job as docs/cli.md documents it (field order is stable too)."""
    meta = record.metadata
    return {
        "job_id": record.job_id,
        "cluster": record.cluster_name,
        "scheduler": record.scheduler,
        "state": record.state.value,
        "terminal": record.state.is_terminal,
        "scheduler_job_id": record.scheduler_job_id,
        "attempt": record.attempt,
        "root_job_id": record.root_job_id,
        "previous_attempt_job_id": record.previous_attempt_job_id,
        "command": record.command_display,
        "command_type": record.command_type,
        "cwd": record.cwd,
        "job_dir": record.job_dir or None,
        "stdout_path": meta.get("molq.stdout_path"),
        "stderr_path": meta.get("molq.stderr_path"),
        "submitted_at": record.submitted_at,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "exit_code": record.exit_code,
        "exit_signal": record.exit_signal,
        "failure_reason": record.failure_reason,
        "retry_state": record.retry_state,
        "retry_due_at": record.retry_due_at,
        "profile": record.profile_name,
        "metadata": {k: v for k, v in meta.items() if not k.startswith("molq.")},
    }


def transition_json(t: StatusTransition) -> dict[str, Any]:
    return {
        "job_id": t.job_id,
        "old_state": None if t.old_state is None else t.old_state.value,
        "new_state": t.new_state.value,
        "timestamp": t.timestamp,
        "reason": t.reason,
    }


def queue_json(entry: QueueEntry, job_id: str | None) -> dict[str, Any]:
    return {
        "scheduler_job_id": entry.scheduler_job_id,
        "job_id": job_id,
        "name": entry.name,
        "user": entry.user,
        "state": entry.state.value,
        "raw_state": entry.raw_state,
        "partition": entry.partition,
        "submit_time": entry.submit_time,
        "start_time": entry.start_time,
    }


def print_json(value: Any) -> None:
    import json  # deferred: json only when JSON is read or written

    sys.stdout.write(json.dumps(value, indent=2) + "\n")
    sys.stdout.flush()
