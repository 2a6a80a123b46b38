"""Profiles and plugin settings, read from molq's config file.

Which file: ``<MOLQ_HOME or ~/.molq>/config.toml``; when that does not exist,
the original molq's file, so a user switching keeps their profiles:
``<MOLCRAFTS_HOME or ~/.molcrafts>/molq/config/config.yaml`` (molq 0.8) or
``config.toml`` beside it (0.5). Both formats hold the same keys. YAML is read
by ``molq._yaml`` (no PyYAML needed).

A profile names a destination (scheduler kind, cluster name, optional SSH
host) and the defaults, retry and retention policies to submit with::

    [profiles.hpc]
    scheduler = "slurm"
    cluster_name = "hpc"
    host = "me@login.hpc.example.org"

    [profiles.hpc.defaults.resources]
    memory = "32G"          # or a byte count
    time_limit = "2h"       # or "01:00:00", or seconds

    [profiles.hpc.defaults]
    max_jobs_in_flight = 50              # more wait in molq, QUEUED
    scheduler_commands_per_second = 2    # submits, polls, cancels

    [profiles.hpc.retry]
    max_attempts = 3

The top-level ``plugins`` table holds each plugin's settings
(``[plugins.nerve]``, or ``plugins: nerve: ...`` in YAML; ``enabled = false``
turns one off). A key molq does not know is a ``ConfigWarning`` naming the
file and the dotted key, and is ignored (files written for other molq
versions keep working); every other problem raises ``ConfigError`` naming
the file, the dotted key (``profiles.hpc.defaults.resources.memory``) and
what was expected.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, cast

from molq import _original_names
from molq._home import molq_home
from molq.errors import ConfigError
from molq.models import (
    FieldError,
    RetentionPolicy,
    RetryPolicy,
    SubmitorDefaults,
    retry_policy_from_dict,
)
from molq.options import OPTIONS_TYPE_MAP, SchedulerOptions
from molq.plugin import enabled_plugin_names
from molq.types import (
    DEPENDENCY_CONDITIONS,
    DependencyRef,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    Memory,
)

__all__ = [
    "ConfigWarning",
    "MolqConfig",
    "MolqProfile",
    "default_config_path",
    "enabled_plugin_names",
    "load_config",
    "load_profile",
    "molcrafts_config_dir",
    "molq_home",
]

_T = TypeVar("_T")


def molcrafts_config_dir() -> Path:
    """Where the original molq (0.5 and later) keeps its config and store:
    ``<MOLCRAFTS_HOME or ~/.molcrafts>/molq/config``."""
    root = os.environ.get("MOLCRAFTS_HOME", "").strip()
    return (Path(root).expanduser() if root else Path.home() / ".molcrafts") / "molq" / "config"


def default_config_path() -> Path:
    """The config file molq reads: its own ``config.toml`` if it exists, else
    the original molq's ``config.yaml`` or ``config.toml`` if one exists, else
    (nothing to read) its own path."""
    own = molq_home() / "config.toml"
    if own.exists():
        return own
    legacy = molcrafts_config_dir()
    for name in ("config.yaml", "config.toml"):
        if (legacy / name).exists():
            return legacy / name
    return own


class ConfigWarning(UserWarning):
    """A config file entry molq ignores (a key it does not know)."""


@dataclass(frozen=True)
class MolqProfile:
    """One ``[profiles.<name>]`` table, converted.

    ``scheduler_options`` is the option object for ``scheduler`` (for example
    ``SlurmSchedulerOptions``), or None when the profile gives none.
    """

    name: str
    scheduler: str
    cluster_name: str
    defaults: SubmitorDefaults = field(default_factory=SubmitorDefaults)
    scheduler_options: SchedulerOptions | None = None
    retry: RetryPolicy | None = None
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    jobs_dir: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class MolqConfig:
    profiles: dict[str, MolqProfile] = field(default_factory=dict)
    #: plugin name -> its settings (the ``plugins`` table), as written
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Problem(Exception):
    """A bad entry at dotted ``key``; ``detail`` says what is wrong."""

    def __init__(self, key: str, detail: str, expected: str | None = None) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail
        self.expected = expected


def _bad(key: str, expected: str, got: Any) -> _Problem:
    return _Problem(key, f"expected {expected}, got {got!r}", expected)


#: Unknown keys met while one file is read: (dotted key, the known keys there).
_UNKNOWN: ContextVar[list[tuple[str, str]] | None] = ContextVar("molq_config_unknown", default=None)


def _table(value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """``value`` as a table of ``allowed`` keys (``key=""``: the top level); others are
    noted for a warning and left out."""
    if not isinstance(value, dict):
        raise _bad(key, "a table", value)
    if None in value.values():  # YAML's "key:" with nothing after it: as if not given
        value = {name: item for name, item in value.items() if item is not None}
    table: dict[str, Any] = value
    unknown = [name for name in table if name not in allowed]
    if not unknown:
        return table
    noted = _UNKNOWN.get()
    for name in unknown:
        if noted is not None:
            noted.append((f"{key}.{name}" if key else str(name), ", ".join(allowed)))
    return {name: item for name, item in value.items() if name in allowed}


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(key, "a non-empty string", value)
    return value


def _integer(minimum: int) -> Callable[[Any, str], int]:
    def convert(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _bad(key, f"an integer >= {minimum}", value)
        return value

    return convert


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(key, "true or false", value)
    return value


def _days(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise _bad(key, "a number of days >= 0", value)
    return value


def _memory(value: Any, key: str) -> Memory:
    expected = "a size like '32G' or '512MB', or a byte count"
    try:
        if isinstance(value, str):
            return Memory.parse(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return Memory(value)
    except ValueError:
        pass
    raise _bad(key, expected, value)


def _duration(value: Any, key: str) -> Duration:
    expected = "a duration like '2h', '01:00:00' or '1-00:00:00', or seconds"
    try:
        if isinstance(value, str):
            return Duration.parse(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf:
            return Duration(int(value))
    except ValueError:
        pass
    raise _bad(key, expected, value)


def _priority(value: Any, key: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, key)


def _env(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _bad(key, "a table of NAME = value", value)
    for name, item in value.items():
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise _bad(f"{key}.{name}", "a string or number", item)
    return value


def _dependencies(value: Any, key: str) -> tuple[DependencyRef, ...]:
    if not isinstance(value, list):
        raise _bad(key, "a list of {job_id, condition} tables", value)
    refs = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        entry = _table(item, where, ("job_id", "condition"))
        if "job_id" not in entry:
            raise _Problem(where, "missing key job_id", "a job_id")
        condition = entry.get("condition", "after_success")
        if condition not in DEPENDENCY_CONDITIONS:
            raise _bad(f"{where}.condition", "one of " + ", ".join(DEPENDENCY_CONDITIONS), condition)
        refs.append(DependencyRef(_text(entry["job_id"], f"{where}.job_id"), condition))
    return tuple(refs)


def _build(cls: Callable[..., _T], kwargs: dict[str, Any], key: str) -> _T:
    """Construct ``cls`` and report a cross-field error (both dependency forms...) at ``key``."""
    try:
        return cls(**kwargs)
    except FieldError as exc:
        raise _bad(f"{key}.{exc.key}", exc.expected, exc.got) from None
    except (ValueError, TypeError) as exc:
        raise _Problem(key, str(exc)) from None


def _section(
    raw: Any,
    key: str,
    converters: Mapping[str, Callable[[Any, str], object]],
    aliases: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Convert the entries of one table, each with its converter."""
    aliases = aliases or {}
    table = _table(raw, key, tuple(converters) + tuple(aliases))
    kwargs: dict[str, Any] = {}
    for alias, target in aliases.items():
        if alias in table and target in table:
            raise _Problem(f"{key}.{alias}", f"an old name for {target!r}; give only one of them", f"only {target!r}")
    for name, value in table.items():
        target = aliases.get(name, name)
        kwargs[target] = converters[target](value, f"{key}.{name}")
    return kwargs


