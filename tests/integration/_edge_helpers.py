"""Helpers the scheduler edge-case tests share (Slurm and Grid Engine)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def wrapper(tmp_path: Path, name: str, body: str) -> str:
    """An executable bash script named after ``name``, standing in for it."""
    path = tmp_path / f"{name}-wrapper"
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o700)
    return str(path)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Whether ``condition`` holds within ``timeout`` s (asked every 0.3 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()
