"""Which folders under a runs folder are runs, and the names the dashboard gives them.

A run is named by its path relative to the runs folder (``quickstart-20261207-051500``,
``sweeps/rewards/trials/reward=centerline-1a2b``), and a name from a request is only
ever looked up among the names found here: nothing a request says is joined to a path,
so a crafted name (``../..``, an absolute path) cannot reach a file outside the
folder. Symbolic links are not followed for the same reason.

Inside a run, a file is read only if it is inside the run once every link is followed
(:func:`inside`): a downloaded run whose ``report.md`` links to ``~/.aws/credentials``
shows a warning, not the file.

Contents:
    UnknownRun: a name that is not a run under the folder.
    OutsideRun, inside: a path of a run that leads out of it, and the check.
    RunCatalog: the runs under one folder, rescanned at most once a second.
    is_run_folder: whether a folder holds a run, an imported model or a log folder.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from deepracer.errors import DeepRacerError
from deepracer.runs.layout import (
    LEGACY_MODEL_METADATA,
    MODEL_METADATA,
    TRAINING_METRICS,
    RunFiles,
)

__all__ = ["MAX_NAME", "OutsideRun", "RunCatalog", "UnknownRun", "inside", "is_run_folder"]

MAX_NAME = 512
"""The longest run name a request may carry [characters]."""
MAX_DEPTH = 5
"""How deep runs are looked for: ``sweeps/<sweep>/trials/<trial>`` is 4 levels."""
_SKIP = {"checkpoints", "tensorboard", "analysis", "export", "model", "ip", "tune"}
"""Folders inside runs and sweeps that never hold a run of their own."""


class UnknownRun(DeepRacerError):
    """A run name that is not a run under the runs folder."""


class OutsideRun(DeepRacerError):
    """A path in a run that a link leads out of the run."""


def inside(run: Path, path: Path) -> Path:
    """Returns ``path`` if, with every link followed, it is inside ``run``.

    Raises:
        OutsideRun: It leads elsewhere; the message names it relative to the run.
    """
    root = os.path.realpath(run)
    if not os.path.realpath(path).startswith(root + os.sep):
        try:
            shown = path.relative_to(run).as_posix()
        except ValueError:
            shown = path.name
        raise OutsideRun(f"{shown}: a link out of the run; not read")
    return path


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run: ours, a plugin's, an imported model or a log folder."""
    files = RunFiles(path)
    return (
        files.is_run()
        or files.imported.is_file()
        or (path / MODEL_METADATA).is_file()
        or (path / LEGACY_MODEL_METADATA).is_file()
        or (path / TRAINING_METRICS).is_file()
    )


class RunCatalog:
    """The runs under one folder.

    Args:
        root: The runs folder (or one run's folder: the catalog then holds that run).
        ttl: Seconds a scan is reused before the folder is scanned again.
    """

    def __init__(self, root: Path, *, ttl: float = 1.0) -> None:
        self.root = Path(root)
        self.ttl = ttl
        self._lock = threading.Lock()
        self._scanned = -float("inf")
        self._runs: dict[str, Path] = {}

    def runs(self) -> dict[str, Path]:
        """Run name -> folder, sorted by name (a scan at most every ``ttl`` seconds)."""
        with self._lock:
            now = time.monotonic()
            if now - self._scanned >= self.ttl:
                self._runs = dict(sorted(self._scan().items()))
                self._scanned = now
            return dict(self._runs)

    def path(self, name: str) -> Path:
        """The folder of run ``name``.

        Raises:
            UnknownRun: No run has that name (the message quotes at most 80 characters).
        """
        found = self.runs().get(name) if len(name) <= MAX_NAME else None
        if found is None:
            shown = name if len(name) <= 80 else name[:77] + "..."
            raise UnknownRun(f"no run named {shown!r} under {self.root}")
        return found

    def _scan(self) -> dict[str, Path]:
        if not self.root.is_dir():
            return {}
        if is_run_folder(self.root):
            return {self.root.resolve().name: self.root}
        found: dict[str, Path] = {}
        self._walk(self.root, (), found)
        return found

    def _walk(self, folder: Path, parts: tuple[str, ...], found: dict[str, Path]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return  # unreadable: nothing to show from it
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _SKIP:
                continue
            try:
                if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            path = Path(entry.path)
            name = (*parts, entry.name)
            if is_run_folder(path):
                found["/".join(name)] = path
            elif len(name) < MAX_DEPTH:
                self._walk(path, name, found)
