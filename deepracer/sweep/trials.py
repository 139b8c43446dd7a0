"""A sweep's trials: planned from the sweep file, collected from their run directories.

Contents:
    SweepTrial: one trial's values, status and evaluations.
    plan_trials: the trials of a basic search (the same every time).
    collect_trials: each trial's status and evaluations, best first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepracer.runs import RunFiles
from deepracer.runs.evaluations import PeriodicEvaluation, read_evaluations
from deepracer.sweep.config import SweepConfig, grid_points, trial_name
from deepracer.sweep.layout import SweepFiles

__all__ = ["SweepTrial", "collect_trials", "plan_trials"]


@dataclass(frozen=True)
class SweepTrial:
    """One trial as the report shows it.

    Attributes:
        name: Its run directory's name.
        params: The values it was given.
        status: ``finished``, ``stopped early``, ``failed: ...``, or ``not run``.
        evaluations: Its periodic evaluations, in order.
    """

    name: str
    params: dict[str, Any]
    status: str
    evaluations: list[PeriodicEvaluation]

    def best(self) -> PeriodicEvaluation | None:
        """The evaluation ranked best (mean progress, then a faster mean lap)."""
        return max(self.evaluations, key=lambda e: e.score(), default=None)


def _draw(kind: str, value: Any, rng: np.random.Generator) -> Any:
    if kind == "uniform":
        return float(rng.uniform(value[0], value[1]))
    if kind == "loguniform":
        return float(math.exp(rng.uniform(math.log(value[0]), math.log(value[1]))))
    if kind == "randint":
        return int(rng.integers(value[0], value[1]))
    return value[int(rng.integers(len(value)))]


def plan_trials(sweep: SweepConfig) -> list[dict[str, Any]]:
    """The trials of a basic search: ``{"name", "params"}`` each, the same every time."""
    rng = np.random.default_rng(sweep.seed)
    planned = []
    for point in grid_points(sweep):
        for sample in range(sweep.samples):
            params = dict(point)
            for key in sorted(sweep.random):
                params[key] = _draw(*sweep.random[key].kind(), rng)
            # Repeats of a grid point without random keys differ only by their index.
            index = sample if sweep.samples > 1 and not sweep.random else None
            planned.append({"name": trial_name(params, index), "params": params, "index": index})
    return planned


def collect_trials(
    files: SweepFiles, statuses: dict[str, tuple[dict[str, Any], Any]]
) -> list[SweepTrial]:
    """Each trial's status and evaluations, from Tune's outcome and its run directory."""
    trials = []
    for name, (params, error) in statuses.items():
        run = RunFiles(files.trial(name))
        evaluations = read_evaluations(run.evaluations) if run.evaluations.is_file() else []
        if error is not None:
            first = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            status = f"failed: {first[:120]}"
        elif run.summary.is_file():
            status = "finished"
        elif evaluations:
            status = "stopped early"
        else:
            status = "not run"
        trials.append(SweepTrial(name=name, params=params, status=status, evaluations=evaluations))
    trials.sort(key=lambda t: _rank_key(t))
    return trials


def _rank_key(trial: SweepTrial) -> tuple[float, float, str]:
    best = trial.best()
    if best is None:
        return (math.inf, math.inf, trial.name)
    progress, lap = best.score()
    return (-progress, -lap, trial.name)
