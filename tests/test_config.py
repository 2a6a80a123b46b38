from __future__ import annotations

from pathlib import Path

import pytest

from molq.config import (
    MolqConfig,
    MolqProfile,
    default_config_path,
    load_config,
    load_profile,
    molq_home,
)
from molq.errors import ConfigError
from molq.models import RetentionPolicy, RetryBackoff, RetryPolicy, SubmitorDefaults
from molq.options import SGESchedulerOptions, SlurmSchedulerOptions
from molq.status import JobState
from molq.types import DependencyRef, Duration, JobExecution, JobResources, JobScheduling, Memory

FULL = """
[profiles.hpc]
scheduler = "slurm"
cluster_name = "hpc"
jobs_dir = "~/molq-jobs"
host = "me@login.example.org"

[profiles.hpc.scheduler_options]
sbatch_path = "/opt/slurm/bin/sbatch"
extra_sbatch_flags = ["--constraint=a100"]
poll_chunk_size = 200

[profiles.hpc.defaults.resources]
cpu_count = 8
memory = "32G"
time_limit = "2h"
gpu_count = 2
gpu_type = "a100"

[profiles.hpc.defaults.scheduling]
queue = "gpu"
account = "proj"
priority = 10
exclusive_node = true
dependencies = [{ job_id = "abc" }, { job_id = "def", condition = "after" }]

[profiles.hpc.defaults.execution]
env = { OMP_NUM_THREADS = 8, MODE = "fast" }
cwd = "/scratch/me"
job_name = "train"

[profiles.hpc.retry]
max_attempts = 3
retry_on_states = ["failed", "lost"]
retry_on_exit_codes = [137]
backoff = { mode = "fixed", initial_seconds = 10, maximum_seconds = 60, factor = 1 }

[profiles.hpc.retention]
keep_job_dirs_for_days = 7
keep_failed_job_dirs = false

[profiles.dev]
scheduler = "local"
cluster_name = "laptop"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_honour_molq_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOLQ_HOME", str(tmp_path / "root"))
    assert molq_home() == tmp_path / "root"
    assert default_config_path() == tmp_path / "root" / "config.toml"
    monkeypatch.setenv("MOLQ_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert molq_home() == tmp_path / ".molq"
    monkeypatch.setenv("MOLQ_HOME", "~/elsewhere")
    assert molq_home() == tmp_path / "elsewhere"


def test_missing_file_is_an_empty_config(tmp_path: Path, monkeypatch) -> None:
    assert load_config(tmp_path / "nope.toml") == MolqConfig()
    monkeypatch.setenv("MOLQ_HOME", str(tmp_path))
    assert load_config().profiles == {}


def test_default_path_is_used(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MOLQ_HOME", str(tmp_path))
    write(tmp_path, '[profiles.a]\nscheduler = "local"\ncluster_name = "a"\n')
    assert load_profile("a").cluster_name == "a"


def test_full_profile(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert set(config.profiles) == {"hpc", "dev"}
    hpc = config.profiles["hpc"]
    assert (hpc.name, hpc.scheduler, hpc.cluster_name) == ("hpc", "slurm", "hpc")
    assert hpc.jobs_dir == "~/molq-jobs" and hpc.host == "me@login.example.org"
    assert hpc.scheduler_options == SlurmSchedulerOptions(
        sbatch_path="/opt/slurm/bin/sbatch",
        extra_sbatch_flags=("--constraint=a100",),
        poll_chunk_size=200,
    )
    assert hpc.defaults == SubmitorDefaults(
        resources=JobResources(
            cpu_count=8,
            memory=Memory.gb(32),
            time_limit=Duration.hours(2),
            gpu_count=2,
            gpu_type="a100",
        ),
        scheduling=JobScheduling(
            partition="gpu",
            account="proj",
            priority="10",
            exclusive_node=True,
            dependencies=(DependencyRef("abc"), DependencyRef("def", "after")),
        ),
        execution=JobExecution(env={"OMP_NUM_THREADS": "8", "MODE": "fast"}, cwd="/scratch/me", job_name="train"),
    )
    assert hpc.retry == RetryPolicy(3, (JobState.FAILED, JobState.LOST), (137,), RetryBackoff("fixed", 10, 60, 1))
    assert hpc.retention == RetentionPolicy(7, 90, False)


def test_minimal_profile_defaults(tmp_path: Path) -> None:
    dev = load_profile("dev", write(tmp_path, FULL))
    assert dev == MolqProfile("dev", "local", "laptop")
    assert dev.defaults == SubmitorDefaults() and dev.retry is None
    assert dev.retention == RetentionPolicy() and dev.scheduler_options is None


def test_profile_defaults_carry_explicit_fields(tmp_path: Path) -> None:
    # A profile value of false must reach the merge as explicitly set.
    path = write(
        tmp_path,
        '[profiles.p]\nscheduler = "slurm"\ncluster_name = "c"\n'
        "[profiles.p.defaults.scheduling]\nexclusive_node = false\n",
    )
    scheduling = load_profile("p", path).defaults.scheduling
    assert scheduling is not None and scheduling._explicit == {"exclusive_node"}  # type: ignore[attr-defined]


def test_memory_and_time_accept_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[profiles.p]\nscheduler = "pbs"\ncluster_name = "c"\n'
        "[profiles.p.defaults.resources]\nmemory = 1073741824\n"
        "time_limit = 90.5\n",
    )
    resources = load_profile("p", path).defaults.resources
    assert resources == JobResources(memory=Memory.gb(1), time_limit=Duration(90))
    path = write(
        tmp_path,
        '[profiles.p]\nscheduler = "sge"\ncluster_name = "c"\n'
        '[profiles.p.defaults.resources]\ntime_limit = "01:00:00"\n'
        '[profiles.p.scheduler_options]\nqacct_path = "/x/qacct"\n',
    )
    profile = load_profile("p", path)
    assert profile.defaults.resources == JobResources(time_limit=Duration.hours(1))
    assert profile.scheduler_options == SGESchedulerOptions(qacct_path="/x/qacct")


def test_missing_profile_lists_the_defined_ones(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    with pytest.raises(ConfigError) as info:
        load_profile("gpu", path)
    message = str(info.value)
    assert str(path) in message and "'gpu'" in message and "dev, hpc" in message
    assert info.value.context["key"] == "profiles.gpu"


BAD = [
    ('memory = "lots"', "profiles.p.defaults.resources.memory", "a size like"),
    ('memory = "32GiB"', "profiles.p.defaults.resources.memory", "a size like"),
    ("memory = -5", "profiles.p.defaults.resources.memory", "a size like"),
    ('time_limit = "soon"', "profiles.p.defaults.resources.time_limit", "a duration like"),
    ("time_limit = true", "profiles.p.defaults.resources.time_limit", "a duration like"),
    ("cpu_count = 0", "profiles.p.defaults.resources.cpu_count", "an integer >= 1"),
    ('cpu_count = "4"', "profiles.p.defaults.resources.cpu_count", "an integer >= 1"),
]


@pytest.mark.parametrize(("line", "key", "expected"), BAD)
def test_bad_resources_name_file_key_and_expectation(tmp_path: Path, line: str, key: str, expected: str) -> None:
    path = write(
        tmp_path, f'[profiles.p]\nscheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.resources]\n{line}\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: ")
    assert expected in message
    assert info.value.context["path"] == str(path)
    assert info.value.context["key"] == key


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('cluster_name = "c"', "profiles.p.scheduler", "missing"),
        ('scheduler = "slurm"', "profiles.p.cluster_name", "missing"),
        ('scheduler = "condor"\ncluster_name = "c"', "profiles.p.scheduler", "one of local, slurm, pbs, lsf, sge"),
        ('scheduler = "slurm"\ncluster_name = 5', "profiles.p.cluster_name", "a non-empty string"),
        ('scheduler = "slurm"\ncluster_name = "c"\nhost = ""', "profiles.p.host", "a non-empty string"),
        ('scheduler = "slurm"\ncluster_name = "c"\nretry = 3', "profiles.p.retry", "a table"),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.retry]\nmax_attempts = 0',
            "profiles.p.retry.max_attempts",
            "an int >= 1",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.retry]\nretry_on_states = ["oops"]',
            "profiles.p.retry.retry_on_states",
            "terminal state names",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.retry.backoff]\nmode = "linear"',
            "profiles.p.retry.backoff.mode",
            "'fixed' or 'exponential'",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.retention]\nkeep_failed_job_dirs = 1',
            "profiles.p.retention.keep_failed_job_dirs",
            "true or false",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.retention]\nkeep_job_dirs_for_days = -1',
            "profiles.p.retention.keep_job_dirs_for_days",
            "days >= 0",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.scheduler_options]\npoll_chunk_size = 0',
            "profiles.p.scheduler_options",
            "poll_chunk_size must be a positive number",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.scheduling]\nqueue = "a"\npartition = "b"',
            "profiles.p.defaults.scheduling.queue",
            "old name",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.scheduling]\n'
            'dependency = "afterok:1"\ndependencies = [{job_id = "x"}]',
            "profiles.p.defaults.scheduling",
            "not both",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.scheduling]\n'
            'dependencies = [{job_id = "x", condition = "afterok"}]',
            "profiles.p.defaults.scheduling.dependencies[0].condition",
            "one of after_started",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.scheduling]\n'
            'dependencies = [{condition = "after"}]',
            "profiles.p.defaults.scheduling.dependencies[0]",
            "missing key job_id",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.execution]\nenv = { A = [1] }',
            "profiles.p.defaults.execution.env.A",
            "a string or number",
        ),
        (
            'scheduler = "slurm"\ncluster_name = "c"\n[profiles.p.defaults.execution]\nenv = { "BAD-NAME" = "1" }',
            "profiles.p.defaults.execution",
            "environment variable name",
        ),
    ],
)
def test_bad_profiles_name_file_key_and_expectation(tmp_path: Path, body: str, key: str, expected: str) -> None:
    path = write(tmp_path, f"[profiles.p]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert expected in message, message


UNKNOWN = [
    ("[profiles.p.defaults.resources]\ngpu_typ = 'a100'", "profiles.p.defaults.resources.gpu_typ"),
    ("sheduler = 1", "profiles.p.sheduler"),
    ('[profiles.p.scheduler_options]\nqsub_path = "q"', "profiles.p.scheduler_options.qsub_path"),
    ("[profiles.p.defaults]\nresource = {}", "profiles.p.defaults.resource"),
    ("[profiles.p.retry]\nmax_attempt = 2", "profiles.p.retry.max_attempt"),
]


@pytest.mark.parametrize(("body", "key"), UNKNOWN)
def test_unknown_keys_warn_with_file_and_key_and_are_ignored(tmp_path: Path, body: str, key: str) -> None:
    # Files written for another molq version keep working: an unknown key is named, not fatal.
    from molq.config import ConfigWarning

    path = write(tmp_path, f'[profiles.p]\nscheduler = "slurm"\ncluster_name = "c"\n{body}\n')
    with pytest.warns(ConfigWarning) as caught:
        config = load_config(path)
    assert [str(w.message).split(": unknown key")[0] for w in caught] == [f"{path}: {key}"]
    assert config.profiles["p"].cluster_name == "c"


def test_unknown_top_level_key(tmp_path: Path) -> None:
    from molq.config import ConfigWarning

    with pytest.warns(ConfigWarning, match=r": extra: unknown key, ignored \(known keys here: profiles, plugins\)"):
        assert load_config(write(tmp_path, "[extra]\nx = 1\n")).profiles == {}
    with pytest.raises(ConfigError, match=r": plugins.x: expected a table of settings"):
        load_config(write(tmp_path, "[plugins]\nx = 1\n"))
    with pytest.raises(ConfigError, match=r": profiles: expected a table"):
        load_config(write(tmp_path, "profiles = 3\n"))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.p\nscheduler = \n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "not valid TOML" in str(info.value)


def test_unreadable_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)  # a directory


def test_profiles_are_frozen(tmp_path: Path) -> None:
    import dataclasses

    profile = load_profile("dev", write(tmp_path, FULL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.host = "x"  # type: ignore[misc]


LIMITS = """
[profiles.hpc]
scheduler = "slurm"
cluster_name = "hpc"

