"""The original molq's JobStore methods, on molq's native store (real SQLite files)."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from molq.errors import JobNotFoundError, StoreError
from molq.models import Command, JobDependency, JobSpec, RememberedAllocation, RetentionPolicy
from molq.retention import apply_retention
from molq.status import JobState
from molq.store import JobStore
from molq.store.records import coerce_job_state, row_to_record
from molq.types import JobScheduling


def _spec(job_id: str, cluster: str = "dev", **kw) -> JobSpec:
    return JobSpec(
        job_id=job_id,
        cluster_name=cluster,
        scheduler="local",
        command=Command.from_submit_args(argv=["echo", "hi"]),
        **kw,
    )


@pytest.fixture
def store(tmp_path: Path):
    with JobStore(tmp_path / "jobs.db") as s:
        yield s


def test_insert_update_and_transitions(store: JobStore) -> None:
    store.insert_job(_spec("a", metadata={"molq.job_dir": "/jobs/a"}))
    record = store.get_record("a")
    assert (record.state, record.command_display, record.job_dir) == (JobState.CREATED, "echo hi", "/jobs/a")
    assert (record.root_job_id, record.retry_group_id) == ("a", "a")
    store.update_job("a", state=JobState.SUBMITTED, scheduler_job_id="42", submitted_at=5.0)
    store.record_transition("a", JobState.CREATED, JobState.SUBMITTED, 6.0, reason="by hand")
    record = store.get_record("a")
    assert (record.state, record.scheduler_job_id, record.submitted_at) == (JobState.SUBMITTED, "42", 5.0)
    assert [t.new_state for t in store.get_transitions("a")] == [JobState.CREATED, JobState.SUBMITTED]
    assert store.get_active_records("dev") == [record]


def test_duplicate_insert_is_a_store_error_and_an_integrity_error(store: JobStore) -> None:
    store.insert_job(_spec("a"))
    with pytest.raises(StoreError) as info:
        store.insert_job(_spec("a"))
    assert isinstance(info.value, sqlite3.IntegrityError)
    assert "already exists" in str(info.value)


def test_update_refuses_unknown_jobs_and_wrong_values(store: JobStore) -> None:
    with pytest.raises(JobNotFoundError):
        store.update_job("nope", state=JobState.RUNNING)
    store.insert_job(_spec("a"))
    with pytest.raises(TypeError, match="exit_code"):
        store.update_job("a", exit_code="zero")  # type: ignore[arg-type]


def test_compare_and_update_state_only_from_the_expected_state(store: JobStore) -> None:
    store.insert_job(_spec("a"))
    assert store.compare_and_update_state("a", JobState.CREATED, JobState.RUNNING, started_at=3.0)
    assert not store.compare_and_update_state("a", JobState.CREATED, JobState.FAILED)
    record = store.get_record("a")
    assert (record.state, record.started_at) == (JobState.RUNNING, 3.0)


def test_dependencies_and_previews(store: JobStore) -> None:
    store.insert_job(_spec("up"))
    store.insert_job(_spec("down"))
    store.update_job("up", state=JobState.FAILED, finished_at=2.0)
    store.add_dependencies("down", [JobDependency("down", "up", "after_success", "afterok:1")])
    assert store.get_dependencies("down") == [JobDependency("down", "up", "after_success", "afterok:1")]
    previews = store.get_dependency_previews(["up", "down", "unknown"])
    assert set(previews) == {"up", "down"}
    assert previews["down"].upstream_total == 1 and previews["down"].upstream_satisfied == 0
    assert previews["down"].upstream[0].relation_state == "impossible"
    assert previews["up"].downstream[0].job_id == "down"


def test_allocations_survive_reopening_and_retention(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    with JobStore(path) as store:
        store.record_allocation("hpc", JobScheduling(partition="gpu", qos="high"), now=10.0)
        store.record_allocation("hpc", JobScheduling(partition="gpu", qos="high"), now=20.0)
        store.record_allocation("hpc", JobScheduling(), now=30.0)
        store.insert_job(_spec("old", "hpc"))
        store.update_job("old", state=JobState.SUCCEEDED, finished_at=1.0)
        result = apply_retention(store, "hpc", RetentionPolicy(), now=1e9)
        assert result["records"] == ["old"]
    with JobStore(path) as store:
        assert store.list_allocations("hpc") == [RememberedAllocation("gpu", None, "high", None, None, 20.0, 2)]


def test_mark_polled_and_cleanup_candidates(store: JobStore) -> None:
    store.insert_job(_spec("done"))
    store.update_job("done", state=JobState.SUCCEEDED, finished_at=100.0)
    store.mark_polled(["done", "done"], 5.0)
    dirs, records = store.list_cleanup_candidates(
        "dev", job_dir_cutoff=1e3, record_cutoff=50.0, include_failed_job_dirs=False
    )
    assert [r.job_id for r in dirs] == ["done"] and records == []


def test_row_to_record_reads_an_original_row() -> None:
    row = {
        "job_id": "j",
        "cluster_name": "c",
        "scheduler": "slurm",
        "state": "weird",
        "metadata": '{"a": "b"}',
        "root_job_id": "",
        "attempt": None,
    }
    record = row_to_record(row)
    assert (record.state, record.metadata, record.root_job_id, record.attempt) == (JobState.LOST, {"a": "b"}, "j", 1)
    assert dataclasses.replace(record, state=JobState.RUNNING).state is JobState.RUNNING
    assert coerce_job_state(None) is JobState.LOST


def test_original_store_with_a_newer_or_garbled_version_is_refused_untouched(tmp_path: Path) -> None:
    for version, phrase in (("99", "newer than supported"), ("abc", "Unknown schema version")):
        path = tmp_path / f"v{version}.db"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE molq_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO molq_meta VALUES ('schema_version', ?)", (version,))
        conn.commit()
        conn.close()
        before = path.read_bytes()
        with pytest.raises(StoreError, match=phrase):
            JobStore(path)
        assert path.read_bytes() == before


def test_first_layout_of_the_original_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, section TEXT, job_id INTEGER, status TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with JobStore(path) as store:
        store.insert_job(_spec("a"))
    assert (tmp_path / "jobs.db.v1.bak").read_bytes() == before
    # A second first-layout file never overwrites the backup.
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, section TEXT, job_id INTEGER, status TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="already exists"):
        JobStore(path)
