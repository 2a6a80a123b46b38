"""Fake PBS Professional commands: qsub, qstat, qdel, tracejob.

They print what PBS Pro documents (see crates/molq-core/tests/fixtures/pbs/
README.md): ``qsub`` -> ``123.fakepbs`` / ``123[].fakepbs``; ``qstat -f -F json
[-x] [-t]``; the default table; ``tracejob``; the error lines and exit codes
of unknown (153) and finished (35) jobs. State: ``MOLQ_FAKE_PBS_DIR``.
``MOLQ_FAKE_PBS_HISTORY`` (seconds, default one day) is how long finished
jobs stay in the server's history. ``MOLQ_FAKE_PBS_DELETE`` (see
``_engine.linger_for``) keeps a deleted running job in state ``E`` until its
host reports, or until ``qdel -W force``.
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import sys
import time

from _engine import Job, State, delete, linger_for, log, start_runner

SERVER = "fakepbs"
UNKNOWN_RC, FINISHED_RC = 153, 35


def _state() -> State:
    return State.from_env("MOLQ_FAKE_PBS_DIR")


def _bare(job_id: str) -> str:
    return job_id.split(".", 1)[0]


def _ctime(t: float | None) -> str | None:
    return None if t is None else time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(t))


def _options(script_text: str, argv: list[str]) -> tuple[dict[str, list[str]], str]:
    """Options from #PBS lines, then from the command line; the script path last."""
    words: list[str] = []
    for line in script_text.splitlines()[1:]:
        if line.startswith("#PBS"):
            words += shlex.split(line[4:])
        elif line.strip() and not line.startswith("#"):
            break
    script = argv[-1]
    words += argv[:-1]
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        flag = words[i]
        if flag in ("-h", "-n"):
            opts.setdefault(flag, []).append("")
            i += 1
            continue
        opts.setdefault(flag, []).append(words[i + 1])
        i += 2
    return opts, script


