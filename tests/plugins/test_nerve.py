"""The nerve plugin against a real HTTP server, attached to a real Submitor on the local backend."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

Hub = Received = Any  # the hub fixture's types (tests/plugins/conftest.py)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    s = JobStore(tmp_path / "jobs.db")
    yield s
    s.close()


def submitor(tmp_path: Path, store: JobStore, settings: dict[str, Any]) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster("laptop", "local"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        plugins=["nerve"],
        plugin_configs={"nerve": settings},
    )


def entries(request: Received) -> list[dict[str, Any]]:
    return request.body["jobs"]


def test_a_job_is_posted_running_then_ended(tmp_path: Path, store: JobStore, hub: Hub) -> None:
    sub = submitor(tmp_path, store, {"ingest_url": hub.url + "/", "debounce_seconds": 0.1, "alias": "box"})
    with sub:
        handle = sub.submit_job(argv=["sleep", "0.5"])
        assert handle.wait(timeout=20).state is mq.JobState.SUCCEEDED
        seen = hub.wait_for(lambda rs: any(e.get("outcome") == "success" for r in rs for e in entries(r)))
    first = seen[0]
    assert (first.method, first.path) == ("POST", "/v1/snapshot")
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["User-Agent"] == "molq-nerve/0.1"
    assert set(first.body) == {"alias", "machineKind", "jobs"}
    assert first.body["alias"] == "box"
    assert first.body["machineKind"] in ("linux", "darwin", "wsl", "windows", "unknown")
    last = next(e for r in seen for e in entries(r) if e.get("outcome") == "success")
    assert last["id"] == f"molq:{handle.job_id}"
    assert last["kind"] == "job" and last["lifecycle"] == "ended"
    assert last["extensions"]["molqJobId"] == handle.job_id
    assert last["extensions"]["role"] == "job" and last["extensions"]["cluster"] == "laptop"
    assert last["current"]["name"] == "sleep 0.5"
    assert "state=succeeded" in last["current"]["summary"]
    assert last["endedAt"].endswith("Z")
    versions = [e["version"] for r in seen for e in entries(r)]
    assert versions == sorted(versions)


def test_a_burst_of_events_is_one_post_after_the_quiet_period(tmp_path: Path, store: JobStore, hub: Hub) -> None:
    debounce = 0.8
    sub = submitor(tmp_path, store, {"ingest_url": hub.url, "debounce_seconds": debounce})
    with sub:
        submitted_at = []
        for _ in range(3):  # each submit emits created and submitted: six events within milliseconds
            sub.submit_job(argv=["sleep", "3"])
            submitted_at.append(time.monotonic())
        first = hub.wait_for(lambda rs: len(rs) >= 1)[0]
        time.sleep(debounce / 2)
        assert len(hub.requests) == 1  # nothing else happened since: no second post
        assert first.at - submitted_at[-1] >= debounce * 0.9
        assert len(entries(first)) == 3
        for job in sub.list_jobs():
            sub.cancel_job(job.job_id)


def test_many_jobs_roll_up_into_one_group(tmp_path: Path, store: JobStore, hub: Hub) -> None:
    sub = submitor(
        tmp_path,
        store,
        {"ingest_url": hub.url, "debounce_seconds": 0.8, "expand_threshold": 3, "show_members": "never"},
    )
    with sub:
        handles = [sub.submit_job(argv=["sleep", "3"]) for _ in range(5)]
        first = hub.wait_for(lambda rs: len(rs) >= 1)[0]
        (group,) = entries(first)
        assert group["id"] == "molq:laptop:cluster:laptop"
        assert group["kind"] == "queue" and group["extensions"]["role"] == "group"
        assert group["extensions"]["memberCount"] == 5
        assert group["progress"]["kind"] == "determinate"
        for handle in handles:
            sub.cancel_job(handle.job_id)
    # On close the plugin ends what it still shows.
    last = hub.wait_for(lambda rs: any(e["lifecycle"] == "ended" for r in rs for e in entries(r)))[-1]
    assert entries(last)[0]["lifecycle"] == "ended"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_hub_running_never_gets_in_the_way(tmp_path: Path, store: JobStore) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with submitor(tmp_path, store, {"ingest_url": url, "debounce_seconds": 0.01}) as sub:
        handle = sub.submit_job(argv=["true"])
        assert handle.wait(timeout=20).state is mq.JobState.SUCCEEDED
        time.sleep(0.1)


def test_a_bad_setting_leaves_the_submitor_working_without_the_plugin(
    tmp_path: Path, store: JobStore, caplog: pytest.LogCaptureFixture
) -> None:
    with submitor(tmp_path, store, {"ingest_url": "file:///etc/passwd"}) as sub:
        assert sub.submit_job(argv=["true"]).wait(timeout=20).state is mq.JobState.SUCCEEDED
    assert "plugin 'nerve' could not be attached" in caplog.text
    assert "ingest_url must be an http:// or https:// URL" in caplog.text


def test_disabled_in_its_settings_posts_nothing(tmp_path: Path, store: JobStore, hub: Hub) -> None:
    with submitor(tmp_path, store, {"ingest_url": hub.url, "enabled": False, "debounce_seconds": 0.01}) as sub:
        sub.submit_job(argv=["true"]).wait(timeout=20)
        time.sleep(0.2)
    assert hub.requests == []


def test_events_that_never_pause_still_get_a_snapshot_out(hub: Hub) -> None:
    from molq.callbacks import EventBus, EventPayload, EventType
    from molq.models import JobRecord
    from molq.plugin import PluginContext, create_plugin

    bus = EventBus()
    record = JobRecord(job_id="j", cluster_name="c", scheduler="local", state=mq.JobState.RUNNING)
    plugin = create_plugin("nerve")
    plugin.attach(
        PluginContext(bus, "c", {"ingest_url": hub.url, "debounce_seconds": 0.1}, lambda job_id: None, list, list)
    )
    try:
        started = time.monotonic()
        while time.monotonic() - started < 2.0 and not hub.requests:  # an event every 20 ms, never 100 ms apart
            bus.emit(EventType.STATUS_CHANGE, EventPayload(EventType.STATUS_CHANGE, "j", record=record))
            time.sleep(0.02)
        assert hub.requests, "no snapshot while events kept coming"
        assert hub.requests[0].at - started < 1.5  # at most ten debounce periods (1 s) late, plus slack
    finally:
        plugin.detach()
