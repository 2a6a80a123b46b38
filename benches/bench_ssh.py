"""SSH transport: round trips per operation, and the price of one round trip.

Needs the sshd testbed (``sudo scripts/sshd-up.sh``); the Slurm part also needs
``scripts/slurm-up.sh`` and is skipped without it.

(a) counts ssh processes (each is one round trip) per submit and per refresh,
    for growing job counts: a refresh must cost one poll whatever the count
    (plus one batched sacct for Slurm jobs that left the queue);
(b) latency of a trivial command through the shared master vs over a fresh
    connection each time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import molq as mq
from molq.options import SlurmSchedulerOptions, SshTransportOptions
from molq.store import JobStore
from molq.transport.ssh import SshTransport

STATE = Path(os.environ.get("MOLQ_SSHD_STATE", "/run/molq-sshd"))
CONFIG = str(STATE / "ssh_config")
REPO = Path(__file__).resolve().parents[1]


def up(script: str) -> bool:
    done = subprocess.run(["bash", str(REPO / "scripts" / script), "--check"], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"skipped: {script} --check: {done.stdout.strip() or done.stderr.strip()}")
    return done.returncode == 0


def count(transport: SshTransport, fn) -> int:  # type: ignore[no-untyped-def]
    before = transport.process_count
    fn()
    return transport.process_count - before


def cleanup(t: SshTransport, stop: list[str], work: str) -> None:
    """Stop the benchmark's jobs and remove its directory, riding out a short outage
    of the test sshd (other test runs on this machine stop and start it)."""
    for _attempt in range(10):
        try:
            t.run(stop)
            t.remove(work, recursive=True)
            break
        except mq.TransportError as exc:
            print(f"cleanup failed ({exc}); again in 3 s", file=sys.stderr)
            time.sleep(3)
    t.close()


def local_backend_counts(tmp: str) -> None:
    cluster = mq.Cluster.from_ssh_alias("molq-test", scheduler="local", config_path=CONFIG)
    t: SshTransport = cluster.transport  # type: ignore[assignment]
    work = f"{t.home()}/molq-bench-{os.getpid()}"
    with mq.Submitor(cluster, store=JobStore(f"{tmp}/local.db"), jobs_dir=f"{work}/jobs") as sub:
        try:
            first = count(t, lambda: sub.submit_job(argv=["sleep", "600"]))
            per_submit = [count(t, lambda: sub.submit_job(argv=["sleep", "600"])) for _ in range(20)]
            print(
                f"local over ssh: first submit {first} ssh calls (the jobs directory is created), "
                f"then {statistics.mode(per_submit)} per submit (mkdir, write run.sh, launch)"
            )
            for target in (25, 100, 500):
                while len(sub.list_jobs()) < target:
                    sub.submit_job(argv=["sleep", "600"])
                sub.refresh_jobs(force=True)
                start = time.perf_counter()
                calls = count(t, lambda: sub.refresh_jobs(force=True))
                took = (time.perf_counter() - start) * 1000
                print(f"  refresh of {target:4d} running jobs: {calls} ssh call(s), {took:6.1f} ms")
        finally:
            # one remote command stops every job's process group (a cancel each would
            # be 500 round trips)
            pids = [r.scheduler_job_id for r in sub.list_jobs(include_terminal=True) if r.scheduler_job_id]
            cleanup(t, ["sh", "-c", 'for p do kill -TERM -- "-$p" 2>/dev/null; done; exit 0', "sh", *pids], work)


def slurm_counts(tmp: str) -> None:
    cluster = mq.Cluster.from_ssh_alias(
        "molq-test-root",
        scheduler="slurm",
        config_path=CONFIG,
        scheduler_options=SlurmSchedulerOptions(extra_sbatch_flags=("--hold",)),
    )
    t: SshTransport = cluster.transport  # type: ignore[assignment]
    work = f"{t.home()}/molq-bench-{os.getpid()}"
    with mq.Submitor(cluster, store=JobStore(f"{tmp}/slurm.db"), jobs_dir=f"{work}/jobs") as sub:
        try:
            _slurm_rounds(sub, t)
        finally:
            ids = [r.scheduler_job_id for r in sub.list_jobs(include_terminal=True) if r.scheduler_job_id]
            cleanup(t, ["scancel", *ids] if ids else ["true"], work)


def _slurm_rounds(sub: mq.Submitor, t: SshTransport) -> None:
    """Submit held jobs, refresh at growing counts, then let them all leave the queue."""
    sub.submit_job(argv=["true"])
    per_submit = [count(t, lambda: sub.submit_job(argv=["true"])) for _ in range(20)]
    print(f"slurm over ssh: {statistics.mode(per_submit)} ssh calls per submit (mkdir, write script, sbatch)")
    for target in (21, 100, 500):
        while len(sub.list_jobs()) < target:
            sub.submit_job(argv=["true"])
        start = time.perf_counter()
        calls = count(t, lambda: sub.refresh_jobs(force=True))
        took = (time.perf_counter() - start) * 1000
        print(f"  refresh of {target:4d} held jobs: {calls} ssh call(s) (squeue), {took:6.1f} ms")
    ids = [r.scheduler_job_id for r in sub.list_jobs()]
    t.run(["scancel", *ids])  # all leave the queue at once
    time.sleep(3)  # let sacct catch up
    start = time.perf_counter()
    calls = count(t, lambda: sub.refresh_jobs(force=True))
    took = (time.perf_counter() - start) * 1000
    left = len(sub.list_jobs())
    print(
        f"  refresh after {len(ids)} jobs left the queue: {calls} ssh calls (squeue + one sacct), "
        f"{took:6.1f} ms, {left} still active"
    )


def latency() -> None:
    n = 30
    shared = SshTransport(SshTransportOptions("molq-test", ssh_opts=("-F", CONFIG)))
    fresh = SshTransport(
        SshTransportOptions("molq-test", ssh_opts=("-F", CONFIG, "-o", "ControlPath=none"), control_master=False)
    )
    shared.run(["true"])
    for label, t in (("through the master", shared), ("fresh connection each", fresh)):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            t.run(["true"])
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"trivial command {label:<24} median {statistics.median(times):6.1f} ms, "
            f"best {min(times):6.1f} ms ({n} calls)"
        )
    start = time.perf_counter()
    for i in range(n):
        shared.exists(f"/tmp/{i}")
    print(f"exists() through the master            {(time.perf_counter() - start) * 1000 / n:6.1f} ms per call")
    shared.close()


def main() -> None:
    if not up("sshd-up.sh"):
        sys.exit(0)
    parts = sys.argv[1:] or ["latency", "local", "slurm"]  # e.g. `bench_ssh.py slurm`
    with tempfile.TemporaryDirectory() as tmp:
        if "latency" in parts:
            latency()
        if "local" in parts:
            local_backend_counts(tmp)
        if "slurm" in parts and up("slurm-up.sh"):
            slurm_counts(tmp)


if __name__ == "__main__":
    main()
