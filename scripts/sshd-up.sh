#!/bin/bash
# Bring up a real OpenSSH server on 127.0.0.1 for molq's SSH integration tests.
#
#   scripts/sshd-up.sh           install (if needed), configure and start the test sshd
#   scripts/sshd-up.sh --check   exit 0 if it is up and a key login works, else print why:
#                                rc 3 = not root, rc 4 = openssh-server/rsync not installed,
#                                rc 5 = sshd is down or refuses the test login
#
# Debian 12 (or Ubuntu) as root; no systemd needed. Runs its own sshd with its own config and
# host key under the state directory (the system's /etc/ssh/sshd_config is not used), key-only
# authentication, for an unprivileged user it creates (molqtest) and for root (Slurm over SSH).
# Authorized keys live in the state directory too, so no home directory is touched.
# Safe to run again: a running sshd is kept unless its config changed.
#
# The state directory then holds what a client needs:
#   id_ed25519    the private key authorized for molqtest and root
#   known_hosts   the server's host key, for StrictHostKeyChecking=yes
#   ssh_config    aliases molq-test (molqtest) and molq-test-root (root)
#   testbed.env   PORT=, USER=, HOST=, KEY=, KNOWN_HOSTS=, SSH_CONFIG= (shell syntax)
# Environment:
#   MOLQ_SSHD_PORT   port on 127.0.0.1 (default 2222)
#   MOLQ_SSHD_USER   unprivileged login user (default molqtest)
#   MOLQ_SSHD_STATE  state directory (default /run/molq-sshd)
#   MOLQ_TESTBED_LOG log directory (default /var/log/molq-testbed)
# Stop with scripts/sshd-down.sh.
set -euo pipefail
# shellcheck source=lib/sshd-testbed.sh
. "$(dirname "$0")/lib/sshd-testbed.sh"
# shellcheck source=lib/packages.sh
. "$(dirname "$0")/lib/packages.sh"
trap 'echo "sshd-up.sh: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

check() {
  [ "$(id -u)" = 0 ] || { echo "not root: the sshd testbed is run as root (sudo scripts/sshd-up.sh)"; return 3; }
  local b
  for b in /usr/sbin/sshd; do
    [ -x "$b" ] || { echo "openssh-server is not installed (no $b): run scripts/sshd-up.sh"; return 4; }
  done
  for b in ssh ssh-keygen rsync; do
    command -v "$b" >/dev/null || { echo "$b is not installed: run scripts/sshd-up.sh"; return 4; }
  done
  [ -s "$SSHD_STATE/testbed.env" ] || { echo "no $SSHD_STATE/testbed.env: run scripts/sshd-up.sh"; return 5; }
  local pid
  pid=$(sshd_pid) || { echo "the test sshd is not running: run scripts/sshd-up.sh"; return 5; }
  local err
  if ! err=$(login_probe molq-test 2>&1); then
    echo "sshd (pid $pid) refuses the test login as $SSHD_USER on 127.0.0.1:$SSHD_PORT: ${err:-no output}"; return 5
  fi
  echo "ok: sshd up on 127.0.0.1:$SSHD_PORT (pid $pid), key login as $SSHD_USER and root works; client files in $SSHD_STATE"
}

case ${1:-} in
  --check) rc=0; check || rc=$?; exit $rc ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: sshd-up.sh [--check])" ;;
esac

