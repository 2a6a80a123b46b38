"""The bash the local backend runs on the job's machine: the job wrapper, the
submit (for a remote machine), the status check, cancel and the submission lookup.

A job directory of the local scheduler holds, besides ``run.sh``:

* ``.wrapper.sh``  the wrapper below, as it was when the job was submitted;
* ``.launch``      the wrapper's settings, NUL separated: stdout path, stderr
                   path, cancel grace (s), time limit (s, 0: none), memory
                   limit (KiB, 0: none), whether to pin the job to its CPUs (1/0);
* ``.env``         the submitter's environment, as ``export`` lines: a job
                   started later by another process gets its own submitter's;
* ``.needs``       its dependencies in Slurm's words (``afterok:17,afterany:3``);
* ``.sid``         its number in the slot directory (its scheduler id);
* ``.slots``       that slot directory (NUL-terminated);
* ``.queued``      what it waits for, while it waits;
* ``.pid``         ``<pid> <start-time>`` of its wrapper, the wrapper's first write;
* ``.started``     when the job began (epoch seconds);
* ``.memory_peak`` the most memory (KiB) its processes were seen to use together,
                   when it has a memory limit;
* ``.exit_code``   ``<status> <finished-at>[ <cause>]``, renamed into place once
                   no process of the job is left. A cause says why it ended so:
                   ``stdout``/``stderr`` (that file would not open: it did not
                   run), ``time:<limit s>``, ``memory:<limit KiB>:<peak KiB>``,
                   ``dependency:<why>`` (status ``-``: it never started);
* ``.cancel_requested`` left by cancel before it signals anything, so a wrapper
                   that starts after it runs nothing.

A job is its wrapper's session: every process of that session or of the
wrapper's process group, whether or not the wrapper still lives.
"""

from __future__ import annotations

from molq.scheduler._local_procs import PROCS
from molq.scheduler._local_slots import SLOTS
from molq.scheduler._original_local import ORIGINAL_CANCEL_FN, ORIGINAL_STATUS_FN

__all__ = ["CANCEL", "FIND", "POLL", "REMOTE_SUBMIT", "WRAPPER"]

