"""Which requested fields a scheduler can honour.

A request naming a field its backend cannot express is refused before
anything is written, with every such field listed, rather than submitted
with the field silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from molq import _original_names
from molq.errors import ConfigError

if TYPE_CHECKING:
    from molq.models import JobSpec, SchedulerCapabilities
    from molq.types import JobExecution

__all__ = ["default_capabilities", "requested_fields", "validate_spec"]

# (dotted field name, capability flag, is it requested?) in report order.
_CHECKS: tuple[tuple[str, str, Callable[[Any, Any], bool]], ...] = (
    ("execution.cwd", "supports_cwd", lambda spec, ex: ex.cwd is not None),
    ("execution.env", "supports_env", lambda spec, ex: ex.env is not None),
    ("execution.output_file", "supports_output_file", lambda spec, ex: ex.output_file is not None),
    ("execution.error_file", "supports_error_file", lambda spec, ex: ex.error_file is not None),
    ("execution.job_name", "supports_job_name", lambda spec, ex: ex.job_name is not None),
    ("resources.cpu_count", "supports_cpu_count", lambda spec, ex: spec.resources.cpu_count is not None),
    (
        "resources.task_count",
        "supports_cpu_count",
        lambda spec, ex: getattr(spec.resources, "task_count", None) is not None,
    ),
    ("resources.memory", "supports_memory", lambda spec, ex: spec.resources.memory is not None),
    ("resources.gpu_count", "supports_gpu_count", lambda spec, ex: spec.resources.gpu_count is not None),
    ("resources.gpu_type", "supports_gpu_type", lambda spec, ex: spec.resources.gpu_type is not None),
    ("resources.time_limit", "supports_time_limit", lambda spec, ex: spec.resources.time_limit is not None),
    ("scheduling.partition", "supports_partition", lambda spec, ex: spec.scheduling.partition is not None),
    ("scheduling.account", "supports_account", lambda spec, ex: spec.scheduling.account is not None),
    ("scheduling.priority", "supports_priority", lambda spec, ex: spec.scheduling.priority is not None),
    (
        "scheduling.dependency",
        "supports_dependency",
        lambda spec, ex: spec.scheduling.dependency is not None or bool(spec.scheduling.dependencies),
    ),
    ("scheduling.node_count", "supports_node_count", lambda spec, ex: spec.scheduling.node_count is not None),
    ("scheduling.exclusive_node", "supports_exclusive_node", lambda spec, ex: bool(spec.scheduling.exclusive_node)),
    ("scheduling.array_spec", "supports_array_jobs", lambda spec, ex: spec.scheduling.array_spec is not None),
    ("scheduling.email", "supports_email", lambda spec, ex: spec.scheduling.email is not None),
    ("scheduling.qos", "supports_qos", lambda spec, ex: spec.scheduling.qos is not None),
    ("scheduling.reservation", "supports_reservation", lambda spec, ex: spec.scheduling.reservation is not None),
)


def default_capabilities() -> SchedulerCapabilities:
    """Capabilities with every flag set: for a scheduler that declares none."""
    import dataclasses  # deferred: dataclasses (with inspect) is slow to import

    from molq.models import SchedulerCapabilities  # deferred: molq.models loads only when used

    return SchedulerCapabilities(**{f.name: True for f in dataclasses.fields(SchedulerCapabilities)})


def requested_fields(
    spec: JobSpec, capabilities: SchedulerCapabilities, requested_execution: JobExecution
) -> list[str]:
    """The dotted names of the fields ``spec`` requests that ``capabilities`` lack."""
    return [
        name
        for name, flag, requested in _CHECKS
        if requested(spec, requested_execution) and not getattr(capabilities, flag, False)
    ]


def validate_spec(
    spec: JobSpec,
    capabilities: SchedulerCapabilities,
    *,
    requested_execution: JobExecution,
    scheduler_name: str,
) -> None:
    """Raise ``ConfigError`` naming every field of the request (``spec``'s
    resources and scheduling, and the execution the caller asked for, before
    defaults were filled in) that scheduler ``scheduler_name`` cannot honour."""
    unsupported = requested_fields(spec, capabilities, requested_execution)
    if unsupported:
        raise ConfigError(
            f"Scheduler {scheduler_name!r} does not support requested fields: {', '.join(unsupported)}",
            scheduler=scheduler_name,
            unsupported_fields=tuple(unsupported),
        )


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
