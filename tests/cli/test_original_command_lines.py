"""The original molq's CLI tests (tests/test_cli.py and tests/test_cli_setup.py of
molcrafts-molq 0.8.1), one for one, through the real ``molq`` console script.

The originals drive the Typer app object ``molq.cli.main.app`` with
``typer.testing.CliRunner`` and mock the Submitor; here each runs the same
command line as a user does (a subprocess of the installed ``molq``, HOME and
MOLCRAFTS_HOME in a temporary directory, as the originals' fixtures set them)
against real jobs, a real SQLite store, and -- where the original checked
which transport was chosen -- a stand-in ``ssh`` on PATH that records every
call and runs the remote command on this machine. Class and test names are
the originals', so each one can be found from the deviation list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
MOLQ = shutil.which("molq", path=str(BIN)) or str(BIN / "molq")

FAKE_SSH = """#!{python}
# A stand-in ssh: records its arguments, answers -G, -O and -fN itself, and runs
# the remote command here (the way ssh would on the far side, with sh).
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SSH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "-G" in args:
    host = args[-1]
    print(f"hostname {{host}}.example.org\\nuser alice\\nport 22\\ncontrolpath none")
    sys.exit(0)
if "-O" in args or "-fN" in args:
    sys.exit(0)
with_value = set("bcDEeFIiJLlmOoPpQRSWw")
i = 0
while i < len(args):
    word = args[i]
    if word == "--":
        i += 1
        break
    if word.startswith("-") and len(word) == 2 and word[1] in with_value:
        i += 2
    elif word.startswith("-"):
        i += 1
    else:
        break
rest = args[i + 1:]
os.execvp("sh", ["sh", "-c", " ".join(rest)])
"""

FAKE_SBATCH = """#!/bin/sh
# A stand-in sbatch: records where it ran and accepts the job.
echo "sbatch $*" >> "$FAKE_SBATCH_LOG"
echo 4242
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together, as CliRunner's ``result.output`` held them."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        (self.home / ".ssh").mkdir(parents=True)
        self.bin = tmp / "bin"
        self.bin.mkdir()
        self.ssh_log = tmp / "ssh.log"
        self.sbatch_log = tmp / "sbatch.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MOLQ_", "MOLCRAFTS_"))}
        self.env.update(
            HOME=str(self.home),
            MOLCRAFTS_HOME=str(tmp / "molcrafts"),
            FAKE_SSH_LOG=str(self.ssh_log),
            FAKE_SBATCH_LOG=str(self.sbatch_log),
            PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        self.env.pop("NO_COLOR", None)
        self.cwd = tmp / "work"
        self.cwd.mkdir()

    def __call__(self, *args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            [MOLQ, *args],
            cwd=self.cwd,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, **kw: Any) -> Run:
        run = self(*args, **kw)
        assert run.returncode == 0, (args, run)
        assert "Traceback" not in run.stderr, run.stderr
        return run

    def fake_ssh(self) -> None:
        path = self.bin / "ssh"
        path.write_text(FAKE_SSH.format(python=sys.executable))
        path.chmod(0o755)

    def fake_sbatch(self) -> None:
        path = self.bin / "sbatch"
        path.write_text(FAKE_SBATCH)
        path.chmod(0o755)

    def ssh_calls(self) -> list[list[str]]:
        if not self.ssh_log.exists():
            return []
        return [json.loads(line) for line in self.ssh_log.read_text().splitlines()]

    def submit(self, *args: str) -> str:
        """The job id from ``molq submit ...`` (the original's output: "Job submitted" and the id)."""
        run = self.ok("submit", *args)
        assert "Job submitted" in run.stdout
        return run.stdout.split("Job submitted: ", 1)[1].split()[0]

    def record(self, job_id: str, *extra: str) -> dict[str, Any]:
        return self.ok("status", job_id, "--json", *extra).json()

    def wait(self, job_id: str, *extra: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            record = self.record(job_id, *extra)
            if record["terminal"] or time.monotonic() > deadline:
                return record
            time.sleep(0.1)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def ssh_config(cli: Cli) -> Path:
    path = cli.home / ".ssh" / "config"
    path.write_text(
        "Host dardel\n    HostName dardel.pdc.kth.se\n    User alice\nHost gpu-box\n    HostName gpu.example.org\n"
    )
    return path


@pytest.fixture
def profile_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "profiles:\n  gpu:\n    scheduler: slurm\n    cluster_name: dardel\n"
        "    host: dardel\n    jobs_dir: /scratch/alice/jobs\n"
    )
    return cfg


def _plugins_command() -> bool:
    from molq.cli._parser import build_parser

    return "plugins" in build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]


