"""Retries, events, retention, the daemon, handles: the Submitor's lifecycle on real jobs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import molq as mq
from molq.models import RetryBackoff
from molq.store import JobStore

FAST_RETRY = RetryBackoff(mode="fixed", initial_seconds=0.1, maximum_seconds=0.1)


def test_retry_until_success_keeps_cwd_and_dir_name(submitor: mq.Submitor, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # fails on the first two runs, succeeds on the third
    script = "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ]"
    other = tmp_path / "elsewhere"
    other.mkdir()
    old = os.getcwd()
    handle = submitor.submit_job(
        command=script,
        execution=mq.JobExecution(cwd=work),
        retry=mq.RetryPolicy(max_attempts=3, backoff=FAST_RETRY),
        job_dir_name="counter",
    )
    os.chdir(other)  # a retry must not move to the retrying process's cwd
    try:
        record = handle.wait(timeout=60)
    finally:
        os.chdir(old)
    assert record.state is mq.JobState.SUCCEEDED
    assert record.attempt == 3
    family = submitor.get_retry_family(handle.job_id)
    assert [(r.attempt, r.state.value) for r in family] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert {r.cwd for r in family} == {str(work)}
    assert [Path(r.job_dir).name for r in family] == ["counter", "counter.attempt2", "counter.attempt3"]
    assert family[1].previous_attempt_job_id == family[0].job_id
    assert (work / "count").read_text() == "3\n"


def test_retry_policy_exhausted_and_exit_code_filter(submitor: mq.Submitor) -> None:
    record = submitor.submit_job(command="exit 2", retry=mq.RetryPolicy(max_attempts=2, backoff=FAST_RETRY)).wait(
        timeout=60
    )
    assert (record.state, record.attempt, record.exit_code) == (mq.JobState.FAILED, 2, 2)
    record = submitor.submit_job(
        command="exit 2",
        retry=mq.RetryPolicy(max_attempts=3, retry_on_exit_codes=(1,), backoff=FAST_RETRY),
    ).wait(timeout=60)
    assert record.attempt == 1  # exit 2 is not in the filter


def test_script_retry_uses_the_copy_made_at_submit(submitor: mq.Submitor, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("echo v1; exit 1\n")
    handle = submitor.submit_job(
        script=mq.Script.path(script), retry=mq.RetryPolicy(max_attempts=2, backoff=FAST_RETRY)
    )
    script.unlink()  # the original may be edited or gone by the time the retry runs
    record = handle.wait(timeout=60)
    assert record.attempt == 2
    assert Path(record.metadata["molq.stdout_path"]).read_text() == "v1\n"


def test_cancel_drops_a_scheduled_retry(submitor: mq.Submitor) -> None:
    slow = RetryBackoff(mode="fixed", initial_seconds=30, maximum_seconds=30)
    handle = submitor.submit_job(command="exit 1", retry=mq.RetryPolicy(max_attempts=3, backoff=slow))
    deadline = time.time() + 20
    while time.time() < deadline:
        submitor.refresh_jobs()
        if submitor.get_job(handle.job_id).retry_state == "scheduled":
            break
        time.sleep(0.05)
    assert submitor.get_job(handle.job_id).retry_due_at is not None
    submitor.cancel_job(handle.job_id)
    record = handle.wait(timeout=5)
    assert record.attempt == 1 and record.state is mq.JobState.FAILED
    assert record.retry_state == "cancelled"


def test_events_flow_and_a_failing_handler_breaks_nothing(submitor: mq.Submitor) -> None:
    seen: list[tuple[str, str | None]] = []

    def boom(payload: mq.EventPayload) -> None:
        raise RuntimeError("handler bug")

    def record_it(payload: mq.EventPayload) -> None:
        seen.append((payload.event.value, payload.transition.new_state.value if payload.transition else None))

    for event in mq.EventType:
        submitor.on_event(event, boom)
        submitor.on_event(event, record_it)
    record = submitor.submit_job(command="exit 4").wait(timeout=30)
    assert record.state is mq.JobState.FAILED
    names = [name for name, _ in seen]
    assert names[:2] == ["status_change", "status_change"]  # created, submitted
    assert "job_started" in names and "job_failed" in names
    assert names[-1] == "all_completed"
    submitor.off_event(mq.EventType.STATUS_CHANGE, record_it)


def test_handle_status_refresh_and_cancel(submitor: mq.Submitor) -> None:
    handle = submitor.submit_job(command="sleep 30")
    assert handle.status() is mq.JobState.SUBMITTED
    deadline = time.time() + 10
    while handle.refresh().status() is not mq.JobState.RUNNING and time.time() < deadline:
        time.sleep(0.05)
    assert handle.status() is mq.JobState.RUNNING
    handle.cancel()
    assert handle.status() is mq.JobState.CANCELLED


def test_cleanup_removes_old_dirs_and_records(submitor: mq.Submitor) -> None:
    done = submitor.submit_job(argv=["true"]).wait(timeout=30)
    assert Path(done.job_dir).is_dir()
    keep = mq.RetentionPolicy(keep_job_dirs_for_days=1, keep_terminal_records_for_days=1)
    assert submitor.cleanup_jobs(retention_policy=keep) == {"job_dirs": [], "records": []}
    now_policy = mq.RetentionPolicy(keep_job_dirs_for_days=0, keep_terminal_records_for_days=0)
    preview = submitor.cleanup_jobs(dry_run=True, retention_policy=now_policy)
    assert preview == {"job_dirs": [done.job_dir], "records": [done.job_id]}
    assert Path(done.job_dir).is_dir()
    assert submitor.cleanup_jobs(retention_policy=now_policy) == preview
    assert not Path(done.job_dir).exists()
    assert submitor.list_jobs(include_terminal=True) == []


def test_daemon_runs_once_and_holds_a_lock(submitor: mq.Submitor, store: JobStore) -> None:
    from molq._engine.daemon import DaemonLock

    handle = submitor.submit_job(argv=["true"])
    time.sleep(0.3)
    submitor.run_daemon(once=True, run_cleanup=False)
    assert submitor.get_job(handle.job_id).state is mq.JobState.SUCCEEDED
    lock = DaemonLock(store.path, submitor.cluster_name)
    lock.acquire()
    try:
        with pytest.raises(mq.ConfigError, match="already refreshes"):
            submitor.run_daemon(once=True)
    finally:
        lock.release()


def test_records_are_scoped_by_cluster(tmp_path: Path, store: JobStore) -> None:
    a = mq.Submitor(mq.Cluster("a", "local"), store=store, jobs_dir=tmp_path / "ja")
    b = mq.Submitor(mq.Cluster("b", "local"), store=store, jobs_dir=tmp_path / "jb")
    job = a.submit_job(argv=["true"])
    assert [r.job_id for r in a.list_jobs(include_terminal=True)] == [job.job_id]
    assert b.list_jobs(include_terminal=True) == []
    with pytest.raises(mq.JobNotFoundError):
        b.get_job(job.job_id)


def test_default_store_lives_under_molq_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLQ_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with mq.Submitor(mq.Cluster("dflt", "local")) as sub:
        sub.submit_job(argv=["true"]).wait(timeout=30)
        assert sub.store.path == str(tmp_path / "home" / "jobs.db")
    assert (tmp_path / "home" / "jobs.db").exists()
    assert list((tmp_path / ".molq" / "jobs").iterdir())  # job dirs default to <cwd>/.molq/jobs
