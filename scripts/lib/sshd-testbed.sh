# shellcheck shell=bash
# Shared functions for molq's sshd testbed (sourced by scripts/sshd-up.sh and sshd-down.sh).
#
# One sshd, started by hand with its own config; its PID is in $SSHD_STATE/sshd.pid (it
# writes that file itself) and every stop goes through that PID, after checking
# /proc/PID/comm, never through a process name.

SSHD_STATE=${MOLQ_SSHD_STATE:-/run/molq-sshd}
SSHD_PORT=${MOLQ_SSHD_PORT:-2222}
SSHD_USER=${MOLQ_SSHD_USER:-molqtest}
MOLQ_TESTBED_LOG=${MOLQ_TESTBED_LOG:-/var/log/molq-testbed}

die() { echo "$(basename "$0"): error: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs_since() { local d=$(( $(now_ms) - $1 )); printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100)); }
note() { mkdir -p "$MOLQ_TESTBED_LOG"; echo "$(date '+%F %T') $*" >> "$MOLQ_TESTBED_LOG/testbed.log"; }

# wait_until TIMEOUT_S DESCRIPTION COMMAND...: poll every 0.1 s until COMMAND succeeds
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$(( $(now_ms) + timeout * 1000 ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      echo "$(basename "$0"): timed out after ${timeout}s waiting for $what" >&2
      return 1
    fi
    sleep 0.1
  done
}

# alive PID: exists and is not a zombie (PID 1 on the CI machines reaps orphans only every
# second or two, so a stopped daemon lingers as Z and `kill -0` would call it alive)
alive() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  case ${stat%% *} in Z|X|"") return 1 ;; esac
}

# sshd_pid: PID of our running sshd (from its PidFile, checked to be an sshd), else rc 1
sshd_pid() {
  local p
  p=$(tr -dc 0-9 2>/dev/null < "$SSHD_STATE/sshd.pid") || return 1
  [ -n "$p" ] && alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] && echo "$p"
}

# children PID: the direct children of PID (for sshd: one process per open connection)
children() {
  local f stat state ppid rest
  for f in /proc/[0-9]*/stat; do
    read -r stat < "$f" 2>/dev/null || continue
    stat=${stat##*) }          # the command name before it may hold spaces and ')'
    read -r state ppid rest <<<"$stat"
    if [ "$ppid" = "$1" ]; then f=${f#/proc/}; echo "${f%/stat}"; fi
  done
}

# stop_sshd: TERM the listener's connection processes (so open sessions and ControlMaster
# connections drop, as when a host goes down), then the listener; KILL what ignores TERM
stop_sshd() {
  local pid kids k i
  pid=$(sshd_pid) || { rm -f "$SSHD_STATE/sshd.pid"; return 0; }
  kids=$(children "$pid")
  # shellcheck disable=SC2086
  kill -TERM $kids "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  for k in $kids $pid; do
    if alive "$k" && [ "$(cat "/proc/$k/comm" 2>/dev/null)" = sshd ]; then kill -KILL "$k" 2>/dev/null || true; fi
  done
  rm -f "$SSHD_STATE/sshd.pid"
  note "stopped sshd (pid $pid) and ${kids:+its connections $(echo $kids)}"
}

# login_probe ALIAS: a real key login through the generated client config
login_probe() {
  ssh -F "$SSHD_STATE/ssh_config" -o ConnectTimeout=5 -o ControlPath=none "$1" true </dev/null
}

sshd_failed() {
  echo "$(basename "$0"): error: sshd did not come up; last lines of $MOLQ_TESTBED_LOG/sshd.log:" >&2
  tail -n 15 "$MOLQ_TESTBED_LOG/sshd.log" 2>/dev/null | sed 's/^/    /' >&2
}
