#!/bin/bash
# Bring up a real single-node Slurm cluster with accounting, for molq's integration tests.
#
#   scripts/slurm-up.sh           install (if needed), configure and start the testbed
#   scripts/slurm-up.sh --check   exit 0 if the testbed is up and usable, else print why:
#                                 rc 3 = not root, rc 4 = Slurm not installed,
#                                 rc 5 = a daemon is down or does not answer
#
# Debian 12 (or Ubuntu) as root; no systemd needed. Starts munged, mariadbd, slurmdbd,
# slurmctld and slurmd by hand, records their PIDs in /run/molq-testbed/, and waits until the
# node is idle and sacct answers. Safe to run again: running daemons are kept, missing ones
# are started, a changed configuration restarts the daemons that read it.
#
# Cluster "molq", one node "localhost" (its CPUs/memory from `slurmd -C`), partition "debug".
# Environment:
#   MOLQ_SLURM_MIN_JOB_AGE  seconds slurmctld keeps finished jobs (default 300)
#   MOLQ_TESTBED_STATE      PID directory (default /run/molq-testbed)
#   MOLQ_TESTBED_LOG        log directory (default /var/log/molq-testbed)
# Stop with scripts/slurm-down.sh.
set -euo pipefail
# shellcheck source=lib/slurm-testbed.sh
. "$(dirname "$0")/lib/slurm-testbed.sh"
# shellcheck source=lib/packages.sh
. "$(dirname "$0")/lib/packages.sh"
trap 'echo "slurm-up.sh: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)

check() {
  [ "$(id -u)" = 0 ] || { echo "not root: the Slurm testbed is run as root (sudo scripts/slurm-up.sh)"; return 3; }
  local b
  for b in munged mariadbd slurmdbd slurmctld slurmd; do
    [ -x "/usr/sbin/$b" ] || { echo "Slurm is not installed (no /usr/sbin/$b): run scripts/slurm-up.sh"; return 4; }
  done
  for b in sbatch squeue sacct scontrol; do
    command -v "$b" >/dev/null || { echo "Slurm is not installed (no $b): run scripts/slurm-up.sh"; return 4; }
  done
  for b in "${TESTBED_DAEMONS[@]}"; do
    daemon_pid "$b" >/dev/null || { echo "$b is not running: run scripts/slurm-up.sh"; return 5; }
  done
  slurmctld_ok || { echo "slurmctld does not answer (scontrol ping): run scripts/slurm-up.sh"; return 5; }
  node_in_service || { echo "node $SLURM_NODE is '$(slurm_node_state)', not in service: run scripts/slurm-up.sh"; return 5; }
  sacct_ok || { echo "sacct does not answer (slurmdbd/mariadbd): run scripts/slurm-up.sh"; return 5; }
  echo "ok: Slurm testbed up (cluster $SLURM_CLUSTER, node $SLURM_NODE $(slurm_node_state))"
}

case ${1:-} in
  --check) rc=0; check || rc=$?; exit $rc ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: slurm-up.sh [--check])" ;;
esac

[ "$(id -u)" = 0 ] || die "must be run as root (it installs packages and starts system daemons)"
MIN_JOB_AGE=${MOLQ_SLURM_MIN_JOB_AGE:-300}
[[ $MIN_JOB_AGE =~ ^[0-9]+$ ]] || die "MOLQ_SLURM_MIN_JOB_AGE must be a number of seconds, not '$MIN_JOB_AGE'"
T_START=$(now_ms)
mkdir -p "$MOLQ_TESTBED_STATE" "$MOLQ_TESTBED_LOG"
take_lock
note "slurm-up.sh begins (MinJobAge=$MIN_JOB_AGE)"

# ---------------------------------------------------------------- packages
ensure_packages "$MOLQ_TESTBED_LOG" "${PACKAGES[@]}"
[ "$install_time" = skipped ] || note "installed ${installed[*]} in $install_time"

# ---------------------------------------------------------------- configuration
T_CONFIG=$(now_ms)
# install_config FILE OWNER MODE: put FILE.new in place (the file is left untouched if equal)
install_config() {
  if [ -f "$1" ] && cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv -f "$1.new" "$1"; fi
  chown "$2" "$1"; chmod "$3" "$1"
}

# munge: the package's postinst generates the key; recreate it only if it is missing
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --force >/dev/null 2>&1 || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key   # munged rejects 0644

