"""``molq.cli.main``: where the original molq kept its command-line app.

Programs that import ``app`` from here keep working: ``app(["list", "local"])``
runs one ``molq`` command and returns its exit code, like ``molq.cli.main()``.
(The original's ``app`` was a Typer object; this molq's command line is
argparse, so ``typer.testing.CliRunner`` cannot drive it: run the ``molq``
command, or call ``app`` directly.)
"""

from __future__ import annotations

from collections.abc import Sequence

from molq.cli import main

__all__ = ["app", "main"]


def app(args: Sequence[str] | None = None) -> int:
    """Run one ``molq`` command (``args`` as typed after ``molq``); the exit code."""
    return main(args)
