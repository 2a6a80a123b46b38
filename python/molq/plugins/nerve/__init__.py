"""The ``nerve`` plugin: shows molq's jobs in a local Nerve hub.

On every status change it (re)starts a short quiet period, ``debounce_seconds``;
when that passes it POSTs one snapshot of the jobs it tracks, as JSON, to
``<ingest_url>/v1/snapshot``::

    {"alias": "<machine>", "machineKind": "linux", "jobs": [...]}

(``molq.plugins.nerve.mapping`` builds the ``jobs`` list; many jobs are
rolled up into groups.) Posting happens on the plugin's own thread, so a
slow or absent hub never holds up molq; a failed POST is logged at debug
level and forgotten. On detach it posts once more with open groups ended.

Settings (the ``plugins: nerve:`` table of the config, or
``Submitor(plugin_configs={"nerve": {...}})``), all optional::

    enabled: true
    expand_threshold: 8            # at most this many jobs are sent one by one
    debounce_seconds: 0.3
    ingest_url: http://127.0.0.1:17890
    show_members: attention        # never | attention | all
    alias: my-laptop               # default: this machine's short host name
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any

from molq import _original_names
from molq._log import get_logger
from molq.plugins.nerve.mapping import build_snapshots, machine_alias, machine_kind

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.plugin import PluginContext

__all__ = ["DEFAULT_DEBOUNCE_SECONDS", "DEFAULT_EXPAND_THRESHOLD", "DEFAULT_INGEST", "NervePlugin", "create_plugin"]

DEFAULT_INGEST = "http://127.0.0.1:17890"
DEFAULT_EXPAND_THRESHOLD = 8
DEFAULT_DEBOUNCE_SECONDS = 0.3
#: Seconds a POST may take before it is given up (the hub is on this machine).
POST_TIMEOUT = 0.5
#: Events that never pause still get a snapshot out this often (in debounce periods).
_MAX_DELAY_PERIODS = 10
_SHOW_MEMBERS = ("never", "attention", "all")

_log = get_logger("molq.plugins.nerve")


def create_plugin() -> NervePlugin:
    """The factory molq's plugin table names."""
    return NervePlugin()


class NervePlugin:
    name = "nerve"

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._ctx: PluginContext | None = None
        self._tracked: dict[str, JobRecord] = {}
        self._version = 0
        self._due: float | None = None  # monotonic time of the next snapshot
        self._latest_due: float | None = None  # ... at the latest, however busy
        self._stopping = False
        self._worker: threading.Thread | None = None
        # One bound method, kept: the bus removes handlers by identity.
        self._handler = self._on_status_change
        self.expand_threshold = DEFAULT_EXPAND_THRESHOLD
        self.debounce_seconds = DEFAULT_DEBOUNCE_SECONDS
        self.ingest_url = DEFAULT_INGEST
        self.show_members = "attention"
        self.alias = machine_alias()
        self.machine_kind = machine_kind()

    # -- plugin protocol -------------------------------------------------------------
    def attach(self, ctx: PluginContext) -> None:
        self.detach()
        self._configure(ctx.config)
        self._ctx = ctx
        try:
            seeded = list(ctx.list_active_records())  # a daemon attaching late shows what runs
        except Exception:
            _log.exception("nerve: could not read the active jobs to start with")
            seeded = []
        from molq.callbacks import EventType  # deferred: molq.callbacks loads only when used

        with self._lock:
            self._stopping = False
            self._tracked = {r.job_id: r for r in seeded}
        ctx.event_bus.on(EventType.STATUS_CHANGE, self._handler)
        self._worker = threading.Thread(target=self._run, name="molq-nerve", daemon=True)
        self._worker.start()
        self._request_snapshot()

    def detach(self) -> None:
        ctx, worker = self._ctx, self._worker
        if ctx is None:
            return
        from molq.callbacks import EventType  # deferred: molq.callbacks loads only when used

        try:
            ctx.event_bus.off(EventType.STATUS_CHANGE, self._handler)
        except Exception:
            _log.exception("nerve: could not unsubscribe")
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if worker is not None:
            worker.join(timeout=2 * POST_TIMEOUT + 1.0)
        try:
            self._send_snapshot(force_end=True)  # end the groups, so Nerve drops the rows
        except Exception:
            _log.exception("nerve: the last snapshot failed")
        with self._lock:
            self._tracked.clear()
            self._due = self._latest_due = None
        self._ctx = self._worker = None

    # -- internals ---------------------------------------------------------------------
    def _configure(self, config: Any) -> None:
        self.expand_threshold = int(config.get("expand_threshold", DEFAULT_EXPAND_THRESHOLD))
        self.debounce_seconds = max(0.0, float(config.get("debounce_seconds", DEFAULT_DEBOUNCE_SECONDS)))
        url = str(config.get("ingest_url", DEFAULT_INGEST)).rstrip("/")
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"plugins.nerve.ingest_url must be an http:// or https:// URL, got {url!r}")
        self.ingest_url = url
        show = str(config.get("show_members", "attention")).lower()
        if show not in _SHOW_MEMBERS:
            raise ValueError(f"plugins.nerve.show_members must be one of {', '.join(_SHOW_MEMBERS)}, got {show!r}")
        self.show_members = show
        if config.get("alias"):
            self.alias = str(config["alias"])

    def _on_status_change(self, payload: Any) -> None:
        record = getattr(payload, "record", None)
        if record is None or not hasattr(record, "job_id"):
            return
        with self._lock:
            self._tracked[record.job_id] = record
        self._request_snapshot()

    def _request_snapshot(self) -> None:
        """Send a snapshot once no event came for ``debounce_seconds``."""
        with self._lock:
            now = time.monotonic()
            if self._latest_due is None:
                self._latest_due = now + _MAX_DELAY_PERIODS * max(self.debounce_seconds, 0.1)
            self._due = min(now + self.debounce_seconds, self._latest_due)
            self._lock.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (self._due is None or self._due > time.monotonic()):
                    timeout = None if self._due is None else self._due - time.monotonic()
                    self._lock.wait(timeout)
                if self._stopping:
                    return
                self._due = self._latest_due = None
            try:
                self._send_snapshot(force_end=False)
            except Exception:
                _log.exception("nerve: snapshot failed")

    def _send_snapshot(self, *, force_end: bool) -> None:
        with self._lock:
            self._version += 1
            version = self._version
            tracked = dict(self._tracked)
        ctx = self._ctx
        if not tracked or ctx is None:
            return
        jobs = build_snapshots(
            records=list(tracked.values()),
            cluster_name=ctx.cluster_name,
            expand_threshold=self.expand_threshold,
            show_members=self.show_members,
            version=version,
            force_end=force_end,
            alias=self.alias,
        )
        if jobs:
            self._post({"alias": self.alias, "machineKind": self.machine_kind, "jobs": jobs})
        with self._lock:
            # A finished job has been shown ending; forget it unless it changed since.
            for job_id, record in tracked.items():
                if record.state.is_terminal and self._tracked.get(job_id) is record:
                    del self._tracked[job_id]

    def _post(self, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.ingest_url}/v1/snapshot",
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "molq-nerve/0.1"},
        )
        try:
            with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as response:
                response.read()
        except Exception as exc:  # no hub running is the common case, not an error
            _log.debug("nerve: POST to %s failed: %s", request.full_url, exc)


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
