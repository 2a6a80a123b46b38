"""Job lifecycle events and a small synchronous, thread-safe event bus.

Handlers run in the thread that emits, in registration order, each with one
argument: an ``EventPayload``. A handler that raises is logged (logger
``molq.callbacks``) and skipped; it never breaks the caller or later handlers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from molq.status import JobState

if TYPE_CHECKING:
    import logging

    from molq._core import JobRecord, StatusTransition

__all__ = ["EventBus", "EventFilter", "EventHandler", "EventPayload", "EventType", "emit_transition", "record_at"]


class EventType(str, Enum):
    """What happened.

    ``STATUS_CHANGE`` comes with every transition, then the event of the new
    state (``JOB_STARTED`` for running, ``JOB_COMPLETED`` for succeeded...).
    A timed-out job emits both ``JOB_TIMED_OUT`` and the legacy spelling
    ``JOB_TIMEOUT``. ``ALL_COMPLETED`` follows a refresh that leaves a cluster
    with no active jobs.

    New in this molq:

    * ``JOB_OUT_OF_MEMORY`` -- the job went over its memory limit. It comes
      with ``JOB_FAILED`` too (one payload), as the original molq, which
      called such a job failed, would have announced it.
    * ``RETRY_SCHEDULED`` -- a finished attempt will be submitted again; the
      payload's ``data`` says when (``{"retry_due_at": <epoch seconds>}``).
    * ``POLL_FAILED`` -- asking the scheduler about jobs failed (timeout,
      lost connection...). No job state changed because of it; ``data``
      holds the cluster name and the error.
    """

    STATUS_CHANGE = "status_change"
    JOB_STARTED = "job_started"
    JOB_COMPLETED = "job_completed"
    JOB_FAILED = "job_failed"
    JOB_CANCELLED = "job_cancelled"
    JOB_TIMEOUT = "job_timeout"
    JOB_TIMED_OUT = "job_timed_out"
    JOB_OUT_OF_MEMORY = "job_out_of_memory"
    JOB_LOST = "job_lost"
    ALL_COMPLETED = "all_completed"
    RETRY_SCHEDULED = "retry_scheduled"
    POLL_FAILED = "poll_failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class EventPayload:
    """What a handler receives. ``record`` is the job's row as the change
    left it: a job that started and ended within one poll gets a ``running``
    event whose record is still running (``transition`` says the same)."""

    event: EventType
    job_id: str | None = None
    transition: StatusTransition | None = None
    record: JobRecord | None = None
    data: Any = None


EventHandler = Callable[[EventPayload], Any]
#: Which payloads a handler is shown (see ``EventBus.on``).
EventFilter = Callable[[EventPayload], bool]
_Registration = tuple[EventHandler, "EventFilter | None"]

_STATE_EVENTS: dict[JobState, tuple[EventType, ...]] = {
    JobState.RUNNING: (EventType.JOB_STARTED,),
    JobState.SUCCEEDED: (EventType.JOB_COMPLETED,),
    JobState.FAILED: (EventType.JOB_FAILED,),
    JobState.CANCELLED: (EventType.JOB_CANCELLED,),
    JobState.TIMED_OUT: (EventType.JOB_TIMED_OUT, EventType.JOB_TIMEOUT),
    JobState.OUT_OF_MEMORY: (EventType.JOB_OUT_OF_MEMORY, EventType.JOB_FAILED),
    JobState.LOST: (EventType.JOB_LOST,),
}

_logger: logging.Logger | None = None


def _log() -> logging.Logger:
    # logging costs a few ms to import; only a failing handler pays for it.
    global _logger
    if _logger is None:
        import logging  # deferred: logging is slow to import; only when it logs

        _logger = logging.getLogger(__name__)
    return _logger


class EventBus:
    """Register handlers per event type and call them on ``emit``.

    Registration and emission may happen from any thread. Each emit calls
    the handlers registered when it started; the lock is not held while
    handlers run, so a handler may itself register or emit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Tuples are replaced under the lock, never mutated, so emit reads one
        # without locking and later registrations do not affect a running emit.
        self._handlers: dict[EventType, tuple[_Registration, ...]] = {}

    def on(self, event: EventType | str, handler: EventHandler, *, accept: EventFilter | None = None) -> None:
        """Add ``handler`` for ``event`` (the same handler may be added twice).

        With ``accept``, the handler is called only for payloads it returns
        True for (a Submitor uses it to show a handler only its own jobs).
        """
        event = EventType(event)
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {handler!r}")
        with self._lock:
            self._handlers[event] = self._handlers.get(event, ()) + ((handler, accept),)

    def off(self, event: EventType | str, handler: EventHandler) -> None:
        """Remove every registration of ``handler`` (compared by identity) for ``event``."""
        event = EventType(event)
        with self._lock:
            kept = tuple(entry for entry in self._handlers.get(event, ()) if entry[0] is not handler)
            if kept:
                self._handlers[event] = kept
            else:
                self._handlers.pop(event, None)

    def has_handlers(self, event: EventType | str | None = None) -> bool:
        """Whether ``event`` (or, with None, any event) has a handler.

        Lets emitters skip building payloads nobody will receive.
        """
        if event is None:
            return bool(self._handlers)
        return EventType(event) in self._handlers

    def has_any_handlers(self) -> bool:
        return self.has_handlers(None)

    def emit(self, event: EventType | str, data: Any = None) -> None:
        """Call the handlers of ``event`` with one payload.

        ``data`` may be a ready ``EventPayload``; anything else becomes the
        payload's ``data``.
        """
        event = EventType(event)
        handlers = self._handlers.get(event)
        if not handlers:
            return
        payload = data if isinstance(data, EventPayload) else EventPayload(event, data=data)
        for handler, accept in handlers:
            try:
                if accept is None or accept(payload):
                    handler(payload)
            except Exception:
                _log().exception("molq event handler %r failed on %s", handler, event.value)


def emit_transition(bus: EventBus, transition: StatusTransition, record: JobRecord | None) -> None:
    """Emit ``STATUS_CHANGE`` for ``transition``, then the new state's own event(s)."""
    if getattr(record, "state", transition.new_state) is not transition.new_state:
        record = record_at(transition, record)  # type: ignore[arg-type]
    if bus.has_handlers(EventType.STATUS_CHANGE):
        bus.emit(
            EventType.STATUS_CHANGE,
            EventPayload(EventType.STATUS_CHANGE, transition.job_id, transition, record),
        )
    events = _STATE_EVENTS.get(JobState(transition.new_state), ())
    if events and any(bus.has_handlers(e) for e in events):
        payload = EventPayload(events[0], transition.job_id, transition, record)
        for event in events:
            bus.emit(event, payload)


def record_at(transition: StatusTransition, record: JobRecord) -> JobRecord:
    """``record`` as it stood right after ``transition``, when a later one
    (applied in the same poll or write) has moved it on since: the state of
    the transition, without the outcome fields of a state not reached yet."""

    state = JobState(transition.new_state)
    cleared: dict[str, None] = {}
    if not state.is_terminal:
        cleared.update(finished_at=None, exit_code=None, exit_signal=None, failure_reason=None)
        if state is not JobState.RUNNING:
            cleared["started_at"] = None
    return replace(record, state=state, **cleared)  # type: ignore[type-var]  # a dataclass by its face
