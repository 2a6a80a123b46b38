#!/bin/bash
# Record what the real Slurm commands print, for molq-core's parser tests. Runs jobs on the
# testbed of scripts/slurm-up.sh and writes, for every case NAME,
#   crates/molq-core/tests/fixtures/slurm/NAME.{stdout,stderr,rc}
# plus README.md there listing the exact command of each case. Takes about 3 minutes (one job
# has to hit its 1-minute time limit).
#
# Needs the testbed up and an empty queue (it will not cancel other people's jobs). It runs
# slurmctld with MinJobAge=30 while capturing (so that finished jobs are purged quickly),
# stops slurmctld and slurmdbd briefly for the outage cases, and restores the normal
# testbed (scripts/slurm-up.sh) at the end.
#
# Every command runs with SLURM_TIME_FORMAT=%s, as molq runs them (times in epoch seconds);
# the *_iso cases use SLURM_TIME_FORMAT=standard to keep a sample of the ISO form.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/slurm-testbed.sh
. scripts/lib/slurm-testbed.sh

OUT=crates/molq-core/tests/fixtures/slurm
FMT='%i|%T|%u|%P|%V|%S|%r|%j'
SINCE=$(date -d yesterday +%F)
SACCT_FIELDS=JobID,JobIDRaw,State,ExitCode,Start,End,Reason
export SLURM_TIME_FORMAT=%s
ISO=(env SLURM_TIME_FORMAT=standard)

scripts/slurm-up.sh --check >/dev/null || die "the testbed is not up: run scripts/slurm-up.sh"
[ -z "$(squeue -h -o %A)" ] || die "the queue is not empty; the cases need an idle node"
MOLQ_SLURM_MIN_JOB_AGE=30 scripts/slurm-up.sh >/dev/null || die "could not restart with MinJobAge=30"
trap 'scripts/slurm-up.sh >/dev/null' EXIT

