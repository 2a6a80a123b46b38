"""Merge Submitor or profile defaults under a job request, field by field."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

from molq.models import SubmitorDefaults
from molq.types import JobExecution, JobResources, JobScheduling

__all__ = ["explicit_fields", "merge_defaults"]

_T = TypeVar("_T", JobResources, JobScheduling, JobExecution)

# Set together or not at all: mixing a default's raw string with a request's
# logical references would make an invalid JobScheduling.
_LINKED = ("dependency", "dependencies")


def explicit_fields(obj: JobResources | JobScheduling | JobExecution) -> frozenset[str]:
    """The field names that count as set by the caller in ``obj``.

    These are the arguments its constructor received, even when the value
    equals the default (``None``, ``False``, ``()``). For an object that does
    not carry that record (built without calling ``__init__``), it falls back
    to the fields whose value differs from the declared default.
    """
    given: frozenset[str] | None = getattr(obj, "_explicit", None)
    if given is not None:
        return given
    return frozenset(f.name for f in fields(obj) if f.default is MISSING or getattr(obj, f.name) != f.default)


def _merge(default: _T | None, override: _T | None, cls: type[_T]) -> _T:
    if override is None:
        return default if default is not None else cls()
    if default is None:
        return override
    chosen = set(explicit_fields(override))
    if chosen.intersection(_LINKED):
        chosen.update(_LINKED)
    values: dict[str, Any] = {}
    for f in fields(cls):
        mine = getattr(default, f.name)
        if f.name not in chosen:
            values[f.name] = mine
            continue
        theirs = getattr(override, f.name)
        if f.name == "env" and mine and theirs is not None:
            theirs = {**mine, **theirs}
        values[f.name] = theirs
    return cls(**values)


def merge_defaults(
    defaults: SubmitorDefaults | None,
    *,
    resources: JobResources | None = None,
    scheduling: JobScheduling | None = None,
    execution: JobExecution | None = None,
) -> tuple[JobResources, JobScheduling, JobExecution]:
    """Lay a request's resources, scheduling and execution over ``defaults``.

    The rule, per dataclass:

    * If the request gives no object, the default object is used whole (or
      the type's defaults if there is none); if there is no default object,
      the request's object is used whole.
    * Otherwise, field by field, a field the request **set explicitly** wins,
      even when its value is ``None``, ``False`` or ``()`` -- so
      ``JobScheduling(exclusive_node=False)`` turns off an ``exclusive_node``
      default, and ``JobResources(time_limit=None)`` drops a default limit.
      "Set explicitly" means passed to the constructor (see
      ``explicit_fields``); a field left out takes the default's value.
    * ``env`` is merged key by key, the request's keys winning. An explicit
      ``env=None`` in the request drops the default environment.
    * ``dependency`` and ``dependencies`` travel together: if the request
      sets either one, both come from the request.

    ``dataclasses.replace`` passes every field to the constructor, so its
    result counts every field as explicit; build overrides directly.
    """
    defaults = defaults or SubmitorDefaults()
    return (
        _merge(defaults.resources, resources, JobResources),
        _merge(defaults.scheduling, scheduling, JobScheduling),
        _merge(defaults.execution, execution, JobExecution),
    )
