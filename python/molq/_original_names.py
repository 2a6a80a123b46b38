"""Names the original molq's modules carried beside their own.

The original molq imported many of its classes into the modules that use
them (``from molq.submitor import JobRecord``, ``molq.scheduler.slurm.JobSpec``),
so code written for it may import them from there. molq keeps each name in one
home; this table lets every module the original had answer for the names it
carried, on first use, at no import cost. A module hands unknown attribute
names to :func:`resolve` from its ``__getattr__``.
"""

from __future__ import annotations

import importlib

# module -> home module -> names the module carried in the original molq 0.8.1
CARRIED: dict[str, dict[str, tuple[str, ...]]] = {
    "molq.artifacts": {
        "molq.models": ("JobRecord",),
        "molq.transport": ("Transport",),
    },
    "molq.cluster": {
        "molq": ("QueueEntry",),
        "molq.options": ("SshTransportOptions",),
        "molq.transport": (
            "LocalTransport",
            "SshTransport",
            "Transport",
        ),
    },
    "molq.config": {
        "molq.options": (
            "LSFSchedulerOptions",
            "LocalSchedulerOptions",
            "PBSSchedulerOptions",
            "SlurmSchedulerOptions",
        ),
        "molq.serde": (
            "deserialize_execution",
            "deserialize_resources",
            "deserialize_retention_policy",
            "deserialize_retry_policy",
            "deserialize_scheduling",
        ),
    },
    "molq.dependencies": {
        "molq.models": (
            "JobDependency",
            "SchedulerCapabilities",
        ),
        "molq.scheduler.base": ("DependencyEdge",),
        "molq.store": ("JobStore",),
    },
    "molq.jobpaths": {
        "molq.models": ("JobSpec",),
        "molq.transport": ("Transport",),
        "molq.types": ("Script",),
    },
    "molq.monitor": {
        "molq.errors": ("MolqTimeoutError",),
        "molq.models": ("JobRecord",),
        "molq.reconciler": ("JobReconciler",),
        "molq.status": ("JobState",),
        "molq.store": ("JobStore",),
        "molq.strategies": (
            "ExponentialBackoffStrategy",
            "PollingStrategy",
        ),
    },
    "molq.plugin": {
        "molq.callbacks": ("EventBus",),
        "molq.models": ("JobRecord",),
    },
    "molq.plugins.nerve": {
        "molq.callbacks": (
            "EventPayload",
            "EventType",
        ),
        "molq.models": ("JobRecord",),
        "molq.plugin": (
            "MolqPlugin",
            "PluginContext",
        ),
    },
    "molq.plugins.nerve.mapping": {
        "molq.models": ("JobRecord",),
    },
    "molq.reconciler": {
        "molq.callbacks": (
            "EventBus",
            "EventPayload",
            "EventType",
        ),
        "molq.models": (
            "JobRecord",
            "StatusTransition",
        ),
        "molq.scheduler.base": ("TerminalStatus",),
        "molq.status": ("JobState",),
        "molq.store": ("JobStore",),
    },
    "molq.retention": {
        "molq.models": ("RetentionPolicy",),
        "molq.store": ("JobStore",),
    },
    "molq.retry": {
        "molq.models": (
            "JobRecord",
            "RetryPolicy",
        ),
    },
    "molq.scheduler": {
        "molq.options": (
            "LSFSchedulerOptions",
            "LocalSchedulerOptions",
            "PBSSchedulerOptions",
            "SlurmSchedulerOptions",
        ),
        "molq.transport": ("Transport",),
    },
    "molq.scheduler.base": {
        "molq": ("QueueEntry",),
        "molq.errors": ("ConfigError",),
        "molq.models": (
            "JobSpec",
            "SchedulerCapabilities",
        ),
    },
    "molq.scheduler.lsf": {
        "molq": ("QueueEntry",),
        "molq.errors": ("SchedulerError",),
        "molq.models": (
            "JobSpec",
            "SchedulerCapabilities",
        ),
        "molq.options": ("LSFSchedulerOptions",),
        "molq.scheduler.base": (
            "DependencyEdge",
            "TerminalStatus",
        ),
        "molq.status": ("JobState",),
        "molq.transport": (
            "LocalTransport",
            "TransportError",
        ),
    },
    "molq.scheduler.pbs": {
        "molq": ("QueueEntry",),
        "molq.errors": ("SchedulerError",),
        "molq.models": (
            "JobSpec",
            "SchedulerCapabilities",
        ),
        "molq.options": ("PBSSchedulerOptions",),
        "molq.scheduler.base": (
            "DependencyEdge",
            "TerminalStatus",
        ),
        "molq.status": ("JobState",),
        "molq.transport": (
            "LocalTransport",
            "TransportError",
        ),
    },
    "molq.scheduler.script": {
        "molq.models": ("JobSpec",),
        "molq.status": ("JobState",),
    },
    "molq.scheduler.shell": {
        "molq": ("QueueEntry",),
        "molq.models": (
            "JobSpec",
            "SchedulerCapabilities",
        ),
        "molq.options": ("LocalSchedulerOptions",),
        "molq.scheduler.base": (
            "DependencyEdge",
            "TerminalStatus",
        ),
        "molq.status": ("JobState",),
        "molq.transport": ("LocalTransport",),
    },
    "molq.scheduler.slurm": {
        "molq": ("QueueEntry",),
        "molq.models": (
            "JobSpec",
            "SchedulerCapabilities",
        ),
        "molq.options": ("SlurmSchedulerOptions",),
        "molq.scheduler.base": (
            "DependencyEdge",
            "TerminalStatus",
        ),
        "molq.status": ("JobState",),
        "molq.transport": ("LocalTransport",),
    },
    "molq.store.jobstore": {
        "molq.models": (
            "DependencyPreview",
            "DependencyPreviewItem",
            "JobDependency",
            "JobRecord",
            "JobSpec",
            "RememberedAllocation",
            "StatusTransition",
        ),
        "molq.status": ("JobState",),
        "molq.store": (
            "JobStore",
            "default_jobs_db_path",
        ),
        "molq.store.records": (
            "coerce_job_state",
            "dependency_relation_state",
            "row_to_record",
        ),
        "molq.types": ("JobScheduling",),
    },
    "molq.store.records": {
        "molq.models": ("JobRecord",),
    },
    "molq.store.schema": {
        "molq.errors": ("StoreError",),
    },
    "molq.submitor": {
        "molq.callbacks": (
            "EventBus",
            "EventType",
            "emit_transition",
        ),
        "molq.config": ("load_profile",),
        "molq.dependencies": (
            "merge_dependency_refs",
            "resolve_dependencies",
        ),
        "molq.errors": (
            "JobNotFoundError",
            "ScriptError",
        ),
        "molq.merge": ("merge_defaults",),
        "molq.models": (
            "Command",
            "JobDependency",
            "JobRecord",
            "JobSpec",
            "RememberedAllocation",
            "RetentionPolicy",
            "RetryPolicy",
            "SchedulerCapabilities",
            "StatusTransition",
            "SubmitorDefaults",
        ),
        "molq.monitor": ("JobMonitor",),
        "molq.plugin": (
            "PluginManager",
            "store_context_factory",
        ),
        "molq.reconciler": ("JobReconciler",),
        "molq.retention": ("apply_retention",),
        "molq.retry": (
            "retry_delay_seconds",
            "should_retry",
        ),
        "molq.serde": (
            "build_submit_request",
            "deserialize_execution",
            "deserialize_resources",
            "deserialize_retry_policy",
            "deserialize_scheduling",
            "deserialize_script",
            "load_submit_request",
        ),
        "molq.store": (
            "JobStore",
            "default_jobs_db_path",
        ),
        "molq.transport": ("Transport",),
        "molq.types": (
            "JobExecution",
            "JobResources",
            "JobScheduling",
            "Script",
        ),
        "molq.validation": (
            "default_capabilities",
            "validate_spec",
        ),
    },
    "molq.transport": {
        "molq.errors": ("MolqError",),
        "molq.options": ("SshTransportOptions",),
    },
    "molq.validation": {
        "molq.models": (
            "JobSpec",
            "SchedulerCapabilities",
        ),
        "molq.types": ("JobExecution",),
    },
}


def resolve(module: str, name: str) -> object:
    """The object ``name`` that the original molq's ``module`` carried, from
    its home in molq; AttributeError (as for any missing name) otherwise."""
    for home, names in CARRIED.get(module, {}).items():
        if name in names:
            return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module {module!r} has no attribute {name!r}")
