"""One refresh of a busy Slurm cluster, the whole call a user makes.

A fake busy Slurm: ``squeue`` and ``sacct`` are real executables (shell and
awk) that print the exact formats molq asks for. ``squeue --me`` lists every
tracked job plus 1,000 other jobs molq did not submit; ``sacct -j`` prints the
accounting rows of the ids asked for. Every refresh really polls (the shared
poll lease is given a zero interval), so what is timed is ``refresh_jobs()``:
the store read, the scheduler commands, parsing, the reconcile transaction,
events and retries bookkeeping.

The store holds realistic rows: full metadata and request JSON per job, and
finished jobs of earlier runs beside the tracked ones.

Targets (issue 12): 10,000 tracked jobs, nothing changed: <= 10 ms beyond
the squeue command's own time; 100,000 jobs all changing state: <= 1.2 s;
10% of 100,000 finished: <= 1.5 s. Native calls per cycle are counted and
must not grow with the job count.

    python bench_refresh.py            # all cases
    python bench_refresh.py --quick    # the 10,000-job case only
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time

import molq as mq
from molq.options import SlurmSchedulerOptions
from molq.store import JobStore

NOW = int(time.time())
OTHERS = 1000
HISTORY = 20_000

SQUEUE = """#!/bin/sh
# A busy cluster: the listing in $BENCH_DIR/queue, whatever is asked.
exec cat "$BENCH_DIR/queue"
"""

SACCT = """#!/bin/sh
# Accounting rows of the ids after -j, from $BENCH_DIR/accounting.
ids=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-j" ]; then ids=$2; shift; fi
  shift
done
exec awk -F'|' -v ids="$ids" 'BEGIN { n = split(ids, a, ","); for (i = 1; i <= n; i++) want[a[i]] = 1 }
  ($1 in want) { print }' "$BENCH_DIR/accounting"
