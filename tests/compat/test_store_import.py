"""Stores written by the original molq's own releases come into molq whole.

The fixtures are real stores: scripts/make-original-stores.sh installs each
release of molcrafts-molq from PyPI, runs a few local jobs through its public
API (succeeded, failed, cancelled, a retry, metadata, dependency edges, a job
still running when the store was copied) and records in expected.json what
that release itself reads back from its store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from molq._import_original import import_original_store, original_store_path
from molq.errors import StoreError
from molq.store import JobStore, default_jobs_db_path

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = sorted(p.name for p in FIXTURES.iterdir() if (p / "jobs.db").is_file())
JOB_FIELDS = (
    "cluster_name",
    "scheduler",
    "scheduler_job_id",
    "submitted_at",
    "started_at",
    "finished_at",
    "exit_code",
    "failure_reason",
    "cwd",
    "command_type",
    "command_display",
    "root_job_id",
    "attempt",
    "previous_attempt_job_id",
    "retry_group_id",
    "profile_name",
    "cleaned_at",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected(version: str) -> dict:
    return json.loads((FIXTURES / version / "expected.json").read_text())


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME, MOLQ_HOME and MOLCRAFTS_HOME, nothing in them."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MOLQ_HOME", str(tmp_path / "molq"))
    monkeypatch.setenv("MOLCRAFTS_HOME", str(tmp_path / "molcrafts"))
    (tmp_path / "home").mkdir()
    return tmp_path


def place_original(version: str, homes: Path) -> Path:
    """The fixture where the original keeps its store under MOLCRAFTS_HOME."""
    target = homes / "molcrafts" / "molq" / "config" / "jobs.db"
    target.parent.mkdir(parents=True)
    shutil.copyfile(FIXTURES / version / "jobs.db", target)
    return target


def check_every_row(store: JobStore, version: str) -> None:
    exp = expected(version)
    assert len(store.list_all_records(include_terminal=True)) == len(exp["jobs"]) == exp["table_counts"]["jobs"]
    for job in exp["jobs"]:
        rec = store.get_record(job["job_id"])
        assert rec is not None, job["job_id"]
        assert str(rec.state.value) == job["state"]
        for field in JOB_FIELDS:
            assert getattr(rec, field) == job[field], (job["job_id"], field)
        assert dict(rec.metadata) == job["metadata"]
        assert store.get_request_json(job["job_id"]) == exp["request_json"][job["job_id"]]
        got = [
            (t.old_state and str(t.old_state.value), str(t.new_state.value), t.timestamp, t.reason)
            for t in store.get_transitions(job["job_id"])
        ]
        want = [
            (t["old_state"], t["new_state"], t["timestamp"], t["reason"]) for t in exp["transitions"][job["job_id"]]
        ]
        assert got == want, job["job_id"]
        deps = sorted(dataclasses.astuple(d) for d in store.get_dependencies(job["job_id"]))
        want_deps = sorted(
            (d["job_id"], d["dependency_job_id"], d["dependency_type"], d["scheduler_dependency"])
            for d in exp["dependencies"].get(job["job_id"], [])
        )
        assert deps == want_deps
    n_transitions = sum(len(v) for v in exp["transitions"].values())
    assert n_transitions == exp["table_counts"]["status_transitions"]
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as conn:
        allocations = sorted(
            conn.execute(
                "SELECT cluster_name, partition, account, qos, reservation, label, last_used, use_count FROM allocations"
            )
        )
        transition_ids = [r[0] for r in conn.execute("SELECT id FROM status_transitions ORDER BY id")]
    want_allocations = sorted(
        (
            a["cluster_name"],
            a["partition"] or "",
            a["account"] or "",
            a["qos"] or "",
            a["reservation"] or "",
            a["label"],
            a["last_used"],
            a["use_count"],
        )
        for a in exp["allocations"]
    )
    assert allocations == want_allocations
    assert len(allocations) == exp["table_counts"].get("allocations", 0)
    assert transition_ids == list(range(1, n_transitions + 1))


@pytest.mark.parametrize("version", VERSIONS)
def test_import_store_copies_every_row_and_leaves_the_file_unchanged(version: str, tmp_path: Path) -> None:
    source = tmp_path / "original.db"
    shutil.copyfile(FIXTURES / version / "jobs.db", source)
    before = sha256(source)
    summary = import_original_store(source, tmp_path / "molq.db")
    assert sha256(source) == before == sha256(FIXTURES / version / "jobs.db")
    exp = expected(version)
    assert summary.source_schema == int(exp["schema_version"])
    assert summary.jobs == exp["table_counts"]["jobs"]
    assert summary.transitions == exp["table_counts"]["status_transitions"]
    assert summary.dependencies == exp["table_counts"]["job_dependencies"]
    assert summary.allocations == exp["table_counts"].get("allocations", 0)
    assert summary.active_jobs == (exp["roles"]["running"],)
    with JobStore(tmp_path / "molq.db") as store:
        check_every_row(store, version)
        # The local job directory the original kept in metadata is molq's job_dir.
        running = store.get_record(exp["roles"]["running"])
        assert running.job_dir == running.metadata["molq.job_dir"]


def test_schema_versions_of_the_releases() -> None:
    found = {v: expected(v)["schema_version"] for v in VERSIONS}
    assert found == {"0.4.0": "7", "0.6.0": "7", "0.7.0": "8", "0.8.0": "8", "0.8.1": "8"}


@pytest.mark.parametrize("version", ["0.6.0", "0.8.1"])
def test_first_open_of_the_default_store_adopts_the_original(version: str, homes: Path, capfd) -> None:
    original = place_original(version, homes)
    assert original_store_path() == original
    before = sha256(original)
    with JobStore(default_jobs_db_path()) as store:
        check_every_row(store, version)
    assert "imported the original molq's job store" in capfd.readouterr().err
    assert sha256(original) == before
    # Once only: a second open finds molq's own store and imports nothing.
    with JobStore(default_jobs_db_path()) as store:
        assert len(store.list_all_records(include_terminal=True)) == len(expected(version)["jobs"])
    assert "imported" not in capfd.readouterr().err
    assert sorted(p.name for p in (homes / "molq").iterdir() if "importing" in p.name) == []
    assert oct((homes / "molq" / "jobs.db").stat().st_mode & 0o777) == oct(0o600)


def test_first_open_with_no_original_store_starts_empty(homes: Path) -> None:
    with JobStore(default_jobs_db_path()) as store:
        assert store.list_all_records(include_terminal=True) == []
    assert not (homes / "molcrafts").exists()


def test_a_store_that_cannot_be_imported_warns_and_molq_starts_empty(homes: Path) -> None:
    original = homes / "molcrafts" / "molq" / "config" / "jobs.db"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"not a database, just some bytes " * 40)
    before = sha256(original)
    with pytest.warns(UserWarning, match="molq import-store"):
        store = JobStore(default_jobs_db_path())
    with store:
        assert store.list_all_records(include_terminal=True) == []
    assert sha256(original) == before


def test_a_second_import_skips_duplicates(tmp_path: Path) -> None:
    source = tmp_path / "original.db"
    shutil.copyfile(FIXTURES / "0.8.1" / "jobs.db", source)
    import_original_store(source, tmp_path / "molq.db")
    again = import_original_store(source, tmp_path / "molq.db")
    assert (again.jobs, again.transitions, again.dependencies, again.allocations) == (0, 0, 0, 0)
    assert again.duplicate_jobs == 9 and again.duplicate_allocations == 2
    with JobStore(tmp_path / "molq.db") as store:
        check_every_row(store, "0.8.1")


# Holds an exclusive lock on argv[1] (rollback journal) until stdin closes.
HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=DELETE").fetchall()
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("COMMIT")
"""


