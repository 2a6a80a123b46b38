"""The SSH server goes away while jobs are tracked: no job may change state because
of it, and tracking picks up the jobs' real outcome once the server is back.

These tests stop and restart the test sshd (scripts/sshd-down.sh, sshd-up.sh)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.errors import SshConnectionError, SshUnreachableError
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.ssh


@pytest.fixture
def submitor(ssh_testbed: Any, tmp_path: Path, remote_dir: str) -> Iterator[mq.Submitor]:
    cluster = ssh_testbed.cluster("local", name="flaky-link")
    # LOST as eagerly as possible: an outage must still not produce it
    sub = mq.Submitor(
        cluster,
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=f"{remote_dir}/jobs",
        polling_strategy=FixedStrategy(interval=0.2),
        lost_after_seconds=0.01,
        lost_after_polls=1,
    )
    yield sub
    sub.close()
    cluster.transport.close()  # type: ignore[attr-defined]


def test_outage_during_tracking_changes_nothing_then_the_real_end_is_recorded(
    submitor: mq.Submitor, ssh_testbed: Any
) -> None:
    failures: list[dict[str, Any]] = []
    submitor.on_event("poll_failed", lambda payload: failures.append(dict(payload.data)))
    handle = submitor.submit_job(command="sleep 2; exit 7")
    assert handle.refresh().status() is mq.JobState.RUNNING
    with ssh_testbed.outage():
        start = time.monotonic()
        for _ in range(5):
            assert submitor.refresh_jobs(force=True) == []
        assert time.monotonic() - start < 5  # each failed poll is quick
        assert handle.refresh().status() is mq.JobState.RUNNING
        assert isinstance(submitor.reconciler.last_error, SshUnreachableError)
        time.sleep(2.5)  # the job ends while we cannot see it
        assert handle.refresh().status() is mq.JobState.RUNNING
    record = handle.wait(timeout=60)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 7)
    assert failures and "Connection refused" in failures[0]["error"]
    states = [t.new_state for t in submitor.get_transitions(handle.job_id)]
    assert mq.JobState.LOST not in states


def test_wait_rides_out_an_outage(submitor: mq.Submitor, ssh_testbed: Any) -> None:
    handle = submitor.submit_job(command="sleep 1.5; exit 3")
    result: dict[str, Any] = {}

    def waiter() -> None:
        try:
            result["record"] = handle.wait(timeout=90)
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.5)
    with ssh_testbed.outage():
        time.sleep(3)  # the job ends during the outage
        assert thread.is_alive()
    thread.join(90)
    assert "error" not in result, result
    assert (result["record"].state, result["record"].exit_code) == (mq.JobState.FAILED, 3)


def test_a_command_cut_off_by_the_outage_is_reported_not_repeated(ssh_testbed: Any, remote_dir: str) -> None:
    t = ssh_testbed.transport()
    marker = f"{remote_dir}/runs"
    errors: list[BaseException] = []

    def long_command() -> None:
        try:
            t.run(["sh", "-c", 'echo run >> "$1"; sleep 20', "sh", marker])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t.run(["true"])
    thread = threading.Thread(target=long_command)
    thread.start()
    time.sleep(1)
    with ssh_testbed.outage():
        thread.join(30)
    assert len(errors) == 1 and isinstance(errors[0], SshConnectionError)
    assert errors[0].may_have_run is True
    assert t.read_text(marker) == "run\n"  # ran once, not silently again
    t.close()
