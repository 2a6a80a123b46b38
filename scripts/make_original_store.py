"""Write a job store with the ORIGINAL molq (molcrafts-molq) and record what it holds.

Run by scripts/make-original-stores.sh inside a venv of one released version,
with HOME and MOLCRAFTS_HOME pointing at a fresh directory and the working
directory inside it. Uses only that version's public API. Writes
``<out>/jobs.db`` (a copy of the store taken while one job is still running)
and ``<out>/expected.json``: every job, transition, dependency and remembered
allocation as the original itself reads them back.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import molq
from molq import Cluster, JobScheduling, RetryPolicy, Submitor
from molq.models import JobDependency
from molq.store import JobStore
from molq.testing import make_submitor


def store_path() -> Path:
    try:
        from molq.store import default_jobs_db_path
    except ImportError:  # 0.4 keeps its store in ~/.molq and has no helper
        return Path.home() / ".molq" / "jobs.db"
    return default_jobs_db_path()


def wait_running(submitor: Submitor, job_id: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submitor.refresh_jobs()
        if str(submitor.get_job(job_id).state) == "running":
            return
        time.sleep(0.1)
    raise SystemExit(f"job {job_id} did not start")


def children_of(pid: int) -> list[int]:
    """Descendants of pid (the original's cancel signals only the job's shell)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
            found.extend(children_of(int(entry.name)))
    return found


def kill_tree(pid: int) -> None:
    import signal

    for p in [pid, *children_of(pid)]:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def plain(value: object) -> object:
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):
        return value.value
    return value


def read_back(db: Path) -> dict[str, object]:
    """What the original reads from the copied store, through its own JobStore."""
    store = JobStore(db)
    try:
        jobs = store.list_all_records(include_terminal=True)
        out: dict[str, object] = {"jobs": [], "transitions": {}, "dependencies": {}, "allocations": []}
        for rec in sorted(jobs, key=lambda r: r.job_id):
            out["jobs"].append(plain(rec))
            out["transitions"][rec.job_id] = plain(store.get_transitions(rec.job_id))
            deps = store.get_dependencies(rec.job_id)
            if deps:
                out["dependencies"][rec.job_id] = plain(deps)
            out.setdefault("request_json", {})[rec.job_id] = store.get_request_json(rec.job_id)
        if hasattr(store, "list_allocations"):
            for cluster in sorted({r.cluster_name for r in jobs}):
                out["allocations"].extend(
                    {"cluster_name": cluster, **plain(a)} for a in store.list_allocations(cluster)
                )
        return out
    finally:
        store.close()


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db = store_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    roles: dict[str, str] = {}

    # Local jobs: real processes.
    with Submitor(target=Cluster("dev", "local")) as s:
        ok = s.submit_job(argv=["sh", "-c", "echo hello"], metadata={"role": "ok", "note": "a b"})
        roles["succeeded"] = ok.job_id
        bad = s.submit_job(command="echo failing >&2; exit 3", metadata={"role": "failed"})
        roles["failed"] = bad.job_id
        flaky = s.submit_job(argv=["sh", "-c", "exit 4"], retry=RetryPolicy(max_attempts=2))
        roles["retried"] = flaky.job_id
        for h in (ok, bad, flaky):
            h.wait(timeout=60)
        gone = s.submit_job(argv=["sleep", "300"], metadata={"role": "cancelled"})
        roles["cancelled"] = gone.job_id
        wait_running(s, gone.job_id)
        pid = int(s.get_job(gone.job_id).scheduler_job_id)
        s.cancel_job(gone.job_id)
        kill_tree(pid)

    # Jobs with dependencies and an allocation, through the original's fake
    # scheduler. It cannot format dependencies, so the edges go in through the
    # store's public add_dependencies, as the original's submit writes them.
    store = JobStore(db)
    with make_submitor("demo", job_duration=0.0, store=store) as s:
        first = s.submit_job(argv=["prepare"], scheduling=JobScheduling(partition="gpu", account="proj"))
        second = s.submit_job(argv=["train"], metadata={"stage": "2"})
        third = s.submit_job(argv=["report"], scheduling=JobScheduling(partition="cpu"))
        for h in (first, second, third):
            h.wait(timeout=60)
        first_sid = s.get_job(first.job_id).scheduler_job_id
        second_sid = s.get_job(second.job_id).scheduler_job_id
        store.add_dependencies(second.job_id, [JobDependency(second.job_id, first.job_id, "afterok", f"afterok:{first_sid}")])
        store.add_dependencies(
            third.job_id,
            [
                JobDependency(third.job_id, first.job_id, "afterany", f"afterany:{first_sid}"),
                JobDependency(third.job_id, second.job_id, "afterany", f"afterany:{second_sid}"),
            ],
        )
        roles.update(upstream=first.job_id, downstream=second.job_id, joined=third.job_id)
    store.close()

    # One job still running when the store is copied (the switch happens mid-run).
    with Submitor(target=Cluster("dev", "local")) as s:
        live = s.submit_job(argv=["sleep", "300"], metadata={"role": "running"})
        roles["running"] = live.job_id
        wait_running(s, live.job_id)
        live_pid = int(s.get_job(live.job_id).scheduler_job_id)
    # Every connection is closed, so the WAL is checkpointed into the main
    # file: a byte copy is the store as a user would have it.
    if Path(f"{db}-wal").exists():
        raise SystemExit(f"{db}-wal is still there: a connection was left open")
    copy = out / "jobs.db"
    shutil.copyfile(db, copy)
    kill_tree(live_pid)

    # Read back from a scratch copy, so the fixture file stays as copied.
    scratch = Path.cwd() / "readback.db"
    shutil.copyfile(copy, scratch)
    meta = sqlite3.connect(scratch)
    try:
        schema = meta.execute("SELECT value FROM molq_meta WHERE key = 'schema_version'").fetchone()[0]
        counts = {
            t: meta.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for (t,) in meta.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        }
    finally:
        meta.close()
    expected = {
        "molq_version": os.environ.get("MOLQ_ORIGINAL_VERSION") or getattr(molq, "__version__", None),
        "schema_version": schema,
        "table_counts": counts,
        "roles": roles,
        **read_back(scratch),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(Path.cwd() / ".molq", ignore_errors=True)
    print(f"{expected['molq_version']}: schema {schema}, {counts}")


if __name__ == "__main__":
    main(sys.argv[1])
