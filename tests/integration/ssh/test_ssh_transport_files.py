"""SshTransport's copy, copytree, symlink, touch, stat and getsize against a real sshd,
with the same meaning as LocalTransport's; and is_master_alive / login_with_code."""

from __future__ import annotations

import os
from typing import Any

import pytest

from molq.errors import ConfigError, TransportError
from molq.transport import Transport
from molq.transport.ssh import SshTransport

pytestmark = pytest.mark.ssh

ODD = "it's a $name"  # blanks, a quote and a dollar must survive as they are


def test_ssh_transport_satisfies_the_protocol(remote: SshTransport) -> None:
    assert isinstance(remote, Transport)


def test_copy(remote: SshTransport, remote_dir: str) -> None:
    src = f"{remote_dir}/{ODD}.txt"
    remote.write_text(src, "data")
    remote.chmod(src, 0o640)
    remote.copy(src, f"{remote_dir}/dst.txt")
    assert remote.read_text(f"{remote_dir}/dst.txt") == "data"
    remote.mkdir(f"{remote_dir}/dir")
    remote.copy(src, f"{remote_dir}/dir")
    assert remote.read_text(f"{remote_dir}/dir/{ODD}.txt") == "data"
    remote.copy(src, f"{remote_dir}/new/deep/x.txt")
    assert remote.read_text(f"{remote_dir}/new/deep/x.txt") == "data"
    assert os.stat(f"{remote_dir}/dst.txt").st_mode & 0o777 == 0o640  # same machine: look directly
    with pytest.raises(FileNotFoundError):
        remote.copy(f"{remote_dir}/absent", f"{remote_dir}/x")
    with pytest.raises(IsADirectoryError):
        remote.copy(f"{remote_dir}/dir", f"{remote_dir}/x")


def test_copytree(remote: SshTransport, remote_dir: str) -> None:
    remote.write_text(f"{remote_dir}/src/sub/f", "F", parents=True)
    remote.symlink("sub/f", f"{remote_dir}/src/link")
    remote.copytree(f"{remote_dir}/src", f"{remote_dir}/out/{ODD}")
    assert remote.read_text(f"{remote_dir}/out/{ODD}/sub/f") == "F"
    assert os.readlink(f"{remote_dir}/out/{ODD}/link") == "sub/f"
    with pytest.raises(FileExistsError):
        remote.copytree(f"{remote_dir}/src", f"{remote_dir}/out/{ODD}")
    with pytest.raises(NotADirectoryError):
        remote.copytree(f"{remote_dir}/src/sub/f", f"{remote_dir}/new")
    with pytest.raises(FileNotFoundError):
        remote.copytree(f"{remote_dir}/absent", f"{remote_dir}/new")


def test_symlink_and_touch(remote: SshTransport, remote_dir: str) -> None:
    remote.write_text(f"{remote_dir}/target", "T")
    remote.symlink("~/not-expanded", f"{remote_dir}/literal")
    assert os.readlink(f"{remote_dir}/literal") == "~/not-expanded"
    remote.symlink("target", f"{remote_dir}/link")
    assert remote.read_text(f"{remote_dir}/link") == "T"
    with pytest.raises(FileExistsError):
        remote.symlink("target", f"{remote_dir}/link")
    remote.touch(f"{remote_dir}/{ODD}")
    assert remote.read_bytes(f"{remote_dir}/{ODD}") == b""
    assert os.stat(f"{remote_dir}/{ODD}").st_mode & 0o777 == 0o600
    os.utime(f"{remote_dir}/target", (1_000_000, 1_000_000))
    remote.touch(f"{remote_dir}/target")
    assert remote.read_text(f"{remote_dir}/target") == "T"
    assert remote.stat(f"{remote_dir}/target")["mtime"] > 1_000_000
    with pytest.raises(FileNotFoundError):
        remote.touch(f"{remote_dir}/missing/f")


def test_stat_and_getsize(remote: SshTransport, remote_dir: str) -> None:
    f = f"{remote_dir}/{ODD}"
    remote.write_bytes(f, b"x" * 4097)
    info = remote.stat(f)
    assert info == {"size": 4097, "mtime": float(int(os.stat(f).st_mtime)), "is_dir": False, "is_file": True}
    assert remote.getsize(f) == 4097
    d = remote.stat(remote_dir)
    assert d["is_dir"] is True and d["is_file"] is False
    remote.symlink(ODD, f"{remote_dir}/link")
    assert remote.stat(f"{remote_dir}/link")["size"] == 4097
    remote.symlink("absent", f"{remote_dir}/dangling")
    for path in (f"{remote_dir}/absent", f"{remote_dir}/dangling"):
        with pytest.raises(FileNotFoundError):
            remote.stat(path)
        with pytest.raises(FileNotFoundError):
            remote.getsize(path)


def test_is_master_alive_follows_the_shared_connection(ssh_testbed: Any) -> None:
    t = ssh_testbed.transport()
    try:
        t.close()
        assert t.is_master_alive() is False
        t.run(["true"])
        assert t.is_master_alive() is True and t.master_running() is True
        t.close()
        assert t.is_master_alive() is False
    finally:
        t.close()
    assert ssh_testbed.transport(control_master=False).is_master_alive() is False


def test_login_with_code_opens_the_master_and_later_commands_share_it(ssh_testbed: Any) -> None:
    # the testbed logs in with a key, so ssh never asks for the code: what is tested is
    # that the prompting master comes up, and that commands afterwards use it
    t = ssh_testbed.transport()
    try:
        t.close()
        with pytest.raises(TransportError, match="empty"):
            t.login_with_code("  ")
        t.login_with_code("123456", timeout=30)
        assert t.is_master_alive() is True
        before = t.process_count
        assert t.run(["echo", "hi"]).stdout == "hi\n"
        assert t.process_count == before + 1  # no new master started
        t.login_with_code("123456")  # alive: nothing to do
        assert t.process_count == before + 2  # only the `ssh -O check`
    finally:
        t.close()


def test_login_needs_connection_sharing(ssh_testbed: Any) -> None:
    with pytest.raises(ConfigError, match="control_master"):
        ssh_testbed.transport(control_master=False).login_with_code("1")


def test_login_without_a_terminal_is_refused_with_the_way_out(
    ssh_testbed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    t = ssh_testbed.transport()
    try:
        t.close()
        monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
        with pytest.raises(TransportError, match="login_with_code"):
            t.login()
    finally:
        t.close()
