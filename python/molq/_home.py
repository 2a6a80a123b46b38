"""molq's home directory and the default job store in it."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_jobs_db_path", "molq_home"]


def molq_home() -> Path:
    """molq's root directory: ``$MOLQ_HOME`` if set and non-empty, else ``~/.molq``."""
    root = os.environ.get("MOLQ_HOME")
    return Path(root).expanduser() if root else Path.home() / ".molq"


def default_jobs_db_path() -> Path:
    """``~/.molq/jobs.db``, or ``$MOLQ_HOME/jobs.db`` when MOLQ_HOME is set."""
    return molq_home() / "jobs.db"
