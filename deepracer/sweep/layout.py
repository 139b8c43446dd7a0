"""A sweep directory: the one owner of its file names.

::

    sweeps/<name>/
      sweep.yaml            the sweep as given (a rerun must match it)
      trials/<trial>/       one normal run directory per trial (train, evaluate, analyze)
      trials/<trial>.log    the trial's progress lines
      trials/<trial>.aside-N/  a trial's earlier attempt that died before a checkpoint
      tune/                 Ray Tune's experiment state (what resumes the sweep)
      report.md, report.png the ranked report

Contents:
    SweepFiles: the paths of one sweep directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SweepFiles"]


@dataclass(frozen=True)
class SweepFiles:
    """The files of the sweep directory ``root`` (an absolute path)."""

    root: Path

    @property
    def sweep(self) -> Path:
        """The sweep file's copy."""
        return self.root / "sweep.yaml"

    @property
    def trials(self) -> Path:
        """The folder of the trials' run directories."""
        return self.root / "trials"

    def trial(self, name: str) -> Path:
        """A trial's run directory."""
        return self.trials / name

    def trial_log(self, name: str) -> Path:
        """A trial's progress lines."""
        return self.trials / f"{name}.log"

    def aside(self, name: str) -> Path:
        """A free name for a trial's dead attempt, kept beside the trial."""
        n = 1
        while (self.trials / f"{name}.aside-{n}").exists():
            n += 1
        return self.trials / f"{name}.aside-{n}"

    @property
    def tune(self) -> Path:
        """Ray Tune's experiment folder."""
        return self.root / "tune"

    @property
    def report(self) -> Path:
        """The ranked report (Markdown)."""
        return self.root / "report.md"

    @property
    def plot(self) -> Path:
        """The report's plot: progress and lap time against steps, per trial."""
        return self.root / "report.png"
