"""What a new user tripped on: retried jobs shown once, commands with newlines,
``submit --wait`` and Ctrl-C, a forgotten ``--``, errors that name flags; and
the original molq's grammar beside molq's own."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import Molq

MOLQ = str(Path(sys.executable).parent / "molq")


def settle(molq: Molq, job: str, attempts: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = molq.record(job)
        if record["attempt"] == attempts and record["terminal"] and record["retry_state"] in (None, "done"):
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.1)


def test_a_retried_job_is_one_row_in_list(molq: Molq) -> None:
    job = molq.submit("--profile", molq.fast_retry_profile(), "--retries", "3", "--command", "exit 4")
    settle(molq, job, 3)
    assert len(molq.ok("history", "--json").json()) == 3  # history keeps every attempt
    listed = molq.ok("list", "--json").json()
    assert [(r["root_job_id"], r["attempt"]) for r in listed] == [(job, 3)]
    table = molq.ok("list").stdout.splitlines()
    assert len(table) == 2, table
    assert table[0].split()[:5] == ["JOB", "ID", "CLUSTER", "STATE", "ATT"]
    assert table[1].split()[:4] == [job[:8], "local", "failed", "3"]


def test_a_retried_job_is_one_row_in_monitor(molq: Molq) -> None:
    job = molq.submit("--profile", molq.fast_retry_profile(), "--retries", "3", "--command", "exit 4")
    settle(molq, job, 3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "molq.cli", "monitor", "--plain", "--interval", "0.2"],
        env=molq.env,
        cwd=molq.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.0)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, (out, err)
    assert f"  {job[:8]}  local  failed  (attempt 3;" in lines[0]


def test_a_command_with_a_newline_stays_on_one_line(molq: Molq) -> None:
    job = molq.submit("--", "sh", "-c", "echo a\necho b")
    shown = repr(molq.record(job)["command"])  # JSON keeps the text as it is
    assert "\n" in molq.record(job)["command"] and "\\n" in shown
    listing = molq.ok("list").stdout.splitlines()
    assert len(listing) == 2, listing
    assert listing[1].endswith(shown)
    history = molq.ok("history").stdout.splitlines()
    assert len(history) == 3 and history[2].endswith(shown)  # a title, the header, one row
    status = molq.ok("status", job).stdout.splitlines()
    assert any(line.startswith("Command:") and line.endswith(shown) for line in status), status
    several = molq("submit", "--command", "echo a\necho b")
    assert several.returncode == 2 and "--script" in several.stderr and "Script.inline" not in several.stderr


def _read_line(stream, timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no line in time"
    return stream.readline()


def test_submit_wait_prints_the_id_first_and_ctrl_c_leaves_the_job_running(molq: Molq) -> None:
    proc = subprocess.Popen(
        [MOLQ, "submit", "--wait", "--", "sleep", "30"],
        env=molq.env,
        cwd=molq.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = _read_line(proc.stdout, 20)
        assert first.startswith("Job submitted: "), first
        job = first.split()[2]
        time.sleep(0.5)
        assert proc.poll() is None  # still waiting, with the id already shown
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (rest, err)
    assert f"job {job} is still running" in err
    assert f"molq cancel {job}" in err
    assert "Traceback" not in err
    assert molq.record(job)["state"] in ("submitted", "running")  # Ctrl-C did not stop the job
    molq.ok("cancel", job)


def test_a_forgotten_double_dash_is_named(molq: Molq) -> None:
    result = molq("submit", "python", "train.py", "--lr", "3e-4")
    assert result.returncode == 2
    assert "unknown option --lr" in result.stderr
    assert "molq submit -- python train.py --lr 3e-4" in result.stderr
    short = molq("submit", "local", "--name", "t", "python3", "-c", "print(1)")
    assert short.returncode == 2
    assert "molq submit local --name t -- python3 -c 'print(1)'" in short.stderr
    assert molq.ok("list", "--json").json() == []  # nothing was submitted
    # A first word that is no scheduler and no profile is the program.
    job = molq.submit("echo", "train.py")
    assert molq.record(job)["command"] == "echo train.py"


def test_errors_name_the_flags_typed(molq: Molq) -> None:
    gpu = molq("submit", "--gpu-type", "a100", "--", "true")
    assert gpu.returncode == 2 and "--gpu-type" in gpu.stderr and "resources." not in gpu.stderr
    both = molq("submit", "--partition", "debug", "--qos", "high", "--", "true")
    assert both.returncode == 2 and "--partition, --qos" in both.stderr
    bad = molq("submit", "slurm", "--mem", "lots", "true")
    assert bad.returncode == 2 and "--mem lots" in bad.stderr
    two = molq("submit", "--command", "true", "--", "true")
    assert two.returncode == 2 and "--command" in two.stderr and "argv=" not in two.stderr


def test_the_original_grammar_beside_molqs_own(molq: Molq) -> None:
    done = molq.ok("submit", "local", "--block", "echo", "hello")
    assert done.stdout.startswith("Job submitted: ")
    job = done.stdout.split()[2]
    assert molq.record(job)["cluster"] == "cli_local"
    running = molq.submit("local", "sleep", "30")
    ours = molq.submit("--", "true")
    try:
        # `list KIND`: that namespace, refreshed, active jobs only unless --all.
        assert [r["job_id"] for r in molq.ok("list", "local", "--json").json()] == [running]
        assert {r["job_id"] for r in molq.ok("list", "local", "--all", "--json").json()} == {job, running}
        assert {r["job_id"] for r in molq.ok("list", "--json").json()} == {job, running, ours}
        # Ids are unique: a SCHEDULER positional alone does not hide a job of another cluster.
        assert molq.ok("status", ours, "slurm", "--json").json()["job_id"] == ours
        assert molq("status", ours, "local", "--cluster", "cli_local").returncode == 1  # a typed cluster scopes
        assert molq("list", "condor").returncode == 2
    finally:
        molq.ok("cancel", running, "local")
    # --retries N is N attempts in all, as in the original molq.
    retried = molq.submit("local", "--profile", molq.fast_retry_profile(), "--retries", "2", "--command", "exit 1")
    settle(molq, retried, 2)


def test_a_profile_name_as_the_first_word(molq: Molq) -> None:
    profile = molq.fast_retry_profile()
    job = molq.submit(profile, "echo", "hi")
    record = molq.record(job)
    assert record["profile"] == profile and record["cluster"] == "local"
    assert os.path.basename(record["command"]) == "echo hi"


def test_list_filters_a_retried_job_by_its_current_state(molq: Molq) -> None:
    marker = molq.cwd / "second"
    job = molq.submit(
        "--profile",
        molq.fast_retry_profile(),
        "--retries",
        "2",
        "--command",
        f"[ -e {marker} ] || {{ touch {marker}; exit 1; }}",
    )
    settle(molq, job, 2)
    assert molq.record(job)["state"] == "succeeded"
    assert molq.ok("list", "--state", "failed", "--json").json() == []  # its first attempt failed
    assert [r["attempt"] for r in molq.ok("list", "--state", "succeeded", "--json").json()] == [2]


def test_a_job_id_alone_finds_a_cluster_named_like_an_ssh_alias(tmp_path: Path) -> None:
    # A job the original molq submitted with `--cluster dardel` (an ssh alias) is
    # polled there, by its id alone, with no profile and nothing remembered.
    from tests.cli.test_original_command_lines import Cli

    cli = Cli(tmp_path)
    (cli.home / ".ssh" / "config").write_text("Host dardel\n  HostName dardel.example.org\n")
    cli.fake_ssh()
    cli.fake_sbatch()
    job = cli.submit("slurm", "--cluster", "dardel", "echo", "hi")
    remembered = list((cli.home / ".molq").glob("*.destinations.json"))
    assert remembered
    for path in remembered:
        path.unlink()
    before = len(cli.ssh_calls())
    status = cli.ok("status", job, "--json")  # squeue is absent there: a warning, the stored state
    assert "not polled" not in status.stderr
    assert status.json()["scheduler_job_id"] == "4242"
    assert any("dardel" in call for call in cli.ssh_calls()[before:])  # polled through ssh


def test_partition_and_queue_are_one_option(molq: Molq) -> None:
    both = molq("submit", "slurm", "--partition", "a", "--queue", "b", "true")
    assert both.returncode == 2 and "mutually exclusive" in both.stderr
