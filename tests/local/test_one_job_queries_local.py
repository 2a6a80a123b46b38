"""The original molq's per-job queries on the local backend: poll_many and
resolve_terminal_with_dir, on real processes."""

from __future__ import annotations

from pathlib import Path

import molq as mq
from molq.scheduler import ShellScheduler
from molq.store import JobStore


def test_local_poll_many_and_resolve_terminal_with_dir(tmp_path: Path) -> None:
    with mq.Submitor(
        mq.Cluster("dev", "local"), store=JobStore(tmp_path / "jobs.db"), jobs_dir=tmp_path / "jobs"
    ) as sub:
        running = sub.submit_job(argv=["sleep", "30"])
        failed = sub.submit_job(command="exit 7").wait(timeout=30)
        scheduler = ShellScheduler()
        pid = running.scheduler_job_id
        assert scheduler.poll_many([pid, "999999999"]) == {pid: mq.JobState.RUNNING}
        assert scheduler.poll_many([]) == {}
        assert scheduler.resolve_terminal_with_dir(pid, sub.get_job(running.job_id).job_dir) is None
        ended = scheduler.resolve_terminal_with_dir(failed.scheduler_job_id, Path(failed.job_dir))
        assert ended is not None and ended.state is mq.JobState.FAILED and ended.exit_code == 7
        assert scheduler.poll_many([failed.scheduler_job_id]) == {}  # ended: left out
        sub.cancel_job(running.job_id)
