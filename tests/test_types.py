from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq.status import JobState
from molq.types import (
    DependencyRef,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    Memory,
    Script,
    dependency_relation_state,
)

GIB = 1024**3


# -- Memory -----------------------------------------------------------------


def test_memory_factories_are_binary_and_truncate() -> None:
    assert Memory.kb(1) == Memory(1024)
    assert Memory.mb(2) == Memory(2 * 1024**2)
    assert Memory.gb(32) == Memory(32 * GIB)
    assert Memory.tb(1) == Memory(1024**4)
    assert Memory.gb(1.5) == Memory(3 * GIB // 2)
    assert Memory.kb(0.5001) == Memory(512)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "1"])
def test_memory_factories_reject_bad_numbers(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        Memory.gb(bad)  # type: ignore[arg-type]


def test_memory_rejects_negative_and_non_int() -> None:
    with pytest.raises(ValueError):
        Memory(-1)
    with pytest.raises(TypeError):
        Memory(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32G", 32 * GIB),
        ("32g", 32 * GIB),
        ("32GB", 32 * GIB),
        ("32gb", 32 * GIB),
        (" 32 GB ", 32 * GIB),
        ("512M", 512 * 1024**2),
        ("1T", 1024**4),
        ("4k", 4096),
        ("100", 100),
        ("100b", 100),
        ("100B", 100),
        ("1.5G", 3 * GIB // 2),
        (".5K", 512),
        ("0", 0),
        ("2.", 2),
    ],
)
def test_memory_parse(text: str, expected: int) -> None:
    assert Memory.parse(text) == Memory(expected)


@pytest.mark.parametrize("text", ["", "   ", "G", "-1G", "1GiB", "1 PB", "1bb", "1.2.3G", "one", "1G extra", "1e3"])
def test_memory_parse_rejects_and_names_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        Memory.parse(text)
    assert repr(text) in str(info.value)


def test_memory_parse_decimal_is_exact() -> None:
    # 0.7 * 1024 is 716.8: exact arithmetic truncates to 716, not a float artefact.
    assert Memory.parse("0.7K") == Memory(716)
    assert Memory.parse("123456789012345678901") == Memory(123456789012345678901)


@pytest.mark.parametrize(
    ("memory", "slurm", "pbs", "lsf"),
    [
        (Memory.gb(32), "32G", "32gb", 32 * 1024**2),
        (Memory.mb(512), "512M", "512mb", 512 * 1024),
        (Memory.tb(1), "1T", "1tb", 1024**3),
        (Memory.kb(4), "4K", "4kb", 4),
        (Memory.mb(1536), "1536M", "1536mb", 1536 * 1024),
        (Memory(1500), "2K", "1500b", 2),
        (Memory(0), "0", "0b", 0),
    ],
)
def test_memory_formatters(memory: Memory, slurm: str, pbs: str, lsf: int) -> None:
    assert memory.to_slurm() == slurm
    assert memory.to_pbs() == pbs
    assert memory.to_lsf_kb() == lsf


def test_memory_is_ordered_and_hashable() -> None:
    assert Memory.mb(512) < Memory.gb(1) < Memory.tb(1)
    assert sorted([Memory.gb(2), Memory.kb(1)]) == [Memory.kb(1), Memory.gb(2)]
    assert len({Memory.gb(1), Memory.mb(1024)}) == 1


def test_memory_str_is_human() -> None:
    assert str(Memory.gb(32)) == "32GB"
    assert str(Memory.gb(1.5)) == "1.5GB"
    assert str(Memory(100)) == "100B"


memories = st.integers(min_value=0, max_value=2**70).map(Memory)


@given(memories)
def test_memory_pbs_round_trip(memory: Memory) -> None:
    assert Memory.parse(memory.to_pbs()) == memory


@given(st.integers(min_value=0, max_value=2**60).map(lambda k: Memory(k * 1024)))
def test_memory_slurm_round_trip_on_whole_kib(memory: Memory) -> None:
    assert Memory.parse(memory.to_slurm()) == memory


@given(memories)
def test_memory_slurm_never_asks_for_less(memory: Memory) -> None:
    parsed = Memory.parse(memory.to_slurm())
    assert memory <= parsed < Memory(memory.bytes + 1024)
    assert memory.to_lsf_kb() * 1024 >= memory.bytes


@given(st.text())
def test_memory_parse_only_raises_value_error(text: str) -> None:
    try:
        assert isinstance(Memory.parse(text), Memory)
    except ValueError:
        pass


# -- Duration ---------------------------------------------------------------


def test_duration_factories() -> None:
    assert Duration.minutes(90) == Duration(5400)
    assert Duration.hours(1.5) == Duration(5400)
    assert Duration.days(1) == Duration(86400)
    with pytest.raises(ValueError):
        Duration.hours(-1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1-12:00:00", 129600),
        ("0-00:00:01", 1),
        ("01:00:00", 3600),
        ("30:00:00", 108000),
        ("90:00", 5400),
        ("1:30", 90),
        ("2h30m", 9000),
        ("2H30M", 9000),
        ("1.5h", 5400),
        ("90m", 5400),
        ("1d 12h", 129600),
        ("1w", 604800),
        ("45s", 45),
        ("0.1h 0.2h", 1080),
        ("3600", 3600),
        (" 3600 ", 3600),
        ("1.9", 1),
    ],
)
def test_duration_parse(text: str, seconds: int) -> None:
    assert Duration.parse(text) == Duration(seconds)


