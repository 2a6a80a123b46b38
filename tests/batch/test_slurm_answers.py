"""The Slurm backend's reading of scancel, sbatch refusals and its squeue/sacct
searches, against a transport that answers from canned output (no Slurm)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

import molq as mq
from molq.errors import ConfigError, SchedulerError
from molq.scheduler.slurm import SlurmScheduler, render_sbatch_directives
from molq.submission import Command, JobSpec
from molq.transport.base import CommandResult

Answer = Callable[[list[str]], CommandResult]


class Canned:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str], *, cwd=None, env=None, input=None, timeout=None) -> CommandResult:
        self.calls.append(list(argv))
        return self.answer(list(argv))

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        pass


def test_scancel_answers() -> None:
    done = "scancel: Terminating job {0}\nscancel: error: Kill job error on job id {0}: Job/step already completing or completed\n"

    def answer(argv: list[str]) -> CommandResult:
        sid = argv[-1]
        if argv[0] == "squeue":
            return CommandResult(argv, 0, "")  # nothing of it lives
        return {
            "1": CommandResult(argv, 0, "", f"scancel: Terminating job {sid}\n"),
            "2": CommandResult(argv, 0, "", done.format(sid)),
            "3": CommandResult(
                argv, 0, "", f"scancel: error: Kill job error on job id {sid}: Invalid job id specified\n"
            ),
        }.get(
            sid,
            CommandResult(argv, 1, "", f"scancel: error: Kill job error on job id {sid}: Access/permission denied\n"),
        )

    slurm = SlurmScheduler(transport=Canned(answer))
    assert [slurm._scancel(i) for i in "123"] == [True, False, False]
    with pytest.raises(SchedulerError, match="permission denied"):
        slurm._scancel("4")
    assert slurm.cancel("2") is False


def test_cancel_waits_for_the_live_tasks() -> None:
    listings = iter(["7_1|RUNNING\n7_2|COMPLETED\n", "7_1|COMPLETING\n", "7_1|CANCELLED\n"])

    def answer(argv: list[str]) -> CommandResult:
        if argv[0] == "squeue":
            assert argv[-2:] == ["-o", "%i|%T"]
            return CommandResult(argv, 0, next(listings))
        return CommandResult(argv, 0, "", "scancel: Terminating job 7\n")

    slurm = SlurmScheduler(transport=Canned(answer))
    assert slurm._live_tasks("7") == {"7_1": "RUNNING"}
    assert slurm.cancel("7") is True


def test_sbatch_refusals(tmp_path) -> None:
    stderr = {
        "down": "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n",
        "bad": "sbatch: error: Batch job submission failed: Invalid partition name specified\n",
    }
    for case, transient in (("down", True), ("bad", False)):
        slurm = SlurmScheduler(transport=Canned(lambda argv, case=case: CommandResult(argv, 1, "", stderr[case])))
        with pytest.raises(SchedulerError) as caught:
            slurm.submit(spec(None, str(tmp_path)), str(tmp_path))
        assert caught.value.context.get("transient") is transient, case


def test_find_submissions_through_queue_files_and_accounting() -> None:
    def answer(argv: list[str]) -> CommandResult:
        if argv[0] == "squeue":
            assert argv[-2:] == ["-o", "%i|%k|%o"]
            return CommandResult(argv, 0, "70_[1-3]|molq:a|/x/run.sh\n71||/jobs/b/run_slurm.sh\n72|molq:zz|\n")
        if argv[0] == "bash":
            return CommandResult(argv, 0, "")  # no job id files
        assert argv[0] == "sacct" and "JobIDRaw,Comment,SubmitLine" in argv
        return CommandResult(argv, 0, "80||sbatch --parsable /jobs/c/run_slurm.sh\n81|molq:a|sbatch x\n")

    t = Canned(answer)
    found = SlurmScheduler(transport=t).find_submissions(
        [("a", "/jobs/a"), ("b", "/jobs/b"), ("c", "/jobs/c"), ("d", "")]
    )
    assert found == {"a": "70", "b": "71", "c": "80"}
    assert [c[0] for c in t.calls] == ["squeue", "bash", "sacct"]


def spec(array: str | None, job_dir: str = "/jobs/j1") -> JobSpec:
    return JobSpec(
        job_id="0123456789abcdef",
        cluster_name="c",
        scheduler="slurm",
        command=Command(argv=("true",)),
        scheduling=mq.JobScheduling(array_spec=array),
        cwd="/w",
        job_dir=job_dir,
        stdout_path=f"{job_dir}/stdout.log",
        stderr_path=f"{job_dir}/stderr.log",
    )


def test_array_specs() -> None:
    assert "#SBATCH --array=0-9:2%4" in render_sbatch_directives(spec("0-9:2%4"))
    assert "#SBATCH --array=1,3,5" in render_sbatch_directives(spec("1,3,5"))
    with pytest.raises(ConfigError, match="index lists"):
        render_sbatch_directives(spec("1-4%x"))
