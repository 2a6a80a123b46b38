"""ShellScheduler: the ``local`` backend, for machines with no batch system.

A job runs detached, in a session of its own, under a small bash wrapper;
the job is that session: every process of it (or of the wrapper's process
group), whether or not the wrapper still lives. The wrapper records, in the
job directory:

* ``.pid``      ``<pid> <start-time>``, the wrapper's first write; the start
                time (from /proc, or ``ps``) makes a reused pid unmistakable;
* ``.started``  when the job began (epoch seconds);
* ``.exit_code`` ``<status> <finished-at>[ <cause>]``, written once no process
                of the job is left (what the script left running is stopped),
                to a temp file renamed so a reader never sees half of it; a
                cause (``stdout``/``stderr``) says the job did not run because
                that log file would not open;
* ``.cancel_requested`` left by ``cancel`` before it signals the session, so
                any observer can tell a cancelled job from a failed one, and a
                wrapper that starts after it runs nothing.

A job is reported running while any of its processes lives, ended only once
none does, and ``cancel`` returns only once none does (SIGTERM to the group
and session, the grace period, then SIGKILL until they are gone).

Every interaction is one bash command through the transport, so the same
backend drives this machine or a remote workstation over SSH.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from molq import _core, _original_names
from molq.errors import ConfigError, SchedulerError, TransportError
from molq.scheduler._original_local import ORIGINAL_CANCEL_FN, ORIGINAL_STATUS_FN
from molq.scheduler._script import render_script
from molq.scheduler.base import OneJobQueries, _terminal_from
from molq.transport.base import Transport
from molq.transport.local import LocalTransport

if TYPE_CHECKING:
    from pathlib import Path

    from molq.models import SchedulerCapabilities
    from molq.scheduler.base import TerminalStatus
    from molq.status import JobState
    from molq.submission import JobSpec

__all__ = ["ShellScheduler"]

# A job is its wrapper's session (the wrapper starts one: setsid): every
# process of that session or of the wrapper's process group belongs to it,
# whether or not the wrapper still lives. The helpers below use bash
# builtins only on Linux (no fork per process looked at); elsewhere one ps.
_PROCS = r"""
# molq_name_end STAT_LINE: sets MOLQ_AT to the offset of the fields after the
# command name (state first) in a /proc/PID/stat line, and MOLQ_P to the pid.
# The name is at most 15 bytes and may itself hold ") ", so it ends at the
# last ") " of the line's head; looking only there keeps this O(1) (a "##*) "
# over the whole line costs more than everything else in a scan).
molq_name_end() {
  local h=${1:0:48}
  h=${h%") "*}
  MOLQ_P=${h%% *}
  MOLQ_AT=$((${#h} + 2))
}
# molq_st PID: sets ST to the start time of PID; fails for a dead or zombie
# process (a dead wrapper may wait long for its parent to reap it).
molq_st() {
  ST=
  if [ -r /proc/self/stat ]; then
    local s
    read -r s 2>/dev/null < "/proc/$1/stat" || return 1
    molq_name_end "$s"
    s=${s:MOLQ_AT}
    set -f; set -- $s; set +f
    case $1 in Z|X|x) return 1 ;; esac
    ST=${20}
    return 0
  fi
  local line
  line=$(ps -o stat= -o lstart= -p "$1" 2>/dev/null) || return 1
  case $line in Z*|"") return 1 ;; esac
  ST=$(printf %s "${line#* }" | tr -d ' ')
}
molq_now() { local t=${EPOCHREALTIME:-$(date +%s)}; printf %s "${t/,/.}"; }

# molq_members LEADER [EXCEPT]: sets MOLQ_PIDS to the live pids whose
# process group or session is LEADER (EXCEPT left out).
molq_members() {
  local leader=$1 except=${2:-} f s p out g st
  MOLQ_PIDS=
  if [ -r /proc/self/stat ]; then
    for f in /proc/[1-9]*; do
      read -r s 2>/dev/null < "$f/stat" || continue
      # Most processes do not name LEADER anywhere: skip them unparsed.
      case $s in *" $leader "*) ;; *) continue ;; esac
      molq_name_end "$s"
      p=$MOLQ_P
      s=${s:MOLQ_AT:64}
      set -f; set -- $s; set +f
      case $1 in Z|X|x) continue ;; esac
      if [ "$3" = "$leader" ] || [ "$4" = "$leader" ]; then
        [ "$p" = "$except" ] || MOLQ_PIDS="$MOLQ_PIDS $p"
      fi
    done
    return 0
  fi
  out=$(ps -A -o pid= -o pgid= -o stat= 2>/dev/null) || return 1
  while read -r p g st; do
    case $st in Z*) continue ;; esac
    [ "$g" = "$leader" ] && [ "$p" != "$except" ] && MOLQ_PIDS="$MOLQ_PIDS $p"
  done <<EOF_PS
