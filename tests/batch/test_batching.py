"""Command counts and failure handling of the PBS, LSF and Grid Engine backends,
against a transport that answers from canned output (no scheduler)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from molq.errors import SchedulerError, TransportError
from molq.options import LSFSchedulerOptions, PBSSchedulerOptions, SGESchedulerOptions
from molq.scheduler.lsf import LSFScheduler
from molq.scheduler.pbs import PBSScheduler
from molq.scheduler.sge import SGEScheduler
from molq.status import JobState
from molq.transport.base import CommandResult

Answer = Callable[[list[str]], CommandResult]


class Canned:
    """Records every command; ``answer`` turns an argv into its result."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.calls: list[list[str]] = []
        self.envs: list[dict] = []

    def run(self, argv: Sequence[str], *, cwd=None, env=None, input=None, timeout=None) -> CommandResult:
        self.calls.append(list(argv))
        self.envs.append(dict(env or {}))
        return self.answer(list(argv))

    def count(self, program: str) -> int:
        return sum(1 for c in self.calls if program in c[0] or (c[0] == "sh" and program in c[3]))


def pbs_json(ids: list[str], state: str = "F", exit_status: int = 0) -> str:
    jobs = ",".join(
        f'"{i}.srv":{{"Job_Name":"j{i}","Job_Owner":"u@h","job_state":"{state}","queue":"q",'
        f'"stime":"Sat Jun  1 10:00:01 2024","Exit_status":{exit_status}}}'
        for i in ids
    )
    return f'{{"timestamp":1,"pbs_version":"2022.1.1","pbs_server":"srv","Jobs":{{{jobs}}}}}'


def jobs(n: int) -> list[tuple[str, str, str, float]]:
    return [(f"job{i}", str(1000 + i), f"/jobs/{i}", 1717236000.0) for i in range(n)]


def test_pbs_one_qstat_per_chunk_and_one_history_query_per_chunk() -> None:
    def answer(argv: list[str]) -> CommandResult:
        ids = [a for a in argv if a[0].isdigit()]
        if "-x" in argv:
            return CommandResult(argv, 0, pbs_json(ids, "F", 3))
        # none of them is live any more: all finished, reported on stderr
        err = "".join(
            f"qstat: {i}.srv Job has finished, use -x or -H to obtain historical job information\n" for i in ids
        )
        return CommandResult(argv, 35, "", err)

    t = Canned(answer)
    pbs = PBSScheduler(PBSSchedulerOptions(poll_chunk_size=10), transport=t)
    tracked = jobs(35)
    queue = pbs.poll(tracked)
    assert len(queue) == 0 and t.count("qstat") == 4
    resolved = pbs.resolve_terminal_many(tracked)
    assert t.count("qstat") == 8 and t.count("tracejob") == 0
    assert resolved is not None and len(resolved) == 35
    assert set(resolved.states().values()) == {JobState.FAILED}
    assert all(env.get("TZ") == "UTC" for env in t.envs)


def test_pbs_tracejob_only_for_what_history_lacks_one_command_per_chunk() -> None:
    def answer(argv: list[str]) -> CommandResult:
        if argv[0] == "sh":
            ids = argv[6:]
            body = "".join(f"\nJob: {i}.srv\n\n06/01/2024 10:00:11  S    Exit_status=0 x=y\n" for i in ids)
            return CommandResult(argv, 0, body)
        ids = [a for a in argv if a[0].isdigit()]
        known = [i for i in ids if int(i) % 2 == 0]
        err = "".join(f"qstat: Unknown Job Id {i}.srv\n" for i in ids if i not in known)
        return CommandResult(argv, 153 if err else 0, pbs_json(known), err)

    t = Canned(answer)
    pbs = PBSScheduler(PBSSchedulerOptions(poll_chunk_size=4), transport=t)
    resolved = pbs.resolve_terminal_many(jobs(10))
    assert resolved is not None and len(resolved) == 10
    assert t.count("qstat") == 3 and t.count("tracejob") == 2  # 5 odd ids in chunks of 4
    torque = Canned(answer)
    PBSScheduler(PBSSchedulerOptions(flavor="torque", poll_chunk_size=4), transport=torque).resolve_terminal_many(
        jobs(10)
    )
    assert torque.count("qstat") == 0 and torque.count("tracejob") == 3


def test_a_failing_command_raises_never_partial_evidence() -> None:
    def broken(argv: list[str]) -> CommandResult:
        return CommandResult(argv, 1, "", "qstat: cannot connect to server srv (errno=111)\n")

    pbs = PBSScheduler(transport=Canned(broken))
    with pytest.raises(SchedulerError, match="cannot connect"):
        pbs.poll(jobs(3))
    with pytest.raises(SchedulerError):
        pbs.resolve_terminal_many(jobs(3))

    def timeout(argv: list[str]) -> CommandResult:
        raise TransportError("command timed out after 60 s", command=argv)

    for backend in (
        PBSScheduler(transport=Canned(timeout)),
        LSFScheduler(transport=Canned(timeout)),
        SGEScheduler(transport=Canned(timeout)),
    ):
        with pytest.raises(SchedulerError, match="timed out"):
            backend.poll(jobs(2))
        with pytest.raises(SchedulerError, match="timed out"):
            backend.resolve_terminal_many(jobs(2))

    lsf_down = Canned(lambda argv: CommandResult(argv, 255, "", "LSF is down. Please wait ...\n"))
    with pytest.raises(SchedulerError, match="LSF is down"):
        LSFScheduler(transport=lsf_down).poll(jobs(2))


