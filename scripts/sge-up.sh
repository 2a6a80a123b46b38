#!/bin/bash
# Bring up a real single-node Grid Engine (Son of Grid Engine 8.1.9, Debian 12 packages) for
# molq's integration tests.
#
#   scripts/sge-up.sh           install (if needed), configure and start qmaster and execd
#   scripts/sge-up.sh --check   exit 0 if Grid Engine is up and usable, else print why:
#                               rc 3 = not root, rc 4 = Grid Engine not installed,
#                               rc 5 = a daemon is down or does not answer
#
# Root, no systemd. Coexists with the Slurm testbed (scripts/slurm-up.sh): Grid Engine listens
# on 6444/6445 (Slurm on 6817-6819) and its clients are /usr/bin/q*; a conflicting listener or a
# foreign qsub on PATH (Slurm's Torque wrappers) is reported, not overwritten. Safe to run again:
# running daemons are kept, the configuration is re-applied, missing daemons are started.
#
# Cell "default", host "localhost", queue all.q (one slot per CPU), parallel environment "smp"
# ($pe_slots), scheduling every second, root jobs allowed, accounting flushed at once (qacct
# sees a job as soon as it ends). PIDs: /run/molq-sge/. Log: /var/log/molq-testbed/sge.log.
# Stop with scripts/sge-down.sh.
set -euo pipefail
trap 'echo "sge-up.sh: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
STATE=${MOLQ_SGE_STATE:-/run/molq-sge}
LOG=${MOLQ_TESTBED_LOG:-/var/log/molq-testbed}
SPOOL=/var/spool/gridengine
PACKAGES=(gridengine-master gridengine-exec gridengine-client)
declare -A PIDFILE=([sge_qmaster]=$SPOOL/qmaster/qmaster.pid [sge_execd]=$SPOOL/execd/localhost/execd.pid)
declare -A PORT=([sge_qmaster]=6444 [sge_execd]=6445)

die() { echo "sge-up.sh: $*" >&2; exit 1; }
note() { mkdir -p "$LOG"; echo "$(date '+%F %T') $*" >> "$LOG/sge.log"; }

# daemon_pid NAME: print the pid of the running daemon NAME, or fail
daemon_pid() {
  local f=${PIDFILE[$1]} p
  [ -s "$f" ] || return 1
  p=$(tr -dc 0-9 < "$f")
  [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
}

# a client that answers: qconf talks to qmaster; the queue instance has a load value once execd reports
qmaster_ok() { timeout 10 qconf -sh >/dev/null 2>&1; }
execd_ok() { timeout 10 qstat -f -q all.q 2>/dev/null | grep '^all.q@localhost' | grep -qv -- '-NA-'; }

# the q* commands on PATH must be Grid Engine's (Debian's wrapper), not Slurm's Torque wrappers
clients_ok() {
  local b t
  for b in qsub qstat qdel qacct qconf; do
    t=$(command -v "$b") || { echo "no $b on PATH"; return 1; }
    [ "$(readlink -f "$t")" = /usr/share/gridengine/gridengine-wrapper ] \
      || { echo "$b on PATH is $t, not Grid Engine's (slurm-wlm-torque installed?)"; return 1; }
  done
}

check() {
  [ "$(id -u)" = 0 ] || { echo "not root: the Grid Engine testbed is run as root (sudo scripts/sge-up.sh)"; return 3; }
  local b why
  for b in sge_qmaster sge_execd; do
    [ -x "/usr/sbin/$b" ] || { echo "Grid Engine is not installed (no /usr/sbin/$b): run scripts/sge-up.sh"; return 4; }
  done
  why=$(clients_ok) || { echo "Grid Engine clients unusable: $why"; return 4; }
  for b in sge_qmaster sge_execd; do
    daemon_pid "$b" >/dev/null || { echo "$b is not running: run scripts/sge-up.sh"; return 5; }
  done
  qmaster_ok || { echo "sge_qmaster does not answer (qconf -sh): run scripts/sge-up.sh"; return 5; }
  execd_ok || { echo "queue all.q@localhost has no load report from sge_execd: run scripts/sge-up.sh"; return 5; }
  echo "ok: Grid Engine up (qmaster pid $(daemon_pid sge_qmaster), execd pid $(daemon_pid sge_execd))"
}

case ${1:-} in
  --check) rc=0; check || rc=$?; exit $rc ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: sge-up.sh [--check])" ;;
