"""PBSScheduler end to end against the fake PBS Pro commands (tests/fakes/pbs)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

import molq as mq


def out(record: mq.JobRecord) -> str:
    return Path(record.metadata["molq.stdout_path"]).read_text()


def wait_running(handle: mq.JobHandle, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while handle.refresh().status() is not mq.JobState.RUNNING:
        assert time.time() < deadline, handle.status()
        time.sleep(0.1)


def test_argv_command_and_script_jobs(fake_pbs: mq.Submitor, tmp_path: Path) -> None:
    script = tmp_path / "a script 'with' quotes.sh"
    script.write_text("#!/bin/bash\necho from script in $(pwd)\n")
    work = tmp_path / "work dir"
    work.mkdir()
    handles = [
        fake_pbs.submit_job(argv=["printf", "%s|", "it's", "two words", "$HOME"]),
        fake_pbs.submit_job(command="echo $((6 * 7))", execution=mq.JobExecution(job_name="name with spaces")),
        fake_pbs.submit_job(script=mq.Script.path(script), execution=mq.JobExecution(cwd=work)),
    ]
    records = fake_pbs.watch_jobs([h.job_id for h in handles], timeout=60)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3, [r.failure_reason for r in records]
    assert out(records[0]) == "it's|two words|$HOME|"
    assert out(records[1]) == "42\n"
    assert out(records[2]) == f"from script in {work}\n"
    assert all(r.exit_code == 0 and r.started_at and r.finished_at for r in records)
    assert all(r.scheduler_job_id.isdigit() for r in records), "the server suffix is dropped"


def test_exit_code_3_is_failed_3_from_the_history(fake_pbs: mq.Submitor) -> None:
    record = fake_pbs.submit_job(command="exit 3").wait(timeout=60)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 3)


def test_walltime_gives_timed_out(fake_pbs: mq.Submitor) -> None:
    record = fake_pbs.submit_job(command="sleep 30", resources=mq.JobResources(time_limit="1s")).wait(timeout=60)
    assert record.state is mq.JobState.TIMED_OUT
    assert record.failure_reason == "job exceeded its walltime limit"


def test_qdel_cancels_and_a_finished_job_stays_finished(fake_pbs: mq.Submitor) -> None:
    running = fake_pbs.submit_job(command="sleep 300")
    wait_running(running)
    fake_pbs.cancel_job(running.job_id)
    assert fake_pbs.get_job(running.job_id).state is mq.JobState.CANCELLED
    done = fake_pbs.submit_job(command="true").wait(timeout=60)
    fake_pbs.cancel_job(done.job_id)
    assert fake_pbs.get_job(done.job_id).state is mq.JobState.SUCCEEDED
    # qdel from outside molq: PBS records the deletion, molq reads it as cancelled
    other = fake_pbs.submit_job(command="sleep 300")
    wait_running(other)
    subprocess.run(["qdel", other.scheduler_job_id], check=True)
    assert other.wait(timeout=30).state is mq.JobState.CANCELLED


def test_dependencies_in_order_and_an_unsatisfiable_one(fake_pbs: mq.Submitor, tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    a = fake_pbs.submit_job(command=f"sleep 1; echo A >> '{log}'")
    b = fake_pbs.submit_job(command=f"echo B >> '{log}'", after_success=[a.job_id])
    c = fake_pbs.submit_job(command=f"echo C >> '{log}'", after_success=[b.job_id], after=[a.job_id])
    script = (Path(fake_pbs.get_job(c.job_id).job_dir) / "run_pbs.sh").read_text()
    depend = next(line for line in script.splitlines() if line.startswith("#PBS -W depend="))
    assert sorted(depend.split("=", 1)[1].split(",")) == [
        f"afterany:{a.scheduler_job_id}",
        f"afterok:{b.scheduler_job_id}",
    ]
    records = fake_pbs.watch_jobs([a.job_id, b.job_id, c.job_id], timeout=60)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3
    assert log.read_text() == "A\nB\nC\n"
    failing = fake_pbs.submit_job(command="exit 1")
    on_failure = fake_pbs.submit_job(command="echo cleanup", after_failure=[failing.job_id])
    on_success = fake_pbs.submit_job(command="echo next", after_success=[failing.job_id])
    records = fake_pbs.watch_jobs([failing.job_id, on_failure.job_id, on_success.job_id], timeout=60)
    assert [r.state for r in records] == [mq.JobState.FAILED, mq.JobState.SUCCEEDED, mq.JobState.CANCELLED]
    assert records[2].started_at is None


def test_array_tracked_as_a_whole_and_per_subjob(fake_pbs: mq.Submitor, tmp_path: Path) -> None:
    handle = fake_pbs.submit_job(
        command="exit $(( PBS_ARRAY_INDEX % 2 ))",
        scheduling=mq.JobScheduling(array_spec="1-4"),
        execution=mq.JobExecution(cwd=tmp_path, output_file="array-%a.out"),
    )
    assert handle.scheduler_job_id.endswith("[]")
    record = handle.wait(timeout=60)
    assert record.state is mq.JobState.FAILED
    assert record.failure_reason == "2 of 4 array tasks failed (first: task 1, exit 1)"
    assert sorted(p.name for p in Path(record.cwd).glob("array-*.out")) == [f"array-{i}.out" for i in range(1, 5)]
    tasks = fake_pbs.get_array_tasks(record.job_id)
    assert [(t[0], t[1], t[2]) for t in tasks] == [
        ("1", mq.JobState.FAILED, 1),
        ("2", mq.JobState.SUCCEEDED, 0),
        ("3", mq.JobState.FAILED, 1),
        ("4", mq.JobState.SUCCEEDED, 0),
    ]


def test_tracejob_when_the_history_has_forgotten(fake_pbs: mq.Submitor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLQ_FAKE_PBS_HISTORY", "0")
    failed = fake_pbs.submit_job(command="exit 5").wait(timeout=60)
    assert (failed.state, failed.exit_code) == (mq.JobState.FAILED, 5)
    cancelled = fake_pbs.submit_job(command="sleep 300")
    wait_running(cancelled)
    subprocess.run(["qdel", cancelled.scheduler_job_id], check=True)
    assert cancelled.wait(timeout=30).state is mq.JobState.CANCELLED


def test_get_queue_shows_jobs_from_outside_molq(fake_pbs: mq.Submitor, tmp_path: Path) -> None:
    script = tmp_path / "outside.sh"
    script.write_text("#!/bin/bash\n#PBS -N not-from-molq\n#PBS -o /dev/null\n#PBS -e /dev/null\ntrue\n")
    outside = subprocess.run(["qsub", "-h", str(script)], capture_output=True, text=True, check=True).stdout.strip()
    entries = fake_pbs.target.get_queue()
    mine = [e for e in entries if e.scheduler_job_id == outside.split(".")[0]]
    assert mine and mine[0].name == "not-from-molq" and mine[0].state is mq.JobState.QUEUED
    assert mine[0].raw_state == "H" and mine[0].submit_time is not None
    assert fake_pbs.target.get_queue(user="nobody-at-all") == []
