"""A run's checkpoints: the newest two are kept, and a damaged newest one falls back.

``checkpoints/`` holds ``model_<timesteps>.zip`` files and two pointers written after
the model they name, atomically: ``latest.json`` (the newest complete checkpoint) and
``previous.json`` (the one before). A pointer is ``{"model", "timesteps", "iteration",
"episodes", "wall_seconds"}``. Resuming reads ``latest.json``; if it or its model is
unreadable (a disk that lost the last write, a copy cut short), it goes back to
``previous.json`` and says so, and the run's logs are cut back to that point as for
any resume.

The resume path lives here too: :func:`resumed_experiment` (the run's own reward and
preset, and whether its reward may run), :func:`clean_partial_files` (what a kill
left half-written) and :func:`save_model` (a model written whole or not at all).

Contents:
    CHECKPOINTS, LATEST, PREVIOUS: the folder and pointer names.
    write_checkpoint: save a model and move the pointers.
    read_checkpoint: the newest usable checkpoint of a run.
    resumed_experiment: the saved experiment a resume continues, if it may.
    clean_partial_files: remove the temporary files a killed run left.
    save_model: save a stable-baselines3 model through a temporary file.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_path, atomic_write_text
from deepracer.runs.layout import CHECKPOINTS, RunFiles

__all__ = [
    "CHECKPOINTS",
    "LATEST",
    "PREVIOUS",
    "Checkpoint",
    "clean_partial_files",
    "read_checkpoint",
    "resumed_experiment",
    "save_model",
    "write_checkpoint",
]

LATEST = "latest.json"
PREVIOUS = "previous.json"
_FIELDS = {"model": str, "timesteps": int, "iteration": int, "episodes": int}


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint pointer (``checkpoints/latest.json``, ``previous.json``).

    Attributes:
        model: The model file, relative to the run directory.
        timesteps: Environment steps trained when it was saved.
        iteration: Training iterations (updates) of the session that saved it.
        episodes: Training episodes recorded in the logs when it was saved.
        wall_seconds: Training wall time of all sessions so far [s].
    """

    model: str
    timesteps: int
    iteration: int
    episodes: int
    wall_seconds: float = 0.0

    def to_json(self) -> str:
        """The pointer file's text: indented JSON, for people too."""
        return json.dumps(asdict(self), indent=2) + "\n"


def write_checkpoint(run_dir: Path, record: Checkpoint, save: Callable[[Path], None]) -> None:
    """Saves a checkpoint: the model first, then the pointers, then old models go.

    Args:
        run_dir: The run directory.
        record: The pointer; ``record.model`` is the model file relative to the run.
        save: Writes the model file (atomically) to the path it is given.
    """
    folder = run_dir / CHECKPOINTS
    save(run_dir / record.model)
    latest = folder / LATEST
    if latest.is_file():
        try:
            last = json.loads(latest.read_text())
        except (OSError, ValueError):
            last = None
        if isinstance(last, dict) and last.get("model") != record.model:
            atomic_write_text(folder / PREVIOUS, json.dumps(last, indent=2) + "\n")
    # The pointer is written after the model, so it never names a partial file.
    atomic_write_text(latest, record.to_json())
    keep = {Path(record.model).name}
    previous = _pointer(run_dir, PREVIOUS)
    if isinstance(previous, dict):
        keep.add(Path(str(previous.get("model"))).name)
    for old in folder.glob("model_*.zip"):
        if old.name not in keep:
            old.unlink()


def read_checkpoint(run_dir: Path, say: Callable[[str], None]) -> Checkpoint | None:
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
            data = _pointer(run_dir, name)
            record = Checkpoint(
                model=data["model"],
                timesteps=data["timesteps"],
                iteration=data["iteration"],
                episodes=data["episodes"],
                wall_seconds=float(data.get("wall_seconds", 0.0)),
            )
            if problems:
                say(
                    f"note: {problems[0]}; resuming from the checkpoint before it"
                    f" ({record.timesteps:,} steps)"
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
    seconds = data.get("wall_seconds", 0.0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return f'{path}: field "wall_seconds" is {seconds!r}; expected a number'
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


def resumed_experiment(out: Path, say: Callable[[str], None], *, trust_reward: bool) -> Any:
    """The run's saved experiment, with its own reward and preset copies, if trusted.

    Resuming imports the run's ``reward_function.py``: a run this machine did not
    create needs ``trust_reward`` (then it is signed as this machine's from now on).
    A reward file the experiment names that changed since the run started is
    reported; the run goes on with the copy it started with.
    """
    from deepracer.config.loader import load_yaml
    from deepracer.config.resources import resolve
    from deepracer.evaluation.runs import run_experiment
    from deepracer.experiment import experiment_from_mapping
    from deepracer.trust import run_is_trusted, sign_run

    files = RunFiles(out)
    saved = files.experiment
    if not saved.is_file():
        raise DeepRacerError(f"{out}: not a run directory (no {saved.name}) to resume")
    copy = files.reward
    if not copy.is_file():
        raise DeepRacerError(
            f"{copy}: missing; a run keeps the reward function it trains with there and"
            " resumes with it"
        )
    if not run_is_trusted(out):
        if not trust_reward:
            raise DeepRacerError(
                f"{out}: not created on this machine (or its reward_function.py changed"
                " since), and resuming imports that file, which runs its code; pass"
                " --trust-reward if you trust it"
            )
        sign_run(out)
    original = experiment_from_mapping(load_yaml(saved), source=str(saved)).reward
    experiment = run_experiment(out)  # its reward and preset are the run's copies
    try:
        changed = resolve("rewards", original).read_bytes() != copy.read_bytes()
    except (DeepRacerError, OSError):
        changed = False  # gone, or never on this machine: the copy is all there is
    if changed:
        say(
            f"note: {original} changed since this run started; the run goes on with the"
            f" reward it started with ({copy}). Start a new run to train the new one."
        )
    return experiment


def clean_partial_files(out: Path) -> None:
    """Removes temporary files a killed run left behind (atomic writes in progress)."""
    for tmp in out.rglob(".*.*"):
        if tmp.is_file() and tmp.name.startswith("."):
            tmp.unlink()


def save_model(model: Any, path: Path) -> None:
    """Saves a stable-baselines3 model whole or not at all (:func:`deepracer.io.atomic_path`).

    The temporary file (``.model.zip.<random>.zip``) is one :func:`clean_partial_files`
    removes if a kill leaves it; a failed save (a full disk) leaves nothing.
    """
    with atomic_path(path, suffix=".zip") as tmp:
        model.save(tmp)
