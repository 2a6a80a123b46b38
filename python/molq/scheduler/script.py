"""Where the original molq rendered job scripts; molq's renderer is
:mod:`molq.scheduler._script`.

Code that imports from here (``from molq.scheduler.script import JobSpec``)
gets molq's classes, resolved on first use.
"""

from __future__ import annotations

from molq import _original_names


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
