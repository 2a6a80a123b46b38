#!/bin/bash
# Stop the Grid Engine daemons started by scripts/sge-up.sh, execd first, each by its PID
# (TERM, wait up to 10 s, then KILL). Safe to run when nothing runs. Packages, configuration
# and the accounting file stay.
#
#   scripts/sge-down.sh            stop the daemons (queued jobs are kept by qmaster's spool)
#   scripts/sge-down.sh --purge    also delete every job first (qdel -u '*')
set -uo pipefail

export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
STATE=${MOLQ_SGE_STATE:-/run/molq-sge}
SPOOL=/var/spool/gridengine
die() { echo "sge-down.sh: $*" >&2; exit 1; }

purge=0
case ${1:-} in
  --purge) purge=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: sge-down.sh [--purge])" ;;
esac
[ "$(id -u)" = 0 ] || die "must be run as root"
mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock -w 300 9 || die "another sge-up.sh/sge-down.sh holds $STATE/lock"

if [ $purge = 1 ] && command -v qdel >/dev/null; then
  timeout 20 qdel -u '*' >/dev/null 2>&1 || true
fi

stopped=()
for d in sge_execd sge_qmaster; do
  case $d in sge_execd) f=$SPOOL/execd/localhost/execd.pid ;; *) f=$SPOOL/qmaster/qmaster.pid ;; esac
  # the PID recorded by sge-up.sh, else the daemon's own pid file; only if it is that daemon
  for src in "$STATE/$d.pid" "$f"; do
    [ -s "$src" ] || continue
    p=$(tr -dc 0-9 < "$src")
    [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$d" ] || continue
    kill "$p" 2>/dev/null
    for _ in $(seq 1 100); do [ -e "/proc/$p" ] || break; sleep 0.1; done
    [ -e "/proc/$p" ] && kill -KILL "$p" 2>/dev/null
    stopped+=("$d($p)")
    break
  done
  rm -f "$STATE/$d.pid"
done
if [ ${#stopped[@]} -gt 0 ]; then echo "Grid Engine down: stopped ${stopped[*]}"; else echo "Grid Engine down: nothing was running"; fi
