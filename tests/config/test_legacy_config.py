"""The original molq's config files keep working.

``files/`` holds configs written as the original documents them: ``full-0.8.yaml``
and ``remote-0.8.yaml`` are the examples of molq 0.8.1's docs/configuration.md,
``legacy-0.6.toml`` the same keys as molq 0.5/0.6 read them from config.toml.
``*.original.json`` is what the original itself loaded from each file
(``molq.config.load_config`` of molcrafts-molq 0.8.1 and 0.6.0, its dataclasses
dumped field by field), so these tests compare molq with the original's own reading.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.config import ConfigWarning, default_config_path, load_config, load_profile

FILES = Path(__file__).parent / "files"


def plain(value: Any) -> Any:
    """A loaded config as JSON-like data (how the .original.json files were written)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):
        return value.value
    return value


def same_as_original(ours: Any, original: Any, where: str = "") -> None:
    """Every field the original has, with its value (molq's extra fields aside)."""
    if isinstance(original, dict):
        assert isinstance(ours, dict), where
        for key, value in original.items():
            assert key in ours, f"{where}.{key} missing"
            same_as_original(ours[key], value, f"{where}.{key}")
    else:
        assert ours == original, f"{where}: molq {ours!r}, the original {original!r}"


@pytest.mark.parametrize("name", ["full-0.8.yaml", "legacy-0.6.toml"])
def test_molq_reads_what_the_original_read(name: str) -> None:
    config = load_config(FILES / name)
    original = json.loads((FILES / (name.rsplit(".", 1)[0] + ".original.json")).read_text())
    same_as_original({"profiles": plain(config.profiles), "plugins": plain(config.plugins)}, original)


def test_the_full_profile_in_molqs_own_terms() -> None:
    config = load_config(FILES / "full-0.8.yaml")
    gpu = config.profiles["gpu"]
    assert gpu.defaults.resources == mq.JobResources(
        cpu_count=8, memory=mq.Memory.gb(32), gpu_count=1, time_limit=mq.Duration.hours(4)
    )
    assert gpu.defaults.scheduling == mq.JobScheduling(partition="gpu", account="project123", qos="normal")
    assert gpu.retry is not None and gpu.retry.max_attempts == 3
    assert gpu.retry.retry_on_exit_codes == (1, 137)
    assert gpu.retention.keep_job_dirs_for_days == 14
    assert config.plugins == {
        "nerve": {
            "enabled": True,
            "expand_threshold": 8,
            "debounce_seconds": 0.3,
            "ingest_url": "http://127.0.0.1:17890",
            "show_members": "attention",
        }
    }
    assert mq.enabled_plugin_names(config.plugins) == ["nerve"]


def test_the_remote_example_loads_here_though_the_original_refused_its_memory() -> None:
    # 0.8.1's own docs write memory: "32G"; the original read only byte counts there
    # (ValueError: invalid literal for int()). molq reads both.
    gpu = load_profile("gpu", FILES / "remote-0.8.yaml")
    assert gpu.host == "dardel"
    assert gpu.defaults.resources == mq.JobResources(cpu_count=8, memory=mq.Memory.gb(32))


@pytest.mark.parametrize("name", ["full-0.8.yaml", "remote-0.8.yaml"])
def test_molqs_yaml_reader_agrees_with_pyyaml(name: str) -> None:
    yaml = pytest.importorskip("yaml")
    from molq._yaml import loads

    text = (FILES / name).read_text()
    assert loads(text) == yaml.safe_load(text)


# -- which file is read ---------------------------------------------------------------------
LAPTOP_YAML = "profiles:\n  laptop:\n    scheduler: local\n    cluster_name: laptop-08\n"
LAPTOP_TOML = '[profiles.laptop]\nscheduler = "local"\ncluster_name = "laptop-06"\n'


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    own = tmp_path / "molq-home"
    molcrafts = tmp_path / "molcrafts"
    (molcrafts / "molq" / "config").mkdir(parents=True)
    monkeypatch.setenv("MOLQ_HOME", str(own))
    monkeypatch.setenv("MOLCRAFTS_HOME", str(molcrafts))
    return {"own": own, "legacy": molcrafts / "molq" / "config"}


