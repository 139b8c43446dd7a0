"""The run directory: its layout, its files, its lock, its logs.

One owner for the format every command reads and writes (train, resume, evaluate,
render, analyze, export, upload, download, the container entry point): see
:mod:`deepracer.runs.layout` for the layout, which is deepracer-for-cloud's model
folder (what deepracer-utils reads) with our own files beside it.

Contents:
    RunFiles: the paths of one run directory.
    RunLock, claim_run_dir, new_run_dir, run_dir_for, is_empty_run_dir: creating
        and holding run directories.
    TrainingLog (``deepracer.runs.training_log``): the training metrics and simtrace,
        numbered as the simapp does.
    write_run_files: the fixed files of a new run.
    read_hyperparameters, episodes_per_iteration: ``ip/hyperparameters.json``.
    append_command: record a command line in ``command.txt``.
    migrate (``deepracer.runs.migrate``): bring a run written before the DRfC layout
        to it.

Importing this package is light (no numpy, no gymnasium): the log writer and the
migration live in their own modules.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.runs.layout import (
    EVALUATION_METRICS,
    EVALUATION_SIMTRACE,
    RunFiles,
    episodes_per_worker,
    evaluation_stamp,
)
from deepracer.runs.lock import (
    LOCK_FILE,
    RunLock,
    claim_run_dir,
    is_empty_run_dir,
    new_run_dir,
    run_dir_for,
)

if TYPE_CHECKING:
    from deepracer.envs.model_metadata import ModelMetadata

__all__ = [
    "EVALUATION_METRICS",
    "EVALUATION_SIMTRACE",
    "LOCK_FILE",
    "RunFiles",
    "RunLock",
    "append_command",
    "claim_run_dir",
    "episodes_per_iteration",
    "episodes_per_worker",
    "evaluation_stamp",
    "is_empty_run_dir",
    "new_run_dir",
    "read_hyperparameters",
    "run_dir_for",
    "write_run_files",
]


def write_run_files(
    files: RunFiles,
    *,
    experiment: str,
    preset: str,
    metadata: ModelMetadata,
    hyperparameters: dict[str, Any],
    version: str,
) -> None:
    """Writes the fixed files of a new run (each whole or not at all).

    Args:
        files: The run.
        experiment: ``experiment.yaml``'s text.
        preset: ``preset.yaml``'s text.
        metadata: ``model/model_metadata.json``.
        hyperparameters: ``ip/hyperparameters.json``.
        version: The package version (``version.txt``).
    """
    from deepracer.envs.model_metadata import write_model_metadata

    atomic_write_text(files.experiment, experiment)
    # The run keeps its preset too, so it evaluates and exports wherever it moves
    # (a run trained in a container names files that only the container has).
    atomic_write_text(files.preset, preset)
    files.model_metadata.parent.mkdir(parents=True, exist_ok=True)
    write_model_metadata(files.model_metadata, metadata)
    atomic_write_text(files.hyperparameters, json.dumps(hyperparameters, indent=2) + "\n")
    atomic_write_text(files.version, version + "\n")


def append_command(files: RunFiles, line: str) -> None:
    """Adds a command line to ``command.txt`` (one line per train or resume)."""
    with files.command.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def read_hyperparameters(files: RunFiles) -> dict[str, Any]:
    """The run's ``ip/hyperparameters.json``.

    Raises:
        DeepRacerError: Missing, not JSON, or not an object.
    """
    path = files.hyperparameters
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeepRacerError(
            f"{path}: missing; a run keeps its hyperparameters in DeepRacer's terms there"
        ) from None
    except (OSError, ValueError) as exc:
        raise DeepRacerError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DeepRacerError(f"{path}: expected a JSON object of hyperparameters")
    return data


def episodes_per_iteration(files: RunFiles) -> int:
    """``num_episodes_between_training`` of the run's hyperparameters.

    Raises:
        DeepRacerError: The file is unreadable or the value is not a whole number >= 1.
    """
    value = read_hyperparameters(files).get("num_episodes_between_training")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DeepRacerError(
            f"{files.hyperparameters}: field num_episodes_between_training is {value!r};"
            " expected a whole number >= 1"
        )
    return value
