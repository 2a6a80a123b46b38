"""Fake LSF commands: bsub, bjobs, bkill, bhist.

They print what LSF 10.1 documents (see crates/molq-core/tests/fixtures/lsf/
README.md): ``bsub`` reads the script on stdin and says ``Job <N> is submitted
to queue <normal>.``; ``bjobs -o "... delimiter='|'" -noheader`` (times
without a year, as LSF prints them); ``bhist -l`` (with years when
``LSB_DISPLAY_YEAR=Y``, lines cut at 80 columns); bkill's messages. State:
``MOLQ_FAKE_LSF_DIR``. ``MOLQ_FAKE_LSF_CLEAN_PERIOD`` (seconds, default an
hour) is how long bjobs still shows finished jobs. ``MOLQ_FAKE_LSF_KILL``
(see ``_engine.linger_for``) keeps a killed running job ``RUN`` until its
host reports, or until ``bkill -r``.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shlex
import sys
import time

from _engine import Job, State, delete, linger_for, start_runner

_CONDITION = {"done": "ok", "exit": "notok", "ended": "any", "started": "started"}


def _state() -> State:
    return State.from_env("MOLQ_FAKE_LSF_DIR")


def bsub(argv: list[str]) -> int:
    state = _state()
    script = sys.stdin.read()
    words: list[str] = []
    for line in script.splitlines()[1:]:
        if line.startswith("#BSUB"):
            words += shlex.split(line[5:])
        elif line.strip() and not line.startswith("#"):
            break
    words += argv
    opts: dict[str, str] = {}
    i = 0
    while i < len(words):
        if words[i] in ("-x", "-N", "-H"):
            opts[words[i]] = ""
            i += 1
        else:
            opts[words[i]] = words[i + 1]
            i += 2
    queue = opts.get("-q", "normal")
    if queue not in ("normal", "long", "short"):
        sys.stderr.write(f"{queue}: No such queue. Job not submitted.\n")
        return 255
    n = state.new_id()
    path = state.root / "scripts" / f"{n}.sh"
    path.parent.mkdir(exist_ok=True)
    path.write_text(script)
    name = opts.get("-J", f"{n}")
    deps = []
    if "-w" in opts:
        for cond, dep in re.findall(r"(done|exit|ended|started)\((\d+)\)", opts["-w"]):
            deps.append([_CONDITION[cond], dep])
    home = os.path.expanduser("~")
    base: Job = {
        "owner": getpass.getuser(),
        "queue": queue,
        "script": str(path),
        "cwd": home,
        "state": "queued",
        "held": "-H" in opts,
        "submit": time.time(),
        "start": None,
        "end": None,
        "exit": None,
        "deps": deps,
        # LSF keeps a job whose dependency can never be met pending
        "never_satisfied": "wait",
        "walltime_limit": int(opts["-W"]) * 60 if "-W" in opts else None,
        "description": opts.get("-Jd"),
        "log": [],
    }
    out, err = opts.get("-o", "/dev/null"), opts.get("-e", "/dev/null")
    array = re.fullmatch(r"(.*)\[([0-9,:\-]+)\](%\d+)?", name)
    if array is None:
        job = dict(
            base,
            id=str(n),
            name=name,
            out=out.replace("%J", str(n)),
            err=err.replace("%J", str(n)),
            env={"LSB_JOBID": str(n), "LSB_JOBNAME": name},
        )
        with state.locked():
            state.put(job)
        start_runner(state, job["id"])
    else:
        indices: list[int] = []
        for part in array.group(2).split(","):
            span, _, step = part.partition(":")
            lo, _, hi = span.partition("-")
            indices += range(int(lo), int(hi or lo) + 1, int(step or 1))
        with state.locked():
            for i in indices:
                env = {"LSB_JOBID": str(n), "LSB_JOBINDEX": str(i), "LSB_JOBNAME": f"{array.group(1)}[{i}]"}
                sub = lambda p, i=i: p.replace("%J", str(n)).replace("%I", str(i))  # noqa: E731
                state.put(
                    dict(
                        base,
                        id=f"{n}[{i}]",
                        index=i,
                        array=str(n),
                        name=f"{array.group(1)}[{i}]",
                        out=sub(out),
                        err=sub(err),
                        env=env,
                    )
                )
        for i in indices:
            start_runner(state, f"{n}[{i}]")
    print(f"Job <{n}> is submitted to queue <{queue}>.")
    return 0


def _members(state: State, job_id: str) -> list[Job]:
    """The job, or every element of array `job_id`."""
    job = state.get(job_id)
    if job is not None:
        return [job]
    return [j for j in state.all() if j.get("array") == job_id]


def _stat(job: Job) -> str:
    if job["state"] == "done":
        return "DONE" if job.get("exit") == 0 and not job.get("deleted") and not job.get("walltime") else "EXIT"
    if job["state"] in ("running", "exiting"):  # bjobs shows it running until its host reports
        return "RUN"
    return "PSUSP" if job.get("held") else "PEND"


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%b %e %H:%M", time.localtime(t))


def _exit_code(job: Job) -> str:
    if _stat(job) != "EXIT":
        return "-"
    if job.get("deleted"):
        return "130"
    if job.get("walltime"):
        return "140"
    return str(job.get("exit"))


def _field(job: Job, name: str) -> str:
    jobid = job["array"] if job.get("array") else job["id"]
    return {
        "jobid": jobid,
        "stat": _stat(job),
        "exit_code": _exit_code(job),
        "user": job["owner"],
        "queue": job["queue"],
        "submit_time": _when(job["submit"]),
        "start_time": _when(job["start"]),
        "finish_time": _when(job["end"]),
        "job_name": job["name"],
        "job_description": job.get("description") or "-",
    }[name]


def _cleaned(job: Job) -> bool:
    period = float(os.environ.get("MOLQ_FAKE_LSF_CLEAN_PERIOD", "3600"))
    return job["state"] == "done" and time.time() - job["end"] > period


def bjobs(argv: list[str]) -> int:
    state = _state()
    fmt, user, ids, as_json, i = "jobid stat user queue job_name submit_time", None, [], "-json" in argv, 0
    while i < len(argv):
        if argv[i] in ("-o", "-u"):
            fmt, user = (argv[i + 1], user) if argv[i] == "-o" else (fmt, argv[i + 1])
            i += 2
            continue
        if not argv[i].startswith("-"):
            ids.append(argv[i])
        i += 1
    m = re.search(r"delimiter='(.)'", fmt)
    delim = m.group(1) if m else " "
    fields = re.sub(r"delimiter='.'", "", fmt).split()
    rows: list[Job] = []
    rc = 0
    if ids:
        for raw in ids:
            found = [j for j in _members(state, raw) if not _cleaned(j)]
            if not found:
                sys.stderr.write(f"Job <{raw}> is not found\n")
                rc = 255
            rows += found
    else:
        # -a: recently finished jobs too
        every = "-a" in argv
        rows = [
            j
            for j in state.all()
            if (j["state"] != "done" or (every and not _cleaned(j))) and (user in (None, "all") or j["owner"] == user)
        ]
        if not rows:
            sys.stderr.write("No job found\n" if every else "No unfinished job found\n")
            return 255
    if as_json:
        records = [{f.upper(): ("" if (v := _field(j, f)) == "-" else v) for f in fields} for j in rows]
        print(json.dumps({"COMMAND": "bjobs", "JOBS": len(records), "RECORDS": records}, indent=2))
        return rc
    if "-noheader" not in argv:
        print(delim.join(f.upper() for f in fields))
    for j in rows:
        print(delim.join(_field(j, f) for f in fields))
    return rc


def bkill(argv: list[str]) -> int:
    state = _state()
    rc = 0
    linger = linger_for("MOLQ_FAKE_LSF_KILL", forced="-r" in argv)
    for raw in (a for a in argv if not a.startswith("-")):
        members = _members(state, raw)
        if not members:
            sys.stderr.write(f"Job <{raw}>: No matching job found\n")
            rc = 255
            continue
        outcomes = [delete(state, j["id"], None, linger=linger) for j in members]
        if all(o == "finished" for o in outcomes):
            sys.stderr.write(f"Job <{raw}>: Job has already finished\n")
            rc = 255
        else:
            print(f"Job <{raw}> is being terminated")
    return rc


def _wrap(line: str) -> list[str]:
    """bhist cuts lines at 80 columns and indents the rest by 21 spaces."""
    out = [line[:80]]
    rest = line[80:]
    while rest:
        out.append(" " * 21 + rest[:59])
        rest = rest[59:]
    return out


def bhist(argv: list[str]) -> int:
    state = _state()
    year = os.environ.get("LSB_DISPLAY_YEAR", "").upper() == "Y"
    fmt = "%a %b %e %H:%M:%S %Y" if year else "%a %b %e %H:%M:%S"
    ids = [a for a in argv if not a.startswith("-")]
    jobs = [j for raw in ids for j in _members(state, raw)]
    if not jobs:
        sys.stderr.write("No matching job found\n")
        return 255
    for k, job in enumerate(jobs):
        if k:
            print("-" * 78)
        print()
        at = lambda t: time.strftime(fmt, time.localtime(t))  # noqa: E731
        jobid = f"{job['array']}[{job['index']}]" if job.get("array") else job["id"]
        lines = [
            f"Job <{jobid}>, Job Name <{job['name']}>, User <{job['owner']}>, Project <default>, Command <{job['script']}>"
        ]
        lines.append(
            f"{at(job['submit'])}: Submitted from host <localhost>, to Queue <{job['queue']}>, CWD <{job['cwd']}>;"
        )
        if job.get("start"):
            lines.append(f"{at(job['start'])}: Starting (Pid {job.get('pid', 0)});")
        if job["state"] == "done":
            if job.get("deleted"):
                lines.append(f"{at(job['end'])}: Signal <KILL> requested by user or administrator <{job['owner']}>;")
                if job.get("start"):
                    lines.append(f"{at(job['end'])}: Exited with exit code 130. The CPU time used is 0.0 seconds;")
                lines.append(f"{at(job['end'])}: Completed <exit>; TERM_OWNER: job killed by owner.")
            elif job.get("walltime"):
                lines.append(f"{at(job['end'])}: Exited with exit code 140. The CPU time used is 0.0 seconds;")
                lines.append(
                    f"{at(job['end'])}: Completed <exit>; TERM_RUNLIMIT: job killed after reaching LSF run time limit."
                )
            elif job.get("signal"):
                lines.append(f"{at(job['end'])}: Exited by signal {job['signal']}. The CPU time used is 0.0 seconds;")
                lines.append(f"{at(job['end'])}: Completed <exit>.")
            elif job.get("exit") == 0:
                lines.append(f"{at(job['end'])}: Done successfully. The CPU time used is 0.0 seconds;")
            else:
                lines.append(
                    f"{at(job['end'])}: Exited with exit code {job['exit']}. The CPU time used is 0.0 seconds;"
                )
                lines.append(f"{at(job['end'])}: Completed <exit>.")
        for line in lines:
            print("\n".join(_wrap(line)))
        print()
        print(f"Summary of time in seconds spent in various states by  {at(time.time())}")
        print("  PEND     PSUSP    RUN      USUSP    SSUSP    UNKWN    TOTAL")
        print("  0        0        0        0        0        0        0")
    return 0
