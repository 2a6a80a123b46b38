"""How much `import molq` adds to a bare interpreter start (target: <= 25 ms)."""

from __future__ import annotations

import subprocess
import sys

from _util import report


def startup(code: str, runs: int) -> float:
    """Median of the best half of ``runs`` interpreter starts running ``code``."""
    import time

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    times.sort()
    best = times[: max(1, runs // 2)]
    return sum(best) / len(best)


def main() -> None:
    runs = 30
    bare = startup("pass", runs)
    with_molq = startup("import molq", runs)
    report("interpreter start, bare", bare * 1000, "ms", "-")
    report("interpreter start + import molq", with_molq * 1000, "ms", "-")
    report("import molq adds", (with_molq - bare) * 1000, "ms", "<= 25 ms")


if __name__ == "__main__":
    main()
