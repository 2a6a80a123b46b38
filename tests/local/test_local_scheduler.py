"""The local scheduler with real processes: slots, backfill, dependencies,
limits, GPUs and affinity, cancel in the queue, a crashed holder, and two
submitting processes sharing one set of slots.

Concurrency is measured from the jobs' own start and end stamps, not from
molq's records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.options import LocalSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

# Each job appends "<name> start <t>" and "<name> end <t>" to $2 around its work ($3).
_STAMPED = 'echo "$1 start $(date +%s.%N)" >> "$2"; eval "$3"; rc=$?; echo "$1 end $(date +%s.%N)" >> "$2"; exit $rc'


@pytest.fixture
def slots(tmp_path: Path) -> Path:
    return tmp_path / "slots"


def _submitor(tmp_path: Path, slots: Path, **capacity: object) -> mq.Submitor:
    options = LocalSchedulerOptions(slots_dir=str(slots), **capacity)  # type: ignore[arg-type]
    return mq.Submitor(
        mq.Cluster("box", "local", scheduler_options=options),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
    )


@pytest.fixture
def two_cpus(tmp_path: Path, slots: Path) -> Iterator[mq.Submitor]:
    sub = _submitor(tmp_path, slots, cpus=2, gpus=0)
    yield sub
    sub.close()


def _stamped(sub: mq.Submitor, name: str, stamps: Path, work: str, **kwargs: object) -> mq.JobHandle:
    return sub.submit_job(argv=["bash", "-c", _STAMPED, "job", name, str(stamps), work], **kwargs)  # type: ignore[arg-type]


def _intervals(stamps: Path) -> dict[str, tuple[float, float]]:
    seen: dict[str, dict[str, float]] = {}
    for line in stamps.read_text().splitlines():
        name, what, at = line.split()
        seen.setdefault(name, {})[what] = float(at)
    return {name: (t["start"], t["end"]) for name, t in seen.items()}


def _most_at_once(intervals: dict[str, tuple[float, float]], weight: dict[str, int] | None = None) -> int:
    events = []
    for name, (start, end) in intervals.items():
        w = (weight or {}).get(name, 1)
        events += [(start, w), (end, -w)]
    most = now = 0
    # an end and a start at the same instant: the end first
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        now += delta
        most = max(most, now)
    return most


def _wait_for_state(sub: mq.Submitor, handle: mq.JobHandle, state: mq.JobState, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while sub.get_job(handle.job_id).state is not state:
        assert time.monotonic() < deadline, f"{handle.job_id} never became {state}: {sub.get_job(handle.job_id)}"
        sub.refresh_jobs(force=True)
        time.sleep(0.05)


def _wait_all(handles: list[mq.JobHandle], timeout: float = 60) -> list[mq.JobRecord]:
    return [h.wait(timeout=timeout) for h in handles]


def test_never_more_jobs_at_once_than_cpus(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    handles = [_stamped(two_cpus, f"j{i}", stamps, "sleep 0.4") for i in range(6)]
    records = _wait_all(handles)
    assert {r.state for r in records} == {mq.JobState.SUCCEEDED}
    spans = _intervals(stamps)
    assert len(spans) == 6
    assert _most_at_once(spans) == 2
    # three rounds of two, each started as soon as a slot came free
    assert max(e for _, e in spans.values()) - min(s for s, _ in spans.values()) < 0.4 * 3 + 1.0


def test_a_job_holds_its_cpu_count_and_waits_with_a_reason(tmp_path: Path, slots: Path) -> None:
    sub = _submitor(tmp_path, slots, cpus=3, gpus=0)
    stamps = tmp_path / "stamps"
    first = _stamped(sub, "a", stamps, "sleep 1.5", resources=mq.JobResources(cpu_count=2))
    second = _stamped(sub, "b", stamps, "sleep 0.2", resources=mq.JobResources(cpu_count=2))
    _wait_for_state(sub, second, mq.JobState.QUEUED)
    assert any("waiting for 2 CPUs; 1 free" in (t.reason or "") for t in sub.get_transitions(second.job_id))
    _wait_all([first, second])
    spans = _intervals(stamps)
    assert spans["b"][0] >= spans["a"][1] - 0.05
    sub.close()


def test_smaller_jobs_backfill_around_one_that_does_not_fit(tmp_path: Path, slots: Path) -> None:
    sub = _submitor(tmp_path, slots, cpus=2, gpus=0)
    stamps = tmp_path / "stamps"
    long = _stamped(sub, "long", stamps, "sleep 1.5")
    wide = _stamped(sub, "wide", stamps, "sleep 0.2", resources=mq.JobResources(cpu_count=2))
    small = _stamped(sub, "small", stamps, "sleep 0.2")
    _wait_all([long, wide, small])
    spans = _intervals(stamps)
    assert spans["small"][0] < spans["long"][1], "the 1-CPU job used the free CPU"
    assert spans["wide"][0] >= spans["long"][1] - 0.05
    assert _most_at_once(spans, {"wide": 2}) <= 2
    sub.close()


def test_dependency_chain_and_fan_in_run_in_order(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    a = _stamped(two_cpus, "a", stamps, "sleep 0.3")
    b = _stamped(two_cpus, "b", stamps, "sleep 0.1", after_success=[a.job_id])
    c = _stamped(two_cpus, "c", stamps, "sleep 0.1", after_success=[b.job_id])
    sweep = [_stamped(two_cpus, f"s{i}", stamps, "sleep 0.2") for i in range(4)]
    gather = _stamped(two_cpus, "gather", stamps, "true", after=[h.job_id for h in sweep])
    records = _wait_all([a, b, c, *sweep, gather])
    assert {r.state for r in records} == {mq.JobState.SUCCEEDED}
    spans = _intervals(stamps)
    assert spans["a"][1] <= spans["b"][0] <= spans["b"][1] <= spans["c"][0]
    assert spans["gather"][0] >= max(spans[f"s{i}"][1] for i in range(4))
    assert _most_at_once(spans) <= 2


def test_a_dependency_that_can_never_hold_cancels_the_dependent(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    failing = _stamped(two_cpus, "f", stamps, "(exit 3)")
    never = _stamped(two_cpus, "n", stamps, "true", after_success=[failing.job_id])
    on_failure = _stamped(two_cpus, "o", stamps, "true", after_failure=[failing.job_id])
    downstream = _stamped(two_cpus, "d", stamps, "true", after_success=[never.job_id])
    f, n, o, d = _wait_all([failing, never, on_failure, downstream])
    assert f.state is mq.JobState.FAILED and f.exit_code == 3
    assert n.state is mq.JobState.CANCELLED
    assert f"dependency {f.scheduler_job_id} ended FAILED" in (n.failure_reason or "")
    assert o.state is mq.JobState.SUCCEEDED
    assert d.state is mq.JobState.CANCELLED
    assert f"dependency {n.scheduler_job_id} ended CANCELLED" in (d.failure_reason or "")
    assert set(_intervals(stamps)) == {"f", "o"}, "the cancelled dependents never ran"


def test_after_started_waits_only_for_the_start(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    first = _stamped(two_cpus, "first", stamps, "sleep 1")
    follower = _stamped(two_cpus, "follower", stamps, "true", after_started=[first.job_id])
    _wait_all([first, follower])
    spans = _intervals(stamps)
    assert spans["first"][0] <= spans["follower"][0] < spans["first"][1]


def test_a_time_limit_ends_the_job_timed_out(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    marker = tmp_path / "child-alive"
    started = time.monotonic()
    handle = two_cpus.submit_job(
        argv=["bash", "-c", f"(sleep 60; touch {marker}) & sleep 60"],
        resources=mq.JobResources(time_limit=1),
    )
    record = handle.wait(timeout=30)
    assert record.state is mq.JobState.TIMED_OUT
    assert "time limit" in (record.failure_reason or "")
    assert time.monotonic() - started < 1 + 3 + 5, "SIGTERM after 1 s, then the grace period"
    time.sleep(0.2)
    assert not marker.exists()


def test_a_memory_limit_ends_the_job_out_of_memory(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    hog = textwrap.dedent(
        """
        import time
        chunks = []
        for _ in range(40):
            chunks.append(bytearray(16 << 20))
            for i in range(0, len(chunks[-1]), 4096):
                chunks[-1][i] = 1
            time.sleep(0.05)
        time.sleep(30)
        """
    )
    handle = two_cpus.submit_job(argv=[sys.executable, "-c", hog], resources=mq.JobResources(memory="100M"))
    record = handle.wait(timeout=60)
    assert record.state is mq.JobState.OUT_OF_MEMORY
    assert "over its limit of 100.0 MiB" in (record.failure_reason or "")


def test_gpus_are_handed_out_by_id(tmp_path: Path, slots: Path) -> None:
    sub = _submitor(tmp_path, slots, cpus=2, gpus="3,5")
    handles = [
        sub.submit_job(
            argv=["bash", "-c", 'echo "$CUDA_VISIBLE_DEVICES"; sleep 0.5'], resources=mq.JobResources(gpu_count=1)
        )
        for _ in range(2)
    ]
    records = _wait_all(handles)
    seen = sorted(Path(r.job_dir, "stdout.log").read_text().strip() for r in records if r.job_dir)
    assert seen == ["3", "5"]
    sub.close()


def test_cpu_count_pins_the_job_to_its_cpus(tmp_path: Path, slots: Path) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    sub = _submitor(tmp_path, slots, cpus=len(allowed), gpus=0)
    handle = sub.submit_job(
        argv=["bash", "-c", "grep Cpus_allowed_list /proc/self/status"], resources=mq.JobResources(cpu_count=1)
    )
    record = handle.wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    out = Path(record.job_dir or "", "stdout.log").read_text().split()[-1]
    assert out == str(allowed[0])
    sub.close()


def test_a_queued_job_cancelled_never_runs(tmp_path: Path, slots: Path) -> None:
    sub = _submitor(tmp_path, slots, cpus=1, gpus=0)
    stamps = tmp_path / "stamps"
    blocker = _stamped(sub, "blocker", stamps, "sleep 1")
    waiting = _stamped(sub, "waiting", stamps, "true")
    waiting.cancel()
    assert sub.get_job(waiting.job_id).state is mq.JobState.CANCELLED
    _wait_all([blocker])
    time.sleep(0.3)
    assert set(_intervals(stamps)) == {"blocker"}
    sub.close()


def test_a_job_that_can_never_fit_is_refused(two_cpus: mq.Submitor) -> None:
    with pytest.raises(mq.ConfigError, match=r"resources.cpu_count: the job asks for 64 CPUs.*has 2"):
        two_cpus.submit_job(argv=["true"], resources=mq.JobResources(cpu_count=64))


def test_a_later_start_gets_its_own_submitters_environment(tmp_path: Path, slots: Path, monkeypatch) -> None:
    sub = _submitor(tmp_path, slots, cpus=1, gpus=0)
    blocker = sub.submit_job(argv=["sleep", "0.5"])
    monkeypatch.setenv("MOLQ_TEST_MARK", 'it\'s "mine"\nline two')
    later = sub.submit_job(argv=["bash", "-c", 'printf %s "$MOLQ_TEST_MARK"'])
    monkeypatch.setenv("MOLQ_TEST_MARK", "changed after submit")
    _wait_all([blocker, later])
    record = sub.get_job(later.job_id)
    assert Path(record.job_dir or "", "stdout.log").read_text() == 'it\'s "mine"\nline two'
    sub.close()


def test_a_holder_killed_with_sigkill_gives_its_slot_back(tmp_path: Path, slots: Path) -> None:
    sub = _submitor(tmp_path, slots, cpus=1, gpus=0)
    holder = sub.submit_job(argv=["sleep", "60"])
    waiting = sub.submit_job(argv=["true"])
    held = next((slots / "held").iterdir())
    pid = int(held.read_text().split()[4])
    # the wrapper and its whole session, as a crash or the OOM killer would
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    record = waiting.wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    assert holder.wait(timeout=30).state is mq.JobState.LOST
    sub.close()


_OTHER_SUBMITTER = """
import sys, molq as mq
from molq.options import LocalSchedulerOptions
from molq.store import JobStore
options = LocalSchedulerOptions(slots_dir=sys.argv[1], cpus=2, gpus=0)
sub = mq.Submitor(mq.Cluster("box", "local", scheduler_options=options), store=JobStore(sys.argv[2]), jobs_dir=sys.argv[3])
hs = [sub.submit_job(argv=["bash", "-c", sys.argv[5], "job", f"{sys.argv[4]}{i}", sys.argv[6], "sleep 0.3"]) for i in range(5)]
print(sorted({h.wait(timeout=60).state.value for h in hs}))
"""


def test_two_submitting_processes_share_one_set_of_slots(tmp_path: Path, slots: Path) -> None:
    stamps = tmp_path / "stamps"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _OTHER_SUBMITTER,
                str(slots),
                str(tmp_path / f"{p}.db"),
                str(tmp_path / f"jobs-{p}"),
                p,
                _STAMPED,
                str(stamps),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in ("x", "y")
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all("succeeded" in out and "failed" not in out for out in outs), outs
    spans = _intervals(stamps)
    assert len(spans) == 10
    assert _most_at_once(spans) == 2


def test_an_array_runs_each_task_once_under_its_throttle(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    handle = two_cpus.submit_job(
        argv=["bash", "-c", _STAMPED, "job", "t", str(stamps), 'sleep 0.2; [ "$MOLQ_ARRAY_TASK_ID" != 4 ]'],
        scheduling=mq.JobScheduling(array_spec="1-5%1"),
    )
    record = handle.wait(timeout=60)
    assert record.state is mq.JobState.FAILED, "task 4 failed"
    tasks = {t.task_id: (t.state, t.exit_code) for t in two_cpus.get_array_tasks(handle.job_id)}
    assert tasks == {
        "1": (mq.JobState.SUCCEEDED, 0),
        "2": (mq.JobState.SUCCEEDED, 0),
        "3": (mq.JobState.SUCCEEDED, 0),
        "4": (mq.JobState.FAILED, 1),
        "5": (mq.JobState.SUCCEEDED, 0),
    }
    lines = stamps.read_text().splitlines()
    assert len(lines) == 10, "each task ran once"
    # %1: one task at a time, though two CPUs were free
    ends = [float(line.split()[2]) for line in lines if " end " in line]
    starts = [float(line.split()[2]) for line in lines if " start " in line]
    assert all(s >= e - 0.05 for s, e in zip(starts[1:], ends[:-1], strict=True))


def test_an_array_task_has_its_own_log_with_percent_a(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    handle = two_cpus.submit_job(
        argv=["bash", "-c", 'echo "task $MOLQ_ARRAY_TASK_ID of $MOLQ_ARRAY_JOB_ID"'],
        scheduling=mq.JobScheduling(array_spec="0-6:3"),
        execution=mq.JobExecution(output_file=str(logs / "out-%A-%a.log")),
    )
    record = handle.wait(timeout=60)
    assert record.state is mq.JobState.SUCCEEDED
    sid = record.scheduler_job_id
    assert sorted(p.name for p in logs.iterdir()) == [f"out-{sid}-{t}.log" for t in (0, 3, 6)]
    assert (logs / f"out-{sid}-3.log").read_text() == f"task 3 of {sid}\n"


def test_cancelling_an_array_stops_running_tasks_and_starts_no_more(two_cpus: mq.Submitor, tmp_path: Path) -> None:
    stamps = tmp_path / "stamps"
    handle = two_cpus.submit_job(
        argv=["bash", "-c", _STAMPED, "job", "t", str(stamps), "sleep 30"],
        scheduling=mq.JobScheduling(array_spec="1-6"),
    )
    deadline = time.monotonic() + 10
    while not stamps.exists() or stamps.read_text().count("start") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    handle.cancel()
    assert time.monotonic() - started < 10
    assert two_cpus.get_job(handle.job_id).state is mq.JobState.CANCELLED
    time.sleep(0.5)
    assert stamps.read_text().count("start") == 2, "no task started after the cancel"
