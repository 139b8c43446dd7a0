"""Stepping cars in one process against one worker process per world, same process.

Usage: python benchmarks/world_workers.py [--steps N] [--observation state|camera]

Steps the ``two_worlds`` experiment's cars (oval and kidney, 4 cars, centre-line
reward, random actions) through stable-baselines3's in-process ``DummyVecEnv`` (what
``deepracer train`` uses) and through :class:`deepracer.training.workers.WorldWorkers`
(what ``deepracer launch`` and the training image use), and prints car-steps per
second of each, their ratio, the workers' start-up time and a ``RESULT`` line.
Worker processes trade pipe traffic for parallel simulation: they win when each
world has a core of its own and the simulation costs more than the traffic.
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
from deepracer.training.runlog import RunLog
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


def main() -> None:
    """Runs both and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="vector steps per mode")
    parser.add_argument("--observation", default="state", help="state or camera")
    args = parser.parse_args()
    n = 4
    experiment = load_experiment(
        "two_worlds", [f"observation={args.observation}", f"train.n_envs={n}"]
    )
    action_space = load_model_metadata(experiment.action_space).action_space
    # Episodes are buffered in memory and never flushed: nothing is written.
    log = RunLog(Path(tempfile.gettempdir()), simtrace=False)

    inline = _make_vec_env(experiment, action_space, n, log)
    inline_rate = car_steps_per_second(inline, args.steps, n)
    inline.close()

    started = time.perf_counter()
    workers = WorldWorkers(experiment, action_space, n, log, say=lambda line: None)
    startup = time.perf_counter() - started
    try:
        worker_rate = car_steps_per_second(workers, args.steps, n)
    finally:
        workers.close()
    print(f"observation {args.observation}, {n} cars on 2 worlds, {args.steps} steps")
    print(f"in-process (DummyVecEnv):   {inline_rate:8.0f} car-steps/s")
    print(f"worker per world:           {worker_rate:8.0f} car-steps/s"
          f" = {worker_rate / inline_rate:.2f} x in-process")  # fmt: skip
    print(f"worker start-up:            {startup:8.2f} s")
    print(
        f"RESULT inline={inline_rate:.0f} workers={worker_rate:.0f}"
        f" ratio={worker_rate / inline_rate:.3f} startup_s={startup:.2f}"
    )


if __name__ == "__main__":
    main()
