"""The local scheduler's slots: a machine's CPUs, memory and GPUs shared by
every job molq starts there, with no daemon.

Whoever changes the picture (a submitter, a job that ends, a status check,
a cancel) takes the slot directory's lock and runs the dispatcher, which
starts the queued jobs that fit now. The slot directory (one per user and
machine, ``<molq home>/local-slots``) holds:

* ``lock``         taken with flock(2) by every process that reads or writes the rest;
* ``seq``          the last job number handed out (a job's scheduler id);
* ``capacity``     ``<cpus> <memory KiB> <gpu ids|-> <cpu ids|->``: what jobs may hold;
                   cpu ids are given only when they are the machine's own (affinity);
* ``queue/<n>``    a job waiting to start (``<cpus> <KiB> <gpus>``, then its job
                   directory, NUL-terminated: a path may hold a line break), named by its number padded to 12 digits so a glob
                   lists the queue in submission order;
* ``queue/<n>.<t>`` task t of array n (padded to 10 digits), the first line
                   ending with the array's throttle (``%N``) when it has one;
* ``held/<n>``     a started job's share (``held/<n>.<t>``: an array task's): ``<cpus> <KiB> <gpu ids|-> <cpu ids|->
                   <wrapper pid> <start time>``. A share whose process is gone
                   (exited, killed with SIGKILL) is free again: a dead holder
                   proves itself by its pid and start time, so no one has to
                   clean up after a crash;
* ``jobs/<n>``     the job directory of job n (NUL-terminated), for dependencies.

A queued job waits for slots in submission order; a later job that fits in
what is free starts before an earlier one that does not (backfill). Its job
directory's ``.queued`` says what it waits for.
"""

from __future__ import annotations

__all__ = ["SLOTS"]

