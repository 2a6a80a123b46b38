"""Public path of the refresh cycle (``molq._engine.refresh``), where the
original molq had its ``JobReconciler``."""

from __future__ import annotations

from typing import Any

from molq._engine.refresh import CycleResult, JobReconciler

__all__ = ["CycleResult", "JobReconciler", "StatusChange"]  # noqa: F822 - StatusChange comes from __getattr__


def __getattr__(name: str) -> Any:
    # The original's name for the transitions a cycle returns.
    if name == "StatusChange":
        from molq._core import StatusTransition

        return StatusTransition
    # names the original molq carried here (molq._original_names)
    from molq._original_names import resolve

    return resolve(__name__, name)
