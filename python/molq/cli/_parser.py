"""The argparse tree of ``molq``. Handlers are named as strings and imported
only when their command runs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from molq import __version__
from molq.cli import _grammar
from molq.cli._grammar import SCHEDULERS

_DESCRIPTION = """\
Submit and track batch jobs on this machine or a cluster (local, Slurm, PBS, LSF, SGE).

The destination is picked by --profile (config.toml under MOLQ_HOME), --host (an SSH
target or ~/.ssh/config alias) and --scheduler; --cluster names it. A --cluster
name alone is a local cluster of that name (a namespace in the job store).
Job ids may be shortened to any unique prefix. --json prints stable records for scripts.
The original molq's grammar works too: a scheduler kind or profile first, as in
'molq submit local echo hello', 'molq list slurm --all', 'molq status JOB slurm'.
"""

_EPILOG = """\
commands:
  jobs      submit, list, status, logs, cancel, watch, inspect, history
  live      monitor (full-screen), watch --all, queue
  setup     clusters, workspace, daemon, cleanup, plugins, import-store

exit codes: 0 ok, 1 job failed or not found, 2 usage error, 3 timed out, 130 interrupted.
See docs/cli.md for every command and the --json schema."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _count(text: str) -> int:
    value = _positive(text) if text != "0" else 0
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _exit_code(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an exit code (integer), got {text!r}") from None


def _destination_options(parser: argparse.ArgumentParser, suppress: bool, short_profile: bool = True) -> None:
    """The global options. Sub-commands take them too (``molq list --cluster x``),
    with SUPPRESS defaults so a sub-command never resets a value given before it."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("destination and store")
    group.add_argument(
        "--cluster",
        "-c",
        metavar="NAME",
        default=default,
        help="cluster name (a namespace in the store); an ~/.ssh/config Host alias is "
        "reached over SSH; default: the host, or 'local' ('cli_KIND' after a KIND positional)",
    )
    group.add_argument(
        *(("--profile", "-p") if short_profile else ("--profile",)),
        metavar="NAME",
        default=default,
        help="a [profiles.NAME] table of config.toml",
    )
    group.add_argument(
        "--host",
        metavar="HOST",
        default=default,
        help="SSH target (user@host or a ~/.ssh/config alias); default: this machine",
    )
    group.add_argument(
        "--scheduler",
        "-s",
        choices=SCHEDULERS,
        default=default,
        help="scheduler kind (default: local, or the profile's)",
    )
    group.add_argument(
        "--ssh-config",
        metavar="PATH",
        default=default,
        help="ssh client config to read --host from (default: ssh's own, ~/.ssh/config)",
    )
    group.add_argument(
        "--db", metavar="PATH", default=default, help="job store file (default: $MOLQ_HOME/jobs.db, ~/.molq/jobs.db)"
    )
    group.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $MOLQ_HOME/config.toml; if absent, the original molq's "
        "~/.molcrafts/molq/config/config.yaml; docs/configuration.md)",
    )


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        nargs="?",
        metavar="SCHEDULER|PROFILE",
        default=None,
        help="a scheduler kind or profile name (the original molq's grammar)",
    )


def _json(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON records (schema: docs/cli.md)")


class _Builder:
    def __init__(self, subparsers: Any) -> None:
        self.subparsers = subparsers
        self.made: list[argparse.ArgumentParser] = []

    def add(
        self, name: str, handler: str, help: str, *, parent: Any = None, target: bool = False, **kw: Any
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = (parent or self.subparsers).add_parser(name, help=help, description=help, **kw)
        sub.set_defaults(handler=handler, command_name=name)
        self.made.append(sub)
        if target:
            # The original molq's grammar: `molq list slurm`, `molq status JOB slurm`.
            sub.add_argument(
                "target",
                nargs="?",
                metavar="SCHEDULER|PROFILE",
                default=None,
                help=f"a scheduler kind ({', '.join(SCHEDULERS)}) or a profile name; "
                "a kind alone names the cluster 'cli_KIND', as the original molq did",
            )
        return sub

    def finish(self) -> None:
        # Added last so each command's help lists its own options first.
        for sub in self.made:
            # In `workspace`, -p is --path (as in the original molq); --profile stays.
            _destination_options(sub, suppress=True, short_profile=not sub.prog.startswith("molq workspace"))


#: The submit parser of the last tree built (the grammar checks read its options).
_SUBMIT: list[argparse.ArgumentParser] = []


def _submit(b: _Builder) -> None:
    p = b.add(
        "submit",
        "molq.cli.jobs:cmd_submit",
        "submit a job",
        usage="molq submit [SCHEDULER|PROFILE] [options] PROGRAM [ARG...]\n"
        "       molq submit [SCHEDULER|PROFILE] [options] -- PROGRAM [ARG...]\n"
        "       molq submit [options] --command 'SHELL LINE'\n"
        "       molq submit [options] --script FILE|-",
        epilog="A first word that is a scheduler kind (local, slurm, pbs, lsf, sge) or a profile\n"
        "name picks the destination (molq submit local echo hello); the rest is the\n"
        "command. Put the command after -- when it has options of its own.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    what = p.add_argument_group("what to run (one of)")
    what.add_argument(
        "argv",
        nargs="*",
        metavar="PROGRAM ARG",
        help="[SCHEDULER|PROFILE] program and arguments; put the program after -- when an argument starts with '-'",
    )
    what.add_argument("--command", metavar="LINE", help="a shell command line")
    what.add_argument("--script", metavar="FILE", help="a script file on this machine ('-': read it from stdin)")
    res = p.add_argument_group("resources")
    res.add_argument("--cpus", type=_positive, metavar="N", help="CPUs (per task with --tasks)")
    res.add_argument("--tasks", type=_positive, metavar="N", help="tasks (MPI ranks)")
    res.add_argument("--mem", metavar="SIZE", help="memory, e.g. 512M, 32G")
    res.add_argument("--time", metavar="DURATION", help="time limit, e.g. 2h, 01:30:00, 1-00:00:00")
    res.add_argument("--gpus", type=_count, metavar="N", help="GPUs")
    res.add_argument("--gpu-type", metavar="TYPE", help="GPU type, e.g. a100")
    sch = p.add_argument_group("scheduling")
    sch.add_argument("--partition", metavar="NAME", help="partition (queue)")
    sch.add_argument("--queue", metavar="NAME", help="the same as --partition (PBS, LSF and SGE call it a queue)")
    sch.add_argument("--account", metavar="NAME")
    sch.add_argument("--qos", metavar="NAME")
    sch.add_argument("--reservation", metavar="NAME")
    sch.add_argument("--priority", metavar="VALUE")
    sch.add_argument("--nodes", type=_positive, metavar="N", help="node count")
    sch.add_argument("--exclusive", action="store_true", help="whole nodes, not shared")
    sch.add_argument("--array", metavar="SPEC", help="array spec, e.g. 0-9 or 1-100%%10")
    sch.add_argument("--email", metavar="ADDRESS")
    for flag, condition in (
        ("--after", "after"),
        ("--after-started", "after_started"),
        ("--after-success", "after_success"),
        ("--after-failure", "after_failure"),
    ):
        sch.add_argument(
            flag,
            action="append",
            metavar="JOB",
            dest=condition,
            help=f"run {condition.replace('_', ' ')} molq job JOB (repeatable; prefixes ok)",
        )
    ex = p.add_argument_group("execution")
    ex.add_argument("--name", metavar="NAME", help="job name")
    ex.add_argument("--workdir", metavar="DIR", help="working directory (on the cluster)")
    ex.add_argument("--output", metavar="PATH", help="stdout file (default: in the job directory)")
    ex.add_argument("--error", metavar="PATH", help="stderr file (default: in the job directory)")
    ex.add_argument("--env", type=_pair, action="append", metavar="K=V", help="environment (repeatable)")
    ex.add_argument("--job-dir-name", metavar="NAME", help="name of the job directory (default: the job id)")
    ex.add_argument("--metadata", type=_pair, action="append", metavar="K=V", help="metadata (repeatable)")
    rt = p.add_argument_group("retry")
    rt.add_argument(
        "--retries",
        "--max-attempts",
        dest="retries",
        type=_count,
        metavar="N",
        help="run a failing job at most N times in all (as in the original molq: "
        "--retries 3 = 2 retries; 0 or 1: no retry, even if the profile has one)",
    )
    rt.add_argument(
        "--retry-on-exit-code",
        type=_exit_code,
        action="append",
        metavar="CODE",
        help="retry only on this exit code (repeatable; needs --retries)",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--wait", "-w", "--block", dest="wait", action="store_true", help="block until the job ends, with progress"
    )
    out.add_argument("--no-block", dest="wait", action="store_false", help=argparse.SUPPRESS)
    out.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="with --wait: give up after this long")
    out.add_argument("--quiet", "-q", action="store_true", help="print only the job id")
    _json(out)
    _SUBMIT[:] = [p]


def _jobs(b: _Builder) -> None:
    p = b.add(
        "list",
        "molq.cli.jobs:cmd_list",
        "list the newest jobs from the store (no refresh)",
        aliases=["ls"],
        target=True,
    )
    p.add_argument("--limit", "-n", type=_positive, default=50, metavar="N", help="newest N (default 50)")
    p.add_argument(
        "--all", "-a", action="store_true", help="every job, no limit (after a SCHEDULER|PROFILE: finished jobs too)"
    )
    p.add_argument("--active", action="store_true", help="only jobs that have not ended")
    p.add_argument("--state", action="append", metavar="STATE", help="only this state (repeatable)")
    p.add_argument("--refresh", "-r", action="store_true", help="poll the scheduler first")
    p.add_argument("--wide", action="store_true", help="full ids and commands")
    _json(p)

    p = b.add("status", "molq.cli.jobs:cmd_status", "show one job's state (refreshes its cluster first)")
    p.add_argument("job", metavar="JOB")
    _target(p)
    p.add_argument("--no-refresh", action="store_true", help="show the stored state without polling")
    _json(p)

    p = b.add("logs", "molq.cli.logs:cmd_logs", "print a job's output (through the cluster's transport)")
    p.add_argument("job", metavar="JOB")
    _target(p)
    p.add_argument("--stream", choices=("stdout", "stderr", "both"), default="stdout")
    p.add_argument("--tail", "-t", type=_count, metavar="N", help="only the last N lines")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
    p.add_argument(
        "--interval", type=_seconds, metavar="SECONDS", help="--follow poll interval (default 0.2 locally, 1 remotely)"
    )

    p = b.add("cancel", "molq.cli.jobs:cmd_cancel", "cancel jobs (the newest attempt and any pending retry)")
    p.add_argument(
        "jobs",
        nargs="+",
        metavar="JOB",
        help="job ids (a scheduler kind or profile among them picks the destination, as in the original molq)",
    )
    _json(p)

    p = b.add("watch", "molq.cli.watch:cmd_watch", "wait for jobs to end, showing them live")
    p.add_argument(
        "jobs",
        nargs="*",
        metavar="JOB",
        help="job ids (a scheduler kind or profile among them picks the destination, as in the original molq)",
    )
    p.add_argument("--all", "-a", action="store_true", help="every job active now")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="give up after this long (exit 3)")
    p.add_argument(
        "--interval",
        type=_seconds,
        metavar="SECONDS",
        help="refresh interval (default 1 s locally, 5 s for batch schedulers)",
    )
    p.add_argument("--plain", action="store_true", help="one line per change, even on a terminal")
    _json(p)

    p = b.add("history", "molq.cli.jobs:cmd_history", "every attempt with times and exit codes", target=True)
    p.add_argument("--limit", "-n", type=_positive, default=50, metavar="N", help="newest N (default 50)")
    p.add_argument("--all", "-a", action="store_true", help="every record, no limit")
    p.add_argument("--state", action="append", metavar="STATE", help="only this state (repeatable)")
    p.add_argument("--wide", action="store_true", help="full ids and commands")
    _json(p)

    p = b.add("inspect", "molq.cli.jobs:cmd_inspect", "a job's record, timeline, retry family and dependencies")
    p.add_argument("job", metavar="JOB")
    _target(p)
    p.add_argument("--no-refresh", action="store_true", help="show the stored state without polling")
    _json(p)


def _live_and_setup(b: _Builder) -> None:
    p = b.add("monitor", "molq.cli.watch:cmd_monitor", "full-screen live view of the newest jobs (q quits)")
    p.add_argument("--limit", "-n", type=_positive, default=200, metavar="N", help="newest N jobs (default 200)")
    p.add_argument(
        "--interval",
        "--refresh",
        "-r",
        dest="interval",
        type=_seconds,
        metavar="SECONDS",
        help="refresh interval (default 1 s locally, 5 s for batch schedulers)",
    )
    p.add_argument(
        "--all",
        "-a",
        action="store_true",
        help="finished jobs too (the default here; kept for the original molq's command line)",
    )
    p.add_argument("--no-refresh", action="store_true", help="only read the store (a daemon refreshes it)")
    p.add_argument("--plain", action="store_true", help="one line per change, even on a terminal")

    p = b.add("queue", "molq.cli.admin:cmd_queue", "the scheduler's live queue (molq's jobs and others)")
    p.add_argument("--user", "-u", metavar="USER", help="whose jobs (default: yours)")
    _json(p)

    p = b.add("cleanup", "molq.cli.admin:cmd_cleanup", "remove old job directories and records", target=True)
    p.add_argument("--dry-run", "-n", action="store_true", help="only say what would go")
    p.add_argument("--keep-dirs-days", type=float, metavar="DAYS", help="override the retention policy")
    p.add_argument("--keep-records-days", type=float, metavar="DAYS", help="override the retention policy")
    _json(p)

    p = b.add("daemon", "molq.cli.admin:cmd_daemon", "keep the cluster's jobs refreshed (foreground)", target=True)
    p.add_argument("--once", action="store_true", help="one refresh cycle, then exit")
    p.add_argument("--interval", type=_seconds, default=5.0, metavar="SECONDS", help="default 5")
    p.add_argument("--skip-cleanup", action="store_true", help="do not apply the retention policy")

    clusters = b.subparsers.add_parser(
        "clusters",
        help="profiles and SSH hosts you can submit to",
        description="profiles and SSH hosts you can submit to",
    )
    csub = clusters.add_subparsers(dest="clusters_command", metavar="COMMAND", required=True)
    p = b.add("list", "molq.cli.admin:cmd_clusters_list", "profiles, then ~/.ssh/config hosts", parent=csub)
    p.add_argument("--resolve", action="store_true", help="ask ssh -G for each host's target")
    _json(p)
    p = b.add(
        "show", "molq.cli.admin:cmd_clusters_show", "one profile (by name or cluster name) or SSH host", parent=csub
    )
    p.add_argument("name", metavar="NAME")
    _json(p)

    ws = b.subparsers.add_parser(
        "workspace",
        help="copy a local directory to or from the cluster",
        description="copy a local directory to or from the cluster",
    )
    wsub = ws.add_subparsers(dest="workspace_command", metavar="COMMAND", required=True)
    p = b.add(
        "sync",
        "molq.cli.admin:cmd_workspace_sync",
        "push LOCAL's contents to --path on the cluster (or --pull them back)",
        parent=wsub,
    )
    p.add_argument("local", metavar="LOCAL")
    p.add_argument("--path", "-p", default=".", metavar="DIR", help="directory on the cluster (default: .)")
    p.add_argument("--pull", action="store_true", help="copy from the cluster into LOCAL")
    p.add_argument("--delete", action="store_true", help="also remove files the source does not have")
    p.add_argument("--exclude", action="append", metavar="PATTERN", help="skip names matching (repeatable)")
    p.add_argument("--dry-run", "-n", action="store_true", help="only say what would be copied")
    _json(p)
    p = b.add("list", "molq.cli.admin:cmd_workspace_list", "names in a directory on the cluster", parent=wsub)
    p.add_argument("--path", "-p", default=".", metavar="DIR", help="directory on the cluster (default: .)")
    _json(p)

    plugins = b.subparsers.add_parser(
        "plugins",
        help="plugins molq attaches (built-in and installed)",
        description="plugins molq attaches (built-in and installed)",
    )
    psub = plugins.add_subparsers(dest="plugins_command", metavar="COMMAND", required=True)
    p = b.add(
        "list",
        "molq.cli.plugins:cmd_plugins_list",
        "each plugin, where it comes from, and whether the config enables it",
        parent=psub,
    )
    _json(p)

    p = b.add(
        "import-store",
        "molq.cli.import_store:cmd_import_store",
        "import the original molq's job store (jobs, history, dependencies) into molq's store",
    )
    p.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="the original's jobs.db (default: $MOLCRAFTS_HOME or ~/.molcrafts, then molq/config/jobs.db)",
    )
    _json(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="molq",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", "-V", action="store_true", help="print the version and exit")
    _destination_options(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    builder = _Builder(subparsers)
    _submit(builder)
    _jobs(builder)
    _live_and_setup(builder)
    builder.finish()
    return parser


def parse(argv: list[str]) -> argparse.Namespace | None:
    """Parse ``argv``; None when nothing is left to run (--version, bare ``molq``)."""
    # The job's own argv follows "--" and must not be read as molq options.
    job_argv: list[str] | None = None
    if "submit" in argv and "--" in argv and argv.index("--") > argv.index("submit"):
        cut = argv.index("--")
        argv, job_argv = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    if "submit" in argv:
        at = argv.index("submit")
        config = next((argv[i + 1] for i in range(len(argv) - 1) if argv[i] == "--config"), None)
        try:
            _grammar.check_short_options_after_command(_SUBMIT[0], argv[at + 1 :], argv[:at], config)
        except _grammar.GrammarError as exc:
            parser.error(str(exc))
    args, extras = parser.parse_known_args(argv)
    if args.version:
        print(f"molq {__version__}")
        return None
    if args.subcommand is None:
        parser.print_help(sys.stderr)
        parser.exit(2)

    extras = _grammar.gather_command_words(args, extras)
    try:
        _grammar.take_destination(args)
    except _grammar.GrammarError as exc:
        parser.error(str(exc))
    if extras:
        parser.error(_grammar.unknown_options_message(args, argv, extras))
    if job_argv is not None:
        if args.subcommand != "submit":
            parser.error("'--' is only for 'molq submit -- PROGRAM ARG...'")
        if args.argv:
            parser.error("give the program either before or after '--', not both")
        args.argv = job_argv
    return args
