"""Job commands: submit, list, status, cancel, history, inspect."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from molq.cli import _output as out
from molq.cli._attempts import newest_attempts
from molq.cli._errors import EXIT_OK, CliError, UsageError
from molq.errors import ConfigError

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.cli._session import Session
    from molq.models import JobDependency

_SHORT_ID = 8
#: inspect's label column: the same layout as the original molq's (``Scheduler ID:   123``).
_LABEL_WIDTH = 16
_STATES = (
    "created",
    "submitted",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "timed_out",
    "out_of_memory",
    "lost",
)


def _warn(message: str | None) -> None:
    if message:
        sys.stderr.write(f"molq: warning: {message}\n")


def _short(job_id: str, wide: bool = False) -> str:
    return job_id if wide else job_id[:_SHORT_ID]


# -- submit ------------------------------------------------------------------------
def _given(**fields: Any) -> dict[str, Any]:
    """Only the fields the user gave: the value types track which ones were
    explicit, so a profile's defaults still fill in the rest."""
    return {k: v for k, v in fields.items() if v is not None and v is not False}


#: The flag a user typed for each request field: errors name what they typed.
FLAGS = {
    "cpu_count": "--cpus",
    "task_count": "--tasks",
    "memory": "--mem",
    "time_limit": "--time",
    "gpu_count": "--gpus",
    "gpu_type": "--gpu-type",
    "partition": "--partition",
    "account": "--account",
    "qos": "--qos",
    "reservation": "--reservation",
    "priority": "--priority",
    "node_count": "--nodes",
    "exclusive_node": "--exclusive",
    "array_spec": "--array",
    "email": "--email",
    "env": "--env",
    "cwd": "--workdir",
    "job_name": "--name",
    "output_file": "--output",
    "error_file": "--error",
    "dependency": "--after...",
    "max_attempts": "--retries",
    "retry_on_exit_codes": "--retry-on-exit-code",
}


def _build(cls: Any, fields: dict[str, Any]) -> Any:
    if not fields:
        return None
    try:
        return cls(**fields)
    except (ValueError, TypeError) as exc:
        # Say which flag: the first field that fails on its own.
        for name, value in fields.items():
            try:
                cls(**{name: value})
            except (ValueError, TypeError):
                raise UsageError(f"{FLAGS.get(name, name)} {value}: {exc}") from None
        raise UsageError(str(exc)) from None


def _submit_kwargs(session: Session, args: Any) -> dict[str, Any]:
    # deferred: molq.types loads only when used
    from molq.types import JobExecution, JobResources, JobScheduling, Script

    kwargs: dict[str, Any] = {}
    if args.argv:
        kwargs["argv"] = list(args.argv)
    if args.command is not None:
        kwargs["command"] = args.command
    if args.script is not None:
        text = sys.stdin.read() if args.script == "-" else None
        try:
            kwargs["script"] = Script.inline(text) if text is not None else Script.path(args.script)
        except ValueError as exc:
            raise UsageError(f"--script: {exc}") from None
    kwargs["resources"] = _build(
        JobResources,
        _given(
            cpu_count=args.cpus,
            task_count=args.tasks,
            memory=args.mem,
            time_limit=args.time,
            gpu_count=args.gpus,
            gpu_type=args.gpu_type,
        ),
    )
    if args.partition and args.queue and args.partition != args.queue:
        raise UsageError("--partition and --queue name the same thing: give one (they are mutually exclusive)")
    kwargs["scheduling"] = _build(
        JobScheduling,
        _given(
            partition=args.partition or args.queue,
            account=args.account,
            qos=args.qos,
            reservation=args.reservation,
            priority=args.priority,
            node_count=args.nodes,
            exclusive_node=args.exclusive or None,
            array_spec=args.array,
            email=args.email,
        ),
    )
    env = dict(args.env) if args.env else None
    kwargs["execution"] = _build(
        JobExecution,
        _given(env=env, cwd=args.workdir, job_name=args.name, output_file=args.output, error_file=args.error),
    )
    if args.metadata:
        kwargs["metadata"] = dict(args.metadata)
    if args.job_dir_name is not None:
        kwargs["job_dir_name"] = args.job_dir_name
    for condition in ("after", "after_started", "after_success", "after_failure"):
        ids = getattr(args, condition)
        if ids:
            kwargs[condition] = [session.find(text).job_id for text in ids]
    if args.retry_on_exit_code and args.retries is None:
        raise UsageError("--retry-on-exit-code needs --retries N")
    if args.retries is not None:
        kwargs["retry"] = _retry_policy(session, args)
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout goes with --wait")
    return {k: v for k, v in kwargs.items() if v is not None}


