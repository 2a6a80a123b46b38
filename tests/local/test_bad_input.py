"""Bad requests get a clear molq error naming the problem, and leave no trace."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import molq as mq
from molq.store import JobStore


def assert_store_empty(submitor: mq.Submitor) -> None:
    assert submitor.list_jobs(include_terminal=True) == []


def test_missing_script_file(submitor: mq.Submitor, tmp_path: Path) -> None:
    with pytest.raises(mq.ScriptError, match="not found.*nope.sh"):
        submitor.submit_job(script=mq.Script.path(tmp_path / "nope.sh"))
    assert_store_empty(submitor)


def test_missing_cwd(submitor: mq.Submitor, tmp_path: Path) -> None:
    with pytest.raises(mq.ConfigError, match="working directory does not exist.*no-such-dir"):
        submitor.submit_job(argv=["true"], execution=mq.JobExecution(cwd=tmp_path / "no-such-dir"))
    assert_store_empty(submitor)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"argv": ["true"], "command": "true"}, "argv and command"),
        ({}, "none was given"),
        ({"argv": "echo hi"}, "not a single string"),
        ({"argv": []}, "argv is empty"),
        ({"command": "echo a\necho b"}, "single line"),
    ],
)
def test_wrong_command_combinations(submitor: mq.Submitor, kwargs: dict, message: str) -> None:
    with pytest.raises(mq.CommandError, match=message):
        submitor.submit_job(**kwargs)
    assert_store_empty(submitor)


def test_unknown_scheduler_kind() -> None:
    with pytest.raises(mq.ConfigError, match="Unknown scheduler kind 'slurmm'"):
        mq.Cluster("x", "slurmm")


def test_host_and_transport_are_exclusive() -> None:
    from molq.transport import LocalTransport

    with pytest.raises(mq.ConfigError, match="not both"):
        mq.Cluster("x", "local", host="me@there", transport=LocalTransport())


def test_unsupported_fields_are_listed_together(submitor: mq.Submitor) -> None:
    # the local scheduler honours CPUs and memory; partitions, accounts and GPU types it cannot
    with pytest.raises(mq.ConfigError, match="resources.gpu_type, scheduling.partition, scheduling.account") as info:
        submitor.submit_job(
            argv=["true"],
            resources=mq.JobResources(cpu_count=2, memory=mq.Memory.gb(1), gpu_type="a100"),
            scheduling=mq.JobScheduling(partition="gpu", account="lab"),
        )
    assert info.value.context["unsupported_fields"] == ["gpu_type", "partition", "account"]
    assert_store_empty(submitor)


def test_bad_env_key_is_refused_when_the_request_is_built() -> None:
    with pytest.raises(ValueError, match="'BAD-KEY' is not a valid environment variable name"):
        mq.JobExecution(env={"BAD-KEY": "1"})


def test_reserved_metadata_and_bad_dir_name(submitor: mq.Submitor) -> None:
    with pytest.raises(mq.ConfigError, match="reserved"):
        submitor.submit_job(argv=["true"], metadata={"molq.job_dir": "x"})
    with pytest.raises(mq.ConfigError, match="plain directory name"):
        submitor.submit_job(argv=["true"], job_dir_name="../escape")
    assert_store_empty(submitor)


def test_reused_job_dir_name_is_refused(submitor: mq.Submitor) -> None:
    submitor.submit_job(argv=["true"], job_dir_name="run-1").wait(timeout=30)
    with pytest.raises(mq.ConfigError, match="already exists"):
        submitor.submit_job(argv=["true"], job_dir_name="run-1")
    assert len(submitor.list_jobs(include_terminal=True)) == 1


def test_corrupt_store_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(mq.StoreError, match=str(path)):
        JobStore(path)
    assert path.read_bytes().startswith(b"this is not a database")  # untouched


def test_newer_store_version(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    JobStore(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    with pytest.raises(mq.StoreError, match="999.*newer"):
        JobStore(path)


def test_unknown_job_id(submitor: mq.Submitor) -> None:
    with pytest.raises(mq.JobNotFoundError, match="nope"):
        submitor.get_job("nope")
    with pytest.raises(mq.JobNotFoundError):
        submitor.cancel_job("nope")


def test_submission_failure_is_recorded_as_failed(tmp_path: Path, store: JobStore) -> None:
    class Broken:
        kind = "local"

        def __getattr__(self, name):  # everything else as the real backend
            from molq.scheduler.shell import ShellScheduler

            return getattr(ShellScheduler(), name)

        def submit(self, spec, job_dir):
            raise mq.SchedulerError("queue is full", stderr="sbatch: error: queue full")

    sub = mq.Submitor(mq.Cluster("c", "local", _scheduler_impl=Broken()), store=store, jobs_dir=tmp_path / "j")
    with pytest.raises(mq.SchedulerError, match="queue is full"):
        sub.submit_job(argv=["true"])
    (record,) = sub.list_jobs(include_terminal=True)
    assert record.state is mq.JobState.FAILED
    assert "queue is full" in record.failure_reason
    assert [t.new_state.value for t in sub.get_transitions(record.job_id)] == ["created", "failed"]
