"""Feeding an environment's finished episodes to the run's training log.

The log itself (numbering, files, resume) is :class:`deepracer.runs.TrainingLog`.

Contents:
    EpisodeSink: what an episode logger hands episodes to.
    EpisodeLogger: a gymnasium wrapper feeding one environment's episodes to a log.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import gymnasium as gym

from deepracer.logs import simtrace_row
from deepracer.runs.training_log import FinishedEpisode

__all__ = ["EpisodeLogger", "EpisodeSink"]


class EpisodeSink(Protocol):
    """What receives finished episodes: the run's TrainingLog, or a worker's buffer."""

    simtrace: bool

    def complete(self, finished: FinishedEpisode) -> None:
        """Records one finished episode."""


class EpisodeLogger(gym.Wrapper[Any, Any, Any, Any]):
    """Feeds one environment's finished episodes to the run's log.

    Args:
        env: A RacingEnv (or a wrapper of one).
        log: The run's log (:class:`deepracer.runs.TrainingLog`) or a stand-in.
        world: World name recorded with each episode.
        worker: The simulation worker: the world's index in the experiment.
    """

    def __init__(
        self, env: gym.Env[Any, Any], log: EpisodeSink, world: str, worker: int = 0
    ) -> None:
        super().__init__(env)
        self.log = log
        self.world = world
        self.worker = worker
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
            finished = FinishedEpisode(
                steps=self._rows,
                reward=self._reward,
                status=info["episode_status"],
                progress=float(info["params"]["progress"]),
                start_time=self._start,
                world=self.world,
                worker=self.worker,
            )
            self.log.complete(finished)
            self._rows = []
        return obs, reward, terminated, truncated, info
