"""Refusing, before anything is written, log paths a scheduler would read as
patterns it offers no way to escape.

Each batch scheduler reads the ``-o``/``-e`` path it is given as a pattern.
What it can escape the backend escapes (Slurm's ``%%``, Grid Engine's ``$$``);
what it cannot is refused here, naming the field that put it there:

* Grid Engine splits the path at commas (a list of ``host:path``), and has
  no escape for one: qsub refuses the job.
* LSF replaces ``%J`` (job id) and ``%I`` (array index) anywhere in the path
  and documents no escape. In the name the user gave they keep that meaning,
  as bsub documents it; in what molq adds (the working directory in front of
  a relative name, the job directory holding the default logs) they would
  name another file, so they are refused there.
* PBS reads ``host:path``: a colon names a host (no escape). PBS Pro puts the
  subjob index where ``^array_index^`` stands: refused in molq's parts too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from molq.errors import ConfigError

if TYPE_CHECKING:
    from molq.types import JobExecution

__all__ = ["check_log_patterns"]

#: kind -> (refused anywhere in a log path, refused in the parts molq adds)
_UNESCAPABLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sge": ((",",), ()),
    "lsf": ((), ("%J", "%I")),
    "pbs": ((":",), ("^array_index^",)),
}
_WHY = {
    ",": "Grid Engine reads a comma as the start of another path and cannot escape it",
    "%J": "LSF replaces %J with the job id in log paths and cannot escape it",
    "%I": "LSF replaces %I with the array index in log paths and cannot escape it",
    ":": "PBS reads what precedes a colon as a host name and cannot escape it",
    "^array_index^": "PBS Pro replaces ^array_index^ with the subjob index and cannot escape it",
}


def check_log_patterns(
    scheduler_kind: str,
    execution: JobExecution,
    *,
    cwd: str,
    jobs_root: str,
    jobs_root_field: str,
    dir_name: str,
    stdout_path: str,
    stderr_path: str,
) -> None:
    """Raise ``ConfigError`` naming the field when a resolved log path holds
    what ``scheduler_kind`` would read as a pattern it cannot escape."""
    rules = _UNESCAPABLE.get(scheduler_kind)
    if rules is None:
        return
    anywhere, in_molq_parts = rules
    for given_field, given, path in (
        ("execution.output_file", execution.output_file, stdout_path),
        ("execution.error_file", execution.error_file, stderr_path),
    ):
        for field, text, molq_part in _parts(given_field, given, path, cwd, jobs_root, jobs_root_field, dir_name):
            for pattern in anywhere + (in_molq_parts if molq_part else ()):
                if pattern in text:
                    raise ConfigError(
                        f"{field} {text!r} cannot be part of the log path {path!r}: {_WHY[pattern]}",
                        field=field,
                        path=path,
                    )


def _parts(
    given_field: str,
    given: object,
    path: str,
    cwd: str,
    jobs_root: str,
    jobs_root_field: str,
    dir_name: str,
) -> list[tuple[str, str, bool]]:
    """(field, its text, whether molq added it) for each part of a log path.
    The parts are joined by ``/``, so no pattern spans two of them."""
    if given is None:
        return [(jobs_root_field, jobs_root, True), ("job_dir_name", dir_name, True)]
    prefix = cwd.rstrip("/") + "/"
    relative = str(given)
    if path == prefix + relative:
        return [("execution.cwd", cwd, True), (given_field, relative, False)]
    return [(given_field, path, False)]