def qsub(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: qsub [options] script\n")
        return 2
    state = _state()
    script = argv[-1]
    opts, script = _options(open(script).read(), argv)
    name = opts.get("-N", [os.path.basename(script)])[-1]
    if any(c.isspace() for c in name):
        sys.stderr.write("qsub: illegal -N value\n")
        return 1
    n = state.new_id()
    # PBS spools a copy of the script at submission, as does this fake
    spooled = state.root / "scripts" / f"{n}.sh"
    spooled.parent.mkdir(exist_ok=True)
    spooled.write_text(open(script).read())
    script = str(spooled)
    limits = dict(x.split("=", 1) for v in opts.get("-l", []) for x in [v] if "=" in x)
    walltime = None
    if "walltime" in limits:
        h, m, s = (int(p) for p in limits["walltime"].split(":"))
        walltime = h * 3600 + m * 60 + s
    deps = []
    for v in opts.get("-W", []):
        if v.startswith("depend="):
            for group in v[len("depend=") :].split(","):
                kind, *ids = group.split(":")
                cond = {"afterok": "ok", "afternotok": "notok", "afterany": "any", "after": "started"}[kind]
                deps += [[cond, _bare(i)] for i in ids]
    home = os.path.expanduser("~")
    # -v a=b,c=d: kept in the job's Variable_List and set in its environment
    variables = dict(
        pair.split("=", 1) if "=" in pair else (pair, os.environ.get(pair, ""))
        for value in opts.get("-v", [])
        for pair in value.split(",")
        if pair
    )
    variables = {"PBS_O_HOME": home, **variables}
    base: Job = {
        "name": name,
        "variables": variables,
        "owner": f"{getpass.getuser()}@localhost",
        "queue": opts.get("-q", ["workq"])[-1],
        "script": script,
        "cwd": home,
        "state": "queued",
        "held": "-h" in opts,
        "submit": time.time(),
        "start": None,
        "end": None,
        "exit": None,
        "deps": deps,
        "never_satisfied": "delete",
        "walltime_limit": walltime,
        "log": [],
    }
    out = opts.get("-o", [f"{home}/{name}.o{n}"])[-1]
    err = opts.get("-e", [f"{home}/{name}.e{n}"])[-1]
    array = opts.get("-J", [None])[-1]
    if array is None:
        env = {**variables, "PBS_JOBID": f"{n}.{SERVER}", "PBS_JOBNAME": name}
        job = dict(base, id=str(n), out=out, err=err, env=env)
        log(
            job,
            "S",
            f"Job Queued at request of {job['owner']}, owner = {job['owner']}, job name = {name}, queue = {job['queue']}",
        )
        with state.locked():
            state.put(job)
        start_runner(state, job["id"])
        print(f"{n}.{SERVER}")
        return 0
    span, _, step = array.split("%")[0].partition(":")
    lo, hi = (int(x) for x in span.split("-"))
    indices = list(range(lo, hi + 1, int(step or 1)))
    with state.locked():
        state.put(dict(base, id=f"{n}[]", parent=True, indices=indices, out=out, err=err))
        for i in indices:
            env = {
                **variables,
                "PBS_JOBID": f"{n}[{i}].{SERVER}",
                "PBS_ARRAY_ID": f"{n}[].{SERVER}",
                "PBS_ARRAY_INDEX": str(i),
                "PBS_JOBNAME": name,
            }
            sub = dict(
                base,
                id=f"{n}[{i}]",
                index=i,
                array=f"{n}[]",
                env=env,
                out=out.replace("^array_index^", str(i)),
                err=err.replace("^array_index^", str(i)),
            )
            state.put(sub)
    for i in indices:
        start_runner(state, f"{n}[{i}]")
    print(f"{n}[].{SERVER}")
    return 0


def _subjobs(state: State, parent: Job) -> list[Job]:
    n = parent["id"][:-2]
    return [j for j in (state.get(f"{n}[{i}]") for i in parent["indices"]) if j]


def _exit_status(job: Job) -> int | None:
    if job.get("walltime"):
        return -29
    if job.get("deleted") and job.get("exit") is None and job.get("start"):
        return 271
    if job.get("signal"):
        return 256 + job["signal"]
    return job.get("exit")


def _letter(state: State, job: Job) -> str:
    if job.get("parent"):
        subs = _subjobs(state, job)
        if all(s["state"] == "done" for s in subs):
            return "F"
        return "B" if any(s["state"] != "queued" for s in subs) else "Q"
    if job["state"] == "done":
        return "X" if job.get("array") else "F"
    if job["state"] == "running":
        return "R"
    if job["state"] == "exiting":
        return "E"
    return "H" if job.get("held") else "Q"


def _attributes(state: State, job: Job) -> dict:
    letter = _letter(state, job)
    a: dict = {
        "Job_Name": job["name"],
        "Job_Owner": job["owner"],
        "job_state": letter,
        "queue": job["queue"],
        "server": SERVER,
        "ctime": _ctime(job["submit"]),
        "qtime": _ctime(job["submit"]),
        "mtime": _ctime(job.get("end") or job.get("start") or job["submit"]),
        "Error_Path": f"localhost:{job['err']}",
        "Output_Path": f"localhost:{job['out']}",
        "Resource_List": {"ncpus": 1, "nodect": 1, "select": "1:ncpus=1"},
        "Variable_List": job.get("variables", {}),
    }
    if job.get("parent"):
        subs = _subjobs(state, job)
        a["array"] = "True"
        a["array_indices_submitted"] = f"{job['indices'][0]}-{job['indices'][-1]}"
        if letter == "F":
            codes = [_exit_status(s) for s in subs]
            a["Exit_status"] = 2 if any(s.get("deleted") for s in subs) else (0 if all(c == 0 for c in codes) else 1)
            a["substate"] = 92
        return a
    if job.get("start"):
        a["stime"] = _ctime(job["start"])
    if letter in ("F", "X"):
        a["obittime"] = _ctime(job["end"])
        code = _exit_status(job)
        if code is not None:
            a["Exit_status"] = code
        a["substate"] = 91 if job.get("deleted") else (92 if code == 0 else 93)
    elif letter == "R":
        a["substate"] = 42
    elif letter == "E":
        a["substate"] = 50
    else:
        a["substate"] = 20 if letter == "H" else 10
        a["comment"] = (
            "Not Running: waiting for dependencies"
            if job.get("deps")
            else "Not Running: held"
            if letter == "H"
            else "Not Running: no resources"
        )
    if job.get("array"):
        a["array_id"] = f"{job['array']}.{SERVER}"
        a["array_index"] = job["index"]
    return a


def _forgotten(job: Job) -> bool:
    keep = float(os.environ.get("MOLQ_FAKE_PBS_HISTORY", "86400"))
    return job["state"] == "done" and job.get("end") is not None and time.time() - job["end"] > keep


def qstat(argv: list[str]) -> int:
    state = _state()
    full, history, tasks, json_out = "-f" in argv, "-x" in argv, "-t" in argv, False
    ids, i = [], 0
    while i < len(argv):
        if argv[i] == "-F":
            json_out = argv[i + 1] == "json"
            i += 2
            continue
        if not argv[i].startswith("-"):
            ids.append(argv[i])
        i += 1
    shown: list[Job] = []
    rc = 0
    if ids:
        for raw in ids:
            job = state.get(_bare(raw))
            finished = job is not None and (_letter(state, job) in ("F", "X"))
            if (
                job is None
                or _forgotten(job)
                or (finished and job.get("parent") and _forgotten(_subjobs(state, job)[-1]))
            ):
                sys.stderr.write(f"qstat: Unknown Job Id {_bare(raw)}.{SERVER}\n")
                rc = UNKNOWN_RC
                continue
            if finished and not history:
                sys.stderr.write(
                    f"qstat: {job['id']}.{SERVER} Job has finished, use -x or -H to obtain historical job information\n"
                )
                rc = FINISHED_RC
                continue
            shown.append(job)
            if job.get("parent") and tasks:
                shown += _subjobs(state, job)
    else:
        for job in state.all():
            if job.get("array") and not tasks:
                continue
            if _forgotten(job) or (_letter(state, job) in ("F", "X") and not history):
                continue
            shown.append(job)
    if full and json_out:
        doc: dict = {"timestamp": int(time.time()), "pbs_version": "2022.1.1", "pbs_server": SERVER}
        if shown:
            doc["Jobs"] = {f"{j['id']}.{SERVER}": _attributes(state, j) for j in shown}
        print(json.dumps(doc, indent=4))
    elif full:
        for j in shown:
            print(f"Job Id: {j['id']}.{SERVER}")
            for k, v in _attributes(state, j).items():
                if not isinstance(v, dict):
                    print(f"    {k} = {v}")
            print()
    elif shown:
        print("Job id            Name             User              Time Use S Queue")
        print("----------------  ---------------- ----------------  -------- - -----")
        for j in shown:
            name = j["name"] if len(j["name"]) <= 16 else j["name"][:15] + "*"
            print(
                f"{j['id'] + '.' + SERVER:<17} {name:<16} {j['owner'].split('@')[0]:<16}  {'0':>8} {_letter(state, j)} {j['queue']}"
            )
    return rc


def qdel(argv: list[str]) -> int:
    state = _state()
    rc = 0
    forced = any(a == "force" and argv[i - 1] == "-W" for i, a in enumerate(argv) if i)
    linger = linger_for("MOLQ_FAKE_PBS_DELETE", forced)
    ids = [a for i, a in enumerate(argv) if not a.startswith("-") and (i == 0 or argv[i - 1] != "-W")]
    for raw in ids:
        job = state.get(_bare(raw))
        targets = _subjobs(state, job) if job and job.get("parent") else [job] if job else []
        if not targets:
            sys.stderr.write(f"qdel: Unknown Job Id {_bare(raw)}.{SERVER}\n")
            rc = UNKNOWN_RC
            continue
        outcomes = [delete(state, t["id"], None, linger=linger) for t in targets]
        if all(o == "finished" for o in outcomes):
            sys.stderr.write(f"qdel: Job has finished {_bare(raw)}.{SERVER}\n")
            rc = FINISHED_RC
    return rc


def tracejob(argv: list[str]) -> int:
    state = _state()
    ids = [a for i, a in enumerate(argv) if not a.startswith("-") and (i == 0 or argv[i - 1] != "-n")]
    for raw in ids:
        print(f"\nJob: {_bare(raw)}.{SERVER}\n")
        job = state.get(_bare(raw))
        if job is None:
            sys.stderr.write(f"tracejob: Could not find job {_bare(raw)}.{SERVER} in the logs\n")
            continue
        lines = [(t, src, msg) for t, src, msg in job.get("log", [])]
        code = _exit_status(job)
        if job["state"] == "done" and code is not None:
            lines.append((job["end"], "S", f"Exit_status={code} resources_used.cput=00:00:00"))
            start = f"start={int(job['start'])} " if job.get("start") else ""
            lines.append(
                (
                    job["end"],
                    "A",
                    f"user={job['owner'].split('@')[0]} jobname={job['name']} queue={job['queue']} {start}end={int(job['end'])} Exit_status={code}",
                )
            )
        if job.get("walltime"):
            lines.append((job["end"], "M", "walltime exceeded limit"))
        for t, src, msg in sorted(lines, key=lambda x: x[0]):
            print(f"{time.strftime('%m/%d/%Y %H:%M:%S', time.localtime(t))}  {src:<4} {msg}")
    return 0
