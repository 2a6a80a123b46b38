"""Who holds a lease or a claim, and whether that process still lives.

A holder token names one process for good: ``host:pid:start`` (hostnames
hold no colon; a holder may append ``:suffix``) where
``start`` is the process's start time (Linux: clock ticks since boot, from
``/proc/<pid>/stat``), so a pid reused by a later process is not mistaken
for the holder. Leases and claims in the store carry such tokens; a process
that finds one whose holder died takes it over at once.
"""

from __future__ import annotations

import os
import socket

__all__ = ["this_process", "is_dead"]

_HOST = socket.gethostname()


def _start_time(pid: int) -> str | None:
    """The start time of ``pid`` as the kernel reports it; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # Field 2 (the command name) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    # Field 22 of the file, the 20th after the name; a zombie has died already.
    if len(fields) < 20 or fields[0] == b"Z":
        return None
    return fields[19].decode()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


_OWN = f"{_HOST}:{os.getpid()}:{_start_time(os.getpid()) or '-'}"


def this_process() -> str:
    """The token of the calling process (recomputed after a fork)."""
    global _OWN
    pid = os.getpid()
    if f":{pid}:" not in _OWN:
        _OWN = f"{_HOST}:{pid}:{_start_time(pid) or '-'}"
    return _OWN


def is_dead(token: str) -> bool:
    """True only when ``token``'s process is known to have ended: it ran on
    this host and no process with its pid and start time exists now. A token
    of another host (or one molq cannot read) counts as alive; its lease then
    ends only when it runs out. Anything after the third field (a lease
    holder adds its own suffix) is ignored."""
    parts = token.split(":")
    if len(parts) < 3 or parts[0] != _HOST:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid <= 0:
        return False
    if not _alive(pid):
        return True
    start = parts[2]
    if start == "-":
        return False
    now = _start_time(pid)
    # A zombie, or another process now wearing the pid.
    return now is None or now != start
