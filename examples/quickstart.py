"""molq's main job on the embedded default: a local Cluster and the SQLite store.

Submits a few jobs, waits for them, and prints their records.
"""

import molq as mq


def main() -> None:
    cluster = mq.Cluster("quickstart", "local")
    with mq.Submitor(target=cluster) as submitor:
        handles = [
            submitor.submit_job(argv=["echo", "hello from molq"]),
            submitor.submit_job(command="sleep 0.2 && echo slept"),
            submitor.submit_job(script=mq.Script.inline("echo step 1\necho step 2\nexit 3")),
        ]
        for handle in handles:
            record = handle.wait(timeout=60)
            print(
                f"{record.job_id}  {record.state.value:<9}  exit={record.exit_code}  "
                f"pid={record.scheduler_job_id}  {record.command_display!r}"
            )
            print(f"    stdout: {open(record.metadata['molq.stdout_path']).read().strip()!r}")
        print(f"store: {submitor.store.path}")


if __name__ == "__main__":
    main()