# bash .wrapper.sh MODE SLOTS SID DIR [GPU IDS CPU IDS]. MODE "submit": started by the job's
# submitter, which holds the slot lock on fd 9 and passes it on: dispatch, and
# run this job here if it is one that starts now. MODE "run": started by a
# dispatcher because the job now fits: take on the submitter's environment.
WRAPPER = (
    PROCS
    + SLOTS
    + r"""
# a later start takes on its submitter's environment, before anything of ours is set
if [ "$1" = run ] && [ -r "$4/.env" ]; then . "$4/.env"; fi
molq_mode=$1 S=$2 molq_sid=$3 molq_dir=$4 molq_task= molq_append=
cd -- "$molq_dir" || exit 97
if [ "$molq_mode" = submit ]; then
  molq_dispatch "$molq_sid"
  molq_unlock
  [ -n "$MOLQ_RUN_SELF" ] || exit 0
  molq_gl=$MOLQ_SELF_GPUS molq_cl=$MOLQ_SELF_CPUS
else
  molq_gl=${5:--} molq_cl=${6:--} molq_task=${7:-}
fi
# where this run's state goes: the job directory, or its array task's own
molq_key=$molq_sid molq_at=$molq_dir
if [ -n "$molq_task" ]; then
  molq_key=$molq_sid.$molq_task molq_at=$molq_dir/task-$molq_task
  [ -d "$molq_at" ] || mkdir -m 700 -p "$molq_at" || exit 97
fi
{
  IFS= read -r -d '' molq_out; IFS= read -r -d '' molq_err; IFS= read -r -d '' molq_grace
  IFS= read -r -d '' molq_time; IFS= read -r -d '' molq_mem; IFS= read -r -d '' molq_pin
} < .launch
if [ -n "$molq_task" ]; then
  # %a: the task, %A: the array (as in Slurm's file names); tasks sharing a file append to it
  case $molq_out$molq_err in *%a*) ;; *) molq_append=1 ;; esac
  molq_out=${molq_out//%a/$molq_task} molq_err=${molq_err//%a/$molq_task}
  molq_out=${molq_out//%A/$molq_sid} molq_err=${molq_err//%A/$molq_sid}
fi
molq_st $$ && printf '%s %s\n' "$$" "$ST" > "$molq_at/.pid"
trap 'molq_sig=1' TERM INT HUP
trap 'molq_over=time' USR1
trap 'molq_over=memory' USR2

# molq_end STATUS [CAUSE]: record how the job ended, give its share back, and
# start what waited for it. The share goes first, the queue is looked at
# after: a submitter that saw the share taken wrote its queue entry before
# looking, so one of the two starts the job.
molq_end() {
  molq_now_into molq_t
  printf '%s %s%s\n' "$1" "$molq_t" "${2:+ $2}" > "$molq_at/.exit_code.tmp"
  : > "$S/held/$molq_key"
  # exec: the wrapper's last act, without one more fork
  molq_queue_empty && exec mv -f "$molq_at/.exit_code.tmp" "$molq_at/.exit_code"
  mv -f "$molq_at/.exit_code.tmp" "$molq_at/.exit_code"
  molq_lock; molq_dispatch; molq_unlock
  exit 0
}
# Cancelled before it started (cancel leaves the marker before it looks for .pid).
if [ -e .cancel_requested ]; then
  : > "$S/held/$molq_key"
  molq_queue_empty || { molq_lock; molq_dispatch; molq_unlock; }
  exit 0
fi
{ : >> "$molq_out"; } 2>/dev/null || molq_end 1 stdout
{ : >> "$molq_err"; } 2>/dev/null || molq_end 1 stderr

# molq_stop_session GRACE [now]: end every process of the session but this
# one: SIGTERM (SIGKILL at once with "now"), the grace period, then SIGKILL
# every second until none is left.
molq_stop_session() {
  local i=0 grace=$1
  while molq_members $$ $$; [ -n "$MOLQ_PIDS" ]; do
    if [ "$i" -eq 0 ]; then
      if [ "${2:-}" = now ]; then
        kill -KILL $MOLQ_PIDS 2>/dev/null
      else
        kill -TERM $MOLQ_PIDS 2>/dev/null; kill -CONT $MOLQ_PIDS 2>/dev/null
      fi
    elif [ "$i" -ge $((grace * 10)) ] && [ $(((i - grace * 10) % 10)) -eq 0 ]; then
      kill -KILL $MOLQ_PIDS 2>/dev/null
    fi
    sleep 0.1; i=$((i + 1))
  done
}
# molq_session_kib: sets MOLQ_KIB to the resident memory of the session's
# processes (this wrapper and the watcher left out).
molq_session_kib() {
  local f s pages=0
  for f in /proc/[1-9]*; do
    read -r s 2>/dev/null < "$f/stat" || continue
    case $s in *" $$ "*) ;; *) continue ;; esac
    molq_name_end "$s"
    [ "$MOLQ_P" = "$$" ] || [ "$MOLQ_P" = "$BASHPID" ] && continue
    s=${s:MOLQ_AT}
    set -f; set -- $s; set +f
    case $1 in Z|X|x) continue ;; esac
    [ "$3" = "$$" ] || [ "$4" = "$$" ] || continue
    pages=$((pages + ${22}))
  done
  MOLQ_KIB=$((pages * molq_page_kib))
}
# Watchers of the limits, in the background: each signals the wrapper when
# its limit is passed, and ends (killing its own sleep) on SIGTERM.
molq_watch_time() {
  local s
  trap 'kill $s 2>/dev/null; exit 0' TERM
  sleep "$molq_time" & s=$!
  wait "$s" && kill -USR1 $$
}
molq_watch_memory() {
  local peak=0 s
  trap 'kill $s 2>/dev/null; exit 0' TERM
  molq_page_kib=$(( $(getconf PAGESIZE 2>/dev/null || echo 4096) / 1024 ))
  while :; do
    molq_session_kib
    if [ "$MOLQ_KIB" -gt "$peak" ]; then
      peak=$MOLQ_KIB
      printf '%s\n' "$peak" > "$molq_at/.memory_peak"
      if [ "$peak" -gt "$molq_mem" ]; then kill -USR2 $$; exit 0; fi
    fi
    sleep 0.2 & s=$!
    wait "$s"
  done
}

# molq_end_watchers: stop the watchers and see them gone. Not with "wait":
# bash 5.2 can wait forever for a child it reaped while running a trap.
molq_end_watchers() {
  local w
  [ -n "$molq_watchers" ] || return 0
  kill $molq_watchers 2>/dev/null
  for w in $molq_watchers; do
    while kill -0 "$w" 2>/dev/null; do sleep 0.01; done
  done
  molq_watchers=
}

molq_now > "$molq_at/.started"
(
  if [ -n "$molq_append" ]; then exec >> "$molq_out" 2>> "$molq_err"; else exec > "$molq_out" 2> "$molq_err"; fi
  exec < /dev/null
  [ "$molq_gl" = - ] || export CUDA_VISIBLE_DEVICES="$molq_gl"
  [ -z "$molq_task" ] || export MOLQ_ARRAY_JOB_ID="$molq_sid" MOLQ_ARRAY_TASK_ID="$molq_task"
  if [ "$molq_pin" = 1 ] && [ "$molq_cl" != - ] && command -v taskset >/dev/null 2>&1; then
    taskset -pc "$molq_cl" "$BASHPID" >/dev/null 2>&1
  fi
  . ./run.sh
) &
molq_child=$! molq_watchers= molq_over= molq_stopped=
if [ "${molq_time:-0}" -gt 0 ]; then molq_watch_time & molq_watchers="$molq_watchers $!"; fi
if [ "${molq_mem:-0}" -gt 0 ]; then molq_watch_memory & molq_watchers="$molq_watchers $!"; fi
while :; do
  wait "$molq_child"; molq_rc=$?
  if [ -n "$molq_over" ] && [ -z "$molq_stopped" ]; then
    # over a limit: the whole job goes, its script first
    molq_stopped=1
    molq_end_watchers
    if [ "$molq_over" = memory ]; then molq_stop_session "$molq_grace" now; else molq_stop_session "$molq_grace"; fi
  fi
  kill -0 "$molq_child" 2>/dev/null || break
done
molq_end_watchers
# The job ends with its script, as under a batch system: what it left running
# in its session is stopped before the end is recorded, so an ended job has no
# process left.
molq_stop_session "$molq_grace"
case $molq_over in
  time) molq_end "$molq_rc" "time:$molq_time" ;;
  memory)
    molq_peak=; [ -r "$molq_at/.memory_peak" ] && read -r molq_peak < "$molq_at/.memory_peak"
    molq_end "$molq_rc" "memory:$molq_mem:${molq_peak:-0}" ;;
esac
molq_end "$molq_rc"
"""
)

