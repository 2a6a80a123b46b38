"""Slurm refresh at scale, against recorded-format squeue/sacct output.

Targets: a refresh of 100,000 tracked jobs that all change state <= 1.5 s;
a refresh in which 10 % of 100,000 jobs finished <= 2 s (their exit codes
come from batched sacct calls, one per chunk). Parsing <= 0.3 us per squeue
line at 100,000 and 1,000,000 lines.

A replaying transport serves the command output, so what is timed is molq:
command building, parsing, the reconcile transaction, event bookkeeping.
Run with ``--live`` to also time one refresh over 10,000 held jobs in the
real Slurm testbed (scripts/slurm-up.sh; takes a minute to submit them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import molq as mq
from _util import report
from molq import _core
from molq.store import JobStore
from molq.transport import CommandResult, LocalTransport

NOW = int(time.time())


def squeue_lines(ids: range, state: str) -> bytes:
    return "".join(
        f"{i}|{state}|alice|compute|{NOW - 600}|{NOW - 60 if state == 'RUNNING' else 'N/A'}|None|job-{i}\n" for i in ids
    ).encode()


def sacct_lines(ids: list[str]) -> bytes:
    return "".join(f"{i}|{i}|COMPLETED|0:0|{NOW - 60}|{NOW - 5}|None\n" for i in ids).encode()


class Replay(LocalTransport):
    """Answers squeue with a fixed listing and sacct for the ids asked."""

    def __init__(self, squeue_out: bytes) -> None:
        super().__init__()
        self.squeue_out = squeue_out
        self.calls: dict[str, int] = {}

    def run(self, argv: Any, **kwargs: Any) -> CommandResult:
        name = os.path.basename(argv[0])
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == "squeue":
            return CommandResult(argv, 0, self.squeue_out, b"")
        if name == "sacct":
            ids = argv[argv.index("-j") + 1].split(",")
            return CommandResult(argv, 0, sacct_lines(ids), b"")
        raise AssertionError(f"unexpected command {argv}")


def build_store(path: str, count: int) -> JobStore:
    store = JobStore(path)
    now = time.time()
    for i in range(1, count + 1):
        job_id = f"job-{i:07d}"
        store.register_job(
            {
                "job_id": job_id,
                "cluster_name": "hpc",
                "scheduler": "slurm",
                "root_job_id": job_id,
                "attempt": 1,
                "previous_attempt_job_id": None,
                "retry_group_id": job_id,
                "command_type": "argv",
                "command_display": "python train.py",
                "cwd": "/home/alice",
                "job_dir": f"/home/alice/.molq/jobs/{job_id}",
                "metadata": {},
                "request_json": "{}",
                "retry_json": None,
                "profile_name": None,
            },
            [],
            now,
        )
        store.mark_submitted(job_id, str(i), now)
    return store


def timed_refresh(db: str, squeue_out: bytes) -> tuple[float, Replay, int]:
    transport = Replay(squeue_out)
    store = JobStore(db)
    sub = mq.Submitor(mq.Cluster("hpc", "slurm", transport=transport), store=store)
    start = time.perf_counter()
    changes = sub.refresh_jobs()
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed, transport, len(changes)


def scale(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base.db")
        t0 = time.perf_counter()
        build_store(base, count).close()
        print(f"(setup: {count} tracked jobs in {time.perf_counter() - t0:.1f} s)")
        for name, listing in (
            ("all change state", squeue_lines(range(1, count + 1), "RUNNING")),
            ("10% finished", squeue_lines(range(1, int(count * 0.9) + 1), "RUNNING")),
        ):
            db = os.path.join(tmp, "run.db")
            subprocess.run(["cp", base, db], check=True)
            elapsed, transport, changes = timed_refresh(db, listing)
            target = "<= 1.5 s" if name == "all change state" else "<= 2 s"
            report(f"refresh {count:,} jobs, {name}", elapsed, "s", target)
            print(f"    transitions: {changes:,}; commands: {transport.calls}")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)


def parse_speed() -> None:
    for lines in (100_000, 1_000_000):
        text = squeue_lines(range(1, lines + 1), "PENDING")
        best = min(_time_parse(text) for _ in range(3))
        report(f"parse_queue('slurm'), {lines:,} lines", best / lines * 1e6, "us/line", "<= 0.3 us")


def _time_parse(text: bytes) -> float:
    start = time.perf_counter()
    snapshot = _core.parse_queue("slurm", text)
    elapsed = time.perf_counter() - start
    assert len(snapshot) > 0
    return elapsed


def live(count: int = 10_000) -> None:
    """One refresh over ``count`` held jobs in the real testbed."""
    ids = []
    for _ in range(count):
        out = subprocess.run(
            ["sbatch", "--parsable", "--hold", "--job-name=molq-bench", "--wrap", "true"],
            capture_output=True,
            text=True,
            check=True,
        )
        ids.append(out.stdout.strip().split(";")[0])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = JobStore(os.path.join(tmp, "live.db"))
            now = time.time()
            for sid in ids:
                job_id = f"live-{sid}"
                store.register_job(
                    {
                        "job_id": job_id,
                        "cluster_name": "testbed",
                        "scheduler": "slurm",
                        "root_job_id": job_id,
                        "attempt": 1,
                        "previous_attempt_job_id": None,
                        "retry_group_id": job_id,
                        "command_type": "argv",
                        "command_display": "true",
                        "cwd": tmp,
                        "job_dir": tmp,
                        "metadata": {},
                        "request_json": "{}",
                        "retry_json": None,
                        "profile_name": None,
                    },
                    [],
                    now,
                )
                store.mark_submitted(job_id, sid, now)
            sub = mq.Submitor(mq.Cluster("testbed", "slurm"), store=store)
            start = time.perf_counter()
            changes = sub.refresh_jobs()
            report(f"live testbed: refresh of {count:,} pending jobs", time.perf_counter() - start, "s", "-")
            print(f"    transitions: {len(changes):,} (submitted -> queued)")
            store.close()
    finally:
        subprocess.run(["scancel", "--name=molq-bench"], check=False)


if __name__ == "__main__":
    parse_speed()
    scale(100_000)
    if "--live" in sys.argv:
        live()
