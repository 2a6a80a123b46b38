"""LocalTransport's file operations added for the original molq's API: copy,
copytree, symlink, touch, stat, getsize; write_* creating parents;
CommandResult.check_returncode raising an error that is both a molq
TransportError and a subprocess.CalledProcessError."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from molq.errors import MolqError, TransportError
from molq.transport import CommandFailedError, LocalTransport, Transport


@pytest.fixture
def t() -> LocalTransport:
    return LocalTransport()


def test_local_transport_still_satisfies_the_protocol(t: LocalTransport) -> None:
    assert isinstance(t, Transport)


def test_write_text_creates_missing_parents_privately(t: LocalTransport, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    t.write_text(str(target), "hello")
    assert target.read_text() == "hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_write_bytes_can_refuse_to_create_parents(t: LocalTransport, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        t.write_bytes(tmp_path / "missing" / "f", b"x", parents=False)
    assert not (tmp_path / "missing").exists()


def test_copy_file_to_path_into_directory_and_missing_parent(t: LocalTransport, tmp_path: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_text("data")
    src.chmod(0o640)
    t.copy(src, tmp_path / "dst.txt")
    assert (tmp_path / "dst.txt").read_text() == "data"
    assert stat.S_IMODE((tmp_path / "dst.txt").stat().st_mode) == 0o640
    (tmp_path / "dir").mkdir()
    t.copy(str(src), str(tmp_path / "dir"))
    assert (tmp_path / "dir" / "src.txt").read_text() == "data"
    t.copy(src, tmp_path / "new" / "deep" / "x.txt")
    assert (tmp_path / "new" / "deep" / "x.txt").read_text() == "data"


def test_copy_errors(t: LocalTransport, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        t.copy(tmp_path / "absent", tmp_path / "x")
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        t.copy(tmp_path / "d", tmp_path / "x")


def test_copytree_copies_a_tree_to_a_new_place_keeping_symlinks(t: LocalTransport, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("F")
    (src / "link").symlink_to("sub/f")
    t.copytree(src, tmp_path / "out" / "copy")
    assert (tmp_path / "out" / "copy" / "sub" / "f").read_text() == "F"
    assert os.readlink(tmp_path / "out" / "copy" / "link") == "sub/f"


def test_copytree_errors(t: LocalTransport, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "exists").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        t.copytree(tmp_path / "src", tmp_path / "exists")
    with pytest.raises(NotADirectoryError):
        t.copytree(tmp_path / "file", tmp_path / "new")
    with pytest.raises(FileNotFoundError):
        t.copytree(tmp_path / "absent", tmp_path / "new")


def test_symlink_points_dst_at_src(t: LocalTransport, tmp_path: Path) -> None:
    (tmp_path / "target").write_text("T")
    t.symlink("target", str(tmp_path / "link"))
    assert os.readlink(tmp_path / "link") == "target"
    assert (tmp_path / "link").read_text() == "T"
    with pytest.raises(FileExistsError):
        t.symlink("target", tmp_path / "link")


def test_touch_creates_private_empty_file_and_updates_times(t: LocalTransport, tmp_path: Path) -> None:
    f = tmp_path / "f"
    t.touch(f)
    assert f.read_bytes() == b""
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    f.write_text("keep")
    os.utime(f, (1_000_000, 1_000_000))
    t.touch(str(f))
    assert f.read_text() == "keep"
    assert f.stat().st_mtime > 1_000_000
    os.utime(tmp_path, (1_000_000, 1_000_000))
    t.touch(tmp_path)  # a directory too
    assert tmp_path.stat().st_mtime > 1_000_000
    with pytest.raises(FileNotFoundError):
        t.touch(tmp_path / "missing" / "f")


def test_stat_and_getsize(t: LocalTransport, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 123)
    info = t.stat(str(f))
    assert info == {"size": 123, "mtime": f.stat().st_mtime, "is_dir": False, "is_file": True}
    assert isinstance(info["mtime"], float)
    assert t.getsize(f) == 123
    d = t.stat(tmp_path)
    assert d["is_dir"] is True and d["is_file"] is False
    (tmp_path / "link").symlink_to("f")
    assert t.stat(tmp_path / "link")["size"] == 123  # followed
    (tmp_path / "dangling").symlink_to("absent")
    for path in (tmp_path / "absent", tmp_path / "dangling"):
        with pytest.raises(FileNotFoundError):
            t.stat(path)
        with pytest.raises(FileNotFoundError):
            t.getsize(path)


def test_check_returncode_raises_both_error_kinds(t: LocalTransport) -> None:
    result = t.run([sys.executable, "-c", "import sys; print('out'); print('bad', file=sys.stderr); sys.exit(7)"])
    with pytest.raises(subprocess.CalledProcessError) as caught:
        result.check_returncode()
    exc = caught.value
    assert isinstance(exc, TransportError) and isinstance(exc, MolqError)
    assert isinstance(exc, CommandFailedError)
    assert exc.returncode == 7
    assert exc.cmd == exc.command == list(result.argv)
    assert exc.output == exc.stdout == "out\n"
    assert exc.stderr == "bad\n"
    assert "status 7" in str(exc) and "bad" in str(exc)
    again = pickle.loads(pickle.dumps(exc))
    assert isinstance(again, CommandFailedError) and again.returncode == 7 and str(again) == str(exc)
    t.run([sys.executable, "-c", "pass"]).check_returncode()  # zero: no error


def test_command_result_passes_for_the_original_frozen_dataclass(t: LocalTransport) -> None:
    import copy
    import dataclasses

    from molq.transport import CommandResult

    result = t.run([sys.executable, "-c", "print('hi')"])
    assert dataclasses.is_dataclass(result)
    assert [f.name for f in dataclasses.fields(result)] == ["argv", "returncode", "stdout", "stderr"]
    assert dataclasses.asdict(result) == {"argv": result.argv, "returncode": 0, "stdout": "hi\n", "stderr": ""}
    changed = dataclasses.replace(result, returncode=3)
    assert changed.returncode == 3 and changed.stdout_bytes == b"hi\n"
    assert result == CommandResult(result.argv, 0, "hi\n") and hash(result) == hash(
        CommandResult(result.argv, 0, b"hi\n")
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.returncode = 1  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(result)) == result == copy.deepcopy(result)