@pytest.mark.parametrize(
    "text",
    ["", "1-12:00", "1-25:00:00", "1:60", "1:00:60", "abc", "-5", "2h x", "x2h", "2y", "1::2", "h"],
)
def test_duration_parse_rejects_and_names_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        Duration.parse(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("duration", "slurm", "pbs", "lsf"),
    [
        (Duration(0), "00:00:00", "00:00:00", 0),
        (Duration(59), "00:00:59", "00:00:59", 1),
        (Duration.hours(2), "02:00:00", "02:00:00", 120),
        (Duration(86399), "23:59:59", "23:59:59", 1440),
        (Duration.hours(30), "1-06:00:00", "30:00:00", 1800),
        (Duration.days(100), "100-00:00:00", "2400:00:00", 144000),
    ],
)
def test_duration_formatters(duration: Duration, slurm: str, pbs: str, lsf: int) -> None:
    assert duration.to_slurm() == slurm
    assert duration.to_pbs() == pbs
    assert duration.to_lsf_minutes() == lsf


def test_duration_str_and_order() -> None:
    assert str(Duration(9000)) == "2h30m"
    assert str(Duration(0)) == "0s"
    assert str(Duration(90061)) == "1d1h1m1s"
    assert Duration.minutes(1) < Duration.hours(1)


durations = st.integers(min_value=0, max_value=10**9).map(Duration)


@given(durations)
def test_duration_round_trips(duration: Duration) -> None:
    assert Duration.parse(duration.to_slurm()) == duration
    assert Duration.parse(duration.to_pbs()) == duration
    assert Duration.parse(str(duration)) == duration


@given(st.text())
def test_duration_parse_only_raises_value_error(text: str) -> None:
    try:
        assert isinstance(Duration.parse(text), Duration)
    except ValueError:
        pass


@given(st.text(alphabet="0123456789:-.smhdwSMHDW ", max_size=20))
def test_duration_parse_fuzz_near_valid_syntax(text: str) -> None:
    try:
        assert Duration.parse(text).seconds >= 0
    except ValueError:
        pass


# -- Script -----------------------------------------------------------------


def test_script_inline() -> None:
    script = Script.inline("echo hi\n")
    assert script.variant == "inline"
    assert script.text == "echo hi\n"
    assert script.file_path is None
    with pytest.raises(ValueError):
        Script.inline("")


def test_script_path_is_resolved_at_construction(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    script = Script.path("run.sh")
    assert script.variant == "path"
    assert script.file_path == tmp_path.resolve() / "run.sh"
    assert script.text is None
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Script.path("~/x.sh").file_path == tmp_path.resolve() / "x.sh"


def test_script_needs_a_path() -> None:
    with pytest.raises(ValueError):
        Script.path("")


# -- dependency references ----------------------------------------------------


def test_dependency_ref_defaults_and_validation() -> None:
    assert DependencyRef("abc").condition == "after_success"
    with pytest.raises(ValueError, match="Unknown dependency condition"):
        DependencyRef("abc", "afterok")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DependencyRef("")


@pytest.mark.parametrize(
    ("condition", "state", "started", "expected"),
    [
        ("after_success", JobState.SUCCEEDED, 1.0, "satisfied"),
        ("after_success", JobState.FAILED, 1.0, "impossible"),
        ("after_success", JobState.LOST, None, "impossible"),
        ("after_success", JobState.RUNNING, 1.0, "pending"),
        ("after_failure", JobState.FAILED, 1.0, "satisfied"),
        ("after_failure", JobState.CANCELLED, None, "satisfied"),
        ("after_failure", JobState.TIMED_OUT, 1.0, "satisfied"),
        ("after_failure", JobState.OUT_OF_MEMORY, 1.0, "satisfied"),
        ("after_success", JobState.OUT_OF_MEMORY, 1.0, "impossible"),
        ("after", JobState.OUT_OF_MEMORY, 1.0, "satisfied"),
        ("after_failure", JobState.LOST, None, "satisfied"),
        ("after_failure", JobState.SUCCEEDED, 1.0, "impossible"),
        ("after_failure", JobState.QUEUED, None, "pending"),
        ("after_started", JobState.QUEUED, None, "pending"),
        ("after_started", JobState.QUEUED, 5.0, "satisfied"),
        ("after_started", JobState.RUNNING, None, "satisfied"),
        ("after_started", JobState.CANCELLED, None, "satisfied"),
        ("after", JobState.RUNNING, 1.0, "pending"),
        ("after", JobState.SUCCEEDED, 1.0, "satisfied"),
        ("after", "failed", 1.0, "satisfied"),
    ],
)
def test_dependency_relation_state(condition: str, state, started, expected: str) -> None:
    assert dependency_relation_state(condition, state, started) == expected


def test_dependency_relation_state_unknown_condition() -> None:
    with pytest.raises(ValueError, match="Unknown dependency condition"):
        dependency_relation_state("afterok", JobState.SUCCEEDED, None)


# -- request dataclasses ------------------------------------------------------


def test_job_resources_defaults_and_conversion() -> None:
    assert JobResources() == JobResources(None, None, None, None, None)
    resources = JobResources(cpu_count=4, memory="32G", time_limit="2h")
    assert resources.memory == Memory.gb(32)
    assert resources.time_limit == Duration.hours(2)
    assert JobResources(memory=1024, time_limit=60).memory == Memory(1024)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cpu_count": 0},
        {"cpu_count": -1},
        {"gpu_count": -1},
        {"gpu_type": ""},
        {"memory": "lots"},
        {"time_limit": "forever"},
    ],
)
def test_job_resources_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        JobResources(**kwargs)


