"""Where a job's files go: its working directory, its job directory, its logs.

A job directory is ``<jobs_dir>/<dir_name or job_id>``; without a ``jobs_dir``
it lies under the job's working directory, in ``.molq/jobs``. Job directories
are private to the user (0700), as are the files molq writes in them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from molq import _original_names

if TYPE_CHECKING:
    from molq.models import JobSpec
    from molq.transport.base import Transport
    from molq.types import Script

__all__ = [
    "default_jobs_dir",
    "job_dir_path",
    "job_dir_root",
    "materialize_script",
    "prepare_job_dir",
    "resolve_cwd",
    "resolve_output_path",
    "write_manifest",
]


def default_jobs_dir(cwd: str) -> Path:
    """``<cwd>/.molq/jobs``: the job directories of jobs run in ``cwd``."""
    return Path(cwd) / ".molq" / "jobs"


def job_dir_root(jobs_dir: Path | None, cwd: str) -> Path:
    """The folder that holds the job directories: ``jobs_dir``, else the default under ``cwd``."""
    return Path(jobs_dir) if jobs_dir is not None else default_jobs_dir(cwd)


def job_dir_path(jobs_dir: Path | None, job_id: str, cwd: str, dir_name: str | None = None) -> Path:
    """The job directory of ``job_id`` (named ``dir_name`` when given)."""
    return job_dir_root(jobs_dir, cwd) / (dir_name or job_id)


def prepare_job_dir(
    transport: Transport, jobs_dir: Path | None, job_id: str, cwd: str, dir_name: str | None = None
) -> Path:
    """Create the job directory (0700, with its parents) through ``transport``; return it."""
    path = job_dir_path(jobs_dir, job_id, cwd, dir_name)
    transport.mkdir(path, parents=True, exist_ok=True, mode=0o700)
    transport.chmod(path, 0o700)
    return path


def materialize_script(transport: Transport, script: Script, job_dir: Path) -> None:
    """Put a copy of a script file into ``job_dir`` (0700, same name), so the
    job runs the script as it was at submission even if the file changes.
    An inline script needs nothing here: its text goes into the job's wrapper."""
    if script.variant != "path" or script.file_path is None:
        return
    source = Path(script.file_path)
    transport.write_bytes(Path(job_dir) / source.name, source.read_bytes(), mode=0o700)


def resolve_cwd(cwd: str | Path | None) -> str:
    """An absolute working directory: ``cwd`` with ``~`` expanded, relative to
    the current directory; the current directory when None."""
    if cwd is None:
        return os.getcwd()
    return os.path.abspath(os.path.expanduser(str(cwd)))


def resolve_output_path(path: str | None, cwd: str, job_dir: Path, default_name: str) -> Path:
    """A log file path: ``<job_dir>/<default_name>`` when none is given, an
    absolute path as is, a relative one under ``cwd``."""
    if path is None:
        return Path(job_dir) / default_name
    given = Path(os.path.expanduser(path))
    return given if given.is_absolute() else Path(cwd) / given


def write_manifest(transport: Transport, jobs_dir: Path | None, spec: JobSpec, now: float) -> None:
    """Write ``manifest.json`` (0600) into the job's directory: the job's id,
    root, attempt, creation time, script and log paths."""
    job_dir = job_dir_path(jobs_dir, spec.job_id, spec.cwd, spec.dir_name)
    script = spec.command.script
    manifest = {
        "job_id": spec.job_id,
        "root_job_id": spec.root_job_id,
        "attempt": spec.attempt,
        "created_at": now,
        "script_path": str(script.file_path) if script is not None and script.variant == "path" else None,
        "stdout_path": spec.stdout_path or spec.execution.output_file,
        "stderr_path": spec.stderr_path or spec.execution.error_file,
    }
    transport.mkdir(job_dir, parents=True, exist_ok=True, mode=0o700)
    transport.write_text(job_dir / "manifest.json", json.dumps(manifest, sort_keys=True), mode=0o600)


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
