"""molq's Grid Engine backend against the real single-node Grid Engine of
``scripts/sge-up.sh`` (Son of Grid Engine 8.1.9 from Debian).

Every test submits through ``molq.Submitor`` and checks what Grid Engine
itself did (``qstat``, ``qacct``) as well as what molq recorded. When Grid
Engine is not up the tests are skipped with the reason; ``MOLQ_REQUIRE_SGE=1``
(set by CI once it started Grid Engine) turns that into a failure.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.sge


@pytest.fixture
def sge(sge_testbed: None, tmp_path: Path) -> Iterator[mq.Submitor]:
    sub = mq.Submitor(
        mq.Cluster("gridengine", "sge"),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.5),
    )
    yield sub
    ids = [r.scheduler_job_id for r in sub.list_jobs(include_terminal=True) if r.scheduler_job_id]
    if ids:
        subprocess.run(["qdel", *ids], capture_output=True)
    sub.close()


def out(record: mq.JobRecord) -> str:
    return Path(record.metadata["molq.stdout_path"]).read_text()


def qstat_state(sge_id: str) -> str | None:
    table = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True).stdout
    for line in table.splitlines()[2:]:
        fields = line.split()
        if fields and fields[0] == sge_id:
            return fields[4]
    return None


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(0.3)


def test_argv_command_and_script_jobs(sge: mq.Submitor, tmp_path: Path) -> None:
    script = tmp_path / "a script 'with' quotes.sh"
    script.write_text("#!/bin/bash\necho from script in $(pwd)\n")
    work = tmp_path / "work dir"
    work.mkdir()
    handles = [
        sge.submit_job(argv=["printf", "%s|", "it's", "two words", "$HOME"]),
        sge.submit_job(
            command="echo $((6 * 7))", execution=mq.JobExecution(job_name="a name with spaces/and:odd@chars")
        ),
        sge.submit_job(script=mq.Script.path(script), execution=mq.JobExecution(cwd=work)),
    ]
    records = sge.watch_jobs([h.job_id for h in handles], timeout=120)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3, [r.failure_reason for r in records]
    assert out(records[0]) == "it's|two words|$HOME|"
    assert out(records[1]) == "42\n"
    assert out(records[2]) == f"from script in {work}\n"
    assert all(r.exit_code == 0 and r.started_at and r.finished_at for r in records)
    acct = subprocess.run(["qacct", "-j", records[1].scheduler_job_id], capture_output=True, text=True).stdout
    assert "a_name_with_spaces_and_odd_chars" in acct


def test_resources_reach_grid_engine(sge: mq.Submitor) -> None:
    handle = sge.submit_job(
        command="echo slots=$NSLOTS; sleep 60",
        resources=mq.JobResources(cpu_count=2, memory="256M", time_limit="10m"),
    )
    job = subprocess.run(["qstat", "-j", handle.scheduler_job_id], capture_output=True, text=True).stdout
    assert "h_vmem=128M" in job.replace(" ", "") or "h_vmem=128M" in job, job
    assert "h_rt=600" in job, job
    assert "parallel environment:  smp range: 2" in job, job
    handle.cancel()


def test_exit_code_3_is_failed_3(sge: mq.Submitor) -> None:
    record = sge.submit_job(command="exit 3").wait(timeout=120)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 3)
    assert record.failure_reason == "job failed with exit code 3"


def test_killed_by_signal_names_the_signal(sge: mq.Submitor) -> None:
    record = sge.submit_job(command="kill -SEGV $$").wait(timeout=120)
    assert record.state is mq.JobState.FAILED
    assert record.exit_signal == 11
    assert "SIGSEGV" in (record.failure_reason or "")


def test_h_rt_gives_timed_out(sge: mq.Submitor) -> None:
    record = sge.submit_job(command="sleep 120", resources=mq.JobResources(time_limit="3s")).wait(timeout=120)
    assert record.state is mq.JobState.TIMED_OUT, record.failure_reason


def test_qdel_gives_cancelled_and_a_finished_job_stays_finished(sge: mq.Submitor) -> None:
    running = sge.submit_job(command="sleep 300")
    wait_for(lambda: running.refresh().status() is mq.JobState.RUNNING)
    sge.cancel_job(running.job_id)
    assert sge.get_job(running.job_id).state is mq.JobState.CANCELLED
    wait_for(lambda: qstat_state(running.scheduler_job_id) is None)
    done = sge.submit_job(command="true").wait(timeout=120)
    sge.cancel_job(done.job_id)
    assert sge.get_job(done.job_id).state is mq.JobState.SUCCEEDED


def test_hold_jid_chain_runs_in_order(sge: mq.Submitor, tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    a = sge.submit_job(command=f"sleep 2; echo A >> {log}")
    b = sge.submit_job(command=f"echo B >> {log}", after=[a.job_id])
    c = sge.submit_job(command=f"echo C >> {log}", after=[b.job_id])
    script = Path(sge.get_job(b.job_id).job_dir) / "run_sge.sh"
    assert f"#$ -hold_jid {a.scheduler_job_id}" in script.read_text()
    records = sge.watch_jobs([a.job_id, b.job_id, c.job_id], timeout=180)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3
    assert log.read_text() == "A\nB\nC\n"
    assert records[0].finished_at <= records[1].started_at <= records[2].started_at
    with pytest.raises(mq.errors.ConfigError, match="after="):
        sge.submit_job(command="true", after_success=[a.job_id])


def test_array_tracked_as_a_whole_and_per_task(sge: mq.Submitor, tmp_path: Path) -> None:
    record = sge.submit_job(
        command="exit $(( SGE_TASK_ID % 2 ))",
        scheduling=mq.JobScheduling(array_spec="1-4"),
        execution=mq.JobExecution(cwd=tmp_path, output_file="array-%a.out"),
    ).wait(timeout=180)
    assert record.state is mq.JobState.FAILED
    assert record.failure_reason == "2 of 4 array tasks failed (first: task 1, exit 1)"
    cwd = Path(record.cwd)
    assert sorted(p.name for p in cwd.glob("array-*.out")) == [f"array-{i}.out" for i in range(1, 5)]
    if hasattr(sge, "get_array_tasks"):
        tasks = sge.get_array_tasks(record.job_id)
        assert [(t[0], t[1], t[2]) for t in tasks] == [
            ("1", mq.JobState.FAILED, 1),
            ("2", mq.JobState.SUCCEEDED, 0),
            ("3", mq.JobState.FAILED, 1),
            ("4", mq.JobState.SUCCEEDED, 0),
        ]


def test_get_queue_shows_jobs_from_outside_molq(sge: mq.Submitor) -> None:
    outside = subprocess.run(
        ["qsub", "-terse", "-h", "-N", "not-from-molq", "-b", "y", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        entries = sge.target.get_queue()
        mine = [e for e in entries if e.scheduler_job_id == outside]
        assert mine and mine[0].name == "not-from-molq" and mine[0].state is mq.JobState.QUEUED
        assert mine[0].user == "root" and mine[0].submit_time is not None
        assert mine[0].raw_state == "hqw"
    finally:
        subprocess.run(["qdel", outside], check=True, capture_output=True)
