"""Any byte in any user-given field either runs exactly as given or is refused
up front, naming the field, before anything is written; one job's input never
affects another job. Real jobs on this machine."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import molq as mq
from molq.errors import MolqError
from molq.options import LocalSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

# Bytes that have broken line- or tab-framed status checks, shell quoting or
# directive lines somewhere.
HOSTILE_NAMES = [
    "new\nline",
    "#end 3",
    "tab\tinside\t",
    "pipe|and|bars",
    " spaces ",
    "cr\rreturn",
    'quote\'s "both" $(id) `id`',
    "\\backslash\\n",
    "unicode ✓ 日本",
]


def _submitor(tmp_path: Path, store: JobStore, jobs_dir: Path) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster("laptop", "local"), store=store, jobs_dir=jobs_dir, polling_strategy=FixedStrategy(interval=0.05)
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_job_dir_name_runs_and_freezes_no_other_job(submitor: mq.Submitor, name: str) -> None:
    before = submitor.submit_job(command="sleep 0.3; echo first")
    odd = submitor.submit_job(argv=["echo", "odd"], job_dir_name=name)
    after = submitor.submit_job(command="echo last")
    records = {r.job_id: r for r in submitor.watch_jobs(timeout=30)}
    assert {r.state for r in records.values()} == {mq.JobState.SUCCEEDED}
    odd_record = records[odd.job_id]
    assert Path(odd_record.job_dir).name == name
    assert Path(odd_record.metadata["molq.stdout_path"]).read_text() == "odd\n"
    assert before.job_id in records and after.job_id in records


@pytest.mark.parametrize("name", ["new\nline", "tab\tend\t", "#end 1"])
def test_a_hostile_cwd_runs_as_given(submitor: mq.Submitor, tmp_path: Path, name: str) -> None:
    cwd = tmp_path / name
    cwd.mkdir()
    other = submitor.submit_job(argv=["true"])
    record = submitor.submit_job(argv=["pwd"], execution=mq.JobExecution(cwd=str(cwd))).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    assert Path(record.metadata["molq.stdout_path"]).read_text() == f"{cwd}\n"
    assert other.wait(timeout=30).state is mq.JobState.SUCCEEDED


def test_a_hostile_jobs_dir_does_not_freeze_the_cluster(tmp_path: Path, store: JobStore) -> None:
    plain = _submitor(tmp_path, store, tmp_path / "jobs")
    odd = _submitor(tmp_path, store, tmp_path / "jobs\n#end 1\n")
    handles = [plain.submit_job(argv=["true"]), odd.submit_job(argv=["true"]), plain.submit_job(argv=["true"])]
    records = plain.watch_jobs([h.job_id for h in handles], timeout=30)
    assert [r.state for r in records] == [mq.JobState.SUCCEEDED] * 3
    assert "\n#end 1\n" in records[1].job_dir
    odd.close()
    plain.close()


def _no_trace(sub: mq.Submitor, jobs_dir: Path) -> None:
    assert sub.list_jobs(include_terminal=True) == []
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


NUL_CASES = [
    ("env", dict(argv=["true"], execution=mq.JobExecution(env={"A": "x\x00y"}))),
    ("command", dict(command="echo a\x00b")),
    ("script", dict(script=mq.Script.inline("echo a\x00b\n"))),
    ("output_file", dict(argv=["true"], execution=mq.JobExecution(output_file="out\x00.log"))),
    ("error_file", dict(argv=["true"], execution=mq.JobExecution(error_file="err\x00.log"))),
    ("cwd", dict(argv=["true"], execution=mq.JobExecution(cwd="/tmp/a\x00b"))),
    ("job_name", dict(argv=["true"], execution=mq.JobExecution(job_name="a\x00b"))),
    ("job_dir_name", dict(argv=["true"], job_dir_name="a\x00b")),
    ("metadata", dict(argv=["true"], metadata={"k": "a\x00b"})),
]


@pytest.mark.parametrize("field, kwargs", NUL_CASES, ids=[c[0] for c in NUL_CASES])
def test_a_nul_byte_is_refused_naming_the_field_before_anything_is_written(
    submitor: mq.Submitor, tmp_path: Path, field: str, kwargs: dict
) -> None:
    with pytest.raises(MolqError, match=field) as info:
        submitor.submit_job(**kwargs)
    assert "NUL" in str(info.value) or field == "job_dir_name"  # that one has a rule of its own
    _no_trace(submitor, tmp_path / "jobs")


def test_a_nul_byte_in_jobs_dir_is_refused_naming_it(tmp_path: Path, store: JobStore) -> None:
    sub = _submitor(tmp_path, store, tmp_path / "jobs\x00x")  # type: ignore[operator]
    with pytest.raises(MolqError, match="jobs_dir"):
        sub.submit_job(argv=["true"])
    assert sub.list_jobs(include_terminal=True) == []
    sub.close()


def test_an_output_file_in_a_missing_folder_is_refused_naming_it(submitor: mq.Submitor, tmp_path: Path) -> None:
    for field in ("output_file", "error_file"):
        execution = mq.JobExecution(**{field: str(tmp_path / "no-such-folder" / "log.txt")})
        with pytest.raises(MolqError, match=f"{field}.*no-such-folder"):
            submitor.submit_job(argv=["true"], execution=execution)
    _no_trace(submitor, tmp_path / "jobs")


def test_an_output_file_that_cannot_be_opened_when_the_job_starts_says_why(store: JobStore, tmp_path: Path) -> None:
    """The folder went away while the job waited for a CPU: the job did not
    run, and its record says which file could not be opened."""
    options = LocalSchedulerOptions(cpus=1, gpus=0, slots_dir=str(tmp_path / "slots"))
    sub = mq.Submitor(mq.Cluster("one", "local", scheduler_options=options), store=store, jobs_dir=tmp_path / "jobs")
    folder = tmp_path / "gone"
    folder.mkdir()
    blocker = sub.submit_job(argv=["sleep", "0.5"])
    waiting = sub.submit_job(
        argv=["touch", str(tmp_path / "ran")], execution=mq.JobExecution(output_file=str(folder / "out"))
    )
    folder.rmdir()
    blocker.wait(timeout=30)
    record = waiting.wait(timeout=30)
    assert record.state is mq.JobState.FAILED
    assert "did not run" in (record.failure_reason or "") and "output_file" in (record.failure_reason or "")
    assert not (tmp_path / "ran").exists()
    sub.close()


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV, signal.SIGTERM])
def test_a_job_killed_by_a_signal_records_the_signal(submitor: mq.Submitor, tmp_path: Path, signum: int) -> None:
    pid_file = tmp_path / "pid"
    handle = submitor.submit_job(
        argv=["bash", "-c", 'echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 60', "job", str(pid_file)]
    )
    deadline = time.time() + 10
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.02)
    os.kill(int(pid_file.read_text()), signum)
    record = handle.wait(timeout=30)
    assert record.state is mq.JobState.FAILED
    assert (record.exit_code, record.exit_signal) == (128 + signum, signum)
    assert signal.Signals(signum).name in (record.failure_reason or "")


def test_instant_jobs_have_ordered_times_and_history(submitor: mq.Submitor) -> None:
    handles = [submitor.submit_job(argv=["true"]) for _ in range(40)]
    for record in submitor.watch_jobs([h.job_id for h in handles], timeout=60):
        assert record.state is mq.JobState.SUCCEEDED
        assert record.submitted_at <= record.started_at <= record.finished_at
        history = submitor.get_transitions(record.job_id)
        assert [t.new_state.value for t in history] == ["created", "submitted", "running", "succeeded"]
        times = [t.timestamp for t in history]
        assert times == sorted(times), history


DIRECTIVE_CASES = [
    ("execution.job_name", dict(execution=mq.JobExecution(job_name="a\nb"))),
    ("execution.output_file", dict(execution=mq.JobExecution(output_file='/tmp/say "hi".log'))),
    ("scheduling.partition", dict(scheduling=mq.JobScheduling(partition="debug\n#SBATCH --x"))),
    ("job_dir_name", dict(job_dir_name="a\rb")),
]


@pytest.mark.parametrize("scheduler", ["slurm", "pbs", "lsf", "sge"])
@pytest.mark.parametrize("field, kwargs", DIRECTIVE_CASES, ids=[c[0] for c in DIRECTIVE_CASES])
def test_batch_directive_fields_refuse_what_a_directive_line_cannot_carry(
    tmp_path: Path, store: JobStore, scheduler: str, field: str, kwargs: dict
) -> None:
    sub = mq.Submitor(mq.Cluster("hpc", scheduler), store=store, jobs_dir=tmp_path / "jobs")
    with pytest.raises(mq.ConfigError, match=field.replace(".", r"\.")):
        sub.submit_job(argv=["true"], **kwargs)
    _no_trace(sub, tmp_path / "jobs")
    sub.close()
