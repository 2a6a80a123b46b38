"""PBS, LSF and Grid Engine at scale, against generated output in each
scheduler's documented format (no scheduler needed).

For each backend, over 100,000 tracked jobs:

* ``get_queue()`` of a 100,000-job queue (PBS Pro ``qstat -f -F json``, LSF
  ``bjobs -o``, Grid Engine ``qstat -xml``)                      target <= 1.5 s
* a refresh where every job changes state (submitted -> running)  target <= 1.5 s
* a refresh where 10 % of the jobs finished and left the queue: their exit
  codes come from ``qstat -x`` / ``bhist -l`` / ``qacct``, and the number of
  those commands is counted: one per chunk of ids (Grid Engine: one in all,
  since qacct lists a user's jobs)                                target <= 1.5 s

A replaying transport serves pre-generated output, so what is timed is molq:
command building, the native parse, the reconcile transaction.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import molq as mq
from _util import report
from molq.store import JobStore
from molq.transport import CommandResult, LocalTransport

COUNT = int(os.environ.get("MOLQ_BENCH_JOBS", "100000"))
FINISHED = COUNT // 10
NOW = time.time()
CTIME = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(NOW - 600))
STIME = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(NOW - 60))
ISO = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(NOW - 60))
LSF_TIME = time.strftime("%b %e %H:%M", time.gmtime(NOW - 60))
ACCT_TIME = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(NOW - 5))


# -- one job's record in each format -------------------------------------------------
def pbs_job(i: int, state: str) -> bytes:
    done = state == "F"
    return (
        f'"{i}.pbs01":{{"Job_Name":"molq-{i}","Job_Owner":"alice@login01","job_state":"{state}",'
        f'"queue":"workq","server":"pbs01","Checkpoint":"u","ctime":"{CTIME}",'
        f'"Error_Path":"login01:/home/alice/jobs/{i}/stderr.log","Hold_Types":"n","Join_Path":"n",'
        f'"Keep_Files":"n","Mail_Points":"a","mtime":"{STIME}",'
        f'"Output_Path":"login01:/home/alice/jobs/{i}/stdout.log","Priority":0,"qtime":"{CTIME}",'
        f'"Rerunable":"True","Resource_List":{{"ncpus":1,"nodect":1,"place":"pack",'
        f'"select":"1:ncpus=1","walltime":"01:00:00"}},"stime":"{STIME}","substate":{92 if done else 42},'
        + (f'"obittime":"{ACCT_TIME}","Exit_status":0,' if done else "")
        + '"project":"_pbs_project_default"}'
    ).encode()


def pbs_doc(parts: list[bytes]) -> bytes:
    return b'{"timestamp":1,"pbs_version":"2022.1.1","pbs_server":"pbs01","Jobs":{' + b",".join(parts) + b"}}"


def lsf_row(i: int, stat: str) -> bytes:
    return f"{i}|{stat}|-|alice|normal|{LSF_TIME}|{LSF_TIME}|-|molq-{i}\n".encode()


def bhist(i: int) -> bytes:
    return (
        f"Job <{i}>, Job Name <molq-{i}>, User <alice>, Project <default>, Command <#!/bin/bash>\n"
        f"{ACCT_TIME}: Submitted from host <login01>, to Queue <normal>, CWD <$HOME>;\n"
        f"{ACCT_TIME}: Starting (Pid 4242);\n"
        f"{ACCT_TIME}: Done successfully. The CPU time used is 0.1 seconds;\n"
        "\nSummary of time in seconds spent in various states by  " + ACCT_TIME + "\n"
        "  PEND     PSUSP    RUN      USUSP    SSUSP    UNKWN    TOTAL\n"
        "  1        0        10       0        0        0        11\n" + "-" * 78 + "\n"
    ).encode()


def sge_job(i: int) -> bytes:
    return (
        f'    <job_list state="running">\n      <JB_job_number>{i}</JB_job_number>\n'
        f"      <JAT_prio>0.50000</JAT_prio>\n      <JB_name>molq-{i}</JB_name>\n"
        f"      <JB_owner>alice</JB_owner>\n      <state>r</state>\n"
        f"      <JAT_start_time>{ISO}</JAT_start_time>\n"
        f"      <queue_name>all.q@node{i % 64:02d}</queue_name>\n      <slots>1</slots>\n    </job_list>\n"
    ).encode()


def sge_doc(parts: list[bytes]) -> bytes:
    return b"<?xml version='1.0'?>\n<job_info>\n  <queue_info>\n" + b"".join(parts) + b"  </queue_info>\n</job_info>\n"


def qacct(i: int) -> bytes:
    return (
        f"==============================================================\nqname        all.q\n"
        f"hostname     node01\ngroup        users\nowner        alice\nproject      NONE\n"
        f"jobname      molq-{i}\njobnumber    {i}\ntaskid       undefined\naccount      sge\n"
        f"qsub_time    {ACCT_TIME}\nstart_time   {ACCT_TIME}\nend_time     {ACCT_TIME}\n"
        f"granted_pe   NONE\nslots        1\nfailed       0\nexit_status  0\nru_wallclock 1s\n"
        f"cpu          0.1s\nmaxvmem      0.000B\narid         undefined\n"
    ).encode()


class Replay(LocalTransport):
    """Answers each scheduler command from pre-generated output and counts them."""

    def __init__(self, answer: Callable[[list[str]], CommandResult]) -> None:
        super().__init__()
        self.answer = answer
        self.calls: dict[str, int] = {}

    def run(self, argv: Any, **kwargs: Any) -> CommandResult:
        name = os.path.basename(argv[3] if argv[0] == "sh" else argv[0])
        if "-x" in argv:
            name += " -x"
        self.calls[name] = self.calls.get(name, 0) + 1
        return self.answer(list(argv))


def ids_of(argv: list[str]) -> list[int]:
    return [int(a.split(".")[0]) for a in argv if a[:1].isdigit() and a.split(".")[0].isdigit()]


def pbs_answers(finished: set[int]) -> Callable[[list[str]], CommandResult]:
    live = {i: pbs_job(i, "R") for i in range(1, COUNT + 1)}
    history = {i: pbs_job(i, "F") for i in finished}

    def answer(argv: list[str]) -> CommandResult:
        ids = ids_of(argv)
        if not ids:  # get_queue: everything
            return CommandResult(argv, 0, pbs_doc(list(live.values())))
        if "-x" in argv:
            return CommandResult(argv, 0, pbs_doc([history[i] for i in ids]))
        gone = [i for i in ids if i in finished]
        err = "".join(
            f"qstat: {i}.pbs01 Job has finished, use -x or -H to obtain historical job information\n" for i in gone
        )
        return CommandResult(argv, 35 if gone else 0, pbs_doc([live[i] for i in ids if i not in finished]), err)

    return answer


def lsf_answers(finished: set[int]) -> Callable[[list[str]], CommandResult]:
    rows = {i: lsf_row(i, "RUN") for i in range(1, COUNT + 1)}

    def answer(argv: list[str]) -> CommandResult:
        ids = ids_of(argv)
        if argv[0] == "bhist":
            return CommandResult(argv, 0, b"".join(bhist(i) for i in ids))
        if not ids:
            return CommandResult(argv, 0, b"".join(rows.values()))
        gone = [i for i in ids if i in finished]
        err = "".join(f"Job <{i}> is not found\n" for i in gone)
        return CommandResult(argv, 255 if gone else 0, b"".join(rows[i] for i in ids if i not in finished), err)

    return answer


def sge_answers(finished: set[int]) -> Callable[[list[str]], CommandResult]:
    queue = sge_doc([sge_job(i) for i in range(1, COUNT + 1) if i not in finished])
    acct = b"".join(qacct(i) for i in sorted(finished))

    def answer(argv: list[str]) -> CommandResult:
        return CommandResult(argv, 0, acct if "qacct" in argv[3] else queue)

    return answer


def build_store(path: str, scheduler: str) -> None:
    store = JobStore(path)
    now = time.time()
    for i in range(1, COUNT + 1):
        job_id = f"{scheduler}-{i:07d}"
        store.register_job(
            {
                "job_id": job_id,
                "cluster_name": "hpc",
                "scheduler": scheduler,
                "root_job_id": job_id,
                "attempt": 1,
                "previous_attempt_job_id": None,
                "retry_group_id": job_id,
                "command_type": "argv",
                "command_display": "python train.py",
                "cwd": "/home/alice",
                "job_dir": f"/home/alice/.molq/jobs/{job_id}",
                "metadata": {},
                "request_json": "{}",
                "retry_json": None,
                "profile_name": None,
            },
            [],
            now - 600,
        )
        store.mark_submitted(job_id, str(i), now - 600)
    store.close()


def run_backend(kind: str, answers: Callable[[set[int]], Callable[[list[str]], CommandResult]], tmp: str) -> None:
    from molq.options import OPTIONS_TYPE_MAP

    options = OPTIONS_TYPE_MAP[kind]()
    chunk = getattr(options, "poll_chunk_size", 500)
    finished = set(range(COUNT - FINISHED + 1, COUNT + 1))
    base = os.path.join(tmp, f"{kind}.db")
    t0 = time.perf_counter()
    build_store(base, kind)
    print(f"({kind}: {COUNT:,} tracked jobs stored in {time.perf_counter() - t0:.1f} s; chunk size {chunk})")

    transport = Replay(answers(set()))
    cluster = mq.Cluster("hpc", kind, transport=transport)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        entries = cluster.get_queue()
        best = min(best, time.perf_counter() - start)
    assert len(entries) == COUNT, len(entries)
    report(f"{kind}: get_queue() of {COUNT:,} jobs", best, "s", "<= 1.5 s")

    for name, done in (("all change state", set()), (f"{FINISHED:,} finished", finished)):
        db = os.path.join(tmp, "run.db")
        answer = answers(done)
        times = []
        for _ in range(3):  # each on a fresh copy of the store; best and median reported
            shutil.copy(base, db)
            transport = Replay(answer)
            store = JobStore(db)
            sub = mq.Submitor(mq.Cluster("hpc", kind, transport=transport), store=store)
            start = time.perf_counter()
            changes = sub.refresh_jobs()
            times.append(time.perf_counter() - start)
            store.close()
            for suffix in ("-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
        report(f"{kind}: refresh of {COUNT:,}, {name}", min(times), "s", "<= 1.5 s")
        print(f"    median of 3: {sorted(times)[1]:.3f} s")
        resolvers = {k: v for k, v in transport.calls.items() if k in ("qstat -x", "bhist", "qacct", "tracejob")}
        print(f"    transitions: {len(changes):,}; commands: {transport.calls}")
        if done:
            chunks = math.ceil(len(done) / chunk)
            expected = 1 if kind == "sge" else chunks
            total = sum(resolvers.values())
            assert total == expected, (resolvers, expected)
            print(f"    terminal resolution: {total} command(s) for {len(done):,} jobs = {chunks} chunk(s) of {chunk}")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)


if __name__ == "__main__":
    kinds = sys.argv[1:] or ["pbs", "lsf", "sge"]
    table = {"pbs": pbs_answers, "lsf": lsf_answers, "sge": sge_answers}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            run_backend(kind, table[kind], tmp)