needs_plugins = pytest.mark.skipif(not _plugins_command(), reason="`molq plugins` is not registered yet")


# ============================================================ tests/test_cli.py
class TestSubmitCommand:
    def test_submit_basic(self, cli: Cli) -> None:
        result = cli("submit", "local", "echo", "hello")
        assert result.returncode == 0
        assert "Job submitted" in result.output
        job = result.stdout.split("Job submitted: ", 1)[1].split()[0]
        assert cli.wait(job)["state"] == "succeeded"

    def test_submit_no_command(self, cli: Cli) -> None:
        result = cli("submit", "local")
        assert result.returncode == 1
        assert "nothing to run" in result.stderr


class TestListCommand:
    def test_list_empty(self, cli: Cli) -> None:
        result = cli("list", "local")
        assert result.returncode == 0
        assert "No jobs" in result.output

    def test_list_with_jobs(self, cli: Cli) -> None:
        job = cli.submit("local", "sleep", "30")
        try:
            result = cli("list", "local")
            assert result.returncode == 0
            assert job[:8] in result.output
            assert "cli_local" in result.output  # the original's namespace for `local`
        finally:
            cli.ok("cancel", job, "local")


class TestStatusCommand:
    def test_status_found(self, cli: Cli) -> None:
        job = cli.submit("local", "sleep", "30")
        try:
            result = cli("status", job, "local")
            assert result.returncode == 0
            assert "running" in result.output
        finally:
            cli.ok("cancel", job, "local")

    def test_status_not_found(self, cli: Cli) -> None:
        result = cli("status", "abc", "local")
        assert result.returncode == 1
        assert "not found" in result.output


class TestLogsCommand:
    def test_logs_stdout(self, cli: Cli) -> None:
        job = cli.submit("local", "printf", "line1\\nline2\\n")
        cli.wait(job)
        result = cli("logs", job, "local", "--tail", "1")
        assert result.returncode == 0
        assert "line2" in result.output and "line1" not in result.output

    def test_logs_both(self, cli: Cli) -> None:
        job = cli.submit("local", "--", "sh", "-c", "echo out; echo err >&2")
        cli.wait(job)
        result = cli("logs", job, "local", "--stream", "both")
        assert result.returncode == 0
        assert "[stdout] out" in result.output
        assert "[stderr] err" in result.output

    def test_logs_follow(self, cli: Cli) -> None:
        job = cli.submit("local", "echo", "line1")
        result = cli("logs", job, "local", "--follow")
        assert result.returncode == 0
        assert "line1" in result.output


class TestHistoryAndInspect:
    def test_history(self, cli: Cli) -> None:
        job = cli.submit("local", "false")
        cli.wait(job)
        result = cli("history", "local", "--all")
        assert result.returncode == 0
        assert "History" in result.output
        assert "failed" in result.output

    def test_inspect(self, cli: Cli) -> None:
        # Dependencies need a batch scheduler: a stand-in sbatch accepts both jobs (id 4242).
        cli.fake_sbatch()
        parent = cli.submit("slurm", "true")
        job = cli.submit("slurm", "--after-success", parent, "echo", "hello")
        result = cli("inspect", job, "slurm")  # squeue is absent: a warning, the stored record
        assert result.returncode == 0, result
        assert "Scheduler ID:   4242" in result.output
        assert "Retry Family:" in result.output
        assert "Dependencies:" in result.output
        assert "Upstream:" in result.output and parent in result.output
        assert "scheduler=afterok:4242" in result.output
        assert "Downstream:" in result.output
        assert "Timeline:" in result.output
        assert "created" in result.output
        assert job in cli.ok("inspect", parent, "slurm").stdout  # the parent's downstream


