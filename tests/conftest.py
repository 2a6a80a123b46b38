"""Shared test setup.

Hypothesis runs a cheap "fast" profile by default; HYPOTHESIS_PROFILE=slow
digs deeper (CI nightly, or before a release).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("fast", max_examples=100, deadline=None)
settings.register_profile(
    "slow",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture(autouse=True)
def _own_local_slots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's local jobs share slots with each other only, not with the
    rest of the run or the user's own jobs (the default is one slot directory
    per user and machine)."""
    monkeypatch.setenv("MOLQ_LOCAL_SLOTS", str(tmp_path / "local-slots"))
