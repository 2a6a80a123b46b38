"""The plugin host: plugins from the built-in table and from installed entry points,
attached to a real Submitor, fail-open."""

from __future__ import annotations

import dataclasses
import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import molq as mq
from molq.plugin import (
    ENTRY_POINT_GROUP,
    MolqPlugin,
    PluginManager,
    available_plugins,
    create_plugin,
    discover_third_party_factories,
)
from molq.store import JobStore
from molq.strategies import FixedStrategy

PLUGIN_MODULE = '''
"""A third-party plugin as a package would ship it."""
from molq.callbacks import EventType

SEEN = []       # (plugin, what) for every call, across instances
INSTANCES = []


class Probe:
    name = "probe"

    def attach(self, ctx):
        self.ctx = ctx
        ctx.event_bus.on(EventType.STATUS_CHANGE, self.on_change)
        SEEN.append(("attach", dict(ctx.config)))

    def on_change(self, payload):
        SEEN.append(("change", payload.record.state.value))

    def detach(self):
        SEEN.append(("detach", None))


class Raising(Probe):
    name = "raising"

    def on_change(self, payload):
        raise RuntimeError("a plugin bug")

    def detach(self):
        raise RuntimeError("a detach bug")


class CannotAttach(Probe):
    name = "cannot_attach"

    def attach(self, ctx):
        raise RuntimeError("attach bug")


def probe():
    plugin = Probe()
    INSTANCES.append(plugin)
    return plugin


def raising():
    return Raising()


def cannot_attach():
    return CannotAttach()


def not_a_plugin():
    return object()
'''

ENTRY_POINTS = f"""\
[{ENTRY_POINT_GROUP}]
probe = molq_probe_plugin:probe
raising = molq_probe_plugin:raising
cannot_attach = molq_probe_plugin:cannot_attach
not_a_plugin = molq_probe_plugin:not_a_plugin
missing = molq_probe_plugin:no_such_factory
nerve = molq_probe_plugin:probe
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A distribution with ``molq.plugins`` entry points, importable from sys.path."""
    site = tmp_path / "site"
    info = site / "molq_probe_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "molq_probe_plugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: molq-probe-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    import molq_probe_plugin  # type: ignore[import-not-found]

    yield molq_probe_plugin
    import sys

    sys.modules.pop("molq_probe_plugin", None)  # the next test imports a fresh copy


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    s = JobStore(tmp_path / "jobs.db")
    yield s
    s.close()


def make(
    tmp_path: Path, store: JobStore, plugins: list[str], configs: dict | None = None, name: str = "laptop"
) -> mq.Submitor:
    return mq.Submitor(
        mq.Cluster(name, "local"),
        store=store,
        jobs_dir=tmp_path / "jobs",
        polling_strategy=FixedStrategy(interval=0.05),
        plugins=plugins,
        plugin_configs=configs,
    )


def test_entry_points_are_listed_beside_the_builtins(installed: object) -> None:
    found = available_plugins()
    assert found["nerve"] == "builtin:molq.plugins.nerve:create_plugin"  # a built-in name wins
    assert found["probe"] == "entry_point:molq.plugins"
    assert isinstance(create_plugin("probe"), MolqPlugin)
    assert "nerve" not in discover_third_party_factories()
    assert type(create_plugin("nerve")).__name__ == "NervePlugin"


def test_a_broken_entry_point_is_logged_and_skipped(installed: object, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="molq.plugin"):
        factories = discover_third_party_factories()
    assert "missing" not in factories and "probe" in factories
    assert "'missing'" in caplog.text and "could not be loaded" in caplog.text
    with pytest.raises(TypeError, match="not a molq plugin"):
        create_plugin("not_a_plugin")
    with pytest.raises(KeyError, match="unknown plugin 'nope'"):
        create_plugin("nope")


def test_a_plugin_sees_every_transition_and_reads_records(tmp_path: Path, store: JobStore, installed) -> None:
    sub = make(tmp_path, store, ["probe"], {"probe": {"colour": "blue"}})
    with sub:
        handle = sub.submit_job(argv=["true"])
        assert handle.wait(timeout=20).state is mq.JobState.SUCCEEDED
        (plugin,) = installed.INSTANCES
        ctx = plugin.ctx
        assert ctx.cluster_name == "laptop" and ctx.config == {"colour": "blue"}
        record = ctx.get_record(handle.job_id)
        assert record.state is mq.JobState.SUCCEEDED
        assert [r.job_id for r in ctx.list_records()] == [handle.job_id]
        assert ctx.list_active_records() == []
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.state = mq.JobState.FAILED  # type: ignore[misc]
        assert not hasattr(ctx, "store") and not hasattr(ctx, "submitor")
    changes = [what for kind, what in installed.SEEN if kind == "change"]
    assert changes[0] == "created" and changes[-1] == "succeeded"
    assert installed.SEEN[0] == ("attach", {"colour": "blue"})
    assert installed.SEEN[-1] == ("detach", None)  # close() detached it


def test_a_plugin_sees_only_its_own_clusters_records(tmp_path: Path, store: JobStore, installed) -> None:
    with make(tmp_path, store, [], name="other") as other:
        foreign = other.submit_job(argv=["true"])
        foreign.wait(timeout=20)
    with make(tmp_path, store, ["probe"]):
        ctx = installed.INSTANCES[-1].ctx
        assert ctx.get_record(foreign.job_id) is None
        assert ctx.list_records() == []


def test_plugins_that_fail_never_break_molq(
    tmp_path: Path, store: JobStore, installed, caplog: pytest.LogCaptureFixture
) -> None:
    sub = make(tmp_path, store, ["raising", "cannot_attach", "nope", "probe"])
    with sub:
        handle = sub.submit_job(argv=["true"])
        assert handle.wait(timeout=20).state is mq.JobState.SUCCEEDED
    # the raising plugin's handler ran (and failed) on every event; the probe still saw them all
    assert [w for k, w in installed.SEEN if k == "change"][-1] == "succeeded"
    text = caplog.text
    assert "plugin 'cannot_attach' could not be attached" in text
    assert "plugin 'nope' could not be attached" in text
    assert "a plugin bug" in text
    assert "plugin 'raising' failed to detach" in text


def test_manager_skips_disabled_and_detaches_newest_first(installed) -> None:
    from molq.callbacks import EventBus
    from molq.plugin import PluginContext

    bus = EventBus()

    def context(name, config):
        return PluginContext(bus, "c", config, lambda job_id: None, list, list)

    manager = PluginManager()
    assert manager.load(
        ["probe", "probe", "raising"], ctx_factory=context, configs={"raising": {"enabled": False}}
    ) == ["probe", "probe"]
    assert len(manager.attached) == 2
    manager.detach_all()
    manager.detach_all()  # twice is harmless
    assert manager.attached == ()
    assert [k for k, _ in installed.SEEN].count("detach") == 2


def test_the_root_package_exports_the_plugin_api() -> None:
    import molq
    import molq.plugin as host

    for name in (
        "MolqPlugin",
        "PluginContext",
        "PluginManager",
        "available_plugins",
        "create_plugin",
        "enabled_plugin_names",
        "BUILTIN_PLUGIN_FACTORIES",
    ):
        assert getattr(molq, name) is getattr(host, name)
        assert name in molq.__all__
