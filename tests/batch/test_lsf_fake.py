"""LSFScheduler end to end against the fake LSF commands (tests/fakes/lsf)."""

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


def test_argv_command_and_script_jobs(fake_lsf: mq.Submitor, tmp_path: Path) -> None:
    script = tmp_path / "a script 'with' quotes.sh"
    script.write_text("#!/bin/bash\necho from script in $(pwd)\n")
    work = tmp_path / "work dir"
    work.mkdir()
    handles = [
        fake_lsf.submit_job(argv=["printf", "%s|", "it's", "two words", "$HOME"]),
        fake_lsf.submit_job(command="echo $((6 * 7))", execution=mq.JobExecution(job_name="a name | with a pipe")),
        fake_lsf.submit_job(script=mq.Script.path(script), execution=mq.JobExecution(cwd=work)),
    ]
    records = fake_lsf.watch_jobs([h.job_id for h in handles], timeout=60)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3, [r.failure_reason for r in records]
    assert out(records[0]) == "it's|two words|$HOME|"
    assert out(records[1]) == "42\n"
    assert out(records[2]) == f"from script in {work}\n"
    assert all(r.exit_code == 0 and r.started_at and r.finished_at for r in records)


def test_exit_code_3_is_failed_3(fake_lsf: mq.Submitor) -> None:
    record = fake_lsf.submit_job(command="exit 3").wait(timeout=60)
    assert (record.state, record.exit_code) == (mq.JobState.FAILED, 3)


def test_bhist_when_bjobs_has_forgotten(fake_lsf: mq.Submitor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLQ_FAKE_LSF_CLEAN_PERIOD", "0")
    failed = fake_lsf.submit_job(command="exit 4").wait(timeout=60)
    assert (failed.state, failed.exit_code) == (mq.JobState.FAILED, 4)
    assert failed.started_at and failed.finished_at and failed.finished_at >= failed.started_at
    killed = fake_lsf.submit_job(command="kill -SEGV $$").wait(timeout=60)
    assert (killed.state, killed.exit_signal) == (mq.JobState.FAILED, 11)
    outside = fake_lsf.submit_job(command="sleep 300")
    wait_running(outside)
    subprocess.run(["bkill", outside.scheduler_job_id], check=True, capture_output=True)
    record = outside.wait(timeout=30)
    assert record.state is mq.JobState.CANCELLED, record.failure_reason
    assert "TERM_OWNER" in (record.failure_reason or "")


def test_bkill_cancels_and_a_finished_job_stays_finished(fake_lsf: mq.Submitor) -> None:
    running = fake_lsf.submit_job(command="sleep 300")
    wait_running(running)
    fake_lsf.cancel_job(running.job_id)
    assert fake_lsf.get_job(running.job_id).state is mq.JobState.CANCELLED
    done = fake_lsf.submit_job(command="true").wait(timeout=60)
    fake_lsf.cancel_job(done.job_id)
    assert fake_lsf.get_job(done.job_id).state is mq.JobState.SUCCEEDED


def test_dependencies_in_order(fake_lsf: mq.Submitor, tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    a = fake_lsf.submit_job(command=f"sleep 1; echo A >> '{log}'")
    b = fake_lsf.submit_job(command=f"echo B >> '{log}'", after_success=[a.job_id])
    c = fake_lsf.submit_job(command=f"echo C >> '{log}'", after_success=[b.job_id], after=[a.job_id])
    script = (Path(fake_lsf.get_job(c.job_id).job_dir) / "run_lsf.sh").read_text()
    line = next(x for x in script.splitlines() if x.startswith("#BSUB -w"))
    assert sorted(line[len('#BSUB -w "') : -1].split(" && ")) == sorted(
        [f"done({b.scheduler_job_id})", f"ended({a.scheduler_job_id})"]
    )
    records = fake_lsf.watch_jobs([a.job_id, b.job_id, c.job_id], timeout=60)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3
    assert log.read_text() == "A\nB\nC\n"


def test_array_tracked_as_a_whole_and_per_element(fake_lsf: mq.Submitor, tmp_path: Path) -> None:
    record = fake_lsf.submit_job(
        command="exit $(( LSB_JOBINDEX % 2 ))",
        scheduling=mq.JobScheduling(array_spec="1-4"),
        execution=mq.JobExecution(cwd=tmp_path, output_file="array-%a.out", job_name="molq array"),
    ).wait(timeout=60)
    assert record.state is mq.JobState.FAILED
    assert record.failure_reason == "2 of 4 array tasks failed (first: task 1, exit 1)"
    assert sorted(p.name for p in Path(record.cwd).glob("array-*.out")) == [f"array-{i}.out" for i in range(1, 5)]
    tasks = fake_lsf.get_array_tasks(record.job_id)
    assert [(t[0], t[1], t[2]) for t in tasks] == [
        ("1", mq.JobState.FAILED, 1),
        ("2", mq.JobState.SUCCEEDED, 0),
        ("3", mq.JobState.FAILED, 1),
        ("4", mq.JobState.SUCCEEDED, 0),
    ]


def test_get_queue_shows_jobs_from_outside_molq(fake_lsf: mq.Submitor) -> None:
    submitted = subprocess.run(
        ["bsub", "-H", "-J", "not from molq"], input="#!/bin/bash\ntrue\n", capture_output=True, text=True, check=True
    ).stdout
    outside = submitted.split("<")[1].split(">")[0]
    entries = fake_lsf.target.get_queue()
    mine = [e for e in entries if e.scheduler_job_id == outside]
    assert mine and mine[0].name == "not from molq" and mine[0].state is mq.JobState.QUEUED
    assert mine[0].raw_state == "PSUSP"