# Needs PROCS (molq_st). S is the slot directory.
SLOTS = r"""
# molq_lock: take the slot directory's lock on fd 9 (flock(1) where there is
# one; else a directory lock, broken when its holder is dead).
molq_lock() {
  exec 9>>"$S/lock"
  if command -v flock >/dev/null 2>&1; then
    flock 9
    return
  fi
  local p
  until mkdir "$S/lock.d" 2>/dev/null; do
    read -r p 2>/dev/null < "$S/lock.d/pid"
    if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then rm -rf "$S/lock.d"; fi
    sleep 0.05
  done
  echo "$$" > "$S/lock.d/pid"
  MOLQ_DIR_LOCK=1
}
molq_unlock() {
  [ -z "${MOLQ_DIR_LOCK:-}" ] || { rm -rf "$S/lock.d"; MOLQ_DIR_LOCK=; }
  exec 9>&-
}

# molq_queue_empty: true when no job waits in the queue.
molq_queue_empty() {
  local q
  for q in "$S"/queue/*; do [ -e "$q" ] && return 1; done
  return 0
}

# molq_holds PID START: is the holder PID (started at START) alive?
molq_holds() {
  case $1 in ''|*[!0-9]*) return 1 ;; esac
  molq_st "$1" || return 1
  [ -z "$2" ] || [ "$ST" = "$2" ]
}

# molq_pick N FROM USED: sets MOLQ_PICKED to the first N ids of the comma
# list FROM that are not in " USED " (space separated), comma joined; "-" for none.
molq_pick() {
  local n=$1 id out=
  MOLQ_PICKED=-
  [ "$n" -gt 0 ] && [ "$2" != - ] || return 0
  local IFS=,
  for id in $2; do
    [ "$n" -gt 0 ] || break
    case $3 in *" $id "*) continue ;; esac
    out="$out${out:+,}$id"; n=$((n - 1))
  done
  MOLQ_PICKED=${out:--}
}

# molq_count LIST: sets MOLQ_N to the number of ids in a comma list ("-": 0).
molq_count() {
  MOLQ_N=0
  [ "$1" = - ] && return 0
  local IFS=, id
  for id in $1; do MOLQ_N=$((MOLQ_N + 1)); done
}

# molq_kib_text KIB: sets MOLQ_TEXT to KIB as a person reads it (GiB or MiB, one decimal).
molq_kib_text() {
  local k=$1
  if [ "$k" -ge 1048576 ]; then
    MOLQ_TEXT="$((k / 1048576)).$(((k % 1048576) * 10 / 1048576)) GiB"
  else
    MOLQ_TEXT="$((k / 1024)).$(((k % 1024) * 10 / 1024)) MiB"
  fi
}

# molq_died_unstarted DIR SID [TASK]: was the job of DIR (its task) taken
# from the queue of the slot directory it was submitted to (its .slots), but
# its wrapper died before it recorded its pid? Looked at in the order the
# dispatcher writes (its share, then the queue entry goes), so a job being
# started is never taken for dead; the caller checks .pid again after.
molq_died_unstarted() {
  local q h c m gl cl p s slots
  [ -r "$1/.slots" ] && IFS= read -r -d '' slots < "$1/.slots"
  [ -n "$slots" ] && [ -d "$slots" ] || return 1
  printf -v q '%012d' "$2"
  [ -z "${3:-}" ] || printf -v q '%s.%010d' "$q" "$3"
  [ -e "$slots/queue/$q" ] && return 1
  h=$slots/held/$2${3:+.$3}
  [ -e "$h" ] || return 0
  read -r c m gl cl p s < "$h" || return 0
  ! molq_holds "$p" "$s"
}

# molq_ended DIR: how the job of DIR ended. Sets MOLQ_END to its final state
# (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, OUT_OF_MEMORY, LOST) or "" while
# it is queued or running, and MOLQ_BEGAN=1 once it has started. An array has
# ended once every task has: SUCCEEDED when all did, else the first other end.
molq_ended() {
  local d=$1 t end= began=
  if [ -r "$d/.tasks" ]; then
    while read -r t; do
      molq_task_ended "$d" "$d/task-$t" "$t"
      [ -z "$MOLQ_BEGAN" ] || began=1
      if [ -z "$MOLQ_END" ]; then end=-; continue; fi
      [ -n "$end" ] || [ "$MOLQ_END" = SUCCEEDED ] || end=$MOLQ_END
    done < "$d/.tasks"
    MOLQ_BEGAN=$began
    case $end in -) MOLQ_END= ;; '') MOLQ_END=SUCCEEDED ;; *) MOLQ_END=$end ;; esac
    return 0
  fi
  molq_task_ended "$d" "$d"
}
# molq_task_ended DIR STATE_DIR [TASK]: molq_ended for one job or task.
molq_task_ended() {
  local d=$2 rc fin cause p s sid
  MOLQ_END= MOLQ_BEGAN=
  [ -e "$d/.started" ] && MOLQ_BEGAN=1
  if [ -r "$d/.exit_code" ]; then
    read -r rc fin cause < "$d/.exit_code"
    if [ -e "$1/.cancel_requested" ]; then MOLQ_END=CANCELLED; return; fi
    case $cause in
      time:*) MOLQ_END=TIMED_OUT ;;
      memory:*) MOLQ_END=OUT_OF_MEMORY ;;
      dependency:*) MOLQ_END=CANCELLED ;;
      stdout|stderr) MOLQ_END=FAILED ;;
      *) if [ "$rc" = 0 ]; then MOLQ_END=SUCCEEDED; else MOLQ_END=FAILED; fi ;;
    esac
    return
  fi
  if [ -r "$d/.pid" ]; then
    read -r p s < "$d/.pid"
    molq_holds "$p" "$s" && return
    if [ -e "$1/.cancel_requested" ]; then MOLQ_END=CANCELLED; else MOLQ_END=LOST; fi
    return
  fi
  if [ -e "$1/.cancel_requested" ]; then MOLQ_END=CANCELLED; return 0; fi
  [ -r "$1/.sid" ] && read -r sid < "$1/.sid" || return 0
  if molq_died_unstarted "$1" "$sid" "${3:-}" && [ ! -e "$d/.pid" ]; then MOLQ_END=LOST; fi
  return 0
}

# molq_dep_state NEEDS_FILE: sets MOLQ_DEP to ready, wait or never, and
# MOLQ_WHY to what it waits for or why it can never start. The file holds
# one line in Slurm's words: "afterok:17:18,afterany:3" (every term must hold).
molq_dep_state() {
  local spec term cond id d want terms ids
  MOLQ_DEP=ready MOLQ_WHY=
  IFS= read -r spec < "$1" || [ -n "$spec" ] || return 0
  # split once, so the checks below run with the usual IFS (they split /proc lines)
  IFS=, read -r -a terms <<< "$spec"
  for term in "${terms[@]}"; do
    cond=${term%%:*}
    IFS=: read -r -a ids <<< "${term#*:}"
    for id in "${ids[@]}"; do
      d=
      [ -r "$S/jobs/$id" ] && IFS= read -r -d '' d < "$S/jobs/$id"
      if [ -z "$d" ] || [ ! -d "$d" ]; then
        MOLQ_DEP=never MOLQ_WHY="dependency $id is not a job of this machine's local scheduler (or its directory is gone)"
        return
      fi
      molq_ended "$d"
      case $cond in
        after)
          want=start
          [ -n "$MOLQ_BEGAN" ] && continue
          [ -n "$MOLQ_END" ] && { MOLQ_DEP=never MOLQ_WHY="dependency $id ended $MOLQ_END without starting"; return; } ;;
        afterok)
          want=succeed
          [ "$MOLQ_END" = SUCCEEDED ] && continue
          [ -n "$MOLQ_END" ] && { MOLQ_DEP=never MOLQ_WHY="dependency $id ended $MOLQ_END"; return; } ;;
        afternotok)
          want=fail
          [ "$MOLQ_END" = SUCCEEDED ] && { MOLQ_DEP=never MOLQ_WHY="dependency $id ended SUCCEEDED"; return; }
          [ -n "$MOLQ_END" ] && continue ;;
        afterany)
          want=end
          [ -n "$MOLQ_END" ] && continue ;;
        *)
          MOLQ_DEP=never MOLQ_WHY="unknown dependency condition $cond"; return ;;
      esac
      if [ "$MOLQ_DEP" = ready ]; then MOLQ_DEP=wait MOLQ_WHY="waiting for job $id to $want"; fi
    done
  done
}

# molq_launch SID DIR GPUS CPUS [TASK]: start job SID's wrapper (of array task
# TASK), holding those ids, in a session of its own, with the environment its
# submitter saved (not this process's), and no lock.
molq_launch() {
  if command -v setsid >/dev/null 2>&1; then
    setsid env -i "$BASH" "$2/.wrapper.sh" run "$S" "$1" "$2" "$3" "$4" "${5:-}" 9>&- < /dev/null > /dev/null 2>&1 &
  else
    # a process group of its own at least
    set -m
    env -i "$BASH" "$2/.wrapper.sh" run "$S" "$1" "$2" "$3" "$4" "${5:-}" 9>&- < /dev/null > /dev/null 2>&1 &
    set +m
  fi
  MOLQ_LAUNCHED=$!
}

# molq_dispatch [SELF]: start every queued job that fits now, in submission
# order (with backfill), ending those whose dependencies can never hold. The
# lock is held. Job SELF, when it is to start, is left for the caller to run
# in this very process (MOLQ_RUN_SELF=1, its share recorded for $$, its ids in
# MOLQ_SELF_GPUS and MOLQ_SELF_CPUS). A queue entry "<n>.<task>" is a task of
# array n (its state in <dir>/task-<task>), held to the array's throttle.
molq_dispatch() {
  local self=${1:-} h q name key sid task sd c m g thr gl cl pid st d want_c cap_c cap_m cap_g cap_cl
  local free_c free_m free_g used_g=" " used_c=" " done_with=()
  local -A tasks_on
  MOLQ_RUN_SELF=
  read -r cap_c cap_m cap_g cap_cl < "$S/capacity" 2>/dev/null || return 0
  free_c=$cap_c free_m=$cap_m
  for h in "$S"/held/*; do
    [ -e "$h" ] || continue
    read -r c m gl cl pid st < "$h"
    # $$ holds nothing any more when it dispatches (a job that has ended)
    if [ "$pid" != "$$" ] && molq_holds "$pid" "$st"; then
      free_c=$((free_c - c)) free_m=$((free_m - m))
      [ "$gl" = - ] || used_g="$used_g${gl//,/ } "
      [ "$cl" = - ] || used_c="$used_c${cl//,/ } "
      name=${h##*/}
      case $name in *.*) tasks_on[${name%%.*}]=$((${tasks_on[${name%%.*}]:-0} + 1)) ;; esac
    else
      done_with+=("$h")
    fi
  done
  molq_pick 1000000 "$cap_g" "$used_g"; molq_count "$MOLQ_PICKED"; free_g=$MOLQ_N
  for q in "$S"/queue/*; do
    [ -e "$q" ] || break
    [ "$free_c" -gt 0 ] || break
    name=${q##*/}
    case $name in
      *.*) sid=$((10#${name%%.*})) task=$((10#${name#*.})); key=$sid.$task ;;
      *) sid=$((10#$name)) task=; key=$sid ;;
    esac
    thr=
    { read -r c m g thr && IFS= read -r -d '' d; } < "$q" || { done_with+=("$q"); continue; }
    sd=$d${task:+/task-$task}
    if [ -e "$S/held/$key" ] || [ -e "$sd/.pid" ] || [ -e "$sd/.exit_code" ] || [ -e "$d/.cancel_requested" ] || [ ! -d "$d" ]; then
      done_with+=("$q"); continue
    fi
    if [ -r "$d/.needs" ]; then
      molq_dep_state "$d/.needs"
      case $MOLQ_DEP in
        never)
          molq_now_into t
          [ -d "$sd" ] || mkdir -m 700 -p "$sd"
          printf '%s %s %s\n' - "$t" "dependency:$MOLQ_WHY: it can never start" > "$sd/.exit_code.tmp" &&
            mv -f "$sd/.exit_code.tmp" "$sd/.exit_code"
          done_with+=("$q"); continue ;;
        wait)
          printf '%s\n' "$MOLQ_WHY" > "$d/.queued"; continue ;;
      esac
    fi
    if [ -n "$thr" ] && [ "${tasks_on[$sid]:-0}" -ge "$thr" ]; then
      printf 'waiting: at most %s tasks of this array run at once\n' "$thr" > "$d/.queued"; continue
    fi
    if [ "$c" -gt "$free_c" ]; then
      printf 'waiting for %s CPU%s; %s free\n' "$c" "$( [ "$c" = 1 ] || echo s)" "$free_c" > "$d/.queued"; continue
    fi
    if [ "$m" -gt "$free_m" ]; then
      molq_kib_text "$m"; want_c=$MOLQ_TEXT
      molq_kib_text "$((free_m < 0 ? 0 : free_m))"
      printf 'waiting for %s of memory; %s free\n' "$want_c" "$MOLQ_TEXT" > "$d/.queued"; continue
    fi
    if [ "$g" -gt "$free_g" ]; then
      printf 'waiting for %s GPU%s; %s free\n' "$g" "$( [ "$g" = 1 ] || echo s)" "$free_g" > "$d/.queued"; continue
    fi
    molq_pick "$g" "$cap_g" "$used_g"; gl=$MOLQ_PICKED
    molq_pick "$c" "$cap_cl" "$used_c"; cl=$MOLQ_PICKED
    free_c=$((free_c - c)) free_m=$((free_m - m)) free_g=$((free_g - g))
    [ "$gl" = - ] || used_g="$used_g${gl//,/ } "
    [ "$cl" = - ] || used_c="$used_c${cl//,/ } "
    [ -z "$task" ] || tasks_on[$sid]=$((${tasks_on[$sid]:-0} + 1))
    if [ "$key" = "$self" ]; then
      MOLQ_RUN_SELF=1 MOLQ_SELF_GPUS=$gl MOLQ_SELF_CPUS=$cl pid=$$
    else
      molq_launch "$sid" "$d" "$gl" "$cl" "$task"; pid=$MOLQ_LAUNCHED
    fi
    ST=; molq_st "$pid"
    printf '%s %s %s %s %s %s\n' "$c" "$m" "$gl" "$cl" "$pid" "$ST" > "$S/held/$key"
    done_with+=("$q")
  done
  [ "${#done_with[@]}" -eq 0 ] || rm -f -- "${done_with[@]}"
}
molq_now_into() { local molq_clock=${EPOCHREALTIME:-$(date +%s)}; printf -v "$1" %s "${molq_clock/,/.}"; }
"""
