"""PBS and LSF: an accepted job is never lost or doubled, and log paths are
taken literally, against the fake commands (tests/fakes/), which print what
PBS Pro and LSF document (the marks themselves are read by the core, tested
on the documented formats in crates/molq-core/src/parse/*_marks.rs).

Faults are made as on the real testbeds: a wrapper runs the fake command,
then fails the caller (the answer never comes back, or the submitter is
killed with -9)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.errors import ConfigError
from molq.options import LSFSchedulerOptions, PBSSchedulerOptions
from molq.store import JobStore
from molq.strategies import FixedStrategy

FAKES = Path(__file__).resolve().parents[1] / "fakes"
SUBMIT = {"pbs": "qsub", "lsf": "bsub"}
# how long the fake server remembers a finished job (0: forgotten at once)
MEMORY = {"pbs": "MOLQ_FAKE_PBS_HISTORY", "lsf": "MOLQ_FAKE_LSF_CLEAN_PERIOD"}
Use = Callable[[str], Path]


def wrapper(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}-wrapper"
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o700)
    return str(path)


def submitor(tmp_path: Path, kind: str, options: Any = None, **kwargs: Any) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster(f"fake-{kind}", kind, scheduler_options=options),
        store=JobStore(tmp_path / "jobs.db"),
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.2),
        **kwargs,
    )


def fake_jobs(state: Path) -> list[dict[str, Any]]:
    """The jobs the fake server accepted (array elements left out)."""
    jobs = [json.loads(p.read_text()) for p in (state / "jobs").glob("*.json")]
    return [j for j in jobs if not j.get("array")]


@pytest.mark.parametrize("kind", ["pbs", "lsf"])
def test_answer_lost_after_the_job_was_accepted_is_tracked_once(kind: str, tmp_path: Path, fake_commands: Use) -> None:
    state = fake_commands(kind)
    program = SUBMIT[kind]
    hang = wrapper(tmp_path, program, f'"{FAKES / kind / program}" "$@"; sleep 30')
    options_class = PBSSchedulerOptions if kind == "pbs" else LSFSchedulerOptions
    options = options_class(**{f"{program}_path": hang, "submit_timeout": 2})
    with submitor(tmp_path, kind, options) as sub:
        # a retry policy lets molq retry passing failures: never this one
        handle = sub.submit_job(command="sleep 1", retry=mq.RetryPolicy(max_attempts=3))
        assert sub.get_job(handle.job_id).state is not mq.JobState.FAILED
        final = handle.wait(timeout=60)
        assert final.state is mq.JobState.SUCCEEDED, final.failure_reason
        assert len(fake_jobs(state)) == 1, "submitted twice"
        assert len(sub.get_retry_family(handle.job_id)) == 1


SUBMIT_THEN_DIE = r"""
import sys
import molq as mq
from molq.options import LSFSchedulerOptions, PBSSchedulerOptions
from molq.store import JobStore
kind = sys.argv[1]
options = PBSSchedulerOptions(qsub_path=sys.argv[4]) if kind == "pbs" else LSFSchedulerOptions(bsub_path=sys.argv[4])
sub = mq.Submitor(mq.Cluster(f"fake-{kind}", kind, scheduler_options=options),
                  store=JobStore(sys.argv[2]), jobs_dir=sys.argv[3])
