"""Finding jobs whose submitter died between the scheduler accepting them and
molq recording their scheduler id (they sit in CREATED with no id)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from molq._log import get_logger
from molq.errors import MolqError

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.submitor import Submitor

__all__ = ["recover_interrupted_submissions"]


def recover_interrupted_submissions(
    sub: Submitor, *, adopt_after: float, give_up_after: float, now: float | None = None
) -> list[str]:
    """Adopt CREATED jobs older than ``adopt_after`` s that the scheduler has
    (found by molq's marker); mark FAILED those still unknown after
    ``give_up_after`` s. Returns the adopted job ids.

    ``give_up_after`` must exceed the longest a live submit can take, or a
    slow submitter's job would be declared failed under its feet.
    """
    now = time.time() if now is None else now
    candidates = sub.store.native.stale_created(sub.cluster_name, now - adopt_after)
    if not candidates:
        return []
    stale: list[JobRecord] = sub.store.get_records([job_id for job_id, _ in candidates])
    find = getattr(sub.target.scheduler_impl, "find_submissions", None)
    found: dict[str, str] = {}
    if find is not None:
        try:
            found = find([(r.job_id, r.job_dir) for r in stale])
        except (MolqError, OSError) as exc:
            get_logger(__name__).warning("could not look for interrupted submissions: %s", exc)
            return []
    adopted = []
    for record in stale:
        sid = found.get(record.job_id)
        if sid is not None:
            transition = sub.store.mark_submitted(record.job_id, sid, time.time())
            if transition is not None:
                adopted.append(record.job_id)
                sub._emit(transition)
        elif now - record.submitted_at >= give_up_after:
            sub._emit(
                sub.store.mark_failed(
                    record.job_id,
                    "submission was interrupted (its submitter stopped) and the scheduler has no such job",
                    time.time(),
                )
            )
    return adopted
