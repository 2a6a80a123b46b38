"""The ``molq`` command line with plugins: ``molq plugins list`` and the CLI's own
Submitors attaching the config's plugins (through the real entry point)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MOLQ_HOME", "MOLCRAFTS_HOME")}
    env.update(MOLQ_HOME=str(home / ".molq"), MOLCRAFTS_HOME=str(home / ".molcrafts"), HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "molq.cli", *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".molq").mkdir()
    return tmp_path


def test_list_without_a_plugins_table_names_the_daemon_default(home: Path) -> None:
    result = run(home, "plugins", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["NAME", "SOURCE", "STATE", "NOTE"]
    assert "nerve  builtin  daemon default" in result.stdout
    assert "'molq daemon' attaches nerve" in result.stdout


def test_list_reads_the_plugins_table_and_names_missing_ones(home: Path) -> None:
    (home / ".molq" / "config.toml").write_text(
        "[plugins.nerve]\nenabled = true\nexpand_threshold = 4\n[plugins.not_installed]\n"
    )
    rows = json.loads(run(home, "plugins", "list", "--json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["nerve"]["state"] == "enabled" and by_name["nerve"]["settings"] == {"expand_threshold": 4}
    assert by_name["nerve"]["factory"] == "molq.plugins.nerve:create_plugin"
    assert by_name["not_installed"] == {
        "name": "not_installed",
        "source": "not installed",
        "factory": None,
        "group": None,
        "state": "missing",
        "settings": {},
    }


def test_list_reads_the_original_molqs_yaml_when_molq_has_no_config(home: Path) -> None:
    legacy = home / ".molcrafts" / "molq" / "config"
    legacy.mkdir(parents=True)
    (legacy / "config.yaml").write_text("plugins:\n  nerve:\n    enabled: false\n")
    result = run(home, "plugins", "list")
    assert "nerve  builtin  disabled" in result.stdout, result


def test_a_cli_submit_posts_to_the_configured_hub(home: Path, hub: Any) -> None:
    (home / ".molq" / "config.toml").write_text(
        f'[plugins.nerve]\ningest_url = "{hub.url}"\ndebounce_seconds = 0.05\nalias = "cli-box"\n'
    )
    result = run(home, "submit", "--wait", "--", "echo", "hi")
    assert result.returncode == 0, result.stderr
    seen = hub.wait_for(lambda rs: bool(rs))
    assert all(r.body["alias"] == "cli-box" for r in seen)
    assert any(e["extensions"]["molqJobId"] for r in seen for e in r.body["jobs"])


def test_an_unknown_plugin_in_the_config_is_one_warning_not_a_failure(home: Path) -> None:
    (home / ".molq" / "config.toml").write_text("[plugins.nope]\n")
    result = run(home, "submit", "--wait", "--", "true")
    assert result.returncode == 0, result.stderr
    assert "plugin 'nope' could not be attached (unknown plugin 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_daemon_attaches_nerve_at_its_default_address_when_no_plugin_is_configured(home: Path) -> None:
    import http.server
    import threading

    bodies: list[Any] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 17890), Handler)
    except OSError:
        pytest.skip("port 17890 (Nerve's default) is in use here")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        job = run(home, "submit", "-q", "--", "sleep", "30").stdout.strip()
        assert bodies == []  # other commands attach only configured plugins
        result = run(home, "daemon", "--once")
        assert result.returncode == 0, result.stderr
        assert bodies and bodies[-1][0] == "/v1/snapshot"
        assert [e["extensions"]["molqJobId"] for e in bodies[-1][1]["jobs"]] == [job]
    finally:
        run(home, "cancel", job)
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (None, "nerve  builtin  daemon default"),
        ("plugins:\n  nerve:\n    enabled: false\n", "nerve  builtin  disabled"),
        ("plugins:\n  nerve:\n    enabled: true\n", "nerve  builtin  enabled"),
    ],
)
def test_the_original_molqs_plugins_list_command_lines(home: Path, config: str | None, expected: str) -> None:
    # molq plugins list --config FILE, as the original's test_cli_setup.py::TestPluginsList runs it
    path = home / ("nope.yaml" if config is None else "config.yaml")
    if config is not None:
        path.write_text(config)
    result = run(home, "plugins", "list", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
