"""Queueing a local job on this machine: its ask, the machine's capacity, and
its entry in the slot directory, written under the slot lock.

The layout is the one ``_local_slots`` describes; a remote machine's submit
does the same in bash (``_local_scripts.REMOTE_SUBMIT``). The lock is held
from the job number's choice until the job's wrapper has dispatched: the
wrapper inherits it (fd 9), so no second process starts in between.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from molq.errors import ConfigError

if TYPE_CHECKING:
    from molq.options import LocalSchedulerOptions
    from molq.submission import JobSpec
    from molq.types import JobResources

__all__ = ["Ask", "Capacity", "check_fits", "dependency_line", "detect_capacity", "enqueue", "environment_lines"]

_KIB = 1024
_DEPENDENCY_TERM = re.compile(r"(after|afterok|afternotok|afterany)((?::[0-9]+)+)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# set by bash itself, or read-only in it
_NOT_PASSED_ON = frozenset({"_", "SHLVL", "BASHOPTS", "SHELLOPTS", "PWD", "OLDPWD"})


@dataclass(frozen=True)
class Ask:
    """What one job holds while it runs, and the limits it runs under."""

    cpus: int
    memory_kib: int
    gpus: int
    time_limit_s: int
    pin_cpus: bool

    @classmethod
    def of(cls, spec: JobSpec) -> Ask:
        return cls.of_resources(spec.resources)

    @classmethod
    def of_resources(cls, res: JobResources) -> Ask:
        cpus = (res.cpu_count or 1) * (getattr(res, "task_count", None) or 1)
        memory = res.memory
        kib = -(-memory.bytes // _KIB) if memory is not None else 0
        time_limit = res.time_limit
        return cls(
            cpus=cpus,
            memory_kib=kib,
            gpus=res.gpu_count or 0,
            time_limit_s=time_limit.seconds if time_limit is not None else 0,
            pin_cpus=res.cpu_count is not None,
        )


@dataclass(frozen=True)
class Capacity:
    """What the jobs of one slot directory may hold at once."""

    cpus: int
    memory_kib: int
    gpu_ids: tuple[str, ...]
    #: the CPU ids handed out (affinity); empty when the CPU count is not the machine's own
    cpu_ids: tuple[int, ...]

    def line(self) -> str:
        gpus = ",".join(self.gpu_ids) or "-"
        cpus = ",".join(map(str, self.cpu_ids)) or "-"
        return f"{self.cpus} {self.memory_kib} {gpus} {cpus}\n"


def detect_capacity(options: LocalSchedulerOptions | None) -> Capacity:
    """This machine's capacity, each part the options leave out detected."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cpus = getattr(options, "cpus", None) or len(allowed) or (os.cpu_count() or 1)
    memory = getattr(options, "memory", None)
    if memory is not None:
        kib = memory.bytes // _KIB
    else:
        kib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // _KIB
    gpus = getattr(options, "gpus", None)
    return Capacity(
        cpus=cpus,
        memory_kib=kib,
        gpu_ids=gpus if gpus is not None else _visible_gpus(),
        cpu_ids=tuple(allowed[:cpus]) if cpus <= len(allowed) else (),
    )


def _visible_gpus() -> tuple[str, ...]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return tuple(g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1")
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(str(i) for i, _ in enumerate(line for line in listed.splitlines() if line.startswith("GPU")))


def check_fits(ask: Ask, capacity: Capacity) -> None:
    """Refuse a job that could never start here, naming what it asks for."""
    for field, wanted, have, unit in (
        ("resources.cpu_count", ask.cpus, capacity.cpus, "CPUs"),
        ("resources.memory", ask.memory_kib, capacity.memory_kib, "KiB of memory"),
        ("resources.gpu_count", ask.gpus, len(capacity.gpu_ids), "GPUs"),
    ):
        if wanted > have:
            raise ConfigError(
                f"{field}: the job asks for {wanted} {unit}; the local scheduler of this machine has {have} "
                "(LocalSchedulerOptions sets its capacity)",
                field=field,
            )


def dependency_line(spec: JobSpec) -> str:
    """The job's dependencies in Slurm's words, checked; "" for none."""
    text = (spec.scheduling.dependency or "").strip()
    if not text:
        return ""
    for term in text.split(","):
        if not _DEPENDENCY_TERM.fullmatch(term.strip()):
            raise ConfigError(
                f"scheduling.dependency {text!r}: the local scheduler reads terms "
                "after|afterok|afternotok|afterany:<job id>[:<job id>...] joined by ',' (all must hold)",
                field="scheduling.dependency",
            )
    return ",".join(term.strip() for term in text.split(","))


def environment_lines(environ: dict[str, str]) -> str:
    """``export`` lines that give a job started later its submitter's environment."""
    from molq.scheduler._script import shell_quote  # deferred: only a local submit needs it

    return "".join(
        f"export {name}={shell_quote(value)}\n"
        for name, value in environ.items()
        if _ENV_NAME.fullmatch(name) and name not in _NOT_PASSED_ON and not name.startswith("BASH_")
    )


def enqueue(
    slots_dir: Path, job_dir: str, ask: Ask, capacity: Capacity, tasks: Sequence[int] = (), throttle: int | None = None
) -> tuple[int, int]:
    """Give the job its number and queue it (each of its array ``tasks``, at
    most ``throttle`` at once, when it is an array); returns (number, locked fd).

    The caller starts the job's wrapper with the fd as its fd 9 (the lock
    passes to it), then closes its own copy; on failure it calls
    ``withdraw`` with the lock still held."""
    for sub in ("queue", "held", "jobs"):
        (slots_dir / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(slots_dir / "lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _write_if_changed(slots_dir / "capacity", capacity.line())
        seq_path = slots_dir / "seq"
        try:
            number = int(seq_path.read_text().strip() or 0) + 1
        except FileNotFoundError:
            number = 1
        except ValueError as exc:
            raise ConfigError(f"the local scheduler's job counter {seq_path} is corrupt: {exc}") from None
        _replace(seq_path, f"{number}\n")
        _replace(slots_dir / "jobs" / str(number), f"{job_dir}\x00")
        _replace(Path(job_dir) / ".sid", f"{number}\n")
        _replace(Path(job_dir) / ".slots", f"{slots_dir}\x00")
        share = f"{ask.cpus} {ask.memory_kib} {ask.gpus}"
        if not tasks:
            _replace(slots_dir / "queue" / f"{number:012d}", f"{share}\n{job_dir}\x00")
        entry = f"{share} {throttle or ''}\n{job_dir}\x00"
        for task in tasks:
            _replace(slots_dir / "queue" / f"{number:012d}.{task:010d}", entry)
    except BaseException:
        os.close(fd)
        raise
    return number, fd


def withdraw(slots_dir: Path, number: int) -> None:
    """Take a job whose wrapper could not be started out of the queue, with
    every task of it (lock held)."""
    for entry in (slots_dir / "queue").glob(f"{number:012d}*"):
        entry.unlink(missing_ok=True)


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text() == text:
            return
    except FileNotFoundError:
        pass
    _replace(path, text)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, private to the user."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode("utf-8", "surrogateescape"))
    finally:
        os.close(fd)
    os.replace(tmp, path)