esac

[ "$(id -u)" = 0 ] || die "must be run as root (it installs packages and starts system daemons)"
mkdir -p "$STATE" "$LOG"
exec 9>"$STATE/lock"
flock -w 300 9 || die "another sge-up.sh/sge-down.sh holds $STATE/lock"
T0=$(date +%s%N)
note "sge-up.sh begins"

# ---------------------------------------------------------------- packages
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found: cannot install ${missing[*]}"
  if dpkg-query -W -f='${Status}' slurm-wlm-torque 2>/dev/null | grep -q 'install ok installed'; then
    die "slurm-wlm-torque is installed and conflicts with gridengine-client (both ship qsub/qstat)"
  fi
  # postinst scripts would start the daemons through /etc/init.d; policy-rc.d 101 forbids it
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# created by molq scripts/sge-up.sh: no daemon starts from package scripts\nexit 101\n' \
      > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
  fi
  # answers for the debconf questions, so the postinst creates the cell without asking
  for p in gridengine-common gridengine-client gridengine-master; do
    printf '%s shared/gridengineconfig boolean true\n%s shared/gridenginecell string default\n' "$p" "$p"
    printf '%s shared/gridenginemaster string localhost\n' "$p"
  done | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >>"$LOG/apt.log" 2>&1 || die "apt-get update failed; see $LOG/apt.log"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOG/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed; see $LOG/apt.log"
  note "installed ${missing[*]}"
fi
why=$(clients_ok) || die "$why"

# ---------------------------------------------------------------- conflicts
for d in sge_qmaster sge_execd; do
  daemon_pid "$d" >/dev/null && continue
  holder=$(ss -Hltnp "sport = :${PORT[$d]}" 2>/dev/null | head -1)
  [ -z "$holder" ] || die "port ${PORT[$d]} ($d) is taken by another process: $holder"
done

# ---------------------------------------------------------------- qmaster
# SGE insists that the name a client gives itself (gethostname) is the name its address
# resolves back to (127.0.0.1 -> localhost); host_aliases makes them one host.
echo "localhost $(hostname) $(hostname -f 2>/dev/null || true)" > "$SGE_ROOT/$SGE_CELL/common/host_aliases"
echo localhost > "$SGE_ROOT/$SGE_CELL/common/act_qmaster"
# wait_until SECONDS WHAT COMMAND...
wait_until() {
  local n=$(( $1 * 5 )) what=$2; shift 2
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
  die "timed out waiting for $what"
}
if ! daemon_pid sge_qmaster >/dev/null; then
  /usr/sbin/sge_qmaster >>"$LOG/sge.log" 2>&1     # forks and drops to sgeadmin
  wait_until 30 "sge_qmaster to write its pid file" daemon_pid sge_qmaster >/dev/null
  note "started sge_qmaster pid $(daemon_pid sge_qmaster)"
fi
wait_until 30 "sge_qmaster to answer" qmaster_ok

