#!/bin/bash
# Stop the test sshd started by scripts/sshd-up.sh, by its recorded PID, together with its
# open connections (so clients see the host go away, not just the listener). Safe to run
# when nothing runs. The user, keys and packages stay; sshd-up.sh starts it again.
set -uo pipefail
# shellcheck source=lib/sshd-testbed.sh
. "$(dirname "$0")/lib/sshd-testbed.sh"

case ${1:-} in
  "") ;;
  -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: sshd-down.sh)" ;;
esac
[ "$(id -u)" = 0 ] || die "must be run as root"
T0=$(now_ms)
if pid=$(sshd_pid); then
  stop_sshd
  echo "sshd testbed down in $(secs_since "$T0")s: stopped sshd (pid $pid) and its connections"
else
  rm -f "$SSHD_STATE/sshd.pid"
  echo "sshd testbed down: nothing was running"
fi
