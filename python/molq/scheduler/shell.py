"""ShellScheduler: the ``local`` backend, for machines with no batch system.

A job runs detached, in its own session and process group, under a small
bash wrapper that records, in the job directory:

* ``.pid``      ``<pid> <start-time>``, the wrapper's first write; the start
                time (from /proc, or ``ps``) makes a reused pid unmistakable;
* ``.started``  when the job began (epoch seconds);
* ``.exit_code`` ``<status> <finished-at>``, written to a temp file and renamed
                so a reader never sees half of it;
* ``.cancel_requested`` left by ``cancel`` before it signals the group, so any
                observer can tell a cancelled job from a failed one.

Every interaction is one bash command through the transport, so the same
backend drives this machine or a remote workstation over SSH.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from molq import _core
from molq.errors import ConfigError, SchedulerError, TransportError
from molq.scheduler._script import render_script
from molq.scheduler.base import OneJobQueries
from molq.transport.base import Transport

if TYPE_CHECKING:
    from pathlib import Path

    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import TerminalStatus
    from molq.status import JobState
    from molq.submission import JobSpec

__all__ = ["ShellScheduler"]

# Reads a process's start time without forking: sets ST, fails for a dead or
# zombie process (PID 1 may reap orphans late).
_START_TIME_FN = r"""
molq_st() {
  ST=
  if [ -r /proc/self/stat ]; then
    local s
    read -r s < "/proc/$1/stat" 2>/dev/null || return 1
    s=${s##*) }
    set -- $s
    [ "$1" = Z ] && return 1
    ST=${20}
    return 0
  fi
  local line
  line=$(ps -o stat= -o lstart= -p "$1" 2>/dev/null) || return 1
  case $line in Z*|"") return 1 ;; esac
  ST=$(printf %s "${line#* }" | tr -d ' ')
}
molq_now() { local t=${EPOCHREALTIME:-$(date +%s)}; printf %s "${t/,/.}"; }
"""

# $1 job dir, $2 stdout path, $3 stderr path. Runs the job script in a
# subshell (a fork, not an exec) and records how it ended.
_WRAPPER = _START_TIME_FN + r"""
molq_dir=$1 molq_out=$2 molq_err=$3
cd -- "$molq_dir" || exit 97
molq_st $$ && printf '%s %s\n' "$$" "$ST" > "$molq_dir/.pid"
trap 'molq_sig=1' TERM INT HUP
molq_now > "$molq_dir/.started"
shift 3
( . "$molq_dir/run.sh" ) > "$molq_out" 2> "$molq_err" < /dev/null &
molq_child=$!
while :; do
  wait "$molq_child"; molq_rc=$?
  kill -0 "$molq_child" 2>/dev/null || break
done
molq_t=${EPOCHREALTIME:-$(date +%s)}
printf '%s %s\n' "$molq_rc" "${molq_t/,/.}" > "$molq_dir/.exit_code.tmp"
mv -f "$molq_dir/.exit_code.tmp" "$molq_dir/.exit_code"
"""

# $1 job dir, $2 stdout, $3 stderr, $4 the wrapper. Starts the wrapper in a new
# session and prints its pid.
_LAUNCH = r"""
cd -- "$1" || exit 97
if command -v setsid >/dev/null 2>&1; then
  setsid bash -c "$4" molq-job "$1" "$2" "$3" < /dev/null > /dev/null 2>&1 &
else
  set -m
  nohup bash -c "$4" molq-job "$1" "$2" "$3" < /dev/null > /dev/null 2>&1 &
fi
echo "$!"
"""

# stdin: lines "<scheduler id>\t<job dir>". One status line per job, in the
# format the native "shell" parser reads, then "#end <count>" so truncated
# output is recognised. Bash builtins only: no fork per job.
_POLL = _START_TIME_FN + r"""
n=0
while IFS=$'\t' read -r sid dir; do
  [ -n "$sid" ] || continue
  pid= start= started= rc= fin=
  # .pid is the wrapper's first write; until it exists the pid alone must do
  if [ -r "$dir/.pid" ]; then read -r pid start < "$dir/.pid"; else pid=$sid; fi
  [ -r "$dir/.started" ] && read -r started < "$dir/.started"
  if molq_st "$pid" && { [ -z "$start" ] || [ "$ST" = "$start" ]; }; then
    echo "$sid|running||$started|"
  elif [ -r "$dir/.exit_code" ]; then
    read -r rc fin < "$dir/.exit_code"
    if [ -e "$dir/.cancel_requested" ]; then status=cancelled; else status=exited; fi
    echo "$sid|$status|$rc|$started|$fin"
  elif [ -e "$dir/.cancel_requested" ]; then
    echo "$sid|cancelled||$started|"
  else
    echo "$sid|vanished||$started|"
  fi
  n=$((n + 1))
done
echo "#end $n"
"""

# $1 job dir, $2 grace seconds, $3 the scheduler id (the pid). Prints "cancelled" when a live job was
# signalled, "finished" when it had already ended.
_CANCEL = _START_TIME_FN + r"""
pid=$3 start=
[ -r "$1/.pid" ] && read -r pid start < "$1/.pid"
if ! molq_st "$pid" || { [ -n "$start" ] && [ "$ST" != "$start" ]; }; then
  echo finished; exit 0
