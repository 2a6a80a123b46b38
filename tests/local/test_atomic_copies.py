"""LocalTransport's upload/download (the copies behind fetch_artifacts and workspace
sync on this machine) go through a temporary name: a copy killed half-way or stopped
by a full disk leaves the old file or none, and a full disk is a DiskFullError."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from molq.errors import DiskFullError, PermissionDeniedError
from molq.transport import LocalTransport

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _small_disk(path: Path) -> None:
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def test_a_copy_killed_half_way_leaves_the_old_file(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with open(source, "wb") as fh:
        for _ in range(32):
            fh.write(os.urandom(8 * 1024 * 1024))  # 256 MiB: long enough to be caught mid-copy
    target = tmp_path / "out" / "big.bin"
    target.parent.mkdir()
    target.write_bytes(b"old contents")
    copier = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from molq.transport import LocalTransport; LocalTransport().upload(sys.argv[1], sys.argv[2])",
            str(source),
            str(target),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the copy has written something somewhere
            try:
                written = sum(p.stat().st_size for p in target.parent.iterdir())
            except FileNotFoundError:  # a temporary file renamed meanwhile
                continue
            if written != len(b"old contents") or copier.poll() is not None:
                break
            time.sleep(0.005)
        os.kill(copier.pid, signal.SIGKILL)
    finally:
        copier.wait()
    if copier.returncode == 0:
        pytest.skip("the copy finished before it could be killed")
    assert target.read_bytes() == b"old contents"


@needs_root
def test_a_copy_to_a_full_disk_is_named_and_leaves_the_old_file(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    _small_disk(disk)
    try:
        (disk / "f.bin").write_bytes(b"old")
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(2 * 1024 * 1024))
        with pytest.raises(DiskFullError) as caught:
            LocalTransport().download(source, disk / "f.bin")
        assert caught.value.path == str(disk / "f.bin") and caught.value.host is None
        assert (disk / "f.bin").read_bytes() == b"old" and os.listdir(disk) == ["f.bin"]
        tree = tmp_path / "tree"
        tree.mkdir()
        (tree / "a.bin").write_bytes(os.urandom(2 * 1024 * 1024))
        with pytest.raises(DiskFullError):
            LocalTransport().upload(tree, disk / "tree", recursive=True)
        assert not (disk / "tree" / "a.bin").exists()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_copy_into_a_read_only_folder_is_permission_denied(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    source = tmp_path / "f.txt"
    source.write_text("x")
    try:
        with pytest.raises(PermissionDeniedError) as caught:
            LocalTransport().upload(source, locked / "f.txt")
        assert caught.value.path == str(locked / "f.txt")
    finally:
        locked.chmod(0o700)


def test_copies_still_land_where_rsync_would_put_them(tmp_path: Path) -> None:
    t = LocalTransport()
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "sub" / "a.txt").write_text("A")
    (tmp_path / "src" / "skip.log").write_text("S")
    t.upload(tmp_path / "src", tmp_path / "dst", recursive=True, exclude=["*.log"])
    assert sorted(str(p.relative_to(tmp_path / "dst")) for p in (tmp_path / "dst").rglob("*")) == ["sub", "sub/a.txt"]
    (tmp_path / "into").mkdir()
    t.download(tmp_path / "src" / "sub" / "a.txt", tmp_path / "into")
    assert os.listdir(tmp_path / "into") == ["a.txt"] and _digest(tmp_path / "into" / "a.txt") == _digest(
        tmp_path / "src" / "sub" / "a.txt"
    )
