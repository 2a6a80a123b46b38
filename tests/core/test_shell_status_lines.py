"""The local backend's status lines through molq._core: waiting jobs, limit
kills and dependency cancels, as a local scheduler prints them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from molq import _core
from molq.errors import ParseError
from molq.status import JobState

CLUSTER = "box"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[_core.JobStore]:
    s = _core.JobStore(str(tmp_path / "jobs.db"))
    yield s
    s.close()


def ended_as(store: _core.JobStore, line: bytes) -> _core.JobRecord:
    """The record of a submitted job after one poll that printed ``line`` (id 7)."""
    store.register_job(_core.NewJob(job_id="j", cluster_name=CLUSTER, scheduler="local", job_dir="/jobs/j"), [], 1.0)
    assert store.mark_submitted("j", "7", 1.0) is not None
    snap = _core.parse_queue("shell", line)
    assert snap.skipped == []
    store.reconcile(CLUSTER, snap, None, 500.0)
    record = store.get_job("j")
    assert record is not None
    return record


def test_a_waiting_job_is_queued_and_has_not_started() -> None:
    snap = _core.parse_queue(
        "shell",
        b"17|queued||||waiting for 4 CPUs; 2 free\n"
        b"18|queued|||||\n"
        b"19|queued||100||waiting for job 17 to succeed | or to fail\n",
    )
    assert snap.skipped == []
    assert snap.states() == {"17": JobState.QUEUED, "18": JobState.QUEUED, "19": JobState.QUEUED}
    assert [e.start_time for e in snap.entries()] == [None, None, None]
    assert [e.raw_state for e in snap.entries()] == ["queued"] * 3


def test_a_time_limit_kill_is_timed_out_with_its_exit_code(store: _core.JobStore) -> None:
    record = ended_as(store, b"7|exited|143|100|5500|time:5400\n")
    assert record.state is JobState.TIMED_OUT
    assert (record.exit_code, record.exit_signal) == (143, 15)
    assert record.failure_reason == "the job exceeded its time limit of 1:30:00 and was stopped"
    assert (record.started_at, record.finished_at) == (100.0, 5500.0)


def test_a_memory_limit_kill_is_out_of_memory(store: _core.JobStore) -> None:
    record = ended_as(store, b"7|exited|137|100|200|memory:1048576:1258291\n")
    assert record.state is JobState.OUT_OF_MEMORY
    assert record.state.is_terminal
    assert (record.exit_code, record.exit_signal) == (137, 9)
    assert record.failure_reason == "the job used 1.2 GiB of memory, over its limit of 1.0 GiB, and was killed"
    assert store.active_jobs(CLUSTER) == [], "out of memory is an end"


def test_a_job_whose_dependency_failed_is_cancelled_with_the_reason(store: _core.JobStore) -> None:
    record = ended_as(store, b"7|cancelled||||dependency:dependency 17 ended FAILED: it can never start\n")
    assert record.state is JobState.CANCELLED
    assert record.failure_reason == "dependency 17 ended FAILED: it can never start"
    assert record.started_at is None


def test_a_plain_cancel_keeps_the_default_reason(store: _core.JobStore) -> None:
    record = ended_as(store, b"7|cancelled|143|100|200\n")
    assert record.state is JobState.CANCELLED
    assert record.failure_reason == "job was cancelled"


@pytest.mark.parametrize(
    "line",
    [
        "7|running||1||time:30",
        "7|exited|1|1|2|dependency:17 failed",
        "7|cancelled||||waiting for 2 CPUs",
        "7|exited|137|1|2|memory:1024",
        "7|exited|137|1|2|memory:lots:2048",
        "7|exited|143|1|2|time:ninety",
        "7|exited|1|1|2|disk",
        "7|sleeping||||",
        "7|queued",
    ],
)
def test_a_line_it_cannot_read_is_skipped_and_the_rest_still_count(line: str) -> None:
    snap = _core.parse_queue("shell", f"{line}\n8|running||1|\n".encode())
    assert snap.states() == {"8": JobState.RUNNING}
    assert [bad for bad, _ in snap.skipped] == [line]
    assert all(reason for _, reason in snap.skipped)


def test_the_submit_answer_is_a_positive_integer() -> None:
    assert _core.parse_submit_id("shell", b"17\n") == "17"
    for bad in (b"0\n", b"job 17\n", b""):
        with pytest.raises(ParseError):
            _core.parse_submit_id("shell", bad)
