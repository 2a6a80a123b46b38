"""Value types that describe a job request: sizes, durations, scripts, resources.

Every type here is a frozen dataclass. ``Memory`` and ``Duration`` are exact
integers (bytes, seconds) with parsers for the strings people and schedulers
write, and formatters for each scheduler's syntax; ``parse(x.to_slurm())``
and ``parse(x.to_pbs())`` give ``x`` back.

``JobResources``, ``JobScheduling`` and ``JobExecution`` remember which fields
the caller passed to the constructor, so that ``molq.merge.merge_defaults``
can tell "explicitly None/False" from "left at the default".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from molq.status import TERMINAL_STATES, JobState

__all__ = [
    "DEPENDENCY_CONDITIONS",
    "DependencyCondition",
    "DependencyRef",
    "Duration",
    "JobExecution",
    "JobResources",
    "JobScheduling",
    "Memory",
    "Script",
    "dependency_relation_state",
]

_C = TypeVar("_C", bound=type)

_KIB = 1024
_MEMORY_UNITS = {"b": 1, "kb": _KIB, "mb": _KIB**2, "gb": _KIB**3, "tb": _KIB**4}
# Largest first, for the formatters.
_MEMORY_SUFFIXES = ((_KIB**4, "T"), (_KIB**3, "G"), (_KIB**2, "M"), (_KIB, "K"))

# Pattern strings, not compiled objects: the re module compiles and caches
# each on first use, which keeps `import molq` from paying for them.
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_MEMORY_RE = rf"\s*({_NUMBER})\s*([A-Za-z]*)\s*"
_DAY_CLOCK_RE = r"\s*([0-9]+)-([0-9:]*)\s*"
_CLOCK_RE = r"\s*([0-9]+(?::[0-9]+){1,2})\s*"
_UNIT_TOKEN_RE = rf"(?i)({_NUMBER})\s*([smhdw])"
_UNITS_RE = rf"(?i)\s*(?:({_NUMBER})\s*([smhdw])\s*)+"
_PLAIN_RE = rf"\s*({_NUMBER})\s*"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ENV_NAME_RE = r"[A-Za-z_][A-Za-z0-9_]*"


def _decimal(number: str) -> tuple[int, int]:
    """A decimal string as (digits, k), meaning ``digits / 10**k``, exactly."""
    whole, _, frac = number.partition(".")
    return int((whole or "0") + frac), len(frac)


def _scaled(number: str, multiplier: int) -> int:
    """``number * multiplier`` for a decimal string, exact, truncated toward zero.

    Exact integer arithmetic keeps huge values and values like ``0.7`` from
    picking up float rounding errors.
    """
    digits, k = _decimal(number)
    scale: int = 10**k
    return digits * multiplier // scale


def _finite_size(what: str, n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        raise TypeError(f"{what} must be a number, got {n!r}")
    if n != n or n in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be finite, got {n!r}")
    if n < 0:
        raise ValueError(f"{what} must be >= 0, got {n!r}")


def _check_count(name: str, value: Any, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_text(name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")


def _track_explicit(cls: _C) -> _C:
    """Make instances remember which fields the constructor was given.

    The set is kept in ``_explicit`` (not a dataclass field, so equality and
    repr ignore it); ``molq.merge`` reads it.
    """
    init = vars(cls)["__init__"]
    names = tuple(f.name for f in fields(cls) if f.init)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        given = frozenset(names[: len(args)]) | frozenset(kwargs)
        object.__setattr__(self, "_explicit", given)

    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    __init__.__doc__ = init.__doc__
    __init__.__qualname__ = init.__qualname__
    setattr(cls, "__init__", __init__)  # noqa: B010 - mypy refuses an assignment to __init__
    return cls


@dataclass(frozen=True, order=True)
class Memory:
    """An amount of memory, held as a whole number of bytes.

    Factories use binary multiples: ``Memory.gb(32)`` is 32 GiB.
    """

    bytes: int

    def __post_init__(self) -> None:
        _check_count("Memory.bytes", self.bytes, 0)

    @classmethod
    def _of(cls, n: float, multiplier: int) -> Memory:
        _finite_size("memory size", n)
        _finite_size("memory size", n * multiplier)  # a huge float can overflow to inf
        return cls(int(n * multiplier))

    @classmethod
    def kb(cls, n: float) -> Memory:
        """``n`` KiB (a float is truncated to whole bytes)."""
        return cls._of(n, _KIB)

    @classmethod
    def mb(cls, n: float) -> Memory:
        """``n`` MiB."""
        return cls._of(n, _KIB**2)

    @classmethod
    def gb(cls, n: float) -> Memory:
        """``n`` GiB."""
        return cls._of(n, _KIB**3)

    @classmethod
    def tb(cls, n: float) -> Memory:
        """``n`` TiB."""
        return cls._of(n, _KIB**4)

    @classmethod
    def parse(cls, text: str) -> Memory:
        """Read ``"32G"``, ``"512MB"``, ``"1.5gb"``, ``"4096"`` (bytes)...

        Units are b, kb, mb, gb, tb in any case, the ``b`` optional; they are
        binary multiples. Anything else raises ``ValueError``.
        """
        if not isinstance(text, str):
            raise TypeError(f"Memory.parse expects a str, got {text!r}")
        expected = "expected a non-negative number with an optional unit b, kb, mb, gb or tb (e.g. '32G', '512MB')"
        if not text.strip():
            raise ValueError(f"invalid memory size {text!r}: Empty memory string; {expected}")
        match = re.fullmatch(_MEMORY_RE, text)
        unit = match.group(2).lower() if match else ""
        if unit and not unit.endswith("b"):
            unit += "b"
        if match is not None and (unit or "b") not in _MEMORY_UNITS:
            raise ValueError(f"invalid memory size {text!r}: Unknown memory unit {match.group(2)!r}; {expected}")
        if match is None:
            raise ValueError(f"invalid memory size {text!r}: {expected}")
        try:
            return cls(_scaled(match.group(1), _MEMORY_UNITS[unit or "b"]))
        except ValueError:  # int() refuses absurdly long digit strings
            raise ValueError(f"invalid memory size {text!r}: number too long") from None

    def _largest_exact_unit(self) -> tuple[int, str] | None:
        for size, suffix in _MEMORY_SUFFIXES:
            if self.bytes % size == 0:
                return size, suffix
        return None

    def to_slurm(self) -> str:
        """Slurm ``--mem`` syntax: ``"32G"``, ``"512M"``, ``"4K"``.

        Slurm reads a bare number as MiB and has no byte unit, so a size that
        is not a whole number of KiB is rounded *up* to the next KiB.
        """
        if self.bytes == 0:
            return "0"
        unit = self._largest_exact_unit()
        if unit is None:
            return f"{-(-self.bytes // _KIB)}K"
        return f"{self.bytes // unit[0]}{unit[1]}"

    def to_pbs(self) -> str:
        """PBS ``mem=`` syntax: ``"32gb"``, ``"512mb"``, else ``"<n>b"``."""
        unit = self._largest_exact_unit() if self.bytes else None
        if unit is None:
            return f"{self.bytes}b"
        return f"{self.bytes // unit[0]}{unit[1].lower()}b"

    def to_lsf_kb(self) -> int:
        """Whole KiB for ``bsub -M``, rounded up so the limit is never below the request."""
        return -(-self.bytes // _KIB)

    def __str__(self) -> str:
        for size, suffix in _MEMORY_SUFFIXES:
            if self.bytes >= size:
                value = f"{self.bytes / size:.2f}".rstrip("0").rstrip(".")
                return f"{value}{suffix}B"
        return f"{self.bytes}B"


@dataclass(frozen=True, order=True)
class Duration:
    """A length of time, held as a whole number of seconds."""

    seconds: int

    def __post_init__(self) -> None:
        _check_count("Duration.seconds", self.seconds, 0)

    @classmethod
    def _of(cls, n: float, multiplier: int) -> Duration:
        _finite_size("duration", n)
        _finite_size("duration", n * multiplier)  # a huge float can overflow to inf
        return cls(int(n * multiplier))

    @classmethod
    def minutes(cls, n: float) -> Duration:
        return cls._of(n, 60)

    @classmethod
    def hours(cls, n: float) -> Duration:
        return cls._of(n, 3600)

    @classmethod
    def days(cls, n: float) -> Duration:
        return cls._of(n, 86400)

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read a duration, trying these forms in order:

        1. ``D-HH:MM:SS`` (Slurm's day form; all three clock parts required),
        2. ``HH:MM:SS`` or ``MM:SS`` (the leading part may be any size),
        3. unit tokens ``s m h d w``, case-insensitive, decimals allowed,
           summed: ``"2h30m"``, ``"1.5h"``, ``"1d 12h"``,
        4. a plain number of seconds.

        Minutes and seconds after a colon must be below 60. Fractions of a
        second are truncated. Anything else raises ``ValueError``.
        """
        if not isinstance(text, str):
            raise TypeError(f"Duration.parse expects a str, got {text!r}")
        if not text.strip():
            raise ValueError(f"invalid duration {text!r}: Empty duration string")
        try:
            seconds = _parse_seconds(text)
        except ValueError as exc:
            raise ValueError(f"invalid duration {text!r}: {exc}") from None
        return cls(seconds)

    def _clock(self, hours: int) -> str:
        return f"{hours:02d}:{self.seconds % 3600 // 60:02d}:{self.seconds % 60:02d}"

    def to_slurm(self) -> str:
        """``HH:MM:SS``, or ``D-HH:MM:SS`` from 24 hours on."""
        days, rest = divmod(self.seconds, 86400)
        if days:
            return f"{days}-{self._clock(rest // 3600)}"
        return self._clock(rest // 3600)

    def to_pbs(self) -> str:
        """``HH:MM:SS`` with the hours not wrapped into days (``30:00:00``)."""
        return self._clock(self.seconds // 3600)

    def to_lsf_minutes(self) -> int:
        """Whole minutes for ``bsub -W``, rounded up."""
        return -(-self.seconds // 60)

    def __str__(self) -> str:
        parts = []
        rest = self.seconds
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
            count, rest = divmod(rest, size)
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts) or "0s"


def _clock_seconds(parts: list[str]) -> int:
    """Seconds for [H:]M:S clock parts; every part after the first is < 60."""
    values = [int(p) for p in parts]
    if any(v >= 60 for v in values[1:]):
        raise ValueError("minutes and seconds must be below 60")
    total = 0
    for value in values:
        total = total * 60 + value
    return total


def _parse_seconds(text: str) -> int:
    day_form = re.fullmatch(_DAY_CLOCK_RE, text)
    if day_form:
        parts = day_form.group(2).split(":")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError("the day form needs D-HH:MM:SS")
        if int(parts[0]) >= 24:
            raise ValueError("hours must be below 24 in the day form")
        return int(day_form.group(1)) * 86400 + _clock_seconds(parts)
    clock = re.fullmatch(_CLOCK_RE, text)
    if clock:
        return _clock_seconds(clock.group(1).split(":"))
    if re.fullmatch(_UNITS_RE, text):
        # Sum exactly over a common denominator 10**k, so "0.1h0.2h" is not off by one.
        terms = [(_decimal(n), _DURATION_UNITS[u.lower()]) for n, u in re.findall(_UNIT_TOKEN_RE, text)]
        k = max(places for (_, places), _ in terms)
        total: int = sum(digits * size * 10 ** (k - places) for (digits, places), size in terms)
        scale: int = 10**k
        return total // scale
    plain = re.fullmatch(_PLAIN_RE, text)
    if plain:
        return _scaled(plain.group(1), 1)
    raise ValueError(
        "expected D-HH:MM:SS, HH:MM:SS, MM:SS, unit tokens like '2h30m' or '1.5h' "
        "(units s, m, h, d, w), or a number of seconds"
    )


@dataclass(frozen=True)
class Script:
    """A job script: inline text, or a file on the submitting machine.

    Build it with ``Script.inline(text)`` or ``Script.path(p)``. A path is made
    absolute (``~`` expanded) at construction; the file is checked at submit.
    """

    _variant: Literal["inline", "path"]
    _text: str | None = None
    _path: Path | None = None

    def __post_init__(self) -> None:
        if self._variant == "inline":
            _check_text("Script text", self._text)
            if self._text is None or self._path is not None:
                raise ValueError("an inline Script holds text and no path")
        elif self._variant == "path":
            if not isinstance(self._path, Path) or self._text is not None:
                raise ValueError("a path Script holds a Path and no text")
        else:
            raise ValueError(f"Script variant must be 'inline' or 'path', got {self._variant!r}")

    @classmethod
    def inline(cls, text: str) -> Script:
        return cls("inline", _text=text)

    @classmethod
    def path(cls, path: str | os.PathLike[str]) -> Script:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValueError(f"Script.path needs a non-empty path, got {path!r}")
        return cls("path", _path=Path(path).expanduser().resolve())

    @property
    def variant(self) -> Literal["inline", "path"]:
        return self._variant

    @property
    def text(self) -> str | None:
        return self._text

    @property
    def file_path(self) -> Path | None:
        return self._path


DependencyCondition = Literal["after_started", "after", "after_success", "after_failure"]
DEPENDENCY_CONDITIONS: tuple[DependencyCondition, ...] = (
    "after_started",
    "after",
    "after_success",
    "after_failure",
)


@dataclass(frozen=True)
class DependencyRef:
    """ "Run after molq job ``job_id`` reaches ``condition``" (a molq id, not a scheduler id)."""

    job_id: str
    condition: DependencyCondition = "after_success"

    def __post_init__(self) -> None:
        _check_text("DependencyRef.job_id", self.job_id)
        if self.condition not in DEPENDENCY_CONDITIONS:
            raise ValueError(
                f"Unknown dependency condition {self.condition!r}; expected one of {', '.join(DEPENDENCY_CONDITIONS)}"
            )


def _as_memory(value: Any) -> Memory | None:
    if value is None or isinstance(value, Memory):
        return value
    if isinstance(value, str):
        return Memory.parse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Memory(value)
    raise TypeError(f"memory must be a Memory, a size string or a byte count, got {value!r}")


def _as_duration(value: Any) -> Duration | None:
    if value is None or isinstance(value, Duration):
        return value
    if isinstance(value, str):
        return Duration.parse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Duration(value)
    raise TypeError(f"time_limit must be a Duration, a duration string or seconds, got {value!r}")


@_track_explicit
@dataclass(frozen=True)
class JobResources:
    """What a job needs. ``memory`` and ``time_limit`` also accept ``"32G"`` / ``"2h"``
    strings and plain ints (bytes / seconds), converted on construction.

    ``cpu_count`` alone asks for one process with that many CPUs (threads, a
    pool). ``task_count`` asks for that many tasks (MPI ranks), each with
    ``cpu_count`` CPUs when both are given.
    """

    cpu_count: int | None = None
    memory: Memory | None = None
    gpu_count: int | None = None
    gpu_type: str | None = None
    time_limit: Duration | None = None
    task_count: int | None = None

    if TYPE_CHECKING:  # what the generated __init__ accepts, converted in __post_init__

        def __init__(
            self,
            cpu_count: int | None = None,
            memory: Memory | str | int | None = None,
            gpu_count: int | None = None,
            gpu_type: str | None = None,
            time_limit: Duration | str | int | None = None,
            task_count: int | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        _check_count("cpu_count", self.cpu_count, 1)
        _check_count("task_count", self.task_count, 1)
        _check_count("gpu_count", self.gpu_count, 0)
        _check_text("gpu_type", self.gpu_type)
        object.__setattr__(self, "memory", _as_memory(self.memory))
        object.__setattr__(self, "time_limit", _as_duration(self.time_limit))


@_track_explicit
@dataclass(frozen=True)
class JobScheduling:
    """Where and how the scheduler should place a job.

    ``dependency`` is a raw scheduler string passed through as is;
    ``dependencies`` are logical references to molq jobs. Give one or the other.
    """

    partition: str | None = None
    account: str | None = None
    priority: str | None = None
    dependency: str | None = None
    dependencies: tuple[DependencyRef, ...] = ()
    node_count: int | None = None
    exclusive_node: bool = False
    array_spec: str | None = None
    email: str | None = None
    qos: str | None = None
    reservation: str | None = None

    def __post_init__(self) -> None:
        for name in ("partition", "account", "priority", "dependency", "array_spec", "email", "qos", "reservation"):
            _check_text(name, getattr(self, name))
        _check_count("node_count", self.node_count, 1)
        if not isinstance(self.exclusive_node, bool):
            raise TypeError(f"exclusive_node must be a bool, got {self.exclusive_node!r}")
        if isinstance(self.dependencies, (str, DependencyRef)):
            raise TypeError("dependencies must be a sequence of DependencyRef")
        refs = tuple(self.dependencies)
        for ref in refs:
            if not isinstance(ref, DependencyRef):
                raise TypeError(f"dependencies must hold DependencyRef items, got {ref!r}")
        object.__setattr__(self, "dependencies", refs)
        if self.dependency is not None and refs:
            raise ValueError(
                "'dependency' (a raw scheduler string) and 'dependencies' (molq job "
                "references) are mutually exclusive: give one of them, not both"
            )


@_track_explicit
@dataclass(frozen=True)
class JobExecution:
    """How the job runs: environment, working directory, name and log files.

    ``env`` values may be given as ints or floats; they are stored as strings.
    """

    env: dict[str, str] | None = None
    cwd: str | Path | None = None
    job_name: str | None = None
    output_file: str | None = None
    error_file: str | None = None

    def __post_init__(self) -> None:
        if self.env is not None:
            object.__setattr__(self, "env", _checked_env(self.env))
        if self.cwd is not None and (not isinstance(self.cwd, (str, os.PathLike)) or not os.fspath(self.cwd)):
            raise ValueError(f"cwd must be a non-empty path, got {self.cwd!r}")
        for name in ("job_name", "output_file", "error_file"):
            _check_text(name, getattr(self, name))


def _checked_env(env: Any) -> dict[str, str]:
    if not isinstance(env, Mapping):
        raise TypeError(f"env must be a mapping of names to strings, got {env!r}")
    checked: dict[str, str] = {}
    for key, value in env.items():
        if not isinstance(key, str) or not re.fullmatch(_ENV_NAME_RE, key):
            raise ValueError(f"env: {key!r} is not a valid environment variable name")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise TypeError(f"env[{key!r}] must be a string, got {value!r}")
        checked[key] = str(value)
    return checked


def dependency_relation_state(
    dependency_type: str,
    related_state: JobState | str,
    related_started_at: float | None,
) -> Literal["satisfied", "pending", "impossible"]:
    """Whether an upstream job in ``related_state`` satisfies ``dependency_type``."""
    state = JobState(related_state)
    terminal = state in TERMINAL_STATES
    if dependency_type == "after_success":
        if state is JobState.SUCCEEDED:
            return "satisfied"
        return "impossible" if terminal else "pending"
    if dependency_type == "after_failure":
        if state is JobState.SUCCEEDED:
            return "impossible"
        return "satisfied" if terminal else "pending"
    if dependency_type == "after_started":
        started = related_started_at is not None or state is JobState.RUNNING or terminal
        return "satisfied" if started else "pending"
    if dependency_type == "after":
        return "satisfied" if terminal else "pending"
    raise ValueError(
        f"Unknown dependency condition {dependency_type!r}; expected one of {', '.join(DEPENDENCY_CONDITIONS)}"
    )
