from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from molq.ssh_config import (
    SshHost,
    _parse_ssh_g,
    list_ssh_hosts,
    resolve_ssh_host,
    ssh_alias_names,
    to_ssh_target,
)

needs_ssh = pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client (ssh) is not installed")


@pytest.fixture
def ssh_dir(tmp_path: Path) -> Path:
    """A config with Include (glob, absolute, missing), patterns and Match.

    Include paths are absolute: ssh reads relative ones under the real
    ~/.ssh of the user, which a test cannot redirect.
    """
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    (conf_d / "10-work.conf").write_text("Host work-login\n  HostName login.work.example\n  User alice\n  Port 2222\n")
    (conf_d / "20-lab.conf").write_text("Host lab lab-*\n  HostName lab.example\n")
    (conf_d / "notes.txt").write_text("Host not-included\n")
    (tmp_path / "extra").write_text("Host=extra\n")
    (tmp_path / "config").write_text(
        "# comment line\n"
        f"Include {conf_d}/*.conf\n"
        f"Include {tmp_path / 'extra'}\n"
        f"Include {tmp_path / 'missing-file'}\n"
        "\n"
        "Host alpha beta\n"
        "  HostName alpha.example\n"
        "  IdentityFile ~/.ssh/id_alpha\n"
        "Host *\n  ServerAliveInterval 30\n"
        "Host !gamma *.internal ?ost\n"
        "Match originalhost alpha\n  User matched\n"
        'Host "quoted"\n'
        "HOST alpha delta\n"
        "host\tepsilon\n"
    )
    return tmp_path


def test_alias_names_follow_includes_and_skip_patterns(ssh_dir: Path) -> None:
    assert ssh_alias_names(ssh_dir / "config") == [
        "work-login",
        "lab",
        "extra",
        "alpha",
        "beta",
        "quoted",
        "delta",
        "epsilon",
    ]


def test_alias_names_accept_str_paths_and_missing_files(ssh_dir: Path, tmp_path: Path) -> None:
    assert ssh_alias_names(str(ssh_dir / "config"))[0] == "work-login"
    assert ssh_alias_names(tmp_path / "absent") == []


def test_alias_names_default_to_home_ssh_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ssh_alias_names() == []
    (tmp_path / ".ssh" / "d").mkdir(parents=True)
    (tmp_path / ".ssh" / "d" / "a.conf").write_text("Host from-include\n")
    (tmp_path / ".ssh" / "config").write_text("Include d/*.conf ~/.ssh/d/a.conf\nHost home\n")
    assert ssh_alias_names() == ["from-include", "home"]


def test_relative_includes_are_under_home_ssh_for_any_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "home" / ".ssh" / "shared").write_text("Host shared\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "shared").write_text("Host wrong\n")
    (tmp_path / "elsewhere" / "config").write_text("Include shared\nHost mine\n")
    assert ssh_alias_names(tmp_path / "elsewhere" / "config") == ["shared", "mine"]


def test_include_cycles_do_not_loop(tmp_path: Path, monkeypatch) -> None:
    # ssh itself rejects such a file ("Too many recursive configuration includes").
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Include config other\nHost only\n")
    (tmp_path / ".ssh" / "other").write_text("Host second\nInclude ~/.ssh/config\n")
    assert ssh_alias_names() == ["second", "only"]


def test_parse_ssh_g_output() -> None:
    output = (
        "host alpha\nuser bob\nhostname alpha.example\nport 2200\n"
        "identityfile ~/.ssh/id_a\nidentityfile ~/.ssh/id_b\n"
        "proxyjump jump\nforwardagent yes\nserveraliveinterval 30\n"
    )
    host = _parse_ssh_g("alpha", output)
    assert (host.alias, host.hostname, host.user, host.port) == ("alpha", "alpha.example", "bob", 2200)
    assert host.identity_file == str(Path("~/.ssh/id_a").expanduser())
    assert host.proxy_jump == "jump" and host.forward_agent is True
    assert host.extra["serveraliveinterval"] == "30" and "port" not in host.extra
    plain = _parse_ssh_g("x", "hostname x\nport 22\nforwardagent no\nproxyjump none\n")
    assert plain.forward_agent is False and plain.proxy_jump is None and plain.port == 22


def test_target_and_ssh_target() -> None:
    host = SshHost("a", hostname="h.example", user="me", port=2222)
    assert host.target == "me@h.example:2222"
    assert SshHost("a", hostname="h", port=22).target == "h"
    assert to_ssh_target(host) == "me@h.example"
    assert to_ssh_target(SshHost("a", hostname="h")) == "h"
    assert to_ssh_target(SshHost("a")) == "a"


def test_resolve_without_ssh_raises_oserror() -> None:
    with pytest.raises(OSError, match="not found"):
        resolve_ssh_host("alpha", ssh_bin="molq-no-such-ssh-binary")


@pytest.mark.parametrize("alias", ["", "-oProxyCommand=touch /tmp/x", "two words"])
def test_resolve_rejects_option_like_aliases(alias: str) -> None:
    with pytest.raises(ValueError):
        resolve_ssh_host(alias)


def test_list_without_ssh_gives_bare_hosts(ssh_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(ssh_dir / "empty-bin"))
    hosts = list_ssh_hosts(ssh_dir / "config")
    assert hosts[0] == SshHost("work-login")
    assert len(hosts) == 8


@needs_ssh
def test_resolve_with_real_ssh_honours_config_path(ssh_dir: Path) -> None:
    host = resolve_ssh_host("work-login", config_path=ssh_dir / "config")
    assert (host.hostname, host.user, host.port) == ("login.work.example", "alice", 2222)
    alpha = resolve_ssh_host("alpha", config_path=ssh_dir / "config")
    assert alpha.hostname == "alpha.example"
    assert alpha.user == "matched"  # ssh applies the Match block we do not parse
    assert alpha.identity_file is not None and alpha.identity_file.endswith("id_alpha")
    assert alpha.extra["serveraliveinterval"] == "30"


@needs_ssh
def test_list_with_real_ssh(ssh_dir: Path) -> None:
    hosts = {h.alias: h for h in list_ssh_hosts(ssh_dir / "config")}
    assert list(hosts)[:2] == ["work-login", "lab"]
    assert hosts["lab"].hostname == "lab.example"
    assert hosts["work-login"].target == "alice@login.work.example:2222"


@needs_ssh
def test_resolve_reports_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("Host a\n  NoSuchOption yes\n")
    with pytest.raises(OSError, match="ssh -G a"):
        resolve_ssh_host("a", config_path=tmp_path / "config")