def _retry_policy(session: Session, args: Any) -> Any:
    from dataclasses import replace  # deferred: dataclasses (with inspect) is slow to import

    from molq.models import RetryPolicy  # deferred: molq.models loads only when used

    dest = session.destination()
    base = session.profile(dest.profile).retry if dest.profile else None
    # As in the original molq, N is the number of attempts in all (0 too means no retry).
    fields: dict[str, Any] = {"max_attempts": max(1, args.retries)}
    if args.retry_on_exit_code:
        fields["retry_on_exit_codes"] = tuple(args.retry_on_exit_code)
    try:
        return replace(base, **fields) if base is not None else RetryPolicy(**fields)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--retries: {exc}") from None


def cmd_submit(session: Session, args: Any) -> int:
    if not (args.argv or args.command is not None or args.script is not None):
        message = (
            "nothing to run: give the command (molq submit [SCHEDULER] PROGRAM ARG..., "
            "or after '--'), or --command 'LINE', or --script FILE"
        )
        # `molq submit local` with no command exits 1, as in the original molq; a bare
        # `molq submit` is a usage error there and here.
        raise CliError(message) if args.namespace_form else UsageError(message)
    if (
        args.command is not None
        and args.script is not None
        or args.argv
        and (args.command is not None or args.script is not None)
    ):
        given = [n for n, v in (("a command", args.argv), ("--command", args.command), ("--script", args.script)) if v]
        raise UsageError(f"give only one of a command, --command or --script (got {' and '.join(given)})")
    if args.command is not None and "\n" in args.command:
        raise UsageError(
            "--command takes one line; for several lines use --script FILE, or --script - to read the script from stdin"
        )
    dest = session.destination()
    kwargs = _submit_kwargs(session, args)
    sub = session.submitor(dest)
    try:
        handle = sub.submit_job(**kwargs)
    except ConfigError as exc:
        fields = (getattr(exc, "context", None) or {}).get("unsupported_fields")
        if not fields:
            raise
        flags = ", ".join(FLAGS.get(name.rpartition(".")[2], name) for name in fields)  # resources.memory
        hint = " (it runs jobs on this machine, without resource controls)" if dest.scheduler == "local" else ""
        raise UsageError(
            f"the {dest.scheduler!r} scheduler cannot honour {flags}{hint}; "
            f"leave {'it' if len(fields) == 1 else 'them'} out"
        ) from None
    session.remember(dest)
    record = sub.get_job(handle.job_id)
    if args.wait:
        from molq.cli.watch import wait_and_report  # deferred: molq.cli.watch loads only when used

        if not args.json and not args.quiet:
            # The id first: a person who stops waiting still knows which job it was.
            _print_submitted(record)
        return wait_and_report(
            session, [handle.job_id], timeout=args.timeout, as_json=args.json, quiet=args.quiet, interrupt_hint=True
        )
    if args.json:
        out.print_json(out.record_json(record))
    elif args.quiet:
        print(record.job_id)
    else:
        _print_submitted(record)
    return EXIT_OK


