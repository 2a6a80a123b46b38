"""Public path of the blocking waits (``molq._engine.waits``), where the
original molq had its ``JobMonitor``."""

from __future__ import annotations

from molq import _original_names
from molq._engine.waits import JobMonitor, is_settled

__all__ = ["JobMonitor", "is_settled"]


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
