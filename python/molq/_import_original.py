"""Bring the original molq's job store (``molcrafts-molq``) into molq's own.

The original keeps its store at ``<MOLCRAFTS_HOME or ~/.molcrafts>/molq/config/jobs.db``
(0.5 and later; 0.4 kept it at ``~/.molq/jobs.db``). When molq's default store
does not exist yet and the original's does, the first open imports it: every
job, transition, dependency and remembered allocation, ids unchanged, in one
transaction (the native core does the copying). The original file is opened
read-only and left exactly as it was, so the original molq can still use it.

The new store is built under a temporary name and linked into place only when
complete, so a failed or interrupted import leaves no half-filled store, and
two processes opening molq for the first time at once cannot import twice.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from molq import _core
from molq._home import default_jobs_db_path
from molq.errors import StoreError

__all__ = [
    "ImportSummary",
    "adopt_original_in_place",
    "adopt_original_store",
    "import_original_store",
    "original_store_path",
]


def original_store_path() -> Path:
    """Where the original molq 0.5+ keeps its store (``MOLCRAFTS_HOME`` moves it)."""
    from molq.config import molcrafts_config_dir  # deferred: molq.config loads only when used

    return molcrafts_config_dir() / "jobs.db"


@dataclass(frozen=True)
class ImportSummary:
    """What one import copied from the original's store, and what it skipped."""

    source: str
    target: str
    source_schema: int
    jobs: int
    transitions: int
    dependencies: int
    allocations: int
    duplicate_jobs: int
    duplicate_allocations: int
    orphans: int
    active_jobs: tuple[str, ...]
    unknown_states: tuple[str, ...]

    def describe(self) -> list[str]:
        """Human-readable lines (the CLI prints them)."""
        lines = [
            f"imported from {self.source} (original molq store, schema {self.source_schema}) into {self.target}:",
            f"  jobs          {self.jobs}",
            f"  transitions   {self.transitions}",
            f"  dependencies  {self.dependencies}",
            f"  allocations   {self.allocations}",
        ]
        if self.duplicate_jobs or self.duplicate_allocations:
            lines.append(
                f"skipped, already in molq's store: {self.duplicate_jobs} jobs (with their transitions "
                f"and dependencies), {self.duplicate_allocations} allocations"
            )
        if self.orphans:
            lines.append(f"skipped: {self.orphans} transitions or dependencies of jobs the store no longer has")
        if self.unknown_states:
            lines.append(f"{_jobs(len(self.unknown_states))} had a state molq does not know: marked lost")
        if self.active_jobs:
            lines.append(f"{_jobs(len(self.active_jobs))} still active: molq goes on tracking them")
        lines.append("the original store was left unchanged")
        return lines

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["active_jobs"] = list(self.active_jobs)
        out["unknown_states"] = list(self.unknown_states)
        return out


def _jobs(n: int) -> str:
    return f"{n} job" if n == 1 else f"{n} jobs"


def _summary(source: str, target: str, counts: dict[str, Any]) -> ImportSummary:
    return ImportSummary(
        source=source,
        target=target,
        source_schema=int(counts["source_schema"]),
        jobs=int(counts["jobs"]),
        transitions=int(counts["transitions"]),
        dependencies=int(counts["dependencies"]),
        allocations=int(counts["allocations"]),
        duplicate_jobs=int(counts["duplicate_jobs"]),
        duplicate_allocations=int(counts["duplicate_allocations"]),
        orphans=int(counts["orphans"]),
        active_jobs=tuple(counts["active_jobs"]),
        unknown_states=tuple(counts["unknown_states"]),
    )


def _resolve(path: str | os.PathLike[str]) -> str:
    return str(Path(os.path.expanduser(os.fspath(path))).resolve())


