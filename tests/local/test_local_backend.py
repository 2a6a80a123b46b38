"""The local backend, end to end, with real processes on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import molq as mq
from _local_pids import wrapper_pid
from molq.scheduler.shell import ShellScheduler
from molq.store import JobStore

WEIRD = [
    "with space",
    "it's quoted",
    'double "quotes"',
    "$HOME and $(whoami) and `id`",
    "new\nline",
    "unicode: héllo ✓ 日本",
    "",
    "back\\slash; semi & amp | pipe > gt",
]


def read(path: str) -> str:
    return Path(path).read_text()


def test_fast_job_gets_start_finish_and_exit(submitor: mq.Submitor) -> None:
    record = submitor.submit_job(argv=["true"]).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    assert record.exit_code == 0
    assert record.started_at is not None and record.finished_at is not None
    assert record.submitted_at <= record.started_at + 1 and record.started_at <= record.finished_at
    states = [t.new_state for t in submitor.get_transitions(record.job_id)]
    assert states == [
        mq.JobState.CREATED,
        mq.JobState.SUBMITTED,
        mq.JobState.RUNNING,
        mq.JobState.SUCCEEDED,
    ]


def test_exit_code_is_recorded_and_fails_the_job(submitor: mq.Submitor) -> None:
    record = submitor.submit_job(command="echo oops >&2; exit 3").wait(timeout=30)
    assert record.state is mq.JobState.FAILED
    assert record.exit_code == 3
    assert "3" in (record.failure_reason or "")
    assert read(record.metadata["molq.stderr_path"]) == "oops\n"


def test_exit_code_file_is_written_whole(submitor: mq.Submitor) -> None:
    record = submitor.submit_job(argv=["true"]).wait(timeout=30)
    job_dir = Path(record.job_dir)
    status, finished = (job_dir / ".exit_code").read_text().split()
    assert status == "0" and float(finished) > 0
    assert not (job_dir / ".exit_code.tmp").exists()


@pytest.mark.parametrize("word", WEIRD)
def test_argv_runs_exactly_as_written(submitor: mq.Submitor, word: str) -> None:
    record = submitor.submit_job(argv=["printf", "%s|", word, "second"]).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    assert read(record.metadata["molq.stdout_path"]) == f"{word}|second|"


def test_script_path_with_quotes_and_spaces(submitor: mq.Submitor, tmp_path: Path) -> None:
    odd = tmp_path / "dir with 'quote' and $dollar"
    odd.mkdir()
    script = odd / 'my script "v2".sh'
    script.write_text('#!/bin/bash\necho "from script: $1$MOLQ_TEST_VAR"\n')
    record = submitor.submit_job(
        script=mq.Script.path(script),
        execution=mq.JobExecution(cwd=odd, env={"MOLQ_TEST_VAR": "it's $set"}),
    ).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED, record.failure_reason
    assert read(record.metadata["molq.stdout_path"]) == "from script: it's $set\n"
    assert record.cwd == str(odd)


def test_inline_script_and_cwd(submitor: mq.Submitor, tmp_path: Path) -> None:
    work = tmp_path / "work dir"
    work.mkdir()
    record = submitor.submit_job(script=mq.Script.inline("pwd\necho two"), execution=mq.JobExecution(cwd=work)).wait(
        timeout=30
    )
    assert read(record.metadata["molq.stdout_path"]) == f"{work}\ntwo\n"


def test_job_survives_the_submitting_process(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    marker = tmp_path / "marker"
    code = f"""
import molq as mq
from molq.store import JobStore
sub = mq.Submitor(mq.Cluster("laptop", "local"), store=JobStore({str(db)!r}), jobs_dir={str(tmp_path / "jobs")!r})
h = sub.submit_job(command="sleep 1; echo survived > {marker}")
print(h.job_id)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    job_id = out.stdout.strip()
    assert not marker.exists()  # the submitter is gone; the job is still sleeping
    store = JobStore(db)
    sub = mq.Submitor(mq.Cluster("laptop", "local"), store=store)
    record = sub.watch_jobs([job_id], timeout=30)[0]
    assert record.state is mq.JobState.SUCCEEDED
    assert marker.read_text() == "survived\n"
    store.close()


