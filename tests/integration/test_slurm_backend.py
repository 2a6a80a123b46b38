"""molq's Slurm backend against the real single-node Slurm testbed.

Every test submits through ``molq.Submitor`` and checks what Slurm itself did
(``scontrol``, ``sacct``) as well as what molq recorded.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.slurm


@pytest.fixture
def slurm(slurm_testbed: Any, tmp_path: Path) -> Iterator[mq.Submitor]:
    store = JobStore(tmp_path / "jobs.db")
    sub = mq.Submitor(
        mq.Cluster("testbed", "slurm"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.5),
    )
    yield sub
    for record in sub.list_jobs():
        if record.scheduler_job_id:
            subprocess.run(["scancel", record.scheduler_job_id], capture_output=True)
    sub.close()


def scontrol(job_id: str) -> str:
    return subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True).stdout


def out(record: mq.JobRecord) -> str:
    return Path(record.metadata["molq.stdout_path"]).read_text()


def test_argv_command_and_script_jobs(slurm: mq.Submitor, tmp_path: Path) -> None:
    script = tmp_path / "a script 'with' quotes.sh"
    script.write_text("#!/bin/bash\necho from script in $(pwd)\n")
    work = tmp_path / "work dir"
    work.mkdir()
    handles = [
        slurm.submit_job(argv=["printf", "%s|", "it's", "two words", "$HOME"]),
        slurm.submit_job(command="echo $((6 * 7))"),
        slurm.submit_job(script=mq.Script.path(script), execution=mq.JobExecution(cwd=work)),
    ]
    records = slurm.watch_jobs([h.job_id for h in handles], timeout=120)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3, [r.failure_reason for r in records]
    assert out(records[0]) == "it's|two words|$HOME|"
    assert out(records[1]) == "42\n"
    assert out(records[2]) == f"from script in {work}\n"
    assert all(r.exit_code == 0 and r.started_at and r.finished_at for r in records)


def test_resources_reach_slurm(slurm: mq.Submitor) -> None:
    handle = slurm.submit_job(
        command="sleep 60",
        resources=mq.JobResources(cpu_count=2, memory="100M", time_limit="10m"),
        scheduling=mq.JobScheduling(partition="debug"),
        execution=mq.JobExecution(job_name="molq resources"),
    )
    text = scontrol(handle.scheduler_job_id)
    assert "JobName=molq resources" in text
    assert "Partition=debug" in text
    assert "TimeLimit=00:10:00" in text
    assert "NumTasks=1" in text and "CPUs/Task=2" in text
    assert "MinMemoryNode=100M" in text
    assert f"Comment=molq:{slurm.get_job(handle.job_id).job_id}" in text
    handle.cancel()
    assert handle.status() is mq.JobState.CANCELLED


def test_exit_code_3_is_failed_3(slurm: mq.Submitor) -> None:
    record = slurm.submit_job(command="exit 3").wait(timeout=120)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 3)


def test_killed_by_signal_names_the_signal(slurm: mq.Submitor) -> None:
    record = slurm.submit_job(command="kill -9 $$").wait(timeout=120)
    assert record.state is mq.JobState.FAILED
    assert record.exit_signal == 9
    assert "signal 9" in (record.failure_reason or "")


def test_time_limit_gives_timed_out(slurm: mq.Submitor) -> None:
    record = slurm.submit_job(command="sleep 600", resources=mq.JobResources(time_limit="1m")).wait(timeout=300)
    assert record.state is mq.JobState.TIMED_OUT


def test_scancel_gives_cancelled_and_a_finished_job_stays_finished(slurm: mq.Submitor) -> None:
    running = slurm.submit_job(command="sleep 300")
    deadline = time.time() + 60
    while running.refresh().status() is not mq.JobState.RUNNING and time.time() < deadline:
        time.sleep(0.5)
    slurm.cancel_job(running.job_id)
    assert slurm.get_job(running.job_id).state is mq.JobState.CANCELLED
    done = slurm.submit_job(command="true").wait(timeout=120)
    slurm.cancel_job(done.job_id)
    assert slurm.get_job(done.job_id).state is mq.JobState.SUCCEEDED


def test_after_success_chain_runs_in_order(slurm: mq.Submitor, tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    a = slurm.submit_job(command=f"sleep 2; echo A >> {log}")
    b = slurm.submit_job(command=f"echo B >> {log}", after_success=[a.job_id])
    c = slurm.submit_job(command=f"echo C >> {log}", after_success=[b.job_id])
    records = slurm.watch_jobs([a.job_id, b.job_id, c.job_id], timeout=180)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3
    assert log.read_text() == "A\nB\nC\n"
    assert records[0].finished_at <= records[1].started_at <= records[2].started_at
    assert [d.dependency_job_id for d in slurm.get_dependencies(b.job_id)] == [a.job_id]


def test_after_failure_branch_runs_only_on_failure(slurm: mq.Submitor, tmp_path: Path) -> None:
    failing = slurm.submit_job(command="exit 1")
    on_failure = slurm.submit_job(command="echo cleanup", after_failure=[failing.job_id])
    on_success = slurm.submit_job(command="echo next", after_success=[failing.job_id])
    records = slurm.watch_jobs([failing.job_id, on_failure.job_id, on_success.job_id], timeout=180)
    assert [r.state for r in records] == [mq.JobState.FAILED, mq.JobState.SUCCEEDED, mq.JobState.CANCELLED]
    assert out(records[1]) == "cleanup\n"
    assert records[2].started_at is None  # never ran


def test_array_tracked_per_task_and_as_a_whole(slurm: mq.Submitor, tmp_path: Path) -> None:
    record = slurm.submit_job(
        command="echo task $SLURM_ARRAY_TASK_ID; exit $(( SLURM_ARRAY_TASK_ID % 2 ))",
        scheduling=mq.JobScheduling(array_spec="1-4"),
        execution=mq.JobExecution(cwd=tmp_path, output_file="array-%a.out"),
    ).wait(timeout=180)
    assert (tmp_path / "array-3.out").read_text() == "task 3\n"
    assert record.state is mq.JobState.FAILED
    tasks = slurm.get_array_tasks(record.job_id)
    assert [(t[0], t[1], t[2]) for t in tasks] == [
        ("1", mq.JobState.FAILED, 1),
        ("2", mq.JobState.SUCCEEDED, 0),
        ("3", mq.JobState.FAILED, 1),
        ("4", mq.JobState.SUCCEEDED, 0),
    ]


def test_finished_jobs_are_resolved_from_sacct(slurm: mq.Submitor) -> None:
    handle = slurm.submit_job(command="exit 7")
    # squeue no longer lists a finished job; only sacct can say how it ended
    deadline = time.time() + 60
    while time.time() < deadline:
        listed = subprocess.run(["squeue", "-h", "-j", handle.scheduler_job_id], capture_output=True, text=True)
        if not listed.stdout.strip():
            break
        time.sleep(0.5)
    record = handle.wait(timeout=120)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 7)


def test_slurmctld_outage_during_wait(slurm: mq.Submitor, slurm_testbed: Any) -> None:
    handle = slurm.submit_job(command="sleep 25")
    deadline = time.time() + 60
    while handle.refresh().status() is not mq.JobState.RUNNING and time.time() < deadline:
        time.sleep(0.5)
    failures: list[Any] = []
    slurm.on_event(mq.EventType.POLL_FAILED, failures.append)
    result: dict[str, Any] = {}

    def waiter() -> None:
        try:
            result["record"] = handle.wait(timeout=300)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            result["error"] = exc

    thread = threading.Thread(target=waiter)
    with slurm_testbed.outage("slurmctld"):
        thread.start()
        # squeue retries for ~20 s before it gives up on a dead controller
        deadline = time.time() + 60
        while not failures and time.time() < deadline:
            time.sleep(1)
        assert slurm.get_job(handle.job_id).state is mq.JobState.RUNNING
        transitions_during = len(slurm.get_transitions(handle.job_id))
    thread.join(timeout=300)
    assert "error" not in result, result.get("error")
    assert result["record"].state is mq.JobState.SUCCEEDED
    assert failures, "the outage was not reported"
    states = [t.new_state for t in slurm.get_transitions(handle.job_id)]
    assert len(states) >= transitions_during and mq.JobState.LOST not in states


def test_sacct_unavailable_never_makes_a_job_lost(slurm_testbed: Any, tmp_path: Path) -> None:
    sub = mq.Submitor(
        mq.Cluster("testbed", "slurm"),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        lost_after_seconds=0.5,
        lost_after_polls=2,
    )
    handle = sub.submit_job(command="true")
    with slurm_testbed.outage("slurmdbd"):
        deadline = time.time() + 30
        while time.time() < deadline:
            out = subprocess.run(["squeue", "-h", "-j", handle.scheduler_job_id], capture_output=True, text=True)
            if not out.stdout.strip():
                break
            time.sleep(0.5)
        for _ in range(4):
            sub.refresh_jobs()
            time.sleep(0.3)
        assert sub.get_job(handle.job_id).state is not mq.JobState.LOST
        assert not sub.get_job(handle.job_id).state.is_terminal
    sub.close()
    # slurmdbd replays the records it missed within seconds of coming back;
    # the default LOST policy (3 polls over 60 s) leaves room for that
    with mq.Submitor(mq.Cluster("testbed", "slurm"), store=JobStore(tmp_path / "jobs.db")) as after:
        record = after.watch_jobs([handle.job_id], timeout=120)[0]
    assert record.state is mq.JobState.SUCCEEDED


def test_get_queue_shows_jobs_from_outside_molq(slurm: mq.Submitor) -> None:
    outside = subprocess.run(
        ["sbatch", "--parsable", "--hold", "--job-name=not from molq", "--wrap", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        entries = slurm.target.get_queue()
        mine = [e for e in entries if e.scheduler_job_id == outside]
        assert mine and mine[0].name == "not from molq" and mine[0].state is mq.JobState.QUEUED
        assert mine[0].user == "root" and mine[0].submit_time is not None
    finally:
        subprocess.run(["scancel", outside], check=True)


def test_cancel_of_a_job_that_just_ended_records_how_it_ended(slurm: mq.Submitor) -> None:
    handle = slurm.submit_job(command="exit 5")
    deadline = time.time() + 60
    while time.time() < deadline:  # ended in Slurm; molq has not looked yet
        listed = subprocess.run(["squeue", "-h", "-j", handle.scheduler_job_id], capture_output=True, text=True)
        if not listed.stdout.strip():
            break
        time.sleep(0.5)
    assert slurm.get_job(handle.job_id).state is mq.JobState.SUBMITTED
    slurm.cancel_job(handle.job_id)  # scancel: "already completing or completed"
    record = slurm.watch_jobs([handle.job_id], timeout=60)[0]
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 5)


SUBMIT_THEN_DIE = r"""
import os, signal, sys
import molq as mq
from molq.scheduler.slurm import SlurmScheduler
from molq.store import JobStore

real_submit = SlurmScheduler.submit
def submit_and_die(self, spec, job_dir):
    real_submit(self, spec, job_dir)       # sbatch accepted the job...
    os.kill(os.getpid(), signal.SIGKILL)   # ...and molq never records its id
SlurmScheduler.submit = submit_and_die
sub = mq.Submitor(mq.Cluster("testbed", "slurm"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
sub.submit_job(command="sleep 2; exit 4")
"""


def test_submitter_killed_after_sbatch_the_job_is_found_by_its_marker(slurm_testbed: Any, tmp_path: Path) -> None:
    import sys

    db = tmp_path / "jobs.db"
    proc = subprocess.run([sys.executable, "-c", SUBMIT_THEN_DIE, str(db), str(tmp_path / "jobs")])
    assert proc.returncode == -9
    with mq.Submitor(mq.Cluster("testbed", "slurm"), store=JobStore(db), recover_submissions_after=0.0) as sub:
        (record,) = sub.list_jobs()
        assert record.state is mq.JobState.CREATED and record.scheduler_job_id is None
        final = sub.watch_jobs([record.job_id], timeout=120)[0]
    assert (final.state, final.exit_code) == (mq.JobState.FAILED, 4)
    assert final.scheduler_job_id
