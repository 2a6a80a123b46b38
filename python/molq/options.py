"""Per-backend scheduler options and SSH transport options.

All are frozen dataclasses. Flag lists may be given as lists; they are
stored as tuples of strings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Union

__all__ = [
    "LSFSchedulerOptions",
    "LocalSchedulerOptions",
    "OPTIONS_TYPE_MAP",
    "PBSSchedulerOptions",
    "SGESchedulerOptions",
    "SchedulerOptions",
    "SlurmSchedulerOptions",
    "SshTransportOptions",
]


def _validate(obj: Any) -> None:
    """Type-check every field of ``obj``; turn flag lists into tuples.

    Fields named ``*_path`` with a string default are commands (names or
    paths); fields with a tuple default are argument lists.
    """
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name.endswith("_path") and isinstance(f.default, str):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{f.name} must be a non-empty command or path, got {value!r}")
        elif isinstance(f.default, tuple):
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise TypeError(f"{f.name} must be a list of strings, got {value!r}")
            for item in value:
                if not isinstance(item, str):
                    raise TypeError(f"{f.name} must hold strings, got {item!r}")
            object.__setattr__(obj, f.name, tuple(value))


def _positive(name: str, value: Any, *, integer: bool) -> None:
    kinds: tuple[type[int] | type[float], ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class LocalSchedulerOptions:
    """The local scheduler's capacity: what the jobs it starts may hold at once.

    ``cpus`` (default: the CPUs this process may run on, on the job's
    machine), ``memory`` (a size such as ``"16G"`` or a byte count; default:
    the machine's memory) and ``gpus`` (a count, or the GPU ids to hand out,
    such as ``"0,1"``; default: ``CUDA_VISIBLE_DEVICES``, else the GPUs
    ``nvidia-smi -L`` lists, else none). A job holds ``cpu_count`` x
    ``task_count`` CPUs (1 when it asks for none), its ``memory`` and its
    ``gpu_count`` GPUs while it runs; one that does not fit waits, queued.

    ``slots_dir`` is where every submitter on the machine keeps the shared
    picture of what is held (default: ``<molq home>/local-slots`` on this
    machine, ``~/.molq/local-slots`` on a remote one). Jobs share slots only
    with jobs of the same ``slots_dir``; the capacity the last submitter set
    is the one in force.
    """

    cpus: int | None = None
    memory: Any = None
    gpus: int | str | tuple[str, ...] | None = None
    slots_dir: str | None = None

    def __post_init__(self) -> None:
        from molq.types import _as_memory  # deferred: molq.types loads only when used

        if self.cpus is not None:
            _positive("cpus", self.cpus, integer=True)
        try:
            object.__setattr__(self, "memory", _as_memory(self.memory))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"memory: {exc}") from None
        object.__setattr__(self, "gpus", _gpu_ids(self.gpus))
        if self.slots_dir is not None and (not isinstance(self.slots_dir, str) or not self.slots_dir.strip()):
            raise ValueError(f"slots_dir must be a non-empty path, got {self.slots_dir!r}")


def _gpu_ids(value: Any) -> tuple[str, ...] | None:
    """GPU ids from a count, a comma list or a sequence; None when not given."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"gpus must be a count of at least 0 or a list of GPU ids, got {value!r}")
        return tuple(str(i) for i in range(value))
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"gpus must be a count or a list of GPU ids, got {value!r}")
    ids = tuple(str(item).strip() for item in items if str(item).strip())
    for gpu in ids:
        if not gpu.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"gpus: {gpu!r} is not a GPU id (letters, digits, '-' and '_')")
    return ids


@dataclass(frozen=True)
class SlurmSchedulerOptions:
    """Slurm commands and extra ``sbatch`` flags.

    ``submit_timeout`` bounds one ``sbatch`` call in seconds; ``poll_chunk_size``
    is the most job ids put on one ``squeue``/``sacct`` command line (it keeps
    the line far below the kernel's 128 KiB limit on one argument, which is
    what a command sent through ``ssh`` becomes on the remote side).
    """

    sbatch_path: str = "sbatch"
    squeue_path: str = "squeue"
    scancel_path: str = "scancel"
    sacct_path: str = "sacct"
    extra_sbatch_flags: tuple[str, ...] = ()
    submit_timeout: float = 60.0
    poll_timeout: float = 60.0
    poll_chunk_size: int = 1000

    def __post_init__(self) -> None:
        _validate(self)
        _positive("submit_timeout", self.submit_timeout, integer=False)
        _positive("poll_timeout", self.poll_timeout, integer=False)
        _positive("poll_chunk_size", self.poll_chunk_size, integer=True)


def _timeouts_and_chunks(obj: Any) -> None:
    _positive("submit_timeout", obj.submit_timeout, integer=False)
    _positive("poll_timeout", obj.poll_timeout, integer=False)
    _positive("poll_chunk_size", obj.poll_chunk_size, integer=True)


