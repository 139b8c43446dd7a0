"""Reading a run: which model to drive, and the experiment it trained with.

Contents:
    LEGACY_VEHICLE: the car of runs written before vehicle profiles.
    resolve_model: a run directory or a model file to ``(model file, run directory)``.
    latest_checkpoint: the model file ``checkpoints/latest.json`` names, if any.
    run_experiment: a run's experiment, pointed at the run's own reward and preset.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.runs.layout import CHECKPOINTS, RunFiles

__all__ = ["LEGACY_VEHICLE", "latest_checkpoint", "resolve_model", "run_experiment"]

LEGACY_VEHICLE = "kinematic"
"""The car of runs written before vehicle profiles (their experiment names none)."""

_LATEST = Path(CHECKPOINTS) / "latest.json"
"""Where ``deepracer train`` points to its last complete checkpoint, in a run."""


def resolve_model(target: Path, *, echo: Callable[[str], None] = print) -> tuple[Path, Path]:
    """Returns ``(model file, run directory)`` of a run directory or a model file.

    A run directory's ``best.zip`` (the console evaluates its best model) wins over
    its final ``model.zip``, then an imported model's ``model/model.pb``; a run
    without any (training crashed or was killed) falls back to the checkpoint
    ``checkpoints/latest.json`` names, with a note. A model file inside a run's
    ``checkpoints/`` belongs to that run.

    Args:
        target: A run directory or a model ``.zip``.
        echo: Receives the note when a checkpoint stands in for the final model.

    Raises:
        DeepRacerError: Nothing to evaluate, or a broken ``checkpoints/latest.json``.
    """
    if target.is_dir():
        files = RunFiles(target)
        for path in (files.best_model, files.final_model, files.frozen_graph):
            if path.is_file():
                return path, target
        checkpoint = latest_checkpoint(target)
        if checkpoint is not None:
            echo(
                f"note: {target} has no best.zip or model.zip (training stopped early?);"
                f" using its last checkpoint {checkpoint}"
            )
            return checkpoint, target
        raise DeepRacerError(
            f"{target}: no best.zip, model.zip or {_LATEST.as_posix()} in this directory:"
            " pass a run directory that `deepracer train` wrote, or the path of a model .zip"
        )
    if target.is_file():
        run = target.parent.parent
        if target.parent.name == CHECKPOINTS and RunFiles(run).is_run():
            return target, run
        return target, target.parent
    raise DeepRacerError(f"no such run directory or model file: {target}")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """Returns the model file ``run_dir/checkpoints/latest.json`` names; None without one.

    Raises:
        DeepRacerError: The file is not JSON, lacks a ``model`` path, or names a
            missing file.
    """
    latest = run_dir / _LATEST
    if not latest.is_file():
        return None
    expected = (
        'expected a JSON object whose "model" is the checkpoint\'s model file relative to'
        ' the run directory (e.g. "checkpoints/model_512.zip"), as `deepracer train`'
        " writes it"
    )
    try:
        data = json.loads(latest.read_bytes())
    except json.JSONDecodeError as exc:
        raise DeepRacerError(
            f"{latest}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg});"
            f" {expected}"
        ) from None
    except (OSError, ValueError) as exc:  # unreadable, or bytes that are no text at all
        raise DeepRacerError(f"{latest}: cannot read it as JSON ({exc}); {expected}") from None
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, str) or not model:
        found = "missing" if model is None else repr(model)
        raise DeepRacerError(f'{latest}: field "model" is {found}; {expected}')
    path = run_dir / model
    if not path.is_file():
        raise DeepRacerError(
            f'{latest}: field "model" names {model}, which is not a file in {run_dir}'
        )
    return path


def run_experiment(run_dir: Path) -> Any:
    """Returns a run's saved experiment, pointed at the run's own file copies.

    The reward function and preset a run trained with are copied into it
    (``reward_function.py``, ``preset.yaml``); they stand in for the names the
    experiment gives, which may be paths that exist only where the run was trained
    (a SageMaker container, another machine). A run that records no car was trained
    before vehicle profiles existed, with the ``kinematic`` car and a state vector
    without the steering command: it keeps both.

    Raises:
        DeepRacerError: ``experiment.yaml`` is missing or invalid.
    """
    from deepracer.config.loader import load_yaml
    from deepracer.experiment import experiment_from_mapping

    files = RunFiles(run_dir)
    saved = files.experiment
    experiment = experiment_from_mapping(load_yaml(saved), source=str(saved))
    changes: dict[str, Any] = {}
    if files.reward.is_file():
        changes["reward"] = str(files.reward)
    if files.preset.is_file():
        changes["preset"] = str(files.preset)
    if "vehicle" not in experiment.env:
        # Runs record their car since vehicle profiles exist; one that does not was
        # trained with the ideal car of that time and the 15-float state vector
        # without the steering command, which it keeps.
        state = {**experiment.env.get("state", {}), "steering_command": False}
        changes["env"] = {**experiment.env, "vehicle": LEGACY_VEHICLE, "state": state}
    return replace(experiment, **changes)