W=$(mktemp -d /tmp/molq-fixtures.XXXXXX)
mkdir -p "$OUT"
rm -f "$OUT"/*.stdout "$OUT"/*.stderr "$OUT"/*.rc
INDEX=$(mktemp)
log() { echo "[$(date +%T)] $*" >&2; }

# shell-quote a command for the README, quoting only the words that need it
show() {
  local out="" a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  echo "${out# }"
}

# cap NAME NOTE COMMAND...: run COMMAND, keep its stdout, stderr and exit code
cap() {
  local name=$1 note=$2 rc=0; shift 2
  "$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || rc=$?
  echo "$rc" >"$OUT/$name.rc"
  printf '%s\t%s\t%s\n' "$name" "$(show "$@")" "$note" >>"$INDEX"
  log "$name: rc=$rc, $(wc -l <"$OUT/$name.stdout") lines"
}

submit() { sbatch --parsable --chdir="$W" --output=/dev/null "$@"; }
# wait_squeue ID STATE: until `squeue -j ID` reports STATE for the job (or any of its tasks)
wait_squeue() {
  wait_until 120 "job $1 to be $2" sh -c "squeue -h -j $1 -o %T | grep -qx $2" || exit 1
}
# wait_sacct IDS...: until sacct shows every job (and array task) in a terminal state
wait_sacct() {
  local ids; ids=$(IFS=,; echo "$*")
  wait_until 240 "jobs $ids to finish in sacct" sh -c \
    "out=\$(sacct -X -n -P -o State -j $ids -S $SINCE) && [ -n \"\$out\" ] && ! echo \"\$out\" | grep -qE '^(PENDING|RUNNING|REQUEUED|RESIZING|SUSPENDED)'" \
    || exit 1
}
# purged ID: slurmctld has forgotten the job (MinJobAge passed and the purge timer ran)
purged() { ! scontrol show job "$1" >/dev/null 2>&1; }

# ======================================================================= queue: active jobs
log "phase 1: pending, held, running, arrays, odd names"
RUN=$(submit -J molq-running --wrap 'sleep 300')
wait_squeue "$RUN" RUNNING
ARR=$(submit -J molq-array --array=1-5 --wrap 'sleep 300')          # one CPU left: task 1 runs
wait_squeue "$ARR" RUNNING
BEHIND=$(submit -J molq-waiting --wrap 'sleep 300')                  # waits for a free CPU
HELD=$(submit --hold -J molq-held --wrap true)
ADMIN=$(submit -J molq-admin-held --wrap true)
scontrol hold "$ADMIN"                                               # root's hold: JobHeldAdmin
HARR=$(submit --hold -J molq-held-array --array=1-5 --wrap true)
NAME1=$(submit --hold -J 'name with  spaces ünïcødé ✓' --wrap true)
NAME2=$(submit --hold -J 'pipe|in|name' --wrap true)
THROTTLED=$(submit --hold -J molq-throttled --array=1-10%2 --wrap true)
sleep 1

cap squeue_running "a running job (one CPU of two)" squeue -h -o "$FMT" -j "$RUN"
cap squeue_pending "a job waiting for a CPU, a --hold job (JobHeldUser), a job held by root with scontrol hold (JobHeldAdmin)" \
  squeue -h -o "$FMT" -j "$BEHIND,$HELD,$ADMIN"
cap squeue_array_pending "a held job array --array=1-5: one line, id ARRAYID_[1-5]" squeue -h -o "$FMT" -j "$HARR"
cap squeue_array_partial "a job array --array=1-5 with task 1 running and tasks 2-5 pending as one line ARRAYID_[2-5]" \
  squeue -h -o "$FMT" -j "$ARR"
cap squeue_array_partial_iso "the same with SLURM_TIME_FORMAT=standard: ISO local times" \
  "${ISO[@]}" squeue -h -o "$FMT" -j "$ARR"
cap squeue_array_throttled "a held job array --array=1-10%2 (at most 2 tasks at once): one line, id ARRAYID_[1-10%2]" \
  squeue -h -o "$FMT" -j "$THROTTLED"
cap squeue_names "job names with two spaces, non-ASCII characters, and '|' (the field separator: %j is last, so split at most 7 times)" \
  squeue -h -o "$FMT" -j "$NAME1,$NAME2"
cap squeue_me "everything root has in the queue, via --me" squeue -h -o "$FMT" --me
cap squeue_user "the same via -u root" squeue -h -o "$FMT" -u root
ACTIVE="$RUN,$BEHIND,$HELD,$ADMIN,$ARR,$HARR"
cap sacct_just_submitted "sacct -X a second after submitting: accounting lags behind slurmctld (a running job may still be PENDING, jobs may be missing)" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$ACTIVE" -S "$SINCE"
wait_until 60 "sacct to show job $RUN running" sh -c "sacct -X -n -P -o State -j $RUN -S $SINCE | grep -qx RUNNING" || exit 1
sleep 2
cap sacct_active "sacct -X once accounting caught up: running, pending and held jobs and arrays (pending array tasks are one row)" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$ACTIVE" -S "$SINCE"
cap sacct_active_steps "the same without -X: steps of the running jobs" \
  sacct -n -P --noconvert -o "$SACCT_FIELDS" -j "$ACTIVE" -S "$SINCE"

log "cancelling phase-1 jobs"
cap scancel_jobs "scancel of a running job and of pending/held jobs and arrays: silent" \
  scancel "$RUN" "$ARR" "$BEHIND" "$HELD" "$ADMIN" "$HARR" "$NAME1" "$NAME2" "$THROTTLED"
wait_until 60 "the node to be idle" sh -c '[ -z "$(squeue -h -t running,completing -o %A)" ]' || exit 1

# ======================================================================= COMPLETING
log "phase 2: a job in COMPLETING (it ignores SIGTERM until KillWait=30s ends)"
SLOW=$(submit -J molq-slow-to-die --wrap "trap '' TERM; sleep 300")
wait_squeue "$SLOW" RUNNING
scancel "$SLOW"
sleep 1
cap squeue_completing "a cancelled job whose processes ignore SIGTERM: COMPLETING until SIGKILL after KillWait" \
  squeue -h -o "$FMT" -j "$SLOW"

# ======================================================================= terminal states
log "phase 3: terminal states (the TIMEOUT job needs 1-2 minutes)"
TIMEOUT=$(submit -J molq-timeout --time=1 --wrap 'sleep 120')
OK=$(submit -J molq-ok --wrap 'true')
FAIL=$(submit -J molq-exit3 --wrap 'exit 3')
KILLED=$(submit -J molq-kill9 --wrap 'kill -9 $$')
TASKS=$(submit -J molq-array-mixed --array=1-4 --wrap 'exit $(( SLURM_ARRAY_TASK_ID % 2 * 5 ))')
wait_sacct "$OK"
cap squeue_empty "a job that finished a moment ago (slurmctld still remembers it): no output, rc 0" \
  squeue -h -o "$FMT" -j "$OK"
cap scancel_finished "scancel of a job that already completed: silent, rc 0" scancel "$OK"
cap scancel_verbose_finished "scancel --verbose of a job that already completed" scancel --verbose "$OK"
wait_sacct "$FAIL" "$KILLED" "$TASKS" "$SLOW" "$ARR" "$HARR"

cap scancel_unknown "scancel of an id slurmctld does not know" scancel 999999
cap scancel_verbose_unknown "scancel --verbose of an id slurmctld does not know" scancel --verbose 999999
LIVE=$(submit -J molq-cancel-verbose --wrap 'sleep 300')
wait_squeue "$LIVE" RUNNING
cap scancel_verbose_running "scancel --verbose of a running job" scancel --verbose "$LIVE"
cap squeue_unknown "squeue -j of ONE id slurmctld does not know (never existed): rc 1" \
  squeue -h -o "$FMT" -j 999999
cap sacct_unknown "sacct of an id the database does not know: no output, rc 0" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j 999999 -S "$SINCE"

log "waiting for $TIMEOUT to time out"
wait_sacct "$TIMEOUT"
TERMINAL="$OK,$FAIL,$KILLED,$RUN,$HELD,$SLOW,$TIMEOUT"
cap sacct_terminal "COMPLETED (true); FAILED (exit 3); FAILED (kill -9 \$\$); CANCELLED while running; CANCELLED while held; CANCELLED, killed after KillWait (the COMPLETING job); TIMEOUT (--time=1, sleep 120)" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$TERMINAL" -S "$SINCE"
cap sacct_terminal_iso "the same with SLURM_TIME_FORMAT=standard: ISO local times" \
  "${ISO[@]}" sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$TERMINAL" -S "$SINCE"
cap sacct_terminal_steps "the same jobs without -X: .batch and .extern steps (the job line has the job's state, the steps their own)" \
  sacct -n -P --noconvert -o "$SACCT_FIELDS" -j "$TERMINAL" -S "$SINCE"
cap sacct_array "a job array --array=1-4 whose odd tasks exit 5 and even tasks exit 0" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$TASKS" -S "$SINCE"
cap sacct_array_steps "the same without -X" \
  sacct -n -P --noconvert -o "$SACCT_FIELDS" -j "$TASKS" -S "$SINCE"

cap sacct_array_cancelled "job arrays cancelled while task 1 ran and tasks 2-5 were pending, and while all held" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$ARR,$HARR" -S "$SINCE"

# ======================================================================= submission
log "phase 4: sbatch, scontrol show job, purged ids"
cap sbatch_parsable "sbatch --parsable: the job id alone" \
  sbatch --parsable --hold --chdir="$W" --output=/dev/null -J molq-submit --wrap true
cap sbatch_parsable_cluster "sbatch --parsable with -M/--clusters: id;cluster" \
  sbatch --parsable -M "$SLURM_CLUSTER" --hold --chdir="$W" --output=/dev/null -J molq-submit-cluster --wrap true
cap sbatch_bad_option "sbatch with an option it does not know: rejected before contacting slurmctld" \
  sbatch --parsable --no-such-option --wrap true
cap sbatch_bad_partition "sbatch to a partition that does not exist: rejected by slurmctld" \
  sbatch --parsable --partition=nosuch --chdir="$W" --output=/dev/null --wrap true
SHOWN=$(submit --cpus-per-task=2 --mem=100M --time=00:10:00 --job-name=x --partition="$SLURM_PARTITION" --wrap 'sleep 60')
wait_squeue "$SHOWN" RUNNING
cap scontrol_show_job "scontrol show job of a running job submitted with --cpus-per-task=2 --mem=100M --time=00:10:00 --job-name=x --partition=$SLURM_PARTITION" \
  scontrol show job "$SHOWN"
scancel "$SHOWN"
wait_until 150 "job $RUN to be purged from slurmctld (MinJobAge=30 + purge timer)" purged "$RUN" || exit 1
ALIVE=$(squeue -h -o %A -n molq-submit | head -1)
cap squeue_known_and_purged "squeue -j with a pending job and a job purged from slurmctld's memory (finished > MinJobAge ago)" \
  squeue -h -o "$FMT" -j "$ALIVE,$RUN"
cap squeue_purged "squeue -j of ONE job purged from slurmctld's memory: same as an id that never existed" \
  squeue -h -o "$FMT" -j "$RUN"
cap squeue_purged_and_unknown "squeue -j with SEVERAL ids, none known (one purged, one never existed): unlike one id, rc 0 and no output" \
  squeue -h -o "$FMT" -j "$RUN,999999"
scancel $(squeue -h -o %A -n molq-submit,molq-submit-cluster) 2>/dev/null

# ======================================================================= outages
log "phase 5: daemons down"
scripts/slurm-daemon.sh stop slurmdbd >/dev/null
cap sacct_slurmdbd_down "sacct while slurmdbd is stopped (accounting unavailable)" \
  sacct -X -n -P --noconvert -o "$SACCT_FIELDS" -j "$FAIL" -S "$SINCE"
scripts/slurm-daemon.sh start slurmdbd >/dev/null
scripts/slurm-daemon.sh stop slurmctld >/dev/null
T=$(now_ms)
cap squeue_slurmctld_down "squeue while slurmctld is stopped (it retries, then fails)" squeue -h -o "$FMT" -j "$FAIL"
SQUEUE_DOWN_SECS=$(secs_since "$T")
cap sbatch_slurmctld_down "sbatch while slurmctld is stopped (it gives up by itself; timeout 60 only guards the capture)" \
  timeout 60 sbatch --parsable --chdir="$W" --output=/dev/null --wrap true
scripts/slurm-daemon.sh start slurmctld >/dev/null

# ======================================================================= README
VERSION=$(sinfo -V)
{
  cat <<EOF
# Slurm output fixtures

Real output of the Slurm commands molq runs, recorded by \`scripts/capture-slurm-fixtures.sh\`
on the single-node testbed of \`scripts/slurm-up.sh\` ($VERSION, Debian 12, accounting through
slurmdbd + MariaDB, cluster \`$SLURM_CLUSTER\`, partition \`$SLURM_PARTITION\`, node \`$SLURM_NODE\` with
2 CPUs, run as root, MinJobAge=30 during the capture) on $(date +%F).

Each case NAME has three files: \`NAME.stdout\` and \`NAME.stderr\` (exactly as printed, possibly
empty) and \`NAME.rc\` (the exit code). Nothing is anonymised. Job ids, times and the node are
those of that run; the sacct start date \`$SINCE\` was "yesterday". To re-record (about 3
minutes, needs the testbed up and an empty queue): \`scripts/capture-slurm-fixtures.sh\`.

The polling commands, as molq runs them, with \`SLURM_TIME_FORMAT=%s\` in the environment so that
times are epoch seconds (the \`*_iso\` cases use \`SLURM_TIME_FORMAT=standard\`: ISO local times):

    squeue -h -o '$FMT' -j <ids>        (or --me, or -u <user>)
    sacct -X -n -P --noconvert -o $SACCT_FIELDS -j <ids> -S <date>

## What they show (Slurm 22.05)

* \`squeue -j\` with ONE id that slurmctld does not know (never existed, or finished more than
  MinJobAge ago and purged) fails: rc 1, \`slurm_load_jobs error: Invalid job id specified\`.
  With SEVERAL ids, unknown ones are silently left out (rc 0), even when none is known.
  A finished job slurmctld still remembers is left out too (plain \`squeue\` shows only
  pending/running/completing jobs).
* Pending array tasks collapse into one line, \`ARRAYID_[2-5]\`; a started task is \`ARRAYID_1\`.
  In sacct every task has its own JobIDRaw; the last task keeps the array's own id.
* Job names may contain \`|\` (and spaces, non-ASCII): \`%j\` is the last field, so split a line
  at the first 7 separators only.
* sacct lags slurmctld by about a second: a just-started job can still be PENDING there, or
  missing. ExitCode is \`code:signal\`; cancelled jobs read \`CANCELLED by <uid>\`; a TIMEOUT
  job line reads 0:0 while its batch step is CANCELLED 0:15.
* scancel is silent with rc 0 for unknown and finished ids alike.

## Cases

EOF
  while IFS=$'\t' read -r name cmd note; do
    rc=$(cat "$OUT/$name.rc")
    if [ -s "$OUT/$name.stderr" ]; then err="stderr"; else err="no stderr"; fi
    lines=$(wc -l <"$OUT/$name.stdout")
    if [ "$lines" = 1 ]; then lines="1 line"; else lines="$lines lines"; fi
    printf '### %s\n%s. (rc %s, %s of stdout, %s)\n\n    %s\n\n' "$name" "$note" "$rc" "$lines" "$err" "$cmd"
  done <"$INDEX"
  cat <<EOF
## Not recorded

* OUT_OF_MEMORY: the testbed has no cgroup memory enforcement (task/none, CR_Core). Even with
  JobAcctGatherParams=OverMemoryKill and CR_Core_Memory, a job over its --mem is killed by the
  accounting poller and ends as FAILED 0:9 (its batch step CANCELLED 0:9), not OUT_OF_MEMORY,
  which needs task/cgroup.
* \`squeue\` took ${SQUEUE_DOWN_SECS}s to give up while slurmctld was down.
EOF
} >"$OUT/README.md"

rm -rf "$W" "$INDEX"
log "done: $(ls "$OUT" | wc -l) files in $OUT; restoring the normal testbed"
