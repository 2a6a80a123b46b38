"""Where commands and file operations run: this machine, or another over SSH."""

# The original molq was one module here, and code written for it patches
# ``molq.transport.subprocess`` / ``molq.transport.sys``: keep those names reachable.
import subprocess  # noqa: F401
import sys  # noqa: F401

from molq import _original_names
from molq.errors import TransportError
from molq.transport.base import CommandFailedError, CommandResult, Transport
from molq.transport.local import LocalTransport

__all__ = ["CommandFailedError", "CommandResult", "LocalTransport", "SshTransport", "Transport", "TransportError"]


def __getattr__(name: str) -> object:
    # SshTransport pulls in more machinery; load it only when asked for.
    if name == "SshTransport":
        from molq.transport.ssh import SshTransport  # deferred: molq.transport.ssh loads only when used

        return SshTransport
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