def test_lsf_one_bjobs_and_one_bhist_per_chunk() -> None:
    def answer(argv: list[str]) -> CommandResult:
        ids = [a for a in argv if a.isdigit()]
        if argv[0] == "bhist":
            body = "\n".join(
                f"Job <{i}>, User <u>, Project <default>, Command <x>\n"
                f"Sat Jun  1 10:00:00 2024: Exited with exit code 2. The CPU time used is 0.0 seconds;\n" + "-" * 78
                for i in ids
            )
            return CommandResult(argv, 0, body)
        return CommandResult(argv, 255, "", "".join(f"Job <{i}> is not found\n" for i in ids))

    t = Canned(answer)
    lsf = LSFScheduler(LSFSchedulerOptions(poll_chunk_size=7), transport=t)
    assert len(lsf.poll(jobs(20))) == 0 and t.count("bjobs") == 3
    resolved = lsf.resolve_terminal_many(jobs(20))
    assert t.count("bhist") == 3
    assert resolved is not None and set(resolved.states().values()) == {JobState.FAILED}
    assert all(env.get("LSB_DISPLAY_YEAR") == "Y" for env in t.envs)


def test_sge_one_qstat_and_one_qacct_whatever_the_count() -> None:
    def answer(argv: list[str]) -> CommandResult:
        if "qacct" in argv[3]:
            assert argv[4].isdigit() and len(argv[4]) == 12  # -b [[CC]YY]MMDDhhmm
            blocks = "".join(
                f"==============================\njobnumber {1000 + i}\nfailed 0\nexit_status 0\n" for i in range(500)
            )
            return CommandResult(argv, 0, blocks)
        return CommandResult(
            argv, 0, "<?xml version='1.0'?><job_info><queue_info></queue_info><job_info></job_info></job_info>"
        )

    t = Canned(answer)
    sge = SGEScheduler(SGESchedulerOptions(poll_chunk_size=10), transport=t)
    assert len(sge.poll(jobs(500))) == 0
    resolved = sge.resolve_terminal_many(jobs(500))
    assert resolved is not None and len(resolved) == 500
    assert [c[3] for c in t.calls] == ["qstat", "qacct"]


def test_cancel_reads_the_answer() -> None:
    def pbs_answer(argv: list[str]) -> CommandResult:
        if argv[0] == "qstat":  # the cancelled job is gone at once
            return CommandResult(argv, 153, "", f"qstat: Unknown Job Id {argv[-1]}.srv\n")
        return {
            "1": CommandResult(argv, 0),
            "2": CommandResult(argv, 35, "", "qdel: Job has finished 2.srv\n"),
            "3": CommandResult(argv, 153, "", "qdel: Unknown Job Id 3.srv\n"),
        }.get(argv[-1], CommandResult(argv, 1, "", "qdel: Unauthorized Request\n"))

    pbs = PBSScheduler(transport=Canned(pbs_answer))
    assert [pbs.cancel(i) for i in "123"] == [True, False, False]
    with pytest.raises(SchedulerError, match="Unauthorized"):
        pbs.cancel("4")

    def lsf_answer(argv: list[str]) -> CommandResult:
        if argv[0] == "bjobs":  # the cancelled job is gone at once
            return CommandResult(argv, 255, "", f"Job <{argv[-1]}> is not found\n")
        return {
            "1": CommandResult(argv, 0, "Job <1> is being terminated\n"),
            "2": CommandResult(argv, 255, "", "Job <2>: Job has already finished\n"),
            "3": CommandResult(argv, 255, "", "Job <3>: No matching job found\n"),
        }.get(argv[-1], CommandResult(argv, 255, "", "Job <4>: User permission denied\n"))

    lsf = LSFScheduler(transport=Canned(lsf_answer))
    assert [lsf.cancel(i) for i in "123"] == [True, False, False]
    with pytest.raises(SchedulerError, match="permission"):
        lsf.cancel("4")

    def sge_answer(argv: list[str]) -> CommandResult:
        if argv[0] == "qstat":  # the cancelled job is gone at once
            return CommandResult(argv, 1, "", f"Following jobs do not exist: \n{argv[-1]}\n")
        return {
            "1": CommandResult(argv, 0, "root has registered the job 1 for deletion\n"),
            "2": CommandResult(argv, 0, "root has deleted job 2\n"),
            "3": CommandResult(argv, 1, 'denied: job "3" does not exist\n'),
        }.get(argv[-1], CommandResult(argv, 1, "", "error: commlib error: got select error (Connection refused)\n"))

    sge = SGEScheduler(transport=Canned(sge_answer))
    assert [sge.cancel(i) for i in "123"] == [True, True, False]
    with pytest.raises(SchedulerError, match="commlib"):
        sge.cancel("4")


def test_sge_cancel_waits_for_qmaster_to_drop_the_job_then_forces_it() -> None:
    calls: list[list[str]] = []

    def lingering(argv: list[str]) -> CommandResult:
        calls.append(argv)
        if argv[0] == "qstat":  # still "dr": its execution host never reports
            return CommandResult(argv, 0, "job_number:                 5\n")
        return CommandResult(argv, 0, "root has registered the job 5 for deletion\n")

    sge = SGEScheduler(transport=Canned(lingering))
    sge.cancel_force_after, sge.cancel_timeout = 0.2, 0.6
    with pytest.raises(SchedulerError, match="not recorded as cancelled"):
        sge.cancel("5")
    assert [c for c in calls if c[0] == "qdel"] == [["qdel", "5"], ["qdel", "-f", "5"]]
    assert len([c for c in calls if c[0] == "qstat"]) > 2
