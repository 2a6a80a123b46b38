"""ShellScheduler: the ``local`` backend, a scheduler for machines with no batch system.

It shares the machine's CPUs, memory and GPUs between the jobs of every
submitter (``_local_slots``: a slot directory and a lock, no daemon), holds a
job that does not fit or whose dependencies have not happened yet, and runs
each job detached, in a session of its own, under a bash wrapper that
enforces its time and memory limits and records how it ended
(``_local_scripts`` lists the files of a job directory).

A job's scheduler id is its number in the slot directory. A job is reported
queued until its wrapper starts, running while any of its processes lives,
ended only once none does; ``cancel`` returns only once none does (SIGTERM to
the group and session, the grace period, then SIGKILL until they are gone).

Every interaction is one bash command through the transport, so the same
backend drives this machine or a remote workstation over SSH; on this
machine a submit starts the wrapper directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from molq import _core, _original_names
from molq.errors import ConfigError, SchedulerError, TransportError
from molq.scheduler import _local_queue
from molq.scheduler._local_scripts import CANCEL, FIND, POLL, REMOTE_SUBMIT, WRAPPER
from molq.scheduler._script import render_script
from molq.scheduler.base import DependencyEdge, OneJobQueries, _terminal_from
from molq.transport.base import Transport
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from molq.models import SchedulerCapabilities
    from molq.options import LocalSchedulerOptions
    from molq.scheduler.base import TerminalStatus
    from molq.status import JobState
    from molq.submission import JobSpec
    from molq.types import JobResources

__all__ = ["ShellScheduler"]

# molq's dependency conditions in Slurm's words, which the slot dispatcher reads
_DEPENDENCY_KEYWORDS = {
    "after_started": "after",
    "after_success": "afterok",
    "after_failure": "afternotok",
    "after": "afterany",
}

# Characters that would break a status line if an id held them.
_UNFRAMEABLE = ("\x00", "\n", "\r", "|", "\t")


def _frame(pairs: Iterable[tuple[str, str]]) -> tuple[bytes, int]:
    """NUL-terminated (id, job dir) pairs for the status scripts, and how many.

    A pair that cannot be framed (a NUL in an old record, an id that would
    break its status line) is left out: that job gets no evidence this time,
    and no other job is affected."""
    chunks = []
    for key, path in pairs:
        if any(ch in key for ch in _UNFRAMEABLE) or "\x00" in path:
            continue
        chunks.append(f"{key}\x00{path}\x00")
    return "".join(chunks).encode("utf-8", "surrogateescape"), len(chunks)


def _log_paths(spec: JobSpec) -> tuple[str, str]:
    """Where the job's stdout and stderr go: the paths a molq submission
    resolved; for a spec built by hand (the original's API), its execution's
    files, relative to its working directory, or /dev/null as the original did."""
    execution = getattr(spec, "execution", None)
    cwd = str(getattr(execution, "cwd", None) or spec.cwd or "")
    paths = []
    for resolved, given in (
        (spec.stdout_path, getattr(execution, "output_file", None)),
        (spec.stderr_path, getattr(execution, "error_file", None)),
    ):
        path = resolved or (str(given) if given else "/dev/null")
        paths.append(path if path.startswith("/") or not cwd else f"{cwd.rstrip('/')}/{path}")
    return paths[0], paths[1]


class ShellScheduler(OneJobQueries):
    """The ``local`` backend: no batch system, one detached process group per job."""

    kind = "local"
    parser_kind = "shell"

    def __init__(
        self,
        options: LocalSchedulerOptions | None = None,
        *,
        transport: Transport | None = None,
        submit_timeout: float = 30.0,
        poll_timeout: float = 30.0,
        cancel_grace: int = 3,
    ) -> None:
        if transport is None:
            transport = LocalTransport()
        self.options = options
        self._transport = transport
        self._submit_timeout = submit_timeout
        self._poll_timeout = poll_timeout
        self._cancel_grace = cancel_grace

    @property
    def transport(self) -> Transport:
        return self._transport

    def capabilities(self) -> SchedulerCapabilities:
        from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

        return SchedulerCapabilities(
            supports_cwd=True,
            supports_env=True,
            supports_output_file=True,
            supports_error_file=True,
            supports_job_name=True,
            supports_cpu_count=True,
            supports_memory=True,
            supports_gpu_count=True,
            supports_time_limit=True,
            supports_dependency=True,
            supports_array_jobs=True,
        )

    def render(self, spec: JobSpec, user_script_path: str | None = None) -> str:
        return render_script(spec, (), user_script_path)

    @property
    def _here(self) -> bool:
        return getattr(self._transport, "spawn_detached", None) is not None

    def _slots_dir(self) -> str:
        """The slot directory: the options', else ``$MOLQ_LOCAL_SLOTS`` or
        ``<molq home>/local-slots`` here, "" for the remote default
        (``~/.molq/local-slots`` there)."""
        given: str | None = getattr(self.options, "slots_dir", None)
        if given:
            return os.path.expanduser(given) if self._here else given
        if self._here:
            from molq._home import molq_home  # deferred: only a local submit needs it

            return os.environ.get("MOLQ_LOCAL_SLOTS") or str(molq_home() / "local-slots")
        return ""

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script = self.render(spec, f"{job_dir}/user_script.sh")
        ask = _local_queue.Ask.of(spec)
        needs = _local_queue.dependency_line(spec)
        array_spec = spec.scheduling.array_spec
        tasks, throttle = _core.array_task_ids(array_spec) if array_spec else ([], None)
        stdout, stderr = _log_paths(spec)
        launch = "".join(
            f"{field}\x00"
            for field in (stdout, stderr, self._cancel_grace, ask.time_limit_s, ask.memory_kib, int(ask.pin_cpus))
        )
        if self._here:
            return self._submit_here(job_dir, script, ask, needs, launch, tasks, throttle)
        self._transport.write_text(f"{job_dir}/run.sh", script, mode=0o700)
        options = self.options
        memory = getattr(options, "memory", None)
        gpus = getattr(options, "gpus", None)
        capacity = (
            str(getattr(options, "cpus", None) or ""),
            str(memory.bytes // 1024) if memory is not None else "",
            (",".join(gpus) or "-") if gpus is not None else "",
        )
        argv = [
            "bash", "-c", REMOTE_SUBMIT, "molq-submit", self._slots_dir(), job_dir, WRAPPER,
            *launch.split("\x00")[:-1], needs, str(ask.cpus), str(ask.memory_kib), str(ask.gpus), *capacity,
            str(throttle or ""), "array" if tasks else "",
        ]  # fmt: skip
        try:
            result = self._transport.run(
                argv, input="".join(f"{t}\n" for t in tasks).encode(), timeout=self._submit_timeout
            )
        except TransportError as exc:
            raise SchedulerError(
                f"could not start the local job: {exc}", command=exc.command, stderr=exc.stderr
            ) from exc
        if result.returncode != 0:
            raise SchedulerError(
                f"could not start the local job (exit {result.returncode}): "
                f"{result.stderr.strip() or 'no error output'}",
                stderr=result.stderr,
                command=list(result.argv),
            )
        if result.stdout.startswith("refused "):
            raise ConfigError(result.stdout.strip().removeprefix("refused ") + " (LocalSchedulerOptions sets it)")
        return _core.parse_submit_id(self.parser_kind, result.stdout_bytes)

    def _submit_here(
        self,
        job_dir: str,
        script: str,
        ask: _local_queue.Ask,
        needs: str,
        launch: str,
        tasks: Sequence[int],
        throttle: int | None,
    ) -> str:
        """This machine: queue the job and start its wrapper, which dispatches
        under the lock it inherits and runs the job at once when it fits."""
        capacity = self._capacity()
        _local_queue.check_fits(ask, capacity)
        write = self._transport.write_text
        write(f"{job_dir}/run.sh", script, mode=0o700)
        write(f"{job_dir}/.wrapper.sh", WRAPPER)
        write(f"{job_dir}/.launch", launch)
        write(f"{job_dir}/.env", _local_queue.environment_lines(dict(os.environ)))
        if needs:
            write(f"{job_dir}/.needs", needs + "\n")
        write(f"{job_dir}/.queued", "queued\n")
        if tasks:
            write(f"{job_dir}/.tasks", "".join(f"{t}\n" for t in tasks))
        slots = Path(self._slots_dir())
        number, lock = _local_queue.enqueue(slots, job_dir, ask, capacity, tasks, throttle)
        try:
            self._transport.spawn_detached(  # type: ignore[attr-defined]
                ["bash", f"{job_dir}/.wrapper.sh", "submit", str(slots), str(number), job_dir], pass_fd=lock
            )
        except (OSError, TransportError) as exc:
            _local_queue.withdraw(slots, number)
            raise SchedulerError(f"could not start the local job: {exc}") from exc
        finally:
            os.close(lock)
        return str(number)

    def check_resources(self, resources: JobResources) -> None:
        """Refuse, before anything is written, a job this machine's slots
        could never hold (a remote machine's submit refuses it there)."""
        if self._here:
            _local_queue.check_fits(_local_queue.Ask.of_resources(resources), self._capacity())

    def _capacity(self) -> _local_queue.Capacity:
        found = getattr(self, "_capacity_found", None)
        if found is None:
            found = self._capacity_found = _local_queue.detect_capacity(self.options)
        return found

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        """One status line per (job_id, scheduler id, job dir, submitted_at); raises on a failed poll."""
        feed, fed = _frame((job[1], job[2]) for job in jobs)
        result = self._transport.run(
            ["bash", "-c", POLL, "molq-poll", self._slots_dir()], input=feed, timeout=self._poll_timeout
        )
        if result.returncode != 0:
            raise SchedulerError(
                f"local job status check failed (exit {result.returncode}): {result.stderr.strip()}",
                stderr=result.stderr,
                command=list(result.argv),
            )
        body, _, end = result.stdout_bytes.rstrip(b"\n").rpartition(b"\n")
        if not end.startswith(b"#end "):
            body, end = b"", result.stdout_bytes.rstrip(b"\n")
        if end != f"#end {fed}".encode():
            # Every job fed in gets one line: anything else is a broken check,
            # which must not be read as "these jobs are gone".
            raise SchedulerError(
                f"local job status check returned incomplete output "
                f"(expected {fed} job lines, last line {end[-60:]!r})",
                stderr=result.stderr,
                command=list(result.argv),
            )
        return _core.parse_queue(self.parser_kind, body + b"\n")

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> pid for jobs (job_id, job_dir) whose wrapper did start.

        Used when a submitter died (or lost its connection) between starting a
        job and recording it: the wrapper's .pid file is the marker."""
        feed, _ = _frame(jobs)
        result = self._transport.run(["bash", "-c", FIND, "molq-find"], input=feed, timeout=self._poll_timeout)
        if result.returncode != 0:
            raise SchedulerError(f"local job lookup failed: {result.stderr.strip()}", stderr=result.stderr)
        found = {}
        for line in result.stdout.splitlines():
            job_id, _, pid = line.partition("\t")
            if pid.isdigit():
                found[job_id] = pid
        return found

    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]:
        """pid -> state of the given jobs still running; without their job
        directories, ended jobs cannot be told apart from unknown pids, so
        both are left out."""
        states = OneJobQueries.poll_many(self, scheduler_job_ids)
        return {sid: state for sid, state in states.items() if not state.is_terminal}

    def resolve_terminal_with_dir(self, scheduler_job_id: str, job_dir: str | Path) -> TerminalStatus | None:
        """How the job of ``job_dir`` ended (from its wrapper's files); None while it runs."""

        sid = str(scheduler_job_id)
        snapshot = self.poll(_core.ActiveJobs([("", sid, str(job_dir), 0.0)]))
        return _terminal_from(self.kind, sid, queue=snapshot, accounting=None)

    def resolve_terminal_many(self, jobs: _core.ActiveJobs) -> None:
        # The status check reports every job it is given (even one whose files
        # are gone: "vanished"), so a job missing from it means a garbled
        # check, not a lost job: there is no other evidence to offer.
        return None

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        """Stop every process of the job; True when it was running, False when it
        had already ended. Returns only once none of its processes is alive.

        Without ``job_dir`` (the original's API allowed that) the slot
        directory's record of the job finds it; for a job the original molq
        started, the pid alone, with no start time to tell a reused pid apart."""
        if not str(scheduler_job_id).isdigit():
            raise ConfigError(
                f"a local job's id is a number, got {scheduler_job_id!r}", scheduler_job_id=scheduler_job_id
            )
        outcome, _ = self._run_cancel(str(job_dir or ""), str(scheduler_job_id))
        return outcome == "cancelled"

    def cancel_unrecorded(self, job_id: str, job_dir: str) -> tuple[str | None, bool]:
        """Cancel a job whose submitter died before recording its pid.

        Leaves the cancel marker first, so a wrapper that has not started yet
        runs nothing; then stops the wrapper that did start, if any. Returns
        (its pid or None, whether it was still running)."""
        if not job_dir:
            return None, False
        outcome, pid = self._run_cancel(job_dir, "")
        return pid, outcome == "cancelled"

    def _run_cancel(self, job_dir: str, scheduler_job_id: str) -> tuple[str, str | None]:
        label = scheduler_job_id or f"in {job_dir!r}"
        # the grace period, then up to 10 s of SIGKILL, then some slack
        timeout = self._cancel_grace + 10 + 30
        try:
            result = self._transport.run(
                [
                    "bash",
                    "-c",
                    CANCEL,
                    "molq-cancel",
                    job_dir,
                    str(self._cancel_grace),
                    scheduler_job_id,
                    self._slots_dir(),
                ],
                timeout=timeout,
            )
        except TransportError as exc:
            raise SchedulerError(
                f"could not cancel local job {label}: {exc}", command=exc.command, stderr=exc.stderr
            ) from exc
        words = result.stdout.split()
        if result.returncode != 0 or not words or words[0] not in ("cancelled", "finished", "unstarted", "survived"):
            raise SchedulerError(
                f"could not cancel local job {label}: {result.stderr.strip() or result.stdout.strip() or 'no output'}",
                stderr=result.stderr,
                command=list(result.argv),
            )
        if words[0] == "survived":
            raise SchedulerError(
                f"local job {label} still has processes alive 10 s after SIGKILL "
                "(stuck in the kernel, e.g. on a hung file system); it is not recorded as cancelled",
                scheduler_job_id=scheduler_job_id,
            )
        return words[0], words[1] if len(words) > 1 else None

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        return []

    def format_dependency(self, edge: DependencyEdge) -> str:
        """Slurm's words, which the local scheduler reads too (``afterok:17``)."""
        keyword = _DEPENDENCY_KEYWORDS.get(edge.condition)
        if keyword is None:
            raise ConfigError(f"Unsupported dependency condition {edge.condition!r} for {self.kind}")
        return f"{keyword}:{edge.scheduler_job_id}"

    def format_dependencies(self, edges: Sequence[DependencyEdge]) -> str:
        return ",".join(self.format_dependency(e) for e in edges)

    def __repr__(self) -> str:
        return f"ShellScheduler(transport={self._transport!r})"


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
