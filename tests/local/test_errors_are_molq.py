"""No OSError, sqlite3 error or traceback reaches a user for a path that is
missing, unwritable, a file where a folder should be, or on a full disk:
each is a molq.errors exception (or a CLI message) naming the path and what
to do. Full and read-only disks are real: small tmpfs mounts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.errors import ConfigError, MolqError, StoreError
from molq.store import JobStore

MOLQ = str(Path(sys.executable).with_name("molq"))


def _mount(path: Path, options: str) -> None:
    path.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, filled up."""
    disk = tmp_path / "full"
    _mount(disk, "size=1m")
    try:
        with open(disk / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "ro"
    _mount(disk, "size=1m,ro")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_store_under_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="afile exists and is not a folder"):
        JobStore(tmp_path / "afile" / "x.db")


def test_a_store_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="it is a directory; give the path of a file"):
        JobStore(tmp_path)


def test_a_store_on_a_full_disk_is_named(full_disk: Path) -> None:
    with pytest.raises(StoreError, match="full") as info:
        JobStore(full_disk / "jobs.db")
    assert str(full_disk) in str(info.value)


def test_a_store_that_fills_the_disk_says_so(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    _mount(disk, "size=1m")
    try:
        store = JobStore(disk / "jobs.db")
        sub = mq.Submitor(mq.Cluster("c", "local"), store=store, jobs_dir=tmp_path / "jobs")
        big = {"k": "x" * 50_000}
        with pytest.raises(StoreError, match="disk is full"):
            for _ in range(100):
                sub.submit_job(argv=["true"], metadata=big)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_store_on_a_read_only_disk_is_named(read_only_disk: Path) -> None:
    with pytest.raises(StoreError, match="read-only file system") as info:
        JobStore(read_only_disk / "jobs.db")
    assert str(read_only_disk) in str(info.value)


def test_a_job_root_on_a_full_disk_is_named(tmp_path: Path, full_disk: Path) -> None:
    sub = mq.Submitor(mq.Cluster("c", "local"), store=JobStore(tmp_path / "jobs.db"), jobs_dir=full_disk / "jobs")
    with pytest.raises(MolqError, match="full; free some space") as info:
        sub.submit_job(argv=["true"])
    assert str(full_disk) in str(info.value)


def test_a_job_root_on_a_read_only_disk_is_named(tmp_path: Path, read_only_disk: Path) -> None:
    sub = mq.Submitor(mq.Cluster("c", "local"), store=JobStore(tmp_path / "jobs.db"), jobs_dir=read_only_disk / "jobs")
    with pytest.raises(ConfigError, match="read-only file system"):
        sub.submit_job(argv=["true"])
    assert sub.list_jobs(include_terminal=True) == []


def test_a_molq_file_in_the_working_directory_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".molq").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    sub = mq.Submitor(mq.Cluster("c", "local"), store=JobStore(tmp_path / "jobs.db"))
    with pytest.raises(ConfigError, match=r"\.molq is a file, not a folder|\.molq exists and is not a folder"):
        sub.submit_job(argv=["true"])


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MOLQ, *args], env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [["list"], ["submit", "--", "true"]])
def test_cli_with_molq_home_at_a_file_says_so(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("x")
    done = _cli(args, {"MOLQ_HOME": str(home)}, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and str(home) in done.stderr, done.stderr


def test_cli_with_molq_home_on_a_read_only_disk_says_so(tmp_path: Path, read_only_disk: Path) -> None:
    done = _cli(["list"], {"MOLQ_HOME": str(read_only_disk / "home")}, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "read-only file system" in done.stderr, done.stderr


def test_cli_with_a_molq_file_in_the_working_directory_says_so(tmp_path: Path) -> None:
    (tmp_path / ".molq").write_text("x")
    done = _cli(["submit", "--", "true"], {"MOLQ_HOME": str(tmp_path / "home")}, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and ".molq" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');",
        "CREATE TABLE jobs (id INTEGER); PRAGMA user_version = 2;",
    ],
)
def test_a_foreign_sqlite_file_is_refused_and_left_byte_for_byte(tmp_path: Path, sql: str) -> None:
    import sqlite3

    path = tmp_path / "theirs.db"
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a molq job store.*left untouched"):
        JobStore(path)
    assert path.read_bytes() == before  # header bytes 18-19 still say rollback journal, not WAL
    assert before[18:20] == b"\x01\x01"
    assert not Path(f"{path}-wal").exists()
