"""SshTransport without a server: command strings, failure classification, retry policy.

The real-sshd tests are in tests/integration/ssh/.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from molq.errors import SshAuthError, SshConnectionError, SshUnreachableError, TransportError
from molq.options import SshTransportOptions
from molq.transport import SshTransport
from molq.transport._ssh_command import (
    NO_CWD,
    SshSettings,
    build_command,
    connection_error,
    private_socket,
    quote_path,
    rsync_shell,
    split_output,
    split_status,
)


def sh(command: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run a command string the way sshd does: ``$SHELL -c <string>``."""
    return subprocess.run(["sh", "-c", command], input=stdin, capture_output=True, check=False)


@pytest.mark.parametrize(
    ("path", "quoted"),
    [
        ("~", "~"),
        ("~/", "~/"),
        ("~/a b", "~/'a b'"),
        ("/x/~/y", "'/x/~/y'"),
        ("~user", "'~user'"),
        ("it's", "'it'\"'\"'s'"),
        ("$HOME", "'$HOME'"),
    ],
)
def test_quote_path_leaves_only_a_leading_tilde_unquoted(path: str, quoted: str) -> None:
    assert quote_path(path) == quoted


def test_command_string_runs_argv_verbatim_with_env_and_cwd(tmp_path: Path) -> None:
    argv = ["printf", "%s|", "a b", "it's", "$HOME", "~", "`id`", "\u00e9\n"]
    cmd = build_command(argv, cwd=str(tmp_path), env={"MOLQ_X": "v w", "Y": "$(id)"})
    done = sh(cmd)
    status, err = split_status(done.stderr)
    assert (status, err) == (0, b"")
    assert split_output(done.stdout).decode() == "a b|it's|$HOME|~|`id`|\u00e9\n|"
    probe = sh(
        build_command(
            ["sh", "-c", 'printf "%s %s %s" "$MOLQ_X" "$Y" "$PWD"'],
            cwd=str(tmp_path),
            env={"MOLQ_X": "v w", "Y": "$(id)"},
        )
    )
    assert split_output(probe.stdout).decode() == f"v w $(id) {tmp_path}"


def test_status_trailer_carries_the_real_exit_code_and_keeps_stderr() -> None:
    done = sh(build_command(["sh", "-c", "echo oops >&2; printf 'no newline' >&2; exit 255"]))
    assert done.returncode == 255
    assert split_status(done.stderr) == (255, b"oops\nno newline")
    assert split_status(b"ssh: connect to host x port 22: Connection refused\r\n")[0] is None
    # a marker that is not the final line does not count
    assert split_status(b"\036molq-exit 3\nmore")[0] is None


def test_missing_cwd_is_reported_apart_from_the_command() -> None:
    done = sh(build_command(["true"], cwd="/no/such/dir"))
    assert split_status(done.stderr)[0] == NO_CWD