def _print_submitted(record: JobRecord) -> None:
    print(
        f"Job submitted: {record.job_id} to cluster {record.cluster_name!r} "
        f"({record.scheduler}, scheduler id {record.scheduler_job_id or '-'})",
        flush=True,
    )


# -- list and history --------------------------------------------------------------
def _states(values: list[str] | None) -> set[str] | None:
    if not values:
        return None
    wanted = set()
    for value in values:
        for item in value.split(","):
            item = item.strip().lower()
            if item not in _STATES:
                raise UsageError(f"unknown state {item!r}; expected one of {', '.join(_STATES)}")
            wanted.add(item)
    return wanted


def _refresh_listed(session: Session, records: list[JobRecord]) -> None:
    """One refresh per cluster that has active jobs among ``records``."""
    if session.explicit:
        _warn(session.refresh(session.destination()))
        return
    seen: set[str] = set()
    for record in records:
        if not record.state.is_terminal and record.cluster_name not in seen:
            seen.add(record.cluster_name)
            _warn(session.refresh_for(record))


def _select(session: Session, args: Any, *, active_only: bool = False, per_job: bool = False) -> list[JobRecord]:
    """The records to show; ``per_job``: one per job (a retried job's newest
    attempt), before --state filters, so a job is shown by its current state."""
    wanted = _states(getattr(args, "state", None))
    limit = None if args.all else args.limit
    if args.namespace_form:
        # The original molq's `molq list slurm`: that namespace, refreshed first,
        # active jobs only unless --all (then every one, no limit).
        active_only, limit = active_only or not args.all, None
        args.refresh = True
    store = session.store
    cluster = session.destination().name if session.explicit else None

    def read(lim: int | None) -> list[JobRecord]:
        if cluster is None:
            return store.list_all_records(not active_only, lim)
        return store.list_records(cluster, not active_only, lim)

    if getattr(args, "refresh", False):
        # Only the clusters that have active jobs need a poll.
        active = store.list_all_records(False) if cluster is None else store.list_records(cluster, False)
        _refresh_listed(session, active)
    collapse = newest_attempts if per_job else list
    if wanted is None:
        return collapse(read(limit))
    # The store filters by cluster and activity only; state filters read all of them.
    records = [r for r in collapse(read(None)) if r.state.value in wanted]
    return records if limit is None else records[:limit]


def cmd_list(session: Session, args: Any) -> int:
    records = _select(session, args, active_only=args.active, per_job=True)
    if args.json:
        out.print_json([out.record_json(r) for r in records])
        return EXIT_OK
    if not records:
        print("No jobs.")
        return EXIT_OK

    color = out.use_color()
    now = time.time()
    rows = [
        (
            # A retried job is one row, under the id of the job as a whole.
            _short(r.root_job_id or r.job_id, args.wide),
            r.cluster_name,
            (r.state.value, out.STATE_STYLE.get(r.state.value)),
            str(r.attempt),
            r.scheduler_job_id or "-",
            out.timestamp(r.submitted_at, short=True),
            out.duration(out.elapsed(r, now)),
            r.command_display,
        )
        for r in records
    ]
    headers = ("JOB ID", "CLUSTER", "STATE", "ATT", "SCHED ID", "SUBMITTED", "ELAPSED", "COMMAND")
    width = None if args.wide else out.terminal_width()
    out.print_lines(out.table(headers, rows, color=color, width=width))
    if not args.all and len(records) == args.limit and sys.stdout.isatty():
        sys.stderr.write(f"(newest {args.limit}; --limit N or --all for more)\n")
    return EXIT_OK


