#!/bin/bash
# Stop the Slurm testbed started by scripts/slurm-up.sh: each daemon by its recorded PID,
# newest first (TERM, wait, KILL). Safe to run when nothing runs. Packages stay installed.
#
#   scripts/slurm-down.sh                 stop the daemons; jobs, state and accounting are kept
#   scripts/slurm-down.sh --purge-state   also cancel all jobs and wipe slurmctld's state and the
#                                         accounting database (job ids restart at 1)
set -uo pipefail
# shellcheck source=lib/slurm-testbed.sh
. "$(dirname "$0")/lib/slurm-testbed.sh"

purge=0
case ${1:-} in
  --purge-state) purge=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: slurm-down.sh [--purge-state])" ;;
esac
[ "$(id -u)" = 0 ] || die "must be run as root"
T0=$(now_ms)
take_lock

if [ $purge = 1 ] && daemon_pid slurmctld >/dev/null && slurmctld_ok; then
  # cancel every job so that no slurmstepd outlives slurmd and its wiped spool directory
  ids=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
  if [ -n "${ids// /}" ]; then
    # shellcheck disable=SC2086
    scancel $ids 2>/dev/null
    wait_until 60 "cancelled jobs to finish" sh -c '[ -z "$(squeue -h -t running,completing -o %A)" ]'
  fi
fi

stopped=()
for d in slurmd slurmctld slurmdbd; do
  daemon_pid "$d" >/dev/null && stopped+=("$d")
  stop_daemon "$d"
done

if [ $purge = 1 ]; then
  # the accounting database is dropped through mariadbd, so it must run for a moment
  if ! daemon_pid mariadbd >/dev/null && [ -x /usr/sbin/mariadbd ]; then start_daemon mariadbd; fi
  if daemon_pid mariadbd >/dev/null; then
    mariadb -e 'DROP DATABASE IF EXISTS slurm_acct_db' || echo "warning: could not drop slurm_acct_db" >&2
  fi
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/*
  note "purged slurmctld state, slurmd spool and slurm_acct_db"
fi

for d in mariadbd munged; do
  daemon_pid "$d" >/dev/null && stopped+=("$d")
  stop_daemon "$d"
done

if [ ${#stopped[@]} -gt 0 ]; then what="stopped ${stopped[*]}"; else what="nothing was running"; fi
[ $purge = 1 ] && what="$what; state and accounting database purged"
echo "slurm testbed down in $(secs_since "$T0")s: $what"
note "slurm-down.sh: $what"