class TestCancelCommand:
    def test_cancel_success(self, cli: Cli) -> None:
        job = cli.submit("local", "sleep", "30")
        result = cli("cancel", job, "local")
        assert result.returncode == 0
        assert "cancelled" in result.output
        assert cli.record(job)["state"] == "cancelled"

    def test_cancel_not_found(self, cli: Cli) -> None:
        result = cli("cancel", "abc", "local")
        assert result.returncode == 1


class TestMaintenanceCommands:
    def test_cleanup(self, cli: Cli) -> None:
        # The original's mock reported one old dir and one old record; a real job
        # is that old once the retention windows are zero days.
        job = cli.submit("local", "true")
        record = cli.wait(job)
        result = cli("cleanup", "local", "--dry-run", "--keep-dirs-days", "0", "--keep-records-days", "0")
        assert result.returncode == 0
        assert "Job dirs: 1" in result.output
        assert f"record: {job}" in result.output
        assert Path(record["job_dir"]).is_dir()  # a dry run removes nothing

    def test_daemon_once(self, cli: Cli) -> None:
        job = cli.submit("local", "true")
        time.sleep(0.5)
        assert cli.record(job, "--no-refresh")["state"] != "succeeded"
        result = cli("daemon", "local", "--once")
        assert result.returncode == 0
        assert cli.record(job, "--no-refresh")["state"] == "succeeded"  # one reconcile cycle ran


@pytest.mark.skip(reason="allocations CLI not wired on master yet")  # skipped in the original too
class TestAllocationsCommand:
    def test_allocations_empty(self, cli: Cli) -> None:
        result = cli("allocations", "slurm")
        assert result.returncode == 0
        assert "No remembered allocations" in result.output

    def test_allocations_with_rows(self, cli: Cli) -> None:
        result = cli("allocations", "slurm")
        assert result.returncode == 0


class TestDestinationResolution:
    """A name that is not a real ``Host`` alias never becomes an SSH destination."""

    def test_default_namespace_stays_local(self, cli: Cli) -> None:
        cli.fake_ssh()
        job = cli.submit("local", "echo", "hi")
        record = cli.wait(job)
        assert record["cluster"] == "cli_local" and record["state"] == "succeeded"
        assert cli.ssh_calls() == []

    def test_unknown_cluster_name_stays_local(self, cli: Cli) -> None:
        cli.fake_ssh()
        cli.fake_sbatch()
        job = cli.submit("slurm", "--cluster", "not-an-ssh-host", "echo", "hi")
        record = cli.record(job, "--no-refresh")
        assert record["cluster"] == "not-an-ssh-host" and record["scheduler_job_id"] == "4242"
        assert cli.sbatch_log.read_text().startswith("sbatch --parsable")  # run here
        assert cli.ssh_calls() == []

    def test_configured_ssh_alias_uses_ssh_transport(self, cli: Cli) -> None:
        (cli.home / ".ssh" / "config").write_text("Host testbox\n  HostName testbox.example.org\n  User alice\n")
        cli.fake_ssh()
        cli.fake_sbatch()
        job = cli.submit("slurm", "--cluster", "testbox", "echo", "hi")
        record = cli.record(job, "--no-refresh")
        assert record["cluster"] == "testbox" and record["scheduler_job_id"] == "4242"
        remote = [c for c in cli.ssh_calls() if "testbox" in c and any("sbatch" in w for w in c)]
        assert remote, cli.ssh_calls()  # sbatch ran through ssh to testbox

    def test_submit_local_end_to_end(self, cli: Cli, tmp_path: Path) -> None:
        workdir = tmp_path / "elsewhere"
        workdir.mkdir()
        result = cli("submit", "local", "--workdir", str(workdir), "echo", "hello")
        assert result.returncode == 0, result
        assert "Job submitted" in result.output
        job = result.stdout.split("Job submitted: ", 1)[1].split()[0]
        record = cli.wait(job)
        assert record["state"] == "succeeded" and record["cwd"] == str(workdir)
        assert cli.ok("logs", job, "local").stdout == "hello\n"


