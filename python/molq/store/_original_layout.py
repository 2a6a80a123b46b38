"""Why a file of the original molq could not be opened, read without writing.

The native store refuses a file it did not create before writing anything.
For a store of the original molq this says more: a schema version newer than
any release of the original reached, a version that is not a number, or the
original's first layout (``jobs(section, job_id, status)``, molq < 0.4),
which held nothing worth keeping and which the original itself set aside as
``<name>.v1.bak``.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from molq._log import get_logger
from molq.errors import StoreError

__all__ = ["ORIGINAL_SCHEMA_VERSION", "explain_refusal", "is_first_layout", "set_aside_first_layout"]

#: The newest schema the original molq wrote (its 0.8 releases).
ORIGINAL_SCHEMA_VERSION = 8


def _read_only(path: str):  # type: ignore[no-untyped-def]
    import sqlite3  # deferred: sqlite3 only when a store file is opened

    return sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)


def _layout(path: str) -> tuple[set[str], str | None, set[str]]:
    """(table names, molq_meta schema_version or None, columns of jobs)."""
    import sqlite3  # deferred: sqlite3 only when a store file is opened

    try:
        conn = _read_only(path)
    except sqlite3.Error:
        return set(), None, set()
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = None
        if "molq_meta" in tables:
            row = conn.execute("SELECT value FROM molq_meta WHERE key = 'schema_version'").fetchone()
            version = None if row is None else str(row[0])
        columns = {r[1] for r in conn.execute("PRAGMA table_info(jobs)")} if "jobs" in tables else set()
        return tables, version, columns
    except sqlite3.Error:
        return set(), None, set()
    finally:
        conn.close()


def is_first_layout(path: str) -> bool:
    """A store of the original molq's first releases: ``jobs`` keyed by
    section, no ``molq_meta``."""
    tables, _, columns = _layout(path)
    return "molq_meta" not in tables and {"section", "job_id", "status"} <= columns and "cluster_name" not in columns


def explain_refusal(path: str, refusal: StoreError) -> StoreError | None:
    """A clearer error for an original store the native store refused, or None."""
    tables, version, _ = _layout(path)
    if "molq_meta" not in tables or version is None:
        return None
    if not version.strip().isdigit():
        return StoreError(
            f"job store {path}: Unknown schema version {version!r} in its molq_meta table "
            "(a store of the original molq?); it was left untouched",
            path=path,
        )
    if int(version) > ORIGINAL_SCHEMA_VERSION:
        return StoreError(
            f"job store {path} was written by a newer release of the original molq: "
            f"its schema version {int(version)} is newer than supported (up to "
            f"{ORIGINAL_SCHEMA_VERSION}); it was left untouched",
            path=path,
        )
    return None


def set_aside_first_layout(path: str) -> str:
    """Rename a first-layout store (and its -wal/-shm) to ``<path>.v1.bak``, as
    the original molq did, so a new store can take its place. Refuses to
    overwrite an earlier backup."""
    backup = path + ".v1.bak"
    if os.path.lexists(backup):
        raise StoreError(
            f"job store {path} has the original molq's first layout and {backup} already exists; "
            "move one of them aside",
            path=path,
        )
    os.rename(path, backup)
    for suffix in ("-wal", "-shm"):
        if os.path.lexists(path + suffix):
            os.rename(path + suffix, backup + suffix)
    get_logger(__name__).warning(
        "job store %s had the original molq's first layout; it was kept as %s and a new store was created",
        path,
        backup,
    )
    return backup
