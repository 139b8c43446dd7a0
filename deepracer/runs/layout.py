"""The run directory: one documented layout, read and written only through here.

A run directory is deepracer-for-cloud's model folder, as deepracer-utils and the
community's notebooks read it, with our own files beside DRfC's::

    model/model_metadata.json         action space, sensor, network (DeepRacer's format)
    model/model.pb                    an imported model's frozen graph (deepracer import)
    ip/hyperparameters.json           the preset in DeepRacer's terms
    training_metrics.json             one row per episode, the simapp's numbering
    training-simtrace/<i>-iteration.csv   iteration i (from 0) of a one-world run
    <w>/training-simtrace/<i>-iteration.csv   worker w's, when the run has several worlds
    evaluation-<YYYYMMDDhhmmss>/evaluation-simtrace/0-iteration.csv
    evaluation-<YYYYMMDDhhmmss>/evaluation_metrics.json
    evaluation-<YYYYMMDDhhmmss>/raceline_comparison.json  its laps against the race line
    reward_function.py                the reward function the run trains with
    experiment.yaml                   the resolved experiment (ours)
    preset.yaml                       its preset (ours)
    command.txt, version.txt          command lines and package version (ours)
    checkpoints/                      resumable checkpoints (:mod:`.checkpoints`)
    evaluations.json                  every periodic greedy evaluation (ours)
    progress.json                     steps, rate and state while training (ours)
    best.zip, model.zip               best and final stable-baselines3 models (ours)
    evaluation.json, training.png     the final evaluation's summary and plot (ours)
    raceline.csv, analysis/           the race line and the analysis plots (ours)
    imported.json                     where an imported model came from (ours)
    export/                           ``deepracer export``'s archives and folders (ours)
    world.yaml                        an imported model's world with its objects (ours)
    .lock                             held by the process writing the run

Numbering is the simapp's: an *iteration* is a block of
``num_episodes_between_training`` episodes (``ip/hyperparameters.json``), split
evenly between the workers (one per world, DRfC's multi-worker layout), so in a
one-world run deepracer-utils' ``unique_episode`` is the episode's number (with
several worlds each episode still gets one of its own). The simtrace's
``episode`` column counts a worker's episodes from 0; ``training_metrics.json``
counts all episodes from 1, with ``trial`` the episode's place in its iteration and
the periodic greedy evaluations as ``phase: evaluation`` rows.

Runs written before this layout (``model_metadata.json`` at the top, simtrace files
numbered from 1, evaluations under ``evaluations/``) still open: reading falls back
to the old places, and :func:`deepracer.runs.migrate.migrate` moves a run to this
layout before anything writes to it.

Contents:
    RunFiles: the paths of one run directory.
    episodes_per_worker: a worker's episodes per iteration.
    evaluation_stamp: the 14-digit stamp of an evaluation folder.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BEST_MODEL",
    "COMMAND",
    "EVALUATION_METRICS",
    "EVALUATION_SIMTRACE",
    "EXPERIMENT",
    "FINAL_MODEL",
    "HYPERPARAMETERS",
    "HYPERPARAMETERS_NAME",
    "LEGACY_MODEL_METADATA",
    "MODEL_METADATA",
    "MODEL_METADATA_NAME",
    "PRESET",
    "RACELINE_COMPARISON",
    "REWARD",
    "TRAINING_METRICS",
    "TRAINING_SIMTRACE",
    "VERSION",
    "RunFiles",
    "episodes_per_worker",
    "evaluation_stamp",
]

EXPERIMENT = "experiment.yaml"
PRESET = "preset.yaml"
REWARD = "reward_function.py"
MODEL_METADATA_NAME = "model_metadata.json"
"""The model metadata's file name (the console's, DRfC's and the car's)."""
MODEL_METADATA = f"model/{MODEL_METADATA_NAME}"
LEGACY_MODEL_METADATA = MODEL_METADATA_NAME
"""Where runs written before the DRfC layout keep their model metadata."""
HYPERPARAMETERS_NAME = "hyperparameters.json"
FROZEN_GRAPH = "model/model.pb"
"""An imported model's frozen graph (``deepracer import``), in DRfC's model folder."""
HYPERPARAMETERS = f"ip/{HYPERPARAMETERS_NAME}"
TRAINING_METRICS = "training_metrics.json"
TRAINING_SIMTRACE = "training-simtrace"
EVALUATION_SIMTRACE = "evaluation-simtrace"
EVALUATION_METRICS = "evaluation_metrics.json"
RACELINE_COMPARISON = "raceline_comparison.json"
"""An evaluation folder's laps against the world's race line (``deepracer evaluate``,
``deepracer quickstart``)."""
EVALUATIONS = "evaluations.json"
SUMMARY = "evaluation.json"
PLOT = "training.png"
BEST_MODEL = "best.zip"
FINAL_MODEL = "model.zip"
CHECKPOINTS = "checkpoints"
COMMAND = "command.txt"
VERSION = "version.txt"


def episodes_per_worker(episodes_per_iteration: int, workers: int) -> int:
    """A worker's episodes per iteration: the iteration's, split evenly (rounded up)."""
    return max(1, math.ceil(episodes_per_iteration / max(1, workers)))


def evaluation_stamp(seconds: float | None = None) -> str:
    """``YYYYMMDDhhmmss`` of ``seconds`` (now if None), local time, as DRfC names folders."""
    return time.strftime("%Y%m%d%H%M%S", time.localtime(seconds))


@dataclass(frozen=True)
class RunFiles:
    """The paths of one run directory (nothing is read or created here).

    Attributes:
        root: The run directory.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def experiment(self) -> Path:
        """``experiment.yaml``."""
        return self.root / EXPERIMENT

    @property
    def preset(self) -> Path:
        """``preset.yaml``, the preset the run trains with."""
        return self.root / PRESET

    @property
    def reward(self) -> Path:
        """``reward_function.py``, the reward the run trains with."""
        return self.root / REWARD

    @property
    def model_metadata(self) -> Path:
        """``model/model_metadata.json`` (the top-level file of an older run)."""
        current = self.root / MODEL_METADATA
        legacy = self.root / LEGACY_MODEL_METADATA
        return legacy if not current.is_file() and legacy.is_file() else current

    @property
    def hyperparameters(self) -> Path:
        """``ip/hyperparameters.json``."""
        return self.root / HYPERPARAMETERS

    @property
    def training_metrics(self) -> Path:
        """``training_metrics.json``."""
        return self.root / TRAINING_METRICS

    @property
    def evaluations(self) -> Path:
        """``evaluations.json``: the periodic greedy evaluations."""
        return self.root / EVALUATIONS

    @property
    def summary(self) -> Path:
        """``evaluation.json``: the final evaluation's summary."""
        return self.root / SUMMARY

    @property
    def plot(self) -> Path:
        """``training.png``."""
        return self.root / PLOT

    @property
    def best_model(self) -> Path:
        """``best.zip``."""
        return self.root / BEST_MODEL

    @property
    def final_model(self) -> Path:
        """``model.zip``."""
        return self.root / FINAL_MODEL

    @property
    def checkpoints(self) -> Path:
        """``checkpoints/``."""
        return self.root / CHECKPOINTS

    @property
    def command(self) -> Path:
        """``command.txt``."""
        return self.root / COMMAND

    @property
    def version(self) -> Path:
        """``version.txt``."""
        return self.root / VERSION

    @property
    def frozen_graph(self) -> Path:
        """``model/model.pb``: an imported DeepRacer model's TensorFlow graph."""
        return self.root / FROZEN_GRAPH

    @property
    def imported(self) -> Path:
        """``imported.json``: where an imported model came from."""
        return self.root / "imported.json"

    @property
    def imported_world(self) -> Path:
        """``world.yaml``: an imported model's world, from the source's race settings."""
        return self.root / "world.yaml"

    @property
    def raceline(self) -> Path:
        """``raceline.csv``: the world's race line beside the run's laps."""
        return self.root / "raceline.csv"

    @property
    def analysis(self) -> Path:
        """``analysis/``: the log-analysis plots."""
        return self.root / "analysis"

    @property
    def workers_status(self) -> Path:
        """``workers.json``: the simulation workers' state while training."""
        return self.root / "workers.json"

    @property
    def progress(self) -> Path:
        """``progress.json``: the trainer's steps, rate and state (:mod:`.progress`)."""
        return self.root / "progress.json"

    @property
    def exports(self) -> Path:
        """``export/``: where ``deepracer export`` puts archives and folders by default."""
        return self.root / "export"

    @property
    def tensorboard(self) -> Path:
        """``tensorboard/``."""
        return self.root / "tensorboard"

    def is_run(self) -> bool:
        """Whether the folder holds a run's experiment (``deepracer train`` wrote it)."""
        return self.experiment.is_file()

    def is_legacy(self) -> bool:
        """Whether the run predates the DRfC layout (its metadata at the top)."""
        return (self.root / LEGACY_MODEL_METADATA).is_file() and not (
            self.root / MODEL_METADATA
        ).is_file()

    def simtrace_folder(self, worker: int, workers: int) -> Path:
        """The training simtrace folder of ``worker`` (of ``workers``)."""
        base = self.root if workers <= 1 else self.root / str(worker)
        return base / TRAINING_SIMTRACE

    def simtrace_file(self, worker: int, workers: int, iteration: int) -> Path:
        """``[<w>/]training-simtrace/<iteration>-iteration.csv``."""
        return self.simtrace_folder(worker, workers) / f"{iteration}-iteration.csv"

    def simtrace_files(self, worker: int, workers: int) -> dict[int, Path]:
        """The worker's simtrace files by iteration."""
        folder = self.simtrace_folder(worker, workers)
        found: dict[int, Path] = {}
        if folder.is_dir():
            for path in folder.glob("*-iteration.csv"):
                head = path.name.split("-", 1)[0]
                if head.isdigit():
                    found[int(head)] = path
        return dict(sorted(found.items()))

    def evaluation_folder(self, stamp: str) -> Path:
        """``evaluation-<stamp>/``."""
        return self.root / f"evaluation-{stamp}"

    def evaluation_folders(self) -> list[Path]:
        """The run's ``evaluation-<stamp>`` folders, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p
            for p in self.root.glob("evaluation-*")
            if p.name[len("evaluation-") :].isdigit() and p.is_dir()
        )

    def claim_evaluation_folder(self, seconds: float | None = None) -> Path:
        """Creates ``evaluation-<stamp>/`` for a new evaluation and returns it.

        Two evaluations in the same second get consecutive stamps: the ``mkdir`` is the
        claim, and the stamp must stay 14 digits for deepracer-utils.
        """
        now = time.time() if seconds is None else seconds
        self.root.mkdir(parents=True, exist_ok=True)
        for shift in range(3600):
            folder = self.evaluation_folder(evaluation_stamp(now + shift))
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return folder
        raise FileExistsError(f"{self.root}: an evaluation folder for every second of an hour")