# A remote machine's submit: $1 slot dir, $2 job dir, $3 the wrapper, $4-$9
# the .launch fields, $10 dependencies ("" for none), $11-$13 the job's CPUs,
# KiB, GPUs, $14-$16 the capacity to set (each "" to keep or detect), $17 an
# array's throttle, $18 "array" for an array (its task ids on stdin).
# Prints the job's number, or "refused <why>" for a job the machine can never hold.
REMOTE_SUBMIT = (
    PROCS
    + SLOTS
    + r"""
S=${1:-$HOME/.molq/local-slots} dir=$2 c=${11} m=${12} g=${13}
umask 077
mkdir -p "$S/queue" "$S/held" "$S/jobs" || exit 96
cd -- "$dir" || exit 97
printf '%s' "$3" > .wrapper.sh
printf '%s\0' "$4" "$5" "$6" "$7" "$8" "$9" > .launch
export -p > .env
[ -z "${10}" ] || printf '%s\n' "${10}" > .needs
echo queued > .queued
molq_lock
cap_c=${14} cap_m=${15} cap_g=${16} cap_cl=-
if [ -z "$cap_c$cap_m$cap_g" ] && [ -r "$S/capacity" ]; then
  read -r cap_c cap_m cap_g cap_cl < "$S/capacity"
else
  allowed=
  while read -r k v; do
    [ "$k" = Cpus_allowed_list: ] && allowed=$v
  done < /proc/self/status 2>/dev/null
  ids=
  IFS=, read -r -a parts <<< "$allowed"
  for p in "${parts[@]}"; do
    case $p in
      *-*) for ((i = ${p%-*}; i <= ${p#*-}; i++)); do ids="$ids${ids:+,}$i"; done ;;
      ?*) ids="$ids${ids:+,}$p" ;;
    esac
  done
  n=0; IFS=, read -r -a parts <<< "$ids"; n=${#parts[@]}
  [ "$n" -gt 0 ] || n=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
  if [ -z "$cap_c" ]; then cap_c=$n; fi
  if [ -n "$ids" ] && [ "$cap_c" -le "$n" ]; then
    cap_cl=$(IFS=,; echo "${parts[*]:0:cap_c}")
  fi
  if [ -z "$cap_m" ]; then
    while read -r k v u; do [ "$k" = MemTotal: ] && cap_m=$v; done < /proc/meminfo 2>/dev/null
    [ -n "$cap_m" ] || cap_m=$(( $(sysctl -n hw.memsize 2>/dev/null || echo 0) / 1024 ))
  fi
  if [ -z "$cap_g" ]; then
    if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then cap_g=$CUDA_VISIBLE_DEVICES
    elif command -v nvidia-smi >/dev/null 2>&1; then
      cap_g= i=0
      while read -r line; do case $line in GPU*) cap_g="$cap_g${cap_g:+,}$i"; i=$((i + 1)) ;; esac; done <<EOF_GPUS
$(nvidia-smi -L 2>/dev/null)
EOF_GPUS
    fi
    cap_g=${cap_g:--}
  fi
  printf '%s %s %s %s\n' "$cap_c" "$cap_m" "$cap_g" "$cap_cl" > "$S/capacity"
fi
molq_count "$cap_g"
if [ "$c" -gt "$cap_c" ]; then echo "refused the job asks for $c CPUs; this machine's local scheduler has $cap_c"; exit 0; fi
if [ "$m" -gt "$cap_m" ]; then echo "refused the job asks for $m KiB of memory; this machine's local scheduler has $cap_m"; exit 0; fi
if [ "$g" -gt "$MOLQ_N" ]; then echo "refused the job asks for $g GPUs; this machine's local scheduler has $MOLQ_N"; exit 0; fi
n=0; [ -r "$S/seq" ] && read -r n < "$S/seq"
n=$((n + 1))
printf '%s\n' "$n" > "$S/seq.tmp" && mv -f "$S/seq.tmp" "$S/seq"
printf '%s\0' "$dir" > "$S/jobs/$n"
printf '%s\n' "$n" > .sid
printf '%s\0' "$S" > .slots
if [ -n "${18}" ]; then
  # an array: its task ids on stdin, one queue entry each
  : > .tasks
  while read -r t; do
    printf '%s\n' "$t" >> .tasks
    printf -v entry '%012d.%010d' "$n" "$t"
    printf '%s %s %s %s\n%s\0' "$c" "$m" "$g" "${17}" "$dir" > "$S/queue/$entry"
  done
else
  printf '%s %s %s\n%s\0' "$c" "$m" "$g" "$dir" > "$S/queue/$(printf %012d "$n")"
fi
# the wrapper inherits the lock (fd 9) and dispatches under it
if command -v setsid >/dev/null 2>&1; then
  setsid bash .wrapper.sh submit "$S" "$n" "$dir" < /dev/null > /dev/null 2>&1 &
else
  set -m
  nohup bash .wrapper.sh submit "$S" "$n" "$dir" < /dev/null > /dev/null 2>&1 &
fi
exec 9>&-
echo "$n"
"""
)

