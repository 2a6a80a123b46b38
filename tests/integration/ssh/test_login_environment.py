"""Remote commands are immune to the remote user's login environment.

Real clusters greet in ``~/.bashrc``, load modules that print, ``set -e`` or ``set -u``,
change ``PATH``, and show an sshd ``Banner``. None of that may reach what molq reads.

These tests never touch the shared testbed user: they create their own user
(``molqlogin``, the testbed key authorized) and run their own sshd on a free port
with a ``Banner``, both torn down afterwards (the user stays, its dotfiles emptied).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.options import SshTransportOptions
from molq.scheduler.sge import SGEScheduler
from molq.store import JobStore
from molq.strategies import FixedStrategy
from molq.transport.ssh import SshTransport

pytestmark = pytest.mark.ssh

USER = "molqlogin"
STARTUP_FILES = (".bashrc", ".profile", ".bash_profile", ".bash_logout")
# mentions "error" on purpose: the old code looked for it in stderr
BANNER = "*** Welcome to the molq test cluster ***\nerrors: none today; Permission denied for nobody\n"
NOISY = 'echo "Welcome to the cluster, $USER"\necho "module: gcc/12 loaded" >&2\nprintf "no newline"\n'
STRICT = "set -e\nset -u\necho strict mode on\nfalse_unless_set=${UNSET_VARIABLE_FOR_MOLQ-}\n"


def _unavailable(reason: str) -> None:
    if os.environ.get("MOLQ_REQUIRE_SSH") == "1":
        pytest.fail(f"MOLQ_REQUIRE_SSH=1 but the login-environment testbed cannot be set up: {reason}")
    pytest.skip(f"login-environment testbed not usable: {reason}")


@dataclass
class LoginBed:
    """Our own sshd (with a Banner) and user: startup files can be set per test."""

    port: int
    state: Path
    config: Path
    home: Path
    alias: str = "molq-login"

    def startup(self, **files: str) -> None:
        """Write the user's startup files (keys like ``bashrc`` for ``.bashrc``); the
        others are emptied."""
        entry = pwd.getpwnam(USER)
        for name in STARTUP_FILES:
            path = self.home / name
            path.write_text(files.get(name.lstrip(".").replace(".", "_"), ""))
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def options(self, **kwargs: Any) -> SshTransportOptions:
        # a socket of the test's own: a master left from another test would hide the Banner
        kwargs.setdefault("control_path", str(self.state / f"cm-{uuid.uuid4().hex[:8]}"))
        return SshTransportOptions(self.alias, ssh_opts=("-F", str(self.config)), **kwargs)

    def transport(self, **kwargs: Any) -> SshTransport:
        return SshTransport(self.options(**kwargs))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sshd_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
        if Path(f"/proc/{pid}/comm").read_text().strip() == "sshd":
            return pid
    except (OSError, ValueError):
        pass
    return None


@pytest.fixture(scope="module")
def login_bed(ssh_testbed: Any) -> Iterator[LoginBed]:
    if os.geteuid() != 0:
        _unavailable("creating a login user and an sshd of its own needs root")
    if not Path("/usr/sbin/sshd").is_file():
        _unavailable("/usr/sbin/sshd is not installed")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", USER], check=True, capture_output=True)
    subprocess.run(["usermod", "-s", "/bin/bash", "-p", "*", USER], check=True, capture_output=True)
    home = Path(pwd.getpwnam(USER).pw_dir)
    # short: control sockets live here too (sun_path is 108 bytes)
    state = Path(f"/run/molq-login-{os.getpid()}")
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(mode=0o755)
    (state / "keys").mkdir(mode=0o755)
    shutil.copy(f"{ssh_testbed.key}.pub", state / "keys" / USER)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(state / "host_key")], check=True, capture_output=True
    )
    (state / "banner").write_text(BANNER)
    port = _free_port()
    (state / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {state}/host_key\nPidFile {state}/sshd.pid\n"
        f"AuthorizedKeysFile {state}/keys/%u\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
        f"KbdInteractiveAuthentication no\nUsePAM no\nAllowUsers {USER}\nStrictModes no\n"
        f"UseDNS no\nMaxSessions 100\nMaxStartups 100:30:200\nBanner {state}/banner\nLogLevel VERBOSE\n"
    )
    host_key = (state / "host_key.pub").read_text().split()[:2]
    (state / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
    config = state / "ssh_config"
    config.write_text(
        f"Host molq-login\n  HostName 127.0.0.1\n  Port {port}\n  User {USER}\n"
        f"  IdentityFile {ssh_testbed.key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {state}/known_hosts\n  StrictHostKeyChecking yes\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    subprocess.run(
        ["/usr/sbin/sshd", "-f", str(state / "sshd_config"), "-E", str(state / "sshd.log")],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
    )
    bed = LoginBed(port=port, state=state, config=config, home=home)
    deadline = time.monotonic() + 15
    while _sshd_pid(state / "sshd.pid") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        bed.startup()
        yield bed
    finally:
        bed.startup()
        pid = _sshd_pid(state / "sshd.pid")
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def remote_dir(login_bed: LoginBed) -> Iterator[str]:
    path = login_bed.home / "molq-tests" / uuid.uuid4().hex[:10]
    path.mkdir(parents=True)
    entry = pwd.getpwnam(USER)
    for p in (path.parent, path):
        os.chown(p, entry.pw_uid, entry.pw_gid)
    yield str(path)
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def opened(bed: LoginBed, **kwargs: Any) -> Iterator[SshTransport]:
    t = bed.transport(**kwargs)
    try:
        yield t
    finally:
        t.close()


def _exercise_files(t: SshTransport, remote_dir: str, home: Path) -> None:
    """Every kind of remote call whose output molq parses."""
    target = f"{remote_dir}/data.txt"
    t.write_text(target, "payload\n")
    assert t.read_text(target) == "payload\n"
    assert t.read_bytes(target) == b"payload\n"
    assert t.exists(target) and t.is_file(target) and not t.is_dir(target)
    assert t.exists(f"{remote_dir}/missing") is False
    assert t.is_dir(f"{remote_dir}/missing") is False
    with pytest.raises(FileNotFoundError):
        t.read_text(f"{remote_dir}/missing")
    t.mkdir(f"{remote_dir}/sub/deeper", parents=True)
    assert t.listdir(remote_dir) == ["data.txt", "sub"]
    assert t.stat(target)["size"] == 8
    assert t.home() == str(home)
    assert t.expand_path("~/x") == f"{home}/x"
    assert t.expand_path("$HOME/y") == f"{home}/y"
    result = t.run(["sh", "-c", "echo out; echo err >&2; exit 3"], cwd=remote_dir)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert t.run(["pwd"], cwd="~").stdout == f"{home}\n"
    # output that looks like molq's own framing is passed on untouched
    fake = t.run(["printf", "\\036molq-begin\\n\\036molq-exit 0\\n"])
    assert (fake.returncode, fake.stdout) == (0, "\036molq-begin\n\036molq-exit 0\n")
    t.remove(f"{remote_dir}/sub", recursive=True)
    assert t.listdir(remote_dir) == ["data.txt"]


@pytest.mark.parametrize("control_master", [True, False], ids=["shared", "per-call"])
def test_noisy_startup_files_and_a_banner_never_reach_the_output(
    login_bed: LoginBed, remote_dir: str, control_master: bool
) -> None:
    login_bed.startup(bashrc=NOISY, profile=NOISY, bash_profile=NOISY, bash_logout=NOISY)
    with opened(login_bed, control_master=control_master) as t:
        _exercise_files(t, remote_dir, login_bed.home)
        assert t.run(["echo", "hi"]).stdout == "hi\n"
        assert t.run(["true"]).stderr == ""


def test_strict_startup_files_do_not_change_how_commands_end(login_bed: LoginBed, remote_dir: str) -> None:
    login_bed.startup(bashrc=STRICT, profile=STRICT)
    with opened(login_bed) as t:
        _exercise_files(t, remote_dir, login_bed.home)
        # an unset variable is not an error for the command, nor a failing step for the shell
        probe = t.run(["sh", "-c", 'false; echo "[${NOT_SET_ANYWHERE}]"'])
        assert (probe.returncode, probe.stdout) == (0, "[]\n")


def test_a_changed_path_does_not_change_molqs_own_file_operations(login_bed: LoginBed, remote_dir: str) -> None:
    """The login PATH starts with a directory of impostors of the tools molq's file
    operations use; they still work. User commands (sbatch...) see the login PATH."""
    fakes = login_bed.home / "fakebin"
    fakes.mkdir(exist_ok=True)
    entry = pwd.getpwnam(USER)
    for tool in ("cat", "mkdir", "mv", "rm", "chmod", "stat", "wc", "ls", "touch", "cp", "dirname"):
        fake = fakes / tool
        fake.write_text("#!/bin/sh\necho impostor\nexit 0\n")
        fake.chmod(0o755)
        os.chown(fake, entry.pw_uid, entry.pw_gid)
    try:
        login_bed.startup(bashrc=f'export PATH="{fakes}:$PATH"\n')
        with opened(login_bed) as t:
            _exercise_files(t, remote_dir, login_bed.home)
            assert t.run(["cat", "/etc/hostname"]).stdout == "impostor\n"
    finally:
        shutil.rmtree(fakes)


def test_aliases_in_startup_files_do_not_change_molqs_commands(login_bed: LoginBed, remote_dir: str) -> None:
    """Aliases for the very tools and builtins molq's framing uses."""
    login_bed.startup(
        bashrc="shopt -s expand_aliases\nalias cat='echo aliased'\nalias printf='echo x'\nalias exec='echo x'\n"
    )
    with opened(login_bed) as t:
        _exercise_files(t, remote_dir, login_bed.home)


