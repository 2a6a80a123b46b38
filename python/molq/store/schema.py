"""Where the original molq kept its store schema; molq's schema and
migrations are in the Rust core (``molq_core::store``).

Code that imports from here (``from molq.store.schema import StoreError``)
gets molq's classes, resolved on first use.
"""

from __future__ import annotations


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    from molq._original_names import resolve

    return resolve(__name__, name)
