"""SlurmScheduler: sbatch, squeue, sacct and scancel through any transport.

The native core owns the output formats: the squeue format string and sacct
field list come from ``molq._core`` and its parsers read exactly those. Every
command runs with ``SLURM_TIME_FORMAT=%s`` so times arrive as epoch seconds,
whatever the cluster's time zone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq import _core, _original_names
from molq.errors import ConfigError, MolqError, SchedulerError, TransportError
from molq.options import SlurmSchedulerOptions
from molq.scheduler._batch import chunks, directive_value, job_ids_in_dirs, parse_joined, record_job_id_line
from molq.scheduler._script import render_script
from molq.scheduler.base import OneJobQueries, oldest_submitted, scheduler_ids
from molq.transport.base import CommandResult, Transport
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import DependencyEdge
    from molq.submission import JobSpec

__all__ = ["SlurmScheduler", "render_sbatch_directives", "literal_filename", "log_filename"]

_ENV = {"SLURM_TIME_FORMAT": "%s"}
_DEPENDENCY_KEYWORDS = {
    "after_started": "after",
    "after_success": "afterok",
    "after_failure": "afternotok",
    "after": "afterany",
}
# Above this many tracked jobs one `squeue --me` is cheaper than chunks of -j.
_POLL_ALL_THRESHOLD = 2000
# How far before the oldest tracked job sacct looks back (clock skew margin).
_SACCT_MARGIN = 86400.0


def render_sbatch_directives(spec: JobSpec, extra: Sequence[str] = ()) -> list[str]:
    """The ``#SBATCH`` lines for a spec, one option per line."""
    r, s, e = spec.resources, spec.scheduling, spec.execution
    opts: list[str] = []

    def add(option: str, value: object | None = None) -> None:
        opts.append(option if value is None else f"{option}={directive_value(str(value), 'sbatch')}")

    if s.partition:
        add("--partition", s.partition)
    if r.task_count is not None:
        # MPI style: that many tasks, each with cpu_count CPUs.
        add("--ntasks", r.task_count)
        if r.cpu_count is not None:
            add("--cpus-per-task", r.cpu_count)
    elif r.cpu_count is not None:
        # One process that may use cpu_count CPUs (threads, a process pool).
        add("--ntasks", 1)
        add("--cpus-per-task", r.cpu_count)
    if r.memory is not None:
        add("--mem", r.memory.to_slurm())
    if r.time_limit is not None:
        add("--time", r.time_limit.to_slurm())
    add("--job-name", e.job_name or f"molq-{spec.job_id[:8]}")
    add("--output", log_filename(spec.stdout_path, e.cwd, spec.stdout_path == f"{spec.job_dir}/stdout.log"))
    add("--error", log_filename(spec.stderr_path, e.cwd, spec.stderr_path == f"{spec.job_dir}/stderr.log"))
    if r.gpu_count is not None:
        add("--gres", f"gpu:{r.gpu_type}:{r.gpu_count}" if r.gpu_type else f"gpu:{r.gpu_count}")
    if s.node_count is not None:
        add("--nodes", s.node_count)
    if s.exclusive_node:
        add("--exclusive")
    if s.account:
        add("--account", s.account)
    if s.qos:
        add("--qos", s.qos)
    if s.dependency:
        add("--dependency", s.dependency)
        # An unsatisfiable dependency (after_failure of a job that succeeded)
        # ends the job instead of leaving it pending forever.
        add("--kill-on-invalid-dep", "yes")
    if s.array_spec:
        array = _core.array_directive("slurm", s.array_spec)
        add("--array", array.indices + (f"%{array.throttle}" if array.throttle is not None else ""))
    if s.reservation:
        add("--reservation", s.reservation)
    if s.email:
        add("--mail-user", s.email)
        add("--mail-type", "END,FAIL")
    # Marks the job as molq's, so a submission whose id was never recorded can be found.
    add("--comment", f"molq:{spec.job_id}")
    return [f"#SBATCH {o}" for o in opts] + [f"#SBATCH {x}" for x in extra]


