"""Workspace and Project: directories on the cluster, reached through its transport."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from molq.cluster import Cluster
    from molq.handle import JobHandle
    from molq.submitor import Submitor

__all__ = ["Workspace", "Project"]


class _RemoteDir:
    """File operations on one directory of the cluster."""

    cluster: Cluster
    path: str

    def _abs(self, rel: str | Path = "") -> str:
        rel = str(rel)
        if rel.startswith("/"):
            return rel
        return self.path if not rel else f"{self.path.rstrip('/')}/{rel}"

    def ensure(self) -> None:
        """``mkdir -p`` the directory."""
        self.cluster.transport.mkdir(self.path, parents=True, exist_ok=True)

    def exists(self, rel: str | Path = "") -> bool:
        return self.cluster.transport.exists(self._abs(rel))

    def upload(
        self, local: str | Path, rel: str | Path = "", *, recursive: bool = False, exclude: tuple[str, ...] = ()
    ) -> None:
        """Copy a local file, or a directory's contents (``recursive=True``), into the directory."""
        self.cluster.transport.upload(local, self._abs(rel), recursive=recursive, exclude=exclude)

    def download(
        self, rel: str | Path, local: str | Path, *, recursive: bool = False, exclude: tuple[str, ...] = ()
    ) -> None:
        self.cluster.transport.download(self._abs(rel), local, recursive=recursive, exclude=exclude)

    def read_text(self, rel: str | Path) -> str:
        return self.cluster.transport.read_text(self._abs(rel))

    def list_files(self, rel: str | Path = "") -> list[str]:
        """Names in the directory (``[]`` when it does not exist)."""
        try:
            return self.cluster.transport.listdir(self._abs(rel))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def remove(self, rel: str | Path = "", *, recursive: bool = True) -> None:
        self.cluster.transport.remove(self._abs(rel), recursive=recursive)

    def mirror(self, local_dir: str | Path, *, exclude: tuple[str, ...] = ()) -> Path:
        """Download the whole directory into ``local_dir``."""
        self.cluster.transport.download(self.path, local_dir, recursive=True, exclude=exclude)
        return Path(local_dir)

    def tail(self, rel: str | Path, *, lines: int = 80) -> str:
        result = self.cluster.transport.run(["tail", "-n", str(int(lines)), self._abs(rel)])
        return result.stdout if result.returncode == 0 else ""


@dataclass
class Workspace(_RemoteDir):
    """A base directory on the cluster; ``~`` and ``$VARS`` expand on the cluster."""

    cluster: Cluster
    name: str
    path: str

    def __post_init__(self) -> None:
        self.path = _expand(self.cluster, self.path)

    def get_project(self, name: str) -> Project:
        return Project(self, name)


@dataclass
class Project(_RemoteDir):
    """A sub-directory of a workspace; jobs submitted through it run there."""

    workspace: Workspace
    name: str

    @property
    def cluster(self) -> Cluster:  # type: ignore[override]
        return self.workspace.cluster

    @property
    def path(self) -> str:  # type: ignore[override]
        return f"{self.workspace.path.rstrip('/')}/{self.name}"

    def submit_job(self, submitor: Submitor, **kwargs: Any) -> JobHandle:
        """``submitor.submit_job`` with the working directory set to this project."""
        from molq.types import JobExecution  # deferred: molq.types loads only when used

        if submitor.target is not self.cluster:
            raise ValueError(
                f"Project belongs to cluster {self.cluster.name!r}, "
                f"but the submitor targets cluster {submitor.target.name!r}"
            )
        execution = kwargs.pop("execution", None) or JobExecution()
        kwargs["execution"] = replace(execution, cwd=self.path)
        return submitor.submit_job(**kwargs)


def _expand(cluster: Cluster, path: str) -> str:
    if "~" in path or "$" in path:
        return cluster.transport.expand_path(path)
    return path
