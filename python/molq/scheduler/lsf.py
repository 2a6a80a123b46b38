"""LSFScheduler: IBM Spectrum LSF's bsub, bjobs, bkill and bhist through any transport.

The script goes to ``bsub`` on stdin (LSF reads ``#BSUB`` lines from there).
The queue is ``bjobs -o`` of the tracked ids in the field list the native
core exports (``_core.BJOBS_FORMAT``), which also shows jobs that finished
recently, with their exit codes; jobs bjobs has forgotten are read from
``bhist -l``. One command per chunk of ids, one native parse per kind.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq import _core, _original_names
from molq.errors import ConfigError, MolqError, SchedulerError, TransportError
from molq.options import LSFSchedulerOptions
from molq.scheduler._batch import (
    QUERY_ENV,
    chunks,
    directive_value,
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

__all__ = ["LSFScheduler", "render_bsub_directives"]

_CONDITIONS = {
    "after_started": "started",
    "after_success": "done",
    "after_failure": "exit",
    "after": "ended",
}
# bhist -l prints years only when asked; times then read as UTC.
_ENV = {**QUERY_ENV, "LSB_DISPLAY_YEAR": "Y"}
_ARRAY_NAME = re.compile(r"[^A-Za-z0-9._-]")
# Killed while its host was unreachable: read as failed, but it may still run there.
_STILL_ON_A_LOST_HOST = frozenset({"ZOMBI"})


#: Written by the job script when it starts: which LSF job runs it, so that a
#: job whose submitter never heard back is found after bjobs forgot it
#: (bhist shows no description).
JOB_ID_FILE = ".lsf_job_id"


def _now_line() -> bytes:
    """bjobs prints times without a year: the parser places them before this moment."""
    return f"#now {time.time():.0f}".encode()


def _lsf_array(spec: str) -> str:
    """Slurm-style ``1-10%2`` -> LSF's ``[1-10]%2`` (lists and ``:step`` pass through)."""
    array = _core.array_directive("lsf", spec)
    return f"[{array.indices}]" + (f"%{array.throttle}" if array.throttle is not None else "")


def render_bsub_directives(spec: JobSpec, extra: Sequence[str] = ()) -> list[str]:
    """The ``#BSUB`` lines for a spec, one option per line."""
    r, s, e = spec.resources, spec.scheduling, spec.execution
    lines: list[str] = []

    def add(flag: str, value: object | None = None) -> None:
        lines.append(f"#BSUB {flag}" if value is None else f"#BSUB {flag} {directive_value(str(value), 'LSF')}")

    name = e.job_name or f"molq-{spec.job_id[:8]}"
    if s.array_spec:
        # An array's name may hold only letters, digits, '.', '-' and '_'.
        add("-J", _ARRAY_NAME.sub("_", name) + _lsf_array(s.array_spec))
    else:
        add("-J", name)
    if s.partition:
        add("-q", s.partition)
    if s.account:
        add("-P", s.account)
    nodes = s.node_count
    if r.task_count is not None:
        # MPI style: task_count slots; each task's CPUs through affinity.
        add("-n", r.task_count)
        if nodes is not None:
            if r.task_count % nodes:
                raise ConfigError(f"LSF needs task_count ({r.task_count}) to be a multiple of node_count ({nodes})")
            add("-R", f"span[ptile={r.task_count // nodes}]")
        if r.cpu_count is not None and r.cpu_count > 1:
            add("-R", f"affinity[core({r.cpu_count})]")
    elif r.cpu_count is not None or nodes is not None:
        per_node = r.cpu_count or 1
        add("-n", per_node * (nodes or 1))
        add("-R", f"span[ptile={per_node}]" if nodes else "span[hosts=1]")
    if r.memory is not None:
        kb = r.memory.to_lsf_kb()
        add("-M", f"{kb}KB")
        add("-R", f"rusage[mem={kb}KB]")
    if r.time_limit is not None:
        add("-W", r.time_limit.to_lsf_minutes())
    # %I is an array element's index in LSF file names (Slurm's %a), %J the job
    # id: molq's patterns in the user's name only (%J and %I in what molq
    # adds are refused before submission: LSF cannot escape them).
    for flag, path, default in (("-o", spec.stdout_path, "stdout.log"), ("-e", spec.stderr_path, "stderr.log")):
        literal, own = log_path_parts(path, spec.cwd, spec.job_dir, default)
        add(flag, literal + own.replace("%a", "%I").replace("%A", "%J"))
    if r.gpu_count is not None:
        add("-gpu", f"num={r.gpu_count}" + (f":gmodel={r.gpu_type}" if r.gpu_type else ""))
    if s.exclusive_node:
        add("-x")
    if s.dependency:
        add("-w", s.dependency)
    if s.priority:
        add("-sp", priority_number(s.priority, "LSF", 1, 65535))
    if s.reservation:
        add("-U", s.reservation)
    if s.email:
        add("-u", s.email)
        add("-N")
    # Marks the job as molq's, so a submission whose id was never recorded can be found.
    add("-Jd", f"{_core.LSF_MARK}{spec.job_id}")
    return lines + [f"#BSUB {x}" for x in extra]


