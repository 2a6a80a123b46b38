"""The Slurm parsers through molq._core, on the recorded outputs of a real Slurm 22.05."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq import _core
from molq.errors import ParseError
from molq.status import JobState

FIXTURES = Path(__file__).resolve().parents[2] / "crates" / "molq-core" / "tests" / "fixtures" / "slurm"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.stdout").read_bytes()


def cases(prefix: str) -> list[str]:
    return sorted(p.name[: -len(".stdout")] for p in FIXTURES.glob(f"{prefix}_*.stdout"))


def test_format_strings_are_the_parsers() -> None:
    assert _core.SQUEUE_FORMAT == "%i|%T|%u|%P|%V|%S|%r|%j"
    assert _core.SACCT_FIELDS == "JobID,JobIDRaw,State,ExitCode,Start,End,Reason"


@pytest.mark.parametrize("case", cases("squeue"))
def test_every_squeue_fixture_parses_cleanly(case: str) -> None:
    snap = _core.parse_queue("slurm", fixture(case))
    assert snap.skipped == []
    lines = fixture(case).decode().splitlines()
    assert len(snap) >= len(lines)
    for entry in snap.entries():
        if entry.state is JobState.QUEUED:
            assert entry.start_time is None, entry


@pytest.mark.parametrize("case", cases("sacct"))
def test_every_sacct_fixture_parses_cleanly(case: str) -> None:
    snap = _core.parse_accounting("slurm", fixture(case))
    assert snap.skipped == []
    assert all("." not in sid for sid in snap.states())


@pytest.mark.parametrize("case", cases("sbatch"))
def test_every_sbatch_fixture(case: str) -> None:
    rc = int((FIXTURES / f"{case}.rc").read_text())
    if rc == 0:
        assert _core.parse_submit_id("slurm", fixture(case)).isdigit()
    else:
        with pytest.raises(ParseError):
            _core.parse_submit_id("slurm", fixture(case))


def test_sbatch_ids() -> None:
    assert _core.parse_submit_id("slurm", b"70\n") == "70"
    assert _core.parse_submit_id("slurm", b"70;molq\n") == "70"
    with pytest.raises(ParseError, match="Submitted batch job 70"):
        _core.parse_submit_id("slurm", b"Submitted batch job 70\n")


def test_squeue_entries() -> None:
    snap = _core.parse_queue("slurm", fixture("squeue_me"))
    entries = {e.scheduler_job_id: e for e in snap.entries()}
    assert entries["27"].name == "pipe|in|name"
    assert entries["26"].name == "name with  spaces ünïcødé ✓"
    running = entries["19"]
    assert (running.state, running.raw_state, running.user, running.partition) == (
        JobState.RUNNING,
        "RUNNING",
        "root",
        "debug",
    )
    assert running.submit_time == 1795558926.0 and running.start_time == 1795558928.0
    # the array as a whole, its started task, and its collapsed pending tasks as printed
    assert entries["20"].state is JobState.RUNNING
    assert entries["20_1"].state is JobState.RUNNING
    assert entries["20_[2-5]"].state is JobState.QUEUED
    assert entries["28"].state is JobState.QUEUED  # 28_[1-10%2]


def test_sacct_outcomes() -> None:
    snap = _core.parse_accounting("slurm", fixture("sacct_terminal"))
    assert snap.states() == {
        "19": JobState.CANCELLED,
        "23": JobState.CANCELLED,
        "29": JobState.CANCELLED,
        "30": JobState.TIMED_OUT,
        "31": JobState.SUCCEEDED,
        "32": JobState.FAILED,
        "33": JobState.FAILED,
    }
    assert snap.needs_accounting(["31", "32", "99"]) == ["99"]
    iso = _core.parse_accounting("slurm", fixture("sacct_terminal_iso"))
    assert iso.states() == snap.states()


def test_skipped_lines_are_reported() -> None:
    data = (
        b"1|RUNNING|u|p|1795558926|1795558928|None|ok\n"
        b"2|RUNNING|u|p\n"
        b"3|SNOOZING|u|p|1|2|None|odd\n"
        b"4|PD|u|p|soon|N/A|None|bad-time\n"
    )
    snap = _core.parse_queue("slurm", data)
    assert list(snap.states()) == ["1"]
    lines = [line for line, _ in snap.skipped]
    assert lines == ["2|RUNNING|u|p", "3|SNOOZING|u|p|1|2|None|odd", "4|PD|u|p|soon|N/A|None|bad-time"]
    reasons = [reason for _, reason in snap.skipped]
    assert "fields" in reasons[0] and "SNOOZING" in reasons[1] and "soon" in reasons[2]
    assert _core.parse_accounting("slurm", b"\xff\xfe|x\n").skipped


def test_needs_accounting_asks_for_missing_and_for_finished_without_exit_code() -> None:
    queue = _core.parse_queue("slurm", b"1|RUNNING|u|p|1|2|None|a\n2|CD|u|p|1|2|None|b\n")
    assert queue.needs_accounting(["1", "2", "3"]) == ["2", "3"]
    assert queue.missing(["1", "2", "3"]) == ["3"]


def test_array_in_the_store(tmp_path: Path) -> None:
    store = _core.JobStore(str(tmp_path / "jobs.db"))
    assert store.schema_version() == _core.SCHEMA_VERSION >= 2
    store.register_job({"job_id": "arr", "cluster_name": "c", "scheduler": "slurm", "job_dir": "/jobs/arr"}, [], 100.0)
    store.mark_submitted("arr", "34", 101.0)
    assert store.active_jobs("c") == [("arr", "34", "/jobs/arr", 101.0)]
    queue = _core.parse_queue("slurm", b"")
    acct = _core.parse_accounting("slurm", fixture("sacct_array_steps"))
    assert queue.needs_accounting(["34"]) == ["34"]
    out = store.reconcile("c", queue, acct, 1795559000.0)
    assert [t.new_state for t in out.transitions] == [JobState.RUNNING, JobState.FAILED]
    record = store.get_job("arr")
    assert record is not None
    assert (record.state, record.exit_code, record.exit_signal) == (JobState.FAILED, 5, 0)
    assert record.failure_reason == "2 of 4 array tasks failed (first: task 1, exit 5)"
    tasks = store.get_array_tasks("arr")
    assert [(t[0], t[1], t[2], t[3]) for t in tasks] == [
        ("1", JobState.FAILED, 5, 0),
        ("2", JobState.SUCCEEDED, 0, 0),
        ("3", JobState.FAILED, 5, 0),
        ("4", JobState.SUCCEEDED, 0, 0),
    ]
    assert all(t[4] == t[5] == 1795558967.0 for t in tasks)
    assert store.active_jobs("c") == []
    assert store.delete_records(["arr"]) == 1
    assert store.get_array_tasks("arr") == []
    store.close()
