"""A typical user's script, type-checked with ``mypy --strict`` against the
installed molq (tests/typing/test_user_script_types.py). It is never run."""

from __future__ import annotations

from pathlib import Path

import molq as mq
from molq.callbacks import EventPayload
from molq.errors import MolqError, MolqTimeoutError


def on_done(payload: EventPayload) -> None:
    record = payload.record
    if record is not None and record.exit_code not in (None, 0):
        print(f"{record.job_id} failed with exit code {record.exit_code}")


def sweep(workdir: Path) -> list[mq.JobRecord]:
    cluster = mq.Cluster("hpc", "slurm", host="me@login.example.org")
    resources = mq.JobResources(cpu_count=4, memory="8G", time_limit="01:00:00")
    scheduling = mq.JobScheduling(partition="debug", array_spec="1-10")
    retry = mq.RetryPolicy(max_attempts=3)
    handles: list[mq.JobHandle] = []
    with mq.Submitor(cluster, defaults=mq.SubmitorDefaults(resources=resources)) as submitor:
        submitor.on_event(mq.EventType.JOB_COMPLETED, on_done)
        submitor.on_event("job_failed", on_done, scope="cluster")
        for i in range(10):
            handle = submitor.submit_job(
                argv=["python", "train.py", f"--seed={i}"],
                scheduling=scheduling,
                execution=mq.JobExecution(cwd=workdir, env={"SEED": str(i)}),
                metadata={"seed": str(i)},
                retry=retry,
            )
            handles.append(handle)
        gather = submitor.submit_job(
            script=mq.Script.inline("python gather.py\n"),
            after_success=[h.job_id for h in handles],
        )
        try:
            final = gather.wait(timeout=3600.0)
        except MolqTimeoutError as exc:
            print(f"still running: {exc}")
            return []
        except MolqError as exc:
            print(f"molq could not finish: {exc}")
            return []
        if final.state is mq.JobState.SUCCEEDED:
            print(final.finished_at, final.metadata.get("seed"))
        running = [r for r in submitor.list_jobs() if r.state is mq.JobState.RUNNING]
        print(len(running), [e.scheduler_job_id for e in cluster.get_queue()])
        print(submitor.get_transitions(gather.job_id)[-1].new_state.value)
        logs: dict[str, Path] = submitor.fetch_logs(gather.job_id)
        print(sorted(logs))
        return submitor.watch_jobs([h.job_id for h in handles], timeout=60.0)