@pytest.mark.parametrize("kwargs", [{"cpu_count": 2.5}, {"cpu_count": True}, {"memory": 1.5}, {"time_limit": [1]}])
def test_job_resources_rejects_bad_types(kwargs: dict) -> None:
    with pytest.raises(TypeError):
        JobResources(**kwargs)


def test_job_resources_is_frozen() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        JobResources().cpu_count = 3  # type: ignore[misc]


def test_job_scheduling_defaults() -> None:
    scheduling = JobScheduling()
    assert scheduling.dependencies == ()
    assert scheduling.exclusive_node is False
    assert not hasattr(scheduling, "queue")
    with pytest.raises(TypeError):
        JobScheduling(queue="gpu")  # type: ignore[call-arg]


def test_job_scheduling_dependency_forms_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        JobScheduling(dependency="afterok:1", dependencies=(DependencyRef("x"),))
    assert JobScheduling(dependency="afterok:1").dependency == "afterok:1"


def test_job_scheduling_lists_become_tuples() -> None:
    scheduling = JobScheduling(dependencies=[DependencyRef("a"), DependencyRef("b", "after")])
    assert scheduling.dependencies == (DependencyRef("a"), DependencyRef("b", "after"))
    with pytest.raises(TypeError):
        JobScheduling(dependencies=["a"])  # type: ignore[list-item]


@pytest.mark.parametrize("kwargs", [{"node_count": 0}, {"partition": ""}, {"qos": "  "}])
def test_job_scheduling_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        JobScheduling(**kwargs)


def test_job_scheduling_exclusive_node_must_be_bool() -> None:
    with pytest.raises(TypeError):
        JobScheduling(exclusive_node=1)  # type: ignore[arg-type]


def test_job_execution_env_is_copied_and_stringified() -> None:
    env = {"OMP_NUM_THREADS": 4, "NAME": "x"}
    execution = JobExecution(env=env, cwd=Path("/tmp"))
    env["LATER"] = "y"
    assert execution.env == {"OMP_NUM_THREADS": "4", "NAME": "x"}
    assert execution.cwd == Path("/tmp")


@pytest.mark.parametrize("env", [{"1BAD": "x"}, {"A-B": "x"}, {"": "x"}])
def test_job_execution_rejects_bad_env_names(env: dict) -> None:
    with pytest.raises(ValueError, match="environment variable name"):
        JobExecution(env=env)


def test_job_execution_rejects_bad_values() -> None:
    with pytest.raises(TypeError):
        JobExecution(env={"A": None})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        JobExecution(cwd="")
    with pytest.raises(ValueError):
        JobExecution(job_name="")


def test_explicit_fields_are_recorded() -> None:
    assert JobResources()._explicit == frozenset()  # type: ignore[attr-defined]
    resources = JobResources(2, time_limit=None)
    assert resources._explicit == {"cpu_count", "time_limit"}  # type: ignore[attr-defined]
    assert resources == JobResources(cpu_count=2)  # equality ignores the record
    for clone in (copy.copy(resources), pickle.loads(pickle.dumps(resources))):
        assert clone._explicit == resources._explicit  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("parse", "text", "phrase"),
    [
        (Memory.parse, "", "Empty memory string"),
        (Memory.parse, "   ", "Empty memory string"),
        (Memory.parse, "8XB", "Unknown memory unit 'XB'"),
        (Duration.parse, "", "Empty duration string"),
    ],
)
def test_parse_errors_name_the_cause_in_the_original_wording(parse, text, phrase) -> None:
    # Programs written for the original molq match on these phrases.
    with pytest.raises(ValueError, match=phrase) as info:
        parse(text)
    assert repr(text) in str(info.value)
