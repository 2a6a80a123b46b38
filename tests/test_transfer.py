"""The rsync command line and the error classification of molq.transport._transfer,
without a server (the real copies are in integration/ssh/test_atomic_transfers.py)."""

from __future__ import annotations

import errno
import pickle

import pytest

from molq.errors import DiskFullError, PermissionDeniedError, TransportError
from molq.transport._transfer import _classify_rsync, _receiver_command, os_error, rsync_options


def test_options_that_leave_half_written_files_are_dropped() -> None:
    assert rsync_options(("-a", "--partial", "--inplace")) == ["-a"]
    assert rsync_options(("-avP", "--append-verify", "--partial-dir=.p", "--temp-dir", "/x", "-z")) == ["-av", "-z"]
    assert rsync_options(("-T", "/scratch", "--delay-updates", "-P")) == ["-r"]
    assert rsync_options(("--checksum", "--bwlimit=10")) == ["--checksum", "--bwlimit=10", "-r"]


def test_the_remote_receiver_gets_its_paths_as_words() -> None:
    command = _receiver_command("/it's here/f.txt", "/it's here", ".molq-transfer-00")
    assert command.startswith("\\exec /bin/sh -c ")
    assert command.endswith(
        " molq-transfer '/it'\"'\"'s here/f.txt' '/it'\"'\"'s here' '/it'\"'\"'s here' .molq-transfer-00"
    )


def _classify(err: str, **kw: object) -> Exception | None:
    args = dict(source="/src/f", dst="/dst/f", receiver="h", sender=None, command=["rsync"], returncode=11)
    args.update(kw)
    return _classify_rsync(err, **args)  # type: ignore[arg-type]


def test_rsync_reports_are_told_apart() -> None:
    full = _classify(
        'rsync: [receiver] write failed on "/dst/.molq-transfer-1/f.Ab12Cd": '
        "No space left on device (28)\nrsync error: error in file IO (code 11)\n"
    )
    assert isinstance(full, DiskFullError) and (full.path, full.host, full.errno) == ("/dst/f", "h", errno.ENOSPC)
    quota = _classify('rsync: [receiver] close failed on "x": Disk quota exceeded (122)\n')
    assert isinstance(quota, DiskFullError) and quota.errno == errno.EDQUOT
    denied = _classify('rsync: [receiver] mkstemp "/dst/.molq-transfer-1/f.X" failed: Permission denied (13)\n')
    assert isinstance(denied, PermissionDeniedError) and not isinstance(denied, DiskFullError)
    unreadable = _classify(
        'rsync: [sender] send_files failed to open "/src/f": Permission denied (13)\n',
        receiver=None,
        sender="h",
        returncode=23,
    )
    assert isinstance(unreadable, PermissionDeniedError) and unreadable.path == "/src/f"
    assert _classify("rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n") is None
    # the remote receiver could not make its folder
    ro = _classify(
        "mkdir: cannot create directory '/dst/.molq-transfer-1': Read-only file system\n\036molq-transfer-failed\n",
        returncode=12,
    )
    assert isinstance(ro, PermissionDeniedError) and ro.errno == errno.EROFS and "read-only" in str(ro)
    other = _classify("mkdir: cannot create directory '/dst': Not a directory\n\036molq-transfer-failed\n")
    assert isinstance(other, TransportError) and "Not a directory" in str(other)


def test_named_errors_are_os_errors_and_survive_pickling() -> None:
    exc = os_error(errno.ENOSPC, "write", "/x/y", "h", command=["w"])
    assert isinstance(exc, OSError) and isinstance(exc, TransportError) and exc.filename == "/x/y"
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is DiskFullError and (again.path, again.host, again.errno, str(again)) == (
        "/x/y",
        "h",
        errno.ENOSPC,
        str(exc),
    )
    with pytest.raises(PermissionError):
        raise os_error(errno.EACCES, "read", "/x", None)
    assert type(os_error(errno.ENOENT, "read", "/x", None)) is FileNotFoundError