$out
EOF_PS
  return 0
}

# molq_scan: sets MOLQ_LIVE to " <group> <session> ..." of every live
# process, to answer molq_alive for many jobs with one pass.
molq_scan() {
  local f s out g st
  MOLQ_LIVE=" "
  if [ -r /proc/self/stat ]; then
    for f in /proc/[1-9]*; do
      read -r s 2>/dev/null < "$f/stat" || continue
      molq_name_end "$s"
      # state, parent, group and session end within 64 characters
      s=${s:MOLQ_AT:64}
      set -f; set -- $s; set +f
      case $1 in Z|X|x) continue ;; esac
      MOLQ_LIVE="$MOLQ_LIVE$3 $4 "
    done
    return 0
  fi
  out=$(ps -A -o pgid= -o stat= 2>/dev/null) || return 1
  while read -r g st; do
    case $st in Z*) ;; *) MOLQ_LIVE="$MOLQ_LIVE$g " ;; esac
  done <<EOF_PS
$out
EOF_PS
  return 0
}

# molq_alive PID START: is any process of the job whose wrapper is PID
# (started at START, when known) alive? Reuses MOLQ_LIVE when set. A live
# stranger on PID (another start time) means PID was free, which the kernel
# allows only once no process is left in PID's group or session.
molq_alive() {
  case $1 in ''|*[!0-9]*|0|1) return 1 ;; esac
  if molq_st "$1"; then
    [ -z "$2" ] || [ "$ST" = "$2" ]
    return
  fi
  if [ -z "$MOLQ_LIVE" ] && ! molq_scan; then
    kill -0 -- "-$1" 2>/dev/null
    return
  fi
  case $MOLQ_LIVE in *" $1 "*) return 0 ;; esac
  return 1
}

# molq_signal SIG LEADER: SIG to the job's process group and to every other
# process of its session (job control may have moved some to groups of their own).
molq_signal() {
  kill "-$1" -- "-$2" 2>/dev/null
  molq_members "$2" "$$"
  [ -z "$MOLQ_PIDS" ] || kill "-$1" $MOLQ_PIDS 2>/dev/null
  return 0
}
"""

# $1 job dir, $2 stdout path, $3 stderr path, $4 grace seconds. Runs the job
# script in a subshell (a fork, not an exec), ends what it left behind, and
# records how it ended. .exit_code is "<status> <finished-at>[ <cause>]"; a
# cause says the job did not run: "stdout"/"stderr" (that file would not open).
_WRAPPER = (
    _PROCS
    + r"""