class LSFScheduler(OneJobQueries):
    """The ``lsf`` backend."""

    kind = "lsf"

    def __init__(self, options: LSFSchedulerOptions | None = None, *, transport: Transport | None = None) -> None:
        if transport is None:
            transport = LocalTransport()
        self.options = options if isinstance(options, LSFSchedulerOptions) else LSFSchedulerOptions()
        self._transport = transport

    @property
    def transport(self) -> Transport:
        return self._transport

    def capabilities(self) -> SchedulerCapabilities:
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        return SchedulerCapabilities(
            **{name: name != "supports_qos" for name in SchedulerCapabilities.__dataclass_fields__}
        )

    def render(self, spec: JobSpec, user_script_path: str | None = None) -> str:
        start = ["", record_job_id_line(spec.job_dir, JOB_ID_FILE, '"$LSB_JOBID"')] if spec.job_dir else []
        return render_script(spec, render_bsub_directives(spec), user_script_path, start_lines=start)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script = self.render(spec, f"{job_dir}/user_script.sh")
        # Kept in the job directory for reference; bsub reads it on stdin.
        self._transport.write_text(f"{job_dir}/run_lsf.sh", script, mode=0o700)
        opts = self.options
        argv = [opts.bsub_path, *opts.extra_bsub_flags]
        try:
            result = self._transport.run(argv, env=_ENV, input=script, timeout=opts.submit_timeout)
        except TransportError as exc:
            raise submit_failed("bsub", exc, argv) from exc
        if result.returncode != 0:
            raise refused("LSF submission failed: bsub", result, argv)
        try:
            return _core.parse_submit_id("lsf", result.stdout_bytes)
        except MolqError as exc:
            # bsub said yes, but not in words molq can read
            raise SchedulerError(
                f"bsub accepted the job but its answer could not be read: {exc}",
                command=argv,
                stderr=result.stderr,
                outcome_unknown=True,
            ) from exc

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> LSF job id for molq jobs (job_id, job_dir) LSF accepted.

        First ``bjobs -a`` (the caller's jobs, recently finished ones too), by
        the job's ``molq:<id>`` description; then, for the others, the file
        the job script writes into its job directory when it starts. Raises
        when bjobs cannot be read."""
        argv = [self.options.bjobs_path, "-a", "-noheader", "-o", _core.BJOBS_MARKS_FORMAT]
        result = run(self._transport, argv, "bjobs", timeout=self.options.poll_timeout, env=_ENV)
        # "No job found" with nothing to list: an empty answer
        if result.returncode != 0 and not _core.only_unknown_ids("lsf", result.stderr_bytes):
            raise refused("bjobs", result, argv)
        found = _core.find_lsf_submissions(result.stdout_bytes, [job_id for job_id, _ in jobs])
        missing = [(job_id, job_dir) for job_id, job_dir in jobs if job_id not in found and job_dir]
        if missing:
            found.update(job_ids_in_dirs(self._read_files, JOB_ID_FILE, missing))
        return found

    def _read_files(self, argv: list[str]) -> CommandResult:
        return run(self._transport, argv, "reading job id files", timeout=self.options.poll_timeout)

    # -- tracking ------------------------------------------------------------------
    def _each_chunk(self, base: list[str], ids: Sequence[str], what: str) -> list[bytes]:
        outputs = []
        for chunk in chunks(ids, self.options.poll_chunk_size):
            argv = [*base, *chunk]
            result = run(self._transport, argv, what, timeout=self.options.poll_timeout, env=_ENV)
            # Ids LSF does not know are named on stderr (rc 255) while the
            # others are listed: a complete answer for this chunk.
            if result.returncode != 0 and not _core.only_unknown_ids("lsf", result.stderr_bytes):
                raise refused(what, result, argv)
            outputs.append(result.stdout_bytes)
        return outputs

    def _bjobs(self) -> list[str]:
        return [self.options.bjobs_path, "-noheader", "-o", _core.BJOBS_FORMAT]

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        """bjobs for the tracked ids: live jobs, and finished ones LSF still holds."""
        ids = scheduler_ids(jobs)
        return parse_joined("lsf", [_now_line(), *self._each_chunk(self._bjobs(), ids, "bjobs")])

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None:
        """``bhist -l`` for jobs bjobs no longer shows, one command per chunk."""
        ids = scheduler_ids(jobs)
        outputs = self._each_chunk([self.options.bhist_path, "-l"], ids, "bhist")
        return parse_joined("lsf", [_now_line(), *outputs], accounting=True)

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        """bkill the job (every element of an array) and return once bjobs
        shows no part of it unfinished; False when it had already finished.

        bjobs shows a killed job running until its execution host reports the
        end, and for good if that host is gone (``UNKWN``, then ``ZOMBI``).
        After ``cancel_force_after`` s it is removed from LSF with ``bkill
        -r`` (ignored unless allowed, under PRIVILEGED_USER_FORCE_BKILL).
        Raises if part of it is still there ``cancel_timeout`` s after the
        bkill: it is then not cancelled."""
        sid = str(scheduler_job_id)
        if not self._bkill(sid):
            return False
        wait_until_gone(
            "LSF",
            sid,
            lambda: unended(self._listed(sid), stuck_states=_STILL_ON_A_LOST_HOST),
            lambda: self._bkill(sid, "-r", check=False),
            force_after=self.cancel_force_after,
            timeout=self.cancel_timeout,
        )
        return True

    #: Seconds after bkill before a job bjobs still shows is removed with ``bkill -r``.
    cancel_force_after = 30.0
    #: Seconds to wait for bjobs to show a cancelled job ended.
    cancel_timeout = 120.0

    def _bkill(self, sid: str, *flags: str, check: bool = True) -> bool:
        """bkill; False when LSF says the job had already finished (or is unknown)."""
        argv = [self.options.bkill_path, *flags, sid]
        return ask_to_cancel(self._transport, "lsf", argv, timeout=self.options.poll_timeout, check=check, env=_ENV)

    def _listed(self, sid: str) -> _core.Snapshot:
        """What bjobs shows of job ``sid`` (each element of an array)."""
        return parse_joined("lsf", [_now_line(), *self._each_chunk(self._bjobs(), [sid], "bjobs")])

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        """The caller's unfinished jobs (bjobs' default), or ``user``'s."""
        argv = self._bjobs() + (["-u", user] if user else [])
        result = run(self._transport, argv, "bjobs", timeout=self.options.poll_timeout, env=_ENV)
        if result.returncode != 0 and not _core.only_unknown_ids("lsf", result.stderr_bytes):
            raise refused("bjobs", result, argv)
        return _core.parse_queue("lsf", _now_line() + b"\n" + result.stdout_bytes).entries()

    def format_dependency(self, edge: DependencyEdge) -> str:
        try:
            return f"{_CONDITIONS[edge.condition]}({edge.scheduler_job_id})"
        except KeyError:
            raise ConfigError(f"Unsupported dependency condition {edge.condition!r} for {self.kind}") from None

    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str:
        return " && ".join(self.format_dependency(e) for e in edges)

    def __repr__(self) -> str:
        return f"LSFScheduler(transport={self._transport!r})"


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