def cmd_history(session: Session, args: Any) -> int:
    records = _select(session, args)
    if args.json:
        out.print_json([out.record_json(r) for r in records])
        return EXIT_OK
    if not records:
        print("No jobs.")
        return EXIT_OK
    color = out.use_color()
    rows = [
        (
            _short(r.job_id, args.wide),
            str(r.attempt),
            r.cluster_name,
            (r.state.value, out.STATE_STYLE.get(r.state.value)),
            r.scheduler_job_id or "-",
            out.timestamp(r.submitted_at),
            out.timestamp(r.finished_at),
            out.exit_text(r),
            r.command_display,
        )
        for r in records
    ]
    headers = ("JOB ID", "ATT", "CLUSTER", "STATE", "SCHED ID", "SUBMITTED", "FINISHED", "EXIT", "COMMAND")
    print(f"History: {len(records)} attempt{'s' if len(records) != 1 else ''}, newest first")
    out.print_lines(out.table(headers, rows, color=color, width=None if args.wide else out.terminal_width()))
    return EXIT_OK


# -- one job ---------------------------------------------------------------------------
def _fields(record: JobRecord, color: bool) -> list[tuple[str, str]]:
    fields = [
        ("Job", record.job_id),
        ("Cluster", f"{record.cluster_name} ({record.scheduler})"),
        ("State", out.state_text(record.state, color)),
        ("Attempt", str(record.attempt) + (f" (first: {record.root_job_id})" if record.attempt > 1 else "")),
        ("Scheduler ID", record.scheduler_job_id or "-"),
        ("Command", record.command_display),
        ("Submitted", out.timestamp(record.submitted_at)),
        ("Started", out.timestamp(record.started_at)),
        ("Finished", out.timestamp(record.finished_at)),
        ("Elapsed", out.duration(out.elapsed(record, time.time()))),
        ("Exit", out.exit_text(record)),
    ]
    if record.failure_reason:
        fields.append(("Reason", record.failure_reason))
    if record.state.is_terminal and not record.settled:  # a retry is pending
        when = out.timestamp(record.retry_due_at) if record.retry_due_at else "now"
        fields.append(("Retry", f"{record.retry_state}, due {when}"))
    fields.append(("Job dir", record.job_dir or "-"))
    return fields


def _print_fields(fields: list[tuple[str, str]], color: bool, *, width: int | None = None) -> None:
    """``Label:   value`` lines, values aligned (and kept on one line each)."""
    width = width or max(len(k) for k, _ in fields) + 3
    out.print_lines(f"{out.style((k + ':').ljust(width), 'bold', color)}{out.one_line(v)}" for k, v in fields)


def cmd_status(session: Session, args: Any) -> int:
    record = session.find(args.job)
    if not args.no_refresh:
        _warn(session.refresh_for(record))
    latest = session.store.get_latest_attempt_record(record.job_id) or record
    if args.json:
        out.print_json(out.record_json(latest))
        return EXIT_OK
    color = out.use_color()
    _print_fields(_fields(latest, color), color)
    return EXIT_OK


def cmd_cancel(session: Session, args: Any) -> int:
    records = [session.find(text) for text in args.jobs]  # every id checked before any cancel
    results = []
    for record in records:
        dest = session.destination_of(record)
        if dest is None:
            raise CliError(
                f"cannot cancel {record.job_id}: where cluster {record.cluster_name!r} lives is "
                f"unknown (give --profile, or --host and --scheduler)"
            )
        before = session.store.get_latest_attempt_record(record.job_id) or record
        session.submitor(dest).cancel_job(record.job_id)
        after = session.store.get_latest_attempt_record(record.job_id) or record
        results.append(after)
        if not args.json:
            if before.state.is_terminal and not before.settled:
                print(f"Cancelled the pending retry of job {after.job_id} (it ended {after.state.value})")
            elif before.state.is_terminal or after.state.value != "cancelled":
                print(f"Job {after.job_id} had already ended: {after.state.value}")
            else:
                print(f"Job {after.job_id} cancelled (was {before.state.value})")
    if args.json:
        out.print_json([out.record_json(r) for r in results])
    return EXIT_OK


