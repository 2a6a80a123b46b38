from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import pytest

from molq.callbacks import EventBus, EventPayload, EventType, emit_transition
from molq.status import JobState


@dataclass(frozen=True)
class FakeTransition:
    """Stands in for the native StatusTransition (emit_transition reads two attributes)."""

    job_id: str
    new_state: JobState


def test_event_values() -> None:
    assert {e.value for e in EventType} == {
        "status_change",
        "job_started",
        "job_completed",
        "job_failed",
        "job_cancelled",
        "job_timeout",
        "job_timed_out",
        "job_out_of_memory",
        "job_lost",
        "all_completed",
        "retry_scheduled",
        "poll_failed",
    }
    assert EventType("job_failed") is EventType.JOB_FAILED
    assert str(EventType.JOB_LOST) == "job_lost"
    assert EventType.JOB_LOST == "job_lost"


def test_handlers_run_in_registration_order_with_one_payload() -> None:
    bus = EventBus()
    seen: list[tuple[str, EventPayload]] = []
    bus.on(EventType.JOB_FAILED, lambda p: seen.append(("a", p)))
    bus.on("job_failed", lambda p: seen.append(("b", p)))
    bus.emit(EventType.JOB_FAILED, {"x": 1})
    assert [name for name, _ in seen] == ["a", "b"]
    assert seen[0][1] is seen[1][1]
    assert seen[0][1] == EventPayload(EventType.JOB_FAILED, data={"x": 1})


def test_emit_passes_a_ready_payload_through() -> None:
    bus = EventBus()
    got: list[EventPayload] = []
    bus.on(EventType.JOB_LOST, got.append)
    payload = EventPayload(EventType.JOB_LOST, job_id="j")
    bus.emit(EventType.JOB_LOST, payload)
    assert got == [payload] and got[0] is payload


def test_emit_without_handlers_is_a_no_op() -> None:
    EventBus().emit(EventType.ALL_COMPLETED)


def test_duplicates_allowed_and_off_removes_all_by_identity() -> None:
    bus = EventBus()
    calls: list[int] = []

    def handler(payload: EventPayload) -> None:
        calls.append(1)

    bus.on(EventType.JOB_STARTED, handler)
    bus.on(EventType.JOB_STARTED, handler)
    bus.emit(EventType.JOB_STARTED)
    assert len(calls) == 2
    assert bus.has_handlers(EventType.JOB_STARTED) and not bus.has_handlers(EventType.JOB_LOST)
    assert bus.has_handlers() and bus.has_any_handlers()
    bus.off(EventType.JOB_STARTED, handler)
    assert not bus.has_handlers("job_started")
    assert not bus.has_handlers() and not bus.has_any_handlers()
    bus.emit(EventType.JOB_STARTED)
    assert len(calls) == 2
    bus.off(EventType.JOB_STARTED, handler)  # removing again is harmless


def test_bad_registration_is_rejected() -> None:
    bus = EventBus()
    with pytest.raises(TypeError):
        bus.on(EventType.JOB_FAILED, "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bus.on("no_such_event", print)


def test_a_raising_handler_is_logged_and_later_handlers_still_run(caplog) -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(payload: EventPayload) -> None:
        raise RuntimeError("boom")

    bus.on(EventType.JOB_FAILED, broken)
    bus.on(EventType.JOB_FAILED, lambda p: seen.append("after"))
    with caplog.at_level(logging.ERROR, logger="molq.callbacks"):
        bus.emit(EventType.JOB_FAILED)
    assert seen == ["after"]
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert len(errors) == 1 and str(errors[0]) == "boom"


def test_a_handler_may_unregister_itself_during_emit() -> None:
    bus = EventBus()
    seen: list[str] = []

    def once(payload: EventPayload) -> None:
        seen.append("once")
        bus.off(EventType.JOB_FAILED, once)

    bus.on(EventType.JOB_FAILED, once)
    bus.on(EventType.JOB_FAILED, lambda p: seen.append("other"))
    bus.emit(EventType.JOB_FAILED)
    bus.emit(EventType.JOB_FAILED)
    assert seen == ["once", "other", "other"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (JobState.CREATED, [EventType.STATUS_CHANGE]),
        (JobState.SUBMITTED, [EventType.STATUS_CHANGE]),
        (JobState.QUEUED, [EventType.STATUS_CHANGE]),
        (JobState.RUNNING, [EventType.STATUS_CHANGE, EventType.JOB_STARTED]),
        (JobState.SUCCEEDED, [EventType.STATUS_CHANGE, EventType.JOB_COMPLETED]),
        (JobState.FAILED, [EventType.STATUS_CHANGE, EventType.JOB_FAILED]),
        (JobState.CANCELLED, [EventType.STATUS_CHANGE, EventType.JOB_CANCELLED]),
        (JobState.LOST, [EventType.STATUS_CHANGE, EventType.JOB_LOST]),
        (
            JobState.TIMED_OUT,
            [EventType.STATUS_CHANGE, EventType.JOB_TIMED_OUT, EventType.JOB_TIMEOUT],
        ),
        (
            JobState.OUT_OF_MEMORY,
            [EventType.STATUS_CHANGE, EventType.JOB_OUT_OF_MEMORY, EventType.JOB_FAILED],
        ),
    ],
)
def test_emit_transition(state: JobState, expected: list[EventType]) -> None:
    bus = EventBus()
    got: list[tuple[EventType, EventPayload]] = []
    for event in EventType:
        bus.on(event, lambda p, event=event: got.append((event, p)))
    transition = FakeTransition("j1", state)
    emit_transition(bus, transition, "record")  # type: ignore[arg-type]
    assert [event for event, _ in got] == expected
    for _, payload in got:
        assert payload.job_id == "j1"
        assert payload.transition is transition
        assert payload.record == "record"
    assert got[0][1].event is EventType.STATUS_CHANGE


def test_timed_out_shares_one_payload() -> None:
    bus = EventBus()
    got: list[EventPayload] = []
    bus.on(EventType.JOB_TIMED_OUT, got.append)
    bus.on(EventType.JOB_TIMEOUT, got.append)
    emit_transition(bus, FakeTransition("j", JobState.TIMED_OUT), None)  # type: ignore[arg-type]
    assert len(got) == 2 and got[0] is got[1]


def test_thread_safety_smoke() -> None:
    bus = EventBus()
    counts = {"n": 0}
    lock = threading.Lock()

    def count(payload: EventPayload) -> None:
        with lock:
            counts["n"] += 1

    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(200):
            handler = lambda p: None  # noqa: E731 - a fresh object each time
            bus.on(EventType.JOB_STARTED, handler)
            bus.emit(EventType.JOB_FAILED)
            bus.off(EventType.JOB_STARTED, handler)
            bus.emit(EventType.JOB_STARTED)

    bus.on(EventType.JOB_FAILED, count)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts["n"] == 8 * 200
    assert not bus.has_handlers(EventType.JOB_STARTED)
