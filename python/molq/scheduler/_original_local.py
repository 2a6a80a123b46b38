"""Local jobs started by the original molq, tracked after a switch to molq.

A job imported from the original's store (see ``molq._import_original``) may
still be running under the original's wrapper. Its job directory differs from
molq's own:

* ``_wrapper.sh``  the original's wrapper script (molq never writes this file);
* ``.pid``         the job shell's pid alone, no start time;
* ``.exit_code``   the exit status alone, written when the job shell ended.

The job's processes are not in a process group of their own (the original
started them in its caller's group), so a cancel signals the job shell and its
descendants by pid, never a group. A pid alone can be reused by an unrelated
process, so a live pid counts as the job only while its command line still
names the job's ``run.sh`` or ``_wrapper.sh``.

The bash functions below are spliced into the local backend's status and
cancel scripts (``molq.scheduler.shell``); each returns 1 for a job directory
that is not the original's, leaving it to molq's own logic.
"""

from __future__ import annotations

__all__ = ["ORIGINAL_CANCEL_FN", "ORIGINAL_STATUS_FN"]

# Shared: is $dir the original's layout, and is its job shell $pid alive?
_COMMON = r"""
molq_orig_layout() {
  [ -e "$1/_wrapper.sh" ] && [ -r "$1/.pid" ] || return 1
  local a b
  read -r a b < "$1/.pid" || [ -n "$a" ] || return 1
  [ -z "$b" ] && [ -n "$a" ] && [ -z "${a//[0-9]/}" ] || return 1
  molq_orig_pid=$a
}
molq_orig_alive() {
  local args
  args=$(ps -ww -o args= -p "$1" 2>/dev/null) || return 1
  case $args in *"$2/run.sh"*|*"$2/_wrapper.sh"*) return 0 ;; esac
  return 1
}
# The wrapper outlives the job shell by the moment it takes to write
# .exit_code: while it lives, the job has not ended yet.
molq_orig_wrapper_alive() {
  local out line
  out=$(ps -A -ww -o stat= -o args= 2>/dev/null) || return 1
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    case $line in Z*) continue ;; *"$1/_wrapper.sh"*) return 0 ;; esac
  done <<EOF_PS
$out
EOF_PS
  return 1
}
molq_orig_mtime() {
  local t
  t=$(stat -c %.6Y "$1" 2>/dev/null) && case $t in ''|*[!0-9.]*) ;; *) printf %s "$t"; return 0 ;; esac
  stat -c %Y "$1" 2>/dev/null || stat -f %m "$1" 2>/dev/null
}
"""

#: ``molq_orig_status <scheduler id> <job dir>``: print the status line of an
#: original job (``sid|status|code|started|finished``) and return 0, or return 1.
ORIGINAL_STATUS_FN = (
    _COMMON
    + r"""
molq_orig_status() {
  molq_orig_layout "$2" || return 1
  local started rc
  started=$(molq_orig_mtime "$2/.pid")
  if [ -r "$2/.exit_code" ]; then
    read -r rc < "$2/.exit_code"
    if [ -e "$2/.cancel_requested" ]; then
      echo "$1|cancelled|$rc|$started|$(molq_orig_mtime "$2/.exit_code")"
    else
      echo "$1|exited|$rc|$started|$(molq_orig_mtime "$2/.exit_code")"
    fi
  elif molq_orig_alive "$molq_orig_pid" "$2" || molq_orig_wrapper_alive "$2"; then
    echo "$1|running||$started|"
  elif [ -e "$2/.cancel_requested" ]; then
    echo "$1|cancelled||$started|"
  else
    echo "$1|vanished||$started|"
  fi
  return 0
}
"""
)

#: ``molq_orig_cancel <job dir> <grace seconds>``: stop an original job (TERM,
#: then KILL after the grace) with every process under its job shell, print
#: ``cancelled <pid>``, ``finished <pid>`` or ``survived <pid>`` (as molq's own
#: cancel does) and return 0; return 1 for any other layout.
ORIGINAL_CANCEL_FN = (
    _COMMON
    + r"""
molq_orig_tree() {
  ps -A -o pid= -o ppid= 2>/dev/null | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; out = root; grew = 1
      while (grew) {
        grew = 0
        for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; out = out " " p; grew = 1 } }
      }
      print out
    }'
}
molq_orig_cancel() {
  molq_orig_layout "$1" || return 1
  local pid=$molq_orig_pid tree i=0 limit=$(( $2 * 10 ))
  if [ -r "$1/.exit_code" ] || ! molq_orig_alive "$pid" "$1"; then
    echo "finished $pid"; return 0
  fi
  : > "$1/.cancel_requested"
  tree=$(molq_orig_tree "$pid")
  kill -TERM $tree 2>/dev/null; kill -CONT $tree 2>/dev/null
  # Until none is alive (a zombie is not: an orphan may wait long for init).
  while ps -o stat= -p "${tree// /,}" 2>/dev/null | grep -qv '^ *Z'; do
    if [ "$i" -ge "$limit" ]; then
      [ "$i" -ge $((limit + 100)) ] && { echo "survived $pid"; return 0; }
      # whatever is left, and anything started meanwhile
      tree="$tree $(molq_orig_tree "$pid")"
      kill -KILL $tree 2>/dev/null
    fi
    sleep 0.1; i=$((i + 1))
  done
  echo "cancelled $pid"
  return 0
}
"""
)
