#!/bin/bash
# Record what the real Grid Engine commands print, for molq-core's parser tests. Runs jobs on
# the single-node Grid Engine of scripts/sge-up.sh and writes, for every case NAME,
#   crates/molq-core/tests/fixtures/sge/NAME.{stdout,stderr,rc}
# plus README.md there with the exact command of each case. Takes about 30 seconds.
#
# Needs Grid Engine up and no jobs of root in it (it deletes only the jobs it submits).
# Every command runs with TZ=UTC, as molq runs them.
set -uo pipefail
cd "$(dirname "$0")/.."
export TZ=UTC SGE_ROOT=/var/lib/gridengine SGE_CELL=default

OUT=crates/molq-core/tests/fixtures/sge
die() { echo "capture-sge-fixtures.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }
scripts/sge-up.sh --check >/dev/null || die "Grid Engine is not up: run scripts/sge-up.sh"
[ -z "$(qstat -u root)" ] || die "root has jobs in Grid Engine; the cases need an empty queue"

W=$(mktemp -d /tmp/molq-sge-fixtures.XXXXXX)
chmod 755 "$W"
T0=$(date +%Y%m%d%H%M)
mkdir -p "$OUT"
rm -f "$OUT"/*.stdout "$OUT"/*.stderr "$OUT"/*.rc
INDEX=$(mktemp)
trap 'qdel -u root >/dev/null 2>&1; rm -rf "$W" "$INDEX"' EXIT

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
# every job is named (-N: without it some submissions fail) and runs in $W
sub() { qsub -terse -wd "$W" -o /dev/null -e /dev/null -S /bin/bash "$@"; }
wait_until() {
  local n=$(( $1 * 5 )) what=$2; shift 2
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
  die "timed out waiting for $what"
}
state_is() { qstat -u root | awk -v id="$1" -v st="$2" '$1 == id && $5 == st {f=1} END {exit !f}'; }
in_qacct() { qacct -j "$1" >/dev/null 2>&1; }
gone() { ! qstat -u root | awk -v id="$1" '$1 == id {f=1} END {exit !f}'; }

# ===================================================================== submit
cap qsub_terse "qsub -terse of a plain job: the job number" \
  qsub -terse -wd "$W" -o /dev/null -e /dev/null -S /bin/bash -N molq-ok -b y true
OK=$(cat "$OUT/qsub_terse.stdout")
cap qsub_terse_array "qsub -terse -t 1-4: job number, task range and step" \
  qsub -terse -wd "$W" -o /dev/null -e /dev/null -S /bin/bash -N molq-array -t 1-4 -b y 'sleep 3; exit $((SGE_TASK_ID % 2))'
ARR=$(cut -d. -f1 "$OUT/qsub_terse_array.stdout")
cap qsub_plain "qsub without -terse: the sentence form" \
  qsub -wd "$W" -o /dev/null -e /dev/null -S /bin/bash -N molq-plain -b y true
cap qsub_name_with_space "a job name with a space is refused, with a misleading message" \
  qsub -terse -wd "$W" -o /dev/null -e /dev/null -S /bin/bash -N 'molq with space' -b y true
cap qsub_name_with_colon "a job name with ':' is refused" \
  qsub -terse -wd "$W" -o /dev/null -e /dev/null -S /bin/bash -N 'molq:colon' -b y true

# ===================================================================== queue
FAIL=$(sub -N molq-exit3 -b y 'exit 3')
SEGV=$(sub -N molq-segv -b y 'kill -SEGV $$')
wait_until 60 "the first jobs to finish" sh -c "in_qacct() { qacct -j \$1 >/dev/null 2>&1; }; in_qacct $OK && in_qacct $FAIL && in_qacct $SEGV"
wait_until 60 "array $ARR to finish" sh -c "qacct -j $ARR 2>/dev/null | grep -c '^taskid' | grep -qx 4"
# a job whose working directory is missing goes to the error state once it is dispatched
BAD=$(qsub -terse -wd /nonexistent/molq -o /dev/null -e /dev/null -S /bin/bash -N molq-baddir -b y true)
wait_until 30 "job $BAD to go to Eqw" state_is "$BAD" Eqw
RUN=$(sub -N molq-running -b y 'sleep 300')
wait_until 30 "job $RUN to run" state_is "$RUN" r
RUN2=$(sub -N 'molq-odd&<name>"q'"'"'' -b y 'sleep 300')
wait_until 30 "job $RUN2 to run" state_is "$RUN2" r
# both slots busy from here: everything else waits
ARR2=$(sub -N molq-array-pending -t 1-5:2 -b y true | cut -d. -f1)
HELD=$(sub -N molq-held -h -b y true)
LONG=molq-$(printf 'x%.0s' $(seq 1 200))
LONGID=$(sub -N "$LONG" -b y true)
qmod -sj "$RUN2" >/dev/null
wait_until 30 "job $RUN2 to be suspended" state_is "$RUN2" s
cap qstat_xml_mixed "running, suspended (name with & < > quotes), pending array 1-5:2, held, error state Eqw, a 205-character name" \
  qstat -xml -u root
cap qstat_table_mixed "the same queue as a table, for comparison (molq does not read it)" qstat -u root
qmod -usj "$RUN2" >/dev/null
qdel "$ARR2" "$HELD" "$BAD" "$LONGID" >/dev/null
ARR3=$(sub -N molq-array-partial -t 1-3 -b y 'sleep 300' | cut -d. -f1)
qdel "$RUN2" >/dev/null
wait_until 30 "task 1 of $ARR3 to run" sh -c "qstat -u root | awk '\$1 == $ARR3 && \$5 == \"r\"' | grep -q ."
cap qstat_xml_array_partial "array 1-3: task 1 running, tasks 2-3 pending (collapsed)" qstat -xml -u root
qdel "$RUN" >/dev/null
cap qstat_xml_deleting "a running job just after qdel (state dr), if caught" qstat -xml -u root
qdel "$ARR3" >/dev/null
wait_until 30 "the queue to empty" sh -c '[ -z "$(qstat -u root)" ]'
cap qstat_xml_empty "no jobs" qstat -xml -u root

# ===================================================================== cancel
P=$(sub -N molq-pending -h -b y true)
cap qdel_pending "qdel of a pending job: deleted at once" qdel "$P"
R=$(sub -N molq-cancel -b y 'sleep 300')
wait_until 30 "job $R to run" state_is "$R" r
cap qdel_running "qdel of a running job: registered for deletion" qdel "$R"
cap qdel_finished "qdel of a finished job" qdel "$OK"
cap qdel_unknown "qdel of a job number never used" qdel 999999
wait_until 30 "job $R to leave the queue" gone "$R"
TL=$(sub -N molq-timelimit -l h_rt=0:0:2 -b y 'sleep 60')
wait_until 60 "job $TL to reach its time limit" in_qacct "$TL"
wait_until 30 "job $R in qacct" in_qacct "$R"

# ===================================================================== accounting
cap qacct_exit_codes "exit 0, exit 3, killed by SIGSEGV" sh -c "qacct -j $OK; qacct -j $FAIL; qacct -j $SEGV"
cap qacct_array "an array 1-4 whose odd tasks exit 1: one block per task" qacct -j "$ARR"
cap qacct_cancelled "a running job deleted with qdel: killed by SIGKILL" qacct -j "$R"
cap qacct_timelimit "a job over its h_rt: failed 37" qacct -j "$TL"
cap qacct_since "every job of root that started since the capture began, as molq asks" \
  qacct -o root -b "$T0" -j
cap qacct_none "no job started after the given time: only qacct's summary table" \
  qacct -o root -b 203001010000 -j
cap qacct_unknown "a job number never used" qacct -j 999999
cap qacct_pending_deleted "a job deleted before it started has no accounting record" qacct -j "$P"

# ===================================================================== README
VERSION=$(qstat -help 2>/dev/null | head -1)
{
  cat <<EOF
# Grid Engine output fixtures

Real output of the Grid Engine commands molq runs, recorded by \`scripts/capture-sge-fixtures.sh\`
from the single-node Grid Engine of \`scripts/sge-up.sh\` ($VERSION, Debian 12 gridengine
packages, cell \`default\`, host \`localhost\`, queue \`all.q\` with 2 slots, run as root, \`TZ=UTC\`)
on $(date +%F). Each case NAME has \`NAME.stdout\`, \`NAME.stderr\` (exactly as printed, possibly
empty) and \`NAME.rc\` (the exit code). Nothing is anonymised. To re-record (about 30 s, needs
Grid Engine up and no jobs of root): \`scripts/capture-sge-fixtures.sh\`.

The formats follow the documented ones: qstat(1) \`-xml\` (schema qstat.xsd: one \`<job_list>\`
per job or task group, \`state\` attribute running/pending, child \`<state>\` the letter code of
sge_status(5), \`<tasks>\` a task number or a collapsed range \`first-last:step\`), accounting(5)
as printed by qacct(1) \`-j\` (one block per job or array task after a line of \`=\`,
\`failed N : text\`, \`exit_status N (signal name)\`), qsub(1) \`-terse\`.

## What they show (Son of Grid Engine 8.1.9)

* States seen: \`r\`, \`s\` (qmod -sj), \`qw\`, \`hqw\` (qsub -h), \`Eqw\` (working directory
  missing: the job stays queued in the error state), \`dr\` (deletion of a running job, if the
  capture caught it). A running task lists as \`<tasks>1</tasks>\`, pending ones collapse to
  \`<tasks>2-3:1</tasks>\`. Running jobs carry \`JAT_start_time\`, pending ones
  \`JB_submission_time\` (ISO, no zone: the client's local time, here UTC).
* Names are XML-escaped (\`&amp;\`, \`&lt;\`...). A name may not contain \`/ : @ \\ * ?\` nor a
  space: \`qsub -N 'a b'\` fails with "Error reading answer list from qmaster".
* qacct: \`failed 0\` with the script's exit status; \`failed 100 : assumedly after job\` with
  \`exit_status 128+N\` when the job died by signal N (SIGSEGV, or SIGKILL from qdel: a cancel
  is indistinguishable from a kill); \`failed 37\` for h_rt. A job deleted while pending never
  ran and has no accounting record. Unknown ids: rc 1, \`error: job id N not found\` on stderr.
  With nothing to list, \`qacct -j\` prints only its "Total System Usage" summary.
* qdel: "registered the job N for deletion" (running), "has deleted job N" (pending),
  \`denied: job "N" does not exist\` with rc 1 for finished and unknown jobs alike.

## Cases

EOF
  while IFS=$'\t' read -r name cmd note; do
    rc=$(cat "$OUT/$name.rc")
    if [ -s "$OUT/$name.stderr" ]; then err="stderr"; else err="no stderr"; fi
    printf '### %s\n%s. (rc %s, %s lines of stdout, %s)\n\n    %s\n\n' "$name" "$note" "$rc" \
      "$(wc -l <"$OUT/$name.stdout")" "$err" "$cmd"
  done <"$INDEX"
} >"$OUT/README.md"
log "done: $(ls "$OUT" | wc -l) files in $OUT"