def test_the_originals_yaml_is_read_when_molq_has_no_config(homes: dict[str, Path]) -> None:
    (homes["legacy"] / "config.yaml").write_text(LAPTOP_YAML)
    (homes["legacy"] / "config.toml").write_text(LAPTOP_TOML)  # 0.8's file wins over 0.5's
    assert default_config_path() == homes["legacy"] / "config.yaml"
    assert load_config().profiles["laptop"].cluster_name == "laptop-08"
    cluster = mq.Cluster.from_profile("laptop")
    assert cluster.name == "laptop-08"


def test_the_originals_toml_is_read_when_there_is_no_yaml(homes: dict[str, Path]) -> None:
    (homes["legacy"] / "config.toml").write_text(LAPTOP_TOML)
    assert load_profile("laptop").cluster_name == "laptop-06"


def test_molqs_own_config_wins(homes: dict[str, Path]) -> None:
    (homes["legacy"] / "config.yaml").write_text(LAPTOP_YAML)
    homes["own"].mkdir()
    (homes["own"] / "config.toml").write_text('[profiles.mine]\nscheduler = "local"\ncluster_name = "m"\n')
    assert set(load_config().profiles) == {"mine"}


def test_molcrafts_home_defaults_to_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLQ_HOME", str(tmp_path / "own"))
    monkeypatch.delenv("MOLCRAFTS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    legacy = tmp_path / ".molcrafts" / "molq" / "config"
    legacy.mkdir(parents=True)
    (legacy / "config.yaml").write_text(LAPTOP_YAML)
    assert default_config_path() == legacy / "config.yaml"


def test_no_config_anywhere_is_empty(homes: dict[str, Path]) -> None:
    assert default_config_path() == homes["own"] / "config.toml"
    assert load_config() == mq.MolqConfig(profiles={}, plugins={})


def test_unknown_keys_in_the_originals_file_warn_with_file_and_key(homes: dict[str, Path]) -> None:
    path = homes["legacy"] / "config.yaml"
    path.write_text(LAPTOP_YAML + "    description: my laptop\nui:\n  theme: dark\n")
    with pytest.warns(ConfigWarning) as caught:
        config = load_config()
    messages = sorted(str(w.message) for w in caught)
    assert messages[0].startswith(f"{path}: profiles.laptop.description: unknown key")
    assert messages[1].startswith(f"{path}: ui: unknown key")
    assert config.profiles["laptop"].cluster_name == "laptop-08"


def test_yaml_molq_cannot_read_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("profiles:\n  a: &anchor\n    scheduler: local\n")
    with pytest.raises(mq.ConfigError, match=r"config.yaml: not YAML molq can read: line 2: anchors"):
        load_config(path)


def test_the_command_line_submits_with_a_profile_of_the_originals_yaml(tmp_path: Path) -> None:
    legacy = tmp_path / "molcrafts" / "molq" / "config"
    legacy.mkdir(parents=True)
    (legacy / "config.yaml").write_text(LAPTOP_YAML)
    env = {k: v for k, v in os.environ.items() if k not in ("MOLQ_HOME", "MOLCRAFTS_HOME")}
    env.update(MOLQ_HOME=str(tmp_path / "own"), MOLCRAFTS_HOME=str(tmp_path / "molcrafts"))
    result = subprocess.run(
        [sys.executable, "-m", "molq.cli", "--profile", "laptop", "submit", "--wait", "--json", "--", "true"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["cluster"] == "laptop-08" and record["state"] == "succeeded"


def test_the_command_line_names_an_unknown_key_in_one_warning_line(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "config.toml").write_text('[profiles.a]\nscheduler = "local"\ncluster_name = "a"\ncolour = "x"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("MOLQ_HOME", "MOLCRAFTS_HOME")}
    env.update(MOLQ_HOME=str(own), MOLCRAFTS_HOME=str(tmp_path / "none"))
    result = subprocess.run(
        [sys.executable, "-m", "molq.cli", "clusters", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"molq: warning: {own / 'config.toml'}: profiles.a.colour: unknown key, ignored (known keys here: "
        "scheduler, cluster_name, jobs_dir, host, scheduler_options, defaults, retry, retention)"
    ]
    assert result.stdout.split()[4:6] == ["a", "profile:a"]
