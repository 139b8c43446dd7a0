"""DeepRacer-format training logs, written so a crash never corrupts them.

Every completed episode becomes one row of ``training_metrics.json`` (the console's
schema) and its steps become rows of ``training-simtrace/{N}-iteration.csv``. Rows are
buffered in memory and written at the end of each iteration with atomic replaces, so
a file on disk is always complete. Episodes are numbered in the order they finish,
so after a resume from a checkpoint that had recorded E episodes, the log is cut
back to those E rows and numbering continues at E: no episode is lost or counted
twice.

Contents:
    STATUS_NAMES: simtrace statuses to the metrics' display names.
    RunLog: the buffered logs of one run.
    EpisodeLogger: a gymnasium wrapper feeding one environment's episodes to a RunLog.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from deepracer.envs.racing_env import STATUS_DISPLAY_NAMES
from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.logs import SIMTRACE_COLUMNS, simtrace_row

__all__ = ["STATUS_NAMES", "EpisodeLogger", "RunLog"]

STATUS_NAMES = STATUS_DISPLAY_NAMES

METRICS_FILE = "training_metrics.json"
SIMTRACE_DIR = "training-simtrace"


class RunLog:
    """The training metrics and simtrace of one run.

    Args:
        run_dir: The run directory.
        simtrace: Whether to write simtrace CSVs.
        keep_episodes: Episodes already recorded that stay (a resume cuts the rest).
        iteration: The last iteration already on disk (a resume removes later ones).
    """

    def __init__(
        self, run_dir: Path, *, simtrace: bool = True, keep_episodes: int = 0, iteration: int = 0
    ) -> None:
        self.run_dir = run_dir
        self.simtrace = simtrace
        self.iteration = iteration
        self.rows: list[dict[str, Any]] = []
        path = run_dir / METRICS_FILE
        if keep_episodes and path.is_file():
            self.rows = _metrics_rows(path)[:keep_episodes]
        if len(self.rows) != keep_episodes:
            raise DeepRacerError(
                f"{path}: the checkpoint counts {keep_episodes} recorded episodes, the file"
                f" holds {len(self.rows)}; the run's logs were changed or cut short. Restore"
                " them from a copy or start a new run"
            )
        folder = run_dir / SIMTRACE_DIR
        if folder.is_dir():  # iterations written after the checkpoint are undone
            for file in folder.glob("*-iteration.csv"):
                if int(file.name.split("-", 1)[0]) > iteration:
                    file.unlink()
        self._pending: list[list[Any]] = []
        self._iteration_rows = 0
        self._write_metrics()

    @property
    def episodes(self) -> int:
        """Episodes recorded so far."""
        return len(self.rows)

    def complete(
        self,
        steps: list[list[Any]],
        *,
        reward: float,
        status: str,
        progress: float,
        start_time: float,
        world: str,
    ) -> None:
        """Records one finished episode (its simtrace rows and its metrics row)."""
        episode = len(self.rows)
        end = time.time()
        self._iteration_rows += 1
        self.rows.append(
            {
                "reward_score": round(reward),
                "metric_time": round(end * 1000),
                "start_time": round(start_time * 1000),
                "elapsed_time_in_milliseconds": round((end - start_time) * 1000),
                "episode": episode,
                "trial": self._iteration_rows,
                "phase": "training",
                "completion_percentage": int(progress),
                "episode_status": STATUS_NAMES.get(status, status),
                "world_name": world,
            }
        )
        if self.simtrace:
            for row in steps:
                row[0] = episode
            self._pending.extend(steps)

    def flush(self) -> int:
        """Ends an iteration: writes its simtrace file and the metrics; returns its number."""
        self.iteration += 1
        if self.simtrace:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(SIMTRACE_COLUMNS)
            writer.writerows(self._pending)
            target = self.run_dir / SIMTRACE_DIR / f"{self.iteration}-iteration.csv"
            atomic_write_text(target, buffer.getvalue())
        self._pending = []
        self._iteration_rows = 0
        self._write_metrics()
        return self.iteration

    def recent(self, n: int = 50) -> list[dict[str, Any]]:
        """The last ``n`` metrics rows."""
        return self.rows[-n:]

    def _write_metrics(self) -> None:
        document = {"metrics": self.rows, "version": 2.0, "best_model_metric": "progress"}
        atomic_write_text(self.run_dir / METRICS_FILE, json.dumps(document) + "\n")


class EpisodeLogger(gym.Wrapper[Any, Any, Any, Any]):
    """Feeds one environment's finished episodes to a :class:`RunLog`.

    Args:
        env: A RacingEnv (or a wrapper of one).
        log: The run's log.
        world: World name recorded with each episode.
    """

    def __init__(self, env: gym.Env[Any, Any], log: RunLog, world: str) -> None:
        super().__init__(env)
        self.log = log
        self.world = world
        self._rows: list[list[Any]] = []
        self._reward = 0.0
        self._start = time.time()

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Starts buffering a new episode."""
        obs, info = self.env.reset(**kwargs)
        self._rows = [simtrace_row(info, done=False)] if self.log.simtrace else []
        self._reward = 0.0
        self._start = time.time()
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Buffers the step; hands the episode to the log when it ends."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        done = terminated or truncated
        self._reward += float(reward)
        if self.log.simtrace:
            self._rows.append(simtrace_row(info, done=done))
        if done:
            self.log.complete(
                self._rows,
                reward=self._reward,
                status=info["episode_status"],
                progress=float(info["params"]["progress"]),
                start_time=self._start,
                world=self.world,
            )
            self._rows = []
        return obs, reward, terminated, truncated, info


def _metrics_rows(path: Path) -> list[dict[str, Any]]:
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
    if not isinstance(rows, list):
        raise DeepRacerError(f'{path}: expected a JSON object with a "metrics" list')
    return rows