_RESOURCES = {
    "cpu_count": _integer(1),
    "memory": _memory,
    "gpu_count": _integer(0),
    "gpu_type": _text,
    "time_limit": _duration,
}
_SCHEDULING: dict[str, Callable[[Any, str], Any]] = {
    "partition": _text,
    "account": _text,
    "priority": _priority,
    "dependency": _text,
    "dependencies": _dependencies,
    "node_count": _integer(1),
    "exclusive_node": _flag,
    "array_spec": _text,
    "email": _text,
    "qos": _text,
    "reservation": _text,
}
_EXECUTION = {
    "env": _env,
    "cwd": _text,
    "job_name": _text,
    "output_file": _text,
    "error_file": _text,
}
_RETENTION = {
    "keep_job_dirs_for_days": _days,
    "keep_terminal_records_for_days": _days,
    "keep_failed_job_dirs": _flag,
}
_PROFILE_KEYS = ("scheduler", "cluster_name", "jobs_dir", "host", "scheduler_options", "defaults", "retry", "retention")


def _rate(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise _bad(key, "a number of commands per second > 0", value)
    return float(value)


def _partition_caps(value: Any, key: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _bad(key, "a table of partition = cap", value)
    return {str(name): _integer(1)(cap, f"{key}.{name}") for name, cap in value.items()}


#: The limits a profile's defaults table may set beside resources, scheduling and execution.
_LIMITS: dict[str, Callable[[Any, str], Any]] = {
    "max_jobs_in_flight": _integer(1),
    "max_jobs_in_flight_per_partition": _partition_caps,
    "scheduler_commands_per_second": _rate,
    "scheduler_command_burst": _integer(1),
}


def _defaults(raw: Any, key: str) -> SubmitorDefaults:
    table = _table(raw, key, ("resources", "scheduling", "execution", *_LIMITS))
    parts: dict[str, Any] = {
        name: convert(table[name], f"{key}.{name}") for name, convert in _LIMITS.items() if name in table
    }
    if "scheduler_command_burst" in parts and "scheduler_commands_per_second" not in parts:
        raise _Problem(
            f"{key}.scheduler_command_burst",
            "needs scheduler_commands_per_second beside it",
            "scheduler_commands_per_second",
        )
    for name, cls, converters in (
        ("resources", JobResources, _RESOURCES),
        ("scheduling", JobScheduling, _SCHEDULING),
        ("execution", JobExecution, _EXECUTION),
    ):
        if name in table:
            where = f"{key}.{name}"
            # "queue" is the pre-0.5 name of "partition"; old files still use it.
            aliases = {"queue": "partition"} if name == "scheduling" else None
            parts[name] = _build(cls, _section(table[name], where, converters, aliases), where)
    return SubmitorDefaults(**parts)


def _scheduler_options(raw: Any, key: str, scheduler: str) -> SchedulerOptions:
    cls = OPTIONS_TYPE_MAP[scheduler]
    table = _table(raw, key, tuple(f.name for f in fields(cls)))
    return cast(SchedulerOptions, _build(cls, table, key))


def _profile(name: str, raw: Any, key: str) -> MolqProfile:
    table = _table(raw, key, _PROFILE_KEYS)
    for required in ("scheduler", "cluster_name"):
        if required not in table:
            raise _Problem(f"{key}.{required}", "missing (required)", "a value")
    scheduler = table["scheduler"]
    if scheduler not in OPTIONS_TYPE_MAP:
        raise _bad(f"{key}.scheduler", "one of " + ", ".join(OPTIONS_TYPE_MAP), scheduler)
    kwargs: dict[str, Any] = {
        "name": name,
        "scheduler": scheduler,
        "cluster_name": _text(table["cluster_name"], f"{key}.cluster_name"),
    }
    for optional in ("jobs_dir", "host"):
        if optional in table:
            kwargs[optional] = _text(table[optional], f"{key}.{optional}")
    if "scheduler_options" in table:
        kwargs["scheduler_options"] = _scheduler_options(
            table["scheduler_options"], f"{key}.scheduler_options", scheduler
        )
    if "defaults" in table:
        kwargs["defaults"] = _defaults(table["defaults"], f"{key}.defaults")
    if "retry" in table:
        where = f"{key}.retry"
        if not isinstance(table["retry"], dict):
            raise _bad(where, "a table", table["retry"])
        retry = _table(table["retry"], where, ("max_attempts", "retry_on_states", "retry_on_exit_codes", "backoff"))
        if isinstance(retry.get("backoff"), dict):
            retry = {
                **retry,
                "backoff": _table(
                    retry["backoff"], f"{where}.backoff", ("mode", "initial_seconds", "maximum_seconds", "factor")
                ),
            }
        try:
            kwargs["retry"] = retry_policy_from_dict(retry)
        except FieldError as exc:
            raise _bad(f"{where}.{exc.key}", exc.expected, exc.got) from None
    if "retention" in table:
        where = f"{key}.retention"
        kwargs["retention"] = _build(RetentionPolicy, _section(table["retention"], where, _RETENTION), where)
    return MolqProfile(**kwargs)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}", path=str(path)) from exc


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


def _read(path: Path) -> Any:
    """The parsed file (TOML, or YAML by its suffix), or None if it does not exist."""
    text = _read_text(path)
    if text is None:
        if _is_yaml(path) and path.with_suffix(".toml").exists():
            # The original molq refused this too: reading nothing would lose every profile in silence.
            toml = path.with_suffix(".toml")
            raise ConfigError(
                f"{path} does not exist, but the TOML config {toml} does; give that file "
                f"(--config {toml}), or rewrite it as {path.name} (same keys, YAML syntax)",
                path=str(toml),
            )
        return None
    if _is_yaml(path):
        from molq._yaml import YamlError, loads  # deferred: molq._yaml loads only when used

        try:
            return loads(text)
        except YamlError as exc:
            raise ConfigError(f"{path}: not YAML molq can read: {exc}", path=str(path)) from None
    # deferred: tomllib only when a TOML config is read (the fallback too)
    try:
        import tomllib  # type: ignore[import-not-found, unused-ignore]  # Python 3.11+; deferred (see above)
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]  # deferred (see above)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", path=str(path)) from exc