def literal_filename(path: str) -> str:
    """``path`` as sbatch must be given it to open exactly that file.

    Slurm reads ``--output``/``--error`` as filename patterns (``%j`` is the
    job id, ``%x`` its name): a path holding ``%`` or ``\\`` names another
    file, or one whose folder does not exist, and the job dies before it runs.
    A path with a backslash is read without patterns, each ``\\c`` as ``c``
    (so ``\\`` stands for a backslash); one without, with ``%%`` for ``%``.
    The directive line itself reads ``\\`` as one backslash, so each is doubled
    once more for it."""
    if "\\" in path:
        return path.replace("\\", "\\" * 4)
    return path.replace("%", "%%")


def log_filename(path: str, cwd: object, molq_default: bool) -> str:
    """The ``--output``/``--error`` value for the log file at ``path``.

    What molq adds is taken literally: its default log in the job directory,
    and the working directory in front of a relative name. The name the user
    gave keeps Slurm's filename patterns (``%a`` for an array task, ``%j``,
    ``%%`` for a ``%``), as sbatch documents them and as scripts written for
    Slurm use them. A backslash anywhere turns Slurm's patterns off, so such a
    path is taken literally as a whole."""
    if molq_default or "\\" in path:
        return literal_filename(path)
    prefix = str(cwd or "").rstrip("/") + "/"
    if path.startswith(prefix):
        return literal_filename(prefix) + path[len(prefix) :]
    return path


#: Written by the job script when it starts: which Slurm job runs it, so that a
#: job whose submitter never heard back is found even after Slurm forgot it.
JOB_ID_FILE = ".slurm_job_id"


def _start_lines(spec: JobSpec) -> list[str]:
    return ["", record_job_id_line(spec.job_dir, JOB_ID_FILE, '"${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}"')]