molq_dir=$1 molq_out=$2 molq_err=$3 molq_grace=${4:-3}
cd -- "$molq_dir" || exit 97
molq_st $$ && printf '%s %s\n' "$$" "$ST" > "$molq_dir/.pid"
trap 'molq_sig=1' TERM INT HUP
# Cancelled before it started (cancel leaves the marker before it looks for .pid).
[ -e "$molq_dir/.cancel_requested" ] && exit 0
molq_end() {
  local t=${EPOCHREALTIME:-$(date +%s)}
  printf '%s %s%s\n' "$1" "${t/,/.}" "${2:+ $2}" > "$molq_dir/.exit_code.tmp"
  # exec: the wrapper's last act, without one more fork
  exec mv -f "$molq_dir/.exit_code.tmp" "$molq_dir/.exit_code"
}
{ : >> "$molq_out"; } 2>/dev/null || molq_end 1 stdout
{ : >> "$molq_err"; } 2>/dev/null || molq_end 1 stderr
molq_now > "$molq_dir/.started"
( . "$molq_dir/run.sh" ) > "$molq_out" 2> "$molq_err" < /dev/null &
molq_child=$!
while :; do
  wait "$molq_child"; molq_rc=$?
  kill -0 "$molq_child" 2>/dev/null || break
done
# The job ends with its script, as under a batch system: what it left running
# in its session is stopped (SIGTERM, the grace period, then SIGKILL every
# second) before the end is recorded, so an ended job has no process left.
molq_i=0
while molq_members $$ $$; [ -n "$MOLQ_PIDS" ]; do
  if [ "$molq_i" -eq 0 ]; then
    kill -TERM $MOLQ_PIDS 2>/dev/null; kill -CONT $MOLQ_PIDS 2>/dev/null
  elif [ "$molq_i" -ge $((molq_grace * 10)) ] && [ $(((molq_i - molq_grace * 10) % 10)) -eq 0 ]; then
    kill -KILL $MOLQ_PIDS 2>/dev/null
  fi
  sleep 0.1; molq_i=$((molq_i + 1))
done
molq_end "$molq_rc"
"""
)

# $1 job dir, $2 stdout, $3 stderr, $4 grace seconds, $5 the wrapper. Starts
# the wrapper in a new session and prints its pid.
_LAUNCH = r"""
cd -- "$1" || exit 97
if command -v setsid >/dev/null 2>&1; then
  setsid bash -c "$5" molq-job "$1" "$2" "$3" "$4" < /dev/null > /dev/null 2>&1 &
else
  set -m
  nohup bash -c "$5" molq-job "$1" "$2" "$3" "$4" < /dev/null > /dev/null 2>&1 &
fi
echo "$!"
"""

# stdin: NUL-terminated pairs "<scheduler id>" "<job dir>" (a path may hold
# any byte but NUL). One status line per job, in the format the native
# "shell" parser reads, then "#end <count>" so truncated output is
# recognised. Only molq's own words and numbers are printed, never a path.
# Bash builtins only (Linux): no fork per job.
_POLL = (
    _PROCS
    + ORIGINAL_STATUS_FN
    + r"""
n=0 MOLQ_LIVE=
while IFS= read -r -d '' sid && IFS= read -r -d '' dir; do
  # a job the original molq started (imported from its store)
  if molq_orig_status "$sid" "$dir"; then n=$((n + 1)); continue; fi
  pid=$sid start= started= rc= fin= cause=
  # .pid is the wrapper's first write; until it exists the pid alone must do
  if [ -r "$dir/.pid" ]; then
    read -r p s < "$dir/.pid"
    [ "$p" = "$sid" ] && start=$s
  fi
  [ -r "$dir/.started" ] && read -r started < "$dir/.started"
  if molq_alive "$pid" "$start"; then
    echo "$sid|running||$started|"
  elif [ -r "$dir/.exit_code" ]; then
    read -r rc fin cause < "$dir/.exit_code"
    if [ -e "$dir/.cancel_requested" ]; then status=cancelled; else status=exited; fi
    echo "$sid|$status|$rc|$started|$fin|$cause"
  elif [ -e "$dir/.cancel_requested" ]; then
    echo "$sid|cancelled||$started|"
  else
    echo "$sid|vanished||$started|"
  fi
  n=$((n + 1))
done
echo "#end $n"
"""
)

# $1 job dir ("" when unknown: then the pid alone must do), $2 grace seconds,
# $3 the scheduler id (the wrapper's pid), or "" for a job whose submitter
# died before recording it. Stops every process of
# the job: SIGTERM to its group and session, the grace period, then SIGKILL
# until none is left. Prints "cancelled <pid>" when it stopped a live job,
# "finished <pid>" when the job had already ended, "unstarted" when no
# wrapper had started (none will run the job now: it sees the marker), and
# "survived <pid>" when processes outlived SIGKILL for 10 s (stuck in the kernel).
_CANCEL = (
    _PROCS
    + ORIGINAL_CANCEL_FN
    + r"""
