"""A run's training logs, numbered as the simapp numbers them, never half written.

``training_metrics.json`` gets one row per finished training episode (episodes
counted from 1, ``trial`` = the episode's place in its iteration) and one
``phase: evaluation`` row per periodic greedy trial. Each worker's simtrace goes to
``[<w>/]training-simtrace/<i>-iteration.csv``, iteration ``i`` holding the worker's
episodes ``i*K .. i*K+K-1`` (``K`` from :func:`~deepracer.runs.layout.episodes_per_worker`),
its ``episode`` column counting the worker's episodes from 0: the numbering
deepracer-utils derives ``unique_episode`` from. See :mod:`deepracer.runs.layout`.

Rows are buffered and written at the end of each training iteration by atomic
replaces, so every file on disk is whole and none is empty. A resume from a
checkpoint that had recorded E episodes cuts the logs back to those E (and to the
evaluations up to the checkpoint's steps): no episode is lost or counted twice.

Contents:
    TrainingLog: the buffered training logs of one run.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepracer.envs.racing_env import STATUS_DISPLAY_NAMES
from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.logs import SIMTRACE_COLUMNS
from deepracer.runs.layout import RunFiles, episodes_per_worker

if TYPE_CHECKING:
    from deepracer.evaluation.greedy import TrialResult

__all__ = ["FinishedEpisode", "TrainingLog", "metrics_rows"]


@dataclass
class FinishedEpisode:
    """One finished training episode, as an episode logger hands it to the log.

    Attributes:
        steps: Its simtrace rows (the log sets their ``episode`` column).
        reward: Its total reward.
        status: Its final status (``lap_complete``, ``off_track``, ...).
        progress: Its final progress [%].
        start_time: When it started [s since the epoch].
        world: The world's name.
        worker: The simulation worker (the world's index in the experiment).
    """

    steps: list[list[Any]]
    reward: float
    status: str
    progress: float
    start_time: float
    world: str
    worker: int = 0


class TrainingLog:
    """The training metrics and simtrace of one run.

    Args:
        run_dir: The run directory.
        episodes_per_iteration: ``num_episodes_between_training`` of the run.
        workers: Simulation workers (the run's worlds); 1 writes the single-worker layout.
        simtrace: Whether to write simtrace CSVs.
        keep_episodes: Training episodes already recorded that stay (a resume cuts the rest).
        keep_until_steps: Evaluation rows up to this many steps stay (a resume's checkpoint).

    Raises:
        DeepRacerError: The metrics file is damaged or holds fewer episodes than kept.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        episodes_per_iteration: int,
        workers: int = 1,
        simtrace: bool = True,
        keep_episodes: int = 0,
        keep_until_steps: int = 0,
    ) -> None:
        self.files = RunFiles(run_dir)
        self.workers = max(1, workers)
        self.per_worker = episodes_per_worker(episodes_per_iteration, self.workers)
        self.per_iteration = self.per_worker * self.workers
        self.simtrace = simtrace
        self.iteration = 0
        """Training iterations flushed in this session."""
        self.rows: list[dict[str, Any]] = []
        path = self.files.training_metrics
        if keep_episodes and path.is_file():
            self.rows = _kept(metrics_rows(path), keep_episodes, keep_until_steps)
        self._training = [r for r in self.rows if r.get("phase") == "training"]
        if self.episodes != keep_episodes:
            raise DeepRacerError(
                f"{path}: the checkpoint counts {keep_episodes} recorded episodes, the file"
                f" holds {self.episodes}; the run's logs were changed or cut short. Restore"
                " them from a copy or start a new run"
            )
        self._counts = [0] * self.workers
        for row in self._training:
            self._counts[int(row.get("worker", 0)) % self.workers] += 1
        # Per worker: the rows of its current (unfinished) iteration, and finished
        # iterations not yet written.
        self._open: list[list[list[Any]]] = [[] for _ in range(self.workers)]
        self._unwritten: list[tuple[Path, list[list[Any]]]] = []
        for worker in range(self.workers):
            self._open[worker] = self._cut_simtrace(worker)
        self._write_metrics()

    @property
    def episodes(self) -> int:
        """Training episodes recorded so far."""
        return len(self._training)

    def complete(self, finished: FinishedEpisode) -> None:
        """Records one finished training episode (its simtrace rows and metrics row)."""
        steps, status, start_time = finished.steps, finished.status, finished.start_time
        worker = finished.worker % self.workers
        local = self._counts[worker]
        self._counts[worker] += 1
        episode = self.episodes + 1
        end = time.time()
        row: dict[str, Any] = {
            "reward_score": round(finished.reward),
            "metric_time": round(end * 1000),
            "start_time": round(start_time * 1000),
            "elapsed_time_in_milliseconds": round((end - start_time) * 1000),
            "episode": episode,
            "trial": (episode - 1) % self.per_iteration + 1,
            "phase": "training",
            "completion_percentage": int(finished.progress),
            "episode_status": STATUS_DISPLAY_NAMES.get(status, status),
            "world_name": finished.world,
        }
        if self.workers > 1:
            row["worker"] = worker
        self.rows.append(row)
        self._training.append(row)
        if not self.simtrace:
            return
        if local % self.per_worker == 0 and self._open[worker]:  # a new iteration starts
            iteration = local // self.per_worker - 1
            path = self.files.simtrace_file(worker, self.workers, iteration)
            self._unwritten.append((path, self._open[worker]))
            self._open[worker] = []
        for step in steps:
            step[0] = local
        self._open[worker].extend(steps)

    def evaluation(self, trials: Sequence[TrialResult], *, timesteps: int, dt: float) -> None:
        """Records a periodic greedy evaluation: one ``phase: evaluation`` row a trial.

        As in the simapp, the rows carry the last training episode's number and trial.

        Args:
            trials: The greedy trials.
            timesteps: Training steps when the evaluation ran (kept on resume up to the
                checkpoint's).
            dt: The env's step [s], for the time of a trial that did not finish its lap.
        """
        last = self._training[-1] if self._training else None
        now = time.time()
        for trial in trials:
            seconds = trial.lap_time if trial.lap_time is not None else (trial.steps - 1) * dt
            self.rows.append(
                {
                    "reward_score": 0,  # greedy trials are not scored
                    "metric_time": round(now * 1000),
                    "start_time": round((now - seconds) * 1000),
                    "elapsed_time_in_milliseconds": round(seconds * 1000),
                    "episode": last["episode"] if last else 0,
                    "trial": last["trial"] if last else 0,
                    "phase": "evaluation",
                    "completion_percentage": int(trial.progress),
                    "episode_status": STATUS_DISPLAY_NAMES.get(trial.status, trial.status),
                    "timesteps": int(timesteps),
                }
            )
        self._write_metrics()

    def flush(self) -> int:
        """Ends a training iteration: writes the simtrace and the metrics; returns its number."""
        self.iteration += 1
        if self.simtrace:
            for path, rows in self._unwritten:
                _write_simtrace(path, rows)
            self._unwritten = []
            for worker, rows in enumerate(self._open):
                if rows:
                    iteration = self._counts[worker] and (self._counts[worker] - 1)
                    path = self.files.simtrace_file(
                        worker, self.workers, iteration // self.per_worker
                    )
                    _write_simtrace(path, rows)
        self._write_metrics()
        return self.iteration

    def recent(self, n: int = 50) -> list[dict[str, Any]]:
        """The last ``n`` training rows."""
        return self._training[-n:]

    def _write_metrics(self) -> None:
        document = {"metrics": self.rows, "version": 2.0, "best_model_metric": "progress"}
        atomic_write_text(self.files.training_metrics, json.dumps(document) + "\n")

    def _cut_simtrace(self, worker: int) -> list[list[Any]]:
        """Cuts the worker's simtrace back to its kept episodes; returns the open rows."""
        kept = self._counts[worker]
        current = kept // self.per_worker
        open_rows: list[list[Any]] = []
        for iteration, path in self.files.simtrace_files(worker, self.workers).items():
            if iteration < current:
                continue
            if iteration == current and kept % self.per_worker:
                with path.open(newline="", encoding="utf-8") as handle:
                    reader = csv.reader(handle)
                    next(reader, None)
                    open_rows = [r for r in reader if r and int(float(r[0])) < kept]
                if open_rows:
                    _write_simtrace(path, open_rows)
                    continue
            path.unlink()
        return open_rows


def _write_simtrace(path: Path, rows: list[list[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SIMTRACE_COLUMNS)
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _kept(rows: list[dict[str, Any]], episodes: int, until_steps: int) -> list[dict[str, Any]]:
    """The first ``episodes`` training rows and the evaluations up to ``until_steps``."""
    kept: list[dict[str, Any]] = []
    seen = 0
    for row in rows:
        if row.get("phase") == "training":
            if seen == episodes:
                continue
            seen += 1
            kept.append(row)
        elif int(row.get("timesteps", 0)) <= until_steps and (seen or not episodes):
            kept.append(row)
    return kept


def metrics_rows(path: Path) -> list[dict[str, Any]]:
    """The ``metrics`` list of a run's training_metrics.json, or a DeepRacerError."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeepRacerError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg});"
            " deepracer writes it whole or not at all, so it was damaged afterwards. Restore"
            " it from a copy or start a new run"
        ) from None
    except (OSError, ValueError) as exc:
        raise DeepRacerError(f"{path}: cannot read it ({exc})") from None
    rows = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DeepRacerError(f'{path}: expected a JSON object with a "metrics" list of objects')
    return rows
