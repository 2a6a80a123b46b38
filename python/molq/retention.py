"""Retention: remove the directories and then the records of old finished jobs.

The sweep itself is the engine's (``molq._engine.retention``); this module is
its public name.
"""

from __future__ import annotations

from molq import _original_names
from molq._engine.retention import apply_retention

__all__ = ["apply_retention"]


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