[ "$(id -u)" = 0 ] || die "must be run as root (it installs packages, creates a user and starts sshd)"
[[ $SSHD_PORT =~ ^[0-9]+$ ]] || die "MOLQ_SSHD_PORT must be a port number, not '$SSHD_PORT'"
[[ $SSHD_USER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "MOLQ_SSHD_USER must be a plain user name, not '$SSHD_USER'"
T0=$(now_ms)
mkdir -p "$MOLQ_TESTBED_LOG"

# ---------------------------------------------------------------- packages
ensure_packages "$MOLQ_TESTBED_LOG" openssh-server openssh-client rsync

# ---------------------------------------------------------------- user and keys
if ! id "$SSHD_USER" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$SSHD_USER"
fi
# useradd leaves the password field '!' (locked); with UsePAM no, sshd then refuses even a
# valid key ("account is locked"). '*' means: no password login, but not locked.
usermod -p '*' "$SSHD_USER"
# sshd's StrictModes checks every directory up to the authorized_keys file: root-owned, not
# group/world-writable. The files are root's, readable by sshd for either user.
install -d -m 0755 -o root -g root "$SSHD_STATE" "$SSHD_STATE/authorized_keys"
[ -s "$SSHD_STATE/ssh_host_ed25519_key" ] \
  || ssh-keygen -q -t ed25519 -N '' -C molq-test-host -f "$SSHD_STATE/ssh_host_ed25519_key"
[ -s "$SSHD_STATE/id_ed25519" ] \
  || ssh-keygen -q -t ed25519 -N '' -C molq-test-client -f "$SSHD_STATE/id_ed25519"
chmod 600 "$SSHD_STATE/ssh_host_ed25519_key" "$SSHD_STATE/id_ed25519"
for u in "$SSHD_USER" root; do
  install -m 0644 -o root -g root "$SSHD_STATE/id_ed25519.pub" "$SSHD_STATE/authorized_keys/$u"
done
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_STATE/ssh_host_ed25519_key.pub")" > "$SSHD_STATE/known_hosts"
install -d -m 0755 /run/sshd   # privilege-separation directory, normally made by systemd

# ---------------------------------------------------------------- configuration
cat > "$SSHD_STATE/sshd_config.new" <<EOF
# Written by molq scripts/sshd-up.sh; rewritten on every run.
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_STATE/ssh_host_ed25519_key
PidFile $SSHD_STATE/sshd.pid
AuthorizedKeysFile $SSHD_STATE/authorized_keys/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AllowUsers $SSHD_USER root
StrictModes yes
UseDNS no
# a ControlMaster multiplexes many sessions over one connection (OpenSSH's default is 10)
MaxSessions 100
MaxStartups 100:30:200
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
/usr/sbin/sshd -t -f "$SSHD_STATE/sshd_config.new" || die "sshd rejects the generated config $SSHD_STATE/sshd_config.new"
changed=0
if ! cmp -s "$SSHD_STATE/sshd_config.new" "$SSHD_STATE/sshd_config" 2>/dev/null; then changed=1; fi
mv -f "$SSHD_STATE/sshd_config.new" "$SSHD_STATE/sshd_config"

cat > "$SSHD_STATE/ssh_config" <<EOF
# Written by molq scripts/sshd-up.sh: client aliases for the test sshd (use with ssh -F).
Host molq-test molq-test-root
  HostName 127.0.0.1
  Port $SSHD_PORT
  IdentityFile $SSHD_STATE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SSHD_STATE/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
Host molq-test
  User $SSHD_USER
Host molq-test-root
  User root
EOF
chmod 644 "$SSHD_STATE/ssh_config"
cat > "$SSHD_STATE/testbed.env" <<EOF
HOST=127.0.0.1
PORT=$SSHD_PORT
USER=$SSHD_USER
KEY=$SSHD_STATE/id_ed25519
KNOWN_HOSTS=$SSHD_STATE/known_hosts
SSH_CONFIG=$SSHD_STATE/ssh_config
EOF

# ---------------------------------------------------------------- daemon
what="already up"
if pid=$(sshd_pid) && [ $changed = 1 ]; then
  note "sshd config changed: restarting sshd (pid $pid)"
  stop_sshd
  what="restarted (config changed)"
fi
if ! pid=$(sshd_pid); then
  rm -f "$SSHD_STATE/sshd.pid"
  # sshd forks and writes PidFile. Its output goes to the log, never to our stdout: a daemon
  # holding the caller's pipe open would make `$(sshd-up.sh)` hang.
  /usr/sbin/sshd -f "$SSHD_STATE/sshd_config" -E "$MOLQ_TESTBED_LOG/sshd.log" </dev/null >/dev/null 2>&1
  wait_until 10 "sshd to write $SSHD_STATE/sshd.pid" sshd_pid || { sshd_failed; exit 1; }
  pid=$(sshd_pid)
  [ "$what" = "already up" ] && what="started"
  note "started sshd (pid $pid) on 127.0.0.1:$SSHD_PORT"
fi
# a forking daemon's start returns 0 even if it cannot serve: trust only a real login
wait_until 10 "a key login as $SSHD_USER" login_probe molq-test || { sshd_failed; exit 1; }
wait_until 10 "a key login as root" login_probe molq-test-root || { sshd_failed; exit 1; }
summary="sshd testbed up in $(secs_since "$T0")s: 127.0.0.1:$SSHD_PORT (pid $pid), $what; install $install_time; users $SSHD_USER and root, key $SSHD_STATE/id_ed25519; client config $SSHD_STATE/ssh_config"
note "$summary"
echo "$summary"
