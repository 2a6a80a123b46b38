"""The engine behind the fake PBS and LSF commands: a tiny batch system that
really runs jobs on this machine.

State lives in one directory (``MOLQ_FAKE_PBS_DIR`` / ``MOLQ_FAKE_LSF_DIR``):
``next_id``, and ``jobs/<id>.json`` per job (array elements are jobs named
``<id>[<index>]``). Every read-modify-write holds ``lock`` (flock). Each job
gets a detached runner process (``python3 _engine.py run <dir> <id>``) that
waits for its dependencies, runs the script with bash, and records how it
ended; a delete marks the job and kills the runner's process group, or, to
play an execution host slow to report (or gone), leaves it ``exiting`` for a
while (a detached ``end-later`` process ends it) or for good.

Only the standard library: the fakes run with whatever python3 is on PATH.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Job = dict[str, Any]


class State:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        (self.root / "jobs").mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, var: str) -> State:
        root = os.environ.get(var)
        if not root:
            sys.stderr.write(f"fake scheduler: set {var} to a state directory\n")
            sys.exit(2)
        return cls(root)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with open(self.root / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _path(self, job_id: str) -> Path:
        return self.root / "jobs" / f"{job_id}.json"

    def get(self, job_id: str) -> Job | None:
        try:
            return json.loads(self._path(job_id).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, job: Job) -> None:
        path = self._path(job["id"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job))
        os.replace(tmp, path)

    def update(self, job_id: str, change: Callable[[Job], None]) -> Job | None:
        with self.locked():
            job = self.get(job_id)
            if job is not None:
                change(job)
                self.put(job)
            return job

    def all(self) -> list[Job]:
        jobs = []
        for path in (self.root / "jobs").glob("*.json"):
            with contextlib.suppress(json.JSONDecodeError, FileNotFoundError):
                jobs.append(json.loads(path.read_text()))
        return sorted(jobs, key=lambda j: (int(j["id"].split("[")[0]), j.get("index") or 0))

    def members(self, job_id: str) -> list[Job]:
        """The job itself, or the elements of array `job_id` (PBS `123[]`, LSF `123`)."""
        job = self.get(job_id)
        if job is not None and not job.get("parent"):
            return [job]
        return [j for j in self.all() if j.get("array") == job_id]

    def new_id(self) -> int:
        with self.locked():
            path = self.root / "next_id"
            n = int(path.read_text()) if path.exists() else 100
            path.write_text(str(n + 1))
            return n


def log(job: Job, source: str, message: str, when: float | None = None) -> None:
    job.setdefault("log", []).append([when or time.time(), source, message])


def start_runner(state: State, job_id: str) -> None:
    runner = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "run", str(state.root), job_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    # recorded so a test's teardown can stop a runner still waiting (a held job)
    state.update(job_id, lambda j: j.__setitem__("runner", runner.pid))


def dependency_verdict(state: State, deps: list[list[str]]) -> str:
    """'go', 'wait' or 'never' for [condition, job id] pairs; conditions:
    ok (exit 0), notok (non-zero), any (ended), started."""
    verdict = "go"
    for condition, dep_id in deps:
        members = state.members(dep_id)
        if not members:
            return "never"
        ended = all(m["state"] == "done" for m in members)
        if condition == "started":
            if not ended and all(m["start"] is None for m in members):
                verdict = "wait"
            continue
        if not ended:
            verdict = "wait"
            continue
        ok = all(m.get("exit") == 0 and not m.get("deleted") and not m.get("walltime") for m in members)
        if (condition == "ok" and not ok) or (condition == "notok" and ok):
            return "never"
    return verdict


def finish(job: Job, exit_code: int | None, *, deleted: bool = False, walltime: bool = False) -> None:
    job["state"] = "done"
    job["exit"] = exit_code
    job["end"] = time.time()
    job["deleted"] = job.get("deleted") or deleted
    job["walltime"] = walltime


def run_job(state: State, job_id: str) -> None:
    """The runner: wait for dependencies and holds, run the script, record the end."""
    while True:
        job = state.get(job_id)
        if job is None or job["state"] == "done":
            return
        if not job.get("held"):
            verdict = dependency_verdict(state, job.get("deps", []))
            if verdict == "go":
                break
            if verdict == "never" and job.get("never_satisfied") == "delete":
                state.update(
                    job_id,
                    lambda j: (
                        finish(j, None, deleted=True),
                        log(j, "S", "Job deleted as result of dependency on job"),
                    ),
                )
                return
        time.sleep(0.2)
    env = dict(os.environ, **job.get("env", {}))
    with open(job["out"], "ab") as out, open(job["err"], "ab") as err:
        proc = subprocess.Popen(
            ["bash", job["script"]], cwd=job["cwd"], env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )

    def started(j: Job) -> None:
        j["state"], j["start"], j["pid"] = "running", time.time(), proc.pid
        log(j, "S", "Job Run at request of Scheduler on exec_vnode (localhost:ncpus=1)")

    if state.update(job_id, started) is None:
        proc.kill()
        return
    limit = job.get("walltime_limit")
    try:
        code = proc.wait(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        code, timed_out = proc.wait(), True

    def ended(j: Job) -> None:
        if j["state"] in ("done", "exiting"):  # deleted meanwhile: the delete records the end
            return
        if timed_out:
            finish(j, None, walltime=True)
        elif code < 0:
            finish(j, 128 - code)  # killed by a signal: the shell's 128+N
            j["signal"] = -code
        else:
            finish(j, code)

    state.update(job_id, ended)


def _kill(job: Job) -> None:
    pid = job.get("pid")
    if pid:
        # the runner, bash and whatever bash started share one process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)


def delete(state: State, job_id: str, exit_code: int | None, *, linger: float = 0.0) -> str:
    """'deleted', 'finished' or 'unknown'. A running job given a ``linger``
    (seconds, ``math.inf`` for good) stays ``exiting`` that long first; a
    job already exiting ends now when given none (a forced delete)."""
    outcome = "unknown"
    later = False

    def mark(j: Job) -> None:
        nonlocal outcome, later
        if j["state"] == "done":
            outcome = "finished"
            return
        outcome = "deleted"
        if j["state"] in ("running", "exiting") and linger > 0:
            if j["state"] == "running":
                j["state"] = "exiting"
                later = not math.isinf(linger)
                log(j, "S", "Job deleted at request of user; exiting")
            return
        if j["state"] in ("running", "exiting"):
            _kill(j)
            finish(j, exit_code, deleted=True)
        else:
            finish(j, None, deleted=True)
        log(j, "S", "Job deleted at request of user")

    state.update(job_id, mark)
    if later:
        ender = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "end-later", str(state.root), job_id, str(linger)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        # recorded so a test's teardown can stop it
        state.update(job_id, lambda j: j.__setitem__("ender", ender.pid))
    return outcome


def linger_for(var: str, forced: bool) -> float:
    """How long a deleted running job stays exiting, from environment variable
    ``var``: unset (not at all), ``slow:<seconds>`` (a host slow to report;
    a forced delete ends it now), ``stubborn`` (only a forced delete ends it)
    or ``never`` (its host is gone: nothing ends it)."""
    mode = os.environ.get(var, "")
    if mode == "never":
        return math.inf
    if forced or not mode:
        return 0.0
    if mode == "stubborn":
        return math.inf
    return float(mode.removeprefix("slow:"))


def end_later(state: State, job_id: str, seconds: float) -> None:
    """The execution host reporting an exiting job's end ``seconds`` from now."""
    time.sleep(seconds)

    def end(j: Job) -> None:
        if j["state"] == "exiting":
            _kill(j)
            finish(j, None, deleted=True)
            log(j, "S", "Job deleted at request of user")

    state.update(job_id, end)


if __name__ == "__main__" and sys.argv[1:2] == ["run"]:
    run_job(State(sys.argv[2]), sys.argv[3])
elif __name__ == "__main__" and sys.argv[1:2] == ["end-later"]:
    end_later(State(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
