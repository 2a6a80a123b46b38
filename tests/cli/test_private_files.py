"""Nothing the CLI writes under MOLQ_HOME or in job directories can be read or
changed by another user, whatever the umask it runs under: every folder molq
makes is 0700, so what lies inside (a job's own output keeps the job's umask)
is out of others' reach."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any


def _reachable_by_others(root: Path) -> dict[str, str]:
    """Paths under ``root`` (root included) that group or others could open:
    their own mode lets them, and so does every folder on the way."""

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.lstat().st_mode)

    found = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files, ""]:
            path = Path(folder, name) if name else Path(folder)
            chain = [root, *[p for p in path.parents if root in p.parents]]
            if all(mode(d) & 0o011 for d in chain if d != path) and mode(path) & 0o077:
                found[str(path)] = oct(mode(path))
    return found


def test_nothing_the_cli_writes_is_open_to_others_under_a_permissive_umask(molq: Any) -> None:
    old = os.umask(0)  # inherited by the molq processes and the jobs' wrappers
    try:
        job = molq.submit("--wait", "--", "true")
        molq.ok("submit", "local", "--block", "echo", "hello")
        molq.ok("list", "--all")
        molq.ok("status", job)
    finally:
        os.umask(old)
    for root in (molq.home, molq.cwd / ".molq"):
        assert any(root.iterdir()), f"nothing written under {root}"
        assert stat.S_IMODE(root.stat().st_mode) == 0o700, root
        assert not _reachable_by_others(root)
