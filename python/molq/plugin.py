"""Plugins: observers attached to a Submitor for its lifetime.

A plugin is any object with a ``name`` and ``attach(ctx)`` / ``detach()``.
It sees molq only through a ``PluginContext``: the event bus, the cluster's
name, its own settings and read-only record lookups; never the scheduler or
a store write. Plugins come from two places:

* the built-in table ``BUILTIN_PLUGIN_FACTORIES`` (``name -> "module:callable"``,
  imported only when that plugin is created), and
* the ``molq.plugins`` entry-point group of installed packages, each entry a
  zero-argument factory. A built-in name wins over an entry point of the same
  name.

Plugins fail open: one that cannot be created, attached or detached, or whose
handler raises, is logged (logger ``molq.plugin``) and skipped; molq goes on.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from molq import _original_names
from molq._log import get_logger

if TYPE_CHECKING:
    from molq._core import JobRecord
    from molq.callbacks import EventBus

__all__ = [
    "BUILTIN_PLUGIN_FACTORIES",
    "ENTRY_POINT_GROUP",
    "MolqPlugin",
    "PluginContext",
    "PluginManager",
    "available_plugins",
    "create_plugin",
    "discover_third_party_factories",
    "enabled_plugin_names",
    "store_context_factory",
]

#: Plugins shipped with molq: name -> "module:factory".
BUILTIN_PLUGIN_FACTORIES: dict[str, str] = {
    "nerve": "molq.plugins.nerve:create_plugin",
}

#: The entry-point group third-party packages register plugin factories in.
ENTRY_POINT_GROUP = "molq.plugins"

ContextFactory = Callable[[str, Mapping[str, Any]], "PluginContext"]


@dataclass(frozen=True)
class PluginContext:
    """All a plugin may touch: events in, records out, nothing it could write."""

    event_bus: EventBus
    cluster_name: str
    config: Mapping[str, Any]
    get_record: Callable[[str], JobRecord | None]
    list_active_records: Callable[[], list[JobRecord]]
    list_records: Callable[[], list[JobRecord]]


@runtime_checkable
class MolqPlugin(Protocol):
    """What a plugin object provides."""

    @property
    def name(self) -> str:
        """The plugin's id: its config key and entry-point name."""
        ...

    def attach(self, ctx: PluginContext) -> None:
        """Start observing (register handlers). Must return quickly."""
        ...

    def detach(self) -> None:
        """Stop observing and release what ``attach`` took; callable twice."""
        ...


def _log() -> Any:
    return get_logger("molq.plugin")


def _load_spec(spec: str) -> Callable[[], Any]:
    """The callable a ``"module:attribute"`` string names."""

    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"plugin factory {spec!r} is not of the form 'module:attribute'")
    factory = getattr(importlib.import_module(module_name), attribute)
    if not callable(factory):
        raise TypeError(f"plugin factory {spec!r} is not callable")
    return factory  # type: ignore[no-any-return]


def _entry_points() -> list[Any]:
    # deferred: importlib.metadata is heavy; only when plugins are looked up
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def discover_third_party_factories() -> dict[str, Callable[[], Any]]:
    """Factories registered under the ``molq.plugins`` entry-point group.

    An entry that shadows a built-in name, fails to import or is not callable
    is logged and left out.
    """
    found: dict[str, Callable[[], Any]] = {}
    for entry in _entry_points():
        if entry.name in BUILTIN_PLUGIN_FACTORIES:
            _log().warning(
                "plugin entry point %r (%s) has the name of a built-in plugin; the built-in one is used",
                entry.name,
                entry.value,
            )
            continue
        try:
            factory = entry.load()
        except Exception:
            _log().exception("plugin entry point %r (%s) could not be loaded", entry.name, entry.value)
            continue
        if not callable(factory):
            _log().warning("plugin entry point %r (%s) is not callable; ignored", entry.name, entry.value)
            continue
        found[entry.name] = factory
    return found


def available_plugins() -> dict[str, str]:
    """Every plugin that can be created, ``{name: source}``: ``"builtin:<module:factory>"``
    or ``"entry_point:molq.plugins"``."""
    found = {name: f"builtin:{spec}" for name, spec in BUILTIN_PLUGIN_FACTORIES.items()}
    for entry in _entry_points():
        found.setdefault(entry.name, f"entry_point:{ENTRY_POINT_GROUP}")
    return found


