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
from molq.errors import ConfigError
from molq.options import SGESchedulerOptions
from molq.scheduler._batch import (
    QUERY_ENV,
    directive_value,
    for_user,
    priority_number,
    refused,
    run,
)
from molq.scheduler._script import render_script
from molq.scheduler.base import OneJobQueries, oldest_submitted
from molq.transport.base import Transport
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import DependencyEdge
    from molq.submission import JobSpec

__all__ = ["SGEScheduler", "render_sge_directives"]

# Characters a Grid Engine name may not hold (sge_types(5)), and blanks, which
# qsub refuses with a misleading "Error reading answer list from qmaster".
_BAD_NAME = re.compile(r"[/:@\\*?\s]")
# The job owner is whoever the transport runs as: ask the remote side.
_QSTAT_MINE = 'exec "$0" -xml -u "$(id -un)"'
_QACCT_MINE = 'exec "$0" -o "$(id -un)" -b "$1" -j'
# How far before the oldest tracked submission qacct looks (clock skew margin).
_QACCT_MARGIN = 86400.0


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
    add("-wd", spec.cwd)
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
    # $TASK_ID is an array task's index in Grid Engine file names (Slurm's %a).
    add("-o", spec.stdout_path.replace("%a", "$TASK_ID").replace("%A", "$JOB_ID"))
    add("-e", spec.stderr_path.replace("%a", "$TASK_ID").replace("%A", "$JOB_ID"))
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
        return render_script(spec, render_sge_directives(spec, self.options), user_script_path)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script_path = f"{job_dir}/run_sge.sh"
        self._transport.write_text(script_path, self.render(spec, f"{job_dir}/user_script.sh"), mode=0o700)
        opts = self.options
        argv = [opts.qsub_path, "-terse", *opts.extra_qsub_flags, script_path]
        result = run(self._transport, argv, "qsub", timeout=opts.submit_timeout)
        if result.returncode != 0:
            raise refused("qsub", result, argv)
        return _core.parse_submit_id("sge", result.stdout_bytes)

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
        """qdel; False when Grid Engine no longer has the job (it had finished)."""
        argv = [self.options.qdel_path, scheduler_job_id]
        result = run(self._transport, argv, "qdel", timeout=self.options.poll_timeout)
        answer = _core.parse_cancel("sge", result.returncode, result.stdout_bytes, result.stderr_bytes)
        if answer.outcome == "refused":
            raise refused(f"qdel {scheduler_job_id}", result, argv)
        return answer.outcome == "cancelled"

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
