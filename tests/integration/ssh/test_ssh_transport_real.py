"""SshTransport against a real sshd: commands, files, copies, errors, one connection."""

from __future__ import annotations

import filecmp
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from molq.errors import SshAuthError, SshUnreachableError, TransportError
from molq.options import SshTransportOptions
from molq.transport.ssh import SshTransport

pytestmark = pytest.mark.ssh

# names that break naive quoting: blanks, both quotes, $, a leading dash, glob
# characters, non-ASCII, a backslash
NASTY = [
    "a b.txt",
    "it's.txt",
    'say "hi".txt',
    "$HOME.txt",
    "-dash.txt",
    "*star?.txt",
    "ünïcødé ✓.txt",
    "back\\slash.txt",
]


def test_run_passes_argv_env_cwd_and_stdin_verbatim(remote: SshTransport, remote_dir: str) -> None:
    argv = ["printf", "%s|", *NASTY, "~", "`id`", "$(id)"]
    assert remote.run(argv).stdout == "|".join([*NASTY, "~", "`id`", "$(id)"]) + "|"
    probe = remote.run(
        ["sh", "-c", 'printf "%s;%s;" "$X" "$PWD"; cat'], cwd=remote_dir, env={"X": "it's $HOME"}, input="from stdin\n"
    )
    assert probe.stdout == f"it's $HOME;{remote_dir};from stdin\n"
    assert remote.run(["pwd"], cwd="~").stdout.strip() == remote.home()


def test_exit_codes_and_stderr_come_back_exactly(remote: SshTransport) -> None:
    result = remote.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (result.returncode, result.stdout, result.stderr) == (7, "out\n", "err\n")
    # 255 from the command itself is an ordinary result, not a connection failure
    assert remote.run(["sh", "-c", "exit 255"]).returncode == 255
    big = remote.run(["head", "-c", "3000000", "/dev/zero"])
    assert len(big.stdout_bytes) == 3_000_000


def test_missing_command_and_cwd_are_errors(remote: SshTransport) -> None:
    with pytest.raises(TransportError, match="command not found on molq-test: no-such-molq-cmd") as info:
        remote.run(["no-such-molq-cmd", "x"])
    assert info.value.returncode == 127 and "not found" in (info.value.stderr or "")
    with pytest.raises(TransportError, match="working directory does not exist"):
        remote.run(["true"], cwd="/no/such/dir")


def test_remote_user_home_and_expansion(ssh_testbed: Any, remote: SshTransport) -> None:
    assert remote.run(["id", "-un"]).stdout.strip() == ssh_testbed.user
    assert remote.home() == ssh_testbed.home
    assert remote.expand_path("~/w/$USER/${LOGNAME}") == f"{ssh_testbed.home}/w/{ssh_testbed.user}/{ssh_testbed.user}"
    assert remote.expand_path("~root") == "/root"
    assert remote.expand_path("rel") == f"{ssh_testbed.home}/rel"
    assert remote.expand_path("$NO_SUCH_MOLQ_VAR/x") == f"{ssh_testbed.home}/$NO_SUCH_MOLQ_VAR/x"


def test_file_operations(remote: SshTransport, remote_dir: str) -> None:
    data = bytes(range(256)) * 1000
    path = f"{remote_dir}/new/deeper/blob.bin"
    with pytest.raises(FileNotFoundError):
        remote.write_bytes(path, data)
    remote.write_bytes(path, data, mode=0o640, parents=True)
    assert remote.read_bytes(path) == data
    assert remote.run(["stat", "-c", "%a", path]).stdout.strip() == "640"
    assert remote.listdir(f"{remote_dir}/new/deeper") == ["blob.bin"]  # no temp file left behind
    for name in NASTY + ["new\nline.txt", ".hidden"]:
        remote.write_text(f"{remote_dir}/{name}", name)
        assert remote.read_text(f"{remote_dir}/{name}") == name
    assert remote.listdir(remote_dir) == sorted(NASTY + ["new\nline.txt", ".hidden", "new"])
    assert remote.exists(remote_dir) and remote.is_dir(remote_dir) and not remote.is_file(remote_dir)
    assert remote.is_file(path) and not remote.exists(f"{remote_dir}/nope")
    with pytest.raises(FileNotFoundError):
        remote.read_text(f"{remote_dir}/nope")
    with pytest.raises(IsADirectoryError):
        remote.read_text(remote_dir)
    with pytest.raises(NotADirectoryError):
        remote.listdir(path)
    with pytest.raises(FileNotFoundError):
        remote.listdir(f"{remote_dir}/nope")