def create_plugin(name: str) -> MolqPlugin:
    """A new instance of plugin ``name``. ``KeyError`` if no such plugin is known;
    ``TypeError`` if the factory's result lacks ``name``/``attach``/``detach``."""
    if name in BUILTIN_PLUGIN_FACTORIES:
        factory = _load_spec(BUILTIN_PLUGIN_FACTORIES[name])
    else:
        factories = discover_third_party_factories()
        if name not in factories:
            known = ", ".join(sorted(available_plugins())) or "none"
            raise KeyError(f"unknown plugin {name!r} (available plugins: {known})")
        factory = factories[name]
    plugin = factory()
    missing = [part for part in ("name", "attach", "detach") if not hasattr(plugin, part)]
    if missing:
        raise TypeError(f"plugin {name!r} is not a molq plugin: it has no {', '.join(missing)}")
    return plugin  # type: ignore[no-any-return]


def enabled_plugin_names(
    plugins: Mapping[str, Mapping[str, Any]],
    *,
    default_official: Sequence[str] | None = None,
) -> list[str]:
    """The plugins a config's ``plugins:`` table turns on, in its order.

    Any entry counts unless it says ``enabled: false``. A config with no
    entries at all gives ``default_official`` (the daemon passes ``["nerve"]``).
    """
    if not plugins:
        return list(default_official or ())
    return [name for name, settings in plugins.items() if settings.get("enabled", True) is not False]


class PluginManager:
    """The plugins attached to one Submitor (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attached: list[MolqPlugin] = []

    @property
    def attached(self) -> tuple[MolqPlugin, ...]:
        with self._lock:
            return tuple(self._attached)

    def load(
        self,
        names: Sequence[str],
        *,
        ctx_factory: ContextFactory,
        configs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[str]:
        """Create and attach ``names``; returns the names that attached.

        A plugin whose settings say ``enabled: false`` is skipped; one that
        fails to create or attach is logged and skipped.
        """
        configs = configs or {}
        attached: list[str] = []
        for name in names:
            settings = dict(configs.get(name) or {})
            if settings.get("enabled", True) is False:
                _log().info("plugin %r is disabled in its settings; not attached", name)
                continue
            try:
                plugin = create_plugin(name)
                plugin.attach(ctx_factory(name, settings))
            except Exception as exc:
                # One line (a command line shows it); the traceback only at debug level.
                reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
                _log().warning("plugin %r could not be attached (%s); molq goes on without it", name, reason)
                _log().debug("plugin %r failed to attach", name, exc_info=True)
                continue
            with self._lock:
                self._attached.append(plugin)
            attached.append(name)
        return attached

    def detach_all(self) -> None:
        """Detach every plugin, newest first; a failing detach is logged."""
        with self._lock:
            plugins, self._attached = self._attached[::-1], []
        for plugin in plugins:
            try:
                plugin.detach()
            except Exception:
                _log().exception("plugin %r failed to detach", getattr(plugin, "name", plugin))


def store_context_factory(event_bus: EventBus, cluster_name: str, store: Any) -> ContextFactory:
    """A ``ctx_factory`` giving plugins read-only views of ``cluster_name``'s jobs in ``store``.

    The context holds closures, not the store, so a plugin has no way to a
    write method or to another cluster's records.
    """

    def get_record(job_id: str) -> JobRecord | None:
        record = store.get_record(job_id)
        return record if record is not None and record.cluster_name == cluster_name else None

    def list_active_records() -> list[JobRecord]:
        return list(store.list_records(cluster_name, False, None))

    def list_records() -> list[JobRecord]:
        return list(store.list_records(cluster_name, True, None))

    def make(name: str, config: Mapping[str, Any]) -> PluginContext:
        return PluginContext(
            event_bus=event_bus,
            cluster_name=cluster_name,
            config=dict(config),
            get_record=get_record,
            list_active_records=list_active_records,
            list_records=list_records,
        )

    return make


def __getattr__(name: str) -> object:
    # names the original molq carried here (molq._original_names)
    return _original_names.resolve(__name__, name)
