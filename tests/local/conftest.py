"""Fixtures for tests that run real jobs on this machine through the local backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    s = JobStore(tmp_path / "jobs.db")
    yield s
    s.close()


@pytest.fixture
def submitor(tmp_path: Path, store: JobStore) -> Iterator[mq.Submitor]:
    cluster = mq.Cluster("laptop", "local")
    sub = mq.Submitor(
        cluster,
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
    )
    yield sub
    sub.close()