def import_original_store(
    source: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    *,
    busy_timeout: float = 30.0,
) -> ImportSummary:
    """Import the original molq's store at ``source`` into molq's store ``store``
    (default: molq's default store, created if needed), in one transaction.

    Jobs already in molq's store are skipped and counted, so running it again is
    harmless. Raises ``StoreError`` if ``source`` is not an original molq store,
    has a schema newer than 8, or stays locked longer than ``busy_timeout``.
    """
    src = _resolve(source)
    target = _resolve(store if store is not None else default_jobs_db_path())
    if src == target:
        # molq 0.4 kept its store at ~/.molq/jobs.db, molq's own path.
        src = _set_aside(src)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    counts = _core.import_original_store(target, src, time.time(), int(busy_timeout * 1000))
    return _summary(src, target, counts)


def _is_original_store(path: str) -> bool:
    """Read-only look: does ``path`` hold the original molq's ``molq_meta`` table?"""
    import sqlite3  # deferred: sqlite3 only when a store file is opened

    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'molq_meta'").fetchone()
        return row is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _set_aside(path: str) -> str:
    """Move the original's store out of molq's own path (bytes unchanged) and
    return where it went; refuse if it is molq's own store or still in use."""
    if not os.path.isfile(path) or not _is_original_store(path):
        raise StoreError(f"{path} is molq's own job store, not a store of the original molq", path=path)
    aside = f"{path}.original-molq"
    wal = f"{path}-wal"
    if os.path.exists(aside):
        raise StoreError(
            f"{path} is the original molq's store, but {aside} is already there; import from it", path=path
        )
    if os.path.exists(wal) and os.path.getsize(wal) > 0:
        raise StoreError(
            f"{path} is the original molq's store and is still in use (its {wal} holds changes); "
            "close the original molq and try again",
            path=path,
        )
    os.rename(path, aside)
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    print(f"molq: moved the original molq's store {path} to {aside} (unchanged) to import it", file=sys.stderr)
    return aside


def _remove_quietly(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def adopt_original_store(path: str) -> ImportSummary | None:
    """On the first open of molq's default store (``path``, not there yet):
    import the original's store if there is one. Says so on stderr, once.

    A failure is a warning, not an error (molq then starts with an empty
    store); the message says how to import later with ``molq import-store``.
    """
    if path != str(default_jobs_db_path()):
        return None
    source = original_store_path()
    if not source.is_file():
        return None
    return _build_from(str(source), path)


def adopt_original_in_place(path: str) -> bool:
    """molq 0.4 kept its store at ``~/.molq/jobs.db``, molq's own default path.
    When the default store refuses to open because it is such a store, move it
    aside unchanged (``jobs.db.original-molq``) and import it into a new store
    at ``path``. True when the caller can open ``path`` again."""
    if path != str(default_jobs_db_path()) or not _is_original_store(path):
        return False
    aside = _set_aside(path)
    _build_from(aside, path)
    return True


def _build_from(source: str, path: str) -> ImportSummary | None:
    """Build molq's store at ``path`` from the original's ``source``, under a
    temporary name, and link it into place only if ``path`` is still free."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    staging = os.path.join(folder, f".jobs.db.importing-{os.getpid()}-{time.monotonic_ns()}")
    try:
        try:
            counts = _core.import_original_store(staging, source, time.time(), 30_000)
        except StoreError as exc:
            warnings.warn(
                f"molq: could not import the original molq's job store {source}: {exc}. "
                f"molq starts with an empty store; run `molq import-store {source}` to import it later.",
                stacklevel=4,
            )
            return None
        try:
            # Into place only if no other process got there first.
            os.link(staging, path)
        except FileExistsError:
            return None
        except OSError:  # a file system without hard links
            if os.path.exists(path):
                return None
            os.rename(staging, path)
    finally:
        _remove_quietly(staging)
    summary = _summary(source, path, counts)
    print(
        f"molq: imported the original molq's job store {source} into {path}: "
        f"{_jobs(summary.jobs)}, {summary.transitions} transitions, {summary.dependencies} dependencies, "
        f"{summary.allocations} allocations (the original file is unchanged)",
        file=sys.stderr,
    )
    return summary
