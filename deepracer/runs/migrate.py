"""Moving a run written before the DRfC layout to it, before anything writes to it.

Reading an older run needs nothing (:class:`~deepracer.runs.layout.RunFiles` falls back
to its files); resuming one renumbers its logs first, so the new episodes continue
them in the current numbering. Each step can be repeated: a run whose migration was
cut short by a crash is migrated again from what it left, and the run counts as
migrated only once its ``model_metadata.json`` moves into ``model/``, the last step.

Contents:
    migrate: bring an older run to the current layout (in place).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Sequence
from typing import Any

from deepracer.io import atomic_write_text
from deepracer.runs.layout import (
    LEGACY_MODEL_METADATA,
    MODEL_METADATA,
    TRAINING_SIMTRACE,
    RunFiles,
    episodes_per_worker,
)
from deepracer.runs.training_log import _write_simtrace, metrics_rows

__all__ = ["migrate"]

_STAGED = ".migrating-simtrace"
_OLD = ".legacy-simtrace"


def migrate(
    files: RunFiles, *, hyperparameters: dict[str, Any], world_names: Sequence[str]
) -> bool:
    """Brings a run written before the DRfC layout to it; returns whether it had to.

    Args:
        files: The run.
        hyperparameters: Its ``ip/hyperparameters.json`` (written if missing).
        world_names: The run's worlds by worker, as its metrics rows name them.
    """
    if not files.is_legacy():
        return False
    if not files.hyperparameters.is_file():
        atomic_write_text(files.hyperparameters, json.dumps(hyperparameters, indent=2) + "\n")
    workers = max(1, len(world_names))
    per_worker = episodes_per_worker(int(hyperparameters["num_episodes_between_training"]), workers)
    per_iteration = per_worker * workers
    worker_of: list[int] = []
    if files.training_metrics.is_file():
        rows = [r for r in metrics_rows(files.training_metrics) if r.get("phase") == "training"]
        for i, row in enumerate(rows):
            name = row.get("world_name")
            worker = world_names.index(name) if name in world_names else 0
            worker_of.append(worker)
            row.update(episode=i + 1, trial=i % per_iteration + 1)
            if workers > 1:
                row["worker"] = worker
        document = {"metrics": rows, "version": 2.0, "best_model_metric": "progress"}
        atomic_write_text(files.training_metrics, json.dumps(document) + "\n")
    _renumber_simtrace(files, worker_of, workers, per_worker)
    (files.root / MODEL_METADATA).parent.mkdir(parents=True, exist_ok=True)
    os.replace(files.root / LEGACY_MODEL_METADATA, files.root / MODEL_METADATA)
    return True


def _renumber_simtrace(
    files: RunFiles, worker_of: list[int], workers: int, per_worker: int
) -> None:
    """Rewrites the old ``training-simtrace/`` (from 1, global episodes) by worker and block."""
    old = files.root / _OLD
    current = files.root / TRAINING_SIMTRACE
    if not old.is_dir():
        if not current.is_dir():
            return
        os.replace(current, old)
    staged = files.root / _STAGED
    shutil.rmtree(staged, ignore_errors=True)
    by_episode: dict[int, list[list[str]]] = {}
    paths = sorted(old.glob("*-iteration.csv"), key=lambda p: int(p.name.split("-", 1)[0]))
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                if row:
                    by_episode.setdefault(int(float(row[0])), []).append(row)
    counts = [0] * workers
    blocks: dict[tuple[int, int], list[list[str]]] = {}
    for episode in sorted(by_episode):
        worker = worker_of[episode] if episode < len(worker_of) else 0
        local = counts[worker]
        counts[worker] += 1
        for row in by_episode[episode]:
            row[0] = str(local)
        blocks.setdefault((worker, local // per_worker), []).extend(by_episode[episode])
    target = RunFiles(staged)
    for (worker, iteration), rows in blocks.items():
        _write_simtrace(target.simtrace_file(worker, workers, iteration), rows)
    for folder in [p for p in staged.rglob(TRAINING_SIMTRACE) if p.is_dir()]:
        destination = files.root / folder.relative_to(staged)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, destination)
    shutil.rmtree(staged, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
