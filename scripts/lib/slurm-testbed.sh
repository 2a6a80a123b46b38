# shellcheck shell=bash
# Shared functions for molq's single-node Slurm testbed (sourced by scripts/slurm-*.sh).
#
# The testbed is five daemons started by hand (no systemd): munged, mariadbd, slurmdbd,
# slurmctld and slurmd. Each one's PID is recorded in $MOLQ_TESTBED_STATE/<name>.pid, and
# every stop goes through that PID (after checking /proc/PID/comm), never through a name.

MOLQ_TESTBED_STATE=${MOLQ_TESTBED_STATE:-/run/molq-testbed}
MOLQ_TESTBED_LOG=${MOLQ_TESTBED_LOG:-/var/log/molq-testbed}
SLURM_CLUSTER=molq
SLURM_PARTITION=debug
SLURM_NODE=localhost
SLURM_DB_PASS=molq-testbed-db
# start order; stop order is the reverse
TESTBED_DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

die() { echo "$(basename "$0"): error: $*" >&2; exit 1; }
# milliseconds since the epoch, and elapsed seconds (one decimal) since a timestamp
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

# take_lock: serialise slurm-up/-down/-daemon runs (two at once could start two sets of
# daemons). The lock is fd 9; every daemon start closes it (9>&-), or the daemon would hold it.
take_lock() {
  mkdir -p "$MOLQ_TESTBED_STATE"
  exec 9>"$MOLQ_TESTBED_STATE/lock"
  flock -w 300 9 || die "another slurm-up/slurm-down/slurm-daemon run holds $MOLQ_TESTBED_STATE/lock"
}

# ---------------------------------------------------------------- processes by PID

# state letter of a process (R, S, D, Z, ...) or nothing if it is gone. The command name in
# /proc/PID/stat may itself contain spaces or parentheses, so cut after the last ')'.
proc_state() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  echo "${stat%% *}"
}

# alive PID: the process exists and is not a zombie. PID 1 on the CI machines reaps orphans
# only every second or two, so a stopped daemon lingers as Z; `kill -0` would call it alive.
alive() {
  local s
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  s=$(proc_state "$1")
  [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

daemon_binary() { case $1 in mariadbd|munged|slurmdbd|slurmctld|slurmd) echo "/usr/sbin/$1";; *) return 1;; esac; }

# the PID file the daemon writes itself (used to find a daemon whose PID we did not record yet)
daemon_own_pidfile() {
  case $1 in
    munged)   echo /run/munge/munged.pid ;;
    mariadbd) echo /run/mysqld/mysqld.pid ;;
    slurmdbd|slurmctld|slurmd) echo "/run/$1.pid" ;;
  esac
}

# is_daemon PID NAME: PID is a live process whose command name is NAME (guards against reuse)
is_daemon() { alive "$1" && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

# daemon_pid NAME: print the PID of the running daemon, from our record or else from the
# daemon's own PID file (a half-finished earlier start); nothing and rc 1 if not running
daemon_pid() {
  local name=$1 f p
  for f in "$MOLQ_TESTBED_STATE/$name.pid" "$(daemon_own_pidfile "$name")"; do
    p=$(cat "$f" 2>/dev/null | tr -dc 0-9) || true
    if [ -n "$p" ] && is_daemon "$p" "$name"; then echo "$p"; return 0; fi
  done
  return 1
}

record_pid() { mkdir -p "$MOLQ_TESTBED_STATE"; echo "$2" > "$MOLQ_TESTBED_STATE/$1.pid"; }

# checksum of the config files a daemon reads at start. start_daemon stores it next to the PID,
# so that a later slurm-up.sh can tell a daemon running on an outdated config (even one left
# by a run that died half-way) and restart it.
config_sum() {
  local files
  case $1 in
    slurmctld|slurmd) files="/etc/slurm/slurm.conf /etc/slurm/cgroup.conf" ;;
    slurmdbd) files=/etc/slurm/slurmdbd.conf ;;
    munged) files=/etc/munge/munge.key ;;
    *) echo none; return 0 ;;
  esac
  # shellcheck disable=SC2086
  cat $files 2>/dev/null | sha256sum | cut -c1-16
}
config_outdated() { [ "$(cat "$MOLQ_TESTBED_STATE/$1.config" 2>/dev/null)" != "$(config_sum "$1")" ]; }

