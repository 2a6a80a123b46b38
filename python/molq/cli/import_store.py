"""``molq import-store [PATH]``: import the original molq's job store now."""

from __future__ import annotations

import sys
from typing import Any

from molq.cli._errors import CliError

__all__ = ["cmd_import_store"]


def cmd_import_store(session: Any, args: Any) -> int:
    # deferred: molq._import_original loads only when used
    from molq._import_original import import_original_store, original_store_path

    source = args.path if args.path else str(original_store_path())
    if not args.path and not original_store_path().is_file():
        raise CliError(f"no original molq store at {source} (name one: molq import-store PATH)")
    summary = import_original_store(source, session.db_path)
    if getattr(args, "json", False):
        from molq.cli._output import print_json  # deferred: molq.cli._output loads only when used

        print_json(summary.as_dict())
    else:
        sys.stdout.write("\n".join(summary.describe()) + "\n")
    return 0
