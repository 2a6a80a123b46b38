"""Uploads and downloads over SSH are atomic per file: a copy cut by killing rsync or
its ssh, or stopped by a full disk, leaves each file as it was or complete, never
half-written under its final name; a full disk and a refused permission are told
apart and named (molq.transport._transfer).

The testbed runs on this machine, so the tests look at the "remote" files directly
and, as root, mount small file systems where the remote user writes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from molq.errors import DiskFullError, PermissionDeniedError, TransportError
from molq.transport.ssh import SshTransport

pytestmark = pytest.mark.ssh

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")
# rsync_opts of the original molq (and of molq before this fix), slowed down so a copy
# can be cut half-way: --partial and --inplace are what left broken files behind
SLOW = ("-a", "--partial", "--inplace", "--bwlimit=4000")
BIG = 12 * 1024 * 1024  # 3 s at the limit above


def _digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _random_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def _leftovers(folder: str | Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        found += [
            os.path.join(root, n)
            for n in dirs + files
            if n.startswith(".molq-transfer-")
            or n.startswith(".")
            and n.count(".") >= 2
            and len(n.rsplit(".", 1)[1]) == 6
        ]
    return found


def _remote_clean(folder: str) -> list[str]:
    # the remote receiver removes its transfer folder once rsync has noticed the cut
    deadline = time.monotonic() + 10
    while (left := _leftovers(folder)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture
def slow(ssh_testbed: Any) -> Iterator[SshTransport]:
    t = ssh_testbed.transport(rsync_opts=SLOW)
    yield t
    t.close()


@contextlib.contextmanager
def _tmpfs(path: str | Path, options: str, owner: str | None = None) -> Iterator[Path]:
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    if owner:
        options += f",uid={owner},gid={owner}"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _uid(ssh_testbed: Any) -> str:
    import pwd

    return str(pwd.getpwnam(ssh_testbed.user).pw_uid)


# -- cut copies --------------------------------------------------------------------------
def test_a_cut_upload_leaves_no_file_under_its_name(slow: SshTransport, remote_dir: str, tmp_path: Path) -> None:
    source = _random_file(tmp_path / "big.bin", BIG)
    target = f"{remote_dir}/big.bin"
    with pytest.raises(TransportError, match="timed out"):
        slow.upload(source, target, timeout=1.5)  # rsync and its ssh are killed
    assert not slow.exists(target)
    assert _remote_clean(remote_dir) == []


def test_a_cut_upload_over_an_old_file_leaves_the_old_file(
    slow: SshTransport, remote: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    old = _random_file(tmp_path / "old.bin", BIG)
    new = _random_file(tmp_path / "new.bin", BIG)  # same size: a half-overwrite would not show in it
    os.utime(new, (time.time() + 60, time.time() + 60))  # and another mtime, or rsync sees nothing new
    target = f"{remote_dir}/data.bin"
    remote.upload(old, target)
    with pytest.raises(TransportError, match="timed out"):
        slow.upload(new, target, timeout=1.5)
    assert _digest(target) == _digest(old)
    assert _remote_clean(remote_dir) == []
    remote.upload(new, target)  # and the next try puts the new one in place
    assert _digest(target) == _digest(new)


def test_a_cut_download_leaves_the_local_file_as_it_was(
    slow: SshTransport, remote: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    remote.upload(_random_file(tmp_path / "src.bin", BIG), f"{remote_dir}/src.bin")
    fresh = tmp_path / "down" / "fresh.bin"
    with pytest.raises(TransportError, match="timed out"):
        slow.download(f"{remote_dir}/src.bin", fresh, timeout=1.5)  # the local receiver is killed -9
    assert not fresh.exists()
    kept = _random_file(tmp_path / "down" / "kept.bin", 1000)
    before = _digest(kept)
    with pytest.raises(TransportError, match="timed out"):
        slow.download(f"{remote_dir}/src.bin", kept, timeout=1.5)
    assert _digest(kept) == before
    assert sorted(os.listdir(tmp_path / "down")) == ["kept.bin"]  # no transfer folder left


def test_a_cut_folder_sync_leaves_every_file_old_or_whole(
    slow: SshTransport, remote: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    for i in range(4):
        _random_file(tree / f"part{i}" / "data.bin", BIG // 3)
    target = f"{remote_dir}/tree"
    remote.upload(tree, target, recursive=True)
    old = {p.relative_to(tree): _digest(p) for p in tree.rglob("*.bin")}
    for p in tree.rglob("*.bin"):
        _random_file(p, BIG // 3)
        os.utime(p, (time.time() + 60, time.time() + 60))
    new = {p.relative_to(tree): _digest(p) for p in tree.rglob("*.bin")}
    with pytest.raises(TransportError, match="timed out"):
        slow.upload(tree, target, recursive=True, timeout=2)
    seen = {rel: _digest(Path(target) / rel) for rel in old}
    assert all(seen[rel] in (old[rel], new[rel]) for rel in old), "a file was left half-written"
    assert any(seen[rel] == new[rel] for rel in old) and any(seen[rel] == old[rel] for rel in old)
    assert _remote_clean(target) == []


def test_a_connection_cut_mid_upload_is_retried_and_the_file_arrives_whole(
    slow: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    source = _random_file(tmp_path / "big.bin", BIG // 2)
    target = f"{remote_dir}/big.bin"
    killed: list[int] = []

    def parent_of(pid: str) -> str:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]

    def argv_of(pid: str) -> list[bytes]:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")

    def kill_the_ssh_of_rsync() -> None:
        # the ssh that rsync started (directly, or through molq's relay) below this process
        deadline = time.monotonic() + 20
        while not killed and time.monotonic() < deadline:
            for pid in os.listdir("/proc"):
                try:
                    if not argv_of(pid)[0].endswith(b"ssh"):
                        continue
                    chain = [parent_of(pid)]
                    while len(chain) < 4 and chain[-1] not in ("0", "1"):
                        chain.append(parent_of(chain[-1]))
                    rsync = next(p for p in chain if argv_of(p)[0].endswith(b"rsync"))
                except (OSError, ValueError, IndexError, StopIteration):
                    continue
                if str(os.getpid()) in chain and str(target).encode() in b" ".join(argv_of(rsync)):
                    time.sleep(0.8)  # well into the copy
                    os.kill(int(pid), 9)
                    killed.append(int(pid))
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_ssh_of_rsync)
    killer.start()
    slow.upload(source, target)
    killer.join()
    assert killed, "the ssh of the rsync was never seen"
    assert _digest(target) == _digest(source)
    assert _remote_clean(remote_dir) == []


# -- full disks and refused permissions -----------------------------------------------
@needs_root
def test_an_upload_to_a_full_remote_disk_is_named_and_leaves_the_old_file(
    ssh_testbed: Any, remote: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    with _tmpfs(f"{remote_dir}/small", "size=1m,mode=0700", _uid(ssh_testbed)) as disk:
        old = _random_file(tmp_path / "old.txt", 300_000)
        remote.upload(old, f"{disk}/f.bin")
        with pytest.raises(DiskFullError) as caught:
            remote.upload(_random_file(tmp_path / "new.bin", 2 * 1024 * 1024), f"{disk}/f.bin")
        exc = caught.value
        assert (exc.errno, exc.path, exc.host) == (errno.ENOSPC, f"{disk}/f.bin", remote.options.host)
        assert f"{disk}/f.bin" in str(exc) and "no space left" in str(exc)
        assert not isinstance(exc, PermissionError)
        assert _digest(f"{disk}/f.bin") == _digest(old)
        assert remote.getsize(f"{disk}/f.bin") == 300_000
        with pytest.raises(DiskFullError):  # a new name: no file at all (it used to be 0 bytes)
            remote.upload(tmp_path / "new.bin", f"{disk}/g.bin")
        assert not remote.exists(f"{disk}/g.bin")
        assert _remote_clean(str(disk)) == [] and os.listdir(disk) == ["f.bin"]


@needs_root
def test_a_remote_write_to_a_full_disk_is_disk_full_not_permission_denied(
    ssh_testbed: Any, remote: SshTransport, remote_dir: str
) -> None:
    with _tmpfs(f"{remote_dir}/small", "size=1m,mode=0700", _uid(ssh_testbed)) as disk:
        with pytest.raises(DiskFullError) as caught:
            remote.write_bytes(f"{disk}/w.bin", os.urandom(2 * 1024 * 1024))
        assert caught.value.path == f"{disk}/w.bin" and caught.value.errno == errno.ENOSPC
        assert not remote.exists(f"{disk}/w.bin")


@needs_root
def test_a_download_to_a_full_local_disk_is_named_and_leaves_no_file(
    remote: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    remote.upload(_random_file(tmp_path / "src.bin", 2 * 1024 * 1024), f"{remote_dir}/src.bin")
    with _tmpfs(tmp_path / "small", "size=1m") as disk:
        with pytest.raises(DiskFullError) as caught:
            remote.download(f"{remote_dir}/src.bin", disk / "x.bin")
        assert caught.value.path == str(disk / "x.bin") and caught.value.host is None
        assert os.listdir(disk) == []


@needs_root
def test_refused_permissions_are_named_and_told_apart_from_a_full_disk(
    ssh_testbed: Any, remote: SshTransport, remote_dir: str, tmp_path: Path
) -> None:
    source = _random_file(tmp_path / "f.txt", 1000)
    locked = Path(remote_dir) / "locked"  # root's, 0755: the remote user cannot write in it
    locked.mkdir()
    secret = Path(remote_dir) / "secret.txt"  # root's, 0600: the remote user cannot read it
    secret.write_text("x")
    secret.chmod(0o600)
    try:
        with pytest.raises(PermissionDeniedError) as caught:
            remote.upload(source, f"{locked}/f.txt")
        assert (caught.value.errno, caught.value.path) == (errno.EACCES, f"{locked}/f.txt")
        assert isinstance(caught.value, PermissionError) and not isinstance(caught.value, DiskFullError)
        with pytest.raises(PermissionDeniedError):
            remote.upload(tmp_path, f"{locked}/tree", recursive=True)
        with pytest.raises(PermissionDeniedError) as caught:
            remote.download(str(secret), tmp_path / "got.txt")
        assert str(secret) in str(caught.value)
        assert not (tmp_path / "got.txt").exists()
        with _tmpfs(f"{remote_dir}/ro", "size=1m,ro", _uid(ssh_testbed)) as ro:
            with pytest.raises(PermissionDeniedError) as caught:
                remote.upload(source, f"{ro}/f.txt")
            assert caught.value.errno == errno.EROFS and "read-only" in str(caught.value)
    finally:
        shutil.rmtree(locked, ignore_errors=True)
        secret.unlink()
