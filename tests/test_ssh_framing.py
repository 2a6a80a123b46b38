"""Framing of remote commands without a server: the login shell is played by ``sh``
with startup-file noise before the command, and ssh by a stand-in program.

The real-sshd tests are tests/integration/ssh/test_login_environment.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from molq.transport import _ssh_relay
from molq.transport._ssh_command import build_command, relayed, split_output, split_status

# what a noisy, strict ~/.bashrc does before sshd's command string runs
NOISE = "echo Welcome; echo 'module loaded' >&2; printf 'no newline'; set -eu; "


def login_shell(command: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-c", NOISE + command], input=stdin, capture_output=True, check=False)


def test_noise_before_the_command_is_dropped_from_both_streams() -> None:
    done = login_shell(build_command(["sh", "-c", "printf out; printf err >&2; exit 4"]))
    status, err = split_status(done.stderr)
    assert (status, err, split_output(done.stdout)) == (4, b"err", b"out")


def test_options_set_by_startup_files_do_not_reach_the_command() -> None:
    # `set -e` would end the shell at `false`, `set -u` at the unset variable
    done = login_shell(build_command(["sh", "-c", 'false; echo "[${UNSET_FOR_MOLQ_TEST}]"']))
    assert split_status(done.stderr)[0] == 0
    assert split_output(done.stdout) == b"[]\n"
    done = login_shell(build_command(["test", "-e", "/no/such/path"]))
    assert split_status(done.stderr) == (1, b"")


def test_output_that_looks_like_a_marker_is_the_commands_own() -> None:
    fake = "\036molq-begin\n\036molq-exit 0\n"
    done = login_shell(build_command(["printf", "%s", fake]))
    assert split_output(done.stdout) == fake.encode()
    assert split_status(done.stderr) == (0, b"")


def test_stdin_reaches_the_command_after_the_noise() -> None:
    done = login_shell(build_command(["cat"]), stdin=b"data\x00\xff")
    assert split_output(done.stdout) == b"data\x00\xff"


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (["host", "rsync", "--server", "."], ([], "host", ["rsync", "--server", "."])),
        (
            ["-l", "me", "host", "mkdir -p -- '/a b' && rsync", "--server"],
            (["-l", "me"], "host", ["mkdir -p -- '/a b' && rsync", "--server"]),
        ),
        (["-T", "--", "host", "x"], (["-T", "--"], "host", ["x"])),
    ],
)
def test_relay_finds_the_destination_in_what_rsync_appends(tail: list[str], expected: tuple) -> None:
    assert _ssh_relay.split_tail(tail) == expected


# stands in for ssh: options up to "--", the destination, then runs the command string
# in a login shell that greets first, as sshd would
FAKE_SSH = f"""#!{sys.executable}
import subprocess, sys
args = sys.argv[1:]
at = args.index("--")
command = " ".join(args[at + 2:])
sys.exit(subprocess.call(["sh", "-c", {NOISE!r} + command]))
"""


def test_relay_passes_on_only_the_framed_output_and_the_status(tmp_path: Path) -> None:
    ssh = tmp_path / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    # what rsync runs: its -e program, then the destination and the remote command words
    argv = [*relayed([str(ssh), "-o", "BatchMode=yes"]), "host", "cat; printf e >&2; exit", "3"]
    done = subprocess.run(argv, input=b"\x00payload\xff" * 1000, capture_output=True, check=False)
    assert done.returncode == 3
    assert done.stdout == b"\x00payload\xff" * 1000
    assert done.stderr == b"e"


def test_relay_keeps_sshs_own_errors_when_the_command_never_ran(tmp_path: Path) -> None:
    ssh = tmp_path / "ssh"
    ssh.write_text("#!/bin/sh\necho 'ssh: connect to host h port 22: Connection refused' >&2\nexit 255\n")
    ssh.chmod(0o755)
    done = subprocess.run([*relayed([str(ssh)]), "host", "rsync", "--server"], capture_output=True, check=False)
    assert done.returncode == 255
    assert done.stdout == b""
    assert b"Connection refused" in done.stderr
