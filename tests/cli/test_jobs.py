"""submit, list, status, history, inspect, cancel, watch against the local backend."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

Molq = Any  # the fixture type lives in conftest.py

RECORD_FIELDS = [
    "job_id",
    "cluster",
    "scheduler",
    "state",
    "terminal",
    "scheduler_job_id",
    "attempt",
    "root_job_id",
    "previous_attempt_job_id",
    "command",
    "command_type",
    "cwd",
    "job_dir",
    "stdout_path",
    "stderr_path",
    "submitted_at",
    "started_at",
    "finished_at",
    "exit_code",
    "exit_signal",
    "failure_reason",
    "retry_state",
    "retry_due_at",
    "profile",
    "metadata",
]


def wait_for(molq: Molq, job_id: str) -> dict[str, Any]:
    result = molq("watch", job_id, "--json", "--timeout", "30")
    assert result.returncode in (0, 1), result
    return result.json()[0]


def test_submit_json_record_has_the_documented_fields(molq: Molq) -> None:
    record = molq.ok("submit", "--json", "--", "echo", "hi").json()
    assert list(record) == RECORD_FIELDS
    assert record["state"] == "submitted"
    assert record["cluster"] == "local" and record["scheduler"] == "local"
    assert record["command"] == "echo hi" and record["command_type"] == "argv"
    assert record["attempt"] == 1 and record["root_job_id"] == record["job_id"]
    assert isinstance(record["submitted_at"], float)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for field in RECORD_FIELDS:
        assert f"`{field}`" in doc, f"docs/cli.md does not document {field}"


def test_submit_forms_and_execution_flags(molq: Molq, tmp_path: Path) -> None:
    workdir = tmp_path / "wd"
    workdir.mkdir()
    job = molq.submit(
        "--workdir",
        str(workdir),
        "--env",
        "GREETING=hello",
        "--env",
        "WHO=molq",
        "--name",
        "greeter",
        "--job-dir-name",
        "greet-1",
        "--metadata",
        "project=demo",
        "--command",
        'echo "$GREETING $WHO from $(pwd)"',
    )
    record = wait_for(molq, job)
    assert record["state"] == "succeeded"
    assert record["cwd"] == str(workdir)
    assert record["job_dir"].endswith("/greet-1")
    assert record["metadata"] == {"project": "demo"}
    assert molq.ok("logs", job).stdout == f"hello molq from {workdir}\n"

    script = tmp_path / "job.sh"
    script.write_text("#!/bin/bash\necho from a script file\n")
    job = molq.submit("--script", str(script))
    assert wait_for(molq, job)["state"] == "succeeded"
    assert molq.ok("logs", job).stdout == "from a script file\n"

    job = molq.ok("submit", "-q", "--script", "-", input="echo from stdin\n").stdout.strip()
    assert wait_for(molq, job)["state"] == "succeeded"
    assert molq.ok("logs", job).stdout == "from stdin\n"

    out = tmp_path / "out.txt"
    job = molq.submit("--output", str(out), "--", "echo", "to a file")
    wait_for(molq, job)
    assert out.read_text() == "to a file\n"


def test_submit_options_the_local_backend_cannot_honour_are_usage_errors(molq: Molq) -> None:
    # CPUs, memory, GPUs and time the local scheduler honours; these one machine has not
    for flags in (["--gpu-type", "a100"], ["--partition", "debug"], ["--account", "lab"], ["--nodes", "2"]):
        result = molq("submit", *flags, "--", "true")
        assert result.returncode == 2, (flags, result)
        assert "cannot honour" in result.stderr
    assert molq.ok("list", "--json").json() == []  # nothing was written


def test_submit_wait_exit_codes(molq: Molq) -> None:
    ok = molq("submit", "--wait", "--", "true")
    assert ok.returncode == 0 and "succeeded" in ok.stdout
    failed = molq("submit", "--wait", "--json", "--command", "exit 5")
    assert failed.returncode == 1
    assert failed.json()["exit_code"] == 5 and failed.json()["state"] == "failed"
    slow = molq("submit", "--wait", "--timeout", "0.5", "--", "sleep", "30")
    assert slow.returncode == 3
    assert "timed out" in slow.stderr


def test_list_newest_first_with_limit_all_active_and_state(molq: Molq) -> None:
    done = [molq.submit("--", "true") for _ in range(3)]
    for job in done:
        wait_for(molq, job)
    running = molq.submit("--", "sleep", "30")
    listed = molq.ok("list", "--json").json()
    assert [r["job_id"] for r in listed] == [running, *reversed(done)]
    assert [r["job_id"] for r in molq.ok("list", "--json", "--limit", "2").json()] == [running, done[2]]
    assert len(molq.ok("list", "--json", "-n", "1", "--all").json()) == 4
    assert [r["job_id"] for r in molq.ok("list", "--json", "--active").json()] == [running]
    assert {r["job_id"] for r in molq.ok("list", "--json", "--state", "succeeded").json()} == set(done)
    table = molq.ok("list").stdout.splitlines()
    assert table[0].split()[:3] == ["JOB", "ID", "CLUSTER"]
    assert table[1].startswith(running[:8])
    assert "\x1b[" not in molq.ok("list").stdout  # no colour in a pipe
    molq.ok("cancel", running)


def test_list_does_not_refresh_unless_asked(molq: Molq) -> None:
    molq.submit("--", "true")
    time.sleep(0.5)
    assert molq.ok("list", "--json").json()[0]["state"] == "submitted"
    assert molq.ok("list", "--json", "--refresh").json()[0]["state"] == "succeeded"


def test_status_by_prefix_ambiguous_and_missing(molq: Molq) -> None:
    jobs = [molq.submit("--", "true") for _ in range(20)]
    job = jobs[0]
    wait_for(molq, job)
    for length in (36, 12, 8):
        record = molq.ok("status", job[:length], "--json").json()
        assert record["job_id"] == job and record["state"] == "succeeded"
    # 20 uuid4 ids: some hex digit starts at least two of them.
    first = {}
    for other in jobs:
        first.setdefault(other[0], []).append(other)
    prefix = next(c for c, ids in first.items() if len(ids) > 1)
    ambiguous = molq("status", prefix)
    assert ambiguous.returncode == 2
    assert "ambiguous" in ambiguous.stderr
    for candidate in first[prefix]:
        assert candidate in ambiguous.stderr
    missing = molq("status", "zzzz")
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert molq("status", job, "--cluster", "elsewhere").returncode == 1  # scoped to that cluster
    human = molq.ok("status", job[:8]).stdout
    assert "succeeded" in human and job in human


def test_history_and_inspect(molq: Molq) -> None:
    job = molq.submit("--command", "echo out; exit 3")
    wait_for(molq, job)
    history = molq.ok("history").stdout
    assert "failed" in history and "3" in history
    assert molq.ok("history", "--json").json()[0]["exit_code"] == 3
    info = molq.ok("inspect", job[:10], "--json").json()
    assert info["job"]["job_id"] == job
    assert [t["new_state"] for t in info["transitions"]][-1] == "failed"
    assert info["transitions"][0]["old_state"] is None
    assert [r["job_id"] for r in info["retry_family"]] == [job]
    assert info["dependencies"] == [] and info["dependents"] == []
    text = molq.ok("inspect", job).stdout
    assert "Timeline" in text and "running -> failed" in text


def test_retries_make_a_family(molq: Molq) -> None:
    profile = molq.fast_retry_profile()  # --retries (attempts in all) keeps the profile's backoff
    job = molq.submit("--profile", profile, "--retries", "2", "--retry-on-exit-code", "4", "--command", "exit 4")
    record = molq("watch", job, "--json", "--timeout", "60")
    assert record.returncode == 1
    last = record.json()[0]
    assert last["attempt"] == 2 and last["root_job_id"] == job and last["exit_code"] == 4
    family = molq.ok("inspect", job, "--json").json()["retry_family"]
    assert [r["attempt"] for r in family] == [1, 2]
    assert molq.ok("status", job, "--json").json()["attempt"] == 2  # status follows the newest attempt


def test_cancel_running_and_finished(molq: Molq) -> None:
    running = molq.submit("--", "sleep", "60")
    finished = molq.submit("--", "true")
    wait_for(molq, finished)
    result = molq.ok("cancel", running[:8], finished[:8], "--json").json()
    assert [r["state"] for r in result] == ["cancelled", "succeeded"]
    text = molq.ok("cancel", running).stdout
    assert "already ended: cancelled" in text
    assert molq("cancel", "nope").returncode == 1


def test_watch_ids_and_all_in_a_pipe(molq: Molq) -> None:
    good = molq.submit("--command", "sleep 0.3")
    bad = molq.submit("--command", "sleep 0.3; exit 1")
    result = molq("watch", "--all", "--timeout", "30")
    assert result.returncode == 1  # one failed
    lines = result.stdout.splitlines()
    assert any(good[:8] in line and "succeeded" in line for line in lines)
    assert any(bad[:8] in line and "failed" in line for line in lines)
    assert lines[-1] == "2 jobs: 1 succeeded, 1 failed"
    assert molq("watch", good).returncode == 0
    assert molq.ok("watch", "--all").stdout.strip() == "No active jobs."
    timed = molq("watch", molq.submit("--", "sleep", "30"), "--timeout", "0.3")
    assert timed.returncode == 3


def test_an_out_of_memory_job_is_a_failure_to_list_and_watch(molq: Molq) -> None:
    from molq.status import JobState
    from molq.store import JobStore

    job = molq.submit("--", "true")
    wait_for(molq, job)
    with JobStore(molq.home / "jobs.db") as store:  # as a memory kill would leave it
        store.update_job(job, state=JobState.OUT_OF_MEMORY, failure_reason="job exceeded its memory limit")
    listed = molq.ok("list", "--state", "out_of_memory", "--json").json()
    assert [(r["job_id"], r["state"], r["terminal"]) for r in listed] == [(job, "out_of_memory", True)]
    assert molq.ok("list", "--state", "failed", "--json").json() == []
    watched = molq("watch", job)
    assert watched.returncode == 1
    assert watched.stdout.splitlines()[-1].startswith(f"Job {job} out_of_memory, job exceeded its memory limit (")


def test_clusters_are_namespaces(molq: Molq) -> None:
    a = molq.submit("--cluster", "alpha", "--", "true")
    b = molq.submit("--cluster", "beta", "--", "true")
    assert [r["job_id"] for r in molq.ok("list", "--cluster", "alpha", "--json").json()] == [a]
    assert {r["cluster"] for r in molq.ok("list", "--json").json()} == {"alpha", "beta"}
    # A job found by id alone is refreshed on its own cluster.
    wait_for(molq, b)
    assert molq.ok("status", b, "--json").json()["cluster"] == "beta"


def test_a_cluster_of_unknown_whereabouts_is_not_polled(molq: Molq, tmp_path: Path) -> None:
    job = molq.submit("--cluster", "gamma", "--", "true")
    (molq.home / "jobs.db.destinations.json").unlink()  # as if submitted through the Python API
    # Its job dir exists here and it is a local-scheduler job: still found to be local.
    assert molq.ok("status", job, "--json").json()["state"] in ("running", "succeeded", "submitted")


def test_a_remote_looking_cluster_without_destination_is_shown_not_polled(molq: Molq) -> None:
    from molq.store import JobStore

    store = JobStore(molq.home / "jobs.db")
    job_id = "0123abcd-0000-4000-8000-000000000000"
    store.register_job(
        {
            "job_id": job_id,
            "cluster_name": "far",
            "scheduler": "slurm",
            "root_job_id": job_id,
            "attempt": 1,
            "previous_attempt_job_id": None,
            "retry_group_id": job_id,
            "command_type": "argv",
            "command_display": "train",
            "cwd": "/remote/home",
            "job_dir": "/remote/home/.molq/jobs/x",
            "metadata": {},
            "request_json": "{}",
            "retry_json": None,
            "profile_name": None,
        },
        [],
        time.time(),
    )
    store.mark_submitted(job_id, "4242", time.time())
    store.close()
    result = molq("status", "0123", "--json")
    assert result.returncode == 0
    assert result.json()["state"] == "submitted"
    assert "not polled" in result.stderr and "far" in result.stderr
    assert molq("cancel", "0123").returncode == 1  # cannot reach it to cancel