@pytest.mark.slurm
@pytest.mark.parametrize("control_master", [True, False], ids=["shared", "per-call"])
def test_slurm_over_a_noisy_strict_login_submits_tracks_and_cancels(
    login_bed: LoginBed, slurm_testbed: Any, tmp_path: Path, control_master: bool
) -> None:
    """sbatch's id, squeue/sacct output and scancel's verdict are read exactly; the first
    submit into a new jobs_dir works under ``set -e``; a Banner with "errors" is ignored."""
    login_bed.startup(bashrc=NOISY + STRICT, profile=NOISY)
    t = login_bed.transport(control_master=control_master)
    cluster = mq.Cluster("login-slurm", "slurm", transport=t)
    jobs_dir = f"{login_bed.home}/molq-login-jobs-{uuid.uuid4().hex[:8]}"
    sub = mq.Submitor(
        cluster, store=JobStore(tmp_path / "jobs.db"), jobs_dir=jobs_dir, polling_strategy=FixedStrategy(interval=0.5)
    )
    try:
        sched = mq.JobScheduling(partition=slurm_testbed.partition)
        done = sub.submit_job(command="echo hello from $SLURM_JOB_ID", scheduling=sched)
        held = sub.submit_job(argv=["sleep", "120"], scheduling=sched)
        assert held.scheduler_job_id and held.scheduler_job_id.isdigit()
        assert held.status() in (mq.JobState.SUBMITTED, mq.JobState.QUEUED, mq.JobState.RUNNING)
        record = done.wait(timeout=120)
        assert (record.state, record.exit_code) == (mq.JobState.SUCCEEDED, 0)
        assert t.read_text(record.metadata["molq.stdout_path"]) == f"hello from {done.scheduler_job_id}\n"
        held.cancel()
        assert held.status() is mq.JobState.CANCELLED
    finally:
        with contextlib.suppress(Exception):
            subprocess.run(["scancel", "-u", USER], capture_output=True, timeout=30)
        sub.close()
        t.close()
        shutil.rmtree(jobs_dir, ignore_errors=True)


