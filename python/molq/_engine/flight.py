"""Jobs in flight: the caps a Submitor keeps its cluster to, and handing the
jobs molq held back to the scheduler once there is room.

The decisions are the store's (``molq_core``'s ``flight``), made under its
write lock so that every process sharing the store counts the same jobs: a
registration beyond the cap is held (QUEUED, no scheduler id, the reason
recorded), and a claim hands each held job that fits to one caller only.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from molq._log import get_logger
from molq.errors import MolqError

if TYPE_CHECKING:
    from molq._engine.context import EngineContext
    from molq.models import SubmitorDefaults

__all__ = ["FlightCaps", "caps_for", "release_held_jobs"]


class FlightCaps:
    """``max_jobs_in_flight`` and ``max_jobs_in_flight_per_partition``, as the store takes them."""

    __slots__ = ("max_in_flight", "partition_caps")

    def __init__(self, max_in_flight: int | None, partition_caps: dict[str, int] | None) -> None:
        self.max_in_flight = max_in_flight
        self.partition_caps = partition_caps or None

    def as_kwargs(self) -> dict[str, Any]:
        return {"max_in_flight": self.max_in_flight, "partition_caps": self.partition_caps}


def caps_for(defaults: SubmitorDefaults | None) -> FlightCaps | None:
    """The caps ``defaults`` set (None: jobs go straight to the scheduler)."""
    if defaults is None or (defaults.max_jobs_in_flight is None and not defaults.max_jobs_in_flight_per_partition):
        return None
    return FlightCaps(defaults.max_jobs_in_flight, defaults.max_jobs_in_flight_per_partition)


def release_held_jobs(ctx: EngineContext) -> list[str]:
    """Hand the held jobs that fit now to the scheduler, oldest first; return
    the job ids handed over. Claims are atomic in the store: with many
    processes refreshing, each held job is handed over by one of them."""
    caps = ctx.flight_caps
    if caps is None:
        return []
    store = ctx.store
    claimed = store.claim_held(ctx.cluster_name, time.time(), **caps.as_kwargs())
    if not claimed:
        return []
    from molq._engine.requests import Lineage, SubmitRequest  # the submit pipeline: with the first release
    from molq._engine.submit import hand_over  # the submit pipeline: with the first release

    released: list[str] = []
    records = store.get_records(claimed)
    for index, record in enumerate(records):
        lineage = Lineage(
            record.root_job_id,
            record.attempt,
            record.previous_attempt_job_id,
            record.retry_group_id or record.root_job_id,
        )
        try:
            # Rebuilt where its directory already is (another Submitor may
            # have registered it with another jobs_dir).
            where = ctx.at_job_root(os.path.dirname(record.job_dir))
            request = SubmitRequest.replay(
                where, record, job_id=record.job_id, lineage=lineage, dir_name=os.path.basename(record.job_dir)
            )
            spec = request.resolve(where).spec
        except (MolqError, OSError) as exc:
            # It can never be handed over as stored; failing it frees its place.
            reason = f"submission failed: a held job could not be rebuilt from its stored request: {exc}"
            ctx.events.emit(store.mark_failed(record.job_id, reason, time.time()))
            get_logger(__name__).warning("job %s: %s", record.job_id, reason)
            continue
        try:
            hand_over(ctx, spec, None, from_refresh=True, held=True)
        except MolqError as exc:
            get_logger(__name__).warning("held job %s could not be handed to the scheduler: %s", record.job_id, exc)
            if exc.context.get("held_again"):
                # The scheduler refuses for now: the rest wait too, in their places.
                for later in records[index + 1 :]:
                    store.hold_again(later.job_id)
                break
            continue
        released.append(record.job_id)
    return released
