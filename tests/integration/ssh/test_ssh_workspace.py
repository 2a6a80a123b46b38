"""Workspace and Project on a cluster reached over SSH."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import molq as mq
from molq.store import JobStore
from molq.strategies import FixedStrategy

pytestmark = pytest.mark.ssh


@pytest.fixture
def cluster(ssh_testbed: Any) -> Iterator[mq.Cluster]:
    c = ssh_testbed.cluster("local", name="ws-remote")
    yield c
    c.transport.close()  # type: ignore[attr-defined]


def test_workspace_lives_on_the_cluster(cluster: mq.Cluster, ssh_testbed: Any, remote_dir: str, tmp_path: Path) -> None:
    rel = remote_dir[len(ssh_testbed.home) + 1 :]
    ws = cluster.get_workspace("scratch", path=f"~/{rel}/ws of $USER")
    assert ws.path == f"{remote_dir}/ws of {ssh_testbed.user}"  # expanded on the cluster
    proj = ws.get_project("alpha ✓")
    assert proj.path == f"{ws.path}/alpha ✓"
    assert not proj.exists() and proj.list_files() == []
    proj.ensure()
    assert proj.exists() and ws.list_files() == ["alpha ✓"]
    src = tmp_path / "inputs"
    (src / "sub dir").mkdir(parents=True)
    (src / "a 'quoted' file.txt").write_text("A")
    (src / "sub dir" / "ünï.txt").write_text("B\n" * 200)
    proj.upload(src, recursive=True)
    assert proj.list_files() == ["a 'quoted' file.txt", "sub dir"]
    assert proj.read_text("sub dir/ünï.txt") == "B\n" * 200
    assert proj.tail("sub dir/ünï.txt", lines=2) == "B\nB\n"
    one = tmp_path / "single.txt"
    one.write_text("S")
    proj.upload(one, "extra/s.txt")
    assert proj.read_text("extra/s.txt") == "S"
    proj.download("sub dir/ünï.txt", tmp_path / "back" / "u.txt")
    assert (tmp_path / "back" / "u.txt").read_text() == "B\n" * 200
    mirror = proj.mirror(tmp_path / "mirror")
    assert sorted(p.name for p in mirror.iterdir()) == ["a 'quoted' file.txt", "extra", "sub dir"]
    proj.remove("sub dir")
    assert proj.list_files() == ["a 'quoted' file.txt", "extra"]
    ws.remove()
    assert not ws.exists()


def test_project_submit_runs_the_job_in_the_project(cluster: mq.Cluster, remote_dir: str, tmp_path: Path) -> None:
    proj = cluster.get_workspace("w", path=remote_dir).get_project("p q")
    proj.ensure()
    proj.upload(Path(__file__), "input.py")
    with mq.Submitor(
        cluster, store=JobStore(tmp_path / "db"), jobs_dir=f"{remote_dir}/jobs", polling_strategy=FixedStrategy(0.1)
    ) as sub:
        record = proj.submit_job(sub, command="pwd; ls > listing.txt").wait(timeout=60)
        assert record.state is mq.JobState.SUCCEEDED and record.cwd == proj.path
        assert proj.read_text("listing.txt") == "input.py\nlisting.txt\n"
        other = mq.Cluster("elsewhere", "local")
        with pytest.raises(ValueError, match="Project belongs to cluster"):
            proj.submit_job(mq.Submitor(other, store=JobStore(tmp_path / "db2")), argv=["true"])
