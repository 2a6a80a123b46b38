"""Workspace and Project over the local transport."""

from __future__ import annotations

from pathlib import Path

import pytest

import molq as mq


def test_workspace_file_round_trip(tmp_path: Path) -> None:
    cluster = mq.Cluster("ws", "local")
    ws = cluster.get_workspace("scratch", path=tmp_path / "scratch")
    proj = ws.get_project("alpha")
    assert proj.path == f"{tmp_path}/scratch/alpha"
    assert not proj.exists()
    proj.ensure()
    assert proj.exists() and proj.list_files() == []
    src = tmp_path / "inputs"
    (src / "sub dir").mkdir(parents=True)
    (src / "a 'quoted' file.txt").write_text("A")
    (src / "sub dir" / "ünï.txt").write_text("B")
    proj.upload(src, recursive=True)
    assert proj.list_files() == ["a 'quoted' file.txt", "sub dir"]
    assert proj.read_text("sub dir/ünï.txt") == "B"
    out = tmp_path / "back"
    proj.download("", out, recursive=True)
    assert (out / "a 'quoted' file.txt").read_text() == "A"
    proj.remove("sub dir")
    assert proj.list_files() == ["a 'quoted' file.txt"]


def test_project_submit_sets_cwd(tmp_path: Path) -> None:
    from molq.store import JobStore

    cluster = mq.Cluster("ws", "local")
    proj = cluster.get_workspace("w", path=tmp_path).get_project("p")
    proj.ensure()
    with mq.Submitor(cluster, store=JobStore(tmp_path / "db"), jobs_dir=tmp_path / "jobs") as sub:
        record = proj.submit_job(sub, command="pwd").wait(timeout=30)
        assert Path(record.metadata["molq.stdout_path"]).read_text().strip() == proj.path
        other = mq.Submitor(mq.Cluster("other", "local"), store=sub.store)
        with pytest.raises(ValueError, match="Project belongs to cluster"):
            proj.submit_job(other, argv=["true"])


def test_workspace_path_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    ws = mq.Cluster("ws", "local").get_workspace("h", path="~/data")
    assert ws.path == f"{tmp_path}/data"
