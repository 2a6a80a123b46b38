"""SGEScheduler: (Son of / Open) Grid Engine's qsub, qstat, qdel and qacct
through any transport.

A refresh costs one ``qstat -xml -u <user>`` (Grid Engine lists a user's
jobs, not a list of ids) and, for jobs that left it, one ``qacct -j`` over
the user's jobs that started since the oldest of them was submitted: qacct
takes a single job id, and scanning the accounting file once beats once
per job. The native core reads both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq import _core
from molq.errors import ConfigError, MolqError, SchedulerError, TransportError
from molq.options import SGESchedulerOptions
from molq.scheduler._batch import (
    QUERY_ENV,
    directive_value,
    for_user,
    job_ids_in_dirs,
    log_path_parts,
    priority_number,
    record_job_id_line,
    refused,
    run,
    submit_failed,
)
from molq.scheduler._cancel_wait import ask_to_cancel, wait_until_gone
from molq.scheduler._script import render_script
from molq.scheduler.base import OneJobQueries, oldest_submitted
from molq.transport.base import CommandResult, Transport
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import DependencyEdge
    from molq.submission import JobSpec

__all__ = ["SGEScheduler", "render_sge_directives", "literal_path", "log_path"]

# Characters a Grid Engine name may not hold (sge_types(5)), and blanks, which
# qsub refuses with a misleading "Error reading answer list from qmaster".
_BAD_NAME = re.compile(r"[/:@\\*?\s]")
# The job owner is whoever the transport runs as: ask the remote side.
_QSTAT_MINE = 'exec "$0" -xml -u "$(id -un)"'
_QACCT_MINE = 'exec "$0" -o "$(id -un)" -b "$1" -j'
# How far before the oldest tracked submission qacct looks (clock skew margin).
_QACCT_MARGIN = 86400.0


#: Written by the job script when it starts: which Grid Engine job runs it, so
#: that a job whose submitter never heard back is found after it left qmaster
#: (qacct keeps no marker of it).
JOB_ID_FILE = ".sge_job_id"


def literal_path(path: str) -> str:
    """``path`` as ``-wd``/``-o``/``-e`` must be given it to name exactly that.

    Grid Engine replaces ``$HOME``, ``$USER``, ``$JOB_ID``, ``$JOB_NAME``,
    ``$HOSTNAME`` and ``$TASK_ID`` in these paths, even as the start of a
    longer word (``$USERX`` is the user's name then ``X``); ``$$`` stands for
    one ``$`` (seen on SGE 8.1.9)."""
    return path.replace("$", "$$")


def log_path(literal: str, own: str) -> str:
    """The ``-o``/``-e`` value for a log path split by ``log_path_parts``.

    What molq added is taken literally. The name the user gave keeps Grid
    Engine's variables (``$TASK_ID``, ``$JOB_ID``...; ``$$`` for a ``$``), as
    qsub documents them, with molq's ``%a`` (the array task) and ``%A`` (the
    job) read as ``$TASK_ID`` and ``$JOB_ID``. A path with a colon gets an
    empty host in front (``:path``): qsub reads ``host:path``. (A comma, which
    separates qsub's path list, is refused before submission.)"""
    value = literal_path(literal) + own.replace("%a", "$TASK_ID").replace("%A", "$JOB_ID")
    return f":{value}" if ":" in value else value


def _job_name(name: str) -> str:
    cleaned = _BAD_NAME.sub("_", name)
    # a name starting with a digit would read as a job number
    return cleaned if cleaned and not cleaned[0].isdigit() else f"j{cleaned}"


def _memory(bytes_: int) -> str:
    """Grid Engine's memory syntax (K/M/G are powers of 1024), rounded up to KiB."""
    for unit, size in (("G", 1 << 30), ("M", 1 << 20)):
        if bytes_ and bytes_ % size == 0:
            return f"{bytes_ // size}{unit}"
    return f"{-(-bytes_ // 1024)}K"


def _task_range(spec: str) -> tuple[str, str | None]:
    """Slurm-style ``1-10:2%3`` -> (``1-10:2``, ``3``) for ``-t`` and ``-tc``."""
    array = _core.array_directive("sge", spec)
    return array.indices, (str(array.throttle) if array.throttle is not None else None)


def render_sge_directives(
    spec: JobSpec, options: SGESchedulerOptions | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """The ``#$`` lines for a spec, one option per line."""

    opts = options or SGESchedulerOptions()
    r, s, e = spec.resources, spec.scheduling, spec.execution
    lines: list[str] = []

    def add(flag: str, *values: object) -> None:
        lines.append(" ".join(["#$", flag, *(directive_value(str(v), "Grid Engine") for v in values)]))

    # -N always: without it some submissions fail in SGE 8.1.
    add("-N", _job_name(e.job_name or f"molq-{spec.job_id[:8]}"))
    add("-S", "/bin/bash")
    add("-wd", literal_path(spec.cwd))
    if s.partition:
        add("-q", s.partition)
    if s.account:
        add("-A", s.account)
    slots = 1
    if r.task_count is not None:
        if opts.mpi_pe_name is None:
            raise ConfigError("task_count on Grid Engine needs SGESchedulerOptions(mpi_pe_name=...)")
        slots = r.task_count * (r.cpu_count or 1)
        add("-pe", opts.mpi_pe_name, slots)
    elif r.cpu_count is not None and r.cpu_count > 1:
        if opts.pe_name is None:
            raise ConfigError("cpu_count on Grid Engine needs SGESchedulerOptions(pe_name=...)")
        slots = r.cpu_count
        add("-pe", opts.pe_name, slots)
    if r.memory is not None:
        # h_vmem is a limit per slot: the job's memory spread over its slots.
        add("-l", f"h_vmem={_memory(-(-r.memory.bytes // slots))}")
    if r.time_limit is not None:
        add("-l", f"h_rt={r.time_limit.to_pbs()}")
    add("-o", log_path(*log_path_parts(spec.stdout_path, spec.cwd, spec.job_dir, "stdout.log")))
    add("-e", log_path(*log_path_parts(spec.stderr_path, spec.cwd, spec.job_dir, "stderr.log")))
    if s.dependency:
        add("-hold_jid", s.dependency)
    if s.array_spec:
        tasks, limit = _task_range(s.array_spec)
        add("-t", tasks)
        if limit:
            add("-tc", limit)
    if s.priority:
        add("-p", priority_number(s.priority, "Grid Engine", -1023, 1024))
    if s.reservation:
        add("-ar", s.reservation)
    if s.email:
        add("-M", s.email)
        add("-m", "ae")
    # Marks the job as molq's, so a submission whose id was never recorded can be found.
    add("-ac", f"{_core.SGE_MARK_VARIABLE}={spec.job_id}")
    return lines + [f"#$ {x}" for x in extra]


class SGEScheduler(OneJobQueries):
    """The ``sge`` backend."""

    kind = "sge"

    def __init__(self, options: SGESchedulerOptions | None = None, *, transport: Transport | None = None) -> None:
        if transport is None:
            transport = LocalTransport()
        self.options = options if isinstance(options, SGESchedulerOptions) else SGESchedulerOptions()
        self._transport = transport

    @property
    def transport(self) -> Transport:
        return self._transport

    def capabilities(self) -> SchedulerCapabilities:
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        # No per-node placement, GPUs, QOS or exclusive hosts in a stock Grid Engine.
        unsupported = {
            "supports_gpu_count",
            "supports_gpu_type",
            "supports_qos",
            "supports_node_count",
            "supports_exclusive_node",
        }
        return SchedulerCapabilities(
            **{name: name not in unsupported for name in SchedulerCapabilities.__dataclass_fields__}
        )

    def render(self, spec: JobSpec, user_script_path: str | None = None) -> str:
        start = ["", record_job_id_line(spec.job_dir, JOB_ID_FILE, '"$JOB_ID"')] if spec.job_dir else []
        return render_script(spec, render_sge_directives(spec, self.options), user_script_path, start_lines=start)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script_path = f"{job_dir}/run_sge.sh"
        self._transport.write_text(script_path, self.render(spec, f"{job_dir}/user_script.sh"), mode=0o700)
        opts = self.options
        argv = [opts.qsub_path, "-terse", *opts.extra_qsub_flags, script_path]
        try:
            result = self._transport.run(argv, env=QUERY_ENV, timeout=opts.submit_timeout)
        except TransportError as exc:
            raise submit_failed("qsub", exc, argv) from exc
        if result.returncode != 0:
            raise refused("qsub", result, argv)
        try:
            return _core.parse_submit_id("sge", result.stdout_bytes)
        except MolqError as exc:
            # qsub said yes, but not in words molq can read
            raise SchedulerError(
                f"qsub accepted the job but its answer could not be read: {exc}",
                command=argv,
                stderr=result.stderr,
                outcome_unknown=True,
            ) from exc

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> Grid Engine job number for molq jobs (job_id, job_dir) it accepted.

        First qmaster's full listing (``qstat -j '*'``: the job's ``molq=<id>``
        context, or its script, which lies in its job directory); then, for
        the others, the file the job script writes into its job directory when
        it starts, which outlives qmaster's memory of the job. Raises when the
        listing cannot be read."""
        wanted = [(job_id, f"{job_dir}/run_sge.sh" if job_dir else "") for job_id, job_dir in jobs]
        argv = [self.options.qstat_path, "-j", "*"]
        result = run(self._transport, argv, "qstat", timeout=self.options.poll_timeout)
        # with no job at all qstat -j fails saying so: an empty listing
        if result.returncode != 0 and not _core.only_unknown_ids("sge", result.stderr_bytes):
            raise refused("qstat", result, argv)
        found = _core.find_sge_submissions(result.stdout_bytes, wanted)
        missing = [(job_id, job_dir) for job_id, job_dir in jobs if job_id not in found and job_dir]
        if missing:
            found.update(job_ids_in_dirs(self._read_files, JOB_ID_FILE, missing))
        return found

    def _read_files(self, argv: list[str]) -> CommandResult:
        return run(self._transport, argv, "reading job id files", timeout=self.options.poll_timeout)

    # -- tracking ------------------------------------------------------------------
    def _qstat(self, user: str | None) -> _core.Snapshot:
        opts = self.options
        if user:
            argv = [opts.qstat_path, "-xml", "-u", user]
        else:
            argv = ["sh", "-c", _QSTAT_MINE, opts.qstat_path]
        result = run(self._transport, argv, "qstat", timeout=opts.poll_timeout)
        if result.returncode != 0:
            raise refused("qstat", result, argv)
        return _core.parse_queue("sge", result.stdout_bytes)

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        """The user's whole queue: one qstat, whatever the number of jobs."""
        return self._qstat(None)

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None:
        """One qacct over the user's jobs started since the oldest submission."""
        opts = self.options
        oldest = (oldest_submitted(jobs) or time.time() - 7 * 86400) - _QACCT_MARGIN
        # qacct -b takes [[CC]YY]MMDDhhmm in the client's zone: UTC (QUERY_ENV).
        begin = time.strftime("%Y%m%d%H%M", time.gmtime(oldest))
        argv = ["sh", "-c", _QACCT_MINE, opts.qacct_path, begin]
        result = run(self._transport, argv, "qacct", timeout=opts.poll_timeout, env=QUERY_ENV)
        if result.returncode != 0:
            raise refused("qacct", result, argv)
        return _core.parse_accounting("sge", result.stdout_bytes)

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        """qdel the job (every task of an array) and return once qmaster no
        longer holds any of it; False when it had already finished.

        qdel only asks: the job lingers (``dr``) until its execution host
        reports it killed, or for good if that host is gone. After
        ``cancel_force_after`` s it is deleted with ``qdel -f`` (allowed to
        managers, or to all where qmaster_params has ENABLE_FORCED_QDEL).
        Raises if qmaster still holds it ``cancel_timeout`` s after the qdel:
        it is then not cancelled."""
        sid = str(scheduler_job_id)
        if not self._qdel(sid):
            return False
        wait_until_gone(
            "Grid Engine",
            sid,
            lambda: {sid: "held by qmaster"} if self._held(sid) else {},
            # refused unless allowed: the wait goes on, then fails at the limit
            lambda: self._qdel(sid, "-f", check=False),
            force_after=self.cancel_force_after,
            timeout=self.cancel_timeout,
        )
        return True

    #: Seconds after qdel before a job qmaster still holds is deleted with ``qdel -f``.
    cancel_force_after = 30.0
    #: Seconds to wait for qmaster to drop a cancelled job.
    cancel_timeout = 120.0

    def _qdel(self, sid: str, *flags: str, check: bool = True) -> bool:
        """qdel; False when Grid Engine no longer has the job (it had finished)."""
        argv = [self.options.qdel_path, *flags, sid]
        return ask_to_cancel(self._transport, "sge", argv, timeout=self.options.poll_timeout, check=check)

    def _held(self, sid: str) -> bool:
        """Whether qmaster still holds any part of job ``sid`` (``qstat -j``)."""
        argv = [self.options.qstat_path, "-j", sid]
        result = run(self._transport, argv, "qstat", timeout=self.options.poll_timeout)
        if result.returncode == 0:
            return True
        if _core.only_unknown_ids("sge", result.stderr_bytes):
            return False
        raise refused("qstat", result, argv)

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        """The jobs of ``user`` (default: whoever the transport runs as)."""
        return for_user(self._qstat(user).entries(), user)

    def format_dependency(self, edge: DependencyEdge) -> str:
        # -hold_jid waits for the listed jobs to end, however they end.
        if edge.condition != "after":
            raise ConfigError(
                f"Grid Engine can only wait for a job to end, whatever its outcome (-hold_jid): use "
                f"after=[...] instead of {edge.condition}"
            )
        return edge.scheduler_job_id

    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str:
        return ",".join(self.format_dependency(e) for e in edges)

    def __repr__(self) -> str:
        return f"SGEScheduler(transport={self._transport!r})"
