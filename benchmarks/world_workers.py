"""Stepping cars in one process, in a worker process per world, and in a Ray actor per world.

Usage: python benchmarks/world_workers.py [--steps N] [--observation state|camera]
       [--ray] [--repeats R]

Steps the ``two_worlds`` experiment's cars (oval and kidney, 4 cars, centre-line
reward, random actions) through stable-baselines3's in-process ``DummyVecEnv`` (what
``deepracer train`` uses) and through :class:`deepracer.training.workers.WorldWorkers`
(what ``deepracer launch`` and the training image use), and prints car-steps per
second of each, their ratio, the workers' start-up time and a ``RESULT`` line.
Worker processes trade pipe traffic for parallel simulation: they win when each
world has a core of its own and the simulation costs more than the traffic.

``--ray`` adds the same workers as Ray actors (``train.workers.backend: ray``, the
``ray`` extra) on a Ray started in this process, and their ratio to the local
workers. ``--repeats`` alternates the modes that many times and keeps each one's
median, so a busy moment of the machine does not decide the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.envs.model_metadata import load_model_metadata
from deepracer.experiment import load_experiment
from deepracer.runs.training_log import TrainingLog
from deepracer.training.trainer import _make_vec_env
from deepracer.training.workers import WorldWorkers


def car_steps_per_second(env: Any, steps: int, n: int, seed: int = 0) -> float:
    """Car-steps per second of ``steps`` vector steps with random discrete actions."""
    rng = np.random.default_rng(seed)
    env.seed(seed)
    env.reset()
    actions = rng.integers(0, env.action_space.n, size=(steps, n))
    start = time.perf_counter()
    for row in actions:
        env.step(row)
    return steps * n / (time.perf_counter() - start)


def _workers_rate(
    experiment: Any, action_space: Any, n: int, log: Any, steps: int
) -> tuple[float, float]:
    """Car-steps per second of WorldWorkers, and their start-up time [s]."""
    started = time.perf_counter()
    workers = WorldWorkers(experiment, action_space, n, log, say=lambda line: None)
    startup = time.perf_counter() - started
    try:
        return car_steps_per_second(workers, steps, n), startup
    finally:
        workers.close()


def main() -> None:
    """Runs the modes and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="vector steps per mode")
    parser.add_argument("--observation", default="state", help="state or camera")
    parser.add_argument("--ray", action="store_true", help="add the Ray actor workers")
    parser.add_argument("--repeats", type=int, default=1, help="alternations of the modes")
    args = parser.parse_args()
    n = 4
    settings = [f"observation={args.observation}", f"train.n_envs={n}"]
    experiment = load_experiment("two_worlds", settings)
    on_ray = load_experiment("two_worlds", [*settings, "train.workers.backend=ray"])
    action_space = load_model_metadata(experiment.action_space).action_space
    # Episodes are buffered in memory and never flushed (an iteration longer than the
    # benchmark): nothing is written into the temporary directory.
    scratch = tempfile.TemporaryDirectory()
    log = TrainingLog(Path(scratch.name), episodes_per_iteration=10**9, workers=2, simtrace=False)
    if args.ray:
        import ray

        from deepracer.training.ray_workers import ray_init_kwargs

        # One Ray for every repeat: its start-up is not what is measured.
        ray.init(num_cpus=2, **ray_init_kwargs())

    rates: dict[str, list[float]] = {"inline": [], "workers": [], "ray": []}
    startups: dict[str, list[float]] = {"workers": [], "ray": []}
    for _ in range(args.repeats):
        inline = _make_vec_env(experiment, action_space, n, log)
        rates["inline"].append(car_steps_per_second(inline, args.steps, n))
        inline.close()
        rate, startup = _workers_rate(experiment, action_space, n, log, args.steps)
        rates["workers"].append(rate)
        startups["workers"].append(startup)
        if args.ray:
            rate, startup = _workers_rate(on_ray, action_space, n, log, args.steps)
            rates["ray"].append(rate)
            startups["ray"].append(startup)
    inline_rate = float(np.median(rates["inline"]))
    worker_rate = float(np.median(rates["workers"]))
    startup = float(np.median(startups["workers"]))
    print(
        f"observation {args.observation}, {n} cars on 2 worlds, {args.steps} steps,"
        f" median of {args.repeats}"
    )
    print(f"in-process (DummyVecEnv):   {inline_rate:8.0f} car-steps/s")
    print(f"worker per world:           {worker_rate:8.0f} car-steps/s"
          f" = {worker_rate / inline_rate:.2f} x in-process")  # fmt: skip
    print(f"worker start-up:            {startup:8.2f} s")
    result = (
        f"RESULT inline={inline_rate:.0f} workers={worker_rate:.0f}"
        f" ratio={worker_rate / inline_rate:.3f} startup_s={startup:.2f}"
    )
    if args.ray:
        ray_rate = float(np.median(rates["ray"]))
        ray_startup = float(np.median(startups["ray"]))
        print(f"Ray actor per world:        {ray_rate:8.0f} car-steps/s"
              f" = {ray_rate / worker_rate:.2f} x worker processes")  # fmt: skip
        print(f"Ray actor start-up:         {ray_startup:8.2f} s")
        result += f" ray={ray_rate:.0f} ray_vs_workers={ray_rate / worker_rate:.3f}"
        result += f" ray_startup_s={ray_startup:.2f}"
    print(result)


if __name__ == "__main__":
    main()
