"""Faults: broken scheduler output, failing commands, a full or read-only
disk under the store. No job changes state on bad evidence, nothing is lost,
and the problem is reported in words a user understands."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.errors import TransportError
from molq.store import JobStore
from molq.transport import CommandResult, LocalTransport


class Tampering(LocalTransport):
    """The real local transport, with the output of status checks rewritten."""

    def __init__(self) -> None:
        super().__init__()
        self.tamper: Callable[[CommandResult], CommandResult] | None = None

    def run(self, argv: Any, **kwargs: Any) -> CommandResult:
        result = super().run(argv, **kwargs)
        if self.tamper is not None and "molq-poll" in argv:
            return self.tamper(result)
        return result


@pytest.fixture
def tampered(tmp_path: Path) -> Iterator[tuple[mq.Submitor, Tampering, list[Any]]]:
    transport = Tampering()
    cluster = mq.Cluster("faulty", "local", transport=transport)
    # every refresh polls here (no shared interval, no backoff): each call is a probe
    sub = mq.Submitor(
        cluster,
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        lost_after_seconds=0.0,
        lost_after_polls=1,
        min_poll_interval=0.0,
    )
    events: list[Any] = []
    sub.on_event(mq.EventType.POLL_FAILED, events.append)
    yield sub, transport, events
    sub.close()


def finished(sub: mq.Submitor, command: str = "true") -> str:
    """A job that has ended on the machine but not yet in the store."""
    handle = sub.submit_job(command=command)
    exit_file = Path(sub.get_job(handle.job_id).job_dir) / ".exit_code"
    deadline = time.time() + 10
    while not exit_file.exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    return handle.job_id


@pytest.mark.parametrize(
    "garble",
    [
        lambda r: CommandResult(r.argv, 0, b"\x00\xff garbage |||\n", b""),
        lambda r: CommandResult(r.argv, 0, r.stdout_bytes[: len(r.stdout_bytes) // 2], b""),  # truncated
        lambda r: CommandResult(r.argv, 0, b"", b""),  # nothing at all
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_bad_status_output_moves_no_job(tampered: Any, garble: Callable[[CommandResult], CommandResult]) -> None:
    sub, transport, _ = tampered
    job_id = finished(sub)
    transport.tamper = garble
    for _ in range(3):
        sub.refresh_jobs()
    assert sub.get_job(job_id).state is mq.JobState.SUBMITTED
    transport.tamper = None
    sub.refresh_jobs()
    assert sub.get_job(job_id).state is mq.JobState.SUCCEEDED


def test_failing_and_hanging_status_commands_are_reported(tampered: Any) -> None:
    sub, transport, events = tampered
    job_id = finished(sub, "exit 4")

    def fail(result: CommandResult) -> CommandResult:
        return CommandResult(result.argv, 1, b"", b"bash: fork: Resource temporarily unavailable")

    def hang(result: CommandResult) -> CommandResult:
        raise TransportError("command timed out after 30 s: bash -c ...")

    for tamper in (fail, hang):
        transport.tamper = tamper
        sub.refresh_jobs()
        assert sub.get_job(job_id).state is mq.JobState.SUBMITTED
    assert len(events) == 2
    assert "keep their state" in events[0].data["message"]
    assert "Resource temporarily unavailable" in events[0].data["message"]
    transport.tamper = None
    assert sub.get_job(job_id).state is mq.JobState.SUBMITTED
    sub.refresh_jobs()
    record = sub.get_job(job_id)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 4)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@needs_root
def test_full_disk_is_a_clear_store_error_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    store = JobStore(small_disk / "jobs.db")
    sub = mq.Submitor(mq.Cluster("full", "local"), store=store, jobs_dir=tmp_path / "jobs")
    kept = sub.submit_job(argv=["true"]).wait(timeout=30)
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"x" * 65536)
                fh.flush()
        except OSError:
            pass
    with pytest.raises(mq.StoreError, match="(?i)full"):
        for _ in range(200):  # the WAL may have some room left: keep going until it is used up
            sub.submit_job(metadata={"pad": "p" * 4000}, argv=["true"])
    filler.unlink()
    record = sub.get_job(kept.job_id)
    assert record.state is mq.JobState.SUCCEEDED
    for r in sub.list_jobs(include_terminal=True):
        assert r.state is not mq.JobState.CREATED or r.scheduler_job_id is None
    store.close()


@needs_root
def test_read_only_store_is_a_clear_store_error(small_disk: Path, tmp_path: Path) -> None:
    path = small_disk / "jobs.db"
    JobStore(path).close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(mq.StoreError, match=str(path)) as info:
        store = JobStore(path)
        mq.Submitor(mq.Cluster("ro", "local"), store=store, jobs_dir=tmp_path / "jobs").submit_job(argv=["true"])
    assert "read-only" in str(info.value).lower() or "readonly" in str(info.value).lower()
