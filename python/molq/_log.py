"""Loggers created on first use, so importing molq does not import logging."""

from __future__ import annotations

from typing import Any

__all__ = ["get_logger"]


def get_logger(name: str) -> Any:
    import logging  # deferred: logging is slow to import; only when it logs

    return logging.getLogger(name)