@dataclass(frozen=True)
class PBSSchedulerOptions:
    """PBS Professional / OpenPBS (``flavor="pbspro"``) or Torque (``"torque"``).

    ``poll_chunk_size`` is the most job ids on one ``qstat``/``tracejob``
    command. ``tracejob_fallback`` asks ``tracejob`` (which reads the server's
    logs, ``tracejob_days`` back) about jobs ``qstat`` no longer knows: for
    Torque, and for PBS Pro jobs beyond the server's job history.
    """

    qsub_path: str = "qsub"
    qstat_path: str = "qstat"
    qdel_path: str = "qdel"
    tracejob_path: str = "tracejob"
    extra_qsub_flags: tuple[str, ...] = ()
    flavor: str = "pbspro"
    submit_timeout: float = 60.0
    poll_timeout: float = 60.0
    poll_chunk_size: int = 500
    tracejob_fallback: bool = True
    tracejob_days: int = 7

    def __post_init__(self) -> None:
        _validate(self)
        if self.flavor not in ("pbspro", "torque"):
            raise ValueError(f"flavor must be 'pbspro' or 'torque', got {self.flavor!r}")
        _timeouts_and_chunks(self)
        if not isinstance(self.tracejob_fallback, bool):
            raise TypeError(f"tracejob_fallback must be a bool, got {self.tracejob_fallback!r}")
        _positive("tracejob_days", self.tracejob_days, integer=True)


@dataclass(frozen=True)
class LSFSchedulerOptions:
    """IBM Spectrum LSF commands and extra ``bsub`` flags.

    ``poll_chunk_size`` is the most job ids on one ``bjobs``/``bhist`` command.
    """

    bsub_path: str = "bsub"
    bjobs_path: str = "bjobs"
    bkill_path: str = "bkill"
    bhist_path: str = "bhist"
    extra_bsub_flags: tuple[str, ...] = ()
    submit_timeout: float = 60.0
    poll_timeout: float = 60.0
    poll_chunk_size: int = 500

    def __post_init__(self) -> None:
        _validate(self)
        _timeouts_and_chunks(self)


@dataclass(frozen=True)
class SGESchedulerOptions:
    """(Son of / Open) Grid Engine commands and extra ``qsub`` flags.

    ``pe_name`` is the parallel environment that gives a job ``cpu_count``
    slots on one host (``-pe <pe_name> N``; sites name it ``smp``,
    ``threaded``, ``shm``...; None: cpu_count is refused). ``mpi_pe_name``
    is the one for ``task_count`` (MPI ranks across hosts; None: refused).
    ``poll_chunk_size`` bounds the ids handed to one command; qstat and qacct
    themselves list the user's jobs, so a refresh costs one of each.
    """

    qsub_path: str = "qsub"
    qstat_path: str = "qstat"
    qdel_path: str = "qdel"
    qacct_path: str = "qacct"
    extra_qsub_flags: tuple[str, ...] = ()
    pe_name: str | None = "smp"
    mpi_pe_name: str | None = None
    submit_timeout: float = 60.0
    poll_timeout: float = 60.0
    poll_chunk_size: int = 500

    def __post_init__(self) -> None:
        _validate(self)
        for name in ("pe_name", "mpi_pe_name"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip() or " " in value):
                raise ValueError(f"{name} must be a parallel environment name or None, got {value!r}")
        _timeouts_and_chunks(self)


SchedulerOptions = Union[
    LocalSchedulerOptions,
    SlurmSchedulerOptions,
    PBSSchedulerOptions,
    LSFSchedulerOptions,
    SGESchedulerOptions,
]

OPTIONS_TYPE_MAP: dict[str, type[SchedulerOptions]] = {
    "local": LocalSchedulerOptions,
    "slurm": SlurmSchedulerOptions,
    "pbs": PBSSchedulerOptions,
    "lsf": LSFSchedulerOptions,
    "sge": SGESchedulerOptions,
}


@dataclass(frozen=True)
class SshTransportOptions:
    """How to reach a remote host with OpenSSH and rsync.

    ``host`` is ``user@host`` or an ``~/.ssh/config`` alias. ``ssh_opts`` are
    extra ssh arguments. With ``control_master`` on, connections are shared
    through a control socket kept open ``control_persist`` after last use
    (``control_path`` overrides where the socket lives).
    ``command_timeout`` bounds each remote command or file operation that is
    given no timeout of its own; ``transfer_timeout`` bounds one rsync upload
    or download (which also stops after ``command_timeout`` without data).
    Copies are atomic per file whatever ``rsync_opts`` say: options that would
    leave a half-written file under its final name (``--partial``, ``--inplace``,
    ``--append``, ``-P``, ``--temp-dir``...) are ignored (the default keeps the
    original molq's value).
    """

    host: str
    port: int | None = None
    identity_file: str | None = None
    ssh_opts: tuple[str, ...] = ()
    rsync_opts: tuple[str, ...] = ("-a", "--partial", "--inplace")
    control_master: bool = True
    control_persist: str = "60s"
    connect_timeout: int = 15
    control_path: str | None = None
    command_timeout: float = 120.0
    transfer_timeout: float = 3600.0

    def __post_init__(self) -> None:
        _validate(self)
        if not isinstance(self.host, str) or not self.host.strip() or self.host.startswith("-"):
            raise ValueError(f"host must be 'user@host' or an ssh alias, got {self.host!r}")
        if self.port is not None:
            if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
                raise ValueError(f"port must be between 1 and 65535, got {self.port!r}")
        for name in ("identity_file", "control_path"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a non-empty path, got {value!r}")
        if not isinstance(self.control_master, bool):
            raise TypeError(f"control_master must be a bool, got {self.control_master!r}")
        if not isinstance(self.control_persist, str) or not self.control_persist.strip():
            raise ValueError(f"control_persist must be an ssh time string like '60s', got {self.control_persist!r}")
        _positive("connect_timeout", self.connect_timeout, integer=True)
        _positive("command_timeout", self.command_timeout, integer=False)
        _positive("transfer_timeout", self.transfer_timeout, integer=False)