# the node line describes the real machine; it is renamed "localhost" so that neither the
# hostname nor its resolution matters (slurmd is started with -N localhost)
node_line=$(slurmd -C | head -1 | sed -e "s/^NodeName=[^ ]*/NodeName=$SLURM_NODE NodeAddr=127.0.0.1/" -e 's/ *$//')
[[ $node_line == NodeName=* ]] || die "unexpected output from 'slurmd -C': $node_line"

install -d -m 0755 /etc/slurm
cat > /etc/slurm/slurm.conf.new <<EOF
# Written by molq scripts/slurm-up.sh; rewritten on every run.
ClusterName=$SLURM_CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# no cgroups: plain process tracking, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
# every job gets an .extern step, as on most production clusters
PrologFlags=Contain
MpiDefault=none
SwitchType=switch/none
# there is no /bin/mail on the test machines
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# finished jobs and every array task count against MaxJobCount while slurmctld keeps them
# (MinJobAge seconds); when it is full, sbatch blocks and retries instead of failing
MaxJobCount=100000
MaxArraySize=100001
MinJobAge=$MIN_JOB_AGE
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
$node_line State=UNKNOWN
PartitionName=$SLURM_PARTITION Nodes=$SLURM_NODE Default=YES MaxTime=INFINITE State=UP
EOF
# only read by the cgroup plugins; IgnoreSystemd matters on pure cgroup-v2 hosts without systemd
printf '# Written by molq scripts/slurm-up.sh\nCgroupPlugin=autodetect\nIgnoreSystemd=yes\n' > /etc/slurm/cgroup.conf.new
cat > /etc/slurm/slurmdbd.conf.new <<EOF
# Written by molq scripts/slurm-up.sh; rewritten on every run.
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=slurm
StoragePass=$SLURM_DB_PASS
StorageLoc=slurm_acct_db
EOF
install_config /etc/slurm/slurm.conf root:root 644
install_config /etc/slurm/cgroup.conf root:root 644
# slurmdbd refuses a config that others can read (it holds the DB password)
install_config /etc/slurm/slurmdbd.conf slurm:slurm 600
# StateSaveLocation must belong to SlurmUser, or slurmctld dies right after forking
install -d -o slurm -g slurm -m 0755 /var/lib/slurm /var/lib/slurm/slurmctld /var/log/slurm
install -d -o root -g root -m 0755 /var/lib/slurm/slurmd
# MariaDB's data directory is initialised by the package; do it here if it was wiped
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$MOLQ_TESTBED_LOG/mariadbd.log" 2>&1 \
    || die "mariadb-install-db failed; see $MOLQ_TESTBED_LOG/mariadbd.log"
fi
config_time=$(secs_since "$T_CONFIG")

# ---------------------------------------------------------------- daemons
# a daemon running on other config files than the ones just written (or one whose config we
# never recorded) is restarted; slurmd and slurmctld must agree on slurm.conf, or the node is
# flagged as misconfigured
for d in munged slurmdbd slurmctld slurmd; do
  if daemon_pid "$d" >/dev/null && config_outdated "$d"; then
    note "$d runs on an outdated or unknown config: restarting it"
    if [ "$d" = slurmctld ]; then stop_daemon slurmd; fi
    stop_daemon "$d"
  fi
done

timings=()
started=()
for d in "${TESTBED_DAEMONS[@]}"; do
  t=$(now_ms)
  daemon_pid "$d" >/dev/null || started+=("$d")
  start_daemon "$d" || exit 1
  timings+=("$d $(secs_since "$t")s")
  if [ "$d" = mariadbd ]; then
    # root@localhost authenticates through the unix socket on Debian: no password needed
    mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$SLURM_DB_PASS';
                ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$SLURM_DB_PASS';
                GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;" \
      || die "could not create the slurm database user in MariaDB"
  fi
done

# slurmctld registers the cluster in slurmdbd by itself on first contact; sacct needs that
t=$(now_ms)
wait_until 60 "cluster $SLURM_CLUSTER to be registered in slurmdbd" cluster_registered || exit 1
wait_until 30 "sacct to answer" sacct_ok || exit 1
timings+=("sacct $(secs_since "$t")s")

version=$(sinfo -V 2>/dev/null | awk '{print $2}')
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
if [ ${#started[@]} -eq 0 ]; then what="already up"; else what="started ${started[*]}"; fi
summary="slurm testbed up in $(secs_since "$T_START")s: Slurm $version, cluster $SLURM_CLUSTER, node $SLURM_NODE ($cpus CPUs, $mem MB, $(slurm_node_state)), partition $SLURM_PARTITION, MinJobAge=$MIN_JOB_AGE; $what; install $install_time, config ${config_time}s, $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g'); pids in $MOLQ_TESTBED_STATE"
note "$summary"
echo "$summary"
