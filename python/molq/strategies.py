"""How long to wait between two polls of a job that is being waited on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from molq.types import Duration

__all__ = [
    "AdaptiveStrategy",
    "ExponentialBackoffStrategy",
    "FixedStrategy",
    "PollingStrategy",
]


@runtime_checkable
class PollingStrategy(Protocol):
    def next_interval(self, elapsed: float, poll_count: int) -> float:
        """Seconds to sleep after poll number ``poll_count`` (0-based),
        ``elapsed`` seconds into the wait."""
        ...


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True)
class FixedStrategy:
    """Always the same interval."""

    interval: float = 5.0

    def __post_init__(self) -> None:
        _check_positive("interval", self.interval)

    def next_interval(self, elapsed: float, poll_count: int) -> float:
        return float(self.interval)


@dataclass(frozen=True)
class ExponentialBackoffStrategy:
    """``min(initial * factor**poll_count, maximum)``: 1, 1.5, 2.25... capped at 60 s."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 1.5

    def __post_init__(self) -> None:
        _check_positive("initial", self.initial)
        _check_positive("maximum", self.maximum)
        _check_positive("factor", self.factor)
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor!r}")
        if self.maximum < self.initial:
            raise ValueError(f"maximum ({self.maximum}) must be >= initial ({self.initial})")

    def next_interval(self, elapsed: float, poll_count: int) -> float:
        # Compare in log space: factor**poll_count overflows a float long
        # before a long wait runs out of polls.
        steps = max(poll_count, 0)
        headroom = math.log(self.maximum / self.initial)
        if self.factor > 1 and steps * math.log(self.factor) >= headroom:
            return float(self.maximum)
        return min(self.initial * self.factor**steps, float(self.maximum))


@dataclass(frozen=True)
class AdaptiveStrategy:
    """Poll every 1 % of the expected run time, clamped to [1, 300] s.

    Without an expected duration it behaves like ``ExponentialBackoffStrategy()``.
    ``expected_duration`` is in seconds, or a ``Duration``.
    """

    expected_duration: float | Duration | None = None

    def __post_init__(self) -> None:
        if self.expected_duration is not None:
            _check_positive("expected_duration", self._seconds())

    def _seconds(self) -> float:
        expected = self.expected_duration
        return float(expected.seconds if isinstance(expected, Duration) else expected or 0)

    def next_interval(self, elapsed: float, poll_count: int) -> float:
        if self.expected_duration is None:
            return _DEFAULT_BACKOFF.next_interval(elapsed, poll_count)
        return min(max(self._seconds() * 0.01, 1.0), 300.0)


_DEFAULT_BACKOFF = ExponentialBackoffStrategy()