def test_mkdir_remove_rename_chmod(remote: SshTransport, remote_dir: str) -> None:
    job = f"{remote_dir}/jobs/one"
    with pytest.raises(FileNotFoundError):
        remote.mkdir(job, parents=False, exist_ok=False)
    remote.mkdir(job, parents=True, exist_ok=False, mode=0o700)
    assert remote.run(["stat", "-c", "%a", job]).stdout.strip() == "700"
    remote.mkdir(f"{remote_dir}/plain")  # mode 0o777 minus the remote umask
    umask = int(remote.run(["sh", "-c", "umask"]).stdout, 8)
    assert remote.run(["stat", "-c", "%a", f"{remote_dir}/plain"]).stdout.strip() == f"{0o777 & ~umask:o}"
    with pytest.raises(FileExistsError):
        remote.mkdir(job, exist_ok=False)  # molq's job directories rely on this
    remote.mkdir(job, exist_ok=True)
    remote.write_text(f"{job}/f", "x")
    with pytest.raises(FileExistsError):
        remote.mkdir(f"{job}/f", exist_ok=True)  # a file is not a directory
    remote.chmod(f"{job}/f", 0o604)
    assert remote.run(["stat", "-c", "%a", f"{job}/f"]).stdout.strip() == "604"
    remote.rename(f"{job}/f", f"{job}/it's g")
    assert remote.listdir(job) == ["it's g"]
    with pytest.raises(IsADirectoryError):
        remote.remove(job)
    remote.remove(f"{job}/missing")  # nothing to do
    remote.remove(f"{remote_dir}/jobs", recursive=True)
    assert not remote.exists(f"{remote_dir}/jobs")


def _tree(root: Path) -> None:
    for i, name in enumerate(NASTY):
        sub = root / ("sub dir ✓" if i % 2 else "") / name
        sub.parent.mkdir(parents=True, exist_ok=True)
        sub.write_bytes(os.urandom(100 + i * 1000))
    (root / "skip.log").write_text("excluded")
    (root / "link").symlink_to("a b.txt")


def _same(a: Path, b: Path, ignore: tuple[str, ...] = ()) -> None:
    cmp = filecmp.dircmp(a, b, ignore=list(ignore))
    assert not (cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files), cmp.report()
    for sub in cmp.common_dirs:
        _same(a / sub, b / sub, ignore)


def test_upload_download_round_trip_of_a_nasty_tree(remote: SshTransport, remote_dir: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src)
    target = f"{remote_dir}/up 'loaded' ✓/deep"
    remote.upload(src, target, recursive=True, exclude=["*.log"])  # missing parents are created
    assert "skip.log" not in remote.listdir(target)
    assert remote.run(["readlink", f"{target}/link"]).stdout.strip() == "a b.txt"
    back = tmp_path / "back"
    remote.download(target, back, recursive=True)
    _same(src, back, ignore=("skip.log",))
    # contents land in an existing destination too (merge), as with LocalTransport
    remote.download(target, back, recursive=True)
    _same(src, back, ignore=("skip.log",))


def test_single_files_and_copy_errors(remote: SshTransport, remote_dir: str, tmp_path: Path) -> None:
    local = tmp_path / "ünï 'q'.txt"
    local.write_text("payload")
    remote.upload(local, f"{remote_dir}/a/b/c d.txt")
    assert remote.read_text(f"{remote_dir}/a/b/c d.txt") == "payload"
    remote.upload(local, f"{remote_dir}/a")  # into an existing directory
    assert remote.read_text(f"{remote_dir}/a/ünï 'q'.txt") == "payload"
    remote.download(f"{remote_dir}/a/b/c d.txt", tmp_path / "x" / "y.txt")
    assert (tmp_path / "x" / "y.txt").read_text() == "payload"
    with pytest.raises(FileNotFoundError):
        remote.download(f"{remote_dir}/missing", tmp_path / "m")
    with pytest.raises(IsADirectoryError):
        remote.download(f"{remote_dir}/a", tmp_path / "d")
    with pytest.raises(IsADirectoryError):
        remote.upload(tmp_path, f"{remote_dir}/z")
    with pytest.raises(FileNotFoundError):
        remote.upload(tmp_path / "missing", f"{remote_dir}/z")


