"""``evaluations.json``: the periodic greedy evaluations of a training run.

The trainer appends one record after each periodic evaluation (and keeps the best
model by :meth:`PeriodicEvaluation.score`); a SageMaker job reads the newest for its
metric line; ``training.png`` plots them all.

Contents:
    PeriodicEvaluation: one periodic evaluation.
    read_evaluations, write_evaluations: the file, whole or not at all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text

__all__ = ["PeriodicEvaluation", "read_evaluations", "write_evaluations"]


@dataclass(frozen=True)
class PeriodicEvaluation:
    """One periodic greedy evaluation during training.

    Attributes:
        timesteps: Training steps when it ran.
        wall_seconds: Training wall time so far, all sessions [s].
        episodes: Training episodes recorded so far.
        mean_progress: Mean progress of its trials [%].
        laps_completed: Trials that completed the lap.
        trials: Trials run (fewer than asked when a time budget cut it short).
        best_lap_time: The fastest lap [s]; None without one.
        mean_lap_time: The mean of the completed laps [s]; None without one.
        training_progress: Mean progress of the last 50 training episodes [%].
    """

    timesteps: int
    wall_seconds: float
    episodes: int
    mean_progress: float
    laps_completed: int
    trials: int
    best_lap_time: float | None = None
    mean_lap_time: float | None = None
    training_progress: float | None = None

    def score(self) -> tuple[float, float]:
        """Mean progress first (the console's best_model_metric), then a faster lap."""
        lap = self.mean_lap_time
        return (self.mean_progress, -lap if lap is not None else -1e9)


def read_evaluations(path: Path) -> list[PeriodicEvaluation]:
    """Reads ``evaluations.json``.

    Raises:
        DeepRacerError: Not JSON, or not a list of evaluations; the message says how to
            go on.
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DeepRacerError(
            f"{path}: cannot read it as JSON ({exc}); deepracer writes it whole or not at"
            " all, so it was damaged afterwards. Restore it, or delete it to resume"
            " without the earlier evaluations (best.zip is then replaced by the next one)"
        ) from None
    names = {f.name for f in fields(PeriodicEvaluation)}
    if not isinstance(data, list) or not all(
        isinstance(e, dict) and isinstance(e.get("timesteps"), int) for e in data
    ):
        raise DeepRacerError(f'{path}: expected a JSON list of evaluations with "timesteps"')
    try:
        return [PeriodicEvaluation(**_known(e, names)) for e in data]
    except TypeError as exc:  # a record without a required field
        raise DeepRacerError(f"{path}: an evaluation lacks a field ({exc})") from None


def write_evaluations(path: Path, evaluations: list[PeriodicEvaluation]) -> None:
    """Writes ``evaluations.json`` (indented, whole or not at all)."""
    atomic_write_text(path, json.dumps([asdict(e) for e in evaluations], indent=2) + "\n")


def _known(entry: dict[str, Any], names: set[str]) -> dict[str, Any]:
    # Newer files may carry more fields; an older reader keeps what it knows.
    return {k: v for k, v in entry.items() if k in names}