@pytest.mark.sge
@pytest.mark.parametrize("control_master", [True, False], ids=["shared", "per-call"])
def test_grid_engine_over_a_noisy_strict_login_submits_tracks_and_cancels(
    login_bed: LoginBed, sge_testbed: None, tmp_path: Path, control_master: bool
) -> None:
    """qsub's number, qstat -xml, qstat -j and qacct output and qdel's verdict are read
    exactly through a login that greets, sets -e/-u and prints to stderr."""
    login_bed.startup(bashrc=NOISY + STRICT, profile=NOISY)
    t = login_bed.transport(control_master=control_master)
    cluster = mq.Cluster("login-sge", "sge", transport=t)
    jobs_dir = f"{login_bed.home}/molq-login-jobs-{uuid.uuid4().hex[:8]}"
    sub = mq.Submitor(
        cluster, store=JobStore(tmp_path / "jobs.db"), jobs_dir=jobs_dir, polling_strategy=FixedStrategy(interval=0.5)
    )
    try:
        done = sub.submit_job(command="echo hello from $JOB_ID")
        held = sub.submit_job(argv=["sleep", "120"])
        assert held.scheduler_job_id and held.scheduler_job_id.isdigit()
        record = done.wait(timeout=120)
        assert (record.state, record.exit_code) == (mq.JobState.SUCCEEDED, 0), record.failure_reason
        assert t.read_text(record.metadata["molq.stdout_path"]) == f"hello from {done.scheduler_job_id}\n"
        # the marker lookup reads qstat -j '*' through the same login
        found = SGEScheduler(transport=t).find_submissions([(held.job_id, sub.get_job(held.job_id).job_dir)])
        assert found == {held.job_id: held.scheduler_job_id}
        held.cancel()
        assert held.status() is mq.JobState.CANCELLED
        gone = subprocess.run(["qstat", "-j", held.scheduler_job_id], capture_output=True, timeout=30)
        assert gone.returncode == 1, "recorded cancelled while qmaster still held the job"
    finally:
        with contextlib.suppress(Exception):
            subprocess.run(["qdel", "-u", USER], capture_output=True, timeout=30)
        sub.close()
        t.close()
        shutil.rmtree(jobs_dir, ignore_errors=True)


def test_copies_through_rsync_survive_a_noisy_login(login_bed: LoginBed, remote_dir: str, tmp_path: Path) -> None:
    """rsync speaks its protocol on the remote shell's stdout: a greeting there used to
    end it with "protocol version mismatch -- is your shell clean?"."""
    login_bed.startup(bashrc=NOISY + STRICT, profile=NOISY)
    source = tmp_path / "in"
    source.mkdir()
    (source / "a.txt").write_text("alpha\n")
    (source / "b.bin").write_bytes(os.urandom(200_000))
    with opened(login_bed) as t:
        t.upload(source / "a.txt", f"{remote_dir}/one/a.txt")
        assert t.read_text(f"{remote_dir}/one/a.txt") == "alpha\n"
        t.upload(source, f"{remote_dir}/tree", recursive=True)
        assert t.listdir(f"{remote_dir}/tree") == ["a.txt", "b.bin"]
        t.download(f"{remote_dir}/tree", tmp_path / "back", recursive=True)
        assert (tmp_path / "back" / "b.bin").read_bytes() == (source / "b.bin").read_bytes()
        t.download(f"{remote_dir}/one/a.txt", tmp_path / "a-copy.txt")
        assert (tmp_path / "a-copy.txt").read_text() == "alpha\n"
