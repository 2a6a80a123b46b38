"""Laying out a job's directory on the cluster before it is handed over."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from molq._paths import ensure_private_dir, explain_os_error
from molq.errors import ConfigError
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.submission import JobSpec
    from molq.transport.base import Transport

__all__ = ["prepare_job_dir"]


def prepare_job_dir(transport: Transport, spec: JobSpec, script_bytes: bytes | None) -> None:
    """Create the job directory (0700), with a copy of the user's script if any.

    The store holds the job's record; the directory holds only what the job
    itself needs (scripts, logs, the backend's state files).
    """
    root = spec.job_dir.rsplit("/", 1)[0]
    local = isinstance(transport, LocalTransport)
    try:
        if local:
            # Created 0700 if missing; refused if another user could swap
            # run.sh or fake an exit code in it.
            ensure_private_dir(root, what="the job root")
        try:
            transport.mkdir(spec.job_dir, parents=False, exist_ok=False, mode=0o700)
        except FileNotFoundError:
            transport.mkdir(root, parents=True, exist_ok=True, mode=0o700)
            transport.mkdir(spec.job_dir, parents=False, exist_ok=False, mode=0o700)
        if local:
            os.chmod(spec.job_dir, 0o700)  # the umask must not narrow it
        if script_bytes is not None:
            transport.write_bytes(f"{spec.job_dir}/user_script.sh", script_bytes, mode=0o700)
    except FileExistsError:
        raise ConfigError(
            f"job directory already exists: {spec.job_dir} (choose another job_dir_name)",
            job_dir=spec.job_dir,
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot create the job directory {spec.job_dir}: {explain_os_error(exc, exc.filename or spec.job_dir)}",
            job_dir=spec.job_dir,
        ) from None
