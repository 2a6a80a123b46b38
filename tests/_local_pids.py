"""The wrapper pid of a local job: its session and process group leader.

A local job's scheduler id is its number in the slot directory, not a pid;
tests that look at the job's processes read the wrapper's ``.pid``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def wrapper_pid(job_dir: str | Path, read_text: Callable[[str], str] | None = None, timeout: float = 10) -> int:
    """The pid the job's wrapper recorded, waiting up to ``timeout`` for it; 0 if it never started."""
    read = read_text or (lambda path: Path(path).read_text())
    deadline = time.monotonic() + timeout
    while True:
        try:
            return int(read(f"{job_dir}/.pid").split()[0])
        except (OSError, ValueError, IndexError):
            if time.monotonic() > deadline:
                return 0
            time.sleep(0.02)
