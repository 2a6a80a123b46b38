"""Fixtures for tests that run against the real single-node Slurm testbed (and,
at the end, the Grid Engine one: ``sge_testbed``).

Start the testbed with ``scripts/slurm-up.sh`` (as root). Tests that need it take the
``slurm_testbed`` fixture and carry ``@pytest.mark.slurm``; when the testbed is not up they
are skipped with the reason, never passed. Set ``MOLQ_REQUIRE_SLURM=1`` (as CI does once it
has started the testbed) to turn that skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"

# exit codes of `scripts/slurm-up.sh --check`
_CHECK_REASONS = {3: "not root", 4: "Slurm is not installed", 5: "testbed daemons are down"}


@dataclass(frozen=True)
class SlurmTestbed:
    """The running testbed: names to submit against, and outage switches."""

    cluster: str = "molq"
    partition: str = "debug"
    node: str = "localhost"

    def daemon(self, action: str, name: str) -> None:
        """``action`` is stop or start; ``name`` e.g. slurmctld or slurmdbd."""
        subprocess.run(
            [str(SCRIPTS / "slurm-daemon.sh"), action, name],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )

    @contextlib.contextmanager
    def outage(self, name: str) -> Iterator[None]:
        """Stop one daemon for the duration of the block, and start it again afterwards
        even if the block fails. slurmctld: squeue/sbatch/scancel fail; slurmdbd: sacct fails."""
        self.daemon("stop", name)
        try:
            yield
        finally:
            self.daemon("start", name)


def _unavailable(reason: str) -> None:
    if os.environ.get("MOLQ_REQUIRE_SLURM") == "1":
        pytest.fail(f"MOLQ_REQUIRE_SLURM=1 but the Slurm testbed is not usable: {reason}")
    pytest.skip(f"Slurm testbed not usable: {reason}")


@pytest.fixture(scope="session")
def slurm_testbed() -> SlurmTestbed:
    """Skip (or, with MOLQ_REQUIRE_SLURM=1, fail) unless ``slurm-up.sh --check`` says the
    testbed is up: root, Slurm installed, all five daemons running, sacct answering."""
    check = SCRIPTS / "slurm-up.sh"
    if not check.is_file():
        _unavailable(f"{check} is missing")
    try:
        proc = subprocess.run(["bash", str(check), "--check"], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        _unavailable("bash is not installed")
    except subprocess.TimeoutExpired:
        _unavailable("scripts/slurm-up.sh --check did not answer within 60 s")
    message = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    detail = message[-1] if message else "(no output)"
    if proc.returncode in _CHECK_REASONS:
        _unavailable(f"{_CHECK_REASONS[proc.returncode]}: {detail}")
    if proc.returncode != 0:
        pytest.fail(f"scripts/slurm-up.sh --check broke (rc {proc.returncode}): {proc.stdout}{proc.stderr}")
    return SlurmTestbed()


# exit codes of `scripts/sge-up.sh --check`
_SGE_CHECK_REASONS = {3: "not root", 4: "Grid Engine is not installed", 5: "Grid Engine daemons are down"}


def _sge_unavailable(reason: str) -> None:
    if os.environ.get("MOLQ_REQUIRE_SGE") == "1":
        pytest.fail(f"MOLQ_REQUIRE_SGE=1 but Grid Engine is not usable: {reason}")
    pytest.skip(f"Grid Engine not usable: {reason}")


@pytest.fixture(scope="session")
def sge_testbed() -> None:
    """Skip (or fail, with MOLQ_REQUIRE_SGE=1) unless ``sge-up.sh --check`` says Grid Engine is up."""
    check = SCRIPTS / "sge-up.sh"
    if not check.is_file():
        _sge_unavailable(f"{check} is missing")
    try:
        proc = subprocess.run(["bash", str(check), "--check"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        _sge_unavailable("scripts/sge-up.sh --check did not answer within 60 s")
    message = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    detail = message[-1] if message else "(no output)"
    if proc.returncode in _SGE_CHECK_REASONS:
        _sge_unavailable(f"{_SGE_CHECK_REASONS[proc.returncode]}: {detail}")
    if proc.returncode != 0:
        pytest.fail(f"scripts/sge-up.sh --check broke (rc {proc.returncode}): {proc.stdout}{proc.stderr}")