sub.submit_job(command=sys.argv[5])
"""


def submit_and_get_killed(tmp_path: Path, kind: str, command: str) -> None:
    """A submitter that is killed (-9) right after the server accepted its job."""
    program = SUBMIT[kind]
    die = wrapper(tmp_path, f"{program}-kill", f'"{FAKES / kind / program}" "$@"; kill -9 $PPID; sleep 5')
    argv = [sys.executable, "-c", SUBMIT_THEN_DIE, kind, str(tmp_path / "jobs.db"), str(tmp_path / "jobs"), die]
    assert subprocess.run([*argv, command]).returncode == -signal.SIGKILL


@pytest.mark.parametrize("kind", ["pbs", "lsf"])
def test_killed_submitter_whose_job_is_still_listed_is_adopted(kind: str, tmp_path: Path, fake_commands: Use) -> None:
    state = fake_commands(kind)
    submit_and_get_killed(tmp_path, kind, "sleep 2; exit 4")
    (job,) = fake_jobs(state)
    with submitor(tmp_path, kind, recover_submissions_after=0.0) as sub:
        (record,) = sub.list_jobs()
        assert record.state is mq.JobState.CREATED
        final = sub.watch_jobs([record.job_id], timeout=60)[0]
        assert (final.state, final.exit_code) == (mq.JobState.FAILED, 4), final.failure_reason
        assert final.scheduler_job_id == job["id"]


@pytest.mark.parametrize("kind", ["pbs", "lsf"])
def test_killed_submitter_whose_job_ended_and_was_forgotten_is_found_by_its_job_dir(
    kind: str, tmp_path: Path, fake_commands: Use, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = fake_commands(kind)
    monkeypatch.setenv(MEMORY[kind], "0")  # gone from every listing once it ends
    submit_and_get_killed(tmp_path, kind, "exit 5")
    (job,) = fake_jobs(state)
    deadline = time.monotonic() + 30
    while fake_jobs(state)[0]["state"] != "done":
        assert time.monotonic() < deadline, "the fake job never ended"
        time.sleep(0.1)
    (job_dir,) = (tmp_path / "jobs").iterdir()
    assert (job_dir / f".{kind}_job_id").read_text() == f"{job['id']}\n"
    with submitor(tmp_path, kind, recover_submissions_after=0.0) as sub:
        (record,) = sub.list_jobs()
        sub.refresh_jobs(force=True)
        adopted = sub.get_job(record.job_id)
        assert adopted.state is not mq.JobState.FAILED or adopted.exit_code == 5, adopted.failure_reason
        assert adopted.scheduler_job_id == job["id"]
        final = sub.watch_jobs([record.job_id], timeout=60)[0]
        assert (final.state, final.exit_code) == (mq.JobState.FAILED, 5), final.failure_reason


@pytest.mark.parametrize("kind", ["pbs", "lsf"])
def test_cancel_of_an_unrecorded_submission_stops_the_job(kind: str, tmp_path: Path, fake_commands: Use) -> None:
    state = fake_commands(kind)
    submit_and_get_killed(tmp_path, kind, "sleep 300")
    with submitor(tmp_path, kind, recover_submissions_after=3600.0) as sub:
        (record,) = sub.list_jobs()
        assert record.state is mq.JobState.CREATED
        sub.cancel_job(record.job_id)
        assert sub.get_job(record.job_id).state is mq.JobState.CANCELLED
    (job,) = fake_jobs(state)
    assert job.get("deleted"), job


# -- paths are taken literally --------------------------------------------------------


def test_lsf_refuses_percent_j_and_i_in_what_molq_adds_and_keeps_them_in_the_users_name(
    fake_lsf: mq.Submitor, tmp_path: Path
) -> None:
    cwd = tmp_path / "run%J"
    cwd.mkdir()
    with pytest.raises(ConfigError, match="execution.cwd") as caught:
        fake_lsf.submit_job(command="true", execution=mq.JobExecution(cwd=cwd, output_file="o.log"))
    assert caught.value.context["field"] == "execution.cwd"
    with pytest.raises(ConfigError, match="job_dir_name"):
        fake_lsf.submit_job(command="true", job_dir_name="d%I")
    assert fake_lsf.list_jobs(include_terminal=True) == []
    assert not (tmp_path / "jobs").exists() or list((tmp_path / "jobs").iterdir()) == []
    plain = tmp_path / "plain %x $NOT_SET_X"
    plain.mkdir()
    record = fake_lsf.submit_job(command="echo hi", execution=mq.JobExecution(cwd=plain, output_file="o-%J.log")).wait(
        timeout=60
    )
    assert record.state is mq.JobState.SUCCEEDED
    assert (plain / f"o-{record.scheduler_job_id}.log").read_text() == "hi\n"


def test_pbs_refuses_a_colon_in_a_log_path(fake_pbs: mq.Submitor, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="execution.output_file"):
        fake_pbs.submit_job(command="true", execution=mq.JobExecution(output_file="a:b.log"))
    with pytest.raises(ConfigError, match="job_dir_name"):
        fake_pbs.submit_job(command="true", job_dir_name="d:1")
    assert fake_pbs.list_jobs(include_terminal=True) == []
