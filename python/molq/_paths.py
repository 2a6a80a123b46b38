"""The folders molq keeps private files in: MOLQ_HOME, store folders, job roots.

Each is created 0700 whatever the umask, and refused when another user could
replace what molq writes there (swap ``run.sh``, fake a ``.exit_code``): when
it, or a folder above it, is owned by another user, or can be written by
group or others without the sticky bit (``/tmp`` is fine: its sticky bit
keeps others from renaming what we own in it). Root's folders are trusted.

Every filesystem failure on the way becomes a ``molq.errors`` exception that
names the path and what to do, never a bare ``OSError``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from molq.errors import ConfigError, MolqError

__all__ = ["ensure_private_dir", "check_private_dir", "explain_os_error"]

_PRIVATE_DIR = 0o700


def _user_name(uid: int) -> str:
    try:
        import pwd  # deferred: pwd is POSIX only and needed only for the user name

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (KeyError, ImportError):
        return f"uid {uid}"


def explain_os_error(exc: OSError, path: str | Path) -> str:
    """What ``exc`` (met on ``path``) means and what to do, in one sentence."""
    where = str(path)
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk holding {where} is full; free some space and try again"
    if code == errno.EROFS:
        return f"{where} is on a read-only file system; choose a writable folder"
    if code in (errno.EACCES, errno.EPERM):
        return f"no permission to write {where}; choose a folder you can write, or fix its permissions"
    if code == errno.ENOTDIR:
        blocker = _file_in_the_way(Path(where))
        return f"{blocker} is a file, not a folder; remove or rename it, or choose another path"
    if code == errno.EEXIST:
        return f"{where} exists and is not a folder; remove or rename it, or choose another path"
    if code == errno.ENOENT:
        return f"{where} does not exist"
    if code == errno.ENAMETOOLONG:
        return f"the path {where} is too long; choose a shorter one"
    return f"{where}: {exc.strerror or exc}"


def _file_in_the_way(path: Path) -> Path:
    """The first part of ``path`` that exists and is not a folder."""
    for part in [*reversed(path.parents), path]:
        if part.exists() and not part.is_dir():
            return part
    return path


def ensure_private_dir(
    path: str | Path,
    *,
    what: str,
    error: type[MolqError] = ConfigError,
    tighten: bool = False,
    shared_ok: bool = False,
) -> Path:
    """Make sure ``path`` is a folder only its owner (this user) can change.

    Missing folders (``path`` and any missing parents) are created 0700,
    whatever the umask. ``tighten`` takes the group and other bits off an
    existing folder of ours that others could only read (MOLQ_HOME made by an
    older molq as 0755). ``shared_ok`` accepts a folder that is itself shared
    the safe way (root's, or sticky like ``/tmp``): for a store file, which
    is private on its own. Raises ``error`` naming ``what`` and the reason.
    """
    folder = Path(path)
    try:
        created = _make_dirs(folder)
        if created or tighten:
            info = os.stat(folder)
            if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077 and not info.st_mode & 0o022:
                os.chmod(folder, _PRIVATE_DIR)
    except OSError as exc:
        raise error(
            f"cannot use {folder} as {what}: {explain_os_error(exc, exc.filename or folder)}", path=str(folder)
        ) from None
    check_private_dir(folder, what=what, error=error, shared_ok=shared_ok)
    return folder


def _make_dirs(folder: Path) -> bool:
    """Create ``folder`` and its missing parents as 0700; True if ``folder`` was made."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        parent = folder.parent
        if parent != folder:
            _make_dirs(parent)
        try:
            os.mkdir(folder, _PRIVATE_DIR)
        except FileExistsError:
            pass  # another process made it meanwhile
        else:
            os.chmod(folder, _PRIVATE_DIR)  # the umask may have narrowed it
            return True
        info = os.stat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.EEXIST, "not a folder", str(folder))
    return False


def check_private_dir(
    path: str | Path, *, what: str, error: type[MolqError] = ConfigError, shared_ok: bool = False
) -> None:
    """Refuse ``path`` (an existing folder) if another user could change what is in it."""
    me = os.geteuid()
    folder = Path(path)
    try:
        real = Path(os.path.realpath(folder))
        info = os.stat(real)
    except OSError as exc:
        raise error(f"cannot use {folder} as {what}: {explain_os_error(exc, folder)}", path=str(folder)) from None
    shown = str(folder) if real == folder else f"{folder} (which is {real})"
    if shared_ok:
        _check_above(folder, shown, real, what, error, me, include_self=True)
        return
    if info.st_uid != me:
        raise error(
            f"refusing {shown} as {what}: it is owned by {_user_name(info.st_uid)}, not by you, "
            "so that user could replace the files molq keeps there; use a folder of your own",
            path=str(folder),
        )
    if info.st_mode & 0o022:
        raise error(
            f"refusing {shown} as {what}: it can be written by {_writers(info.st_mode)} "
            f"(mode {stat.S_IMODE(info.st_mode):04o}), who could replace the files molq keeps there; "
            f"run `chmod go-w {real}` or use another folder",
            path=str(folder),
        )
    _check_above(folder, shown, real, what, error, me, include_self=False)


def _check_above(
    folder: Path, shown: str, real: Path, what: str, error: type[MolqError], me: int, *, include_self: bool
) -> None:
    """The folders above ``real`` (and ``real`` itself with ``include_self``): each
    owned by this user or root, and writable by others only with the sticky bit."""
    for above in ([real] if include_self else []) + list(real.parents):
        try:
            info = os.stat(above)
        except OSError as exc:
            raise error(f"cannot use {folder} as {what}: {explain_os_error(exc, above)}", path=str(folder)) from None
        if info.st_uid not in (me, 0):
            raise error(
                f"refusing {shown} as {what}: the folder {above} is owned by "
                f"{_user_name(info.st_uid)}, who could move it away and put another in its place; "
                "use a folder under your own home",
                path=str(folder),
            )
        if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
            raise error(
                f"refusing {shown} as {what}: the folder {above} can be written by "
                f"{_writers(info.st_mode)} (mode {stat.S_IMODE(info.st_mode):04o}, no sticky bit), "
                "who could put another folder in its place; use a folder under your own home",
                path=str(folder),
            )


def _writers(mode: int) -> str:
    who = [name for bit, name in ((0o020, "its group"), (0o002, "every user")) if mode & bit]
    return " and ".join(who)