# stop_daemon NAME [GRACE_S]: TERM by PID, wait until it is gone or a zombie, then KILL
stop_daemon() {
  local name=$1 grace=${2:-30} pid i own
  own=$(daemon_own_pidfile "$name")
  if pid=$(daemon_pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      echo "$name (pid $pid) ignored SIGTERM for ${grace}s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    fi
    note "stopped $name (pid $pid)"
  fi
  rm -f "$MOLQ_TESTBED_STATE/$name.pid" "$MOLQ_TESTBED_STATE/$name.config"
  # Slurm leaves its PID files behind; a stale /run/slurmctld.pid makes the Debian prerm of
  # slurmctld run scancel against a dead controller, and `apt-get remove` then fails.
  local p; p=$(cat "$own" 2>/dev/null | tr -dc 0-9) || true
  if [ -f "$own" ] && ! is_daemon "$p" "$name"; then rm -f "$own"; fi
}

# ---------------------------------------------------------------- probes

slurm_node_state() { sinfo -h -n "$SLURM_NODE" -o %T 2>/dev/null | head -1; }
# the node answers and takes jobs (idle when empty; mixed/allocated/completing while in use)
node_in_service() { case $(slurm_node_state) in idle|mixed|allocated|completing) return 0;; *) return 1;; esac; }
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
mariadb_ok() { mariadb-admin --connect-timeout=2 ping >/dev/null 2>&1; }
slurmdbd_ok() { timeout 10 sacctmgr -n -P show cluster format=cluster >/dev/null 2>&1; }
slurmctld_ok() { timeout 10 scontrol ping >/dev/null 2>&1; }
cluster_registered() { timeout 10 sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$SLURM_CLUSTER"; }
sacct_ok() { timeout 10 sacct -n -X -o JobID -S now >/dev/null 2>&1; }

# ---------------------------------------------------------------- starting one daemon

# start_daemon NAME: start NAME unless it already runs, wait until it is usable, record its
# PID. Daemon output never goes to our stdout/stderr: a daemon holding the caller's pipe
# open would make `$(slurm-up.sh)` or subprocess.run(capture_output=True) hang forever.
start_daemon() {
  local name=$1 pid own
  own=$(daemon_own_pidfile "$name")
  if pid=$(daemon_pid "$name"); then
    record_pid "$name" "$pid"
  else
    rm -f "$own"
    mkdir -p "$MOLQ_TESTBED_LOG"
    case $name in
      munged)
        install -d -o munge -g munge -m 0755 /run/munge   # systemd's RuntimeDirectory= does this
        # munged refuses a key that is not owned by its own user, so run it as munge
        runuser -u munge -- /usr/sbin/munged </dev/null >>"$MOLQ_TESTBED_LOG/munged.out" 2>&1 9>&- ;;
      mariadbd)
        install -d -o mysql -g mysql -m 0755 /run/mysqld
        setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file="$own" \
          --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
          </dev/null >>"$MOLQ_TESTBED_LOG/mariadbd.log" 2>&1 9>&- & ;;
      slurmdbd|slurmctld)
        "/usr/sbin/$name" </dev/null >>"$MOLQ_TESTBED_LOG/$name.out" 2>&1 9>&- ;;
      slurmd)
        /usr/sbin/slurmd -N "$SLURM_NODE" </dev/null >>"$MOLQ_TESTBED_LOG/slurmd.out" 2>&1 9>&- ;;
    esac
    # a forking daemon's start returns 0 even if it dies a moment later (bad permissions,
    # port in use): trust only its PID file plus a real probe
    wait_until 30 "$name to write $own" sh -c "p=\$(cat $own 2>/dev/null) && [ \"\$(cat /proc/\$p/comm 2>/dev/null)\" = $name ]" \
      || { daemon_failed "$name"; return 1; }
    pid=$(daemon_pid "$name") || { daemon_failed "$name"; return 1; }
    record_pid "$name" "$pid"
    config_sum "$name" > "$MOLQ_TESTBED_STATE/$name.config"
    note "started $name (pid $pid)"
  fi
  case $name in
    munged)    wait_until 10 "munged to answer (munge -n | unmunge)" munge_ok ;;
    mariadbd)  wait_until 60 "mariadbd to answer (mariadb-admin ping)" mariadb_ok ;;
    slurmdbd)  wait_until 60 "slurmdbd to answer (sacctmgr show cluster)" slurmdbd_ok ;;
    slurmctld) wait_until 60 "slurmctld to answer (scontrol ping)" slurmctld_ok ;;
    slurmd)    wait_until 60 "node $SLURM_NODE to be in service (sinfo)" node_in_service_or_resume ;;
  esac || { daemon_failed "$name"; return 1; }
}

# a node left DOWN/DRAINED by an earlier unclean stop is put back into service
node_in_service_or_resume() {
  node_in_service && return 0
  case $(slurm_node_state) in
    down*|drain*|fail*) scontrol update nodename="$SLURM_NODE" state=resume >/dev/null 2>&1 ;;
  esac
  return 1
}

daemon_failed() {
  local log
  case $1 in
    munged) log=/var/log/munge/munged.log ;;
    mariadbd) log=$MOLQ_TESTBED_LOG/mariadbd.log ;;
    *) log=/var/log/slurm/$1.log ;;
  esac
  echo "$(basename "$0"): error: $1 did not come up; last lines of $log:" >&2
  tail -n 15 "$log" 2>/dev/null | sed 's/^/    /' >&2
}
