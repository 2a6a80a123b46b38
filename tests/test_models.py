from __future__ import annotations

import dataclasses
import json

import pytest

from molq import models
from molq.models import (
    DependencyPreview,
    DependencyPreviewItem,
    FieldError,
    JobDependency,
    RememberedAllocation,
    RetentionPolicy,
    RetryBackoff,
    RetryPolicy,
    SchedulerCapabilities,
    SubmitorDefaults,
    retry_policy_from_dict,
    retry_policy_to_json,
)
from molq.status import JobState
from molq.types import JobResources


def test_native_classes_are_re_exported_as_the_same_objects() -> None:
    core = pytest.importorskip("molq._core")
    assert models.JobRecord is core.JobRecord
    assert models.StatusTransition is core.StatusTransition
    from molq.models import JobRecord, StatusTransition

    assert (JobRecord, StatusTransition) == (core.JobRecord, core.StatusTransition)


def test_unknown_module_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError):
        models.NoSuchThing  # noqa: B018


def test_submitor_defaults() -> None:
    defaults = SubmitorDefaults(resources=JobResources(cpu_count=2))
    assert defaults.scheduling is None and defaults.execution is None
    assert defaults.resources == JobResources(cpu_count=2)


def test_retry_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 1
    assert policy.retry_on_states == (JobState.FAILED, JobState.TIMED_OUT, JobState.OUT_OF_MEMORY)
    assert policy.retry_on_exit_codes is None
    assert policy.backoff == RetryBackoff("exponential", 5.0, 300.0, 2.0)


def test_retry_policy_normalises_states_and_codes() -> None:
    policy = RetryPolicy(max_attempts=3, retry_on_states=["failed", "lost"], retry_on_exit_codes=[1, 2])
    assert policy.retry_on_states == (JobState.FAILED, JobState.LOST)
    assert all(isinstance(s, JobState) for s in policy.retry_on_states)
    assert policy.retry_on_exit_codes == (1, 2)
    assert hash(policy) == hash(RetryPolicy(3, (JobState.FAILED, JobState.LOST), (1, 2)))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"retry_on_states": ["failed", "bogus"]}, "retry_on_states"),
        ({"retry_on_states": ["running"]}, "retry_on_states"),
        ({"retry_on_states": "failed"}, "retry_on_states"),
        ({"retry_on_exit_codes": [1, "2"]}, "retry_on_exit_codes"),
        ({"retry_on_exit_codes": 1}, "retry_on_exit_codes"),
        ({"backoff": {"mode": "fixed"}}, "backoff"),
    ],
)
def test_retry_policy_validation(kwargs: dict, key: str) -> None:
    with pytest.raises(FieldError) as info:
        RetryPolicy(**kwargs)
    assert info.value.key == key
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "linear"},
        {"initial_seconds": -1},
        {"maximum_seconds": float("nan")},
        {"factor": 0.5},
        {"factor": "2"},
    ],
)
def test_retry_backoff_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetryBackoff(**kwargs)


def test_retry_json_shape() -> None:
    policy = RetryPolicy(
        max_attempts=3,
        retry_on_states=("failed", "lost"),
        retry_on_exit_codes=(137,),
        backoff=RetryBackoff("fixed", 1.0, 10.0, 3.0),
    )
    assert json.loads(retry_policy_to_json(policy)) == {
        "max_attempts": 3,
        "retry_on_states": ["failed", "lost"],
        "retry_on_exit_codes": [137],
        "backoff": {"mode": "fixed", "initial_seconds": 1.0, "maximum_seconds": 10.0, "factor": 3.0},
    }
    assert json.loads(retry_policy_to_json(RetryPolicy()))["retry_on_exit_codes"] is None


@pytest.mark.parametrize(
    "policy",
    [
        RetryPolicy(),
        RetryPolicy(5, ("failed",), (1, 2, 3), RetryBackoff("fixed", 0.0, 0.0, 1.0)),
        RetryPolicy(2, (), None, RetryBackoff(initial_seconds=7, maximum_seconds=70, factor=1.5)),
    ],
)
def test_retry_json_round_trip(policy: RetryPolicy) -> None:
    assert retry_policy_from_dict(json.loads(retry_policy_to_json(policy))) == policy


def test_retry_from_dict_fills_defaults() -> None:
    assert retry_policy_from_dict({}) == RetryPolicy()
    partial = retry_policy_from_dict({"max_attempts": 4, "backoff": {"factor": 3}})
    assert partial == RetryPolicy(max_attempts=4, backoff=RetryBackoff(factor=3))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"max_attemps": 3}, "max_attemps"),
        ({"backoff": {"mode": "linear"}}, "backoff.mode"),
        ({"backoff": {"speed": 1}}, "backoff.speed"),
        ({"backoff": 5}, "backoff"),
        ({"retry_on_states": "failed"}, "retry_on_states"),
        ({"retry_on_exit_codes": 1}, "retry_on_exit_codes"),
        ({"max_attempts": "3"}, "max_attempts"),
    ],
)
def test_retry_from_dict_names_the_bad_key(data: dict, key: str) -> None:
    with pytest.raises(FieldError) as info:
        retry_policy_from_dict(data)
    assert info.value.key == key
    assert key in str(info.value)


def test_retention_defaults_and_validation() -> None:
    policy = RetentionPolicy()
    assert (policy.keep_job_dirs_for_days, policy.keep_terminal_records_for_days) == (30, 90)
    assert policy.keep_failed_job_dirs is True
    with pytest.raises(ValueError):
        RetentionPolicy(keep_job_dirs_for_days=-1)
    with pytest.raises(ValueError):
        RetentionPolicy(keep_failed_job_dirs="yes")  # type: ignore[arg-type]


def test_scheduler_capabilities_has_twenty_false_flags() -> None:
    flags = dataclasses.fields(SchedulerCapabilities)
    assert len(flags) == 20
    assert all(f.name.startswith("supports_") for f in flags)
    caps = SchedulerCapabilities()
    assert not any(getattr(caps, f.name) for f in flags)
    assert SchedulerCapabilities(supports_partition=True).supports_partition


def test_dependency_models() -> None:
    edge = JobDependency("child", "parent", "after_success", "afterok:12")
    item = DependencyPreviewItem("parent", "after_success", "satisfied", JobState.SUCCEEDED)
    assert item.command_display == "" and item.scheduler_dependency is None
    preview = DependencyPreview("child", 1, 1, (item,), 0, ())
    assert preview.upstream[0].job_state is JobState.SUCCEEDED
    assert edge.scheduler_dependency == "afterok:12"


def test_remembered_allocation_is_frozen() -> None:
    allocation = RememberedAllocation("gpu", "proj", None, None, "gpu/proj", 1.0, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        allocation.use_count = 4  # type: ignore[misc]
