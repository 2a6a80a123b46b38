"""Slurm driven over SSH: the real Slurm testbed, reached as root@127.0.0.1 through sshd.

Needs both testbeds (scripts/slurm-up.sh and scripts/sshd-up.sh)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.options import SlurmSchedulerOptions
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


# sbatch takes the job; then, before its answer goes back, the ssh connection
# this command came through is cut (its sshd process killed), as when a
# network drops at the worst moment. Each cut is counted in $1's folder.
SBATCH_THEN_CUT = r"""#!/bin/sh
answer=$(sbatch "$@") || exit $?
p=$PPID
while [ "${p:-1}" -gt 1 ]; do
  case $(ps -o comm= -p "$p") in
    sshd*) echo cut >> "$(dirname "$0")/cuts"; kill -9 "$p"; sleep 5; break ;;
  esac
  p=$(ps -o ppid= -p "$p" | tr -d ' ')
done
printf '%s\n' "$answer"
"""


def test_a_connection_cut_after_sbatch_accepted_loses_nothing_and_doubles_nothing(
    slurm_testbed: Any, ssh_testbed: Any, tmp_path: Path
) -> None:
    """The answer of an accepted sbatch is lost with the connection: molq
    finds the job by its marker (at once, through a new connection), tracks
    it, and never submits it again."""
    cut = tmp_path / "sbatch-then-cut"
    cut.write_text(SBATCH_THEN_CUT)
    cut.chmod(0o755)
    t = ssh_testbed.transport(ssh_testbed.root_alias)
    work = f"{t.home()}/molq-ssh-cut-{tmp_path.name}"
    t.mkdir(work, parents=True)
    sub = mq.Submitor(
        mq.Cluster("slurm-cut", "slurm", transport=t, scheduler_options=SlurmSchedulerOptions(sbatch_path=str(cut))),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=f"{work}/jobs",
        polling_strategy=FixedStrategy(interval=0.5),
    )
    try:
        for round_ in range(1, 4):
            # a retry policy lets molq retry passing failures: never this one
            handle = sub.submit_job(command="true", retry=mq.RetryPolicy(max_attempts=3))
            assert (tmp_path / "cuts").read_text().count("cut") == round_, "the connection was not cut"
            record = sub.get_job(handle.job_id)
            assert record.state is mq.JobState.SUBMITTED and record.scheduler_job_id == handle.scheduler_job_id
            final = handle.wait(timeout=120)
            assert final.state is mq.JobState.SUCCEEDED
            listed = subprocess.run(
                ["squeue", "-h", "-t", "all", "-o", "%i|%k"], capture_output=True, text=True
            ).stdout.split()
            marked = [line.split("|")[0] for line in listed if line.endswith(f"|molq:{handle.job_id}")]
            assert marked == [handle.scheduler_job_id]
            assert len(sub.get_retry_family(handle.job_id)) == 1
    finally:
        sub.close()
        t.remove(work, recursive=True)
        t.close()  # type: ignore[attr-defined]
