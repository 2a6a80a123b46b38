"""Setup and housekeeping: queue, cleanup, daemon, clusters, workspace."""

from __future__ import annotations

import enum
import os
import sys
from typing import TYPE_CHECKING, Any

from molq.cli import EXIT_OK, CliError, UsageError
from molq.cli import _output as out

if TYPE_CHECKING:
    from molq.cli._session import Session


def cmd_queue(session: Session, args: Any) -> int:
    dest = session.destination()
    cluster = session.submitor(dest).target
    entries = cluster.get_queue(user=args.user)
    # Name molq's own jobs: scheduler id -> molq id, from the cluster's active jobs.
    ours = {job[1]: job[0] for job in session.store.active_jobs(dest.name) if job[1]}
    if args.json:
        out.print_json([out.queue_json(e, ours.get(e.scheduler_job_id)) for e in entries])
        return EXIT_OK
    if not entries:
        print(f"The {dest.scheduler} queue of {dest.where} is empty.")
        return EXIT_OK
    color = out.use_color()
    rows = [
        (
            e.scheduler_job_id,
            ours.get(e.scheduler_job_id, "-")[:8],
            (e.state.value, out.STATE_STYLE.get(e.state.value)),
            e.raw_state or "-",
            e.user or "-",
            e.partition or "-",
            out.timestamp(e.submit_time, short=True),
            out.timestamp(e.start_time, short=True),
            e.name or "-",
        )
        for e in entries
    ]
    headers = ("SCHED ID", "MOLQ ID", "STATE", "NATIVE", "USER", "PARTITION", "SUBMITTED", "STARTED", "NAME")
    out.print_lines(out.table(headers, rows, color=color, width=out.terminal_width()))
    return EXIT_OK


def cmd_cleanup(session: Session, args: Any) -> int:
    from dataclasses import replace  # deferred: dataclasses (with inspect) is slow to import

    sub = session.submitor()
    policy = None
    overrides = {
        k: v
        for k, v in (
            ("keep_job_dirs_for_days", args.keep_dirs_days),
            ("keep_terminal_records_for_days", args.keep_records_days),
        )
        if v is not None
    }
    if overrides:
        from molq.models import RetentionPolicy  # deferred: molq.models loads only when used

        dest = session.destination()
        base = session.profile(dest.profile).retention if dest.profile else RetentionPolicy()
        try:
            policy = replace(base, **overrides)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    result = sub.cleanup_jobs(dry_run=args.dry_run, retention_policy=policy)
    dirs, records = result.get("job_dirs", []), result.get("records", [])
    if args.json:
        out.print_json({"dry_run": args.dry_run, "cluster": sub.cluster_name, "job_dirs": dirs, "records": records})
        return EXIT_OK
    verb = "would remove" if args.dry_run else "removed"
    print(f"Cluster {sub.cluster_name!r}: {verb} {len(dirs)} job dir(s), {len(records)} record(s)")
    print(f"Job dirs: {len(dirs)}")
    print(f"Records:  {len(records)}")
    for path in dirs:
        print(f"  dir: {path}")
    for job_id in records:
        print(f"  record: {job_id}")
    return EXIT_OK


def cmd_daemon(session: Session, args: Any) -> int:
    dest = session.destination()
    sub = session.submitor(dest)
    if not args.once:
        sys.stderr.write(
            f"molq daemon: refreshing cluster {dest.name!r} ({dest.scheduler} on {dest.where}) "
            f"every {args.interval:g} s; Ctrl-C or SIGTERM stops it\n"
        )
    import logging  # deferred: logging is slow to import; only when it logs

    # The daemon's own warnings (a scheduler that does not answer) are its output.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s molq daemon: %(message)s")
    sub.run_daemon(once=args.once, interval=args.interval, run_cleanup=not args.skip_cleanup)
    return EXIT_OK


# -- clusters ---------------------------------------------------------------------------
def _cluster_rows(session: Session, args: Any) -> list[dict[str, Any]]:
    from molq.ssh_config import list_ssh_hosts, ssh_alias_names  # deferred: molq.ssh_config loads only when used

    rows: list[dict[str, Any]] = []
    for name, profile in sorted(session.config.profiles.items()):
        rows.append(
            {
                "name": profile.cluster_name,
                "source": f"profile:{name}",
                "scheduler": profile.scheduler,
                "target": profile.host or "(local)",
            }
        )
    if args.resolve:
        for host in list_ssh_hosts(getattr(args, "ssh_config", None)):
            rows.append({"name": host.alias, "source": "ssh_config", "scheduler": None, "target": host.target})
    else:
        for alias in ssh_alias_names(getattr(args, "ssh_config", None)):
            rows.append({"name": alias, "source": "ssh_config", "scheduler": None, "target": alias})
    return rows


def cmd_clusters_list(session: Session, args: Any) -> int:
    rows = _cluster_rows(session, args)
    if args.json:
        out.print_json(rows)
        return EXIT_OK
    if not rows:
        print("No clusters discovered: no profiles in the config and no hosts in ~/.ssh/config.")
        return EXIT_OK
    table = [(r["name"], r["source"], r["scheduler"] or "?", r["target"]) for r in rows]
    out.print_lines(out.table(("NAME", "SOURCE", "SCHEDULER", "TARGET"), table, color=out.use_color()))
    return EXIT_OK


