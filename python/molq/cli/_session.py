"""What one ``molq`` invocation works with: the store, the destination, and
job ids typed by a person.

The store does not record where a cluster lives (only its name and scheduler
kind), so a command that reaches a job by id alone must find its destination
again: a profile whose ``cluster_name`` matches, else the destination the
CLI remembered when it submitted there (``destinations.json`` beside the
store), else -- for local-scheduler jobs whose directory exists here -- this
machine. A cluster found none of these ways is shown as stored, never
polled: polling the wrong machine would turn live jobs into LOST ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from molq.cli._errors import CliError, UsageError
from molq.cli._grammar import SCHEDULERS
from molq.cluster import Cluster
from molq.errors import JobNotFoundError, MolqError
from molq.submitor import Submitor

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.config import MolqConfig, MolqProfile
    from molq.store import JobStore

#: How many candidates an ambiguous prefix error lists.
_MAX_CANDIDATES = 10


@dataclass(frozen=True)
class Destination:
    name: str
    scheduler: str
    host: str | None = None
    profile: str | None = None
    #: An ssh client config to read ``host`` from (None: ssh's default).
    ssh_config: str | None = None

    @property
    def where(self) -> str:
        return self.host or "this machine"


class Session:
    def __init__(self, args: Any) -> None:
        self.args = args
        self._store: JobStore | None = None
        self._config: MolqConfig | None = None
        self._submitors: dict[str, Submitor] = {}

    # -- store and config ------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        if getattr(self.args, "db", None):
            return Path(self.args.db).expanduser()
        from molq.store import default_jobs_db_path  # deferred: molq.store loads only when used

        return default_jobs_db_path()

    @property
    def store(self) -> JobStore:
        if self._store is None:
            from molq.store import JobStore  # deferred: molq.store loads only when used

            self._store = JobStore(self.db_path)
        return self._store

    @property
    def config(self) -> MolqConfig:
        if self._config is None:
            from molq.config import load_config  # deferred: molq.config loads only when used

            self._config = load_config(getattr(self.args, "config", None))
        return self._config

    def close(self) -> None:
        for sub in self._submitors.values():
            sub.close()
        if self._store is not None:
            self._store.close()

    # -- destination -----------------------------------------------------------------
    @property
    def explicit(self) -> bool:
        """True when the command line names a destination."""
        return any(getattr(self.args, k, None) for k in ("cluster", "profile", "host", "scheduler"))

    def profile(self, name: str) -> MolqProfile:
        from molq.config import load_profile  # deferred: molq.config loads only when used

        profile = load_profile(name, getattr(self.args, "config", None))
        return profile

    def _profile_for_cluster(self, cluster_name: str) -> MolqProfile | None:
        for profile in self.config.profiles.values():
            if profile.cluster_name == cluster_name:
                return profile
        return None

    def destination(self) -> Destination:
        """The destination the flags name (or the default: local cluster 'local')."""
        a = self.args
        cluster, host, scheduler = (getattr(a, k, None) for k in ("cluster", "host", "scheduler"))
        ssh_config = getattr(a, "ssh_config", None)
        if ssh_config:
            ssh_config = os.path.abspath(os.path.expanduser(ssh_config))
        profile_name = getattr(a, "profile", None)
        if profile_name:
            profile = self.profile(profile_name)
            if scheduler and scheduler != profile.scheduler:
                raise UsageError(
                    f"--scheduler {scheduler} contradicts profile {profile_name!r} (scheduler {profile.scheduler!r})"
                )
            return Destination(
                cluster or profile.cluster_name, profile.scheduler, host or profile.host, profile.name, ssh_config
            )
        if cluster and not host and not scheduler:
            found = self._known(cluster)
            if found is not None:
                return found
        if cluster and not host and self.ssh_alias(cluster):
            # As in the original molq: a --cluster naming a Host of ~/.ssh/config is
            # that machine, reached over SSH (any other name is only a namespace).
            host = cluster
        scheduler = scheduler or "local"
        name = cluster or host or ("local" if scheduler == "local" else scheduler)
        return Destination(name, scheduler, host, ssh_config=ssh_config if host else None)

    @property
    def explicit_host(self) -> bool:
        return bool(getattr(self.args, "host", None) or getattr(self.args, "profile", None))

    def destination_known(self, cluster_name: str) -> Destination | None:
        """The destination a profile or an earlier submit gives ``cluster_name``."""
        return self._known(cluster_name)

    def ssh_alias(self, name: str) -> bool:
        """Whether ``name`` is a concrete ``Host`` alias of the ssh client config."""
        from molq.ssh_config import ssh_alias_names  # deferred: molq.ssh_config loads only when used

        return name in ssh_alias_names(getattr(self.args, "ssh_config", None))

    def _known(self, cluster_name: str) -> Destination | None:
        """A destination for ``cluster_name`` from a profile or an earlier submit."""
        profile = self._profile_for_cluster(cluster_name)
        if profile is not None:
            return Destination(cluster_name, profile.scheduler, profile.host, profile.name)
        entry = _read_registry(self._registry_path()).get(cluster_name)
        if entry is not None:
            return Destination(
                cluster_name, entry.get("scheduler", "local"), entry.get("host"), ssh_config=entry.get("ssh_config")
            )
        kind = cluster_name[4:] if cluster_name.startswith("cli_") else None
        if kind in SCHEDULERS and not self.ssh_alias(cluster_name):
            # The original molq's default namespace for that scheduler, on this machine.
            return Destination(cluster_name, kind)
        return None

    @property
    def scoped(self) -> bool:
        """True when job ids are looked up in the named cluster only: the
        destination was typed, not implied by a SCHEDULER positional alone
        (ids are unique, so `molq status ID slurm` finds ID wherever it is)."""
        return self.explicit and not getattr(self.args, "cluster_implied", False)

    def destination_of(self, record: JobRecord) -> Destination | None:
        """Where ``record``'s cluster lives, or None if that cannot be known."""
        if self.explicit:
            dest = self.destination()
            if dest.name == record.cluster_name or self.scoped:
                return dest if dest.name == record.cluster_name else None
        found = self._known(record.cluster_name)
        if found is not None:
            return found
        if record.scheduler == "local" and record.job_dir and os.path.isdir(record.job_dir):
            return Destination(record.cluster_name, "local")
        if self.ssh_alias(record.cluster_name):
            # The original molq's rule: a cluster named like a Host alias lives there.
            return Destination(record.cluster_name, record.scheduler, record.cluster_name)
        return None

    def submitor(self, dest: Destination | None = None) -> Submitor:
        dest = dest or self.destination()
        sub = self._submitors.get(dest.name)
        if sub is not None:
            return sub

        profile = self.profile(dest.profile) if dest.profile else None
        options = profile.scheduler_options if profile else None
        try:
            if dest.host and dest.ssh_config:
                cluster = Cluster.from_ssh_alias(
                    dest.host,
                    scheduler=dest.scheduler,
                    name=dest.name,
                    scheduler_options=options,
                    config_path=dest.ssh_config,
                )
            else:
                cluster = Cluster(dest.name, dest.scheduler, host=dest.host, scheduler_options=options)
        except ImportError as exc:
            raise CliError(f"cannot reach {dest.host!r}: this molq has no SSH transport ({exc})") from None
        except (OSError, ValueError) as exc:  # ssh -G could not resolve the alias
            raise CliError(f"cannot reach {dest.host!r}: {exc}") from None
        if profile is not None:
            sub = Submitor.from_profile(
                profile.name,
                target=cluster,
                config_path=getattr(self.args, "config", None),
                store=self.store,
                **self.plugins(),
            )
        else:
            sub = Submitor(cluster, store=self.store, **self.plugins())
        self._submitors[dest.name] = sub
        return sub

    def plugins(self) -> dict[str, Any]:
        """The config's enabled plugins and their settings, as Submitor takes them;
        ``molq daemon`` attaches nerve when the config has no plugins table (molq.cli.plugins)."""
        from molq.plugin import enabled_plugin_names  # deferred: molq.plugin loads only when used

        settings = self.config.plugins
        default = ["nerve"] if getattr(self.args, "command_name", None) == "daemon" else None
        return {"plugins": enabled_plugin_names(settings, default_official=default), "plugin_configs": settings}

    def remember(self, dest: Destination) -> None:
        """Note where ``dest`` lives, so later commands given only a job id can poll it."""
        if dest.profile:
            return  # the profile already says
        path = self._registry_path()
        entries = _read_registry(path)
        entry = {"scheduler": dest.scheduler, "host": dest.host}
        if dest.ssh_config:
            entry["ssh_config"] = dest.ssh_config
        if entries.get(dest.name) == entry:
            return
        entries[dest.name] = entry
        _write_registry(path, entries)

    def _registry_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".destinations.json")

    # -- refresh ---------------------------------------------------------------------
    def refresh_for(self, record: JobRecord) -> str | None:
        """Poll ``record``'s cluster once; a message when that was not possible."""
        dest = self.destination_of(record)
        if dest is None:
            return (
                f"cluster {record.cluster_name!r} not polled: its destination is unknown "
                f"(give --profile, or --host and --scheduler)"
            )
        return self.refresh(dest, record.scheduler)

    def refresh(self, dest: Destination, scheduler: str | None = None) -> str | None:
        if scheduler is not None and scheduler != dest.scheduler:
            return f"cluster {dest.name!r} not polled: its jobs use scheduler {scheduler!r}, not {dest.scheduler!r}"

        sub = self.submitor(dest)
        _quiet_molq_logs()
        try:
            sub.refresh_jobs()
        except MolqError as exc:
            return f"cluster {dest.name!r}: refresh failed, states may be stale: {exc}"
        error = sub.reconciler.last_error
        if error is not None:
            return f"cluster {dest.name!r}: scheduler did not answer, states may be stale: {error}"
        return None

    # -- job ids -----------------------------------------------------------------------
    def find(self, text: str) -> JobRecord:
        """The record a full id or a unique prefix names (scoped to the named cluster)."""
        text = text.strip()
        if not text:
            raise UsageError("empty job id")
        scope = self.destination().name if self.scoped else None
        store = self.store
        record = store.get_record(text)  # a whole id: one indexed lookup
        if record is not None and scope in (None, record.cluster_name):
            return record
        matches = _ids_with_prefix(store, text, scope)
        if not matches:
            raise JobNotFoundError(text, scope)
        if len(matches) > 1:
            shown = "\n  ".join(matches[:_MAX_CANDIDATES])
            more = f"\n  ... and {len(matches) - _MAX_CANDIDATES} more" if len(matches) > _MAX_CANDIDATES else ""
            raise UsageError(f"job id prefix {text!r} is ambiguous; it matches:\n  {shown}{more}")
        record = store.get_record(matches[0])
        assert record is not None
        return record


def _quiet_molq_logs() -> None:
    """The reconciler logs a failed poll; the CLI reports it itself (and a log
    line on stderr would tear through the live view), so silence molq's logger."""
    import logging  # deferred: logging is slow to import; only when it logs

    logger = logging.getLogger("molq")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _ids_with_prefix(store: JobStore, prefix: str, cluster: str | None) -> list[str]:
    """Ids starting with ``prefix`` (a range scan of the store's key; the
    first few hundred are plenty to show an ambiguity)."""
    return store.find_ids_by_prefix(prefix, cluster, limit=500)


def _read_registry(path: Path) -> dict[str, dict[str, Any]]:
    import json  # deferred: json only when JSON is read or written

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_registry(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    import json  # deferred: json only when JSON is read or written

    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        # private like the store beside it, whatever the umask
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(fd, 0o600)
            out.write(json.dumps(entries, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)  # readers never see a half-written file
    except OSError:
        tmp.unlink(missing_ok=True)  # best effort: only later inference suffers
