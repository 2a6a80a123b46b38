"""Fixtures for tests against the real OpenSSH server of ``scripts/sshd-up.sh``.

Tests that need it take ``ssh_testbed`` and carry ``@pytest.mark.ssh``; when the
server is not up they are skipped with the reason, never passed. Set
``MOLQ_REQUIRE_SSH=1`` (as CI does once it has started the server) to turn that
skip into a failure.

The tests reach the server through an ssh config of their own (written here,
with aliases ``molq-test``, ``molq-test-root``, ``molq-test-jump`` (through
``molq-test`` as a ProxyJump host) and ``molq-test-agent`` (no key file: an
ssh-agent must log in), so ``~/.ssh`` is not touched except for molq's own
control-socket directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.options import SshTransportOptions
from molq.transport.ssh import SshTransport

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "scripts"
STATE = Path(os.environ.get("MOLQ_SSHD_STATE", "/run/molq-sshd"))
SSHD_LOG = Path(os.environ.get("MOLQ_TESTBED_LOG", "/var/log/molq-testbed")) / "sshd.log"

# exit codes of `scripts/sshd-up.sh --check`
_CHECK_REASONS = {3: "not root", 4: "openssh-server or rsync is not installed", 5: "sshd is down"}


@dataclass(frozen=True)
class SshTestbed:
    """The running server, a client config for it, and an outage switch."""

    host: str
    port: int
    user: str
    key: Path
    known_hosts: Path
    config: Path
    alias: str = "molq-test"
    root_alias: str = "molq-test-root"
    home: str = ""

    def options(self, alias: str | None = None, **kwargs: Any) -> SshTransportOptions:
        return SshTransportOptions(alias or self.alias, ssh_opts=("-F", str(self.config)), **kwargs)

    def transport(self, alias: str | None = None, **kwargs: Any) -> SshTransport:
        return SshTransport(self.options(alias, **kwargs))

    def cluster(self, scheduler: str = "local", *, alias: str | None = None, name: str | None = None) -> mq.Cluster:
        return mq.Cluster.from_ssh_alias(alias or self.alias, scheduler=scheduler, name=name, config_path=self.config)

    def script(self, name: str) -> None:
        done = subprocess.run(["bash", str(SCRIPTS / name)], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}): {done.stdout}{done.stderr}")

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """sshd down (its open connections too, as when the host goes away) for the block,
        up again afterwards even if the block fails."""
        self.script("sshd-down.sh")
        try:
            yield
        finally:
            self.script("sshd-up.sh")

    def logins(self) -> int:
        """Accepted logins so far, from the server's log (to count real connections)."""
        try:
            return len(re.findall(r"Accepted publickey for ", SSHD_LOG.read_text(errors="replace")))
        except OSError:
            return -1


def _unavailable(reason: str) -> None:
    if os.environ.get("MOLQ_REQUIRE_SSH") == "1":
        pytest.fail(f"MOLQ_REQUIRE_SSH=1 but the sshd testbed is not usable: {reason}")
    pytest.skip(f"sshd testbed not usable: {reason}")


def _read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


@pytest.fixture(scope="session")
def ssh_testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestbed]:
    """Skip (or, with MOLQ_REQUIRE_SSH=1, fail) unless ``sshd-up.sh --check`` says the
    server is up and a key login works."""
    check = SCRIPTS / "sshd-up.sh"
    if not check.is_file():
        _unavailable(f"{check} is missing")
    try:
        proc = subprocess.run(["bash", str(check), "--check"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        _unavailable("scripts/sshd-up.sh --check did not answer within 60 s")
    lines = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    detail = lines[-1] if lines else "(no output)"
    if proc.returncode in _CHECK_REASONS:
        _unavailable(f"{_CHECK_REASONS[proc.returncode]}: {detail}")
    if proc.returncode != 0:
        pytest.fail(f"scripts/sshd-up.sh --check broke (rc {proc.returncode}): {proc.stdout}{proc.stderr}")
    env = _read_env(STATE / "testbed.env")
    config = tmp_path_factory.mktemp("ssh") / "config"
    config.write_text(
        f"Host molq-test molq-test-root\n"
        f"  HostName {env['HOST']}\n  Port {env['PORT']}\n"
        f"  IdentityFile {env['KEY']}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {env['KNOWN_HOSTS']}\n  StrictHostKeyChecking yes\n"
        f"Host molq-test\n  User {env['USER']}\n"
        f"Host molq-test-root\n  User root\n"
        # the same server again, reached through molq-test as a jump host
        f"Host molq-test-jump\n  HostName {env['HOST']}\n  Port {env['PORT']}\n  User {env['USER']}\n"
        f"  ProxyJump molq-test\n  IdentityFile {env['KEY']}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {env['KNOWN_HOSTS']}\n"
        # no key file at all: only an ssh-agent can log in
        f"Host molq-test-agent\n  HostName {env['HOST']}\n  Port {env['PORT']}\n  User {env['USER']}\n"
        f"  IdentityFile none\n  UserKnownHostsFile {env['KNOWN_HOSTS']}\n"
    )
    config.chmod(0o600)
    import pwd

    bed = SshTestbed(
        host=env["HOST"],
        port=int(env["PORT"]),
        user=env["USER"],
        key=Path(env["KEY"]),
        known_hosts=Path(env["KNOWN_HOSTS"]),
        config=config,
        home=pwd.getpwnam(env["USER"]).pw_dir,
    )
    yield bed
    for alias in (bed.alias, bed.root_alias):  # stop the masters this session started
        bed.transport(alias).close()


@pytest.fixture
def remote(ssh_testbed: SshTestbed) -> Iterator[SshTransport]:
    """A transport to molqtest@, closed afterwards."""
    t = ssh_testbed.transport()
    yield t
    t.close()


@pytest.fixture
def remote_dir(ssh_testbed: SshTestbed) -> Iterator[str]:
    """A fresh directory under the remote user's home, removed afterwards."""
    path = f"{ssh_testbed.home}/molq-tests/{uuid.uuid4().hex[:12]}"
    t = ssh_testbed.transport()
    t.mkdir(path, parents=True)
    yield path
    with contextlib.suppress(Exception):
        t.remove(path, recursive=True)
