"""Simulation workers, one (or ``train.workers.per_world``) per world, feeding one learner.

The local form of the seed's parallel RoboMaker simulation jobs (and of DeepRacer on
AWS, which runs one simulation per world inside its training job):
:class:`WorldWorkers` is a stable-baselines3 ``VecEnv`` whose sub-environments live
in workers, each stepping some cars of one world. Car ``i`` drives world
``i % len(worlds)`` and is seeded ``seed + i``, as in
:func:`deepracer.training.trainer.train`'s in-process vector env, so both give the
same trajectories. A worker is a process on this machine (``train.workers.backend:
local``, a :class:`ProcessLink`) or a Ray actor on any node of a cluster (``ray``,
:mod:`deepracer.training.ray_workers`); both run a
:class:`~deepracer.training.simulation.Simulation`.

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
    Link, ProcessLink: how the learner reaches a worker; the local process form.
    WorldWorkers: the workers' VecEnv.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal, Protocol

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.runs.training_log import FinishedEpisode
from deepracer.training.simulation import send, serve, start_simulation

__all__ = ["Link", "ProcessLink", "WorkerCrashed", "WorldWorkers"]

# A restarted worker's cars get fresh seeds, still a function of the run's seed.
_RESTART_SEED_STRIDE = 104_729


class WorkerCrashed(DeepRacerError):
    """A simulation worker died and the failure behaviour says stop the run."""


# -- the worker process ----------------------------------------------------------------


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
    simulation, reply = start_simulation(experiment, world, action_space, cars, simtrace)
    conn.send(reply)
    if simulation is not None:
        serve(conn, simulation)


# -- the learner side -----------------------------------------------------------------


class Link(Protocol):
    """How the learner talks to one worker: a process and its pipe, or a Ray actor."""

    def start(self, name: str, args: tuple[Any, ...]) -> None:
        """Starts the worker with :class:`Simulation`'s arguments; its reply comes next."""

    def send(self, message: tuple[str, Any]) -> bool:
        """Sends a command; False when the worker is already gone."""

    def receive(self, timeout: float) -> tuple[str, Any]:
        """The worker's reply, or ``("crashed", why)`` if it died or did not answer."""

    def close(self) -> None:
        """Asks the worker to close its envs, then stops it (by force if need be)."""

    def kill(self) -> None:
        """Stops the worker at once."""

    def where(self) -> str:
        """Names the worker in messages (its pid, and its node where there are several)."""

    def state(self) -> dict[str, Any]:
        """What ``workers.json`` records about the worker (pid, exit code, node)."""

    @property
    def pid(self) -> int | None:
        """The worker's process id (None before it started)."""