def test_tilde_in_cwd_expands_in_the_shell(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", "-c", build_command(["pwd"], cwd="~")],
        capture_output=True,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert split_output(done.stdout).decode().strip() == str(tmp_path)


def test_env_names_are_checked() -> None:
    with pytest.raises(ValueError, match="environment variable name"):
        build_command(["true"], env={"A; rm -rf /": "x"})
    with pytest.raises(ValueError):
        build_command([])


@pytest.mark.parametrize(
    ("stderr", "kind", "may_have_run"),
    [
        ("me@h: Permission denied (publickey).\r\n", SshAuthError, False),
        ("Host key verification failed.\r\n", SshAuthError, False),
        ("ssh: connect to host h port 22: Connection refused\r\n", SshUnreachableError, False),
        ("ssh: connect to host h port 22: Connection timed out\r\n", SshUnreachableError, False),
        ("ssh: Could not resolve hostname h: Name or service not known\r\n", SshUnreachableError, False),
        ("kex_exchange_identification: read: Connection reset by peer\r\n", SshUnreachableError, False),
        ("Connection to h closed by remote host.\r\n", SshConnectionError, True),
        ("client_loop: send disconnect: Broken pipe\r\n", SshConnectionError, True),
        (
            "mux_client_request_session: session request failed: Session open refused by peer\r\n",
            SshConnectionError,
            False,
        ),
        ("", SshConnectionError, True),
    ],
)
def test_ssh_failures_are_classified(stderr: str, kind: type, may_have_run: bool) -> None:
    exc = connection_error("h", 255, stderr, ["true"])
    assert type(exc) is kind
    assert exc.may_have_run is may_have_run
    assert exc.returncode == 255 and exc.stderr == stderr and exc.command == ["true"]
    assert isinstance(exc, TransportError)


def test_no_trailer_without_255_blames_the_login_shell() -> None:
    exc = connection_error("h", 1, "s=0: Command not found.\n", ["true"])
    assert type(exc) is TransportError and "POSIX login shell" in str(exc)


def test_rsync_shell_quotes_for_rsync_splitting() -> None:
    assert rsync_shell(["ssh", "-F", "/a b/cfg", "-o", "X='y'"]) == "ssh -F '/a b/cfg' -o \"X='y'\""
    with pytest.raises(Exception, match="both quote kinds"):
        rsync_shell(["a'b\"c"])


def test_private_socket_dir_is_ours_and_short(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="h", dir="/tmp"))  # pytest's own tmp_path is too deep
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    settings = SshSettings(user="u", hostname="h", port="22")
    path = private_socket(settings, ["ssh", "-i", "k1"])
    assert path is not None and path.startswith(str(tmp_path / ".ssh" / "molq"))
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
    assert private_socket(settings, ["ssh", "-i", "k2"]) != path  # another key, another master
    # a home too deep for a unix socket path falls back to /tmp/molq-ssh-<uid>
    deep = tmp_path / ("d" * 80)
    deep.mkdir()
    monkeypatch.setenv("HOME", str(deep))
    fallback = private_socket(settings, ["ssh"])
    assert fallback is not None and fallback.startswith(f"/tmp/molq-ssh-{os.getuid()}/")
    assert len(fallback) + 17 < 104
    shutil.rmtree(tmp_path)


class Scripted(SshTransport):
    """An SshTransport whose ssh processes are replaced by scripted answers."""

    def __init__(self, answers: list[tuple[int, bytes, bytes]], **options: object) -> None:
        super().__init__(SshTransportOptions("h", **options))  # type: ignore[arg-type]
        self.answers = answers
        self.calls: list[list[str]] = []
        self._argv = ["ssh", "-o", "ControlMaster=auto"]
        self._mux = True

    def _process(self, argv, *, input, timeout):  # type: ignore[override]
        self.calls.append(argv)
        return self.answers.pop(0)


OK = (0, b"", b"")
DROPPED = (255, b"", b"client_loop: send disconnect: Broken pipe\r\n")
REFUSED = (255, b"", b"ssh: connect to host h port 22: Connection refused\r\n")
MUX_REFUSED = (255, b"", b"mux_client_request_session: session request failed: Session open refused by peer\r\n")


def done(status: int, out: bytes = b"") -> tuple[int, bytes, bytes]:
    return (status, out, b"\036molq-exit %d\n" % status)


def test_safe_operation_reconnects_and_retries_once() -> None:
    t = Scripted([OK, DROPPED, OK, done(0)])  # master, drop, master again, retry
    assert t.exists("/x") is True
    assert [c[-2:] for c in t.calls if "-fN" in c] == [["--", "h"], ["--", "h"]]
    assert len(t.calls) == 4


def test_run_is_not_repeated_when_it_may_have_started() -> None:
    t = Scripted([OK, DROPPED])
    with pytest.raises(SshConnectionError) as info:
        t.run(["make", "install"])
    assert info.value.may_have_run is True and len(t.calls) == 2


def test_run_is_retried_when_it_cannot_have_started() -> None:
    t = Scripted([OK, MUX_REFUSED, OK, done(3, b"hi")])
    result = t.run(["sh", "-c", "echo hi; exit 3"])
    assert (result.returncode, result.stdout, result.argv) == (3, "hi", ("sh", "-c", "echo hi; exit 3"))


def test_a_host_gone_for_good_raises_after_one_reconnect() -> None:
    t = Scripted([OK, REFUSED, REFUSED])
    with pytest.raises(SshUnreachableError):
        t.listdir("/x")
    assert len(t.calls) == 3


def test_auth_refusal_is_never_retried() -> None:
    t = Scripted([(255, b"", b"u@h: Permission denied (publickey).\r\n")])
    with pytest.raises(SshAuthError, match="authentication refused"):
        t.run(["true"])
    assert len(t.calls) == 1


def test_exit_255_of_the_command_itself_is_an_ordinary_result() -> None:
    t = Scripted([OK, (255, b"", b"\036molq-exit 255\n")])
    assert t.run(["sh", "-c", "exit 255"]).returncode == 255


