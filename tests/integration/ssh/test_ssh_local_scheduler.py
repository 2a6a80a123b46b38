"""The local scheduler on a remote workstation over the real sshd: the same
slots, dependencies, limits and queue as on this machine, kept by bash there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.options import LocalSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.ssh

_STAMPED = 'echo "$1 start $(date +%s.%N)" >> "$2"; eval "$3"; rc=$?; echo "$1 end $(date +%s.%N)" >> "$2"; exit $rc'


@pytest.fixture
def submitor(ssh_testbed: Any, tmp_path: Path, remote_dir: str) -> Iterator[mq.Submitor]:
    options = LocalSchedulerOptions(cpus=2, gpus=0, slots_dir=f"{remote_dir}/slots")
    cluster = mq.Cluster("workstation", "local", transport=ssh_testbed.transport(), scheduler_options=options)
    sub = mq.Submitor(
        cluster,
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=f"{remote_dir}/jobs",
        polling_strategy=FixedStrategy(0.1),
    )
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()
    cluster.transport.close()  # type: ignore[attr-defined]


def _stamped(sub: mq.Submitor, name: str, stamps: str, work: str, **kwargs: Any) -> mq.JobHandle:
    return sub.submit_job(argv=["bash", "-c", _STAMPED, "job", name, stamps, work], **kwargs)


def _intervals(sub: mq.Submitor, stamps: str) -> dict[str, tuple[float, float]]:
    seen: dict[str, dict[str, float]] = {}
    for line in sub.target.transport.read_text(stamps).splitlines():
        name, what, at = line.split()
        seen.setdefault(name, {})[what] = float(at)
    return {name: (t["start"], t["end"]) for name, t in seen.items()}


def test_remote_jobs_share_the_remote_slots(submitor: mq.Submitor, remote_dir: str) -> None:
    stamps = f"{remote_dir}/stamps"
    handles = [_stamped(submitor, f"j{i}", stamps, "sleep 0.5") for i in range(5)]
    assert {h.wait(timeout=60).state for h in handles} == {mq.JobState.SUCCEEDED}
    spans = _intervals(submitor, stamps)
    events = sorted([(s, 1) for s, _ in spans.values()] + [(e, -1) for _, e in spans.values()])
    running = most = 0
    for _, delta in events:
        running += delta
        most = max(most, running)
    assert len(spans) == 5 and most == 2


def test_remote_dependencies_and_a_dependency_that_never_holds(submitor: mq.Submitor, remote_dir: str) -> None:
    stamps = f"{remote_dir}/stamps"
    failing = _stamped(submitor, "f", stamps, "sleep 0.3; (exit 2)")
    on_failure = _stamped(submitor, "o", stamps, "true", after_failure=[failing.job_id])
    never = _stamped(submitor, "n", stamps, "true", after_success=[failing.job_id])
    f, o, n = (h.wait(timeout=60) for h in (failing, on_failure, never))
    assert (f.state, o.state, n.state) == (mq.JobState.FAILED, mq.JobState.SUCCEEDED, mq.JobState.CANCELLED)
    assert f"dependency {f.scheduler_job_id} ended FAILED" in (n.failure_reason or "")
    spans = _intervals(submitor, stamps)
    assert set(spans) == {"f", "o"} and spans["o"][0] >= spans["f"][1]


def test_remote_time_limit_and_queued_cancel(submitor: mq.Submitor, remote_dir: str) -> None:
    stamps = f"{remote_dir}/stamps"
    slow = [submitor.submit_job(argv=["sleep", "60"], resources=mq.JobResources(time_limit=1)) for _ in range(2)]
    queued = _stamped(submitor, "q", stamps, "true")
    queued.cancel()
    assert submitor.get_job(queued.job_id).state is mq.JobState.CANCELLED
    assert {h.wait(timeout=60).state for h in slow} == {mq.JobState.TIMED_OUT}
    assert not submitor.target.transport.exists(stamps), "the cancelled job never ran"


def test_remote_capacity_is_the_remote_machines(ssh_testbed: Any, tmp_path: Path, remote_dir: str) -> None:
    options = LocalSchedulerOptions(slots_dir=f"{remote_dir}/slots")
    cluster = mq.Cluster("workstation", "local", transport=ssh_testbed.transport(), scheduler_options=options)
    with mq.Submitor(cluster, store=JobStore(tmp_path / "db"), jobs_dir=f"{remote_dir}/jobs") as sub:
        with pytest.raises(mq.ConfigError, match=r"asks for 4096 CPUs; this machine's local scheduler has \d+"):
            sub.submit_job(argv=["true"], resources=mq.JobResources(cpu_count=4096))
        capacity = cluster.transport.read_text(f"{remote_dir}/slots/capacity").split()
        assert int(capacity[0]) >= 1 and int(capacity[1]) > 1024
    cluster.transport.close()  # type: ignore[attr-defined]
