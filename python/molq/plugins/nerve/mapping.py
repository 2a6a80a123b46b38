"""Job records -> Nerve snapshot entries (the JSON objects in a snapshot's ``jobs`` list).

A few jobs are sent one entry each. Many are rolled up: one ``group`` entry
per batch (``batch_id`` metadata), chain (a retry family or a dependency
chain sharing a root) or cluster queue, with progress counts, plus member
entries for the jobs worth a look (``show_members``: ``never``,
``attention`` -- failed, timed out, out of memory or lost -- or ``all``; a chain always
lists its stages).

The field names and values are Nerve's ingest format, as molq 0.8's nerve
plugin sends them. One difference on purpose: a retry family or root groups
jobs only when two or more of the records share it, so a batch of
independent jobs (each its own family of one) rolls up into the cluster's
queue instead of one chain per job.
"""

from __future__ import annotations

import socket
import sys
import time
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from molq import _original_names
from molq.status import JobState

if TYPE_CHECKING:
    from molq._core import JobRecord

__all__ = [
    "PRODUCER",
    "build_snapshots",
    "facets_for_state",
    "group_job_dict",
    "leaf_job_dict",
    "machine_alias",
    "machine_kind",
]

PRODUCER = {"id": "molq", "name": "molq", "kind": "queue.molq"}

_ATTENTION = frozenset({JobState.FAILED, JobState.TIMED_OUT, JobState.OUT_OF_MEMORY, JobState.LOST})
_WAITING = frozenset({JobState.CREATED, JobState.SUBMITTED, JobState.QUEUED})
_TERMINAL_VALUES = frozenset(s.value for s in JobState if s.is_terminal)
_BATCH_KEYS = ("molq.batch_id", "batch_id", "molq.chain_id", "chain_id")


