"""Public path of the refresh cycle (``molq._engine.refresh``), where the
original molq had its ``JobReconciler``."""

from __future__ import annotations

from typing import Any

from molq import _core, _original_names
from molq._engine.refresh import CycleResult, JobReconciler

__all__ = ["CycleResult", "JobReconciler", "StatusChange"]  # noqa: F822 - StatusChange comes from __getattr__


def __getattr__(name: str) -> Any:
    # The original's name for the transitions a cycle returns.
    if name == "StatusChange":
        return _core.StatusTransition
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