def _plugins(raw: Any) -> dict[str, dict[str, Any]]:
    """The ``plugins`` table: name -> settings (``nerve: false`` is ``{"enabled": false}``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("plugins", "a table of [plugins.<name>] tables", raw)
    table = _table(raw, "plugins", tuple(raw))
    out: dict[str, dict[str, Any]] = {}
    for name, settings in table.items():
        if isinstance(settings, dict):
            out[str(name)] = dict(settings)
        elif isinstance(settings, bool):
            out[str(name)] = {"enabled": settings}
        else:
            raise _bad(f"plugins.{name}", "a table of settings, or true/false", settings)
    return out


def load_config(path: str | os.PathLike[str] | None = None) -> MolqConfig:
    """Read the config file (default: ``default_config_path()``).

    A missing file is an empty config. Unknown keys are a ``ConfigWarning``
    each; anything malformed raises ``ConfigError`` whose message and context
    (``path``, ``key``, ``expected``) say where.
    """
    file = Path(path).expanduser() if path is not None else default_config_path()
    data = _read(file)
    if data is None:
        return MolqConfig()
    unknown: list[tuple[str, str]] = []
    token = _UNKNOWN.set(unknown)
    try:
        if not isinstance(data, dict):
            raise _bad("(top level)", "a table of profiles and plugins", data)
        data = _table(data, "", ("profiles", "plugins"))
        profiles = data.get("profiles", {})
        if not isinstance(profiles, dict):
            raise _bad("profiles", "a table of [profiles.<name>] tables", profiles)
        config = MolqConfig(
            {str(name): _profile(str(name), raw, f"profiles.{name}") for name, raw in profiles.items()},
            _plugins(data.get("plugins")),
        )
    except _Problem as exc:
        raise ConfigError(
            f"{file}: {exc.key}: {exc.detail}",
            path=str(file),
            key=exc.key,
            expected=exc.expected,
        ) from None
    finally:
        _UNKNOWN.reset(token)
    for key, known in unknown:
        warnings.warn(f"{file}: {key}: unknown key, ignored (known keys here: {known})", ConfigWarning, stacklevel=2)
    return config


def load_profile(name: str, path: str | os.PathLike[str] | None = None) -> MolqProfile:
    """One profile from the config file; ``ConfigError`` if it is not defined."""
    config = load_config(path)
    if name not in config.profiles:
        file = Path(path).expanduser() if path is not None else default_config_path()
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(
            f"{file}: no profile {name!r} (defined profiles: {known})",
            path=str(file),
            key=f"profiles.{name}",
            profile=name,
        )
    return config.profiles[name]


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
