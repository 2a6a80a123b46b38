"""JobRecord, StatusTransition and QueueEntry work with the dataclasses functions, as in the original."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

import molq
from molq import JobRecord, JobState, QueueEntry, StatusTransition
from molq.store import JobStore


def _record() -> JobRecord:
    return JobRecord(job_id="j1", cluster_name="dev", scheduler="local", state=JobState.RUNNING, metadata={"k": "v"})


def test_replace_asdict_fields_on_a_stored_record(tmp_path) -> None:
    with JobStore(tmp_path / "jobs.db") as store:
        store.register_job(
            {"job_id": "j1", "cluster_name": "dev", "scheduler": "local", "metadata": {"k": "v"}}, [], 1.0
        )
        record = store.get_record("j1")
    assert dataclasses.is_dataclass(record)
    names = [f.name for f in dataclasses.fields(record)]
    assert names[:4] == ["job_id", "cluster_name", "scheduler", "state"]
    changed = dataclasses.replace(record, state=JobState.SUCCEEDED, exit_code=0)
    assert type(changed) is JobRecord
    assert (changed.state, changed.exit_code, changed.metadata) == (JobState.SUCCEEDED, 0, {"k": "v"})
    assert record.state is JobState.CREATED
    as_dict = dataclasses.asdict(changed)
    assert as_dict["job_id"] == "j1" and as_dict["metadata"] == {"k": "v"}
    assert set(as_dict) == set(names)


def test_assignment_raises_frozen_instance_error() -> None:
    record = _record()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.state = JobState.FAILED  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del record.job_id  # type: ignore[misc]


def test_transition_and_queue_entry() -> None:
    t = StatusTransition("j1", None, JobState.CREATED, 1.5)
    assert dataclasses.astuple(t) == ("j1", None, JobState.CREATED, 1.5, None)
    assert dataclasses.replace(t, reason="why").reason == "why"
    entry = QueueEntry("123", name="train")
    assert dataclasses.replace(entry, name="eval").name == "eval"
    assert dataclasses.fields(entry)[0].name == "scheduler_job_id"


def test_match_statement_positional_fields() -> None:
    match _record():
        case JobRecord(job_id, cluster_name, scheduler, state):
            assert (job_id, cluster_name, scheduler, state) == ("j1", "dev", "local", JobState.RUNNING)
        case _:
            raise AssertionError("no match")


def test_import_molq_still_does_not_load_dataclasses() -> None:
    code = "import sys, molq; print('dataclasses' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert molq.JobRecord is JobRecord


@pytest.mark.parametrize(
    "value",
    [
        JobRecord(
            job_id="j1", cluster_name="dev", scheduler="local", state=JobState.FAILED, exit_code=3, metadata={"k": "v"}
        ),
        StatusTransition("j1", JobState.RUNNING, JobState.FAILED, 2.0, "exit 3"),
        QueueEntry("123", name="train"),
    ],
)
def test_copy_deepcopy_and_pickle_keep_every_field(value) -> None:
    import copy
    import pickle

    for clone in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert type(clone) is type(value)
        assert dataclasses.astuple(clone) == dataclasses.astuple(value)
        assert clone == value


def test_queue_entries_are_equal_by_fields() -> None:
    assert QueueEntry("1", name="a") == QueueEntry("1", name="a")
    assert QueueEntry("1", name="a") != QueueEntry("1", name="b")
    assert len({QueueEntry("1"), QueueEntry("1")}) == 1


def test_a_records_fields_are_one_list_the_constructor_the_dataclass_face_and_the_store_share(tmp_path) -> None:
    import inspect
    import sqlite3

    from molq.store.records import row_to_record

    assert tuple(inspect.signature(JobRecord).parameters) == JobRecord.FIELDS
    assert tuple(f.name for f in dataclasses.fields(JobRecord)) == JobRecord.FIELDS
    # every field is a column of the store, and a row read with sqlite3 gives the native record
    store = JobStore(tmp_path / "jobs.db")
    store.register_job(
        {
            "job_id": "j1",
            "cluster_name": "dev",
            "scheduler": "local",
            "root_job_id": "j1",
            "command_type": "argv",
            "command_display": "echo hi",
            "cwd": "/tmp",
            "job_dir": "/tmp/j1",
            "metadata": {"k": "v"},
            "request_json": "{}",
        },
        [],
        1.0,
    )
    store.mark_submitted("j1", "42", 2.0)
    con = sqlite3.connect(tmp_path / "jobs.db")
    con.row_factory = sqlite3.Row
    row = con.execute(f"SELECT {', '.join(JobRecord.FIELDS)} FROM jobs").fetchone()
    assert row_to_record(row) == store.get_record("j1")