dir=$1 grace=$2 pid=$3 start= unrecorded=
[ -n "$pid" ] && molq_orig_cancel "$dir" "$grace" && exit 0
if [ -z "$pid" ]; then
  unrecorded=1
  # the marker first: a wrapper starting from now on runs nothing
  : > "$dir/.cancel_requested" 2>/dev/null || { echo unstarted; exit 0; }
  [ -r "$dir/.pid" ] || { echo unstarted; exit 0; }
  read -r pid start < "$dir/.pid"
  case $pid in ''|*[!0-9]*|0|1) echo unstarted; exit 0 ;; esac
elif [ -n "$dir" ] && [ -r "$dir/.pid" ]; then
  read -r p s < "$dir/.pid"
  [ "$p" = "$pid" ] && start=$s
fi
MOLQ_LIVE=
if ! molq_alive "$pid" "$start"; then
  # it ended on its own: its real outcome stands
  [ -z "$unrecorded" ] || rm -f "$dir/.cancel_requested"
  echo "finished $pid"; exit 0
fi
[ -z "$dir" ] || : > "$dir/.cancel_requested"
molq_signal TERM "$pid"; molq_signal CONT "$pid"
i=0 limit=$((grace * 10))
while MOLQ_LIVE=; molq_alive "$pid" "$start"; do
  if [ "$i" -ge "$limit" ]; then
    [ "$i" -ge $((limit + 100)) ] && { echo "survived $pid"; exit 0; }
    molq_signal KILL "$pid"
  fi
  sleep 0.1; i=$((i + 1))
done
echo "cancelled $pid"
"""
)


# stdin: NUL-terminated pairs "<job id>" "<job dir>"; prints "<job id>\t<pid>"
# for each job whose wrapper has started (its .pid exists).
_FIND = r"""
while IFS= read -r -d '' id && IFS= read -r -d '' dir; do
  [ -r "$dir/.pid" ] && read -r pid start < "$dir/.pid" && printf '%s\t%s\n' "$id" "$pid"
done
exit 0
"""

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
        options: object | None = None,
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
                ["bash", "-c", _LAUNCH, "molq-launch", job_dir, *_log_paths(spec), str(self._cancel_grace), _WRAPPER],
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
            pid = spawn(["bash", "-c", _WRAPPER, "molq-job", job_dir, *_log_paths(spec), str(self._cancel_grace)])
        except (OSError, TransportError) as exc:
            raise SchedulerError(f"could not start the local job: {exc}") from exc
        return str(pid)

    def poll(self, jobs: _core.ActiveJobs) -> _core.Snapshot:
        """One status line per (job_id, scheduler id, job dir, submitted_at); raises on a failed poll."""
        feed, fed = _frame((job[1], job[2]) for job in jobs)
        result = self._transport.run(["bash", "-c", _POLL, "molq-poll"], input=feed, timeout=self._poll_timeout)
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

        Without ``job_dir`` (the original's API allowed that) the pid alone
        identifies the job, with no start time to tell a reused pid apart."""
        if not str(scheduler_job_id).isdigit():
            raise ConfigError(
                f"a local job's id is its pid, got {scheduler_job_id!r}", scheduler_job_id=scheduler_job_id
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
                ["bash", "-c", _CANCEL, "molq-cancel", job_dir, str(self._cancel_grace), scheduler_job_id],
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

    def format_dependency(self, edge: object) -> str:
        raise ConfigError("the local backend does not support job dependencies")

    def format_dependencies(self, edges: Sequence[object]) -> str:
        raise ConfigError("the local backend does not support job dependencies")

    def __repr__(self) -> str:
        return f"ShellScheduler(transport={self._transport!r})"


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
