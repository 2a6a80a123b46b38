#!/bin/bash
# Stop or start one daemon of the Slurm testbed, to simulate outages in tests.
#
#   scripts/slurm-daemon.sh stop  slurmctld   scheduler outage: squeue/sbatch/scancel fail
#   scripts/slurm-daemon.sh start slurmctld   back, with its saved job state
#   scripts/slurm-daemon.sh stop  slurmdbd    accounting outage: sacct fails
#   scripts/slurm-daemon.sh start slurmdbd
#   scripts/slurm-daemon.sh status NAME       rc 0 and the PID if it runs
#
# NAME is one of munged mariadbd slurmdbd slurmctld slurmd. start waits until the daemon
# answers; it uses the configuration written by scripts/slurm-up.sh.
set -uo pipefail
# shellcheck source=lib/slurm-testbed.sh
. "$(dirname "$0")/lib/slurm-testbed.sh"

usage="usage: slurm-daemon.sh {stop|start|status} {${TESTBED_DAEMONS[*]}}"
[ $# = 2 ] || die "$usage"
action=$1 name=$2
daemon_binary "$name" >/dev/null || die "unknown daemon '$name'; $usage"
[ "$(id -u)" = 0 ] || die "must be run as root"
t=$(now_ms)
[ "$action" = status ] || take_lock
case $action in
  stop)
    if pid=$(daemon_pid "$name"); then
      stop_daemon "$name"; echo "stopped $name (pid $pid) in $(secs_since "$t")s"
    else
      stop_daemon "$name"; echo "$name was not running"
    fi ;;
  start)
    [ -f /etc/slurm/slurm.conf ] || die "no /etc/slurm/slurm.conf: run scripts/slurm-up.sh first"
    start_daemon "$name" || exit 1
    if [ "$name" = slurmctld ] && daemon_pid slurmd >/dev/null; then
      # slurmd re-registers with the restarted controller within a few seconds
      wait_until 60 "node $SLURM_NODE to be in service again" node_in_service_or_resume || exit 1
    fi
    if [ "$name" = slurmdbd ] && daemon_pid slurmctld >/dev/null; then
      wait_until 30 "sacct to answer" sacct_ok || exit 1
    fi
    echo "$name running (pid $(daemon_pid "$name")), ready after $(secs_since "$t")s" ;;
  status)
    if pid=$(daemon_pid "$name"); then echo "$name running (pid $pid)"; else echo "$name not running"; exit 1; fi ;;
  *) die "$usage" ;;
esac
