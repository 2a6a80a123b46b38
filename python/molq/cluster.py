"""Cluster: where jobs run (a scheduler kind, a transport, options). No job state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from molq import _original_names
from molq.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from molq._core import QueueEntry
    from molq.scheduler.base import Scheduler
    from molq.transport.base import Transport
    from molq.workspace import Project, Workspace

__all__ = ["Cluster"]


def create_scheduler(name: str, options: Any = None, *, transport: Transport | None = None) -> Scheduler:
    """:func:`molq.scheduler.create_scheduler`, loaded on first use (keeps ``import molq`` cheap)."""
    # deferred: molq.scheduler stays out of import molq until used
    from molq.scheduler import create_scheduler as create

    return create(name, options, transport=transport)


class Cluster:
    """A destination: ``Cluster("hpc", "slurm", host="me@login.hpc")``.

    ``host`` (an SSH target or ``~/.ssh/config`` alias) and ``transport`` are
    mutually exclusive; with neither, commands run on this machine.
    """

    def __init__(
        self,
        name: str,
        scheduler: str = "local",
        *,
        host: str | None = None,
        transport: Transport | None = None,
        scheduler_options: Any = None,
        _scheduler_impl: Any = None,
    ) -> None:
        from molq.options import OPTIONS_TYPE_MAP  # deferred: molq.options stays out of import molq until used
        from molq.scheduler import SCHEDULER_KINDS  # deferred: molq.scheduler stays out of import molq until used

        if not isinstance(name, str) or not name:
            raise ConfigError("a Cluster needs a non-empty name", name=name)
        if host is not None and transport is not None:
            raise ConfigError("give either host= or transport= to a Cluster, not both", name=name)
        if scheduler not in SCHEDULER_KINDS:
            raise ConfigError(
                f"Unknown scheduler kind {scheduler!r} for cluster {name!r}; "
                f"expected one of: {', '.join(SCHEDULER_KINDS)}",
                scheduler=scheduler,
            )
        option_type = OPTIONS_TYPE_MAP.get(scheduler)
        if scheduler_options is not None and option_type is not None and not isinstance(scheduler_options, option_type):
            raise TypeError(
                f"scheduler_options for {scheduler!r} must be {option_type.__name__}, "
                f"got {type(scheduler_options).__name__}"
            )
        if transport is None:
            if host is not None:
                # deferred: molq.options stays out of import molq until used
                from molq.options import SshTransportOptions

                # deferred: molq.transport.ssh stays out of import molq until used
                from molq.transport.ssh import SshTransport

                transport = SshTransport(SshTransportOptions(host=host))
            else:
                # deferred: molq.transport.local stays out of import molq until used
                from molq.transport.local import LocalTransport

                transport = LocalTransport()
        self._name = name
        self._scheduler = scheduler
        self._host = host
        self._transport = transport
        self._scheduler_options = scheduler_options
        if _scheduler_impl is not None:
            # deferred: molq.scheduler.base stays out of import molq until used
            from molq.scheduler.base import adapt_scheduler

            self._scheduler_impl = adapt_scheduler(_scheduler_impl)
        else:
            self._scheduler_impl = create_scheduler(scheduler, scheduler_options, transport=transport)

    @property
    def name(self) -> str:
        return self._name

    @property
    def scheduler(self) -> str:
        return self._scheduler

    @property
    def host(self) -> str | None:
        return self._host

    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def scheduler_impl(self) -> Scheduler:
        """The backend that talks to this cluster's scheduler."""
        return self._scheduler_impl

    @property
    def scheduler_options(self) -> Any:
        return self._scheduler_options

    @property
    def is_remote(self) -> bool:
        # deferred: molq.transport.local stays out of import molq until used
        from molq.transport.local import LocalTransport

        return not isinstance(self._transport, LocalTransport)

    def get_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """The scheduler's live queue (the caller's jobs by default, molq's or not)."""
        return self._scheduler_impl.list_queue(user=user)

    def get_workspace(self, name: str, *, path: str | Path) -> Workspace:
        from molq.workspace import Workspace  # deferred: molq.workspace stays out of import molq until used

        return Workspace(self, name, str(path))

    def get_project(self, name: str, *, workspace: Workspace) -> Project:
        return workspace.get_project(name)

    @classmethod
    def from_profile(cls, profile_name: str, *, config_path: str | Path | None = None) -> Cluster:
        from molq.config import load_profile  # deferred: molq.config stays out of import molq until used

        profile = load_profile(profile_name, config_path)
        return cls(
            profile.cluster_name,
            profile.scheduler,
            host=getattr(profile, "host", None),
            scheduler_options=profile.scheduler_options,
        )

    @classmethod
    def from_ssh_alias(
        cls,
        alias: str,
        *,
        scheduler: str = "slurm",
        name: str | None = None,
        scheduler_options: Any = None,
        config_path: str | Path | None = None,
    ) -> Cluster:
        from pathlib import Path  # deferred: pathlib stays out of import molq

        from molq.options import SshTransportOptions  # deferred: molq.options stays out of import molq until used
        from molq.ssh_config import resolve_ssh_host  # deferred: molq.ssh_config stays out of import molq until used
        from molq.transport.ssh import SshTransport  # deferred: molq.transport.ssh stays out of import molq until used

        # Checks the alias and that ssh exists (OSError otherwise). Port, user and keys are
        # not copied out of the answer: ssh reads them from the same config itself, and
        # an explicit -i of ssh's default identity files would only add warnings.
        resolve_ssh_host(alias, config_path=config_path)
        extra: tuple[str, ...] = ("-F", str(Path(config_path).expanduser())) if config_path else ()
        transport = SshTransport(SshTransportOptions(host=alias, ssh_opts=extra))
        return cls(name or alias, scheduler, transport=transport, scheduler_options=scheduler_options)

    def __repr__(self) -> str:
        return (
            f"Cluster(name={self._name!r}, scheduler={self._scheduler!r}, transport={type(self._transport).__name__})"
        )


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
