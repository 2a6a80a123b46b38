"""The package surface: every public name resolves, and `import molq` stays light."""

from __future__ import annotations

import subprocess
import sys

import molq


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert molq.__all__ == sorted(molq.__all__)
    for name in molq.__all__:
        assert getattr(molq, name) is not None, name
    assert set(molq.__all__) <= set(dir(molq))
    # the literal list names every lazy name (type checkers read the list, not the table)
    assert set(molq._LAZY) <= set(molq.__all__)


def test_unknown_attribute_raises() -> None:
    try:
        molq.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_molq_loads_no_heavy_modules() -> None:
    code = (
        "import sys, molq; "
        "heavy = ['molq.cli', 'rich', 'subprocess', 'json', 'logging', 'sqlite3', 'tomllib', "
        "'dataclasses', 'molq.types', 'molq.config', 'molq.ssh_config', 'uuid']; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_legacy_module_paths() -> None:
    from molq.models import JobRecord, StatusTransition
    from molq.scheduler import ShellScheduler, SlurmScheduler, create_scheduler  # noqa: F401
    from molq.store import JobStore, default_jobs_db_path  # noqa: F401
    from molq.submitor import JobHandle
    from molq.transport import CommandResult, LocalTransport, SshTransport, Transport, TransportError  # noqa: F401

    assert JobRecord is molq.JobRecord and StatusTransition is molq.StatusTransition
    assert JobHandle is molq.JobHandle
    assert create_scheduler("local").kind == "local"
