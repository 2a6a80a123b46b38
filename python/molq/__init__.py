"""molq: submit, track and collect batch jobs on a laptop, a workstation or an HPC cluster.

    import molq as mq
    cluster = mq.Cluster("dev", "local")
    with mq.Submitor(target=cluster) as submitor:
        handle = submitor.submit_job(argv=["echo", "hello"])
        print(handle.wait())

Only the engine's entry points load with ``import molq``; value types, models,
options and helpers load on first use, so importing molq stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from molq._core import JobRecord, QueueEntry, StatusTransition
from molq._core import __version__ as __version__
from molq._dataclass_face import present_native_values as _present_native_values
from molq.cluster import Cluster
from molq.errors import (
    CommandError,
    ConfigError,
    JobNotFoundError,
    MolqError,
    MolqTimeoutError,
    ParseError,
    SchedulerError,
    ScriptError,
    StoreError,
    SubmitError,
    TransportError,
)
from molq.status import JobState, RetryState
from molq.submitor import Submitor

if TYPE_CHECKING:
    # what the lazy names below are, for type checkers (tests/typing keeps the two equal)
    from molq.callbacks import EventBus, EventPayload, EventType
    from molq.config import MolqConfig, MolqProfile, load_config, load_profile
    from molq.dashboard import DashboardState, JobRow, MolqMonitor, RunDashboard
    from molq.handle import JobHandle
    from molq.models import (
        DependencyPreview,
        DependencyPreviewItem,
        JobDependency,
        RememberedAllocation,
        RetentionPolicy,
        RetryBackoff,
        RetryPolicy,
        SchedulerCapabilities,
        SubmitorDefaults,
    )
    from molq.options import (
        LocalSchedulerOptions,
        LSFSchedulerOptions,
        PBSSchedulerOptions,
        SlurmSchedulerOptions,
    )
    from molq.plugin import (
        BUILTIN_PLUGIN_FACTORIES,
        MolqPlugin,
        PluginContext,
        PluginManager,
        available_plugins,
        create_plugin,
        enabled_plugin_names,
    )
    from molq.scheduler.base import DependencyEdge
    from molq.ssh_config import SshHost, list_ssh_hosts, resolve_ssh_host, ssh_alias_names
    from molq.types import (
        DependencyCondition,
        DependencyRef,
        Duration,
        JobExecution,
        JobResources,
        JobScheduling,
        Memory,
        Script,
        dependency_relation_state,
    )
    from molq.workspace import Project, Workspace

_present_native_values()  # dataclasses.replace/asdict/fields work on them, as in the original

#: public name -> module that defines it, loaded on first access
_LAZY = {
    **dict.fromkeys(("EventBus", "EventPayload", "EventType"), "molq.callbacks"),
    **dict.fromkeys(("MolqConfig", "MolqProfile", "load_config", "load_profile"), "molq.config"),
    "JobHandle": "molq.handle",
    **dict.fromkeys(("DashboardState", "JobRow", "MolqMonitor", "RunDashboard"), "molq.dashboard"),
    **dict.fromkeys(
        (
            "BUILTIN_PLUGIN_FACTORIES",
            "MolqPlugin",
            "PluginContext",
            "PluginManager",
            "available_plugins",
            "create_plugin",
            "enabled_plugin_names",
        ),
        "molq.plugin",
    ),
    **dict.fromkeys(
        (
            "DependencyPreview",
            "DependencyPreviewItem",
            "JobDependency",
            "RememberedAllocation",
            "RetentionPolicy",
            "RetryBackoff",
            "RetryPolicy",
            "SchedulerCapabilities",
            "SubmitorDefaults",
        ),
        "molq.models",
    ),
    **dict.fromkeys(
        ("LocalSchedulerOptions", "LSFSchedulerOptions", "PBSSchedulerOptions", "SlurmSchedulerOptions"),
        "molq.options",
    ),
    "DependencyEdge": "molq.scheduler.base",
    **dict.fromkeys(("SshHost", "list_ssh_hosts", "resolve_ssh_host", "ssh_alias_names"), "molq.ssh_config"),
    **dict.fromkeys(
        (
            "DependencyCondition",
            "DependencyRef",
            "Duration",
            "JobExecution",
            "JobResources",
            "JobScheduling",
            "Memory",
            "Script",
            "dependency_relation_state",
        ),
        "molq.types",
    ),
    **dict.fromkeys(("Project", "Workspace"), "molq.workspace"),
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'molq' has no attribute {name!r}")

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# A literal list: type checkers read it to know what the package exports
# (tests/test_exports.py checks it against the lazy table).
__all__ = [
    "BUILTIN_PLUGIN_FACTORIES",
    "Cluster",
    "CommandError",
    "ConfigError",
    "DashboardState",
    "DependencyCondition",
    "DependencyEdge",
    "DependencyPreview",
    "DependencyPreviewItem",
    "DependencyRef",
    "Duration",
    "EventBus",
    "EventPayload",
    "EventType",
    "JobDependency",
    "JobExecution",
    "JobHandle",
    "JobNotFoundError",
    "JobRecord",
    "JobResources",
    "JobRow",
    "JobScheduling",
    "JobState",
    "LSFSchedulerOptions",
    "LocalSchedulerOptions",
    "Memory",
    "MolqConfig",
    "MolqError",
    "MolqMonitor",
    "MolqPlugin",
    "MolqProfile",
    "MolqTimeoutError",
    "PBSSchedulerOptions",
    "ParseError",
    "PluginContext",
    "PluginManager",
    "Project",
    "QueueEntry",
    "RememberedAllocation",
    "RetentionPolicy",
    "RetryBackoff",
    "RetryPolicy",
    "RetryState",
    "RunDashboard",
    "SchedulerCapabilities",
    "SchedulerError",
    "Script",
    "ScriptError",
    "SlurmSchedulerOptions",
    "SshHost",
    "StatusTransition",
    "StoreError",
    "SubmitError",
    "Submitor",
    "SubmitorDefaults",
    "TransportError",
    "Workspace",
    "available_plugins",
    "create_plugin",
    "dependency_relation_state",
    "enabled_plugin_names",
    "list_ssh_hosts",
    "load_config",
    "load_profile",
    "resolve_ssh_host",
    "ssh_alias_names",
]
