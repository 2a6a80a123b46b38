"""Where the original molq rendered job scripts; molq's renderer is
:mod:`molq.scheduler._script`.

Code that imports from here (``from molq.scheduler.script import JobSpec``)
gets molq's classes, resolved on first use.
"""

from __future__ import annotations


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    from molq._original_names import resolve

    return resolve(__name__, name)
