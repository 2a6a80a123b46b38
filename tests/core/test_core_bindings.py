"""Every name of ``molq._core`` exercised through Python (contract: ``molq/_core.pyi``)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from molq import _core
from molq.errors import JobNotFoundError, ParseError, StoreError
from molq.status import JobState

CLUSTER = "laptop"


def job(job_id: str, cluster: str = CLUSTER, **extra: object) -> dict[str, object]:
    d: dict[str, object] = {
        "job_id": job_id,
        "cluster_name": cluster,
        "scheduler": "local",
        "root_job_id": job_id,
        "attempt": 1,
        "previous_attempt_job_id": None,
        "retry_group_id": job_id,
        "command_type": "argv",
        "command_display": "echo hi",
        "cwd": "/work",
        "job_dir": f"/jobs/{job_id}",
        "metadata": {"owner": "me", "molq.job_dir": f"/jobs/{job_id}"},
        "request_json": '{"argv": ["echo", "hi"]}',
        "retry_json": None,
        "profile_name": None,
    }
    d.update(extra)
    return d


@pytest.fixture
def store(tmp_path: Path):
    s = _core.JobStore(str(tmp_path / "jobs.db"))
    yield s
    s.close()


def submitted(store: _core.JobStore, job_id: str, sid: str, at: float, cluster: str = CLUSTER) -> None:
    store.register_job(job(job_id, cluster), [], at)
    assert store.mark_submitted(job_id, sid, at) is not None


# -- module ------------------------------------------------------------------------


def test_module_constants(store: _core.JobStore) -> None:
    assert isinstance(_core.__version__, str) and _core.__version__
    assert isinstance(_core.SCHEMA_VERSION, int)
    assert store.schema_version() == _core.SCHEMA_VERSION


# -- value types ---------------------------------------------------------------------


def test_job_record_constructor_defaults_and_equality() -> None:
    r = _core.JobRecord("j", "c", "slurm", "running")
    assert r.state is JobState.RUNNING
    assert (r.cwd, r.command_type, r.command_display, r.root_job_id, r.job_dir) == ("",) * 5
    assert r.attempt == 1 and r.metadata == {} and r.scheduler_job_id is None
    for name in (
        "submitted_at",
        "started_at",
        "finished_at",
        "exit_code",
        "exit_signal",
        "failure_reason",
        "previous_attempt_job_id",
        "retry_group_id",
        "profile_name",
        "cleaned_at",
        "retry_due_at",
        "retry_state",
    ):
        assert getattr(r, name) is None, name
    same = _core.JobRecord("j", "c", "slurm", JobState.RUNNING)
    assert r == same and hash(r) == hash(same) and len({r, same}) == 1
    other = _core.JobRecord("j", "c", "slurm", "running", exit_code=3)
    assert r != other and r != "j"
    assert repr(r).startswith("JobRecord(job_id='j', cluster_name='c', scheduler='slurm', state='running'")
    with pytest.raises(ValueError):
        _core.JobRecord("j", "c", "slurm", "sleeping")


def test_job_record_metadata_is_a_fresh_dict() -> None:
    r = _core.JobRecord("j", "c", "s", "created", metadata={"b": "2", "a": "1"})
    m = r.metadata
    m["x"] = "y"
    assert r.metadata == {"b": "2", "a": "1"}
    assert list(r.metadata) == ["b", "a"], "order kept"
    d = r.to_dict()
    assert d["state"] is JobState.CREATED and d["metadata"] == {"b": "2", "a": "1"}
    assert set(d) == {
        "job_id",
        "cluster_name",
        "scheduler",
        "state",
        "scheduler_job_id",
        "submitted_at",
        "started_at",
        "finished_at",
        "exit_code",
        "failure_reason",
        "cwd",
        "command_type",
        "command_display",
        "metadata",
        "root_job_id",
        "attempt",
        "previous_attempt_job_id",
        "retry_group_id",
        "profile_name",
        "cleaned_at",
        "job_dir",
        "exit_signal",
        "retry_due_at",
        "retry_state",
    }
    with pytest.raises(TypeError):
        _core.JobRecord("j", "c", "s", "created", metadata={"n": 1})


def test_records_are_frozen() -> None:
    r = _core.JobRecord("j", "c", "s", "created")
    with pytest.raises(AttributeError):
        r.job_id = "k"  # type: ignore[misc]


def test_status_transition_and_queue_entry() -> None:
    t = _core.StatusTransition("j", None, "created", 1.5)
    assert (t.job_id, t.old_state, t.new_state, t.timestamp, t.reason) == ("j", None, JobState.CREATED, 1.5, None)
    u = _core.StatusTransition("j", JobState.RUNNING, "lost", 2.0, reason="gone")
    assert u.old_state is JobState.RUNNING and u.new_state is JobState.LOST and u.reason == "gone"
    assert t == _core.StatusTransition("j", None, JobState.CREATED, 1.5) and t != u
    q = _core.QueueEntry("7")
    assert q.scheduler_job_id == "7" and q.state is JobState.QUEUED and q.raw_state == ""
    q = _core.QueueEntry(
        "8", name="n", user="u", state="running", raw_state="R", partition="p", submit_time=1.0, start_time=2.0
    )
    assert (q.name, q.user, q.state, q.raw_state, q.partition, q.submit_time, q.start_time) == (
        "n",
        "u",
        JobState.RUNNING,
        "R",
        "p",
        1.0,
        2.0,
    )


# -- parsers ---------------------------------------------------------------------------


def test_parse_queue_shell() -> None:
    snap = _core.parse_queue(
        "shell",
        b"11|running||100.5|\n12|exited|0|100|110\n13|exited|2|100|120\n14|vanished|||\n"
        b"garbage line\n15|exited|x||\n\n",
    )
    assert len(snap) == 4
    assert "11" in snap and "15" not in snap and 11 not in snap
    assert snap.states() == {
        "11": JobState.RUNNING,
        "12": JobState.SUCCEEDED,
        "13": JobState.FAILED,
        "14": JobState.LOST,
    }
    assert all(type(s) is JobState for s in snap.states().values())
    assert [line for line, _ in snap.skipped] == ["garbage line", "15|exited|x||"]
    assert all(reason for _, reason in snap.skipped)
    entries = snap.entries()
    assert [e.scheduler_job_id for e in entries] == ["11", "12", "13", "14"]
    assert entries[0].start_time == 100.5 and entries[1].raw_state == "exited"
    assert snap.missing(["99", "11", "98"]) == ["99", "98"]


def test_parse_errors() -> None:
    with pytest.raises(ParseError, match="nosuchkind"):
        _core.parse_queue("nosuchkind", b"")
    with pytest.raises(ParseError):
        _core.parse_accounting("shell", b"")
    with pytest.raises(ParseError, match="pid"):
        _core.parse_submit_id("shell", b"error: cannot fork\n")
    assert _core.parse_submit_id("shell", b"\n 4242 \n") == "4242"
    with pytest.raises(TypeError):
        _core.parse_queue("shell", "not bytes")  # type: ignore[arg-type]


def test_snapshot_from_observations_and_merge() -> None:
    a = _core.Snapshot.from_observations(
        [("1", "running", None, None, 5.0, None), ("2", JobState.QUEUED, None, None, None, None)]
    )
    b = _core.Snapshot.from_observations([("2", "failed", 3, "boom", None, 9.0)])
    m = a.merged(b)
    assert len(a) == 2 and len(m) == 2
    assert m.states() == {"1": JobState.RUNNING, "2": JobState.FAILED}
    with pytest.raises(ValueError):
        _core.Snapshot.from_observations([("1", "bogus", None, None, None, None)])


# -- store: opening ------------------------------------------------------------------


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    p = tmp_path / "jobs.db"
    p.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StoreError, match="not a SQLite database") as e:
        _core.JobStore(str(p))
    assert str(p) in str(e.value)


def test_newer_schema_is_a_store_error(tmp_path: Path) -> None:
    p = tmp_path / "jobs.db"
    c = sqlite3.connect(p)
    c.execute(f"PRAGMA user_version = {_core.SCHEMA_VERSION + 1}")
    c.close()
    with pytest.raises(StoreError, match="newer than this molq supports.*upgrade molq"):
        _core.JobStore(str(p))


def test_foreign_database_is_left_alone(tmp_path: Path) -> None:
    p = tmp_path / "jobs.db"
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE jobs (name TEXT)")
    c.execute("INSERT INTO jobs VALUES ('mine')")
    c.commit()
    c.close()
    with pytest.raises(StoreError, match="not a molq job store"):
        _core.JobStore(str(p))
    assert sqlite3.connect(p).execute("SELECT name FROM jobs").fetchall() == [("mine",)]


def test_missing_directory_is_named(tmp_path: Path) -> None:
    p = tmp_path / "nope" / "jobs.db"
    with pytest.raises(StoreError, match="does not exist"):
        _core.JobStore(str(p))


def test_locked_store_is_a_store_error(tmp_path: Path) -> None:
    p = tmp_path / "jobs.db"
    _core.JobStore(str(p)).close()
    # Another process holds the write lock (SQLite locks are per process, so
    # a second SQLite library in this process would not conflict).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()",
            str(p),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        s = _core.JobStore(str(p), busy_timeout_ms=50)
        with pytest.raises(StoreError, match="locked"):
            s.register_job(job("a"), [], 1.0)
        assert s.get_job("a") is None, "readers are not blocked in WAL mode"
    finally:
        holder.communicate("")


def test_closed_store_raises(store: _core.JobStore) -> None:
    assert store.path.endswith("jobs.db")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="job store is closed"):
        store.get_job("x")


def test_in_memory_store() -> None:
    s = _core.JobStore(":memory:")
    s.register_job(job("a"), [], 1.0)
    assert s.get_job("a") is not None


# -- store: submit path -----------------------------------------------------------------


def test_register_round_trip(store: _core.JobStore) -> None:
    store.register_job(job("a"), [("up", "after_success", "afterok:1")], 10.0)
    r = store.get_job("a")
    assert r is not None
    assert r.state is JobState.CREATED and r.submitted_at == 10.0
    assert r.metadata == {"owner": "me", "molq.job_dir": "/jobs/a"}
    assert (r.cwd, r.job_dir, r.command_display, r.retry_group_id) == ("/work", "/jobs/a", "echo hi", "a")
    assert store.get_request_json("a") == '{"argv": ["echo", "hi"]}'
    assert store.get_request_json("zz") is None
    assert store.get_dependencies("a") == [("a", "up", "after_success", "afterok:1")]
    assert store.get_dependents("up") == [("a", "up", "after_success", "afterok:1")]
    [t] = store.get_transitions("a")
    assert (t.old_state, t.new_state, t.timestamp, t.reason) == (None, JobState.CREATED, 10.0, "job created")
    assert store.get_job("zz") is None


def test_duplicate_register_writes_nothing(store: _core.JobStore) -> None:
    store.register_job(job("a"), [], 1.0)
    with pytest.raises(StoreError, match="already exists"):
        store.register_job(job("a", command_display="other"), [("x", "after", "")], 2.0)
    assert store.get_job("a").command_display == "echo hi"
    assert len(store.get_transitions("a")) == 1 and store.get_dependencies("a") == []


def test_register_rejects_bad_dicts(store: _core.JobStore) -> None:
    with pytest.raises(ValueError, match="unknown job key"):
        store.register_job(job("a", colour="red"), [], 1.0)
    with pytest.raises(KeyError):
        store.register_job({"job_id": "a", "cluster_name": "c"}, [], 1.0)
    minimal = {"job_id": "m", "cluster_name": "c", "scheduler": "local"}
    store.register_job(minimal, [], 1.0)
    r = store.get_job("m")
    assert (r.root_job_id, r.attempt, r.metadata) == ("m", 1, {})


def test_single_job_writes_are_compare_and_set(store: _core.JobStore) -> None:
    store.register_job(job("a"), [], 1.0)
    t = store.mark_submitted("a", "42", 2.0)
    assert t == _core.StatusTransition("a", "created", "submitted", 2.0, "submitted")
    assert store.mark_submitted("a", "43", 3.0) is None
    assert store.get_job("a").scheduler_job_id == "42"
    t = store.cancel("a", "user asked", 4.0)
    assert t is not None and t.new_state is JobState.CANCELLED and t.reason == "user asked"
    assert store.cancel("a", "again", 5.0) is None
    assert store.mark_failed("a", "late", 6.0) is None
    r = store.get_job("a")
    assert (r.state, r.finished_at, r.failure_reason) == (JobState.CANCELLED, 4.0, "user asked")
    store.register_job(job("b"), [], 1.0)
    t = store.mark_failed("b", "submission failed: sbatch not found", 2.0)
    assert t is not None and t.old_state is JobState.CREATED and t.new_state is JobState.FAILED
    for call in (
        lambda: store.mark_submitted("zz", "1", 0.0),
        lambda: store.mark_failed("zz", "r", 0.0),
        lambda: store.cancel("zz", "r", 0.0),
        lambda: store.finish_retry("zz"),
    ):
        with pytest.raises(JobNotFoundError) as e:
            call()
        assert e.value.job_id == "zz"


# -- store: reconcile ---------------------------------------------------------------------


def test_reconcile_with_shell_status_lines(store: _core.JobStore) -> None:
    submitted(store, "a", "101", 1.0)
    submitted(store, "b", "102", 2.0)
    submitted(store, "c", "103", 3.0)
    submitted(store, "x", "101", 4.0, cluster="elsewhere")
    assert [job[:3] for job in store.active_jobs(CLUSTER)] == [
        ("a", "101", "/jobs/a"),
        ("b", "102", "/jobs/b"),
        ("c", "103", "/jobs/c"),
    ]
    assert all(isinstance(job[3], float) and job[3] > 0 for job in store.active_jobs(CLUSTER))
    snap = _core.parse_queue("shell", b"101|running||10|\n102|exited|0|11|12\n103|vanished|||\n")
    out = store.reconcile(CLUSTER, snap, None, 20.0)
    steps = [(t.job_id, t.old_state, t.new_state) for t in out.transitions]
    assert steps == [
        ("a", JobState.SUBMITTED, JobState.RUNNING),
        ("b", JobState.SUBMITTED, JobState.RUNNING),
        ("b", JobState.RUNNING, JobState.SUCCEEDED),
        ("c", JobState.SUBMITTED, JobState.LOST),
    ]
    assert out.retries_scheduled == [] and out.missing == []
    b = store.get_job("b")
    assert (b.started_at, b.finished_at, b.exit_code) == (11.0, 12.0, 0)
    assert store.get_job("c").failure_reason.startswith("process ended without recording an exit code")
    assert store.get_job("x").state is JobState.SUBMITTED, "other cluster untouched"
    assert store.reconcile(CLUSTER, snap, None, 21.0).transitions == [], "idempotent"
    assert [t.new_state for t in store.get_transitions("b")] == [
        JobState.CREATED,
        JobState.SUBMITTED,
        JobState.RUNNING,
        JobState.SUCCEEDED,
    ]


def test_missing_jobs_need_accounting_polls_and_time(store: _core.JobStore) -> None:
    submitted(store, "a", "1", 0.0)
    empty = _core.Snapshot.from_observations([])
    assert store.reconcile(CLUSTER, empty, None, 100.0).missing == []
    for now in (100.0, 110.0, 120.0):
        out = store.reconcile(CLUSTER, empty, empty, now, lost_after_seconds=30.0, lost_after_polls=3)
        assert out.missing == ["a"] and out.transitions == []
    out = store.reconcile(CLUSTER, empty, empty, 130.0, lost_after_seconds=30.0, lost_after_polls=3)
    [t] = out.transitions
    assert t.new_state is JobState.LOST and "4 polls over 30 s" in t.reason


def test_retry_is_scheduled_claimed_once_and_finished(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.db")
    a, b = _core.JobStore(path), _core.JobStore(path)
    policy = (
        '{"max_attempts": 2, "retry_on_states": ["failed"], "retry_on_exit_codes": null, '
        '"backoff": {"mode": "exponential", "initial_seconds": 5, "maximum_seconds": 60, "factor": 2}}'
    )
    a.register_job(job("r", retry_json=policy), [], 1.0)
    a.mark_submitted("r", "9", 1.0)
    snap = _core.Snapshot.from_observations([("9", "failed", 1, None, None, 50.0)])
    out = a.reconcile(CLUSTER, snap, None, 100.0)
    assert out.retries_scheduled == ["r"]
    r = a.get_job("r")
    assert (r.retry_state, r.retry_due_at, r.failure_reason) == ("scheduled", 105.0, "job failed with exit code 1")
    assert a.claim_due_retries(CLUSTER, 104.0) == []
    assert a.claim_due_retries("other", 1e9) == []
    assert b.claim_due_retries(CLUSTER, 105.0) == ["r"]
    assert a.claim_due_retries(CLUSTER, 200.0) == []
    a.register_job(job("r2", root_job_id="r", attempt=2, previous_attempt_job_id="r"), [], 106.0)
    a.finish_retry("r")
    assert a.get_job("r").retry_state == "done"
    assert a.get_latest_attempt("r").job_id == "r2"
    assert [x.job_id for x in a.get_retry_family("r2")] == ["r", "r2"]


def test_cancel_drops_a_scheduled_retry(store: _core.JobStore) -> None:
    store.register_job(job("r", retry_json='{"max_attempts": 3}'), [], 1.0)
    store.mark_submitted("r", "9", 1.0)
    store.reconcile(CLUSTER, _core.Snapshot.from_observations([("9", "failed", 2, None, None, None)]), None, 5.0)
    assert store.get_job("r").retry_state == "scheduled"
    assert store.cancel("r", "stop", 6.0) is None
    assert store.get_job("r").retry_state == "cancelled"
    assert store.claim_due_retries(CLUSTER, 1e9) == []


# -- store: reads and retention ----------------------------------------------------------


def test_list_jobs_order_scope_limit(store: _core.JobStore) -> None:
    for i, cluster in enumerate(["a", "b", "a", "a"]):
        submitted(store, f"j{i}", str(i), float(i), cluster=cluster)
    store.mark_failed("j2", "x", 9.0)
    ids = lambda rs: [r.job_id for r in rs]  # noqa: E731
    assert ids(store.list_jobs("a")) == ["j3", "j0"]
    assert ids(store.list_jobs("a", include_terminal=True)) == ["j3", "j2", "j0"]
    assert ids(store.list_jobs("a", True, 1)) == ["j3"]
    assert ids(store.list_jobs(None, include_terminal=True)) == ["j3", "j2", "j1", "j0"]
    assert ids(store.list_jobs(None, limit=2)) == ["j3", "j1"]
    assert store.count_active("a") == 2 and store.count_active("zz") == 0
    assert ids(store.get_jobs(["j3", "nope", "j0"])) == ["j3", "j0"]
    assert all(type(r.state) is JobState for r in store.list_jobs(None, True))


def test_cleanup_mark_cleaned_and_delete(store: _core.JobStore) -> None:
    for jid, state in [("ok", "succeeded"), ("bad", "failed"), ("stop", "cancelled"), ("live", "running")]:
        submitted(store, jid, jid, 1.0)
        store.reconcile(CLUSTER, _core.Snapshot.from_observations([(jid, state, None, None, None, None)]), None, 10.0)
    dirs, records = store.cleanup_candidates(CLUSTER, 20.0, 5.0, True)
    assert [r.job_id for r in dirs] == ["ok", "stop"] and records == []
    dirs, records = store.cleanup_candidates(CLUSTER, 20.0, 20.0, False)
    assert [r.job_id for r in dirs] == ["ok", "bad", "stop"]
    assert [r.job_id for r in records] == ["ok", "bad", "stop"]
    store.mark_cleaned(["ok", "bad"], 30.0)
    assert store.get_job("ok").cleaned_at == 30.0
    assert [r.job_id for r in store.cleanup_candidates(CLUSTER, 20.0, 0.0, False)[0]] == ["stop"]
    assert store.delete_records(["ok", "bad", "nope"]) == 2
    assert store.get_job("ok") is None and store.get_transitions("ok") == []


def test_delete_many_ids_with_edges(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    _core.JobStore(str(path)).close()
    ids = [f"j{i}" for i in range(2500)]
    c = sqlite3.connect(path)
    with c:
        c.executemany(
            "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, state, submitted_at) "
            "VALUES (?, 'c', 'local', ?, 'succeeded', 1.0)",
            [(i, i) for i in ids],
        )
        c.executemany(
            "INSERT INTO job_dependencies (job_id, dependency_job_id, dependency_type, scheduler_dependency) "
            "VALUES (?, ?, 'after', '')",
            list(zip(ids[1:], ids[:-1])),
        )
    c.close()
    store = _core.JobStore(str(path))
    store.register_job(job("keep", "c"), [("j0", "after", "")], 2.0)
    assert len(store.get_jobs(ids)) == 2500
    assert store.delete_records(ids) == 2500
    assert store.list_jobs(None, True) == [store.get_job("keep")]
    assert store.get_dependencies("keep") == []


def test_100k_records_are_listed_newest_first(tmp_path: Path) -> None:
    # How fast is benches/bench_list_jobs.py's business; this is what it returns.
    path = tmp_path / "jobs.db"
    _core.JobStore(str(path)).close()
    c = sqlite3.connect(path)
    with c:
        c.executemany(
            "INSERT INTO jobs (job_id, cluster_name, scheduler, root_job_id, state, submitted_at, "
            "scheduler_job_id, command_type, command_display, cwd, job_dir, metadata, request_json) "
            "VALUES (?, 'big', 'local', ?, 'running', ?, ?, 'argv', 'python train.py', '/home/u/p', ?, ?, '{}')",
            [
                (f"job-{i:06}", f"job-{i:06}", float(i), str(i), f"/jobs/{i}", f'{{"molq.job_dir": "/jobs/{i}"}}')
                for i in range(100_000)
            ],
        )
    c.close()
    s = _core.JobStore(str(path))
    rows = s.list_jobs("big", True)
    assert [r.job_id for r in rows] == [f"job-{i:06}" for i in reversed(range(100_000))]
    assert s.list_jobs("big", True, 3) == rows[:3]


# -- concurrency ----------------------------------------------------------------------------


def test_two_threads_share_one_store(store: _core.JobStore) -> None:
    errors: list[BaseException] = []

    def work(prefix: str) -> None:
        try:
            for i in range(200):
                store.register_job(job(f"{prefix}{i}"), [], float(i))
                store.mark_submitted(f"{prefix}{i}", f"{prefix}{i}", float(i))
                store.list_jobs(CLUSTER, limit=10)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(p,)) for p in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_active(CLUSTER) == 400


def test_two_threads_with_their_own_connections(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.db")
    errors: list[BaseException] = []

    def work(prefix: str) -> None:
        try:
            s = _core.JobStore(path)
            for i in range(100):
                s.register_job(job(f"{prefix}{i}"), [], float(i))
            s.close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(p,)) for p in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _core.JobStore(path).count_active(CLUSTER) == 200


def _open_and_register(path: str, n: int) -> int:
    s = _core.JobStore(path)
    s.register_job(job(f"p{n}"), [], float(n))
    return s.schema_version()


def test_processes_create_one_new_file_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        versions = pool.starmap(_open_and_register, [(path, n) for n in range(8)])
    assert versions == [_core.SCHEMA_VERSION] * 8
    assert _core.JobStore(path).count_active(CLUSTER) == 8