# $1 slot dir; stdin: NUL-terminated pairs "<scheduler id>" "<job dir>" (a
# path may hold any byte but NUL). One status line per job, in the format the
# native "shell" parser reads, then "#end <count>" so truncated output is
# recognised. Only molq's own words and numbers are printed, never a path.
# Queued jobs that can start now are started first, so the answer shows them.
POLL = (
    PROCS
    + SLOTS
    + ORIGINAL_STATUS_FN
    + r"""
# "" for the default: the remote user's
S=${1:-$HOME/.molq/local-slots}
if [ -d "$S/queue" ] && ! molq_queue_empty; then molq_lock; molq_dispatch; molq_unlock; fi
# molq_report ID DIR STATE_DIR [SID TASK]: the status line of a local
# scheduler's job, or of task TASK of array SID (STATE_DIR its own).
molq_report() {
  local sid=$1 dir=$2 at=$3 pid= start= started= rc= fin= cause= why=
  if [ ! -r "$at/.pid" ]; then
    [ -r "$at/.exit_code" ] && read -r rc fin cause < "$at/.exit_code"
    if [ "$rc" = - ]; then echo "$sid|cancelled|||$fin|$cause"; return; fi
    # it may have started meanwhile: its .pid comes before anything else
    if [ ! -r "$at/.pid" ]; then
      if [ -e "$dir/.cancel_requested" ]; then
        echo "$sid|cancelled|||"
      elif molq_died_unstarted "$dir" "${4:-$sid}" "${5:-}" && [ ! -r "$at/.pid" ]; then
        echo "$sid|vanished|||"
      else
        [ -r "$dir/.queued" ] && IFS= read -r why < "$dir/.queued"
        echo "$sid|queued||||$why"
      fi
      return
    fi
  fi
  read -r pid start < "$at/.pid"
  molq_report_started "$sid" "$dir" "$at" "$pid" "$start"
}
# molq_report_started ID DIR STATE_DIR PID START: the status line of a job
# whose wrapper (PID, started at START when known) has started.
molq_report_started() {
  local sid=$1 dir=$2 at=$3 pid=$4 start=$5 started= rc= fin= cause= status
  [ -r "$at/.started" ] && read -r started < "$at/.started"
  if molq_alive "$pid" "$start"; then
    echo "$sid|running||$started|"
  elif [ -r "$at/.exit_code" ]; then
    read -r rc fin cause < "$at/.exit_code"
    if [ -e "$dir/.cancel_requested" ]; then status=cancelled; else status=exited; fi
    echo "$sid|$status|$rc|$started|$fin|$cause"
  elif [ -e "$dir/.cancel_requested" ]; then
    echo "$sid|cancelled||$started|"
  else
    echo "$sid|vanished||$started|"
  fi
}
n=0 MOLQ_LIVE=
while IFS= read -r -d '' sid && IFS= read -r -d '' dir; do
  n=$((n + 1))
  # a job the original molq started (imported from its store)
  if molq_orig_status "$sid" "$dir"; then continue; fi
  # asked by id alone: the slot directory knows the job's directory
  if [ -z "$dir" ] && [ -n "$S" ] && [ -r "$S/jobs/$sid" ]; then IFS= read -r -d '' dir < "$S/jobs/$sid"; fi
  if [ -n "$dir" ] && [ -r "$dir/.tasks" ]; then
    while read -r t; do molq_report "${sid}_$t" "$dir" "$dir/task-$t" "$sid" "$t"; done < "$dir/.tasks"
    continue
  fi
  if [ -n "$dir" ] && [ -e "$dir/.launch" ]; then molq_report "$sid" "$dir" "$dir"; continue; fi
  # a job started before the local scheduler kept slots: its id is its wrapper's pid
  start=
  if [ -r "$dir/.pid" ]; then
    # .pid is the wrapper's first write; until it exists the pid alone must do
    read -r p s < "$dir/.pid"
    [ "$p" = "$sid" ] && start=$s
  fi
  molq_report_started "$sid" "$dir" "$dir" "$sid" "$start"
done
echo "#end $n"
"""
)

