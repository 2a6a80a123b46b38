"""Where commands and file operations run: this machine, or another over SSH."""

from molq.errors import TransportError
from molq.transport.base import CommandResult, Transport
from molq.transport.local import LocalTransport

__all__ = ["CommandResult", "LocalTransport", "SshTransport", "Transport", "TransportError"]


def __getattr__(name: str) -> object:
    # SshTransport pulls in more machinery; load it only when asked for.
    if name == "SshTransport":
        from molq.transport.ssh import SshTransport

        return SshTransport
    raise AttributeError(f"module 'molq.transport' has no attribute {name!r}")