# ---------------------------------------------------------------- configuration
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT; cd "$T"
# apply KIND NAME FILE: add the object (-A) or, if it exists, modify it (-M)
apply() {
  local list=$1 add=$2 mod=$3 name=$4 file=$5
  if qconf "$list" 2>/dev/null | grep -qx "$name"; then
    qconf "$mod" "$file" >>"$LOG/sge.log" 2>&1
  else
    qconf "$add" "$file" >>"$LOG/sge.log" 2>&1
  fi
}
printf 'hostname localhost\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' > exechost
apply -sel -Ae -Me localhost exechost
qconf -ss 2>/dev/null | grep -qx localhost || qconf -as localhost >>"$LOG/sge.log" 2>&1
printf 'group_name @allhosts\nhostlist localhost\n' > hgrp
apply -shgrpl -Ahgrp -Mhgrp @allhosts hgrp
cat > smp <<'PE'
pe_name            smp
slots              9999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    $pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
PE
apply -spl -Ap -Mp smp smp
{
  printf 'qname all.q\nhostlist @allhosts\nseq_no 0\nload_thresholds NONE\nsuspend_thresholds NONE\n'
  printf 'nsuspend 1\nsuspend_interval 00:05:00\npriority 0\nmin_cpu_interval 00:05:00\n'
  printf 'processors UNDEFINED\nqtype BATCH INTERACTIVE\nckpt_list NONE\npe_list smp\nrerun FALSE\n'
  printf 'slots %s\ntmpdir /tmp\nshell /bin/bash\nprolog NONE\nepilog NONE\n' "$(nproc)"
  printf 'shell_start_mode unix_behavior\nstarter_method NONE\nsuspend_method NONE\n'
  printf 'resume_method NONE\nterminate_method NONE\nnotify 00:00:60\nowner_list NONE\n'
  printf 'user_lists NONE\nxuser_lists NONE\nsubordinate_list NONE\ncomplex_values NONE\n'
  printf 'projects NONE\nxprojects NONE\ncalendar NONE\ninitial_state default\n'
  for l in rt cpu fsize data stack core rss vmem; do printf 's_%s INFINITY\nh_%s INFINITY\n' "$l" "$l"; done
} > queue
apply -sql -Aq -Mq all.q queue
# schedule every second (default 15 s)
qconf -ssconf > sconf
sed -i 's/^schedule_interval .*/schedule_interval 0:0:1/' sconf
qconf -Msconf sconf >>"$LOG/sge.log" 2>&1
# root jobs (min_uid/min_gid default 1000); accounting written at once (default every 15 s).
# NB: -Mconf takes the configuration's name from the file name, so the file is called "global".
# Values may continue over lines ending in '\\': join those first; a line whose first word is
# not an attribute name (left by an earlier bad edit) is dropped.
qconf -sconf global | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | awk '$1 !~ /=/ { $1 = $1; print }' > global.now
cp global.now global
sed -i -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' \
  -e 's/^reporting_params .*/reporting_params accounting=true reporting=false flush_time=00:00:15 joblog=false sharelog=00:00:00 accounting_flush_time=00:00:00/' \
  global
if ! cmp -s global global.now; then
  qconf -Mconf global >>"$LOG/sge.log" 2>&1
  # execd caches the global configuration: a running one must be restarted to see it
  if p=$(daemon_pid sge_execd); then
    kill "$p"; wait_until 30 "sge_execd $p to stop" sh -c "[ ! -e /proc/$p ]"
    note "restarted sge_execd for the new global configuration"
  fi
fi
cd /

# ---------------------------------------------------------------- execd
if ! daemon_pid sge_execd >/dev/null; then
  /usr/sbin/sge_execd >>"$LOG/sge.log" 2>&1
  wait_until 30 "sge_execd to write its pid file" daemon_pid sge_execd >/dev/null
  note "started sge_execd pid $(daemon_pid sge_execd)"
fi
wait_until 60 "all.q@localhost to get a load report from sge_execd" execd_ok
for d in sge_qmaster sge_execd; do daemon_pid "$d" > "$STATE/$d.pid"; done

ms=$(( ($(date +%s%N) - T0) / 1000000 ))
echo "Grid Engine up in $((ms / 1000)).$(printf %03d $((ms % 1000)))s: qmaster pid $(cat "$STATE/sge_qmaster.pid"), execd pid $(cat "$STATE/sge_execd.pid"), $(nproc) slots in all.q, PE smp"
note "sge-up.sh done in ${ms}ms"
