"""Fixtures that put the fake PBS or LSF commands (tests/fakes/) on PATH.

The fakes are small Python programs that keep their state in a directory and
really run each job with bash, printing what PBS Pro and LSF document; a real
``molq.Submitor`` drives them end to end through the ordinary LocalTransport.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

FAKES = Path(__file__).resolve().parents[1] / "fakes"


def _kill_leftovers(state: Path) -> None:
    """Stop the runners of jobs a test left running (they are process group leaders)."""
    for path in (state / "jobs").glob("*.json"):
        job = {}
        with contextlib.suppress(Exception):
            job = json.loads(path.read_text())
        for key in ("pid", "runner", "ender"):
            with contextlib.suppress(Exception):
                if job.get(key):
                    os.killpg(os.getpgid(job[key]), signal.SIGKILL)


@pytest.fixture
def fake_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Path]]:
    """``use(kind)`` puts that kind's fake commands on PATH, with their state in
    ``tmp_path/fake-<kind>`` (returned), for tests that make their own Submitors;
    the runners of jobs left running are stopped afterwards."""
    states: list[Path] = []

    def use(kind: str) -> Path:
        state = tmp_path / f"fake-{kind}"
        state.mkdir()
        monkeypatch.setenv(f"MOLQ_FAKE_{kind.upper()}_DIR", str(state))
        monkeypatch.setenv("PATH", f"{FAKES / kind}{os.pathsep}{os.environ['PATH']}")
        states.append(state)
        return state

    yield use
    for state in states:
        _kill_leftovers(state)


@contextlib.contextmanager
def _fake(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: object = None) -> Iterator[mq.Submitor]:
    state = tmp_path / f"fake-{kind}"
    state.mkdir()
    monkeypatch.setenv(f"MOLQ_FAKE_{kind.upper()}_DIR", str(state))
    monkeypatch.setenv("PATH", f"{FAKES / kind}{os.pathsep}{os.environ['PATH']}")
    sub = mq.Submitor(
        mq.Cluster(f"fake-{kind}", kind, scheduler_options=options),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.2),
    )
    try:
        yield sub
    finally:
        sub.close()
        _kill_leftovers(state)


@pytest.fixture
def fake_pbs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[mq.Submitor]:
    with _fake("pbs", tmp_path, monkeypatch) as sub:
        yield sub


@pytest.fixture
def fake_lsf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[mq.Submitor]:
    with _fake("lsf", tmp_path, monkeypatch) as sub:
        yield sub
