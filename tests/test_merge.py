from __future__ import annotations

import pytest

from molq.merge import explicit_fields, merge_defaults
from molq.models import SubmitorDefaults
from molq.types import DependencyRef, Duration, JobExecution, JobResources, JobScheduling, Memory


def test_nothing_anywhere_gives_type_defaults() -> None:
    assert merge_defaults(None) == (JobResources(), JobScheduling(), JobExecution())
    assert merge_defaults(SubmitorDefaults()) == (
        JobResources(),
        JobScheduling(),
        JobExecution(),
    )


def test_one_side_missing_uses_the_other_whole() -> None:
    defaults = SubmitorDefaults(resources=JobResources(cpu_count=4, memory="8G"))
    resources, _, _ = merge_defaults(defaults)
    assert resources is defaults.resources
    request = JobScheduling(partition="gpu")
    _, scheduling, _ = merge_defaults(defaults, scheduling=request)
    assert scheduling is request


def test_request_fields_win_and_missing_fields_fall_back() -> None:
    defaults = SubmitorDefaults(resources=JobResources(cpu_count=4, memory=Memory.gb(8), time_limit=Duration.hours(1)))
    resources, _, _ = merge_defaults(defaults, resources=JobResources(cpu_count=16))
    assert resources == JobResources(cpu_count=16, memory=Memory.gb(8), time_limit=Duration.hours(1))


def test_explicit_none_resets_a_default() -> None:
    # The reference could not do this (spec 23.13).
    defaults = SubmitorDefaults(resources=JobResources(cpu_count=4, time_limit=Duration.hours(1)))
    resources, _, _ = merge_defaults(defaults, resources=JobResources(time_limit=None))
    assert resources == JobResources(cpu_count=4)


def test_explicit_false_turns_off_exclusive_node() -> None:
    defaults = SubmitorDefaults(scheduling=JobScheduling(partition="cpu", exclusive_node=True))
    _, scheduling, _ = merge_defaults(defaults, scheduling=JobScheduling(exclusive_node=False))
    assert scheduling == JobScheduling(partition="cpu", exclusive_node=False)


def test_positional_arguments_count_as_explicit() -> None:
    defaults = SubmitorDefaults(resources=JobResources(cpu_count=4, memory="1G"))
    resources, _, _ = merge_defaults(defaults, resources=JobResources(None, None))
    assert resources == JobResources()


def test_env_is_merged_key_by_key() -> None:
    defaults = SubmitorDefaults(execution=JobExecution(env={"A": "1", "B": "2"}, job_name="default", cwd="/work"))
    _, _, execution = merge_defaults(defaults, execution=JobExecution(env={"B": "x", "C": "3"}))
    assert execution.env == {"A": "1", "B": "x", "C": "3"}
    assert execution.job_name == "default"
    assert execution.cwd == "/work"
    assert defaults.execution is not None and defaults.execution.env == {"A": "1", "B": "2"}


def test_env_none_explicitly_drops_the_default_env() -> None:
    defaults = SubmitorDefaults(execution=JobExecution(env={"A": "1"}))
    _, _, execution = merge_defaults(defaults, execution=JobExecution(env=None, job_name="j"))
    assert execution.env is None and execution.job_name == "j"


def test_env_from_request_only() -> None:
    defaults = SubmitorDefaults(execution=JobExecution(job_name="d"))
    _, _, execution = merge_defaults(defaults, execution=JobExecution(env={"A": "1"}))
    assert execution.env == {"A": "1"} and execution.job_name == "d"


@pytest.mark.parametrize(
    ("request_scheduling", "dependency", "dependencies"),
    [
        (JobScheduling(dependencies=(DependencyRef("j1"),)), None, (DependencyRef("j1"),)),
        (JobScheduling(dependency="afterok:9"), "afterok:9", ()),
        (JobScheduling(partition="gpu"), "afterany:1", ()),
    ],
)
def test_dependency_fields_travel_together(
    request_scheduling: JobScheduling, dependency: str | None, dependencies: tuple
) -> None:
    defaults = SubmitorDefaults(scheduling=JobScheduling(dependency="afterany:1", account="p"))
    _, scheduling, _ = merge_defaults(defaults, scheduling=request_scheduling)
    assert (scheduling.dependency, scheduling.dependencies) == (dependency, dependencies)
    assert scheduling.account == "p"


def test_explicit_fields_fallback_for_objects_without_a_record() -> None:
    resources = object.__new__(JobResources)
    for name, value in {
        "cpu_count": 3,
        "memory": None,
        "gpu_count": None,
        "gpu_type": None,
        "time_limit": None,
    }.items():
        object.__setattr__(resources, name, value)
    assert explicit_fields(resources) == {"cpu_count"}
    defaults = SubmitorDefaults(resources=JobResources(cpu_count=1, memory="1G"))
    merged, _, _ = merge_defaults(defaults, resources=resources)
    assert merged == JobResources(cpu_count=3, memory="1G")


def test_request_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        merge_defaults(None, JobResources(), None, None)  # type: ignore[misc]


def test_merge_result_is_valid_and_does_not_mutate_inputs() -> None:
    default_scheduling = JobScheduling(partition="cpu", qos="normal")
    request = JobScheduling(qos="high", node_count=2)
    _, scheduling, _ = merge_defaults(SubmitorDefaults(scheduling=default_scheduling), scheduling=request)
    assert scheduling == JobScheduling(partition="cpu", qos="high", node_count=2)
    assert default_scheduling == JobScheduling(partition="cpu", qos="normal")
    assert request == JobScheduling(qos="high", node_count=2)
