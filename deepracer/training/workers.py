"""One simulation worker process per world, feeding one learner.

The local form of the seed's parallel RoboMaker simulation jobs (and of DeepRacer on
AWS, which runs one simulation per world inside its training job):
:class:`WorldWorkers` is a stable-baselines3 ``VecEnv`` whose sub-environments live
in worker processes, one per world, each stepping the cars of its world. Car ``i``
drives world ``i % len(worlds)`` and is seeded ``seed + i``, as in
:func:`deepracer.training.trainer.train`'s in-process vector env, so both give the
same trajectories.

A worker that dies (killed, out of memory) or stops answering is reported and then
handled as ``launch.failure_behavior`` says, the semantics of RoboMaker's
``failureBehavior``:

* ``Fail``: :class:`WorkerCrashed` is raised; the trainer writes a checkpoint and
  stops, and ``--resume`` continues the run.
* ``Continue``: the worker is restarted (up to ``launch.max_restarts`` times per
  world); its cars' unfinished episodes end as truncated (not logged) and start
  anew. One crash more than allowed stops the run as under ``Fail``.

Exceptions raised inside a worker (a reward function that fails, say) are not
crashes: they would repeat, so they stop the run at once with the worker's message.
The workers' state is written to ``workers.json`` in the run directory.

Contents:
    WorkerCrashed: a worker died and the failure behaviour says stop.
    WorldWorkers: the process-per-world VecEnv.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import signal
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.runs.training_log import FinishedEpisode

__all__ = ["WorkerCrashed", "WorldWorkers"]

# The info keys stable-baselines3 reads (rollouts, episode stats); a RacingEnv's
# params (waypoints included) stay in the worker instead of crossing the pipe.
_INFO_KEYS = ("episode", "terminal_observation", "TimeLimit.truncated", "is_success")
# A restarted worker's cars get fresh seeds, still a function of the run's seed.
_RESTART_SEED_STRIDE = 104_729


class WorkerCrashed(DeepRacerError):
    """A simulation worker died and the failure behaviour says stop the run."""


# -- the worker process ----------------------------------------------------------------


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


def _worker_main(
    conn: Connection,
    experiment: Any,
    world: str,
    action_space: Any,
    cars: list[int],
    simtrace: bool,
) -> None:
    """Runs the cars of one world until told to close or the learner goes away."""
    # Ctrl-C reaches the whole process group; the learner decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sink = _EpisodeSink(simtrace=simtrace)
    try:
        envs = _make_envs(experiment, world, action_space, cars, sink)
        conn.send(("ok", (envs[0].observation_space, envs[0].action_space)))
    except BaseException as exc:
        conn.send(("error", _describe(exc)))
        return
    while True:
        try:
            command, data = conn.recv()
        except (EOFError, OSError):
            return  # the learner is gone
        try:
            if command == "step":
                conn.send(("ok", _step(envs, data, sink)))
            elif command == "reset":
                conn.send(("ok", _reset(envs, data)))
            elif command == "call":
                name, local, args, kwargs = data
                conn.send(("ok", [getattr(envs[j], name)(*args, **kwargs) for j in local]))
            elif command == "get_attr":
                name, local = data
                conn.send(("ok", [envs[j].get_wrapper_attr(name) for j in local]))
            elif command == "set_attr":
                name, value, local = data
                for j in local:
                    envs[j].set_wrapper_attr(name, value)
                conn.send(("ok", None))
            elif command == "is_wrapped":
                from stable_baselines3.common.env_util import is_wrapped

                wrapper, local = data
                conn.send(("ok", [is_wrapped(envs[j], wrapper) for j in local]))
            elif command == "close":
                for env in envs:
                    env.close()
                conn.send(("ok", None))
                return
            else:
                conn.send(("error", f"unknown command {command!r}"))
        except BaseException as exc:
            conn.send(("error", _describe(exc)))


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


# -- the learner side -----------------------------------------------------------------


@dataclass
class _Worker:
    world: str
    cars: list[int]
    process: Any = None
    conn: Connection | None = None
    restarts: int = 0
    status: str = "starting"
    exit_code: int | None = None
    last_error: str | None = None


class WorldWorkers(VecEnv):
    """A VecEnv with one simulation worker process per world.

    Args:
        experiment: The experiment (its worlds, env settings and ``launch`` section:
            failure_behavior, max_restarts, worker_timeout).
        action_space: The resolved action space (model_metadata's).
        n_envs: Cars in total; car ``i`` drives world ``i % len(worlds)``.
        log: The run's TrainingLog, which receives the finished episodes in car order.
        status_file: Where the workers' state is written (``workers.json``).
        say: Receives the crash and restart reports.
        start_method: multiprocessing start method (``forkserver`` where available).

    Raises:
        DeepRacerError: Fewer cars than worlds, or a worker failed to start.
    """

    def __init__(
        self,
        experiment: Any,
        action_space: Any,
        n_envs: int,
        log: Any,
        *,
        status_file: Path | None = None,
        say: Callable[[str], None] = print,
        start_method: str | None = None,
    ) -> None:
        worlds = list(experiment.worlds)
        if n_envs < len(worlds):
            raise DeepRacerError(
                f"train.n_envs: {n_envs} cars cannot drive {len(worlds)} worlds; one worker"
                f" per world needs at least {len(worlds)} cars"
            )
        self.experiment = experiment
        self.action_space_config = action_space
        self.log = log
        self.say = say
        self.status_file = status_file
        launch = experiment.launch
        self.failure_behavior: Literal["Fail", "Continue"] = launch.failure_behavior
        self.max_restarts: int = launch.max_restarts
        self.timeout: float = launch.worker_timeout
        methods = mp.get_all_start_methods()
        method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self._ctx: Any = mp.get_context(method)
        if method == "forkserver":
            # Workers fork from a server that has imported the simulator once, so a
            # start (or a restart) costs a fork, not a fresh interpreter's imports.
            self._ctx.set_forkserver_preload(["deepracer.training.workers", "deepracer.envs"])
        self.workers = [
            _Worker(world, [i for i in range(n_envs) if i % len(worlds) == w])
            for w, world in enumerate(worlds)
        ]
        spaces: tuple[Any, Any] | None = None
        try:
            for worker in self.workers:
                got = self._start(worker)
                spaces = spaces or got
        except BaseException:
            self._terminate_all()
            raise
        assert spaces is not None
        super().__init__(n_envs, spaces[0], spaces[1])
        self._keys, self._buffers = _buffers(self.observation_space, n_envs)
        self._last_obs: list[Any] = [None] * n_envs
        self._actions: np.ndarray | None = None
        self._closed = False
        self._write_status()

    # -- processes ---------------------------------------------------------------------

    def _start(self, worker: _Worker) -> tuple[Any, Any]:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(
                child,
                self.experiment,
                worker.world,
                self.action_space_config,
                worker.cars,
                bool(getattr(self.log, "simtrace", False)),
            ),
            name=f"deepracer-worker-{worker.world}",
            daemon=True,
        )
        process.start()
        child.close()
        worker.process, worker.conn = process, parent
        worker.status, worker.exit_code = "running", None
        status, payload = self._receive(worker, timeout=max(self.timeout, 120.0))
        if status != "ok":
            worker.status, worker.last_error = "failed", str(payload)
            self._write_status()
            raise DeepRacerError(f"simulation worker for world {worker.world!r} failed: {payload}")
        spaces: tuple[Any, Any] = payload
        return spaces

    def _receive(self, worker: _Worker, timeout: float) -> tuple[str, Any]:
        """The worker's next reply, or ``("crashed", why)`` if it died or hung."""
        assert worker.conn is not None
        try:
            if worker.conn.poll(timeout):
                reply: tuple[str, Any] = worker.conn.recv()
                return reply
            why = f"no answer within {timeout:g} s (launch.worker_timeout)"
            worker.process.kill()
        except (EOFError, OSError):
            why = ""
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        worker.exit_code = code
        if not why:
            why = _exit_description(code)
        return "crashed", why

    def _send(self, worker: _Worker, message: tuple[str, Any]) -> bool:
        assert worker.conn is not None
        try:
            worker.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            return False
        return True

    def _handle_crash(self, worker: _Worker, why: str) -> list[Any]:
        """Reports a dead worker, then restarts it or raises :class:`WorkerCrashed`.

        Returns:
            The restarted worker's first observations, one per car.
        """
        worker.status, worker.last_error = "crashed", why
        pid = worker.process.pid if worker.process is not None else "?"
        self.say(f"worker for world {worker.world!r} (pid {pid}) died: {why}")
        allowed = self.failure_behavior == "Continue" and worker.restarts < self.max_restarts
        if not allowed:
            self._write_status()
            if self.failure_behavior == "Continue":
                reason = f"it already restarted {worker.restarts} times (launch.max_restarts)"
            else:
                reason = "launch.failure_behavior is Fail"
            raise WorkerCrashed(
                f"simulation worker for world {worker.world!r} (pid {pid}) died ({why}); the"
                f" run stops because {reason}"
            )
        if worker.conn is not None:
            worker.conn.close()
        worker.restarts += 1
        self._start(worker)
        seeds = [self._restart_seed(worker, i) for i in worker.cars]
        status, payload = self._request(worker, ("reset", seeds))
        if status != "ok":
            raise WorkerCrashed(
                f"simulation worker for world {worker.world!r} failed again after a restart:"
                f" {payload}"
            )
        self.say(
            f"worker for world {worker.world!r} restarted (restart {worker.restarts} of"
            f" {self.max_restarts}, pid {worker.process.pid}); its cars' episodes in progress"
            " were dropped"
        )
        self._write_status()
        observations: list[Any] = payload
        return observations

    def _restart_seed(self, worker: _Worker, car: int) -> int:
        seed = self._seeds[car]
        return (seed or 0) + _RESTART_SEED_STRIDE * worker.restarts + car

    def _request(self, worker: _Worker, message: tuple[str, Any]) -> tuple[str, Any]:
        if not self._send(worker, message):
            return "crashed", "the pipe to the worker is closed"
        return self._receive(worker, self.timeout)

    def _write_status(self) -> None:
        if self.status_file is None:
            return
        state = {
            "failure_behavior": self.failure_behavior,
            "max_restarts": self.max_restarts,
            "workers": [
                {
                    "world": w.world,
                    "cars": w.cars,
                    "pid": w.process.pid if w.process is not None else None,
                    "status": w.status,
                    "restarts": w.restarts,
                    "exit_code": w.exit_code,
                    "last_error": w.last_error,
                }
                for w in self.workers
            ],
        }
        atomic_write_text(self.status_file, json.dumps(state, indent=2) + "\n")

    def _terminate_all(self) -> None:
        for worker in self.workers:
            if worker.process is not None and worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)

    # -- VecEnv ------------------------------------------------------------------------

    def reset(self) -> Any:
        """Resets every car with the seeds given to :meth:`seed` (then forgets them)."""
        for worker in self.workers:
            seeds = [self._seeds[i] for i in worker.cars]
            status, payload = self._request(worker, ("reset", seeds))
            if status == "crashed":
                payload = self._handle_crash(worker, payload)
            elif status != "ok":
                raise DeepRacerError(f"world {worker.world!r}: {payload}")
            for car, obs in zip(worker.cars, payload, strict=True):
                self._store(car, obs)
        self._reset_seeds()
        self._reset_options()
        return self._observations()

    def step_async(self, actions: np.ndarray) -> None:
        """Sends each worker its cars' actions."""
        self._actions = np.asarray(actions)
        for worker in self.workers:
            self._send(worker, ("step", self._actions[worker.cars]))

    def step_wait(self) -> Any:
        """Collects every worker's step, in car order."""
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        finished: list[tuple[int, FinishedEpisode]] = []
        for worker in self.workers:
            status, payload = self._receive(worker, self.timeout)
            if status == "crashed":
                self._crashed_step(worker, payload, dones, infos)
                continue
            if status != "ok":
                worker.status, worker.last_error = "failed", str(payload)
                self._write_status()
                raise DeepRacerError(f"simulation worker for world {worker.world!r}: {payload}")
            observations, step_rewards, step_dones, step_infos, episodes = payload
            for j, car in enumerate(worker.cars):
                self._store(car, observations[j])
                rewards[car] = step_rewards[j]
                dones[car] = step_dones[j]
                infos[car] = step_infos[j]
            for episode in episodes:
                finished.append((worker.cars[episode[0]], episode[1]))
        # Episodes ending on the same step are logged in car order, as in-process.
        for _, episode in sorted(finished, key=lambda e: e[0]):
            self.log.complete(episode)
        return self._observations(), rewards, dones, infos

    def _crashed_step(
        self, worker: _Worker, why: str, dones: np.ndarray, infos: list[dict[str, Any]]
    ) -> None:
        """Ends the crashed worker's episodes as truncated and starts its new ones."""
        terminal = [self._copy_obs(car) for car in worker.cars]
        fresh = self._handle_crash(worker, why)
        for car, obs, last in zip(worker.cars, fresh, terminal, strict=True):
            self._store(car, obs)
            dones[car] = True
            infos[car] = {"terminal_observation": last, "TimeLimit.truncated": True}

    def close(self) -> None:
        """Stops the workers (politely, then by force)."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        for worker in self.workers:
            if worker.process is not None and worker.process.is_alive():
                if self._send(worker, ("close", None)):
                    assert worker.conn is not None
                    if worker.conn.poll(10):
                        with contextlib.suppress(EOFError, OSError):
                            worker.conn.recv()
                worker.process.join(timeout=10)
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join(timeout=5)
            if worker.status == "running":
                worker.status = "stopped"
            if worker.conn is not None:
                worker.conn.close()
        self._write_status()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """An attribute of each selected car's env."""
        return self._per_car(indices, lambda local: ("get_attr", (attr_name, local)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Sets an attribute on each selected car's env."""
        self._per_car(indices, lambda local: ("set_attr", (attr_name, value, local)), each=False)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Calls a method of each selected car's env."""
        return self._per_car(
            indices, lambda local: ("call", (method_name, local, method_args, method_kwargs))
        )

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None
    ) -> list[bool]:
        """Whether each selected car's env is wrapped in ``wrapper_class``."""
        return self._per_car(indices, lambda local: ("is_wrapped", (wrapper_class, local)))

    def _per_car(
        self,
        indices: VecEnvIndices,
        message: Callable[[list[int]], tuple[str, Any]],
        each: bool = True,
    ) -> list[Any]:
        wanted = list(self._get_indices(indices))
        results: dict[int, Any] = {}
        for worker in self.workers:
            local = [j for j, car in enumerate(worker.cars) if car in wanted]
            if not local:
                continue
            status, payload = self._request(worker, message(local))
            if status != "ok":
                raise DeepRacerError(f"simulation worker for world {worker.world!r}: {payload}")
            if each:
                for j, value in zip(local, payload, strict=True):
                    results[worker.cars[j]] = value
        return [results[i] for i in wanted] if each else []

    # -- observation buffers -------------------------------------------------------------

    def _store(self, car: int, obs: Any) -> None:
        if self._keys == [None]:
            self._buffers[None][car] = obs
        else:
            for key in self._keys:
                self._buffers[key][car] = obs[key]
        self._last_obs[car] = obs

    def _copy_obs(self, car: int) -> Any:
        if self._keys == [None]:
            return self._buffers[None][car].copy()
        return {key: self._buffers[key][car].copy() for key in self._keys}

    def _observations(self) -> Any:
        if self._keys == [None]:
            return self._buffers[None].copy()
        return {key: self._buffers[key].copy() for key in self._keys}

    @property
    def pids(self) -> dict[str, int | None]:
        """The live worker process ids by world."""
        return {w.world: (w.process.pid if w.process is not None else None) for w in self.workers}


def _buffers(space: gym.Space[Any], n: int) -> tuple[list[Any], dict[Any, np.ndarray]]:
    if isinstance(space, gym.spaces.Dict):
        keys: list[Any] = list(space.spaces)
        subspaces: Iterable[tuple[Any, gym.Space[Any]]] = space.spaces.items()
    else:
        keys, subspaces = [None], [(None, space)]
    buffers = {key: np.zeros((n, *(sub.shape or ())), dtype=sub.dtype) for key, sub in subspaces}
    return keys, buffers


def _exit_description(code: int | None) -> str:
    if code is None:
        return "the pipe closed while the process still runs"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with status {code}"
