"""One master connection per destination, however many processes open it at once,
and no ssh process left once the last of them is done and ControlPersist has passed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.ssh

PERSIST_S = 4
PROCESSES = 6
# one molq process: waits for the common start time, then uses the cluster
CHILD = r"""
import sys, time
from molq.options import SshTransportOptions
from molq.transport.ssh import SshTransport

config, control_path, start_at, persist = sys.argv[1:5]
t = SshTransport(SshTransportOptions("molq-test", ssh_opts=("-F", config), control_path=control_path,
                                     control_persist=persist))
while time.time() < float(start_at):
    time.sleep(0.001)
assert t.exists("/")
print(t.run(["echo", "ok"]).stdout.strip())
"""


def ssh_processes(control_path: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process naming this control socket: masters
    ("ssh: <path> [mux]") and plain ssh connections started with its ControlPath."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if control_path in cmdline and state != "Z":
            found.append((int(entry.name), cmdline.strip()))
    return found


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def test_six_processes_at_once_share_one_master_that_ends_after_control_persist(ssh_testbed: Any) -> None:
    socket_dir = Path(f"/tmp/molq-1m-{uuid.uuid4().hex[:8]}")
    socket_dir.mkdir(mode=0o700)
    control_path = str(socket_dir / "cm")
    start_at = time.time() + 2.0  # after every child has imported molq
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(ssh_testbed.config), control_path, repr(start_at), f"{PERSIST_S}s"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        results = [child.communicate(timeout=90) for child in children]
        assert [child.returncode for child in children] == [0] * PROCESSES, results
        assert [out.strip() for out, _ in results] == ["ok"] * PROCESSES
        left = ssh_processes(control_path)
        check = subprocess.run(
            ["ssh", "-F", str(ssh_testbed.config), "-o", f"ControlPath={control_path}", "-O", "check", "molq-test"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        master = [pid for pid, _ in left if f"pid={pid})" in check.stderr]
        assert len(left) <= 1, f"more than one ssh process outlives the molq processes: {left}"
        assert [pid for pid, _ in left] == master, f"not the master ({check.stderr.strip()}): {left}"
        assert wait_for(lambda: not ssh_processes(control_path), PERSIST_S + 10), (
            f"ssh processes outlive ControlPersist ({PERSIST_S} s): {ssh_processes(control_path)}"
        )
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        for pid, _ in ssh_processes(control_path):  # only ours: they name our socket
            os.kill(pid, 9)
        subprocess.run(["rm", "-rf", str(socket_dir)], check=False)