# -- where this machine is --------------------------------------------------------------
def machine_alias() -> str:
    """The name Nerve shows for this machine: the macOS LocalHostName (what Nerve's
    settings show there), else the host name up to its first dot."""

    if sys.platform == "darwin":
        import subprocess  # deferred: subprocess only when a command runs

        try:
            name = subprocess.run(
                ["/usr/sbin/scutil", "--get", "LocalHostName"], capture_output=True, text=True, timeout=1.0, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            name = ""
        if name:
            return name

    host = socket.gethostname() or "local"
    return host.split(".")[0].strip() or host


def machine_kind() -> str:
    """``darwin``, ``linux``, ``wsl``, ``windows`` or ``unknown``."""
    import platform  # deferred: platform only when the machine kind is asked

    system = platform.system().lower()
    if system == "linux":
        release = platform.release().lower()
        return "wsl" if "microsoft" in release or "wsl" in release else "linux"
    return system if system in ("darwin", "windows") else "unknown"


# -- small formatting ---------------------------------------------------------------------
def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _short(text: str | None, limit: int = 160) -> str | None:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis (None if empty)."""
    if not text:
        return None
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _display_name(record: JobRecord) -> str:
    meta = record.metadata or {}
    named = meta.get("job_name") or meta.get("molq.job_name")
    if named:
        return str(named)
    return _short(record.command_display, 48) or record.job_id[:8]


# -- one state ---------------------------------------------------------------------------
def facets_for_state(state: JobState) -> dict[str, Any]:
    """Nerve's facets for one job state: lifecycle, current activity, attention,
    health, progress and outcome (a new dict each call)."""
    state = JobState(state)
    value = state.value
    none: dict[str, Any] = {"level": "none"}
    parts: tuple[str, dict[str, Any], dict[str, Any], str, dict[str, Any], str | None]
    if state in (JobState.CREATED, JobState.SUBMITTED):
        parts = ("pending", {"type": "submitted", "summary": value}, none, "ok", {"kind": "none"}, None)
    elif state is JobState.QUEUED:
        parts = (
            "pending",
            {"type": "queued", "summary": "queued"},
            {"level": "none", "reason": "queue"},
            "ok",
            {"kind": "indeterminate", "label": "Queued"},
            None,
        )
    elif state is JobState.RUNNING:
        parts = (
            "active",
            {"type": "running", "summary": "running"},
            none,
            "ok",
            {"kind": "indeterminate", "label": "Running"},
            None,
        )
    elif state is JobState.SUCCEEDED:
        parts = ("ended", {"type": "idle", "summary": "succeeded"}, none, "ok", {"kind": "none"}, "success")
    elif state is JobState.CANCELLED:
        parts = ("ended", {"type": "idle", "summary": "cancelled"}, none, "ok", {"kind": "none"}, "cancelled")
    elif state in _ATTENTION:
        attention = {"level": "suggested", "reason": "failure", "title": value, "summary": value}
        health = "unresponsive" if state is JobState.LOST else "degraded"
        parts = ("ended", {"type": "idle", "summary": value}, attention, health, {"kind": "none"}, "failure")
    else:
        parts = ("unknown", {"type": "idle", "summary": value}, none, "unknown", {"kind": "none"}, None)
    lifecycle, current, attention, health, progress, outcome = parts
    return {
        "lifecycle": lifecycle,
        "current": dict(current),
        "attention": dict(attention),
        "health": health,
        "progress": dict(progress),
        "outcome": outcome,
    }


def leaf_job_dict(
    rec: JobRecord,
    *,
    alias: str,
    version: int,
    paint_ribbon: bool,
    group_id: str | None,
    role: str = "member",
) -> dict[str, Any]:
    """The entry for one job: a top-level ``job`` or a ``member`` of group ``group_id``."""
    facets = facets_for_state(rec.state)
    details = [f"cluster={rec.cluster_name}", f"state={rec.state.value}"]
    if rec.scheduler_job_id:
        details.append(f"sched={rec.scheduler_job_id}")
    if rec.failure_reason:
        details.append(_short(rec.failure_reason, 80) or "")
    name = _display_name(rec)
    current = {
        **facets["current"],
        "name": name,
        "summary": _short(" \u00b7 ".join(d for d in details if d)),
        "startedAt": _iso(rec.started_at) or _iso(rec.submitted_at),
    }
    extensions: dict[str, Any] = {
        "role": role,
        "paintRibbon": paint_ribbon,
        "molqJobId": rec.job_id,
        "cluster": rec.cluster_name,
        "scheduler": rec.scheduler,
    }
    if group_id:
        # parentJobId: the key older Nerve panels filter members by.
        extensions.update(groupId=group_id, parentJobId=group_id)
    entry: dict[str, Any] = {
        "id": f"molq:{rec.job_id}",
        "kind": "job",
        "name": name,
        "alias": alias,
        "lifecycle": facets["lifecycle"],
        "current": current,
        "attention": facets["attention"],
        "health": facets["health"],
        "progress": facets["progress"],
        "producer": dict(PRODUCER),
        "capabilities": [],
        "actions": [],
        "createdAt": _iso(rec.submitted_at) or _now_iso(),
        "startedAt": _iso(rec.started_at),
        "endedAt": _iso(rec.finished_at),
        "updatedAt": _now_iso(),
        "version": version,
        "extensions": extensions,
    }
    if facets["outcome"] is not None:
        entry["outcome"] = facets["outcome"]
    return entry


# -- many jobs ----------------------------------------------------------------------------
def _group_facets(states: list[JobState]) -> dict[str, Any]:
    """Facets of a group from its members' states: failures first, then running,
    then waiting; a group of finished jobs says how it ended."""
    total = len(states)
    by_value = Counter(s.value for s in states)
    succeeded = sum(s is JobState.SUCCEEDED for s in states)
    failed = sum(s in _ATTENTION for s in states)
    cancelled = sum(s is JobState.CANCELLED for s in states)
    running = sum(s is JobState.RUNNING for s in states)
    waiting = sum(s in _WAITING for s in states)
    done = succeeded + failed + cancelled
    progress = {
        "kind": "determinate",
        "ratio": done / total if total else 0.0,
        "label": f"{done}/{total}",
        "metrics": [
            {"label": label, "current": float(n)}
            for label, n in sorted(by_value.items(), key=lambda item: (-item[1], item[0]))
        ],
    }
    none = {"level": "none"}
    if failed:
        lifecycle = "active" if running or waiting else "ended"
        return {
            "lifecycle": lifecycle,
            "current": {
                "type": "batch",
                "summary": f"{failed} failed \u00b7 {running} running \u00b7 {waiting} queued \u00b7 {done}/{total}",
            },
            "attention": {
                "level": "suggested",
                "reason": "failure",
                "title": f"{failed} failed",
                "summary": f"{failed} of {total} jobs failed",
            },
            "health": "degraded",
            "progress": progress,
            "outcome": "failure" if lifecycle == "ended" else None,
        }
    if running:
        return {
            "lifecycle": "active",
            "current": {
                "type": "batch",
                "summary": f"{running} running \u00b7 {waiting} queued \u00b7 {done}/{total} done",
            },
            "attention": none,
            "health": "ok",
            "progress": progress,
            "outcome": None,
        }
    if waiting:
        return {
            "lifecycle": "pending",
            "current": {"type": "queued", "summary": f"{waiting} queued \u00b7 {done}/{total} done"},
            "attention": {"level": "none", "reason": "queue"},
            "health": "ok",
            "progress": progress,
            "outcome": None,
        }
    if cancelled == 0:
        outcome = "success"
    elif succeeded == 0:
        outcome = "cancelled"
    else:
        outcome = "partial"
    progress.update(ratio=1.0, label=f"{total}/{total}")
    return {
        "lifecycle": "ended",
        "current": {"type": "idle", "summary": f"{total} jobs \u00b7 {outcome}"},
        "attention": none,
        "health": "ok",
        "progress": progress,
        "outcome": outcome,
    }


def _stage_order(records: Iterable[JobRecord]) -> list[JobRecord]:
    return sorted(records, key=lambda r: (r.attempt, r.submitted_at or 0.0, r.job_id))


def _stages(records: list[JobRecord]) -> dict[str, Any]:
    """A chain's stages in order, and the current one: the first not finished, else the last."""
    stages = [
        {"index": i, "jobId": r.job_id, "name": _display_name(r), "state": r.state.value}
        for i, r in enumerate(_stage_order(records), start=1)
    ]
    current = next((s for s in stages if s["state"] not in _TERMINAL_VALUES), stages[-1] if stages else None)
    if current is None:
        return {"stages": [], "currentIndex": 0, "stageCount": 0, "summary": "empty chain"}
    return {
        "stages": stages,
        "currentIndex": current["index"],
        "stageCount": len(stages),
        "summary": f"stage {current['index']}/{len(stages)} \u00b7 {current['name']} \u00b7 {current['state']}",
    }


def group_job_dict(
    *,
    group_id: str,
    name: str,
    records: list[JobRecord],
    alias: str,
    version: int,
    kind: str = "batch",
    force_end: bool = False,
) -> dict[str, Any]:
    """The roll-up entry of ``records``; ``force_end`` ends it (the plugin is detaching)."""
    states = [r.state for r in records]
    facets = _group_facets(states)
    extensions: dict[str, Any] = {
        "role": "group",
        "paintRibbon": True,
        "memberCount": len(records),
        "counts": dict(Counter(s.value for s in states)),
    }
    if kind == "chain":
        chain = _stages(records)
        facets["current"] = {"type": "pipeline", "name": name, "summary": chain["summary"]}
        extensions.update(stages=chain["stages"], currentStage=chain["currentIndex"], stageCount=chain["stageCount"])
    if force_end and facets["lifecycle"] != "ended":
        facets.update(
            lifecycle="ended", outcome=facets["outcome"] or "cancelled", current={"type": "idle", "summary": "detached"}
        )
    submitted = [r.submitted_at for r in records if r.submitted_at is not None]
    started = [r.started_at for r in records if r.started_at is not None]
    finished = [r.finished_at for r in records if r.finished_at is not None]
    entry: dict[str, Any] = {
        "id": group_id,
        "kind": kind,
        "name": name,
        "alias": alias,
        "lifecycle": facets["lifecycle"],
        "current": facets["current"],
        "attention": facets["attention"],
        "health": facets["health"],
        "progress": facets["progress"],
        "producer": dict(PRODUCER),
        "capabilities": [],
        "actions": [],  # display only: Nerve cannot act on molq jobs
        "createdAt": _iso(min(submitted)) if submitted else _now_iso(),
        "startedAt": _iso(min(started)) if started else None,
        "endedAt": _iso(max(finished)) if finished and facets["lifecycle"] == "ended" else None,
        "updatedAt": _now_iso(),
        "version": version,
        "extensions": extensions,
    }
    if facets["outcome"] is not None:
        entry["outcome"] = facets["outcome"]
    return entry


def _group_keys(records: list[JobRecord]) -> list[str]:
    """Each record's group: its batch, else a family it shares with another record, else its cluster."""
    families = Counter(r.retry_group_id for r in records if r.retry_group_id)
    roots = Counter(r.root_job_id for r in records if r.root_job_id)
    keys = []
    for r in records:
        meta = r.metadata or {}
        batch = next((str(meta[k]) for k in _BATCH_KEYS if meta.get(k)), None)
        if batch is not None:
            keys.append(batch)
        elif r.retry_group_id and families[r.retry_group_id] > 1:
            keys.append(f"retry:{r.retry_group_id}")
        elif r.root_job_id and roots[r.root_job_id] > 1:
            keys.append(f"root:{r.root_job_id}")
        else:
            keys.append(f"cluster:{r.cluster_name}")
    return keys


def _group_identity(key: str, cluster_name: str) -> tuple[str, str]:
    """(name, kind) of the group with ``key``."""
    prefix, _, rest = key.partition(":")
    if prefix == "cluster":
        return f"molq \u00b7 {cluster_name}", "queue"
    if prefix == "retry":
        return f"retry \u00b7 {rest[:8]}", "chain"
    if prefix == "root":
        return f"chain \u00b7 {rest[:8]}", "chain"
    return f"batch \u00b7 {key[:24]}", "batch"


def build_snapshots(
    *,
    records: list[JobRecord],
    cluster_name: str,
    expand_threshold: int,
    show_members: str,
    version: int,
    force_end: bool,
    alias: str,
) -> list[dict[str, Any]]:
    """The ``jobs`` list of one snapshot: one entry per job when there are at most
    ``expand_threshold`` of them in one group, else groups and their members."""
    if not records:
        return []
    buckets: dict[str, list[JobRecord]] = {}
    for key, record in zip(_group_keys(records), records):
        buckets.setdefault(key, []).append(record)
    if len(records) <= expand_threshold and len(buckets) == 1:
        return [
            leaf_job_dict(r, alias=alias, version=version, paint_ribbon=True, group_id=None, role="job")
            for r in records
        ]
    out: list[dict[str, Any]] = []
    for key, members in buckets.items():
        group_id = f"molq:{cluster_name}:{key}"
        name, kind = _group_identity(key, cluster_name)
        out.append(
            group_job_dict(
                group_id=group_id,
                name=name,
                records=members,
                alias=alias,
                version=version,
                kind=kind,
                force_end=force_end,
            )
        )
        if kind == "chain":
            ordered = [r.job_id for r in _stage_order(members)]
            shown = members
        elif show_members == "all":
            shown = members
        elif show_members == "attention":
            shown = [r for r in members if r.state in _ATTENTION]
        else:
            shown = []
        for record in shown:
            leaf = leaf_job_dict(
                record, alias=alias, version=version, paint_ribbon=False, group_id=group_id, role="member"
            )
            if kind == "chain":
                index = ordered.index(record.job_id) + 1
                leaf["extensions"].update(stageIndex=index, stageCount=len(ordered))
                leaf["current"]["summary"] = _short(
                    f"stage {index}/{len(ordered)} \u00b7 {leaf['current'].get('summary') or record.state.value}"
                )
            out.append(leaf)
    return out


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
