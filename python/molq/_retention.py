"""Retention for a Submitor: ``molq.retention`` through the cluster's transport."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from molq.models import RetentionPolicy
    from molq.submitor import Submitor

__all__ = ["apply_retention"]


def apply_retention(
    sub: Submitor, policy: RetentionPolicy, *, dry_run: bool = False, now: float | None = None
) -> dict[str, list[str]]:
    """Apply ``policy`` to the Submitor's cluster; report what was (or would be) removed.

    Directories are removed on the cluster's own filesystem, so a remote
    cluster's job directories go and no local path is touched.
    """
    from molq import retention

    return retention.apply_retention(
        sub.store, sub.cluster_name, policy, now=now, dry_run=dry_run, transport=sub.target.transport
    )