def test_everything_shares_one_connection(ssh_testbed: Any, remote_dir: str, tmp_path: Path) -> None:
    t = ssh_testbed.transport(control_persist="30s")
    try:
        t.run(["true"])
        assert t.master_running()
        before = ssh_testbed.logins()
        (tmp_path / "f").write_text("x")
        for i in range(10):
            t.run(["true"])
            t.write_text(f"{remote_dir}/f{i}", "x")
            t.exists(f"{remote_dir}/f{i}")
            t.upload(tmp_path / "f", f"{remote_dir}/u{i}")
        assert ssh_testbed.logins() == before  # 40 operations, no new login
    finally:
        t.close()
    assert not t.master_running()


def test_timeout_kills_the_call_and_the_transport_stays_usable(remote: SshTransport) -> None:
    start = time.monotonic()
    with pytest.raises(TransportError, match="timed out after 1 s"):
        remote.run(["sleep", "30"], timeout=1)
    assert time.monotonic() - start < 5
    assert remote.run(["echo", "ok"]).stdout == "ok\n"


def test_wrong_key_is_an_auth_error_quickly(ssh_testbed: Any, tmp_path: Path) -> None:
    key = tmp_path / "wrong"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    t = SshTransport(
        SshTransportOptions(
            f"{ssh_testbed.user}@{ssh_testbed.host}",
            port=ssh_testbed.port,
            identity_file=str(key),
            ssh_opts=(
                "-F",
                "/dev/null",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                f"UserKnownHostsFile={ssh_testbed.known_hosts}",
            ),
        )
    )
    start = time.monotonic()
    with pytest.raises(SshAuthError, match="authentication refused.*Permission denied") as info:
        t.run(["true"])
    assert time.monotonic() - start < 5
    assert info.value.returncode == 255 and info.value.may_have_run is False
    with pytest.raises(SshAuthError):
        t.exists("/")


def test_closed_port_is_unreachable_quickly(ssh_testbed: Any) -> None:
    t = SshTransport(
        SshTransportOptions(
            f"{ssh_testbed.user}@127.0.0.1",
            port=1,
            connect_timeout=3,
            ssh_opts=("-F", "/dev/null", "-o", f"UserKnownHostsFile={ssh_testbed.known_hosts}"),
        )
    )
    start = time.monotonic()
    with pytest.raises(SshUnreachableError, match="Connection refused"):
        t.run(["true"])
    with pytest.raises(SshUnreachableError):
        t.upload(Path(__file__), "/tmp/x")
    assert time.monotonic() - start < 5


def test_proxyjump_from_the_config_is_honoured(ssh_testbed: Any) -> None:
    before = ssh_testbed.logins()
    t = ssh_testbed.transport("molq-test-jump", control_persist="5s")
    try:
        assert t.run(["id", "-un"]).stdout.strip() == ssh_testbed.user
        assert t.read_text("/etc/hostname")
    finally:
        t.close()
    assert ssh_testbed.logins() - before == 2  # the jump host, then the target through it


def test_a_key_held_by_ssh_agent_is_used(ssh_testbed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        no_agent = ssh_testbed.transport("molq-test-agent", control_master=False)
        monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
        with pytest.raises(SshAuthError):
            no_agent.run(["true"])
        subprocess.run(["ssh-add", "-q", str(ssh_testbed.key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        t = ssh_testbed.transport("molq-test-agent", control_master=False)
        assert t.run(["id", "-un"]).stdout.strip() == ssh_testbed.user
    finally:
        agent.terminate()
        agent.wait(10)