fi
start=$ST
: > "$1/.cancel_requested"
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
i=0
while [ "$i" -lt "$(( $2 * 10 ))" ]; do
  molq_st "$pid" && [ "$ST" = "$start" ] || { echo cancelled; exit 0; }
  sleep 0.1; i=$((i + 1))
done
kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
echo cancelled
"""


# stdin: lines "<job id>\t<job dir>"; prints "<job id>\t<pid>" for each job
# whose wrapper has started (its .pid exists).
_FIND = r"""
while IFS=$'\t' read -r id dir; do
  [ -r "$dir/.pid" ] && read -r pid start < "$dir/.pid" && printf '%s\t%s\n' "$id" "$pid"
done
exit 0
"""


class ShellScheduler(OneJobQueries):
    """The ``local`` backend: no batch system, one detached process group per job."""

    kind = "local"
    parser_kind = "shell"

    def __init__(
        self,
        options: object | None = None,
        *,
        transport: Transport | None = None,
        submit_timeout: float = 30.0,
        poll_timeout: float = 30.0,
        cancel_grace: int = 3,
    ) -> None:
        if transport is None:
            from molq.transport.local import LocalTransport

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
        from molq.models import SchedulerCapabilities

        return SchedulerCapabilities(
            supports_cwd=True,
            supports_env=True,
            supports_output_file=True,
            supports_error_file=True,
            supports_job_name=True,
        )

    def render(self, spec: JobSpec, user_script_path: str | None = None) -> str:
        return render_script(spec, (), user_script_path)

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        script = self.render(spec, f"{job_dir}/user_script.sh")
        self._transport.write_text(f"{job_dir}/run.sh", script, mode=0o700)
        spawn = getattr(self._transport, "spawn_detached", None)
        if spawn is not None:
            return self._spawn_here(spawn, spec, job_dir)
        try:
            result = self._transport.run(
                ["bash", "-c", _LAUNCH, "molq-launch", job_dir, spec.stdout_path, spec.stderr_path, _WRAPPER],
                timeout=self._submit_timeout,
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
        return _core.parse_submit_id(self.parser_kind, result.stdout_bytes)

    def _spawn_here(self, spawn: Any, spec: JobSpec, job_dir: str) -> str:
        """This machine: start the wrapper directly, no launcher shell to wait for."""
        try:
            pid = spawn(["bash", "-c", _WRAPPER, "molq-job", job_dir, spec.stdout_path, spec.stderr_path])
        except (OSError, TransportError) as exc:
            raise SchedulerError(f"could not start the local job: {exc}") from exc
        return str(pid)

    def poll(self, jobs: Sequence[tuple[str, str, str, float]]) -> _core.Snapshot:
        """One status line per (job_id, scheduler id, job dir, submitted_at); raises on a failed poll."""
        feed = "".join(f"{job[1]}\t{job[2]}\n" for job in jobs)
        result = self._transport.run(
            ["bash", "-c", _POLL, "molq-poll"], input=feed, timeout=self._poll_timeout
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
        if end != f"#end {len(jobs)}".encode():
            # Every job fed in gets one line: anything else is a broken check,
            # which must not be read as "these jobs are gone".
            raise SchedulerError(
                f"local job status check returned incomplete output "
                f"(expected {len(jobs)} job lines, last line {end[-60:]!r})",
                stderr=result.stderr,
                command=list(result.argv),
            )
        return _core.parse_queue(self.parser_kind, body + b"\n")

    def find_submissions(self, jobs: Sequence[tuple[str, str]]) -> dict[str, str]:
        """job_id -> pid for jobs (job_id, job_dir) whose wrapper did start.

        Used when a submitter died (or lost its connection) between starting a
        job and recording it: the wrapper's .pid file is the marker."""
        feed = "".join(f"{job_id}\t{job_dir}\n" for job_id, job_dir in jobs)
        result = self._transport.run(["bash", "-c", _FIND, "molq-find"], input=feed, timeout=self._poll_timeout)
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
        from molq.scheduler.base import _terminal_from

        sid = str(scheduler_job_id)
        snapshot = self.poll([("", sid, str(job_dir), 0.0)])
        return _terminal_from(self.kind, sid, queue=snapshot, accounting=None)

    def resolve_terminal_many(self, jobs: Sequence[tuple[str, str, str, float]]) -> None:
        # The status check reports every job it is given (even one whose files
        # are gone: "vanished"), so a job missing from it means a garbled
        # check, not a lost job: there is no other evidence to offer.
        return None

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> bool:
        if not job_dir:
            raise ConfigError(
                "the local backend needs the job directory to cancel a job",
                scheduler_job_id=scheduler_job_id,
            )
        result = self._transport.run(
            ["bash", "-c", _CANCEL, "molq-cancel", job_dir, str(self._cancel_grace), scheduler_job_id],
            timeout=self._cancel_grace + 30,
        )
        if result.returncode != 0:
            raise SchedulerError(
                f"could not cancel local job {scheduler_job_id}: {result.stderr.strip()}",
                stderr=result.stderr,
                command=list(result.argv),
            )
        return result.stdout.strip() == "cancelled"

    def list_queue(self, *, user: str | None = None) -> list[_core.QueueEntry]:
        return []

    def format_dependency(self, edge: object) -> str:
        raise ConfigError("the local backend does not support job dependencies")

    def format_dependencies(self, edges: Sequence[object]) -> str:
        raise ConfigError("the local backend does not support job dependencies")

    def __repr__(self) -> str:
        return f"ShellScheduler(transport={self._transport!r})"