# $1 job dir ("" when unknown: then the slot directory's record, or the pid
# alone, must do), $2 grace seconds, $3 the scheduler id ("" for a job whose
# submitter died before recording it), $4 the slot dir. Stops every process
# of the job: SIGTERM to its group and session, the grace period, then
# SIGKILL until none is left. Prints "cancelled <id>" when it stopped a live
# or queued job, "finished <id>" when the job had already ended, "unstarted"
# when no wrapper had started and none will run it now (it sees the marker),
# and "survived <id>" when processes outlived SIGKILL for 10 s (stuck in the kernel).
CANCEL = (
    PROCS
    + SLOTS
    + ORIGINAL_CANCEL_FN
    + r"""
dir=$1 grace=$2 pid=$3 S=${4:-$HOME/.molq/local-slots} start= unrecorded= marked=
if [ -z "$dir" ] && [ -n "$pid" ] && [ -n "$S" ] && [ -r "$S/jobs/$pid" ]; then
  IFS= read -r -d '' dir < "$S/jobs/$pid"
fi
[ -n "$pid" ] && molq_orig_cancel "$dir" "$grace" && exit 0
if [ -n "$dir" ] && [ -e "$dir/.launch" ]; then
  # the local scheduler's job: stop it in the queue, under the lock, so no
  # dispatcher starts it meanwhile
  sid=$pid
  [ -n "$sid" ] || { [ -r "$dir/.sid" ] && read -r sid < "$dir/.sid"; }
  [ -n "$sid" ] || { echo unstarted; exit 0; }
  if [ -r "$dir/.tasks" ]; then
    # an array: no task starts from now on, and those that run are stopped
    molq_lock
    molq_ended "$dir"
    if [ -n "$MOLQ_END" ]; then molq_unlock; echo "finished $sid"; exit 0; fi
    : > "$dir/.cancel_requested"
    rm -f "$S/queue/$(printf %012d "$sid")".*
    molq_dispatch
    molq_unlock
    i=0 limit=$((grace * 10))
    while :; do
      MOLQ_LIVE= live=
      while read -r t; do
        p= s=
        [ -r "$dir/task-$t/.pid" ] && read -r p s < "$dir/task-$t/.pid"
        if [ -n "$p" ] && molq_alive "$p" "$s"; then live="$live $p"; fi
      done < "$dir/.tasks"
      [ -n "$live" ] || break
      for p in $live; do
        if [ "$i" -eq 0 ]; then molq_signal TERM "$p"; molq_signal CONT "$p"
        elif [ "$i" -ge "$limit" ]; then molq_signal KILL "$p"; fi
      done
      [ "$i" -ge $((limit + 100)) ] && { echo "survived $sid"; exit 0; }
      sleep 0.1; i=$((i + 1))
    done
    echo "cancelled $sid"; exit 0
  fi
  if [ ! -r "$dir/.pid" ]; then
    molq_lock
    if [ ! -r "$dir/.pid" ]; then
      molq_ended "$dir"
      if [ -n "$MOLQ_END" ]; then molq_unlock; echo "finished $sid"; exit 0; fi
      : > "$dir/.cancel_requested"
      rm -f "$S/queue/$(printf %012d "$sid")"
      molq_dispatch
      molq_unlock
      echo "cancelled $sid"; exit 0
    fi
    molq_unlock
  fi
  read -r pid start < "$dir/.pid"
  label=$sid
elif [ -z "$pid" ]; then
  unrecorded=1
  # the marker first: a wrapper starting from now on runs nothing
  : > "$dir/.cancel_requested" 2>/dev/null || { echo unstarted; exit 0; }
  [ -r "$dir/.pid" ] || { echo unstarted; exit 0; }
  read -r pid start < "$dir/.pid"
  case $pid in ''|*[!0-9]*|0|1) echo unstarted; exit 0 ;; esac
  label=$pid
else
  if [ -n "$dir" ] && [ -r "$dir/.pid" ]; then
    read -r p s < "$dir/.pid"
    [ "$p" = "$pid" ] && start=$s
  fi
  label=$pid
fi
MOLQ_LIVE=
if ! molq_alive "$pid" "$start"; then
  # it ended on its own: its real outcome stands
  [ -z "$unrecorded" ] || rm -f "$dir/.cancel_requested"
  echo "finished $label"; exit 0
fi
[ -z "$dir" ] || : > "$dir/.cancel_requested"
molq_signal TERM "$pid"; molq_signal CONT "$pid"
i=0 limit=$((grace * 10))
while MOLQ_LIVE=; molq_alive "$pid" "$start"; do
  if [ "$i" -ge "$limit" ]; then
    [ "$i" -ge $((limit + 100)) ] && { echo "survived $label"; exit 0; }
    molq_signal KILL "$pid"
  fi
  sleep 0.1; i=$((i + 1))
done
echo "cancelled $label"
"""
)

# stdin: NUL-terminated pairs "<job id>" "<job dir>"; prints "<job id>\t<scheduler id>"
# for each job the local scheduler took (its .sid), or whose wrapper started
# (an older job's .pid).
FIND = r"""
while IFS= read -r -d '' id && IFS= read -r -d '' dir; do
  if [ -r "$dir/.sid" ]; then
    read -r sid < "$dir/.sid" && printf '%s\t%s\n' "$id" "$sid"
  elif [ -r "$dir/.pid" ]; then
    read -r pid start < "$dir/.pid" && printf '%s\t%s\n' "$id" "$pid"
  fi
done
exit 0
"""
