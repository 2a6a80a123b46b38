"""Where the original molq kept its store schema; molq's schema and
migrations are in the Rust core (``molq_core::store``).

Code that imports from here (``from molq.store.schema import StoreError``)
gets molq's classes, resolved on first use.
"""

from __future__ import annotations

from molq import _original_names


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
