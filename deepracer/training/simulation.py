"""The worker side of the simulation workers: one world's cars behind commands.

A :class:`Simulation` holds the envs of some cars of one world and answers the
learner's commands (step, reset, call, get_attr, set_attr, is_wrapped, close) with
``("ok", result)`` or ``("error", message)``. A worker process
(:mod:`deepracer.training.workers`) and a Ray actor
(:mod:`deepracer.training.ray_workers`) both run one.

Contents:
    Simulation, start_simulation: the cars of one world; starting them with a reply.
    serve, send: the command loop over a connection (a pipe or a socket); one command.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.runs.training_log import FinishedEpisode

__all__ = ["Simulation", "send", "serve", "start_simulation"]

# The info keys stable-baselines3 reads (rollouts, episode stats); a RacingEnv's
# params (waypoints included) stay in the worker instead of crossing the pipe.
_INFO_KEYS = ("episode", "terminal_observation", "TimeLimit.truncated", "is_success")


@dataclass
class _EpisodeSink:
    """Stands in for the run's TrainingLog inside a worker: collects finished episodes."""

    simtrace: bool
    finished: list[tuple[int, FinishedEpisode]] = field(default_factory=list)
    car: int = 0

    def complete(self, finished: FinishedEpisode) -> None:
        self.finished.append((self.car, finished))


def _make_envs(
    experiment: Any, world: str, action_space: Any, cars: Sequence[int], sink: _EpisodeSink
) -> list[gym.Env[Any, Any]]:
    from stable_baselines3.common.monitor import Monitor

    from deepracer.envs import RacingEnv
    from deepracer.experiment import env_config
    from deepracer.training.runlog import EpisodeLogger

    config = env_config(experiment, world, action_space=action_space)
    envs: list[gym.Env[Any, Any]] = []
    for car in cars:
        env = RacingEnv(config)
        # Car i drives world i % len(worlds): that world's index is the DRfC worker.
        worker = car % len(experiment.worlds)
        envs.append(Monitor(EpisodeLogger(env, sink, env.world.name or world, worker)))
    return envs


def _slim(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info[k] for k in _INFO_KEYS if k in info}


class Simulation:
    """The cars of one world, driven by messages: the worker side of every backend.

    Args:
        experiment: The experiment.
        world: The world these cars drive.
        action_space: The resolved action space.
        cars: The cars' indices in the whole vector env.
        simtrace: Whether the run writes simtraces (kept with the finished episodes).
    """

    def __init__(
        self, experiment: Any, world: str, action_space: Any, cars: list[int], simtrace: bool
    ) -> None:
        self.sink = _EpisodeSink(simtrace=simtrace)
        self.envs = _make_envs(experiment, world, action_space, cars, self.sink)

    def spaces(self) -> tuple[Any, Any]:
        """The observation and action spaces of these cars' envs."""
        return self.envs[0].observation_space, self.envs[0].action_space

    def handle(self, command: str, data: Any) -> tuple[str, Any]:
        """Runs one command; ``("ok", result)`` or ``("error", message)``, never raises."""
        envs = self.envs
        try:
            if command == "step":
                return "ok", _step(envs, data, self.sink)
            if command == "reset":
                return "ok", _reset(envs, data)
            if command == "call":
                name, local, args, kwargs = data
                return "ok", [getattr(envs[j], name)(*args, **kwargs) for j in local]
            if command == "get_attr":
                name, local = data
                return "ok", [envs[j].get_wrapper_attr(name) for j in local]
            if command == "set_attr":
                name, value, local = data
                for j in local:
                    envs[j].set_wrapper_attr(name, value)
                return "ok", None
            if command == "is_wrapped":
                from stable_baselines3.common.env_util import is_wrapped

                wrapper, local = data
                return "ok", [is_wrapped(envs[j], wrapper) for j in local]
            if command == "close":
                for env in envs:
                    env.close()
                return "ok", None
            return "error", f"unknown command {command!r}"
        except BaseException as exc:
            return "error", _describe(exc)


def start_simulation(
    experiment: Any, world: str, action_space: Any, cars: list[int], simtrace: bool
) -> tuple[Simulation | None, tuple[str, Any]]:
    """A :class:`Simulation` and the first reply: ``("ok", spaces)`` or the error."""
    try:
        simulation = Simulation(experiment, world, action_space, cars, simtrace)
    except BaseException as exc:
        return None, ("error", _describe(exc))
    return simulation, ("ok", simulation.spaces())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DeepRacerError):
        return str(exc)
    return "".join(traceback.format_exception(exc)).rstrip()


def _step(
    envs: list[gym.Env[Any, Any]], actions: np.ndarray, sink: _EpisodeSink
) -> tuple[
    list[Any], list[float], list[bool], list[dict[str, Any]], list[tuple[int, FinishedEpisode]]
]:
    observations, rewards, dones, infos = [], [], [], []
    for j, (env, action) in enumerate(zip(envs, actions, strict=True)):
        sink.car = j
        obs, reward, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        info["TimeLimit.truncated"] = truncated and not terminated
        if done:
            info["terminal_observation"] = obs
            obs, _ = env.reset()
        observations.append(obs)
        rewards.append(float(reward))
        dones.append(done)
        infos.append(_slim(info))
    finished, sink.finished = sink.finished, []
    return observations, rewards, dones, infos, finished


def _reset(envs: list[gym.Env[Any, Any]], seeds: Sequence[int | None]) -> list[Any]:
    return [env.reset(seed=seed)[0] for env, seed in zip(envs, seeds, strict=True)]


def serve(conn: Any, simulation: Simulation) -> None:
    """Answers the learner's commands on ``conn`` until it closes or asks to ``close``."""
    while True:
        try:
            command, data = conn.recv()
        except (EOFError, OSError):
            return  # the learner is gone
        conn.send(simulation.handle(command, data))
        if command == "close":
            return


def send(conn: Any, message: tuple[str, Any]) -> bool:
    """Sends a command to a worker; False when the connection is gone (the worker died)."""
    if conn is None:
        return False
    try:
        conn.send(message)
    except (BrokenPipeError, EOFError, OSError):
        return False
    return True