class TestLogsOverRemoteTransport:
    """Log paths live on the cluster's filesystem: they are read through ssh."""

    def _remote_job(self, cli: Cli, ssh_config: Path, *command: str) -> str:
        cli.fake_ssh()
        job = cli.submit("local", "--cluster", "dardel", "--", *command)
        assert cli.wait(job, "--cluster", "dardel")["state"] == "succeeded"
        return job

    def test_reads_log_through_transport(self, cli: Cli, ssh_config: Path) -> None:
        job = self._remote_job(cli, ssh_config, "sh", "-c", "echo epoch 1; echo epoch 2")
        before = len(cli.ssh_calls())
        result = cli("logs", job, "local", "--cluster", "dardel")
        assert result.returncode == 0, result
        assert "epoch 2" in result.output
        assert len(cli.ssh_calls()) > before  # read over ssh

    def test_tail_is_evaluated_remotely(self, cli: Cli, ssh_config: Path) -> None:
        job = self._remote_job(
            cli, ssh_config, "sh", "-c", "i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done"
        )
        before = len(cli.ssh_calls())
        result = cli("logs", job, "local", "--cluster", "dardel", "--tail", "2")
        assert result.returncode == 0, result
        assert "line99" in result.output
        assert "line0\n" not in result.output
        assert any("tail" in " ".join(call) for call in cli.ssh_calls()[before:])

    def test_missing_remote_log_reports_cleanly(self, cli: Cli, ssh_config: Path) -> None:
        job = self._remote_job(cli, ssh_config, "true")
        Path(cli.record(job, "--no-refresh")["stdout_path"]).unlink()
        result = cli("logs", job, "local", "--cluster", "dardel")
        assert result.returncode == 1
        assert "does not exist" in result.output


class TestVersionFlag:
    def test_reports_installed_version(self, cli: Cli) -> None:
        result = cli("--version")
        assert result.returncode == 0
        assert result.output.strip()

    def test_short_flag(self, cli: Cli) -> None:
        assert cli("-V").returncode == 0

    def test_does_not_require_a_subcommand(self, cli: Cli) -> None:
        result = cli("--version")
        assert "Usage:" not in result.output and "usage:" not in result.output

    def test_bare_invocation_still_shows_help(self, cli: Cli) -> None:
        result = cli()
        assert "submit" in result.output


# ====================================================== tests/test_cli_setup.py
class TestClustersList:
    def test_lists_ssh_aliases(self, cli: Cli, ssh_config: Path) -> None:
        result = cli("clusters", "list", "--ssh-config", str(ssh_config))
        assert result.returncode == 0
        assert "dardel" in result.output
        assert "gpu-box" in result.output

    def test_lists_profiles_with_their_host(self, cli: Cli, ssh_config: Path, profile_config: Path) -> None:
        result = cli("clusters", "list", "--config", str(profile_config), "--ssh-config", str(ssh_config))
        assert result.returncode == 0, result
        assert "profile:gpu" in result.output

    def test_reports_when_nothing_is_discovered(self, cli: Cli) -> None:
        result = cli("clusters", "list", "--ssh-config", str(cli.home / ".ssh" / "missing"))
        assert result.returncode == 0
        assert "No clusters discovered" in result.output


