"""Slurm driven over SSH: the real Slurm testbed, reached as root@127.0.0.1 through sshd.

Needs both testbeds (scripts/slurm-up.sh and scripts/sshd-up.sh)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = [pytest.mark.ssh, pytest.mark.slurm]


@pytest.fixture
def submitor(
    slurm_testbed: Any, ssh_testbed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[mq.Submitor]:
    # The testbed must be reachable only through ssh: Slurm commands run in this
    # process's environment find no configuration (ssh does not forward the
    # variable), so any call that bypassed the transport would fail loudly.
    monkeypatch.setenv("SLURM_CONF", str(tmp_path / "no-such-slurm.conf"))
    local = subprocess.run(["squeue", "-h"], capture_output=True, text=True)
    assert local.returncode != 0, "local Slurm commands must not reach the testbed here"
    cluster = ssh_testbed.cluster("slurm", alias=ssh_testbed.root_alias, name="slurm-over-ssh")
    t = cluster.transport
    work = f"{t.home()}/molq-ssh-slurm-{tmp_path.name}"
    t.mkdir(work, parents=True)
    sub = mq.Submitor(
        cluster,
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=f"{work}/jobs",
        polling_strategy=FixedStrategy(interval=0.5),
    )
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()
    t.remove(work, recursive=True)
    t.close()  # type: ignore[attr-defined]


def test_sbatch_squeue_sacct_through_the_transport(submitor: mq.Submitor, slurm_testbed: Any) -> None:
    t = submitor.target.transport
    sched = mq.JobScheduling(partition=slurm_testbed.partition)
    ok = submitor.submit_job(command="echo hello from $SLURM_JOB_ID", scheduling=sched)
    bad = submitor.submit_job(command="exit 3", scheduling=sched)
    held = submitor.submit_job(argv=["sleep", "60"], scheduling=sched)
    records = [ok.wait(timeout=120), bad.wait(timeout=120)]
    assert [(r.state, r.exit_code) for r in records] == [(mq.JobState.SUCCEEDED, 0), (mq.JobState.FAILED, 3)]
    assert t.read_text(records[0].metadata["molq.stdout_path"]) == f"hello from {ok.scheduler_job_id}\n"
    assert records[0].cwd == t.home()
    # a refresh is one squeue round trip, however many jobs are tracked
    before = t.process_count
    submitor.refresh_jobs(force=True)
    assert t.process_count - before == 1
    held.cancel()
    assert held.status() is mq.JobState.CANCELLED
