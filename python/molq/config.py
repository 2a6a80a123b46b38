"""Profiles read from ``<MOLQ_HOME or ~/.molq>/config.toml``.

A profile names a destination (scheduler kind, cluster name, optional SSH
host) and the defaults, retry and retention policies to submit with::

    [profiles.hpc]
    scheduler = "slurm"
    cluster_name = "hpc"
    host = "me@login.hpc.example.org"

    [profiles.hpc.defaults.resources]
    memory = "32G"          # or a byte count
    time_limit = "2h"       # or "01:00:00", or seconds

    [profiles.hpc.retry]
    max_attempts = 3

Every problem raises ``ConfigError`` naming the file, the dotted key
(``profiles.hpc.defaults.resources.memory``) and what was expected.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar, cast

from molq.errors import ConfigError
from molq.models import (
    FieldError,
    RetentionPolicy,
    RetryPolicy,
    SubmitorDefaults,
    retry_policy_from_dict,
)
from molq.options import OPTIONS_TYPE_MAP, SchedulerOptions
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
    "MolqConfig",
    "MolqProfile",
    "default_config_path",
    "load_config",
    "load_profile",
    "molq_home",
]

_T = TypeVar("_T")


def molq_home() -> Path:
    """molq's root directory: ``$MOLQ_HOME`` if set and non-empty, else ``~/.molq``."""
    root = os.environ.get("MOLQ_HOME")
    return Path(root).expanduser() if root else Path.home() / ".molq"


def default_config_path() -> Path:
    return molq_home() / "config.toml"


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


class _Problem(Exception):
    """A bad entry at dotted ``key``; ``detail`` says what is wrong."""

    def __init__(self, key: str, detail: str, expected: str | None = None) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail
        self.expected = expected


def _bad(key: str, expected: str, got: Any) -> _Problem:
    return _Problem(key, f"expected {expected}, got {got!r}", expected)


def _table(value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """``value`` as a table holding only ``allowed`` keys (``key=""``: the top level)."""
    if not isinstance(value, dict):
        raise _bad(key, "a table", value)
    for name in value:
        if name not in allowed:
            known = ", ".join(allowed)
            raise _Problem(f"{key}.{name}" if key else name,
                           f"unknown key (known keys: {known})", f"one of {known}")
    return value


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
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and 0 <= value < math.inf:
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
            raise _bad(f"{where}.condition", "one of " + ", ".join(DEPENDENCY_CONDITIONS),
                       condition)
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
            raise _Problem(f"{key}.{alias}", f"an old name for {target!r}; give only one of them",
                           f"only {target!r}")
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
_PROFILE_KEYS = ("scheduler", "cluster_name", "jobs_dir", "host", "scheduler_options",
                 "defaults", "retry", "retention")


def _defaults(raw: Any, key: str) -> SubmitorDefaults:
    table = _table(raw, key, ("resources", "scheduling", "execution"))
    parts: dict[str, Any] = {}
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
        try:
            kwargs["retry"] = retry_policy_from_dict(table["retry"])
        except FieldError as exc:
            raise _bad(f"{where}.{exc.key}", exc.expected, exc.got) from None
    if "retention" in table:
        where = f"{key}.retention"
        kwargs["retention"] = _build(RetentionPolicy, _section(table["retention"], where,
                                                               _RETENTION), where)
    return MolqProfile(**kwargs)


def _read_toml(path: Path) -> dict[str, Any] | None:
    """The parsed file, or None if it does not exist."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]

    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}", path=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", path=str(path)) from exc


def load_config(path: str | os.PathLike[str] | None = None) -> MolqConfig:
    """Read the config file (default: ``default_config_path()``).

    A missing file is an empty config. Anything malformed raises ``ConfigError``
    whose message and context (``path``, ``key``, ``expected``) say where.
    """
    file = Path(path).expanduser() if path is not None else default_config_path()
    data = _read_toml(file)
    if data is None:
        return MolqConfig()
    try:
        _table(data, "", ("profiles",))
        profiles = data.get("profiles", {})
        if not isinstance(profiles, dict):
            raise _bad("profiles", "a table of [profiles.<name>] tables", profiles)
        return MolqConfig(
            {name: _profile(name, raw, f"profiles.{name}") for name, raw in profiles.items()}
        )
    except _Problem as exc:
        raise ConfigError(
            f"{file}: {exc.key}: {exc.detail}",
            path=str(file),
            key=exc.key,
            expected=exc.expected,
        ) from None


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