def test_errors_are_molq_errors(tmp_path: Path) -> None:
    target = tmp_path / "molq.db"
    # molq's own store is not an original one
    JobStore(tmp_path / "own.db").close()
    with pytest.raises(StoreError, match="store of this molq"):
        import_original_store(tmp_path / "own.db", target)
    # a newer schema than any release of the original wrote
    newer = tmp_path / "newer.db"
    shutil.copyfile(FIXTURES / "0.8.1" / "jobs.db", newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE molq_meta SET value = '9' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        import_original_store(newer, target)
    # a file held locked by another process
    locked = tmp_path / "locked.db"
    shutil.copyfile(FIXTURES / "0.8.1" / "jobs.db", locked)
    # (another process: POSIX locks never conflict within one process)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(locked)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="locked"):
            import_original_store(locked, target, busy_timeout=0.2)
    finally:
        holder.communicate("", timeout=30)
    assert import_original_store(locked, tmp_path / "after.db").jobs == 9
    with pytest.raises(StoreError, match="no such file"):
        import_original_store(tmp_path / "missing.db", target)
    # nothing was half-imported
    with JobStore(target) as store:
        assert store.list_all_records(include_terminal=True) == []


def molq_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "molq.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_import_store_says_what_it_imported(homes: Path) -> None:
    source = homes / "original.db"
    shutil.copyfile(FIXTURES / "0.7.0" / "jobs.db", source)
    env = dict(os.environ)
    first = molq_cli("import-store", str(source), env=env)
    assert first.returncode == 0, first.stderr
    for line in (
        "jobs          9",
        "transitions   28",
        "dependencies  3",
        "allocations   2",
        "1 job still active",
        "left unchanged",
    ):
        assert line in first.stdout
    again = molq_cli("import-store", str(source), "--json", env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["jobs"], report["duplicate_jobs"], report["duplicate_allocations"]) == (0, 9, 2)
    listed = molq_cli("list", "--all", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    # nine jobs; the two attempts of the retried one are one row
    assert len(rows) == 8
    assert {r["job_id"] for r in rows} >= {j["job_id"] for j in expected("0.7.0")["jobs"] if j["attempt"] == 1} - {
        j["root_job_id"] for j in expected("0.7.0")["jobs"] if j["attempt"] == 2
    }
    bad = molq_cli("import-store", str(homes / "molq" / "jobs.db"), env=env)
    assert bad.returncode == 1
    assert "not a store of the original molq" in bad.stderr
    # With no PATH: the original's default location (MOLCRAFTS_HOME), here none.
    missing = molq_cli("import-store", env=env)
    assert missing.returncode == 1 and "no original molq store" in missing.stderr


def test_cli_import_store_of_a_04_store_at_molqs_own_path(homes: Path) -> None:
    # molq 0.4 kept its store at ~/.molq/jobs.db, which is molq's own default.
    own = homes / "molq" / "jobs.db"
    own.parent.mkdir()
    shutil.copyfile(FIXTURES / "0.4.0" / "jobs.db", own)
    before = sha256(own)
    done = molq_cli("import-store", str(own), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    aside = homes / "molq" / "jobs.db.original-molq"
    assert sha256(aside) == before
    with JobStore(own) as store:
        check_every_row(store, "0.4.0")


def test_an_imported_batch_job_is_tracked_by_its_scheduler_id(tmp_path: Path) -> None:
    """A Slurm job the original left running ends in molq by what Slurm says of its id."""
    from molq import _core

    source = tmp_path / "original.db"
    shutil.copyfile(FIXTURES / "0.8.1" / "jobs.db", source)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, attempt, retry_group_id, "
            "scheduler_job_id, state, command_type, command_display, cwd, submitted_at, metadata, request_json) "
            "VALUES ('hpc-job', 'hpc', 'slurm', 'hpc-job', 1, 'hpc-job', '4242', 'running', 'argv', 'train', "
            "'/scratch', 100.0, '{}', '{}')"
        )
    conn.close()
    summary = import_original_store(source, tmp_path / "molq.db")
    assert "hpc-job" in summary.active_jobs
    with JobStore(tmp_path / "molq.db") as store:
        assert [job[:2] for job in store.active_jobs("hpc")] == [("hpc-job", "4242")]
        queue = _core.parse_queue("slurm", b"")
        accounting = _core.parse_accounting("slurm", b"4242|4242|FAILED|3:0|110|150|None\n")
        outcome = store.reconcile("hpc", queue, accounting, 200.0)
        assert [t.new_state.value for t in outcome.transitions] == ["failed"]
        record = store.get_record("hpc-job")
        assert (record.state.value, record.exit_code, record.finished_at) == ("failed", 3, 150.0)


def test_a_04_store_at_molqs_default_path_is_moved_aside_and_imported(homes: Path, capfd) -> None:
    own = homes / "molq" / "jobs.db"
    own.parent.mkdir()
    shutil.copyfile(FIXTURES / "0.4.0" / "jobs.db", own)
    before = sha256(own)
    with JobStore(default_jobs_db_path()) as store:
        check_every_row(store, "0.4.0")
    assert sha256(homes / "molq" / "jobs.db.original-molq") == before
    err = capfd.readouterr().err
    assert "moved the original molq's store" in err and "imported" in err
    with JobStore(default_jobs_db_path()) as store:
        assert len(store.list_all_records(include_terminal=True)) == 9


def test_only_the_default_store_adopts_the_original(homes: Path) -> None:
    place_original("0.8.1", homes)
    with JobStore(homes / "elsewhere.db") as store:
        assert store.list_all_records(include_terminal=True) == []
    assert not (homes / "molq" / "jobs.db").exists()


def test_processes_opening_molq_at_once_import_once(homes: Path) -> None:
    place_original("0.8.1", homes)
    opener = (
        "from molq.store import JobStore, default_jobs_db_path\n"
        "with JobStore(default_jobs_db_path()) as s:\n"
        "    print(len(s.list_all_records(include_terminal=True)))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", opener], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["9"] * 6
    assert sum("imported the original molq's job store" in err for _, err in results) == 1
    with JobStore(default_jobs_db_path()) as store:
        check_every_row(store, "0.8.1")
    assert [p.name for p in (homes / "molq").iterdir() if "importing" in p.name] == []
