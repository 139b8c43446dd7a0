"""``progress.json``: where a training stands, for whoever watches the run.

The trainer rewrites it (whole, atomically) every time it prints its progress line and
once more when it stops, so a dashboard or a script can follow a run from its files
alone: the trainer needs no server, and a crash leaves the last state on disk. A run
whose file still says ``training`` while no process holds its lock
(:func:`deepracer.runs.lock.lock_holder`) has crashed.

Contents:
    PROGRESS_STATES: the values of ``state``.
    TrainingProgress: the file's content.
    write_progress, read_progress: the file, whole or not at all.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text

__all__ = ["PROGRESS_STATES", "TrainingProgress", "read_progress", "write_progress"]

PROGRESS_STATES = ("training", "finished", "interrupted", "stopped")
"""``training`` while it runs; ``finished`` when it reached its steps or its time budget;
``interrupted`` by Ctrl-C; ``stopped`` by a lost simulation worker. The last two leave a
checkpoint to resume from."""


@dataclass(frozen=True)
class TrainingProgress:
    """Where a training stands.

    Attributes:
        state: One of :data:`PROGRESS_STATES`.
        timesteps: Environment steps so far (all sessions).
        total_timesteps: Steps the experiment asks for.
        episodes: Training episodes recorded so far.
        steps_per_second: Steps per second of this session.
        eta_seconds: Seconds left at that rate; None once stopped or before a rate.
        updated: When this was written [s since the epoch].
    """

    state: str
    timesteps: int
    total_timesteps: int
    episodes: int
    steps_per_second: float
    eta_seconds: float | None
    updated: float


def write_progress(path: Path, progress: TrainingProgress) -> None:
    """Writes ``progress.json`` whole or not at all."""
    atomic_write_text(path, json.dumps(asdict(progress)) + "\n")


def read_progress(path: Path) -> TrainingProgress | None:
    """Reads ``progress.json``; None if the run has none (written before it existed).

    Raises:
        DeepRacerError: The file is not a progress record; the message names the field.
    """
    try:
        data: Any = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DeepRacerError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DeepRacerError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if data.get("state") not in PROGRESS_STATES:
        raise DeepRacerError(
            f"{path}: field state is {data.get('state')!r}; expected one of"
            f" {', '.join(PROGRESS_STATES)}"
        )
    values: dict[str, Any] = {"state": data["state"]}
    for name in ("timesteps", "total_timesteps", "episodes"):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DeepRacerError(f"{path}: field {name} is {value!r}; expected a whole number >= 0")
        values[name] = value
    for name in ("steps_per_second", "eta_seconds", "updated"):
        value = data.get(name)
        if value is None and name == "eta_seconds":
            values[name] = None
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise DeepRacerError(f"{path}: field {name} is {value!r}; expected a number")
        values[name] = float(value)
    return TrainingProgress(**values)
