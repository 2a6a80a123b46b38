"""queue, cleanup, daemon, clusters, workspace, and config errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

Molq = Any  # the fixture type lives in conftest.py

CONFIG = """\
[profiles.dev]
scheduler = "local"
cluster_name = "devbox"
jobs_dir = "{jobs}"

[profiles.dev.retry]
max_attempts = 2

[profiles.hpc]
scheduler = "slurm"
cluster_name = "hpc"
host = "me@login.example.org"

[profiles.hpc.defaults.resources]
memory = "32G"
"""


def write_config(molq: Molq, text: str) -> Path:
    path = molq.home / "config.toml"
    path.write_text(text)
    return path


def test_queue_of_the_local_backend(molq: Molq) -> None:
    assert molq.ok("queue", "--json").json() == []
    assert "empty" in molq.ok("queue").stdout


def test_cleanup_dry_run_then_for_real(molq: Molq) -> None:
    job = molq.submit("--", "true")
    assert molq("watch", job).returncode == 0
    job_dir = Path(molq.record(job)["job_dir"])
    assert job_dir.is_dir()
    plan = molq.ok("cleanup", "--dry-run", "--keep-dirs-days", "0", "--keep-records-days", "0", "--json").json()
    assert plan == {"dry_run": True, "cluster": "local", "job_dirs": [str(job_dir)], "records": [job]}
    assert job_dir.is_dir()
    assert molq.ok("list", "--json").json()[0]["job_id"] == job
    time.sleep(0.05)
    text = molq.ok("cleanup", "--keep-dirs-days", "0", "--keep-records-days", "0").stdout
    assert "removed 1 job dir(s), 1 record(s)" in text
    assert not job_dir.exists()
    assert molq.ok("list", "--json").json() == []


def test_daemon_once_refreshes(molq: Molq) -> None:
    job = molq.submit("--", "true")
    time.sleep(0.5)
    assert molq.ok("list", "--json").json()[0]["state"] == "submitted"
    molq.ok("daemon", "--once")
    assert molq.ok("list", "--json").json()[0]["state"] == "succeeded"
    assert job


def test_profiles_and_clusters(molq: Molq, tmp_path: Path) -> None:
    write_config(molq, CONFIG.format(jobs=tmp_path / "devjobs"))
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(
        "Host login1\n  HostName login1.example.org\n  User me\n  Port 2200\nHost *\n  ServerAliveInterval 30\n"
    )
    rows = molq.ok("clusters", "list", "--ssh-config", str(ssh_config), "--json").json()
    assert rows == [
        {"name": "devbox", "source": "profile:dev", "scheduler": "local", "target": "(local)"},
        {"name": "hpc", "source": "profile:hpc", "scheduler": "slurm", "target": "me@login.example.org"},
        {"name": "login1", "source": "ssh_config", "scheduler": None, "target": "login1"},
    ]
    assert "profile:hpc" in molq.ok("clusters", "list", "--ssh-config", str(ssh_config)).stdout
    hpc = molq.ok("clusters", "show", "hpc", "--json").json()
    assert hpc["scheduler"] == "slurm" and hpc["host"] == "me@login.example.org"
    assert hpc["defaults"] == {"resources": {"memory": "32GB"}}
    assert molq.ok("clusters", "show", "devbox", "--json").json()["profile"] == "dev"
    assert molq("clusters", "show", "nowhere", "--ssh-config", str(ssh_config)).returncode == 1

    # --profile picks the cluster name, the jobs dir and the retry policy.
    job = molq.ok("--profile", "dev", "submit", "--json", "--", "true").json()
    assert job["cluster"] == "devbox" and job["profile"] == "dev"
    assert job["job_dir"].startswith(str(tmp_path / "devjobs"))
    assert molq("watch", job["job_id"]).returncode == 0
    # --cluster devbox alone finds the profile too.
    assert [r["job_id"] for r in molq.ok("list", "--cluster", "devbox", "--json").json()] == [job["job_id"]]
    bad = molq("--profile", "dev", "--scheduler", "slurm", "list")
    assert bad.returncode == 2 and "contradicts" in bad.stderr


def test_bad_config_is_reported_with_file_key_and_expectation(molq: Molq) -> None:
    path = write_config(
        molq,
        '[profiles.dev]\nscheduler = "local"\ncluster_name = "d"\n[profiles.dev.defaults.resources]\nmemory = "lots"\n',
    )
    result = molq("--profile", "dev", "submit", "--", "true")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr
    assert "profiles.dev.defaults.resources.memory" in result.stderr
    assert "expected a size" in result.stderr
    write_config(molq, '[profiles.dev]\nscheduler = "local"\ncluster_name = "d"\n')
    missing = molq("--profile", "nope", "list")
    assert missing.returncode == 2 and "no profile 'nope'" in missing.stderr
    write_config(molq, "this is = = not toml")
    broken = molq("clusters", "list")
    assert broken.returncode == 2 and "not valid TOML" in broken.stderr


def test_workspace_sync_and_list(molq: Molq, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    (src / "skip.log").write_text("x")
    remote = tmp_path / "remote" / "proj"
    plan = molq.ok("workspace", "sync", str(src), "--path", str(remote), "--dry-run", "--json").json()
    assert plan["direction"] == "push" and plan["dry_run"] is True
    assert not remote.exists()  # a dry run touches nothing
    molq.ok("workspace", "sync", str(src), "--path", str(remote), "--exclude", "*.log")
    assert (remote / "sub" / "b.txt").read_text() == "b"
    assert not (remote / "skip.log").exists()
    listing = molq.ok("workspace", "list", "--path", str(remote), "--json").json()
    assert listing["entries"] == ["a.txt", "sub"]
    assert molq.ok("workspace", "list", "--path", str(remote)).stdout == "a.txt\nsub\n"
    back = tmp_path / "back"
    molq.ok("workspace", "sync", str(back), "--path", str(remote), "--pull")
    assert (back / "a.txt").read_text() == "a"
    assert molq("workspace", "sync", str(tmp_path / "nope"), "--path", str(remote)).returncode == 2


def test_json_output_is_plain_json(molq: Molq) -> None:
    molq.submit("--", "true")
    for args in (["list", "--json"], ["history", "--json"], ["queue", "--json"], ["clusters", "list", "--json"]):
        json.loads(molq.ok(*args).stdout)
