from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq.strategies import (
    AdaptiveStrategy,
    ExponentialBackoffStrategy,
    FixedStrategy,
    PollingStrategy,
)
from molq.types import Duration


def test_fixed() -> None:
    assert FixedStrategy().next_interval(0, 0) == 5.0
    assert FixedStrategy(2).next_interval(100.0, 50) == 2.0


def test_exponential_sequence_and_cap() -> None:
    strategy = ExponentialBackoffStrategy()
    assert [strategy.next_interval(0, n) for n in range(3)] == [1.0, 1.5, 2.25]
    assert strategy.next_interval(0, 10) == 57.6650390625
    assert strategy.next_interval(0, 11) == 60.0
    assert strategy.next_interval(0, 10**9) == 60.0


def test_exponential_with_factor_one_is_constant() -> None:
    assert ExponentialBackoffStrategy(2.0, 10.0, 1.0).next_interval(0, 10**6) == 2.0


@given(st.integers(min_value=0, max_value=10**12))
def test_exponential_is_bounded_and_monotonic(n: int) -> None:
    strategy = ExponentialBackoffStrategy(initial=0.5, maximum=30.0, factor=2.0)
    value = strategy.next_interval(0.0, n)
    assert 0.5 <= value <= 30.0
    assert strategy.next_interval(0.0, n + 1) >= value


def test_adaptive() -> None:
    assert AdaptiveStrategy(3600).next_interval(0, 0) == 36.0
    assert AdaptiveStrategy(10).next_interval(0, 0) == 1.0
    assert AdaptiveStrategy(10**7).next_interval(0, 0) == 300.0
    assert AdaptiveStrategy(Duration.hours(1)).next_interval(0, 0) == 36.0
    with pytest.raises(ValueError):
        AdaptiveStrategy(Duration(0))
    fallback = AdaptiveStrategy()
    assert [fallback.next_interval(0, n) for n in (0, 1, 100)] == [1.0, 1.5, 60.0]


@pytest.mark.parametrize(
    "build",
    [
        lambda: FixedStrategy(0),
        lambda: FixedStrategy(-1),
        lambda: FixedStrategy(float("inf")),
        lambda: ExponentialBackoffStrategy(initial=0),
        lambda: ExponentialBackoffStrategy(factor=0.5),
        lambda: ExponentialBackoffStrategy(initial=10, maximum=5),
        lambda: AdaptiveStrategy(0),
        lambda: AdaptiveStrategy(float("nan")),
        lambda: FixedStrategy(True),
    ],
)
def test_invalid_arguments(build) -> None:
    with pytest.raises(ValueError):
        build()


def test_all_satisfy_the_protocol() -> None:
    for strategy in (FixedStrategy(), ExponentialBackoffStrategy(), AdaptiveStrategy()):
        assert isinstance(strategy, PollingStrategy)
