"""PBSScheduler: PBS Professional / OpenPBS (``flavor="pbspro"``) and Torque
(``"torque"``): qsub, qstat, qdel and tracejob through any transport.

Ids are kept without the server suffix (``123``; ``123[]`` for an array).
The queue is ``qstat -f -t`` of the tracked ids (PBS Pro as JSON); jobs it no
longer shows are looked up in PBS Pro's job history (``qstat -x``), then, as
a last resort, in the server logs with ``tracejob`` (one shell command per
chunk of ids). The native core reads every byte of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq import _core, _original_names
from molq.errors import ConfigError, MolqError, SchedulerError, TransportError
from molq.options import PBSSchedulerOptions
from molq.scheduler._batch import (
    QUERY_ENV,
    chunks,
    directive_value,
    for_user,
    job_ids_in_dirs,
    log_path_parts,
    parse_joined,
    priority_number,
    record_job_id_line,
    refused,
    run,
    submit_failed,
)
from molq.scheduler._cancel_wait import ask_to_cancel, unended, wait_until_gone
from molq.scheduler._script import render_script
from molq.scheduler.base import OneJobQueries, scheduler_ids
from molq.transport.base import CommandResult, Transport
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import DependencyEdge
    from molq.submission import JobSpec

__all__ = ["PBSScheduler", "render_pbs_directives"]

_DEPENDENCY_KEYWORDS = {
    "after_started": "after",
    "after_success": "afterok",
    "after_failure": "afternotok",
    "after": "afterany",
}
# Runs tracejob for each id of a chunk, one after the other: one command per chunk.
_TRACEJOB_LOOP = 'p=$1; d=$2; shift 2; for j in "$@"; do "$p" -n "$d" "$j" 2>/dev/null; done; exit 0'


#: Written by the job script when it starts: which PBS job runs it (``123``,
#: ``123[]`` for an array), so that a job whose submitter never heard back is
#: found after the server forgot it (tracejob shows no marker).
JOB_ID_FILE = ".pbs_job_id"
# The id qsub printed, from a job's or subjob's environment (PBS Pro sets
# PBS_ARRAY_ID for a subjob; Torque's subjob id is 123[4]): no server suffix.
_OWN_ID = 'molq_id=${PBS_ARRAY_ID:-$PBS_JOBID}; molq_id=${molq_id%%.*}; case $molq_id in *"["*) molq_id="${molq_id%%"["*}[]";; esac'


def _pbs_id(text: str) -> bool:
    return text.isdigit() or (text.endswith("[]") and text[:-2].isdigit())


def _job_name(name: str) -> str:
    """PBS refuses blanks in a job name and wants it to start with a letter."""
    cleaned = "".join("_" if c.isspace() else c for c in name if c.isprintable())
    return cleaned if cleaned[:1].isalpha() else f"j{cleaned}"


def _array(spec: str, flavor: str) -> str:
    """PBS Pro's ``-J`` takes ``X-Y[:step][%max]``; Torque's ``-t`` also takes lists."""
    array = _core.array_directive("torque" if flavor == "torque" else "pbspro", spec)
    return array.indices + (f"%{array.throttle}" if array.throttle is not None else "")


def render_pbs_directives(spec: JobSpec, flavor: str = "pbspro", extra: Sequence[str] = ()) -> list[str]:
    """The ``#PBS`` lines for a spec, one option per line."""
    r, s, e = spec.resources, spec.scheduling, spec.execution
    pro = flavor == "pbspro"
    lines: list[str] = []

    def add(flag: str, value: object | None = None) -> None:
        lines.append(f"#PBS {flag}" if value is None else f"#PBS {flag} {directive_value(str(value), 'PBS')}")

    add("-N", _job_name(e.job_name or f"molq-{spec.job_id[:8]}"))
    if s.partition:
        add("-q", s.partition)
    if s.account:
        add("-A", s.account)
    nodes = s.node_count or 1
    if r.task_count is not None and r.task_count % nodes:
        raise ConfigError(f"PBS needs task_count ({r.task_count}) to be a multiple of node_count ({nodes})")
    per_node_tasks = r.task_count // nodes if r.task_count is not None else None
    # CPUs per node: every task's CPUs, or the one process's; never dropped.
    cpus = (per_node_tasks or 1) * (r.cpu_count or 1)
    sized = any(v is not None for v in (r.cpu_count, r.task_count, s.node_count, r.memory, r.gpu_count))
    if pro:
        if sized:
            chunk = [f"ncpus={cpus}"]
            if per_node_tasks is not None:
                chunk.append(f"mpiprocs={per_node_tasks}")
                if r.cpu_count:
                    chunk.append(f"ompthreads={r.cpu_count}")
            if r.memory is not None:
                chunk.append(f"mem={r.memory.to_pbs()}")
            if r.gpu_count is not None:
                chunk.append(f"ngpus={r.gpu_count}")
            add("-l", f"select={nodes}:" + ":".join(chunk))
        place = ["scatter"] if nodes > 1 else []
        if s.exclusive_node:
            place.append("excl")
        if place:
            add("-l", "place=" + ":".join(place))
    else:
        if sized:
            gpus = f":gpus={r.gpu_count}" if r.gpu_count is not None else ""
            add("-l", f"nodes={nodes}:ppn={cpus}{gpus}")
        if r.memory is not None:
            # Torque's mem is the whole job's; molq's memory is per node, as Slurm's --mem.
            from molq.types import Memory  # deferred: molq.types loads only when used

            add("-l", f"mem={Memory(r.memory.bytes * nodes).to_pbs()}")
        if s.exclusive_node:
            add("-n")
    if r.time_limit is not None:
        add("-l", f"walltime={r.time_limit.to_pbs()}")
    # PBS Pro writes each subjob's output where ^array_index^ says: molq's %a,
    # in the user's name only (what molq adds is taken literally).
    for flag, path, default in (("-o", spec.stdout_path, "stdout.log"), ("-e", spec.stderr_path, "stderr.log")):
        literal, own = log_path_parts(path, spec.cwd, spec.job_dir, default)
        add(flag, literal + (own.replace("%a", "^array_index^") if pro else own))
    if s.dependency:
        add("-W", f"depend={s.dependency}")
    if s.array_spec:
        add("-J" if pro else "-t", _array(s.array_spec, flavor))
    if s.priority:
        add("-p", priority_number(s.priority, "PBS", -1024, 1023))
    if s.email:
        add("-M", s.email)
        add("-m", "ae")
    # Marks the job as molq's, so a submission whose id was never recorded can be found.
    add("-v", f"{_core.PBS_MARK_VARIABLE}={spec.job_id}")
    return lines + [f"#PBS {x}" for x in extra]