class TestClustersShow:
    def test_shows_profile_details(self, cli: Cli, ssh_config: Path, profile_config: Path) -> None:
        result = cli("clusters", "show", "gpu", "--config", str(profile_config))
        assert result.returncode == 0, result
        assert "Profile:" in result.output
        assert "slurm" in result.output
        assert "dardel" in result.output

    def test_profile_lookup_by_cluster_name(self, cli: Cli, ssh_config: Path, profile_config: Path) -> None:
        result = cli("clusters", "show", "dardel", "--config", str(profile_config))
        assert result.returncode == 0, result
        assert "Profile:" in result.output

    @pytest.mark.skipif(shutil.which("ssh") is None, reason="requires an OpenSSH client")
    def test_falls_back_to_ssh_alias(self, cli: Cli, ssh_config: Path) -> None:
        result = cli("clusters", "show", "gpu-box", "--ssh-config", str(ssh_config))
        assert result.returncode == 0, result
        assert "SSH alias:" in result.output
        assert "gpu.example.org" in result.output  # as ssh -G resolves it


class TestWorkspaceCommands:
    def test_unknown_cluster_alias_is_rejected(self, cli: Cli, ssh_config: Path) -> None:
        result = cli("workspace", "list", "--cluster", "not-a-host", "--path", "/tmp")
        assert result.returncode != 0
        assert "not a Host alias" in result.output
        assert "dardel" in result.output  # the known aliases are named

    def test_list_uses_local_cluster_by_default(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        cli.fake_ssh()
        target = tmp_path / "ws"
        target.mkdir()
        (target / "a.txt").write_text("a")
        (target / "b.txt").write_text("b")
        result = cli("workspace", "list", "--path", str(target))
        assert result.returncode == 0
        assert "a.txt" in result.output
        assert "b.txt" in result.output
        assert cli.ssh_calls() == []

    def test_list_reports_empty_directory(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        target = tmp_path / "empty-ws"
        target.mkdir()
        result = cli("workspace", "list", "--path", str(target))
        assert result.returncode == 0
        assert "(empty)" in result.output

    def test_sync_push_copies_files(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        source = tmp_path / "src"
        source.mkdir()
        (source / "data.txt").write_text("payload")
        dest = tmp_path / "dest"
        result = cli("workspace", "sync", str(source), "--path", str(dest))
        assert result.returncode == 0, result
        assert "Pushed" in result.output
        assert (dest / "data.txt").read_text() == "payload"

    def test_sync_dry_run_copies_nothing(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        source = tmp_path / "src"
        source.mkdir()
        (source / "data.txt").write_text("payload")
        dest = tmp_path / "dest"
        result = cli("workspace", "sync", str(source), "--path", str(dest), "--dry-run")
        assert result.returncode == 0
        assert "Would push" in result.output
        assert not (dest / "data.txt").exists()

    def test_sync_pull_copies_back(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        remote = tmp_path / "remote"
        remote.mkdir()
        (remote / "result.txt").write_text("output")
        local = tmp_path / "local"
        result = cli("workspace", "sync", str(local), "--path", str(remote), "--pull")
        assert result.returncode == 0, result
        assert "Pulled" in result.output
        assert (local / "result.txt").read_text() == "output"


@needs_plugins
class TestPluginsList:
    def test_lists_builtin_plugins(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        result = cli("plugins", "list", "--config", str(tmp_path / "nope.yaml"))
        assert result.returncode == 0, result
        assert "nerve" in result.output

    def test_notes_daemon_default_when_no_plugin_table(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        result = cli("plugins", "list", "--config", str(tmp_path / "nope.yaml"))
        assert result.returncode == 0, result
        assert "default" in result.output

    def test_disabled_plugin_shows_as_disabled(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        cfg = tmp_path / "config.yaml"
        cfg.write_text("plugins:\n  nerve:\n    enabled: false\n")
        result = cli("plugins", "list", "--config", str(cfg))
        assert result.returncode == 0, result
        assert "disabled" in result.output

    def test_enabled_plugin_shows_as_enabled(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        cfg = tmp_path / "config.yaml"
        cfg.write_text("plugins:\n  nerve:\n    enabled: true\n")
        result = cli("plugins", "list", "--config", str(cfg))
        assert result.returncode == 0, result
        assert "enabled" in result.output

    def test_reports_when_no_plugins_available(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        # The original patched molq.plugin.available_plugins; a real process gets the
        # same through a sitecustomize module that runs before molq's entry point.
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(
            "import molq.plugin\nmolq.plugin.available_plugins = lambda *a, **k: {}\n"
        )
        env = {**cli.env, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), cli.env.get("PYTHONPATH")]))}
        result = cli("plugins", "list", "--config", str(tmp_path / "none.yaml"), env=env)
        assert result.returncode == 0, result
        assert "No plugins discovered" in result.output


class TestResolveCluster:
    """Which transport a workspace command uses (the original read ``_resolve_cluster``)."""

    def test_profile_host_becomes_ssh_transport(
        self, cli: Cli, ssh_config: Path, profile_config: Path, tmp_path: Path
    ) -> None:
        cli.fake_ssh()
        (tmp_path / "ws").mkdir()
        (tmp_path / "ws" / "x.txt").write_text("x")
        result = cli(
            "workspace", "list", "--profile", "gpu", "--config", str(profile_config), "--path", str(tmp_path / "ws")
        )
        assert result.returncode == 0, result
        assert "x.txt" in result.output
        assert any("dardel" in call for call in cli.ssh_calls())

    def test_no_cluster_and_no_profile_is_local(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        cli.fake_ssh()
        cli.ok("workspace", "list", "--path", str(tmp_path))
        assert cli.ssh_calls() == []

    def test_known_alias_builds_ssh(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        cli.fake_ssh()
        (tmp_path / "ws").mkdir()
        (tmp_path / "ws" / "y.txt").write_text("y")
        result = cli("workspace", "list", "--cluster", "dardel", "--path", str(tmp_path / "ws"))
        assert result.returncode == 0, result
        assert "y.txt" in result.output
        assert any("dardel" in call for call in cli.ssh_calls())


class TestProfileDestinations:
    def test_local_profile_is_labelled_local(self, cli: Cli, tmp_path: Path) -> None:
        cfg = tmp_path / "config.yaml"
        cfg.write_text("profiles:\n  laptop:\n    scheduler: local\n    cluster_name: laptop\n")
        rows = cli.ok("clusters", "list", "--config", str(cfg), "--json").json()
        assert rows[0]["target"] == "(local)"

    def test_remote_profile_shows_host(self, cli: Cli, profile_config: Path) -> None:
        rows = cli.ok("clusters", "list", "--config", str(profile_config), "--json").json()
        assert rows[0]["target"] == "dardel"


class TestSshDestinations:
    def test_returns_alias_rows(self, cli: Cli, ssh_config: Path) -> None:
        rows = cli.ok("clusters", "list", "--ssh-config", str(ssh_config), "--json").json()
        names = {row["name"] for row in rows}
        assert {"dardel", "gpu-box"} <= names
        assert all(row["source"] == "ssh_config" for row in rows)


class TestClustersShowErrors:
    def test_missing_ssh_binary_exits_nonzero(self, cli: Cli, ssh_config: Path) -> None:
        # No ssh on PATH at all (the original patched resolve_ssh_host to raise OSError).
        env = {**cli.env, "PATH": str(cli.bin)}
        assert cli("clusters", "show", "whatever", env=env).returncode == 1
        result = cli("clusters", "show", "gpu-box", env=env)
        assert result.returncode == 1 and "Traceback" not in result.stderr


class TestWorkspaceSyncWithProfile:
    def test_profile_drives_the_destination(self, cli: Cli, ssh_config: Path, tmp_path: Path) -> None:
        cfg = tmp_path / "config.yaml"
        cfg.write_text("profiles:\n  local:\n    scheduler: local\n    cluster_name: laptop\n")
        source = tmp_path / "src"
        source.mkdir()
        (source / "f.txt").write_text("x")
        dest = tmp_path / "dest"
        result = cli("workspace", "sync", str(source), "--profile", "local", "--config", str(cfg), "--path", str(dest))
        assert result.returncode == 0, result
        assert (dest / "f.txt").exists()
