"""Bringing a job's files back: its logs, or its whole job directory.

The paths come from the job's record (``molq.stdout_path``,
``molq.stderr_path``, ``molq.job_dir`` in its metadata), and the copies go
through the cluster's transport, so the same calls work for a job on this
machine and one on a cluster reached over SSH.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from molq import _original_names

if TYPE_CHECKING:
    from molq.models import JobRecord
    from molq.transport.base import Transport

__all__ = ["fetch_job_dir", "fetch_logs", "local_scratch_dir"]


def local_scratch_dir(jobs_dir: str | Path | None, job_id: str, kind: str) -> Path:
    """Where fetched files of ``job_id`` go by default: ``<jobs_dir>/<job_id>/<kind>``,
    or without a (local) jobs directory ``./.molq/fetched/<job_id>/<kind>``.

    The fallback is the current directory, never the job's own working
    directory: that one may name a directory on another machine.
    """
    base = Path(jobs_dir) if jobs_dir is not None else Path.cwd() / ".molq" / "fetched"
    return base / job_id / kind


def fetch_logs(
    transport: Transport,
    record: JobRecord,
    dest: str | Path,
    streams: Sequence[str] = ("stdout", "stderr"),
) -> dict[str, Path]:
    """Copy the job's log files into ``dest`` (created) as ``<stream>.log``.

    Returns stream -> local path for each stream that was copied; a stream
    the job has no path for, or whose file does not exist, is left out.
    """
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    copied: dict[str, Path] = {}
    for stream in streams:
        remote = record.metadata.get(f"molq.{stream}_path")
        if not remote or not transport.exists(remote):
            continue
        local = target / f"{stream}.log"
        transport.download(remote, local)
        copied[stream] = local
    return copied


def fetch_job_dir(
    transport: Transport,
    record: JobRecord,
    dest: str | Path,
    exclude: Sequence[str] = (),
) -> Path:
    """Mirror the job's directory into ``dest`` (its contents, like
    ``rsync -a job_dir/ dest/``), leaving out names matching ``exclude``.

    Returns ``dest``. ``FileNotFoundError`` when the record names no job
    directory, or the directory is gone.
    """
    job_dir = record.metadata.get("molq.job_dir") or getattr(record, "job_dir", "")
    if not job_dir:
        raise FileNotFoundError(
            errno.ENOENT, f"job {record.job_id} has no recorded molq.job_dir (nothing to fetch)", record.job_id
        )
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    transport.download(job_dir, target, recursive=True, exclude=tuple(exclude))
    return target


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