def cmd_clusters_show(session: Session, args: Any) -> int:
    profiles = session.config.profiles
    profile = profiles.get(args.name) or next((p for p in profiles.values() if p.cluster_name == args.name), None)
    if profile is not None:
        info: dict[str, Any] = {
            "source": f"profile:{profile.name}",
            "profile": profile.name,
            "cluster": profile.cluster_name,
            "scheduler": profile.scheduler,
            "host": profile.host,
            "jobs_dir": profile.jobs_dir,
            "scheduler_options": _plain(profile.scheduler_options),
            "defaults": _plain(profile.defaults),
            "retry": _plain(profile.retry),
            "retention": _plain(profile.retention),
        }
    else:
        from molq.ssh_config import resolve_ssh_host, ssh_alias_names  # deferred: molq.ssh_config loads only when used

        if args.name not in ssh_alias_names(getattr(args, "ssh_config", None)):
            raise CliError(f"no profile or ~/.ssh/config host named {args.name!r} (see 'molq clusters list')")
        try:
            host = resolve_ssh_host(args.name, config_path=getattr(args, "ssh_config", None))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot resolve ssh host {args.name!r}: {exc}") from None
        info = {
            "source": "ssh_config",
            "alias": host.alias,
            "hostname": host.hostname,
            "user": host.user,
            "port": host.port,
            "identity_file": host.identity_file,
            "proxy_jump": host.proxy_jump,
            "forward_agent": host.forward_agent,
            "target": host.target,
        }
    if args.json:
        out.print_json(info)
        return EXIT_OK
    color = out.use_color()
    is_profile = info["source"] != "ssh_config"
    title, name = ("Profile", info["profile"]) if is_profile else ("SSH alias", info["alias"])
    print(f"{out.style(title + ':', 'bold', color)} {name}")
    shown = {k: v for k, v in info.items() if k not in ("source", "profile", "alias") and v not in (None, {})}
    width = max((len(_LABELS.get(k, k)) for k in shown), default=0) + 2
    for key, value in shown.items():
        text = value if isinstance(value, str) else _flat(value)
        print(f"  {(_LABELS.get(key, key) + ':').ljust(width)} {out.one_line(text)}")
    return EXIT_OK


#: clusters show: field -> label (the original molq's labels where it had the field).
_LABELS = {
    "cluster": "Cluster",
    "scheduler": "Scheduler",
    "host": "Host",
    "jobs_dir": "Jobs dir",
    "scheduler_options": "Options",
    "defaults": "Defaults",
    "retry": "Retry",
    "retention": "Retention",
    "hostname": "Hostname",
    "user": "User",
    "port": "Port",
    "identity_file": "IdentityFile",
    "proxy_jump": "ProxyJump",
    "forward_agent": "ForwardAgent",
    "target": "Target",
}


def _plain(value: Any) -> Any:
    """A dataclass tree as JSON-ready data (Memory/Duration as text, None dropped)."""
    import dataclasses  # deferred: dataclasses (with inspect) is slow to import

    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__name__ in ("Memory", "Duration"):
            return str(value)
        items = {
            f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")
        }
        return {k: v for k, v in items.items() if v not in (None, (), [], {})}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _flat(value: Any, prefix: str = "") -> str:
    if isinstance(value, dict):
        return ", ".join(
            _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else f"{prefix}{k}={_flat(v)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    return str(value)


# -- workspace --------------------------------------------------------------------------
def _workspace(session: Session, path: str) -> Any:
    cluster_name = getattr(session.args, "cluster", None)
    if (
        cluster_name
        and not session.explicit_host
        and session.destination_known(cluster_name) is None
        and not session.ssh_alias(cluster_name)
    ):
        # A workspace lives on a machine: a bare name must say which (the original molq's rule).
        from molq.ssh_config import ssh_alias_names  # deferred: molq.ssh_config loads only when used

        known = ", ".join(ssh_alias_names(getattr(session.args, "ssh_config", None))) or "none"
        raise UsageError(
            f"--cluster {cluster_name!r} is not a Host alias in ~/.ssh/config, nor a profile's "
            f"cluster_name. Known aliases: {known}"
        )
    dest = session.destination()
    cluster = session.submitor(dest).target
    return dest, cluster.get_workspace(dest.name, path=path)


def cmd_workspace_sync(session: Session, args: Any) -> int:
    local = os.path.abspath(os.path.expanduser(args.local))
    dest, ws = _workspace(session, args.path)
    exclude = tuple(args.exclude or ())
    direction = "pull" if args.pull else "push"
    if not args.pull and not os.path.isdir(local):
        raise UsageError(f"{args.local!r} is not a directory")
    if args.delete:
        # The original molq accepted --delete and removed nothing; so does this one, saying so.
        sys.stderr.write("molq: warning: --delete is ignored: files the source lacks are left in place\n")
    info = {
        "direction": direction,
        "local": local,
        "cluster": dest.name,
        "host": dest.host,
        "path": ws.path,
        "dry_run": args.dry_run,
        "exclude": list(exclude),
    }
    if not args.dry_run:
        if args.pull:
            if not ws.exists():
                raise CliError(f"{ws.path} does not exist on {dest.where}")
            os.makedirs(local, exist_ok=True)
            ws.download("", local, recursive=True, exclude=exclude)
        else:
            ws.ensure()
            ws.upload(local, "", recursive=True, exclude=exclude)
    if args.json:
        out.print_json(info)
        return EXIT_OK
    arrow = f"{ws.path} ({dest.where}) -> {local}" if args.pull else f"{local} -> {ws.path} ({dest.where})"
    print(f"{'Would ' + direction if args.dry_run else direction.capitalize() + 'ed'} {arrow}")
    return EXIT_OK


def cmd_workspace_list(session: Session, args: Any) -> int:
    dest, ws = _workspace(session, args.path)
    names = sorted(ws.list_files())
    if args.json:
        out.print_json({"cluster": dest.name, "host": dest.host, "path": ws.path, "entries": names})
        return EXIT_OK
    if not names:
        print(f"(empty) {ws.path} has no entries, or does not exist")
    for name in names:
        print(name)
    return EXIT_OK
