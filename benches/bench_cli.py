"""The `molq` command's answer time, interpreter start-up included.

Targets: `molq --help` and `molq list` on a store of 100,000 records in <= 150 ms.
Each figure is the wall time of a whole `python -m molq.cli ...` process; the
store commands run on a store of 100,000 records.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from _util import best_of, report
from bench_list_jobs import populate
from molq.store import JobStore

COUNT = 100_000


def timed(args: list[str], env: dict[str, str], code: int = 0) -> tuple[float, float]:
    argv = [sys.executable, "-m", "molq.cli", *args]

    def run() -> None:
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        assert done.returncode == code, (argv, done.returncode)

    run()  # warm the page cache
    return best_of(run, repeat=9)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "jobs.db")
        store = JobStore(db)
        t0 = time.perf_counter()
        populate(store, "bench", COUNT)
        fill = time.perf_counter() - t0
        store.close()
        env = {**os.environ, "MOLQ_HOME": tmp}
        report(f"register+submit {COUNT:,} records (setup)", fill, "s", "-")
        bare, _ = best_of(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat=9)
        report("bare interpreter start (reference)", bare * 1000, "ms", "-")
        newest = f"job-{COUNT - 1:07d}"
        # The bench ids are fixed-width numbers, so a shorter prefix is ambiguous
        # (exit 2): the lookup still reads every id, which is what is measured.
        for label, args, target, code in (
            ("molq --help", ["--help"], "<= 150 ms", 0),
            ("molq list (newest 50)", ["list"], "<= 150 ms", 0),
            ("molq list --json (newest 50)", ["list", "--json"], "<= 150 ms", 0),
            ("molq list --limit 1000", ["list", "--limit", "1000"], "-", 0),
            ("molq status ID --no-refresh", ["status", newest, "--no-refresh"], "-", 0),
            ("molq status PREFIX --no-refresh", ["status", newest[:10], "--no-refresh"], "-", 2),
        ):
            best, median = timed(args, env, code)
            report(f"{label}, best", best * 1000, "ms", target)
            report(f"{label}, median", median * 1000, "ms", target)


if __name__ == "__main__":
    main()
