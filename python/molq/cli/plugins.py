"""``molq plugins list``: the plugins molq can attach and what the config does with them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from molq.cli import _output as out
from molq.cli._errors import EXIT_OK

if TYPE_CHECKING:
    from molq.cli._session import Session

#: The plugin ``molq daemon`` attaches when the config has no plugins table at all.
DAEMON_DEFAULT = "nerve"


def _rows(session: Session) -> tuple[list[dict[str, Any]], bool]:
    from molq.plugin import available_plugins, enabled_plugin_names  # deferred: molq.plugin loads only when used

    settings = session.config.plugins
    enabled = set(enabled_plugin_names(settings))
    daemon_default = not settings
    rows = []
    for name, source in sorted(available_plugins().items()):
        kind, _, where = source.partition(":")
        if name in enabled:
            state = "enabled"
        elif settings.get(name, {}).get("enabled") is False:
            state = "disabled"
        elif daemon_default and name == DAEMON_DEFAULT:
            state = "daemon default"
        else:
            state = "off"
        rows.append(
            {
                "name": name,
                "source": "builtin" if kind == "builtin" else "entry point",
                "factory": where if kind == "builtin" else None,
                "group": where if kind != "builtin" else None,
                "state": state,
                "settings": {k: v for k, v in settings.get(name, {}).items() if k != "enabled"},
            }
        )
    # A plugin the config names that is not installed: shown, so the typo or missing package is seen.
    for name in sorted(set(settings) - {r["name"] for r in rows}):
        rows.append(
            {
                "name": name,
                "source": "not installed",
                "factory": None,
                "group": None,
                "state": "missing" if name in enabled else "disabled",
                "settings": {k: v for k, v in settings[name].items() if k != "enabled"},
            }
        )
    return rows, daemon_default


def cmd_plugins_list(session: Session, args: Any) -> int:
    rows, daemon_default = _rows(session)
    if args.json:
        out.print_json(rows)
        return EXIT_OK
    if not rows:
        print("No plugins discovered.")
        return EXIT_OK
    notes = {
        "builtin": "ships with molq",
        "entry point": "installed package (molq.plugins entry point)",
        "not installed": "named in the config, but no such plugin is installed",
    }
    table = [(r["name"], r["source"], r["state"], notes[r["source"]]) for r in rows]
    out.print_lines(
        out.table(("NAME", "SOURCE", "STATE", "NOTE"), table, color=out.use_color(), width=out.terminal_width())
    )
    if daemon_default:
        print(
            f"\n'daemon default': the config has no plugins table, so 'molq daemon' attaches "
            f"{DAEMON_DEFAULT};\nset plugins.{DAEMON_DEFAULT}.enabled = false to turn it off."
        )
    return EXIT_OK