[profiles.hpc.defaults]
max_jobs_in_flight = 50
scheduler_commands_per_second = 2.5
scheduler_command_burst = 4

[profiles.hpc.defaults.max_jobs_in_flight_per_partition]
debug = 2
"""


def test_the_limits_are_read_from_the_profiles_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(LIMITS)
    defaults = load_profile("hpc", path).defaults
    assert defaults == SubmitorDefaults(
        max_jobs_in_flight=50,
        max_jobs_in_flight_per_partition={"debug": 2},
        scheduler_commands_per_second=2.5,
        scheduler_command_burst=4,
    )


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("max_jobs_in_flight = 0", "profiles.hpc.defaults.max_jobs_in_flight"),
        ('max_jobs_in_flight = "many"', "profiles.hpc.defaults.max_jobs_in_flight"),
        (
            "max_jobs_in_flight_per_partition = { debug = 0 }",
            "profiles.hpc.defaults.max_jobs_in_flight_per_partition.debug",
        ),
        ("max_jobs_in_flight_per_partition = 3", "profiles.hpc.defaults.max_jobs_in_flight_per_partition"),
        ("scheduler_commands_per_second = -1", "profiles.hpc.defaults.scheduler_commands_per_second"),
        ("scheduler_command_burst = 3", "profiles.hpc.defaults.scheduler_command_burst"),
    ],
)
def test_bad_limits_name_their_key(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[profiles.hpc]\nscheduler = "slurm"\ncluster_name = "hpc"\n\n[profiles.hpc.defaults]\n{line}\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.context["key"] == key
