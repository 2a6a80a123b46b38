"""Bash helpers that find, test and signal the processes of a local job.

Spliced into every script of the local backend (the wrapper, the status
check, cancel, the slot dispatcher), on this machine or a remote one.
"""

from __future__ import annotations

__all__ = ["PROCS"]

# A job is its wrapper's session (the wrapper starts one: setsid): every
# process of that session or of the wrapper's process group belongs to it,
# whether or not the wrapper still lives. The helpers below use bash
# builtins only on Linux (no fork per process looked at); elsewhere one ps.
PROCS = r"""
# molq_name_end STAT_LINE: sets MOLQ_AT to the offset of the fields after the
# command name (state first) in a /proc/PID/stat line, and MOLQ_P to the pid.
# The name is at most 15 bytes and may itself hold ") ", so it ends at the
# last ") " of the line's head; looking only there keeps this O(1) (a "##*) "
# over the whole line costs more than everything else in a scan).
molq_name_end() {
  local h=${1:0:48}
  h=${h%") "*}
  MOLQ_P=${h%% *}
  MOLQ_AT=$((${#h} + 2))
}
# molq_st PID: sets ST to the start time of PID; fails for a dead or zombie
# process (a dead wrapper may wait long for its parent to reap it).
molq_st() {
  ST=
  if [ -r /proc/self/stat ]; then
    local s
    read -r s 2>/dev/null < "/proc/$1/stat" || return 1
    molq_name_end "$s"
    s=${s:MOLQ_AT}
    set -f; set -- $s; set +f
    case $1 in Z|X|x) return 1 ;; esac
    ST=${20}
    return 0
  fi
  local line
  line=$(ps -o stat= -o lstart= -p "$1" 2>/dev/null) || return 1
  case $line in Z*|"") return 1 ;; esac
  ST=$(printf %s "${line#* }" | tr -d ' ')
}
molq_now() { local t=${EPOCHREALTIME:-$(date +%s)}; printf %s "${t/,/.}"; }

# molq_members LEADER [EXCEPT]: sets MOLQ_PIDS to the live pids whose
# process group or session is LEADER (EXCEPT left out).
molq_members() {
  local leader=$1 except=${2:-} f s p out g st
  MOLQ_PIDS=
  if [ -r /proc/self/stat ]; then
    for f in /proc/[1-9]*; do
      read -r s 2>/dev/null < "$f/stat" || continue
      # Most processes do not name LEADER anywhere: skip them unparsed.
      case $s in *" $leader "*) ;; *) continue ;; esac
      molq_name_end "$s"
      p=$MOLQ_P
      s=${s:MOLQ_AT:64}
      set -f; set -- $s; set +f
      case $1 in Z|X|x) continue ;; esac
      if [ "$3" = "$leader" ] || [ "$4" = "$leader" ]; then
        [ "$p" = "$except" ] || MOLQ_PIDS="$MOLQ_PIDS $p"
      fi
    done
    return 0
  fi
  out=$(ps -A -o pid= -o pgid= -o stat= 2>/dev/null) || return 1
  while read -r p g st; do
    case $st in Z*) continue ;; esac
    [ "$g" = "$leader" ] && [ "$p" != "$except" ] && MOLQ_PIDS="$MOLQ_PIDS $p"
  done <<EOF_PS
$out
EOF_PS
  return 0
}

# molq_scan: sets MOLQ_LIVE to " <group> <session> ..." of every live
# process, to answer molq_alive for many jobs with one pass.
molq_scan() {
  local f s out g st
  MOLQ_LIVE=" "
  if [ -r /proc/self/stat ]; then
    for f in /proc/[1-9]*; do
      read -r s 2>/dev/null < "$f/stat" || continue
      molq_name_end "$s"
      # state, parent, group and session end within 64 characters
      s=${s:MOLQ_AT:64}
      set -f; set -- $s; set +f
      case $1 in Z|X|x) continue ;; esac
      MOLQ_LIVE="$MOLQ_LIVE$3 $4 "
    done
    return 0
  fi
  out=$(ps -A -o pgid= -o stat= 2>/dev/null) || return 1
  while read -r g st; do
    case $st in Z*) ;; *) MOLQ_LIVE="$MOLQ_LIVE$g " ;; esac
  done <<EOF_PS
$out
EOF_PS
  return 0
}

# molq_alive PID START: is any process of the job whose wrapper is PID
# (started at START, when known) alive? Reuses MOLQ_LIVE when set. A live
# stranger on PID (another start time) means PID was free, which the kernel
# allows only once no process is left in PID's group or session.
molq_alive() {
  case $1 in ''|*[!0-9]*|0|1) return 1 ;; esac
  if molq_st "$1"; then
    [ -z "$2" ] || [ "$ST" = "$2" ]
    return
  fi
  if [ -z "$MOLQ_LIVE" ] && ! molq_scan; then
    kill -0 -- "-$1" 2>/dev/null
    return
  fi
  case $MOLQ_LIVE in *" $1 "*) return 0 ;; esac
  return 1
}

# molq_signal SIG LEADER: SIG to the job's process group and to every other
# process of its session (job control may have moved some to groups of their own).
molq_signal() {
  kill "-$1" -- "-$2" 2>/dev/null
  molq_members "$2" "$$"
  [ -z "$MOLQ_PIDS" ] || kill "-$1" $MOLQ_PIDS 2>/dev/null
  return 0
}
"""
