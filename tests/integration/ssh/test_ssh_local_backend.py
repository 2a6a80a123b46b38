"""The local backend on a "remote workstation" over SSH: jobs run as the remote user,
in the remote home, tracked and cancelled through the transport."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from _local_pids import wrapper_pid
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.ssh


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


def test_argv_command_and_script_jobs_run_remotely(
    submitor: mq.Submitor, ssh_testbed: Any, tmp_path: Path, remote_dir: str
) -> None:
    script = tmp_path / "job 'x'.sh"
    script.write_text("#!/bin/bash\necho script as $(id -un) in $PWD\nexit 3\n")
    handles = [
        submitor.submit_job(argv=["sh", "-c", 'echo "$1 $(id -un)"; exit 0', "sh", "it's ✓"]),
        submitor.submit_job(command="echo to-stderr >&2; exit 5"),
        submitor.submit_job(script=mq.Script.path(str(script)), execution=mq.JobExecution(cwd=remote_dir)),
    ]
    records = [h.wait(timeout=60) for h in handles]
    assert [(r.state, r.exit_code) for r in records] == [
        (mq.JobState.SUCCEEDED, 0),
        (mq.JobState.FAILED, 5),
        (mq.JobState.FAILED, 3),
    ]
    t = submitor.target.transport
    assert t.read_text(records[0].metadata["molq.stdout_path"]) == f"it's ✓ {ssh_testbed.user}\n"
    assert t.read_text(records[1].metadata["molq.stderr_path"]) == "to-stderr\n"
    assert t.read_text(records[2].metadata["molq.stdout_path"]) == f"script as {ssh_testbed.user} in {remote_dir}\n"
    # the job directories are the remote user's (on loopback the filesystem is shared,
    # so the owner is what tells them apart)
    for r in records:
        assert r.job_dir.startswith(f"{remote_dir}/jobs/")
        assert t.run(["stat", "-c", "%U %a", r.job_dir]).stdout.strip() == f"{ssh_testbed.user} 700"


def test_default_cwd_is_the_remote_home_not_this_machines_cwd(
    cluster: mq.Cluster, ssh_testbed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop_dir = tmp_path / "laptop only"
    laptop_dir.mkdir()
    monkeypatch.chdir(laptop_dir)
    with mq.Submitor(cluster, store=JobStore(tmp_path / "db"), polling_strategy=FixedStrategy(0.1)) as sub:
        record = sub.submit_job(argv=["pwd"], job_dir_name=f"molq-test-{os.getpid()}-{time.time_ns()}").wait(timeout=60)
        t = cluster.transport
        try:
            assert record.cwd == ssh_testbed.home
            assert t.read_text(record.metadata["molq.stdout_path"]) == f"{ssh_testbed.home}\n"
            assert record.job_dir.startswith(f"{ssh_testbed.home}/.molq/jobs/")
        finally:
            t.remove(record.job_dir, recursive=True)


def test_tilde_paths_in_cwd_and_jobs_dir_expand_on_the_cluster(
    cluster: mq.Cluster, ssh_testbed: Any, tmp_path: Path, remote_dir: str
) -> None:
    rel = remote_dir[len(ssh_testbed.home) + 1 :]
    with mq.Submitor(
        cluster, store=JobStore(tmp_path / "db"), jobs_dir=f"~/{rel}/jobs", polling_strategy=FixedStrategy(0.1)
    ) as sub:
        record = sub.submit_job(argv=["pwd"], execution=mq.JobExecution(cwd=f"~/{rel}")).wait(timeout=60)
    assert record.cwd == remote_dir and record.job_dir.startswith(f"{remote_dir}/jobs/")
    assert cluster.transport.read_text(record.metadata["molq.stdout_path"]) == f"{remote_dir}\n"
    with pytest.raises(mq.ConfigError, match="working directory does not exist"):
        mq.Submitor(cluster, store=JobStore(tmp_path / "db2")).submit_job(
            argv=["true"], execution=mq.JobExecution(cwd="~/no/such/dir")
        )


def test_cancel_kills_the_remote_process_group(submitor: mq.Submitor) -> None:
    t = submitor.target.transport
    handle = submitor.submit_job(command="sleep 300 & sleep 301 & wait")
    deadline = time.monotonic() + 30
    while handle.refresh().status() is not mq.JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
    pgid = str(wrapper_pid(submitor.get_job(handle.job_id).job_dir or "", t.read_text))
    live = "ps -o stat= -g \"$1\" | grep -vc '^Z' || true"
    assert int(t.run(["sh", "-c", live, "sh", pgid]).stdout) >= 3  # wrapper, subshell, sleeps
    handle.cancel()
    assert handle.status() is mq.JobState.CANCELLED
    deadline = time.monotonic() + 10
    while int(t.run(["sh", "-c", live, "sh", pgid]).stdout) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(t.run(["sh", "-c", live, "sh", pgid]).stdout) == 0


def test_fetch_logs_and_cleanup_go_through_the_transport(submitor: mq.Submitor, tmp_path: Path) -> None:
    record = submitor.submit_job(command="echo out; echo err >&2").wait(timeout=60)
    logs = submitor.fetch_logs(record.job_id, dest_dir=tmp_path / "logs")
    assert logs["stdout"].read_text() == "out\n" and logs["stderr"].read_text() == "err\n"
    t = submitor.target.transport
    assert t.is_dir(record.job_dir)
    report = submitor.cleanup_jobs(retention_policy=mq.RetentionPolicy(keep_job_dirs_for_days=0))
    assert record.job_dir in report["job_dirs"]
    assert not t.exists(record.job_dir)


def test_a_refresh_costs_one_round_trip_whatever_the_job_count(submitor: mq.Submitor) -> None:
    t = submitor.target.transport
    handles = [submitor.submit_job(argv=["sleep", "30"]) for _ in range(12)]
    submitor.refresh_jobs(force=True)
    before = t.process_count
    transitions = submitor.refresh_jobs(force=True)
    assert t.process_count - before == 1
    # the remote machine's CPUs run some; the rest wait in its queue
    states = [submitor.get_job(h.job_id).state for h in handles]
    assert set(states) <= {mq.JobState.RUNNING, mq.JobState.QUEUED} and mq.JobState.RUNNING in states
    assert transitions is not None
