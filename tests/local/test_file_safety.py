"""Files molq writes are private to the user, whatever the umask, and folders
another user owns or can write are refused (with a real second user).

Root can read anything, so privacy is checked two ways: by mode bits, and by
a real other user trying to read every file molq wrote.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.errors import ConfigError, StoreError
from molq.store import JobStore

OTHER = "molqother"
SECRET = "s3cr3t-token-value-42"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None, reason="needs root to create a second user"
)


@pytest.fixture(scope="module")
def other_user() -> str:
    if subprocess.run(["id", OTHER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER], capture_output=True)
    assert subprocess.run(["id", OTHER], capture_output=True).returncode == 0
    return OTHER


@pytest.fixture
def open_base() -> Iterator[Path]:
    """A folder every user may enter (pytest's own tmp folders are 0700)."""
    base = Path(tempfile.mkdtemp(prefix="molq-files-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# Submits one job with a secret in its environment under a umask of 0 (or
# 022), from a fresh MOLQ_HOME, and waits for it.
SUBMIT_WITH_UMASK = r"""
import os, sys
os.umask(int(sys.argv[1], 8))
import molq as mq
sub = mq.Submitor(mq.Cluster("c", "local"), jobs_dir=sys.argv[2])
h = sub.submit_job(command="echo $TOKEN > token.out; echo done",
                   execution=mq.JobExecution(env={"TOKEN": sys.argv[3]}, cwd=sys.argv[4]))
print(h.wait(timeout=60).state.value)
"""


@pytest.mark.parametrize("umask", ["000", "022", "077"])
def test_home_store_and_job_dirs_are_private_whatever_the_umask(open_base: Path, other_user: str, umask: str) -> None:
    home, jobs, work = open_base / "home", open_base / "jobs", open_base / "work"
    work.mkdir(mode=0o700)
    env = {**os.environ, "MOLQ_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", SUBMIT_WITH_UMASK, umask, str(jobs), SECRET, str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "succeeded", done.stderr
    assert _mode(home) == 0o700
    for name in ("jobs.db", "jobs.db-wal", "jobs.db-shm"):
        if (home / name).exists():
            assert _mode(home / name) == 0o600, name
    assert _mode(jobs) == 0o700
    (job_dir,) = jobs.iterdir()
    assert _mode(job_dir) == 0o700
    # The other user finds the secret nowhere molq wrote it (store rows,
    # scripts, wrapper files), though the secret is in all of them.
    assert subprocess.run(["grep", "-rl", SECRET, str(home), str(jobs)], capture_output=True).stdout
    seen = subprocess.run(
        ["runuser", "-u", other_user, "--", "grep", "-rl", SECRET, str(home), str(jobs)], capture_output=True, text=True
    )
    assert seen.stdout == "", f"readable by {other_user}: {seen.stdout}"


def test_a_store_and_home_left_readable_by_an_older_molq_are_made_private(
    open_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = open_base / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    JobStore(home / "jobs.db").close()
    for name in ("jobs.db", "jobs.db-wal", "jobs.db-shm"):
        if (home / name).exists():
            (home / name).chmod(0o644)
    monkeypatch.setenv("MOLQ_HOME", str(home))
    from molq.store import default_jobs_db_path

    JobStore(default_jobs_db_path()).close()
    assert _mode(home) == 0o700 and _mode(home / "jobs.db") == 0o600


def _submitor(tmp_path: Path, jobs_dir: Path) -> mq.Submitor:
    return mq.Submitor(mq.Cluster("c", "local"), store=JobStore(tmp_path / "jobs.db"), jobs_dir=jobs_dir)


def test_a_job_root_another_user_owns_is_refused(tmp_path: Path, open_base: Path, other_user: str) -> None:
    root = open_base / "theirs"
    root.mkdir(mode=0o755)
    shutil.chown(root, other_user, other_user)
    sub = _submitor(tmp_path, root)
    with pytest.raises(ConfigError, match=rf"owned by {other_user}.*could replace the files") as info:
        sub.submit_job(argv=["true"])
    assert str(root) in str(info.value)
    assert sub.list_jobs(include_terminal=True) == []  # refused before anything was written
    assert list(root.iterdir()) == []


def test_a_job_root_under_another_users_folder_is_refused(tmp_path: Path, open_base: Path, other_user: str) -> None:
    theirs = open_base / "theirs"
    theirs.mkdir(mode=0o755)
    mine = theirs / "mine"
    mine.mkdir(mode=0o700)
    shutil.chown(theirs, other_user, other_user)
    with pytest.raises(ConfigError, match=rf"folder {theirs} is owned by {other_user}"):
        _submitor(tmp_path, mine).submit_job(argv=["true"])


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_job_root_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    root = tmp_path / "open"
    root.mkdir()
    root.chmod(mode)
    with pytest.raises(ConfigError, match=r"can be written by .*chmod go-w"):
        _submitor(tmp_path, root).submit_job(argv=["true"])


def test_a_job_root_in_a_sticky_shared_folder_is_fine_but_not_without_the_sticky_bit(
    tmp_path: Path, open_base: Path
) -> None:
    shared = open_base / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    record = _submitor(tmp_path, shared / "mine").submit_job(argv=["true"]).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    assert _mode(shared / "mine") == 0o700
    shared.chmod(0o777)
    with pytest.raises(ConfigError, match="no sticky bit"):
        _submitor(tmp_path, shared / "mine").submit_job(argv=["true"])


def test_molq_home_owned_by_another_user_is_refused(
    open_base: Path, other_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = open_base / "home"
    home.mkdir(mode=0o700)
    shutil.chown(home, other_user, other_user)
    monkeypatch.setenv("MOLQ_HOME", str(home))
    from molq.store import default_jobs_db_path

    with pytest.raises(StoreError, match=rf"refusing {home} as MOLQ_HOME: it is owned by {other_user}"):
        JobStore(default_jobs_db_path())
    assert list(home.iterdir()) == []


def test_molq_home_others_can_write_is_refused(open_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = open_base / "home"
    home.mkdir()
    home.chmod(0o777)
    monkeypatch.setenv("MOLQ_HOME", str(home))
    from molq.store import default_jobs_db_path

    with pytest.raises(StoreError, match="MOLQ_HOME: it can be written by"):
        JobStore(default_jobs_db_path())