def test_exit_codes_of_file_helpers_become_os_errors() -> None:
    t = Scripted([OK, done(2), done(17), done(21), done(20), (0, b"", b"boom\n\036molq-exit 9\n")])
    with pytest.raises(FileNotFoundError):
        t.read_bytes("/x")
    with pytest.raises(FileExistsError):
        t.mkdir("/x", exist_ok=False)
    with pytest.raises(IsADirectoryError):
        t.remove("/x")
    with pytest.raises(NotADirectoryError):
        t.listdir("/x")
    with pytest.raises(TransportError, match="boom"):
        t.chmod("/x", 0o600)


def test_mkdir_without_exist_ok_is_not_retried_after_a_drop() -> None:
    t = Scripted([OK, DROPPED])
    with pytest.raises(SshConnectionError):
        t.mkdir("/jobs/a", exist_ok=False)


def test_dangerous_removals_are_refused() -> None:
    t = Scripted([])
    for path in ("", "/", "//", "~", "~/", ".", "/.."):
        with pytest.raises(ValueError):
            t.remove(path, recursive=True)
    assert t.calls == []


def test_expand_path_uses_remote_values_without_a_shell() -> None:
    t = Scripted([OK, (0, b"1/home/me\x001me\x000\x00", b"\036molq-exit 0\n")])
    assert t.expand_path("~/w/$USER/${NOPE}/x") == "/home/me/w/me/${NOPE}/x"
    assert t.expand_path("rel/dir") == "/home/me/rel/dir"  # cached: no more calls
    assert t.home() == "/home/me" and len(t.calls) == 2
    assert " molq HOME USER NOPE; s=$?" in t.calls[1][-1]  # one query for all three


def test_no_spawn_detached_so_the_local_backend_uses_its_launcher() -> None:
    assert not hasattr(SshTransport, "spawn_detached")


def _argv_for(tmp_path: Path, config: str, **options: object) -> list[str]:
    cfg = tmp_path / "config"
    cfg.write_text(config)
    t = SshTransport(SshTransportOptions("molq-alias", ssh_opts=("-F", str(cfg)), **options))  # type: ignore[arg-type]
    return t._ssh_argv()


def test_command_line_respects_the_users_config(tmp_path: Path) -> None:
    """ssh -G is read (no connection is made): the user's own ControlPath, persist and
    host key policy are left alone; ask becomes accept-new (BatchMode cannot ask)."""
    own = _argv_for(
        tmp_path,
        "Host molq-alias\n  ControlPath /tmp/u-%C\n  ControlPersist 5m\n"
        "  StrictHostKeyChecking yes\n  ServerAliveInterval 20\n",
    )
    text = " ".join(own)
    assert "ControlMaster=auto" in text and "ControlPath=" not in text and "ControlPersist" not in text
    assert "StrictHostKeyChecking" not in text and "ServerAlive" not in text
    assert own[-2:] == ["-F", str(tmp_path / "config")]  # the user's arguments come last
    default = " ".join(_argv_for(tmp_path, "Host molq-alias\n  Port 2200\n"))
    assert "BatchMode=yes" in default and "StrictHostKeyChecking=accept-new" in default
    assert "ControlPersist=60s" in default and "ServerAliveInterval=15" in default
    assert "RemoteCommand=none" in default and "ClearAllForwardings=yes" in default
    off = " ".join(_argv_for(tmp_path, "", control_master=False))
    assert "Control" not in off


def test_explicit_control_path_and_no_usable_socket_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _argv_for(tmp_path, "", control_path="~/cm-%C", control_persist="5s")
    assert f"ControlPath={os.path.expanduser('~/cm-%C')}" in argv and "ControlPersist=5s" in argv
    import molq.transport.ssh as ssh_module

    monkeypatch.setattr(ssh_module, "private_socket", lambda *a: None)
    cfg = tmp_path / "config"
    t = SshTransport(SshTransportOptions("molq-alias", ssh_opts=("-F", str(cfg))))
    assert "ControlMaster=auto" not in t._ssh_argv() and t.master_running() is False
    t._ensure_master()  # nothing to start: no socket to share
    assert t.process_count == 0


def test_cluster_host_builds_an_ssh_transport_without_io() -> None:
    import molq as mq

    cluster = mq.Cluster("hpc", "slurm", host="me@login.example")
    assert isinstance(cluster.transport, SshTransport) and cluster.is_remote
    assert cluster.transport.options.host == "me@login.example"
    assert cluster.transport._argv is None  # ssh -G not run yet