class SlurmScheduler(OneJobQueries):
    """The ``slurm`` backend."""

    kind = "slurm"

    def __init__(self, options: SlurmSchedulerOptions | None = None, *, transport: Transport | None = None) -> None:
        if transport is None:
            transport = LocalTransport()
        self.options = options or SlurmSchedulerOptions()
        self._transport = transport

    @property
    def transport(self) -> Transport:
        return self._transport

    def capabilities(self) -> SchedulerCapabilities:
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        return SchedulerCapabilities(
            **{name: True for name in SchedulerCapabilities.__dataclass_fields__ if name != "supports_priority"}
        )

    # -- commands ------------------------------------------------------------------
    def _run(self, argv: list[str], what: str, *, timeout: float, input: str | None = None) -> CommandResult:
        try:
            return self._transport.run(argv, env=_ENV, timeout=timeout, input=input)
        except TransportError as exc:
            raise SchedulerError(f"{what} failed: {exc}", command=argv, stderr=exc.stderr) from exc

    def render(self, spec: JobSpec, user_script_path: str | None = None) -> str:
        start = _start_lines(spec) if spec.job_dir else []
        return render_script(spec, render_sbatch_directives(spec), user_script_path, start_lines=start)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script_path = f"{job_dir}/run_slurm.sh"
        self._transport.write_text(script_path, self.render(spec, f"{job_dir}/user_script.sh"), mode=0o700)
        opts = self.options
        argv = [opts.sbatch_path, "--parsable", *opts.extra_sbatch_flags, script_path]
        try:
            result = self._transport.run(argv, env=_ENV, timeout=opts.submit_timeout)
        except TransportError as exc:
            hint = ""
            if "timed out" in str(exc):
                hint = " (sbatch keeps retrying while Slurm refuses new jobs, e.g. when MaxJobCount is reached)"
            # unless sbatch never started, it may have been accepted before the
            # answer was lost: never read as "not submitted" (molq looks for
            # the job by its marker instead)
            started = getattr(exc, "may_have_run", True) and exc.returncode != 127
            raise SchedulerError(
                f"sbatch did not complete{hint}: {exc}",
                command=argv,
                stderr=exc.stderr,
                outcome_unknown=started,
                transient=not started,
            ) from exc
        if result.returncode != 0:
            raise SchedulerError(
                f"SLURM submission failed: sbatch rejected the job (exit {result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}",
                command=argv,
                stderr=result.stderr,
                transient=_core.classify_submit_refusal("slurm", result.stderr_bytes) == "transient",
            )
        try:
            return _core.parse_submit_id("slurm", result.stdout_bytes)
        except MolqError as exc:
            # sbatch said yes, but not in words molq can read
            raise SchedulerError(
                f"sbatch accepted the job but its answer could not be read: {exc}",
                command=argv,
                stderr=result.stderr,
                outcome_unknown=True,
            ) from exc

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> Slurm id for molq jobs (job_id, job_dir) Slurm accepted.

        Looked for through every channel, each only for the jobs the ones
        before did not find: the queue (the job's ``molq:<id>`` comment, or its
        script path, which lies in its job directory); the file the job
        script writes into its job directory when it starts (so a job Slurm
        has long forgotten is found); then accounting (the script path on the
        stored submit line: the comment is stored only on some sites).
        Raises when the queue cannot be read."""
        # (job_id, its batch script): the core matches marks and scripts
        wanted = [(job_id, f"{job_dir}/run_slurm.sh" if job_dir else "") for job_id, job_dir in jobs]
        argv = [self.options.squeue_path, "--me", "-h", "-o", _core.SQUEUE_MARKS_FORMAT]
        result = self._run(argv, "squeue", timeout=self.options.poll_timeout)
        if result.returncode != 0:
            raise SchedulerError(f"squeue failed: {result.stderr.strip()}", command=argv, stderr=result.stderr)
        found = _core.find_slurm_submissions("squeue", result.stdout_bytes, wanted)
        missing = [(job_id, job_dir) for job_id, job_dir in jobs if job_id not in found and job_dir]
        if missing:
            found.update(self._started_here(missing))
        if len(found) < len(wanted):
            argv = [self.options.sacct_path, "-X", "-n", "-P", "-o", _core.SACCT_MARKS_FIELDS, "-S", "now-7days"]
            result = self._run(argv, "sacct", timeout=self.options.poll_timeout)
            if result.returncode == 0:
                rest = [job for job in wanted if job[0] not in found]
                found.update(_core.find_slurm_submissions("sacct", result.stdout_bytes, rest))
        return found

    def _started_here(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> Slurm id from the job id file of each job that started."""
        return job_ids_in_dirs(
            lambda argv: self._run(argv, "reading job id files", timeout=self.options.poll_timeout), JOB_ID_FILE, jobs
        )

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        """squeue for the tracked ids (one ``--me`` listing when there are many);
        the outputs of all chunks are parsed in one native call."""
        opts = self.options
        base = [opts.squeue_path, "-h", "-o", _core.SQUEUE_FORMAT]
        if len(jobs) > _POLL_ALL_THRESHOLD:
            return parse_joined("slurm", [self._squeue(base + ["--me"])])
        ids = scheduler_ids(jobs)
        outputs = [self._squeue(base + ["-j", ",".join(chunk)]) for chunk in chunks(ids, opts.poll_chunk_size)]
        return parse_joined("slurm", outputs)

    def _squeue(self, argv: list[str]) -> bytes:
        result = self._run(argv, "squeue", timeout=self.options.poll_timeout)
        if result.returncode != 0:
            # squeue -j with only ids Slurm has already forgotten: a valid "not in the queue".
            if _core.only_unknown_ids("slurm", result.stderr_bytes):
                return b""
            raise SchedulerError(
                f"squeue failed (exit {result.returncode}): {result.stderr.strip()}",
                command=argv,
                stderr=result.stderr,
            )
        return result.stdout_bytes

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> _core.Snapshot | None:
        """One sacct per chunk, bounded by the oldest job's submit time."""
        opts = self.options
        # submitted_at is 0 when unknown: then look back a week.
        oldest = oldest_submitted(jobs) or time.time() - 7 * 86400
        start = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(oldest - _SACCT_MARGIN))
        outputs = []
        for chunk in chunks(scheduler_ids(jobs), opts.poll_chunk_size):
            argv = [
                opts.sacct_path,
                "-X",
                "-n",
                "-P",
                "--noconvert",
                "-o",
                _core.SACCT_FIELDS,
                "-S",
                start,
                "-j",
                ",".join(chunk),
            ]
            result = self._run(argv, "sacct", timeout=opts.poll_timeout)
            if result.returncode != 0:
                raise SchedulerError(
                    f"sacct failed (exit {result.returncode}): {result.stderr.strip()}",
                    command=argv,
                    stderr=result.stderr,
                )
            outputs.append(result.stdout_bytes)
        return parse_joined("slurm", outputs, accounting=True)

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        """scancel the job (every task of an array) and return once Slurm says
        none of it runs; False when it had already finished.

        After scancel a job that ignores SIGTERM runs on until Slurm's
        KillWait ends (30 s by default) and takes no other signal meanwhile
        (a SIGKILL through scancel starts the same wait), so the only honest
        answer is to wait for Slurm to confirm the end. Raises if Slurm still
        shows the job ``cancel_timeout`` s later: it is then not cancelled."""
        sid = str(scheduler_job_id)
        if not self._live_tasks(sid):
            return self._scancel(sid)
        self._scancel(sid)
        alive = self._wait_ended(sid, self.cancel_timeout)
        if alive:
            raise SchedulerError(
                f"Slurm job {sid} still runs {self.cancel_timeout:g} s after it was cancelled "
                f"({', '.join(f'{k} {v}' for k, v in sorted(alive.items()))}); it is not recorded as cancelled",
                scheduler_job_id=sid,
            )
        return True

    #: Seconds to wait for Slurm to confirm a cancelled job has ended (its
    #: KillWait, then UnkillableStepTimeout, with a margin).
    cancel_timeout = 180.0

    def _scancel(self, sid: str, *flags: str) -> bool:
        """scancel; False when Slurm says the job had already finished."""
        argv = [self.options.scancel_path, "--verbose", *flags, sid]
        result = self._run(argv, "scancel", timeout=self.options.poll_timeout)
        answer = _core.parse_cancel("slurm", result.returncode, result.stdout_bytes, result.stderr_bytes)
        if answer.outcome == "already_ended":
            return False
        if answer.outcome == "refused":
            raise SchedulerError(
                f"scancel {sid} failed (exit {result.returncode}): {answer.message}",
                command=argv,
                stderr=result.stderr,
            )
        return True

    def _live_tasks(self, sid: str) -> dict[str, str]:
        """Slurm id (``<id>_<task>`` for array tasks) -> state, of the parts of
        job ``sid`` that have not ended (pending, running, completing...)."""
        argv = [self.options.squeue_path, "-h", "-r", "-j", sid, "-o", _core.SQUEUE_TASKS_FORMAT]
        result = self._run(argv, "squeue", timeout=self.options.poll_timeout)
        if result.returncode != 0:
            if _core.only_unknown_ids("slurm", result.stderr_bytes):
                return {}
            raise SchedulerError(
                f"squeue failed (exit {result.returncode}): {result.stderr.strip()}", command=argv, stderr=result.stderr
            )
        return _core.parse_slurm_live_tasks(result.stdout_bytes)

    def _wait_ended(self, sid: str, seconds: float) -> dict[str, str]:
        """Wait up to ``seconds`` for every part of ``sid`` to end; what still lives."""
        deadline = time.monotonic() + seconds
        pause = 0.1
        while True:
            alive = self._live_tasks(sid)
            if not alive or time.monotonic() >= deadline:
                return alive
            time.sleep(pause)
            pause = min(pause * 1.5, 1.0)

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        argv = [self.options.squeue_path, "-h", "-o", _core.SQUEUE_FORMAT]
        argv += ["-u", user] if user else ["--me"]
        return _core.parse_queue("slurm", self._squeue(argv)).entries()

    def format_dependency(self, edge: DependencyEdge) -> str:
        try:
            return f"{_DEPENDENCY_KEYWORDS[edge.condition]}:{edge.scheduler_job_id}"
        except KeyError:
            raise ConfigError(f"Unsupported dependency condition {edge.condition!r} for {self.kind}") from None

    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str:
        return ",".join(self.format_dependency(e) for e in edges)

    def __repr__(self) -> str:
        return f"SlurmScheduler(transport={self._transport!r})"


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
