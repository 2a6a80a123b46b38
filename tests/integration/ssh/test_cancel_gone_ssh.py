"""Cancel means gone, over SSH: the local backend on a "remote workstation"
(the sshd testbed on this machine, so the job's processes can be looked at
here in /proc). Real processes, real signals, real sshd."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from _local_pids import wrapper_pid
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.ssh


def job_processes(leader: int) -> list[int]:
    """Live (not zombie) pids whose process group or session is ``leader``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if fields[0] not in (b"Z", b"X") and leader in (int(fields[2]), int(fields[3])):
            found.append(int(entry))
    return found


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def cluster(ssh_testbed: Any) -> Iterator[mq.Cluster]:
    c = ssh_testbed.cluster("local", name="workstation")
    yield c
    c.transport.close()  # type: ignore[attr-defined]


@pytest.fixture
def submitor(cluster: mq.Cluster, tmp_path: Path, remote_dir: str) -> Iterator[mq.Submitor]:
    sub = mq.Submitor(
        cluster,
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=f"{remote_dir}/jobs",
        polling_strategy=FixedStrategy(interval=0.1),
    )
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()


def _started(sub: mq.Submitor, remote_dir: str, name: str) -> Callable[[], bool]:
    return lambda: sub.target.transport.exists(f"{remote_dir}/{name}")


def test_a_remote_job_that_ignores_sigterm_is_gone_when_cancel_returns(submitor: mq.Submitor, remote_dir: str) -> None:
    marker = f"{remote_dir}/started"
    handle = submitor.submit_job(
        argv=["bash", "-c", 'set -m; trap "" TERM; sleep 300 & touch "$1"; wait', "job", marker]
    )
    assert wait_for(_started(submitor, remote_dir, "started"))
    leader = wrapper_pid(submitor.get_job(handle.job_id).job_dir or "", submitor.target.transport.read_text)
    assert len(job_processes(leader)) >= 2
    started = time.monotonic()
    submitor.cancel_job(handle.job_id)
    assert job_processes(leader) == []
    assert time.monotonic() - started >= 2.5  # it waited out the grace period, then killed
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_a_killed_remote_wrapper_does_not_end_the_job_and_cancel_still_reaches_it(
    submitor: mq.Submitor, remote_dir: str
) -> None:
    handle = submitor.submit_job(argv=["bash", "-c", 'touch "$1"; sleep 300', "job", f"{remote_dir}/started"])
    assert wait_for(_started(submitor, remote_dir, "started"))
    leader = wrapper_pid(submitor.get_job(handle.job_id).job_dir or "", submitor.target.transport.read_text)
    os.kill(leader, signal.SIGKILL)
    assert wait_for(lambda: leader not in job_processes(leader))
    for _ in range(3):
        submitor.refresh_jobs(force=True)
        assert submitor.get_job(handle.job_id).state is mq.JobState.RUNNING
    assert job_processes(leader)
    submitor.cancel_job(handle.job_id)
    assert job_processes(leader) == []
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_cancelling_an_unrecorded_remote_submission_stops_it(submitor: mq.Submitor, remote_dir: str) -> None:
    """The state a submitter leaves when it dies right after the wrapper
    started: the job is in the store as CREATED, without its pid."""
    from molq._engine.job_dir import prepare_job_dir
    from molq._engine.requests import SubmitRequest

    ctx = submitor._engine.ctx
    request = SubmitRequest.from_user(
        ctx,
        argv=["bash", "-c", 'touch "$1"; sleep 300', "job", f"{remote_dir}/started"],
        command=None,
        script=None,
        resources=None,
        scheduling=None,
        execution=None,
        metadata=None,
        retry=None,
        dependency_lists=(None, None, None, None),
        job_dir_name=None,
    )
    spec = request.resolve(ctx).spec
    prepare_job_dir(submitor.target.transport, spec, None)
    submitor.store.register_job(
        {
            "job_id": spec.job_id,
            "cluster_name": spec.cluster_name,
            "scheduler": spec.scheduler,
            "root_job_id": spec.job_id,
            "attempt": 1,
            "previous_attempt_job_id": None,
            "retry_group_id": spec.job_id,
            "command_type": "argv",
            "command_display": spec.command.display,
            "cwd": spec.cwd,
            "job_dir": spec.job_dir,
            "metadata": spec.metadata,
            "request_json": spec.request_json,
            "retry_json": None,
            "profile_name": None,
        },
        [],
        time.time(),
    )
    leader = int(submitor.target.scheduler_impl.submit(spec, spec.job_dir))
    assert wait_for(_started(submitor, remote_dir, "started"))
    assert submitor.get_job(spec.job_id).state is mq.JobState.CREATED
    submitor.cancel_job(spec.job_id)
    assert job_processes(leader) == []
    assert submitor.get_job(spec.job_id).state is mq.JobState.CANCELLED


def test_a_hostile_job_dir_name_over_ssh_freezes_no_other_job(submitor: mq.Submitor) -> None:
    handles = [
        submitor.submit_job(argv=["true"]),
        submitor.submit_job(argv=["echo", "odd"], job_dir_name=f"new\nline\t#end 1 {uuid.uuid4().hex[:6]}"),
        submitor.submit_job(argv=["true"]),
    ]
    records = submitor.watch_jobs([h.job_id for h in handles], timeout=60)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3
    assert submitor.target.transport.read_text(records[1].metadata["molq.stdout_path"]) == "odd\n"


def test_a_remote_job_killed_by_a_signal_records_it(submitor: mq.Submitor, remote_dir: str) -> None:
    pid_file = f"{remote_dir}/pid"
    handle = submitor.submit_job(
        argv=["bash", "-c", 'echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300', "job", pid_file]
    )
    assert wait_for(_started(submitor, remote_dir, "pid"))
    os.kill(int(submitor.target.transport.read_text(pid_file)), signal.SIGSEGV)
    record = handle.wait(timeout=60)
    assert (record.state, record.exit_code, record.exit_signal) == (mq.JobState.FAILED, 139, 11)
