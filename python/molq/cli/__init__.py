"""The ``molq`` command line.

Only argparse and this package's parser load before a command runs; each
command imports the parts of molq it needs, so ``molq --help`` stays fast.
Exit codes (also in docs/cli.md):

    0    success
    1    a job failed, a job was not found, or molq could not do what was asked
    2    usage error: bad flags, an ambiguous job id prefix, a bad config file
    3    a wait (--wait, watch --timeout) ran out of time
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TIMEOUT", "EXIT_USAGE", "CliError", "UsageError", "main"]

import importlib
import os
import warnings

from molq.cli._errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    CliError,
    UsageError,
)
from molq.errors import CommandError, ConfigError, JobNotFoundError, MolqError, MolqTimeoutError, SubmitError


def _error(message: str) -> None:
    sys.stderr.write(f"molq: error: {message}\n")
    sys.stderr.flush()


def _warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    # A warning (e.g. an unknown config key) reads like molq's errors, not like a traceback line.
    sys.stderr.write(f"molq: warning: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``molq`` command; returns the exit code."""

    warnings.showwarning = _warning
    from molq.cli._parser import parse  # deferred: argparse loads when main runs, not with every molq.cli module

    args = parse(list(sys.argv[1:] if argv is None else argv))
    if args is None:  # --version, or help printed
        return EXIT_OK
    try:
        return _run(args)
    except BrokenPipeError:
        # `molq list | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


def _run(args: object) -> int:
    module_name, _, func_name = getattr(args, "handler").partition(":")  # noqa: B009 - args is typed object
    handler = getattr(importlib.import_module(module_name), func_name)
    from molq.cli._session import Session  # deferred: molq.cli._session stays out of molq --help until used

    session = Session(args)
    try:
        return int(handler(session, args))
    except CliError as exc:
        _error(str(exc))
        return exc.code
    except MolqTimeoutError as exc:
        _error(str(exc))
        return EXIT_TIMEOUT
    except JobNotFoundError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except (ConfigError, CommandError, SubmitError) as exc:
        # A request molq cannot honour: the user has to change what they typed.
        _error(str(exc))
        return EXIT_USAGE
    except MolqError as exc:
        _error(str(exc))
        return EXIT_FAILED
    finally:
        session.close()
