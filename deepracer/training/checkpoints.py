"""A run's checkpoints: the newest two are kept, and a damaged newest one falls back.

``checkpoints/`` holds ``model_<timesteps>.zip`` files and two pointers written after
the model they name, atomically: ``latest.json`` (the newest complete checkpoint) and
``previous.json`` (the one before). A pointer is ``{"model", "timesteps", "iteration",
"episodes", "wall_seconds"}``. Resuming reads ``latest.json``; if it or its model is
unreadable (a disk that lost the last write, a copy cut short), it goes back to
``previous.json`` and says so, and the run's logs are cut back to that point as for
any resume.

Contents:
    CHECKPOINTS, LATEST, PREVIOUS: the folder and pointer names.
    write_checkpoint: save a model and move the pointers.
    read_checkpoint: the newest usable checkpoint of a run.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text

__all__ = ["CHECKPOINTS", "LATEST", "PREVIOUS", "read_checkpoint", "write_checkpoint"]

CHECKPOINTS = "checkpoints"
LATEST = "latest.json"
PREVIOUS = "previous.json"
_FIELDS = {"model": str, "timesteps": int, "iteration": int, "episodes": int}


def write_checkpoint(run_dir: Path, record: dict[str, Any], save: Callable[[Path], None]) -> None:
    """Saves a checkpoint: the model first, then the pointers, then old models go.

    Args:
        run_dir: The run directory.
        record: The pointer; ``record["model"]`` is the model file relative to the run.
        save: Writes the model file (atomically) to the path it is given.
    """
    folder = run_dir / CHECKPOINTS
    save(run_dir / record["model"])
    latest = folder / LATEST
    if latest.is_file():
        try:
            last = json.loads(latest.read_text())
        except (OSError, ValueError):
            last = None
        if isinstance(last, dict) and last.get("model") != record["model"]:
            atomic_write_text(folder / PREVIOUS, json.dumps(last, indent=2) + "\n")
    # The pointer is written after the model, so it never names a partial file.
    atomic_write_text(latest, json.dumps(record, indent=2) + "\n")
    keep = {Path(record["model"]).name}
    previous = _pointer(run_dir, PREVIOUS)
    if isinstance(previous, dict):
        keep.add(Path(str(previous.get("model"))).name)
    for old in folder.glob("model_*.zip"):
        if old.name not in keep:
            old.unlink()


def read_checkpoint(run_dir: Path, say: Callable[[str], None]) -> dict[str, Any] | None:
    """Returns the newest usable checkpoint of ``run_dir``, or None if it has none.

    Args:
        run_dir: The run directory.
        say: Told when a damaged newest checkpoint is passed over.

    Raises:
        DeepRacerError: The run has checkpoint pointers but none is usable; the
            message gives each one's problem.
    """
    folder = run_dir / CHECKPOINTS
    problems: list[str] = []
    for name in (LATEST, PREVIOUS):
        if not (folder / name).is_file():
            continue
        problem = _problem(run_dir, name)
        if problem is None:
            record: dict[str, Any] = _pointer(run_dir, name)
            if problems:
                say(
                    f"note: {problems[0]}; resuming from the checkpoint before it"
                    f" ({record['timesteps']:,} steps)"
                )
            return record
        problems.append(problem)
    if problems:
        raise DeepRacerError(
            f"{folder}: no usable checkpoint to resume from: {'; '.join(problems)}. Start a"
            " new run, or restore the files from a copy"
        )
    return None  # killed before the first checkpoint: start over in place


def _pointer(run_dir: Path, name: str) -> Any:
    try:
        return json.loads((run_dir / CHECKPOINTS / name).read_text())
    except (OSError, ValueError):
        return None


def _problem(run_dir: Path, name: str) -> str | None:
    """What makes a checkpoint pointer or its model unusable, or None."""
    path = run_dir / CHECKPOINTS / name
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        return f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    except (OSError, ValueError) as exc:
        return f"{path} cannot be read ({exc})"
    if not isinstance(data, dict):
        return f"{path} holds no JSON object"
    for field, kind in _FIELDS.items():
        value = data.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f'{path}: field "{field}" is {value!r}; expected {kind.__name__}'
    model = run_dir / data["model"]
    if not model.is_file():
        return f"{path} names {data['model']}, which is missing"
    try:
        with zipfile.ZipFile(model) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        return f"{model} is not a readable model file ({exc})"
    if broken is not None or "policy.pth" not in names:
        return f"{model} is damaged ({broken or 'policy.pth'} fails its check)"
    return None