def _edges(session: Session, rows: list[JobDependency], *, upstream: bool) -> list[dict[str, Any]]:
    """Edges (job_id waits for dependency_job_id) with the state of the job on
    the other side, and whether the parent's state satisfies the edge."""
    from molq.types import dependency_relation_state  # deferred: molq.types loads only when used

    ids = {row.dependency_job_id for row in rows} | {row.job_id for row in rows}
    records = {r.job_id: r for r in session.store.get_records(sorted(ids))}
    edges = []
    for row in rows:
        job_id, dep_id, dep_type, sched_dep = (
            row.job_id,
            row.dependency_job_id,
            row.dependency_type,
            row.scheduler_dependency,
        )
        parent = records.get(dep_id)
        other = parent if upstream else records.get(job_id)
        relation = None if parent is None else dependency_relation_state(dep_type, parent.state, parent.started_at)
        edges.append(
            {
                "job_id": job_id,
                "dependency_job_id": dep_id,
                "dependency_type": dep_type,
                "scheduler_dependency": sched_dep or None,
                "state": None if other is None else other.state.value,
                "relation": relation,
            }
        )
    return edges


def cmd_inspect(session: Session, args: Any) -> int:
    record = session.find(args.job)
    store = session.store
    if not args.no_refresh:
        _warn(session.refresh_for(record))
        record = store.get_record(record.job_id) or record
    transitions = store.get_transitions(record.job_id)
    family = store.get_retry_family(record.job_id)
    upstream = _edges(session, store.get_dependencies(record.job_id), upstream=True)
    downstream = _edges(session, store.get_dependents(record.job_id), upstream=False)
    if args.json:
        out.print_json(
            {
                "job": out.record_json(record),
                "transitions": [out.transition_json(t) for t in transitions],
                "retry_family": [out.record_json(r) for r in family],
                "dependencies": upstream,
                "dependents": downstream,
            }
        )
        return EXIT_OK
    color = out.use_color()
    fields = _fields(record, color)
    fields[6:6] = [("Type", record.command_type), ("Working dir", record.cwd or "-")]
    meta = record.metadata
    fields += [("Stdout", meta.get("molq.stdout_path", "-")), ("Stderr", meta.get("molq.stderr_path", "-"))]
    fields.append(("Profile", record.profile_name or "-"))
    user_meta = {k: v for k, v in meta.items() if not k.startswith("molq.")}
    if user_meta:
        fields.append(("Metadata", ", ".join(f"{k}={v}" for k, v in sorted(user_meta.items()))))
    _print_fields(fields, color, width=_LABEL_WIDTH)

    def bold(text: str) -> str:
        return out.style(text, "bold", color)

    lines = [bold("Retry Family:")]
    for r in family:
        mark = "  <- this" if r.job_id == record.job_id else ""
        lines.append(f"  attempt {r.attempt}: {r.job_id}  {out.state_text(r.state, color)}{mark}")
    marks = {"satisfied": "ok", "pending": "..", "impossible": "!!", None: "?"}
    lines.append(bold("Dependencies:"))
    lines.append("  Upstream:" + ("" if upstream else " -"))
    for e in upstream:
        sched = f"  scheduler={e['scheduler_dependency']}" if e["scheduler_dependency"] else ""
        lines.append(
            f"    [{marks[e['relation']]}] waits for {e['dependency_job_id']}  {e['dependency_type']}  "
            f"{e['state'] or '?'}{sched}"
        )
    lines.append("  Downstream:" + ("" if downstream else " -"))
    for e in downstream:
        lines.append(f"    needed by {e['job_id']}  {e['dependency_type']}  {e['state'] or '?'}")
    lines.append(bold("Timeline:"))
    for t in transitions:
        old = t.old_state.value if t.old_state is not None else "(new)"
        reason = f"  ({out.one_line(t.reason)})" if t.reason else ""
        lines.append(f"  {out.timestamp(t.timestamp)}  {old} -> {out.state_text(t.new_state, color)}{reason}")
    out.print_lines(lines)
    return EXIT_OK
