"""The hand-written stubs of the native module match what it really exports."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_core_stubs_match_the_module() -> None:
    pytest.importorskip("mypy", reason="mypy is in molq's test extras: pip install '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "molq._core"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