"""


def squeue_line(sid: int, state: str, user: str = "alice") -> str:
    start = NOW - 60 if state == "RUNNING" else "N/A"
    reason = "None" if state == "RUNNING" else "Priority"
    return f"{sid}|{state}|{user}|compute|{NOW - 600}|{start}|{reason}|train-{sid}\n"


def write_queue(bench_dir: str, running: range, pending: range = range(0)) -> None:
    with open(os.path.join(bench_dir, "queue"), "w") as f:
        f.writelines(squeue_line(i, "RUNNING") for i in running)
        f.writelines(squeue_line(i, "PENDING") for i in pending)
        # other users' jobs and jobs this store does not track
        f.writelines(squeue_line(900_000_000 + i, "PENDING", user=f"user{i % 37}") for i in range(OTHERS))


def write_accounting(bench_dir: str, finished: range) -> None:
    with open(os.path.join(bench_dir, "accounting"), "w") as f:
        f.writelines(f"{i}|{i}|COMPLETED|0:0|{NOW - 60}|{NOW - 5}|None\n" for i in finished)


def request_json(i: int) -> str:
    return json.dumps(
        {
            "command": {"argv": ["python", "train.py", f"--seed={i}", "--lr=0.01"]},
            "resources": {"cpu_count": 4, "memory": 8 << 30, "time_limit": 7200},
            "scheduling": {"partition": "compute", "account": "proj-123", "qos": "normal"},
            "execution": {"cwd": "/home/alice/project", "env": {"OMP_NUM_THREADS": "4"}},
        }
    )


def build_store(path: str, tracked: int) -> None:
    store = JobStore(path)
    now = time.time()
    for i in range(1, tracked + HISTORY + 1):
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
                "command_display": f"python train.py --seed={i} --lr=0.01",
                "cwd": "/home/alice/project",
                "job_dir": f"/home/alice/.molq/jobs/{job_id}",
                "metadata": {"sweep": "lr-scan", "seed": str(i), "owner": "alice", "stage": "train"},
                "request_json": request_json(i),
                "retry_json": None,
                "profile_name": "hpc",
            },
            [],
            now - 3600,
        )
        sid = i if i <= tracked else 800_000_000 + i
        store.mark_submitted(job_id, str(sid), now - 3600)
    # the history: earlier runs' jobs, finished
    history = [f"job-{i:07d}" for i in range(tracked + 1, tracked + HISTORY + 1)]
    for job_id in history:
        store.cancel(job_id, "an earlier run", now - 1800)
    store.close()


def fake_slurm(bench_dir: str) -> SlurmSchedulerOptions:
    paths = {}
    for name, text in (("squeue", SQUEUE), ("sacct", SACCT)):
        path = os.path.join(bench_dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
        paths[name] = path
    os.environ["BENCH_DIR"] = bench_dir
    return SlurmSchedulerOptions(squeue_path=paths["squeue"], sacct_path=paths["sacct"])


def submitor(db: str, options: SlurmSchedulerOptions) -> mq.Submitor:
    cluster = mq.Cluster("hpc", "slurm", scheduler_options=options)
    return mq.Submitor(cluster, store=JobStore(db), min_poll_interval=0.0)


def native_calls(sub: mq.Submitor) -> tuple[int, int]:
    """(native calls, transitions) of one refresh, counted by the profiler."""
    profile = cProfile.Profile()
    profile.enable()
    changes = sub.refresh_jobs(force=True)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    calls = sum(n for (_, _, name), (n, *_rest) in stats.items() if "molq._core" in name)
    return calls, len(changes)


def squeue_alone(options: SlurmSchedulerOptions, repeat: int = 15) -> float:
    """Median seconds of the squeue command itself, run the way molq runs it."""
    from molq.transport.local import LocalTransport

    transport = LocalTransport()
    argv = [options.squeue_path, "-h", "-o", "x", "--me"]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        transport.run(argv, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_store(base: str, db: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    shutil.copy(base, db)


def unchanged(tmp: str, options: SlurmSchedulerOptions, tracked: int = 10_000, repeat: int = 15) -> None:
    base = os.path.join(tmp, f"base-{tracked}.db")
    build_store(base, tracked)
    db = os.path.join(tmp, "run.db")
    copy_store(base, db)
    write_queue(tmp, range(1, tracked + 1))
    write_accounting(tmp, range(0))
    sub = submitor(db, options)
    first = len(sub.refresh_jobs(force=True))  # submitted -> running
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        changes = sub.refresh_jobs(force=True)
        times.append(time.perf_counter() - start)
        assert not changes
    calls, _ = native_calls(sub)
    sub.close()
    command = squeue_alone(options)
    median = statistics.median(times)
    print(
        f"{tracked:,} tracked jobs (+{HISTORY:,} finished in the store, +{OTHERS:,} other jobs in squeue), "
        f"nothing changed ({first:,} transitions on the first refresh):"
    )
    print(
        f"  refresh_jobs()      median {median * 1e3:6.1f} ms  (min {min(times) * 1e3:.1f}, "
        f"max {max(times) * 1e3:.1f}, {repeat} runs)"
    )
    print(f"  squeue alone        median {command * 1e3:6.1f} ms")
    print(f"  beyond squeue       median {(median - command) * 1e3:6.1f} ms  (target <= 10 ms)")
    print(f"  native calls/cycle  {calls}")


def changing(tmp: str, options: SlurmSchedulerOptions, tracked: int = 100_000, repeat: int = 3) -> None:
    base = os.path.join(tmp, f"base-{tracked}.db")
    start = time.perf_counter()
    build_store(base, tracked)
    print(f"(setup: {tracked:,} tracked + {HISTORY:,} finished jobs in {time.perf_counter() - start:.0f} s)")
    db = os.path.join(tmp, "run.db")
    tenth = tracked // 10
    for name, target in (("all change state", "<= 1.2 s"), ("10% finished", "<= 1.5 s")):
        times, calls = [], []
        for _ in range(repeat):
            copy_store(base, db)
            sub = submitor(db, options)
            if name == "all change state":
                write_queue(tmp, range(1, tracked + 1))
                write_accounting(tmp, range(0))
            else:
                write_queue(tmp, range(1, tracked + 1))
                sub.refresh_jobs(force=True)  # every job running first
                write_queue(tmp, range(1, tracked - tenth + 1))
                write_accounting(tmp, range(tracked - tenth + 1, tracked + 1))
            begin = time.perf_counter()
            changes = sub.refresh_jobs(force=True)
            times.append(time.perf_counter() - begin)
            sub.close()
            calls.append(len(changes))
        median = statistics.median(times)
        print(
            f"{tracked:,} tracked jobs, {name}: median {median:.3f} s (min {min(times):.3f}, "
            f"max {max(times):.3f}, {repeat} runs; {calls[0]:,} transitions)  (target {target})"
        )


def scaling(tmp: str, options: SlurmSchedulerOptions) -> None:
    """Native calls of one cycle at two sizes: the count must not grow."""
    counts = {}
    for tracked in (1_000, 10_000):
        base = os.path.join(tmp, f"calls-{tracked}.db")
        build_store(base, tracked)
        write_queue(tmp, range(1, tracked - tracked // 10 + 1))
        write_accounting(tmp, range(tracked - tracked // 10 + 1, tracked + 1))
        sub = submitor(base, options)
        counts[tracked] = native_calls(sub)
        sub.close()
    print(
        "native calls of a cycle in which 10% finished: "
        + ", ".join(f"{n:,} jobs: {c} calls ({t:,} transitions)" for n, (c, t) in counts.items())
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        options = fake_slurm(tmp)
        unchanged(tmp, options)
        if "--quick" not in sys.argv:
            scaling(tmp, options)
            changing(tmp, options)