def _group_alive(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pgid=,stat=,comm="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[0] == str(pgid) and not line.split()[1].startswith("Z")]


def test_cancel_kills_the_whole_process_group(submitor: mq.Submitor, tmp_path: Path) -> None:
    handle = submitor.submit_job(command="sleep 60 & sleep 60 & wait")
    leader = wrapper_pid(submitor.get_job(handle.job_id).job_dir or "")
    deadline = time.time() + 10
    while len(_group_alive(leader)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(_group_alive(leader)) >= 3
    handle.cancel()
    assert handle.status() is mq.JobState.CANCELLED
    deadline = time.time() + 5
    while _group_alive(leader) and time.time() < deadline:
        time.sleep(0.05)
    assert _group_alive(leader) == []
    record = submitor.get_job(handle.job_id)
    assert record.state is mq.JobState.CANCELLED
    # a later refresh keeps it cancelled (the wrapper's 143 does not turn it into a failure)
    submitor.refresh_jobs()
    assert submitor.get_job(handle.job_id).state is mq.JobState.CANCELLED


def test_cancel_never_overwrites_a_finished_job(submitor: mq.Submitor) -> None:
    handle = submitor.submit_job(argv=["true"])
    exit_file = Path(submitor.get_job(handle.job_id).job_dir) / ".exit_code"
    deadline = time.time() + 10
    while not exit_file.exists() and time.time() < deadline:
        time.sleep(0.01)
    # the store has not seen the end yet; cancel must find out, not overwrite it
    assert submitor.get_job(handle.job_id).state is mq.JobState.SUBMITTED
    submitor.cancel_job(handle.job_id)
    record = submitor.get_job(handle.job_id)
    assert record.state is mq.JobState.SUCCEEDED
    submitor.cancel_job(handle.job_id)  # already terminal: still nothing changes
    assert submitor.get_job(handle.job_id).state is mq.JobState.SUCCEEDED


def test_reused_pid_is_not_mistaken_for_the_job(tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    # our own pid is alive, but its start time is not the one recorded
    (job_dir / ".pid").write_text(f"{os.getpid()} 1\n")
    snapshot = ShellScheduler().poll([("j1", str(os.getpid()), str(job_dir), 0.0)])
    assert snapshot.states() == {str(os.getpid()): mq.JobState.LOST}


def test_killed_job_without_exit_code_is_lost_not_running(submitor: mq.Submitor) -> None:
    handle = submitor.submit_job(command="sleep 60")
    time.sleep(0.2)
    os.killpg(wrapper_pid(submitor.get_job(handle.job_id).job_dir or ""), 9)
    record = handle.wait(timeout=30)
    assert record.state is mq.JobState.LOST
    assert "exit code" in (record.failure_reason or "")


def test_many_jobs_watch_all(submitor: mq.Submitor) -> None:
    handles = [submitor.submit_job(command=f"exit {i % 2}") for i in range(20)]
    records = submitor.watch_jobs(timeout=60)
    assert len(records) == 20
    by_id = {r.job_id: r for r in records}
    for i, h in enumerate(handles):
        assert by_id[h.job_id].exit_code == i % 2
    assert submitor.list_jobs() == []
    assert len(submitor.list_jobs(include_terminal=True)) == 20


def test_logs_relative_to_cwd(submitor: mq.Submitor, tmp_path: Path) -> None:
    submitor.submit_job(
        command="echo out; echo err >&2",
        execution=mq.JobExecution(cwd=tmp_path, output_file="o.txt", error_file="logs-e.txt"),
    ).wait(timeout=30)
    assert (tmp_path / "o.txt").read_text() == "out\n"
    assert (tmp_path / "logs-e.txt").read_text() == "err\n"


def test_wait_timeout_does_not_overshoot(submitor: mq.Submitor) -> None:
    handle = submitor.submit_job(command="sleep 30")
    start = time.monotonic()
    with pytest.raises(mq.MolqTimeoutError):
        handle.wait(timeout=0.5)
    assert time.monotonic() - start < 0.5 + 0.5
    handle.cancel()
