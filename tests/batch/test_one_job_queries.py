"""The original molq's per-job scheduler queries (poll_many, resolve_terminal),
answered by the PBS and LSF backends against the fake commands."""

from __future__ import annotations

import time

import pytest

import molq as mq
from molq.scheduler.base import TerminalStatus


@pytest.mark.parametrize("fixture", ["fake_pbs", "fake_lsf"])
def test_poll_many_and_resolve_terminal(fixture: str, request: pytest.FixtureRequest) -> None:
    sub: mq.Submitor = request.getfixturevalue(fixture)
    scheduler = sub.target.scheduler_impl
    running = sub.submit_job(argv=["sleep", "30"])
    failing = sub.submit_job(command="exit 3")
    ids = [running.scheduler_job_id, failing.scheduler_job_id]
    assert all(ids)
    sub.watch_jobs([failing.job_id], timeout=60)
    deadline = time.time() + 30
    while scheduler.poll_many(ids).get(ids[0]) is not mq.JobState.RUNNING:
        assert time.time() < deadline
        time.sleep(0.1)
    assert scheduler.poll_many([]) == {}
    assert ids[1] not in scheduler.poll_many(ids) or scheduler.poll_many(ids)[ids[1]].is_terminal
    ended = scheduler.resolve_terminal(ids[1])
    assert isinstance(ended, TerminalStatus)
    assert ended.state is mq.JobState.FAILED and ended.exit_code == 3
    assert scheduler.resolve_terminal(ids[0]) is None  # still running
    sub.cancel_job(running.job_id)
