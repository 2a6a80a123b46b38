"""molq.retry, molq.serde, molq.validation, molq.jobpaths and molq.dependencies: the original's helper modules."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from molq import dependencies, jobpaths, retry, serde, validation
from molq.errors import ConfigError, JobNotFoundError
from molq.models import Command, JobRecord, JobSpec, RetentionPolicy, RetryBackoff, RetryPolicy, SchedulerCapabilities
from molq.scheduler import create_scheduler
from molq.status import JobState
from molq.store import JobStore
from molq.transport.local import LocalTransport
from molq.types import DependencyRef, Duration, JobExecution, JobResources, JobScheduling, Memory, Script


def _record(**kw) -> JobRecord:
    return JobRecord(job_id="j", cluster_name="c", scheduler="local", **kw)


def test_retry_rules() -> None:
    policy = RetryPolicy(max_attempts=3, retry_on_exit_codes=(1,))
    assert retry.should_retry(_record(state=JobState.FAILED, exit_code=1), policy)
    assert not retry.should_retry(_record(state=JobState.FAILED, exit_code=2), policy)
    assert not retry.should_retry(_record(state=JobState.FAILED), policy)
    assert not retry.should_retry(_record(state=JobState.FAILED, exit_code=1, attempt=3), policy)
    assert not retry.should_retry(_record(state=JobState.FAILED), None)
    assert not retry.should_retry(_record(state=JobState.SUCCEEDED), RetryPolicy(max_attempts=2))
    assert [retry.retry_delay_seconds(RetryPolicy(), n) for n in (1, 2, 3, 10)] == [5.0, 10.0, 20.0, 300.0]
    assert retry.retry_delay_seconds(RetryPolicy(backoff=RetryBackoff(mode="fixed", initial_seconds=7)), 4) == 7


def test_serde_round_trips_and_request_shape() -> None:
    resources = JobResources(cpu_count=2, memory=Memory.gb(1), time_limit=Duration(60), task_count=4)
    scheduling = JobScheduling(partition="p", dependencies=(DependencyRef("a", "after"),), exclusive_node=True)
    execution = JobExecution(env={"A": "1"}, cwd="/x", job_name="n")
    assert serde.serialize_memory(Memory.gb(8)) == "8589934592"
    assert serde.deserialize_resources(serde.serialize_resources(resources)) == resources
    assert serde.deserialize_scheduling(serde.serialize_scheduling(scheduling)) == scheduling
    assert serde.deserialize_execution(serde.serialize_execution(execution)) == execution
    assert serde.deserialize_script(serde.serialize_script(Script.inline("echo"))) == Script.inline("echo")
    policy = RetryPolicy(max_attempts=3, retry_on_states=(JobState.LOST,))
    assert serde.deserialize_retry_policy(serde.serialize_retry_policy(policy)) == policy
    assert serde.deserialize_retention_policy(None) == RetentionPolicy()
    text = serde.build_submit_request(
        command=Command.from_submit_args(argv=["a", "b"]),
        resources=resources,
        scheduling=scheduling,
        execution=execution,
        metadata={"k": "v"},
        retry=None,
        after_started=[],
        after=["x"],
        after_failure=[],
        after_success=[],
        profile_name=None,
    )
    data = serde.load_submit_request(text)
    assert list(data) == sorted(data) and data["argv"] == ["a", "b"] and data["resources"]["memory"] == "1073741824"
    assert serde.load_submit_request(None) == {} and serde.dump_submit_request(data) == text
    with pytest.raises(ValueError):
        serde.load_submit_request("[1]")


def test_validation_names_every_unsupported_field() -> None:
    spec = JobSpec(
        job_id="j",
        cluster_name="c",
        scheduler="local",
        command=Command.from_submit_args(argv=["x"]),
        resources=JobResources(cpu_count=2, memory=Memory.gb(1)),
        scheduling=JobScheduling(partition="p"),
    )
    validation.validate_spec(
        spec, validation.default_capabilities(), requested_execution=JobExecution(), scheduler_name="x"
    )
    with pytest.raises(ConfigError) as info:
        validation.validate_spec(
            spec,
            SchedulerCapabilities(supports_memory=True),
            requested_execution=JobExecution(cwd="/x"),
            scheduler_name="local",
        )
    assert "execution.cwd, resources.cpu_count, scheduling.partition" in str(info.value)
    assert info.value.context["unsupported_fields"] == ("execution.cwd", "resources.cpu_count", "scheduling.partition")


def test_jobpaths_make_private_directories_and_manifest(tmp_path: Path) -> None:
    transport = LocalTransport()
    assert jobpaths.job_dir_path(None, "abc", "/w") == Path("/w/.molq/jobs/abc")
    assert jobpaths.job_dir_path(tmp_path, "abc", "/w", "named") == tmp_path / "named"
    assert jobpaths.resolve_output_path("o.txt", "/w", Path("/jd"), "stdout.log") == Path("/w/o.txt")
    assert jobpaths.resolve_output_path(None, "/w", Path("/jd"), "stdout.log") == Path("/jd/stdout.log")
    job_dir = jobpaths.prepare_job_dir(transport, tmp_path / "jobs", "jid", str(tmp_path))
    assert stat.S_IMODE(job_dir.stat().st_mode) == 0o700
    user_script = tmp_path / "train.sh"
    user_script.write_text("echo train\n")
    jobpaths.materialize_script(transport, Script.path(user_script), job_dir)
    assert (job_dir / "train.sh").read_text() == "echo train\n"
    spec = JobSpec(
        job_id="jid",
        cluster_name="c",
        scheduler="local",
        cwd=str(tmp_path),
        command=Command.from_submit_args(script=Script.path(user_script)),
    )
    jobpaths.write_manifest(transport, tmp_path / "jobs", spec, 123.0)
    manifest = job_dir / "manifest.json"
    assert json.loads(manifest.read_text())["script_path"] == str(user_script)
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600


def test_dependencies_resolve_against_a_real_store(tmp_path: Path) -> None:
    refs = dependencies.merge_dependency_refs(
        (DependencyRef("up"),), after_started=["run"], after=[], after_failure=[], after_success=[]
    )
    assert refs == (DependencyRef("up"), DependencyRef("run", "after_started"))
    slurm = create_scheduler("slurm")
    with JobStore(tmp_path / "jobs.db") as store:
        for job_id, sid in (("up", "11"), ("run", "22"), ("fresh", None)):
            store.insert_job(
                JobSpec(
                    job_id=job_id, cluster_name="c", scheduler="slurm", command=Command.from_submit_args(argv=["x"])
                )
            )
            if sid:
                store.update_job(job_id, scheduler_job_id=sid, state=JobState.SUBMITTED)
        args = (store, slurm, slurm.capabilities(), "c", "slurm")
        text, edges = dependencies.resolve_dependencies(
            *args, job_id="new", root_job_id="new", explicit_dependency=None, dependency_refs=refs
        )
        assert text == "afterok:11,after:22"
        assert [(e.job_id, e.dependency_job_id, e.scheduler_dependency) for e in edges] == [
            ("new", "up", "afterok:11"),
            ("new", "run", "after:22"),
        ]
        assert dependencies.resolve_dependencies(
            *args, job_id="new", root_job_id="new", explicit_dependency="afterok:5", dependency_refs=refs
        ) == ("afterok:5", [])
        for ref, error, phrase in (
            (DependencyRef("nope"), JobNotFoundError, "nope"),
            (DependencyRef("fresh"), ConfigError, "scheduler job id"),
            (DependencyRef("new"), ConfigError, "itself"),
        ):
            with pytest.raises(error, match=phrase):
                dependencies.resolve_dependencies(
                    *args, job_id="new", root_job_id="new", explicit_dependency=None, dependency_refs=(ref,)
                )
