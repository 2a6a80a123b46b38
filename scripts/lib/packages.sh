# shellcheck shell=bash
# Installing a testbed's Debian packages (sourced by scripts/slurm-up.sh and
# scripts/sshd-up.sh after their own lib, which defines die, now_ms and secs_since).

# ensure_packages LOG_DIR PACKAGE... : install the packages not yet installed,
# without letting their maintainer scripts start any daemon. Sets
# install_time ("skipped", or the seconds it took) and installed (the list).
ensure_packages() {
  local log=$1 p t
  shift
  installed=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || installed+=("$p")
  done
  install_time=skipped
  [ ${#installed[@]} -gt 0 ] || return 0
  command -v apt-get >/dev/null || die "apt-get not found: cannot install ${installed[*]} (this script needs Debian or Ubuntu)"
  t=$(now_ms)
  # Without systemd, postinst scripts would start their daemons through
  # /etc/init.d; a policy-rc.d answering 101 ("action forbidden") stops that.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# created by molq %s: no daemon starts from package scripts\nexit 101\n' "$(basename "$0")" \
      > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >>"$log/apt.log" 2>&1 \
    || die "apt-get update failed (no network or no usable mirror?); see $log/apt.log"
  # --no-install-recommends: slurmd alone would pull in ~40 packages (hdf5, rocm, influxdb...)
  apt-get install -y -q --no-install-recommends "${installed[@]}" >>"$log/apt.log" 2>&1 \
    || die "apt-get install ${installed[*]} failed; see $log/apt.log"
  install_time="$(secs_since "$t")s"
}