class PBSScheduler(OneJobQueries):
    """The ``pbs`` backend (PBS Pro / OpenPBS by default, Torque with ``flavor="torque"``)."""

    kind = "pbs"

    def __init__(self, options: PBSSchedulerOptions | None = None, *, transport: Transport | None = None) -> None:
        if transport is None:
            transport = LocalTransport()
        self.options = options if isinstance(options, PBSSchedulerOptions) else PBSSchedulerOptions()
        self._transport = transport
        self._caller: str | None = None  # the login name there, once asked ("" = unknown)

    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def _pro(self) -> bool:
        return self.options.flavor == "pbspro"

    def capabilities(self) -> SchedulerCapabilities:
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        unsupported = {"supports_gpu_type", "supports_qos", "supports_reservation"}
        return SchedulerCapabilities(
            **{name: name not in unsupported for name in SchedulerCapabilities.__dataclass_fields__}
        )

    def render(self, spec: JobSpec, user_script_path: str | None = None) -> str:
        start = ["", _OWN_ID, record_job_id_line(spec.job_dir, JOB_ID_FILE, '"$molq_id"')] if spec.job_dir else []
        directives = render_pbs_directives(spec, self.options.flavor)
        return render_script(spec, directives, user_script_path, start_lines=start)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script_path = f"{job_dir}/run_pbs.sh"
        self._transport.write_text(script_path, self.render(spec, f"{job_dir}/user_script.sh"), mode=0o700)
        opts = self.options
        # Extra flags go before the script: after it, qsub hands them to the script.
        argv = [opts.qsub_path, *opts.extra_qsub_flags, script_path]
        try:
            result = self._transport.run(argv, env=QUERY_ENV, timeout=opts.submit_timeout)
        except TransportError as exc:
            raise submit_failed("qsub", exc, argv) from exc
        if result.returncode != 0:
            raise refused("PBS submission failed: qsub", result, argv)
        try:
            return _core.parse_submit_id("pbs", result.stdout_bytes)
        except MolqError as exc:
            # qsub said yes, but not in words molq can read
            raise SchedulerError(
                f"qsub accepted the job but its answer could not be read: {exc}",
                command=argv,
                stderr=result.stderr,
                outcome_unknown=True,
            ) from exc

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> PBS id for molq jobs (job_id, job_dir) the server accepted.

        First the server's full listing (PBS Pro: ``qstat -x -f -F json``,
        history included; Torque: ``qstat -f``), by the job's ``MOLQ_JOB_ID``
        variable; then, for the others, the file the job script writes into
        its job directory when it starts. Raises when the listing cannot be read."""
        opts = self.options
        argv = [opts.qstat_path, "-x", "-f", "-F", "json"] if self._pro else [opts.qstat_path, "-f"]
        result = run(self._transport, argv, "qstat", timeout=opts.poll_timeout)
        if result.returncode != 0:
            raise refused("qstat", result, argv)
        found = _core.find_pbs_submissions(result.stdout_bytes, [job_id for job_id, _ in jobs])
        missing = [(job_id, job_dir) for job_id, job_dir in jobs if job_id not in found and job_dir]
        if missing:
            found.update(job_ids_in_dirs(self._read_files, JOB_ID_FILE, missing, _pbs_id))
        return found

    def _read_files(self, argv: list[str]) -> CommandResult:
        return run(self._transport, argv, "reading job id files", timeout=self.options.poll_timeout)

    # -- tracking ------------------------------------------------------------------
    def _qstat(self, ids: Sequence[str], *, history: bool) -> list[bytes]:
        """``qstat -f -t`` (PBS Pro: ``-F json``, and ``-x`` for history) per chunk of ids."""
        opts = self.options
        base = [opts.qstat_path, *(["-x"] if history else []), "-f", *(["-F", "json"] if self._pro else []), "-t"]
        outputs = []
        for chunk in chunks(ids, opts.poll_chunk_size):
            argv = [*base, *chunk]
            result = run(self._transport, argv, "qstat", timeout=opts.poll_timeout)
            # Unknown (or, without -x, finished) ids are reported on stderr while
            # the others are listed: that is a complete answer for this chunk.
            if result.returncode != 0 and not _core.only_unknown_ids("pbs", result.stderr_bytes):
                raise refused("qstat", result, argv)
            outputs.append(result.stdout_bytes)
        return outputs

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        ids = scheduler_ids(jobs)
        return parse_joined("pbs", self._qstat(ids, history=False))

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None:
        """PBS Pro: ``qstat -x`` per chunk; ids still unknown (history off or
        expired; always for Torque) go to ``tracejob``, one command per chunk."""
        ids = scheduler_ids(jobs)
        outputs = self._qstat(ids, history=True) if self._pro else []
        snapshot = parse_joined("pbs", outputs, accounting=True) if outputs else None
        rest = ids if snapshot is None else snapshot.missing(ids)
        if rest and self.options.tracejob_fallback:
            traced = self._tracejob(rest)
            snapshot = traced if snapshot is None else snapshot.merged(traced)
        return snapshot

    def _tracejob(self, ids: Sequence[str]) -> _core.Snapshot:
        opts = self.options
        outputs = []
        for chunk in chunks(ids, opts.poll_chunk_size):
            argv = ["sh", "-c", _TRACEJOB_LOOP, "molq-tracejob", opts.tracejob_path, str(opts.tracejob_days), *chunk]
            result = run(self._transport, argv, "tracejob", timeout=opts.poll_timeout * 4)
            outputs.append(result.stdout_bytes)
        return parse_joined("pbs", outputs, accounting=True)

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        """qdel the job (every subjob of an array) and return once the server
        shows no part of it unfinished; False when it had already finished.

        After qdel a running job stays in ``E`` until its execution host
        reports it killed, or for good if that host is gone. After
        ``cancel_force_after`` s it is deleted by force (PBS Pro ``qdel -W
        force``, Torque ``qdel -p``). Raises if part of it is still there
        ``cancel_timeout`` s after the qdel: it is then not cancelled."""
        sid = str(scheduler_job_id)
        if not self._qdel(sid):
            return False
        force = ("-W", "force") if self._pro else ("-p",)
        wait_until_gone(
            "PBS",
            sid,
            lambda: unended(parse_joined("pbs", self._qstat([sid], history=False))),
            lambda: self._qdel(sid, *force, check=False),
            force_after=self.cancel_force_after,
            timeout=self.cancel_timeout,
        )
        return True

    #: Seconds after qdel before a job the server still shows is deleted by force.
    cancel_force_after = 30.0
    #: Seconds to wait for the server to show a cancelled job ended.
    cancel_timeout = 120.0

    def _qdel(self, sid: str, *flags: str, check: bool = True) -> bool:
        """qdel; False when PBS says the job had already finished (or is unknown)."""
        argv = [self.options.qdel_path, *flags, sid]
        return ask_to_cancel(self._transport, "pbs", argv, timeout=self.options.poll_timeout, check=check)

    def _login_name(self) -> str | None:
        """The user the transport runs as there (``id -un``), asked once."""
        if self._caller is None:
            result = run(self._transport, ["id", "-un"], "id -un", timeout=self.options.poll_timeout)
            name = result.stdout.strip() if result.returncode == 0 else ""
            self._caller = name if name and not any(c.isspace() for c in name) else ""
        return self._caller or None

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        """The jobs of ``user`` (default: the user molq runs as on the server) that
        ``qstat -f`` shows. qstat has no "my jobs" form, so the caller's login is
        asked; when it cannot be told, the answer is empty, never everyone's jobs."""
        opts = self.options
        if user is None:
            user = self._login_name()
            if user is None:
                return []
        argv = [opts.qstat_path, "-f", *(["-F", "json"] if self._pro else [])]
        result = run(self._transport, argv, "qstat", timeout=opts.poll_timeout)
        if result.returncode != 0:
            raise refused("qstat", result, argv)
        return for_user(_core.parse_queue("pbs", result.stdout_bytes).entries(), user)

    def format_dependency(self, edge: DependencyEdge) -> str:
        try:
            return f"{_DEPENDENCY_KEYWORDS[edge.condition]}:{edge.scheduler_job_id}"
        except KeyError:
            raise ConfigError(f"Unsupported dependency condition {edge.condition!r} for {self.kind}") from None

    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str:
        """``afterok:1:2,afternotok:3``: one group per condition, in first-seen order."""
        groups: dict[str, list[str]] = {}
        for edge in edges:
            keyword = self.format_dependency(edge).split(":", 1)[0]
            groups.setdefault(keyword, []).append(edge.scheduler_job_id)
        return ",".join(f"{k}:{':'.join(ids)}" for k, ids in groups.items())

    def __repr__(self) -> str:
        return f"PBSScheduler(flavor={self.options.flavor!r}, transport={self._transport!r})"


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