class ProcessLink:
    """A worker process on this machine, spoken to over a pipe."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self.process: Any = None
        self.conn: Connection | None = None
        self.exit_code: int | None = None

    def start(self, name: str, args: tuple[Any, ...]) -> None:  # noqa: D102
        if self.conn is not None:
            self.conn.close()
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, *args), name=name)
        process.daemon = True
        process.start()
        child.close()
        self.process, self.conn, self.exit_code = process, parent, None

    def send(self, message: tuple[str, Any]) -> bool:  # noqa: D102
        return send(self.conn, message)

    def receive(self, timeout: float) -> tuple[str, Any]:  # noqa: D102
        assert self.conn is not None
        try:
            if self.conn.poll(timeout):
                reply: tuple[str, Any] = self.conn.recv()
                return reply
            why = f"no answer within {timeout:g} s (launch.worker_timeout)"
            self.process.kill()
        except (EOFError, OSError):
            why = ""
        self.process.join(timeout=5)
        self.exit_code = self.process.exitcode
        return "crashed", why or _exit_description(self.exit_code)

    def close(self) -> None:  # noqa: D102
        if self.process is not None and self.process.is_alive():
            if self.send(("close", None)):
                assert self.conn is not None
                if self.conn.poll(10):
                    with contextlib.suppress(EOFError, OSError):
                        self.conn.recv()
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.kill()
        if self.conn is not None:
            self.conn.close()

    def kill(self) -> None:  # noqa: D102
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)

    def where(self) -> str:  # noqa: D102
        return f"pid {self.pid if self.pid is not None else '?'}"

    def state(self) -> dict[str, Any]:  # noqa: D102
        return {"pid": self.pid, "exit_code": self.exit_code}

    @property
    def pid(self) -> int | None:  # noqa: D102
        return self.process.pid if self.process is not None else None


@dataclass
class _Worker:
    world: str
    cars: list[int]
    label: str
    link: Link
    restarts: int = 0
    status: str = "starting"
    last_error: str | None = None


class WorldWorkers(VecEnv):
    """A VecEnv whose cars live in simulation workers, one (or ``per_world``) per world.

    ``train.workers`` picks the backend: ``local`` runs each worker as a process on
    this machine; ``ray`` runs each as a Ray actor on any node of a Ray cluster
    (:mod:`deepracer.training.ray_workers`, the ``ray`` extra), the learner staying in
    this process. Both speak the same commands to the same
    :class:`~deepracer.training.simulation.Simulation`.

    Args:
        experiment: The experiment (its worlds, env settings, ``train.workers`` and the
            ``launch`` section: failure_behavior, max_restarts, worker_timeout).
        action_space: The resolved action space (model_metadata's).
        n_envs: Cars in total; car ``i`` drives world ``i % len(worlds)``.
        log: The run's TrainingLog, which receives the finished episodes in car order.
        status_file: Where the workers' state is written (``workers.json``).
        say: Receives the crash and restart reports.
        start_method: multiprocessing start method of the local backend (``forkserver``
            where available).

    Raises:
        DeepRacerError: Too few cars for the workers, or a worker failed to start.
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
        settings = experiment.train.workers
        per_world: int = settings.per_world
        if n_envs < len(worlds) * per_world:
            raise DeepRacerError(
                f"train.n_envs: {n_envs} cars cannot fill {per_world} worker(s) on each of"
                f" {len(worlds)} world(s); give at least {len(worlds) * per_world} cars or"
                " lower train.workers.per_world"
            )
        self.experiment = experiment
        self.action_space_config = action_space
        self.log = log
        self.say = say
        self.status_file = status_file
        self.backend: str = settings.backend
        launch = experiment.launch
        self.failure_behavior: Literal["Fail", "Continue"] = launch.failure_behavior
        self.max_restarts: int = launch.max_restarts
        self.timeout: float = launch.worker_timeout
        self._ray: Any = None
        if self.backend == "ray":
            try:
                from deepracer.training import ray_workers
            except ModuleNotFoundError as exc:
                if exc.name != "ray" and not (exc.name or "").startswith("ray."):
                    raise
                raise DeepRacerError(
                    "train.workers.backend: ray needs Ray, which is not installed: pip"
                    " install 'deepracer[ray]'"
                ) from None
            self._ray = ray_workers.RaySession(
                settings.address, workers=len(worlds) * per_world, cpus=settings.cpus_per_worker
            )
            self.say(self._ray.describe())
            self._new_link: Callable[[], Link] = self._ray.link
        else:
            methods = mp.get_all_start_methods()
            method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
            ctx: Any = mp.get_context(method)
            if method == "forkserver":
                # Workers fork from a server that has imported the simulator once, so a
                # start (or a restart) costs a fork, not a fresh interpreter's imports.
                ctx.set_forkserver_preload(["deepracer.training.workers", "deepracer.envs"])
            self._new_link = lambda: ProcessLink(ctx)
        self.workers: list[_Worker] = []
        for w, world in enumerate(worlds):
            cars = [i for i in range(n_envs) if i % len(worlds) == w]
            for k in range(per_world):
                label = world if per_world == 1 else f"{world}#{k}"
                self.workers.append(_Worker(world, cars[k::per_world], label, self._new_link()))
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

    # -- workers -----------------------------------------------------------------------

    def _start(self, worker: _Worker) -> tuple[Any, Any]:
        simtrace = bool(getattr(self.log, "simtrace", False))
        args = (self.experiment, worker.world, self.action_space_config, worker.cars, simtrace)
        worker.link.start(f"deepracer-worker-{worker.label}", args)
        worker.status = "running"
        status, payload = worker.link.receive(max(self.timeout, 120.0))
        if status != "ok":
            worker.status, worker.last_error = "failed", str(payload)
            self._write_status()
            raise DeepRacerError(
                f"simulation worker for world {worker.label!r} failed to start: {payload}"
            )
        spaces: tuple[Any, Any] = payload
        return spaces

    def _handle_crash(self, worker: _Worker, why: str) -> list[Any]:
        """Reports a dead worker, then restarts it or raises :class:`WorkerCrashed`.

        Returns:
            The restarted worker's first observations, one per car.
        """
        worker.status, worker.last_error = "crashed", why
        where = worker.link.where()
        self.say(f"worker for world {worker.label!r} ({where}) died: {why}")
        allowed = self.failure_behavior == "Continue" and worker.restarts < self.max_restarts
        if not allowed:
            self._write_status()
            if self.failure_behavior == "Continue":
                reason = f"it already restarted {worker.restarts} times (launch.max_restarts)"
            else:
                reason = "launch.failure_behavior is Fail"
            raise WorkerCrashed(
                f"simulation worker for world {worker.label!r} ({where}) died ({why}); the"
                f" run stops because {reason}"
            )
        worker.link.kill()
        worker.restarts += 1
        self._start(worker)
        seeds = [self._restart_seed(worker, i) for i in worker.cars]
        status, payload = self._request(worker, ("reset", seeds))
        if status != "ok":
            raise WorkerCrashed(
                f"simulation worker for world {worker.label!r} failed again after a restart:"
                f" {payload}"
            )
        self.say(
            f"worker for world {worker.label!r} restarted (restart {worker.restarts} of"
            f" {self.max_restarts}, {worker.link.where()}); its cars' episodes in progress"
            " were dropped"
        )
        self._write_status()
        observations: list[Any] = payload
        return observations

    def _restart_seed(self, worker: _Worker, car: int) -> int:
        seed = self._seeds[car]
        return (seed or 0) + _RESTART_SEED_STRIDE * worker.restarts + car

    def _request(self, worker: _Worker, message: tuple[str, Any]) -> tuple[str, Any]:
        if not worker.link.send(message):
            return "crashed", "the link to the worker is closed"
        return worker.link.receive(self.timeout)

    def _write_status(self) -> None:
        if self.status_file is None:
            return
        state = {
            "backend": self.backend,
            "failure_behavior": self.failure_behavior,
            "max_restarts": self.max_restarts,
            "workers": [
                {
                    "world": w.world,
                    "cars": w.cars,
                    **w.link.state(),
                    "status": w.status,
                    "restarts": w.restarts,
                    "last_error": w.last_error,
                }
                for w in self.workers
            ],
        }
        atomic_write_text(self.status_file, json.dumps(state, indent=2) + "\n")

    def _terminate_all(self) -> None:
        for worker in self.workers:
            worker.link.kill()
        if self._ray is not None:
            self._ray.close()

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
            worker.link.send(("step", self._actions[worker.cars]))

    def step_wait(self) -> Any:
        """Collects every worker's step, in car order."""
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        finished: list[tuple[int, FinishedEpisode]] = []
        for worker in self.workers:
            status, payload = worker.link.receive(self.timeout)
            if status == "crashed":
                self._crashed_step(worker, payload, dones, infos)
                continue
            if status != "ok":
                worker.status, worker.last_error = "failed", str(payload)
                self._write_status()
                raise DeepRacerError(f"simulation worker for world {worker.label!r}: {payload}")
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
        try:
            for worker in self.workers:
                worker.link.close()
                if worker.status == "running":
                    worker.status = "stopped"
            self._write_status()
        finally:
            if self._ray is not None:
                self._ray.close()

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
                raise DeepRacerError(f"simulation worker for world {worker.label!r}: {payload}")
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
        """The workers' process ids by label (the world, or ``world#k`` with per_world)."""
        return {w.label: w.link.pid for w in self.workers}


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
