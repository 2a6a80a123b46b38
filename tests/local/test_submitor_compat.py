"""Submitor calls kept from the original molq: fetch_artifacts/fetch_logs defaults,
get_dependency_preview, remembered_allocations; and a scheduler written for the
original's protocol (poll_many / resolve_terminal / cancel(id)) driving a real store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import molq as mq
from molq.models import DependencyPreview, RememberedAllocation
from molq.scheduler.base import TerminalStatus
from molq.store import JobStore
from molq.testing import make_submitor


@pytest.fixture
def sub(tmp_path: Path) -> mq.Submitor:
    s = mq.Submitor(mq.Cluster("dev", "local"), store=JobStore(tmp_path / "jobs.db"), jobs_dir=tmp_path / "jobs")
    yield s
    s.close()


def test_fetch_artifacts_and_logs_default_under_the_local_jobs_dir(sub: mq.Submitor, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    record = sub.submit_job(
        command="echo out; echo err >&2", execution=mq.JobExecution(cwd=work, output_file="o.log", error_file="e.log")
    ).wait(timeout=30)
    assert record.state is mq.JobState.SUCCEEDED
    logs = sub.fetch_logs(record.job_id)
    assert {k: v.read_text() for k, v in logs.items()} == {"stdout": "out\n", "stderr": "err\n"}
    assert logs["stdout"] == tmp_path / "jobs" / record.job_id / "logs" / "stdout.log"
    (Path(record.job_dir) / "result.txt").write_text("r")
    mirror = sub.fetch_artifacts(record.job_id, dest_dir=tmp_path / "mirror", exclude=("*.txt",))
    assert mirror == tmp_path / "mirror"
    expected = {n for n in os.listdir(record.job_dir) if not n.endswith(".txt")}
    assert expected and set(os.listdir(mirror)) == expected
    default = sub.fetch_artifacts(record.job_id)
    assert default == tmp_path / "jobs" / record.job_id / "mirror"
    with pytest.raises(mq.JobNotFoundError):
        sub.fetch_artifacts("no-such-job")


def test_fetch_on_a_remote_cluster_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from molq.options import SshTransportOptions
    from molq.transport.ssh import SshTransport

    monkeypatch.chdir(tmp_path)
    remote = mq.Cluster("hpc", "slurm", transport=SshTransport(SshTransportOptions("nowhere.invalid")))
    with mq.Submitor(remote, store=JobStore(tmp_path / "jobs.db"), jobs_dir="/remote/jobs") as s:
        assert s._scratch_dir("abc", "logs") == tmp_path / ".molq" / "fetched" / "abc" / "logs"


def test_dependency_preview_and_remembered_allocations(tmp_path: Path) -> None:
    with make_submitor("dev", store=JobStore(tmp_path / "jobs.db"), job_duration=0.0) as sub:
        parent = sub.submit_job(argv=["true"], scheduling=mq.JobScheduling(partition="gpu", account="a1"))
        child = sub.submit_job(
            argv=["true"], after_success=[parent.job_id], scheduling=mq.JobScheduling(partition="gpu", account="a1")
        )
        sub.submit_job(argv=["true"], scheduling=mq.JobScheduling(qos="high"))
        sub.submit_job(argv=["true"])  # nothing to remember
        preview = sub.get_dependency_preview(child.job_id)
        assert isinstance(preview, DependencyPreview)
        assert preview.upstream_total == 1 and preview.upstream[0].job_id == parent.job_id
        assert sub.get_dependency_preview(parent.job_id).downstream[0].job_id == child.job_id
        with pytest.raises(mq.JobNotFoundError):
            sub.get_dependency_preview("missing")
        remembered = sub.remembered_allocations()
        assert all(isinstance(r, RememberedAllocation) for r in remembered)
        assert [(r.partition, r.account, r.qos, r.use_count) for r in remembered] == [
            (None, None, "high", 1),
            ("gpu", "a1", None, 2),
        ]
        assert len(sub.remembered_allocations(limit=1)) == 1


class OldStyleScheduler:
    """A scheduler as the original molq's protocol has it."""

    def __init__(self) -> None:
        self.states: dict[str, mq.JobState] = {}
        self.ended: dict[str, TerminalStatus] = {}
        self.cancelled: list[str] = []
        self.fail_with: Exception | None = None

    def capabilities(self) -> mq.SchedulerCapabilities:
        return mq.SchedulerCapabilities(
            supports_cwd=True,
            supports_env=True,
            supports_output_file=True,
            supports_error_file=True,
            supports_job_name=True,
        )

    def submit(self, spec: object, job_dir: object) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        sid = str(100 + len(self.states))
        self.states[sid] = mq.JobState.QUEUED
        return sid

    def poll_many(self, ids: list[str]) -> dict[str, mq.JobState]:
        return {i: self.states[i] for i in ids if i in self.states}

    def resolve_terminal(self, sid: str) -> TerminalStatus | None:
        return self.ended.get(sid)

    def cancel(self, sid: str) -> None:
        self.cancelled.append(sid)

    def format_dependency(self, edge: object) -> str:
        raise mq.ConfigError("no dependencies")

    def format_dependencies(self, edges: object) -> str:
        return ""


def test_a_scheduler_written_for_the_original_protocol_drives_the_store(tmp_path: Path) -> None:
    old = OldStyleScheduler()
    cluster = mq.Cluster("old", "local", _scheduler_impl=old)
    with mq.Submitor(cluster, store=JobStore(tmp_path / "jobs.db"), jobs_dir=tmp_path / "jobs") as sub:
        a = sub.submit_job(argv=["true"])
        b = sub.submit_job(argv=["true"])
        old.states[a.scheduler_job_id] = mq.JobState.RUNNING
        sub.refresh_jobs(force=True)
        assert a.refresh().status() is mq.JobState.RUNNING
        del old.states[a.scheduler_job_id]
        old.ended[a.scheduler_job_id] = TerminalStatus(mq.JobState.FAILED, exit_code=4, failure_reason="boom")
        sub.refresh_jobs(force=True)
        record = sub.get_job(a.job_id)
        assert (record.state, record.exit_code) == (mq.JobState.FAILED, 4)
        sub.cancel_job(b.job_id)
        assert old.cancelled == [b.scheduler_job_id]
        # the caller's own scheduler keeps its exception type
        old.fail_with = RuntimeError("custom backend broke")
        with pytest.raises(RuntimeError, match="custom backend broke"):
            sub.submit_job(argv=["true"])
