"""molq: submit, track and collect batch jobs on a laptop, a workstation or an HPC cluster.

    import molq as mq
    cluster = mq.Cluster("dev", "local")
    with mq.Submitor(target=cluster) as submitor:
        handle = submitor.submit_job(argv=["echo", "hello"])
        print(handle.wait())
"""

from molq._core import JobRecord, QueueEntry, StatusTransition
from molq._core import __version__ as __version__
from molq.callbacks import EventBus, EventPayload, EventType
from molq.cluster import Cluster
from molq.config import MolqConfig, MolqProfile, load_config, load_profile
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
from molq.handle import JobHandle
from molq.models import (
    DependencyPreview,
    DependencyPreviewItem,
    JobDependency,
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
from molq.scheduler.base import DependencyEdge
from molq.ssh_config import SshHost, list_ssh_hosts, resolve_ssh_host, ssh_alias_names
from molq.status import JobState
from molq.submitor import Submitor
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

__all__ = [
    "Cluster",
    "CommandError",
    "ConfigError",
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
    "JobScheduling",
    "JobState",
    "LSFSchedulerOptions",
    "LocalSchedulerOptions",
    "Memory",
    "MolqConfig",
    "MolqError",
    "MolqProfile",
    "MolqTimeoutError",
    "PBSSchedulerOptions",
    "ParseError",
    "Project",
    "QueueEntry",
    "RetentionPolicy",
    "RetryBackoff",
    "RetryPolicy",
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
    "dependency_relation_state",
    "list_ssh_hosts",
    "load_config",
    "load_profile",
    "resolve_ssh_host",
    "ssh_alias_names",
]
